/*
 * provider_breakpad.c — symbols from a Breakpad .sym in the symbol
 * directories (also the source of STACK WIN/CFI data for the walker, which
 * the symbolizer reaches through this provider's handle).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "formats/breakpad_sym.h"
#include "symbols/providers.h"

static void *bp_open(void *ctx, const dt_symstore *store, const dt_module *m,
                     const dt_addrspace *as, char **source)
{
    (void)ctx;
    (void)as;
    if (!m->debug_file || !m->debug_id[0])
        return NULL;
    char *path = dt_symstore_find_breakpad(store, m->debug_file, m->debug_id);
    if (!path)
        return NULL;
    dt_breakpad_sym *sym = NULL;
    if (dt_breakpad_sym_load(&sym, path, NULL) != DT_OK ||
        strcasecmp(dt_breakpad_sym_module(sym)->debug_id, m->debug_id) != 0) {
        dt_breakpad_sym_free(sym);
        free(path);
        return NULL;
    }
    size_t len = strlen(path) + 16;
    *source = malloc(len);
    if (*source)
        snprintf(*source, len, "breakpad:%s", path);
    free(path);
    return sym;
}

static bool bp_lookup(void *handle, uint64_t rva, dt_symbol *out)
{
    dt_breakpad_symbol s;
    if (rva > UINT32_MAX || !dt_breakpad_sym_lookup(handle, (uint32_t)rva, &s))
        return false;
    out->function = strdup(s.function);
    out->function_offset = rva - s.function_rva;
    out->file = s.file ? strdup(s.file) : NULL;
    out->line = s.line;
    dt_breakpad_inline chain[16];
    size_t n = s.from_public ? 0 : dt_breakpad_sym_inlines(handle, (uint32_t)rva, chain, 16);
    if (n && (out->inlines = calloc(n, sizeof *out->inlines)) != NULL) {
        /* innermost first; each level's line is where it called the next
         * one in, the innermost's is the address's own line record */
        for (size_t k = 0; k < n; k++) {
            size_t d = n - 1 - k;
            dt_inline_frame *f = &out->inlines[k];
            f->function = strdup(chain[d].function);
            const char *file = d + 1 < n ? chain[d + 1].call_file : s.file;
            f->file = file ? strdup(file) : NULL;
            f->line = d + 1 < n ? chain[d + 1].call_line : s.line;
        }
        out->ninlines = n;
        free(out->file);
        out->file = chain[0].call_file ? strdup(chain[0].call_file) : NULL;
        out->line = chain[0].call_line;
    }
    return out->function != NULL;
}

/* As Breakpad's walkers decide: FUNC or PUBLIC names the address. */
static bool bp_has_function(void *handle, uint64_t rva)
{
    dt_breakpad_symbol s;
    return rva <= UINT32_MAX && dt_breakpad_sym_lookup(handle, (uint32_t)rva, &s);
}

static void bp_close(void *handle) { dt_breakpad_sym_free(handle); }

dt_symbol_provider dt_provider_breakpad(void)
{
    dt_symbol_provider p = { "breakpad", false, bp_open, bp_lookup, bp_has_function, bp_close, NULL };
    return p;
}
