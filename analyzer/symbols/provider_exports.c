/*
 * provider_exports.c — names from a PE export table: the image as mapped in
 * dump memory when its pages are there, else the PE file from the symbol
 * directories.  Last in the chain: an export table names only exported
 * functions, so answers are marked export_only (a static function lying
 * between two exports is reported as the lower export plus a large offset).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/pe.h"
#include "base/mapped_file.h"
#include "symbols/providers.h"

typedef struct {
    dt_pe pe;
    dt_mapped_file file;
    bool has_file;
} exports_handle;

static bool has_exports(dt_pe *pe)
{
    const dt_pe_export *e;
    size_t n = 0;
    return dt_pe_exports(pe, &e, &n, NULL) == DT_OK && n > 0;
}

static void *exports_open(void *ctx, const dt_symstore *store, const dt_module *m,
                          const dt_addrspace *as, char **source)
{
    (void)ctx;
    exports_handle *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    if (as && dt_pe_open_mapped(&h->pe, as, m->base, NULL) == DT_OK) {
        if (has_exports(&h->pe)) {
            *source = strdup("exports");
            return h;
        }
        dt_pe_close(&h->pe);
    }
    char *path = m->code_id[0] ? dt_symstore_find_image(store, m->code_file, m->code_id) : NULL;
    if (path && dt_mapped_file_open(&h->file, path, NULL) == DT_OK) {
        h->has_file = true;
        if (dt_pe_open_file(&h->pe, h->file.view, NULL) == DT_OK) {
            if (has_exports(&h->pe)) {
                size_t len = strlen(path) + 16;
                *source = malloc(len);
                if (*source)
                    snprintf(*source, len, "exports:%s", path);
                free(path);
                return h;
            }
            dt_pe_close(&h->pe);
        }
        dt_mapped_file_close(&h->file);
    }
    free(path);
    free(h);
    return NULL;
}

static bool exports_lookup(void *handle, uint64_t rva, dt_symbol *out)
{
    exports_handle *h = handle;
    const char *name;
    uint32_t offset;
    if (rva > UINT32_MAX || !dt_pe_export_lookup(&h->pe, (uint32_t)rva, &name, &offset))
        return false;
    out->function = strdup(name);
    out->function_offset = offset;
    return out->function != NULL;
}

static void exports_close(void *handle)
{
    exports_handle *h = handle;
    dt_pe_close(&h->pe);
    if (h->has_file)
        dt_mapped_file_close(&h->file);
    free(h);
}

dt_symbol_provider dt_provider_exports(void)
{
    dt_symbol_provider p = { "exports", true, exports_open, exports_lookup, NULL, exports_close, NULL };
    return p;
}
