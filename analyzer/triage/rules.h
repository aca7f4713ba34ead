/*
 * rules.h — the triage rules file (triage.rules): which frames block, which
 * threads are idle, which kernel frames the dump writer added, how names are
 * normalised for signatures.
 *
 * The default rules are compiled in (generated from analyzer/triage/triage.rules
 * at build time); a file given at run time replaces them.  Keeping policy in
 * one editable file means a support team can teach dumptriage about its own
 * DLLs without a rebuild.
 */
#ifndef DT_TRIAGE_RULES_H
#define DT_TRIAGE_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

typedef enum {
    DT_RULE_MODULE_ALIAS,
    DT_RULE_ALIAS,
    DT_RULE_SYSTEM_MODULE,
    DT_RULE_BLOCKING,
    DT_RULE_IDLE,
    DT_RULE_SNAPSHOT,
    DT_RULE_SYSCALL_ENTRY,
    DT_RULE_KERNEL_INTERNAL,
    DT_RULE_KERNEL_MODULE,
    DT_RULE_IO_DRIVER,       /* io_driver CATEGORY "TEXT" DRIVER…: who holds a pending IRP (io_wait.c) */
    DT_RULE_IDLE_THREAD,     /* idle_thread "TEXT" NAME…: idle by thread name (wait_graph #15) */
} dt_rule_kind;

typedef struct {
    dt_rule_kind kind;
    char *category;   /* blocking: category name; module_alias/alias: unused */
    char *text;       /* blocking/idle: description; alias/module_alias: target */
    char *pattern;    /* normalised, lower-case "module!function" or module */
    unsigned line;
} dt_rule;

typedef struct {
    dt_rule *items;
    size_t count;
    size_t cap;
} dt_rules;

/* Parses rules text.  Unknown kinds and malformed lines are errors (with the
 * line number) so that a typo in an edited rules file is not silently ignored. */
dt_status dt_rules_parse(const char *text, dt_rules *out, dt_error *err);
dt_status dt_rules_load_file(const char *path, dt_rules *out, dt_error *err);
/* The compiled-in default rules. */
dt_status dt_rules_default(dt_rules *out, dt_error *err);
const char *dt_rules_default_text(void);
void dt_rules_free(dt_rules *r);

/* Normalises "Module.dll!Function" (or a bare module) for matching and for
 * signatures: module lower-cased without extension, module aliases applied,
 * then function aliases.  Writes into out (always NUL-terminated). */
void dt_rules_normalize(const dt_rules *r, const char *module, const char *function, char *out,
                        size_t outsz);
/* Normalises a module name alone ("ntoskrnl.exe" -> "nt"). */
void dt_rules_normalize_module(const dt_rules *r, const char *module, char *out, size_t outsz);

/* The first rule of `kind` whose pattern matches the normalised name, or NULL. */
const dt_rule *dt_rules_match(const dt_rules *r, dt_rule_kind kind, const char *normalized);
/* True when the normalised module is listed under `kind` (system/kernel module). */
bool dt_rules_module_is(const dt_rules *r, dt_rule_kind kind, const char *normalized_module);

#endif
