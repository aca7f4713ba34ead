/*
 * postfix.h — the postfix evaluator behind Breakpad STACK WIN programs and
 * STACK CFI rules.
 *
 * Tokens: numbers (decimal, or 0x hex), identifiers (`$eip`, `.cfa`,
 * `.raSearchStart`, `x29`), and operators `+ - * / % @` (binary; `@` aligns
 * down to a power-of-two boundary), `^` (dereference one target pointer) and
 * `=` (assign, STACK WIN programs only).  Arithmetic wraps at the target
 * pointer size.  The operand stack and the variable table are fixed-size,
 * so a hostile program can fail but cannot grow memory or recurse.
 */
#ifndef DT_SYMBOLS_POSTFIX_H
#define DT_SYMBOLS_POSTFIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/addrspace.h"

#define DT_POSTFIX_MAX_VARS 96
#define DT_POSTFIX_MAX_STACK 64
#define DT_POSTFIX_NAME_MAX 32

typedef struct {
    char name[DT_POSTFIX_NAME_MAX];
    uint64_t value;
    bool assigned;   /* set by `=` during a program run (not preset) */
} dt_postfix_var;

typedef struct {
    dt_postfix_var vars[DT_POSTFIX_MAX_VARS];
    size_t nvars;
    const dt_addrspace *as;   /* memory for `^`; may be NULL (then `^` fails) */
    unsigned pointer_size;    /* 4 or 8 */
} dt_postfix_env;

void dt_postfix_init(dt_postfix_env *env, const dt_addrspace *as, unsigned pointer_size);
/* Presets a variable (not marked assigned).  False when the table is full
 * or the name too long. */
bool dt_postfix_set(dt_postfix_env *env, const char *name, uint64_t value);
bool dt_postfix_get(const dt_postfix_env *env, const char *name, uint64_t *value);
bool dt_postfix_assigned(const dt_postfix_env *env, const char *name);

/* Runs a STACK WIN program (a sequence of `name expr =` assignments).
 * False on any error: unknown identifier, unreadable memory, stack under- or
 * overflow, division by zero, or operands left over at the end. */
bool dt_postfix_run(dt_postfix_env *env, const char *program, size_t len);
/* Evaluates one expression (a STACK CFI rule body) to a single value. */
bool dt_postfix_eval(dt_postfix_env *env, const char *expr, size_t len, uint64_t *out);

#endif
