/*
 * breakpad_sym.h — Breakpad text symbol files (.sym, formats.md F.4).
 *
 * A .sym file is parsed in one pass into sorted arrays (functions, line
 * records, publics, STACK WIN records, STACK CFI ranges and deltas) that are
 * searched by binary search; only names, file names and unwind programs are
 * copied, the text itself is not kept.  Addresses are module-relative (RVAs).
 *
 * Ownership: a dt_breakpad_sym owns every string and array it hands out;
 * they live until dt_breakpad_sym_free.  Read-only after parsing, so one
 * parsed file may be shared by threads.
 */
#ifndef DT_FORMATS_BREAKPAD_SYM_H
#define DT_FORMATS_BREAKPAD_SYM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/view.h"
#include "base/error.h"

typedef struct dt_breakpad_sym dt_breakpad_sym;

typedef struct {
    const char *os;          /* "windows" */
    const char *arch;        /* "x86", "x86_64", "arm64" */
    const char *debug_id;    /* "5A9832E5287241C1838ED98914E9B7FF1" */
    const char *debug_file;  /* "test_app.pdb" */
    const char *code_id;     /* INFO CODE_ID, NULL when absent */
    const char *code_file;   /* NULL when absent */
} dt_breakpad_module;

typedef struct {
    uint32_t rva;
    uint32_t size;
    uint32_t param_size;
    const char *name;
    bool multiple;           /* `m`: several symbols folded to this address */
} dt_breakpad_func;

typedef struct {
    uint32_t rva;
    uint32_t param_size;
    const char *name;
    bool multiple;
} dt_breakpad_public;

typedef struct {
    uint32_t rva;
    uint32_t size;
    uint32_t line;
    uint32_t file;           /* FILE number */
} dt_breakpad_line;

/* STACK WIN: type 0 = FPO, 4 = FrameData. */
typedef struct {
    uint32_t rva;
    uint32_t code_size;
    uint32_t prolog_size;
    uint32_t epilog_size;
    uint32_t param_size;
    uint32_t saved_regs_size;
    uint32_t locals_size;
    uint32_t max_stack_size;
    uint8_t type;
    bool allocates_base_pointer;  /* meaningful only without a program */
    const char *program;          /* NULL when the record has none */
} dt_breakpad_stack_win;

typedef struct {
    const char *function;    /* FUNC or PUBLIC name */
    uint32_t function_rva;
    uint32_t param_size;
    const char *file;        /* NULL without a line record */
    uint32_t line;
    uint32_t line_rva;       /* start of the line record */
    bool from_public;
} dt_breakpad_symbol;

/* Parses text (not retained).  Malformed lines are skipped and counted as
 * warnings; DT_ERR_FORMAT when there is no MODULE line first. */
dt_status dt_breakpad_sym_parse(dt_breakpad_sym **out, dt_view text, dt_error *err);
/* Maps (plain or gzip) and parses path. */
dt_status dt_breakpad_sym_load(dt_breakpad_sym **out, const char *path, dt_error *err);
void dt_breakpad_sym_free(dt_breakpad_sym *sym);

const dt_breakpad_module *dt_breakpad_sym_module(const dt_breakpad_sym *sym);
const dt_warnings *dt_breakpad_sym_warnings(const dt_breakpad_sym *sym);

const dt_breakpad_func *dt_breakpad_sym_functions(const dt_breakpad_sym *sym, size_t *count);
const dt_breakpad_public *dt_breakpad_sym_publics(const dt_breakpad_sym *sym, size_t *count);
size_t dt_breakpad_sym_stack_win_count(const dt_breakpad_sym *sym);
size_t dt_breakpad_sym_cfi_count(const dt_breakpad_sym *sym);
/* FILE name by number, NULL when undefined. */
const char *dt_breakpad_sym_file(const dt_breakpad_sym *sym, uint32_t number);

/* Breakpad's rule: the FUNC containing rva; else the nearest PUBLIC at or
 * below rva that lies above the preceding FUNC. */
bool dt_breakpad_sym_lookup(const dt_breakpad_sym *sym, uint32_t rva, dt_breakpad_symbol *out);
/* True when a FUNC covers rva (walkers use it to validate scanned returns). */
/* One level of an inline chain (INLINE/INLINE_ORIGIN records). */
typedef struct {
    const char *function;   /* the inlined function (INLINE_ORIGIN name) */
    const char *call_file;  /* where the level outside it called it; may be NULL */
    uint32_t call_line;
    uint32_t depth;         /* 0: inlined into the FUNC itself */
} dt_breakpad_inline;

/* The inline chain at rva, outermost first (depth 0, 1, …), at most max
 * levels; 0 when rva is in no inlined code.  Ranges outside their FUNC and
 * depths of 64 or more are rejected when parsing. */
size_t dt_breakpad_sym_inlines(const dt_breakpad_sym *sym, uint32_t rva, dt_breakpad_inline *out, size_t max);

bool dt_breakpad_sym_has_function(const dt_breakpad_sym *sym, uint32_t rva);

/* The STACK WIN record for rva: innermost FrameData record covering it,
 * else innermost FPO record; NULL when none. */
const dt_breakpad_stack_win *dt_breakpad_sym_find_stack_win(const dt_breakpad_sym *sym, uint32_t rva);

/* The STACK CFI rules in effect at rva: the INIT rules followed by every
 * delta at or below rva, space-separated, into buf (later rules for the
 * same register win when evaluated).  False when no CFI covers rva or buf
 * is too small. */
bool dt_breakpad_sym_cfi_rules(const dt_breakpad_sym *sym, uint32_t rva, char *buf, size_t cap);

#endif
