/*
 * analysis.h — one whole analysis: the single entry point that the CLI, the
 * server's analysis child and the tests call.
 *
 * dt_analyze opens the inputs (gzip inflated transparently), routes them by
 * content, builds ONE symbolizer shared by the user and the kernel part,
 * parses and walks both dumps, runs triage, and returns the report document
 * (docs/report.md).  Warnings are collected in one way: each part's list
 * ("user.warnings", "kernel.warnings") holds what concerns it, and the
 * document's top-level "warnings" repeats them prefixed with the part's name,
 * followed by triage's.
 *
 * The result is JSON because the JSON document is the product's contract:
 * the text form, the server's index and the web page are all renderings of
 * it (report/report_text.h), so they cannot disagree.
 */
#ifndef DT_ANALYSIS_ANALYSIS_H
#define DT_ANALYSIS_ANALYSIS_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "base/error.h"
#include "base/view.h"
#include "model/kernel_dump.h"
#include "symbols/symbolizer.h"

/* What to analyze.  Strings are borrowed for the duration of the call. */
typedef struct {
    const char *user_path;          /* user-mode minidump (MDMP), may be NULL */
    const char *kernel_path;        /* kernel dump, may be NULL (not both) */
    /* The paths came without a stated role: swap them when their contents
     * say the roles are the other way round. */
    bool route_by_content;
    /* Symbol directories or symbol paths (_NT_SYMBOL_PATH syntax), in order
     * of preference; DUMPTRIAGE_SYMBOL_PATH is appended by the symbolizer. */
    const char *const *symbol_paths;
    size_t nsymbol_paths;
    const char *rules_path;         /* triage rules file; NULL: built-in */
    bool allow_mismatch;            /* pair dumps of different processes */
} dt_analysis_request;

/* Runs the analysis.  On DT_OK *report is the report document (caller frees
 * with cJSON_Delete).  Otherwise *report is NULL and err says why in one
 * line that names the input concerned by the path it was given as ("app.dmp:
 * minidump header truncated"); the inputs are then unusable (a refused pair,
 * unreadable rules, a file that is not a dump). */
dt_status dt_analyze(const dt_analysis_request *req, cJSON **report, dt_error *err);

/* The kernel part alone, over a dump already in memory: open (with the
 * kernel image's PDB type information when sym finds it), walk every
 * thread, the faulting context's stack, and the "kernel" object of the
 * report.  opts and sym may be NULL.  Symbol-server problems stay in sym's
 * warnings for the caller.  NULL with err set when the dump is unusable. */
cJSON *dt_analyze_kernel_view(dt_view file, const dt_kernel_options *opts, dt_symbolizer *sym,
                              dt_error *err);

#endif
