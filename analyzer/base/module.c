/*
 * module.c — the sorted module list and module identity (see module.h).
 */
#include "base/module.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
    free(list->reach);
    list->reach = NULL;
    list->items[list->count] = *m;
    return &list->items[list->count++];
}

static int by_base(const void *a, const void *b)
{
    const dt_module *x = a, *y = b;
    return x->base < y->base ? -1 : x->base > y->base;
}

static uint64_t module_end(const dt_module *m)
{
    return m->base + m->size < m->base ? UINT64_MAX : m->base + m->size;
}

void dt_module_list_sort(dt_module_list *list)
{
    if (list->count > 1)
        qsort(list->items, list->count, sizeof *list->items, by_base);
    free(list->reach);
    list->reach = list->count ? malloc(list->count * sizeof *list->reach) : NULL;
    for (size_t i = 0; list->reach && i < list->count; i++) {
        size_t best = i ? list->reach[i - 1] : 0;
        list->reach[i] = module_end(&list->items[i]) >= module_end(&list->items[best]) ? i : best;
    }
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
    if (addr - m->base < m->size)
        return m;
    /* Overlapping entries (hostile or odd dumps): a lower module may still
     * cover addr.  The one reaching highest does if any does; without the
     * reach index, scan (a list sorted before it could be built). */
    if (list->reach) {
        const dt_module *r = &list->items[list->reach[lo - 1]];
        return addr - r->base < r->size ? r : NULL;
    }
    for (size_t i = lo - 1; i-- > 0;) {
        const dt_module *c = &list->items[i];
        if (addr - c->base < c->size)
            return c;
    }
    return NULL;
}

dt_module *dt_module_list_at_base(dt_module_list *list, uint64_t base)
{
    size_t lo = 0, hi = list->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (list->items[mid].base < base)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < list->count && list->items[lo].base == base ? &list->items[lo] : NULL;
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
    free(list->reach);
    memset(list, 0, sizeof *list);
}

void dt_module_set_code_file_from_path(dt_module *m)
{
    if (!m->path)
        return;
    free(m->code_file);
    m->code_file = strdup(dt_module_file_name(m->path));
}

/* ---- identity ---------------------------------------------------------------- */

const char *dt_module_file_name(const char *path)
{
    if (!path)
        return "";
    const char *base = path;
    for (const char *p = path; *p; p++)
        if (*p == '\\' || *p == '/')
            base = p + 1;
    return base;
}

/* Length of a file name without its extension (the last '.' not at the
 * start: ".hidden" has no extension). */
static size_t stem_length(const char *file)
{
    const char *dot = strrchr(file, '.');
    return dot && dot != file ? (size_t)(dot - file) : strlen(file);
}

static bool stem_in(const char *file, const char *const *names, size_t n)
{
    size_t len = stem_length(file);
    for (size_t i = 0; i < n; i++)
        if (strlen(names[i]) == len && strncasecmp(file, names[i], len) == 0)
            return true;
    return false;
}

/* The kernel's file names by build (uniprocessor, multiprocessor, PAE,
 * PAE multiprocessor, 5-level paging); the loader list usually says
 * ntoskrnl.exe whatever file was loaded, symbol files keep the real one. */
static const char *const kernel_names[] = { "ntoskrnl", "ntkrnlmp", "ntkrnlpa", "ntkrpamp", "ntkrla57" };
/* The HAL is loaded as hal.dll, but older systems shipped one file per
 * platform and symbol files keep those names; WinDbg calls each "hal". */
static const char *const hal_names[] = { "hal", "halacpi", "halaacpi", "halapic", "halmacpi", "halmps", "halsp" };

bool dt_module_is_kernel_image(const char *path)
{
    const char *f = dt_module_file_name(path);
    return *f && stem_in(f, kernel_names, sizeof kernel_names / sizeof kernel_names[0]);
}

/* Drops a multi-byte UTF-8 sequence that truncation cut in half. */
static void utf8_trim(char *s)
{
    size_t n = strlen(s), i = n;
    while (i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
        i--;
    if (i == 0)
        return;
    unsigned char lead = (unsigned char)s[i - 1];
    size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    if (n - (i - 1) < need)
        s[i - 1] = 0;
}

const char *dt_module_short_name(const char *path, char *buf, size_t cap)
{
    if (!cap)
        return buf;
    const char *f = dt_module_file_name(path);
    if (*f && stem_in(f, kernel_names, sizeof kernel_names / sizeof kernel_names[0]))
        snprintf(buf, cap, "nt");
    else if (*f && stem_in(f, hal_names, sizeof hal_names / sizeof hal_names[0]))
        snprintf(buf, cap, "hal");
    else
        snprintf(buf, cap, "%.*s", (int)stem_length(f), f);
    utf8_trim(buf);
    return buf;
}
