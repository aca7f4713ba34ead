/*
 * triage.h — from a report's "user" and "kernel" parts to its "triage" part:
 * which user thread is which kernel thread, what each thread is doing, which
 * threads are stuck and on what, lock cycles, the primary stuck thread and
 * the hang signature.
 *
 * Triage reads the report parts (JSON) rather than the parsers' structs: the
 * same code then re-triages a stored report after re-symbolication, and the
 * parts are the documented contract (docs/report.md).  Where a fact is only
 * in target memory (a critical section's owner), it reads the user dump's
 * address space when the caller passes it.
 */
#ifndef DT_TRIAGE_TRIAGE_H
#define DT_TRIAGE_TRIAGE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>

#include "base/addrspace.h"
#include "triage/rules.h"
#include "base/error.h"

typedef struct {
    const dt_rules *rules;            /* required */
    const dt_addrspace *user_memory;  /* optional: lock owners from user memory */
    bool allow_mismatch;              /* pair dumps of different processes anyway */
    bool no_wait_graph;               /* skip the wait graph (bench/bench_wait_graph.sh measures its cost) */
} dt_triage_options;

/*
 * Builds the "triage" object.  Either part may be NULL.  Fails (DT_ERR_ARG,
 * with a reason fit for the user) when both parts are given and they cannot
 * be the same process (no common process id) unless allow_mismatch is set.
 * On success *out is a new object the caller owns (cJSON_Delete).
 */
dt_status dt_triage_build(const cJSON *user, const cJSON *kernel, const dt_triage_options *opt,
                          cJSON **out, dt_error *err);

/*
 * True when signature `to` is `from` with better names: the same kind and,
 * part by part, equal, "-" then known, or a module then one of its functions
 * ("hello_block" -> "hello_block!df_read_stdin"; deadlock members compared
 * as sets).  That is how a signature changes when symbols arrive for the
 * same dumps (docs/triage.md); the server labels bucket merges with it.
 * Reflexive; false for NULL or empty strings.
 */
bool dt_signature_refines(const char *from, const char *to);

/* Renders the triage part as a WinDbg-user-friendly summary. */

#endif
