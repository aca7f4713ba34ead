/*
 * generated_code.c — see generated_code.h.
 */
#include "report/generated_code.h"

#include <stdlib.h>
#include <string.h>

enum { MEM_COMMIT = 0x1000, PAGE_EXECUTE_ANY = 0x10 | 0x20 | 0x40 | 0x80 };

static int region_cmp(const void *a, const void *b)
{
    const dt_code_region *x = a, *y = b;
    return x->base < y->base ? -1 : x->base > y->base;
}

void dt_generated_code_info_init(dt_generated_code_info *g, const dt_minidump *md, dt_warnings *w)
{
    memset(g, 0, sizeof *g);
    for (size_t i = 0; i < md->nstreams; i++) {
        const dt_md_stream *s = &md->streams[i];
        dt_view v;
        if (s->type != DT_MD_STREAM_FUNCTION_TABLE || g->tables.count ||
            !dt_view_sub(md->file, s->rva, s->size, &v))
            continue;
        dt_error err = { 0 };
        if (dt_md_function_tables_parse(v, &g->tables, w, &err) != DT_OK && w)
            dt_warn(w, "%s", err.message);
    }
    size_t n = 0;
    for (size_t i = 0; i < md->nregions; i++)
        n += md->regions[i].state == MEM_COMMIT && (md->regions[i].protect & PAGE_EXECUTE_ANY);
    if (n && (g->regions = malloc(n * sizeof *g->regions)) != NULL) {
        size_t k = 0;
        for (size_t i = 0; i < md->nregions; i++) {
            const dt_md_memory_region *r = &md->regions[i];
            if (r->state == MEM_COMMIT && (r->protect & PAGE_EXECUTE_ANY))
                g->regions[k++] = (dt_code_region){ r->base, r->region_size, r->protect, r->state, r->type };
        }
        qsort(g->regions, n, sizeof *g->regions, region_cmp);
        g->code.regions = g->regions;
        g->code.nregions = n;
    }
    if (g->tables.count)
        g->code.tables = &g->tables;
}

void dt_generated_code_info_free(dt_generated_code_info *g)
{
    dt_md_function_tables_free(&g->tables);
    free(g->regions);
    memset(g, 0, sizeof *g);
}
