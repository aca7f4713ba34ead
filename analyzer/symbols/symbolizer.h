/*
 * symbolizer.h — names for code addresses, from a chain of providers.
 *
 * For each module the chain is asked once (results, including "nothing
 * found", are cached per module): PDB from the symbol directories, then a
 * Breakpad .sym, then the PE export table of the image in dump memory or
 * of its file from the symbol directories (export-only names are marked
 * export_only: a static function between two exports gets the wrong
 * name), then any providers added with dt_symbolizer_add_provider.  A lookup answers from the first provider that knows the
 * address, and says which provider that was.
 *
 * The symbolizer also serves the stack walker: Breakpad STACK WIN/CFI
 * unwinding for a module, the module's PE file from the symbol directories,
 * and "is this address inside a known function" for stack scanning.
 *
 * Not thread-safe; use one per analysis.  Ownership: strings in a dt_symbol
 * belong to the caller (dt_symbol_clear); everything the symbolizer caches
 * lives until dt_symbolizer_free.
 */
#ifndef DT_SYMBOLS_SYMBOLIZER_H
#define DT_SYMBOLS_SYMBOLIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "formats/breakpad_sym.h"
#include "base/cpu_context.h"
#include "base/view.h"
#include "base/addrspace.h"
#include "base/module.h"
#include "symbols/breakpad_unwind.h"
#include "symbols/symstore.h"
#include "base/error.h"

/* One inlined function at an address, as rust-minidump reports it. */
typedef struct {
    char *function;            /* owned */
    char *file;                /* owned; may be NULL */
    uint32_t line;
} dt_inline_frame;

typedef struct {
    char *function;            /* owned; NULL when nothing was found; an MSVC-
                                  decorated name arrives undecorated
                                  ("Cache::Lookup", symbols/undname.h) */
    char *function_raw;        /* owned; the decorated name when function was
                                  undecorated, else NULL */
    uint64_t function_offset;  /* address - function start */
    char *file;                /* owned; NULL without line information */
    uint32_t line;
    const char *provider;      /* static: "pdb", "breakpad", "exports" */
    bool export_only;          /* name from an export table only */
    /* owned: the functions inlined at the address, innermost first, each
     * with its own source line; function/file/line above are then the real
     * function and the line where its outermost inline was called */
    dt_inline_frame *inlines;
    size_t ninlines;
} dt_symbol;

void dt_symbol_clear(dt_symbol *s);

/* A source of symbols.  open() is called once per module and returns a
 * handle (NULL: nothing for this module) and, in *source, a malloc'd
 * description such as "pdb:/syms/x.pdb/ID/x.pdb".  lookup() gets the
 * module-relative address and fills function (malloc'd), function_offset,
 * file (malloc'd) and line; the symbolizer sets provider and export_only. */
typedef struct {
    const char *name;
    bool export_only;
    void *(*open)(void *ctx, const dt_symstore *store, const dt_module *m,
                  const dt_addrspace *as, char **source);
    bool (*lookup)(void *handle, uint64_t rva, dt_symbol *out);
    /* Optional: true when rva lies inside a function this provider knows. */
    bool (*has_function)(void *handle, uint64_t rva);
    void (*close)(void *handle);
    void *ctx;
} dt_symbol_provider;

typedef struct dt_symbolizer dt_symbolizer;

/* Symbol directories: dirs, then DUMPTRIAGE_SYMBOL_PATH (an entry with '*'
 * is a symbol path with servers, see symstore.h; downloads go to its cache
 * or DUMPTRIAGE_SYMBOL_CACHE).  Free with dt_symbolizer_free.  NULL on
 * OOM or a malformed symbol path (err says so). */
dt_symbolizer *dt_symbolizer_new(const char *const *dirs, size_t ndirs, dt_error *err);
void dt_symbolizer_free(dt_symbolizer *s);

/* Appends a provider to the chain (after PDB, Breakpad and exports).  The
 * struct is copied. */
dt_status dt_symbolizer_add_provider(dt_symbolizer *s, const dt_symbol_provider *p, dt_error *err);

const dt_symstore *dt_symbolizer_store(const dt_symbolizer *s);
/* Problems met while looking for symbols (symbol server failures). */
const dt_warnings *dt_symbolizer_warnings(const dt_symbolizer *s);

/* Name for address (absolute) in module m.  as may be NULL (then providers
 * that read the image from dump memory have nothing).  Callers walking a
 * stack pass return address - 1 for caller frames.  False (out cleared)
 * when no provider knows the address: show module+offset then. */
bool dt_symbolizer_lookup(dt_symbolizer *s, const dt_module *m, const dt_addrspace *as,
                          uint64_t address, dt_symbol *out);

/* Loads m's symbols (cached) and records where they came from:
 * m->symbol_source = "pdb:PATH", "breakpad:PATH", "exports" or
 * "missing_symbols"; m->symbols_loaded = a PDB or .sym was found.  A module
 * without debug_file/debug_id gets them from its image's CodeView record
 * (dump memory or the PE file from the symbol directories) when found. */
void dt_symbolizer_annotate(dt_symbolizer *s, dt_module *m, const dt_addrspace *as);

/* What dt_symbolizer_annotate would set m->symbols_loaded to, without
 * touching m: for callers that hold the module const (the walker). */
bool dt_symbolizer_has_debug_symbols(dt_symbolizer *s, const dt_module *m,
                                     const dt_addrspace *as);

/* The PDB found for m (cached, owned by the symbolizer), NULL when none:
 * for type information (dt_pdb_field_offset / dt_pdb_field_offset_fn on
 * the kernel image's PDB). */
struct dt_pdb *dt_symbolizer_pdb(dt_symbolizer *s, const dt_module *m);

/* ---- walker hooks ------------------------------------------------------------ */

/* The parsed .sym of m, NULL when none (cached; owned by the symbolizer). */
const dt_breakpad_sym *dt_symbolizer_breakpad(dt_symbolizer *s, const dt_module *m);

/* Breakpad unwind of the frame at address in m: STACK WIN then STACK CFI on
 * x86 (Breakpad's order), STACK CFI elsewhere.  *scanned: the return address
 * came from a stack scan; *param_size: for the next frame's
 * env->callee_param_size (0 after a CFI unwind). */
bool dt_symbolizer_cfi_unwind(dt_symbolizer *s, const dt_module *m, uint64_t address,
                              const dt_cpu_context *callee, const dt_breakpad_unwind_env *env,
                              dt_cpu_context *caller, bool *scanned, uint32_t *param_size);

/* m's PE file from the symbol directories (code_file + code_id), mapped;
 * the view lives until dt_symbolizer_free.  False when not found. */
bool dt_symbolizer_image_file(dt_symbolizer *s, const dt_module *m, dt_view *out);

/* Breakpad's plausibility test for a return address found by scanning:
 * when m has debug symbols (PDB, .sym), true only if they name a function
 * at address (procedure or public; FUNC or PUBLIC); without debug symbols
 * there is nothing to check against and the answer is true. */
bool dt_symbolizer_has_function(dt_symbolizer *s, const dt_module *m, const dt_addrspace *as,
                                uint64_t address);

#endif
