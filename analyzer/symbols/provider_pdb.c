/*
 * provider_pdb.c — symbols from a PDB in the symbol directories.
 *
 * The store path carries the id, but the PDB is still checked (GUID equal,
 * module age <= PDB age): a wrong PDB gives confidently wrong names, which
 * is worse than none.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/pdb.h"
#include "symbols/providers.h"

static void *pdb_open(void *ctx, const dt_symstore *store, const dt_module *m,
                      const dt_addrspace *as, char **source)
{
    (void)ctx;
    (void)as;
    if (!m->debug_file || !m->debug_id[0])
        return NULL;
    char *path = dt_symstore_find_pdb(store, m->debug_file, m->debug_id);
    if (!path)
        return NULL;
    dt_pdb *pdb = NULL;
    if (dt_pdb_open(&pdb, path, NULL) != DT_OK ||
        !dt_symstore_pdb_id_matches(m->debug_id, dt_pdb_get_info(pdb)->debug_id)) {
        dt_pdb_close(pdb);
        free(path);
        return NULL;
    }
    size_t len = strlen(path) + 8;
    *source = malloc(len);
    if (*source)
        snprintf(*source, len, "pdb:%s", path);
    free(path);
    return pdb;
}

static bool pdb_lookup(void *handle, uint64_t rva, dt_symbol *out)
{
    dt_pdb_symbol s;
    if (rva > UINT32_MAX || !dt_pdb_lookup(handle, (uint32_t)rva, &s))
        return false;
    out->function = strdup(s.function);
    out->function_offset = rva - s.function_rva;
    out->file = s.file ? strdup(s.file) : NULL;
    out->line = s.line;
    /* Inlined code: the procedure's own line there is where its outermost
     * inline was called, each inline level's line where it called the next
     * one, and the innermost's the address's line (rust-minidump's model,
     * which dt_symbol.inlines follows: innermost first). */
    dt_pdb_inline chain[16];
    size_t n = s.from_public ? 0 : dt_pdb_inlines(handle, (uint32_t)rva, s.function_rva, chain, 16);
    if (n && (out->inlines = calloc(n, sizeof *out->inlines)) != NULL) {
        for (size_t k = 0; k < n; k++) {
            const dt_pdb_inline *c = &chain[n - 1 - k];
            out->inlines[k].function = strdup(c->function);
            out->inlines[k].file = c->file ? strdup(c->file) : NULL;
            out->inlines[k].line = c->line;
        }
        out->ninlines = n;
    }
    return out->function != NULL;
}

/* Breakpad's test for a plausible return address: the debug symbols give
 * the address a function name (a procedure, or a public in a code
 * section for stripped PDBs). */
static bool pdb_has_function(void *handle, uint64_t rva)
{
    dt_pdb_symbol s;
    return rva <= UINT32_MAX && dt_pdb_lookup(handle, (uint32_t)rva, &s);
}

static void pdb_close(void *handle) { dt_pdb_close(handle); }

dt_symbol_provider dt_provider_pdb(void)
{
    dt_symbol_provider p = { "pdb", false, pdb_open, pdb_lookup, pdb_has_function, pdb_close, NULL };
    return p;
}
