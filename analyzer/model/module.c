/*
 * module.c — the sorted module list (see module.h).
 */
#include "model/module.h"

#include <stdlib.h>
#include <string.h>

dt_module *dt_module_list_add(dt_module_list *list, const dt_module *m)
{
    if (list->count == list->cap) {
        size_t ncap = list->cap ? list->cap * 2 : 16;
        dt_module *n = realloc(list->items, ncap * sizeof *n);
        if (!n)
            return NULL;
        list->items = n;
        list->cap = ncap;
    }
    list->items[list->count] = *m;
    return &list->items[list->count++];
}

static int by_base(const void *a, const void *b)
{
    const dt_module *x = a, *y = b;
    return x->base < y->base ? -1 : x->base > y->base;
}

void dt_module_list_sort(dt_module_list *list)
{
    if (list->count > 1)
        qsort(list->items, list->count, sizeof *list->items, by_base);
}

const dt_module *dt_module_list_find(const dt_module_list *list, uint64_t addr)
{
    size_t lo = 0, hi = list->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (list->items[mid].base <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    const dt_module *m = &list->items[lo - 1];
    /* Overlapping entries (hostile or odd dumps) fall back to a linear scan
     * of the candidates below, so a bogus huge module cannot hide others. */
    if (addr - m->base < m->size)
        return m;
    for (size_t i = lo - 1; i-- > 0;) {
        const dt_module *c = &list->items[i];
        if (addr - c->base < c->size)
            return c;
    }
    return NULL;
}

void dt_module_list_free(dt_module_list *list)
{
    for (size_t i = 0; i < list->count; i++) {
        free(list->items[i].path);
        free(list->items[i].code_file);
        free(list->items[i].debug_file);
        free(list->items[i].symbol_source);
    }
    free(list->items);
    memset(list, 0, sizeof *list);
}

void dt_module_set_code_file_from_path(dt_module *m)
{
    if (!m->path)
        return;
    const char *base = m->path;
    for (const char *p = m->path; *p; p++)
        if (*p == '\\' || *p == '/')
            base = p + 1;
    free(m->code_file);
    m->code_file = strdup(base);
}
