/*
 * symbolizer.c — the provider chain and its per-module cache.
 *
 * A module is identified by its base and its code/debug identity (one
 * symbolizer serves one analysis, so one address space); the first lookup opens every provider for it
 * once and keeps the handles (or the absence of any) until the symbolizer
 * is freed, so a missing PDB costs one directory probe per module, not one
 * per frame.
 */
#include "symbols/symbolizer.h"
#include "symbols/undname.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/pe.h"
#include "base/mapped_file.h"
#include "symbols/providers.h"

#define MAX_PROVIDERS 8
enum { PROVIDER_PDB = 0, PROVIDER_BREAKPAD = 1, PROVIDER_EXPORTS = 2 };

typedef struct {
    uint64_t base;
    const dt_addrspace *as;        /* first non-NULL one seen */
    char *key;
    size_t opened;                 /* providers [0, opened) have been asked */
    void *handles[MAX_PROVIDERS];
    char *sources[MAX_PROVIDERS];
    bool image_tried, has_image;
    dt_mapped_file image;
    char *debug_file;              /* from the image's CodeView record when the
                                      dump gave none; owned */
    char debug_id[48];
} module_entry;

struct dt_symbolizer {
    dt_symstore store;
    dt_warnings warnings;
    dt_symbol_provider providers[MAX_PROVIDERS];
    size_t nproviders;
    size_t undname_failures;       /* decorated names left raw (warned a few times) */
    module_entry *entries;
    size_t n, cap;
    /* Open-addressing index of entries by base (entry index + 1; 0 empty),
     * so that a dump with tens of thousands of modules (hostile, or a
     * fuzzer's) is not quadratic: entry_for runs per module and per scanned
     * stack word. */
    size_t *slots;
    size_t nslots;          /* a power of two, > 2 n */
};

static size_t slot_of(uint64_t base, size_t nslots)
{
    return (size_t)((base * 0x9E3779B97F4A7C15ull) >> 32) & (nslots - 1);
}

/* Adds entry i to the index, growing it first when half full. */
static bool index_entry(dt_symbolizer *s, size_t i)
{
    if (2 * (s->n + 1) > s->nslots) {
        size_t nslots = s->nslots ? s->nslots * 2 : 64;
        size_t *slots = calloc(nslots, sizeof *slots);
        if (!slots)
            return false;
        for (size_t k = 0; k < s->nslots; k++) {
            if (!s->slots[k])
                continue;
            size_t j = slot_of(s->entries[s->slots[k] - 1].base, nslots);
            while (slots[j])
                j = (j + 1) & (nslots - 1);
            slots[j] = s->slots[k];
        }
        free(s->slots);
        s->slots = slots;
        s->nslots = nslots;
    }
    size_t j = slot_of(s->entries[i].base, s->nslots);
    while (s->slots[j])
        j = (j + 1) & (s->nslots - 1);
    s->slots[j] = i + 1;
    return true;
}

void dt_symbol_clear(dt_symbol *s)
{
    free(s->function);
    free(s->function_raw);
    free(s->file);
    for (size_t i = 0; i < s->ninlines; i++) {
        free(s->inlines[i].function);
        free(s->inlines[i].file);
    }
    free(s->inlines);
    memset(s, 0, sizeof *s);
}

dt_symbolizer *dt_symbolizer_new(const char *const *dirs, size_t ndirs, dt_error *err)
{
    dt_symbolizer *s = calloc(1, sizeof *s);
    if (!s) {
        dt_error_set(err, DT_ERR_NOMEM, "out of memory");
        return NULL;
    }
    if (dt_symstore_init(&s->store, dirs, ndirs, getenv(DT_SYMBOL_PATH_ENV),
                         getenv(DT_SYMBOL_CACHE_ENV), err) != DT_OK) {
        free(s);
        return NULL;
    }
    s->store.warnings = &s->warnings;
    dt_sympath_warn_unresolved(&s->store.servers, &s->warnings);
    s->providers[PROVIDER_PDB] = dt_provider_pdb();
    s->providers[PROVIDER_BREAKPAD] = dt_provider_breakpad();
    s->providers[PROVIDER_EXPORTS] = dt_provider_exports();
    s->nproviders = 3;
    return s;
}

void dt_symbolizer_free(dt_symbolizer *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        module_entry *e = &s->entries[i];
        for (size_t p = 0; p < e->opened; p++) {
            if (e->handles[p])
                s->providers[p].close(e->handles[p]);
            free(e->sources[p]);
        }
        if (e->has_image)
            dt_mapped_file_close(&e->image);
        free(e->debug_file);
        free(e->key);
    }
    free(s->entries);
    free(s->slots);
    dt_symstore_free(&s->store);
    dt_warnings_free(&s->warnings);
    free(s);
}

dt_status dt_symbolizer_add_provider(dt_symbolizer *s, const dt_symbol_provider *p, dt_error *err)
{
    if (s->nproviders == MAX_PROVIDERS || !p->open || !p->lookup || !p->close)
        return dt_error_set(err, DT_ERR_ARG, "cannot add symbol provider");
    s->providers[s->nproviders++] = *p;
    return DT_OK;
}

const dt_symstore *dt_symbolizer_store(const dt_symbolizer *s) { return &s->store; }
const dt_warnings *dt_symbolizer_warnings(const dt_symbolizer *s) { return &s->warnings; }

/* With the base, the code identity names a module; the debug identity is
 * left out because dt_symbolizer_annotate may fill it in from the image. */
static char *module_key(const dt_module *m)
{
    const char *cf = m->code_file ? m->code_file : "";
    size_t len = strlen(cf) + strlen(m->code_id) + 2;
    char *k = malloc(len);
    if (k)
        snprintf(k, len, "%s|%s", cf, m->code_id);
    return k;
}

/* m's PE file from the symbol directories, mapped once per entry. */
static bool entry_image(dt_symbolizer *s, module_entry *e, const dt_module *m)
{
    if (!e->image_tried) {
        e->image_tried = true;
        char *path = dt_symstore_find_image(&s->store, m->code_file, m->code_id);
        if (path && dt_mapped_file_open(&e->image, path, NULL) == DT_OK)
            e->has_image = true;
        free(path);
    }
    return e->has_image;
}

/* Kernel module lists (and some minidumps) carry no CodeView record, so
 * the PDB's name and id are unknown; the image knows them: read its debug
 * directory from dump memory, else from its PE file in the symbol
 * directories. */
static void derive_debug_identity(dt_symbolizer *s, module_entry *e, const dt_module *m,
                                  const dt_addrspace *as)
{
    if ((m->debug_file && m->debug_id[0]) || e->debug_file)
        return;
    char file[256];
    dt_pe pe;
    bool ok = false;
    if (as && dt_pe_open_mapped(&pe, as, m->base, NULL) == DT_OK) {
        ok = dt_pe_codeview(&pe, file, sizeof file, e->debug_id, NULL) == DT_OK;
        dt_pe_close(&pe);
    }
    if (!ok && m->code_file && m->code_id[0] && entry_image(s, e, m) &&
        dt_pe_open_file(&pe, e->image.view, NULL) == DT_OK) {
        ok = dt_pe_codeview(&pe, file, sizeof file, e->debug_id, NULL) == DT_OK;
        dt_pe_close(&pe);
    }
    if (ok && file[0] && e->debug_id[0])
        e->debug_file = strdup(file);
    if (!e->debug_file)
        e->debug_id[0] = 0;
}

/* The cache entry for m, with every provider asked; NULL on OOM. */
static module_entry *entry_for(dt_symbolizer *s, const dt_module *m, const dt_addrspace *as)
{
    /* Called per scanned stack word: compare bases before building keys. */
    char *key = NULL;
    module_entry *e = NULL;
    for (size_t j = s->nslots ? slot_of(m->base, s->nslots) : 0; s->nslots && s->slots[j] && !e;
         j = (j + 1) & (s->nslots - 1)) {
        module_entry *c = &s->entries[s->slots[j] - 1];
        if (c->base != m->base)
            continue;
        if (!key && !(key = module_key(m)))
            return NULL;
        if (strcmp(c->key, key) == 0)
            e = c;
    }
    if (!e && !key && !(key = module_key(m)))
        return NULL;
    if (e) {
        free(key);
        /* First seen without memory, now with: the providers that read the
         * image from dump memory (those after PDB and Breakpad) get another
         * chance. */
        if (!e->as && as) {
            e->as = as;
            for (size_t p = PROVIDER_BREAKPAD + 1; p < e->opened; p++) {
                if (e->handles[p])
                    continue;
                char *source = NULL;
                e->handles[p] = s->providers[p].open(s->providers[p].ctx, &s->store, m, as, &source);
                if (e->handles[p])
                    e->sources[p] = source;
                else
                    free(source);
            }
        }
    } else {
        if (s->n == s->cap) {
            size_t ncap = s->cap ? s->cap * 2 : 32;
            module_entry *t = realloc(s->entries, ncap * sizeof *t);
            if (!t) {
                free(key);
                return NULL;
            }
            s->entries = t;
            s->cap = ncap;
        }
        e = &s->entries[s->n];
        memset(e, 0, sizeof *e);
        e->base = m->base;
        if (!index_entry(s, s->n)) {
            free(key);
            return NULL;
        }
        s->n++;
        e->as = as;
        e->key = key;
    }
    dt_module ident = *m;
    if (e->opened < s->nproviders) {
        derive_debug_identity(s, e, m, as);
        if (e->debug_file) {
            ident.debug_file = e->debug_file;
            memcpy(ident.debug_id, e->debug_id, sizeof ident.debug_id);
        }
    }
    for (; e->opened < s->nproviders; e->opened++) {
        const dt_symbol_provider *p = &s->providers[e->opened];
        char *source = NULL;
        e->handles[e->opened] = p->open(p->ctx, &s->store, &ident, as, &source);
        e->sources[e->opened] = source;
        if (!e->handles[e->opened]) {
            free(source);
            e->sources[e->opened] = NULL;
        }
    }
    return e;
}

/* Publics and exports of C++ code are MSVC-decorated; frames show them as
 * WinDbg does and keep the decorated name.  One the undecorator refuses
 * (malformed, or over its bounds) stays raw with a warning. */
static void undecorate(dt_symbolizer *s, dt_symbol *out)
{
    if (!out->function || out->function[0] != '?')
        return;
    char *u = dt_undname(out->function, DT_UNDNAME_NAME_ONLY);
    if (u) {
        out->function_raw = out->function;
        out->function = u;
    } else if (s->undname_failures++ < 3) {
        dt_warn(&s->warnings, "decorated name left as is (not understood or over the undecorator's bounds): %.200s",
                out->function);
    }
}

bool dt_symbolizer_lookup(dt_symbolizer *s, const dt_module *m, const dt_addrspace *as,
                          uint64_t address, dt_symbol *out)
{
    memset(out, 0, sizeof *out);
    if (!m || address < m->base || (m->size && address - m->base >= m->size))
        return false;
    module_entry *e = entry_for(s, m, as);
    if (!e)
        return false;
    for (size_t p = 0; p < e->opened; p++) {
        if (!e->handles[p])
            continue;
        if (s->providers[p].lookup(e->handles[p], address - m->base, out)) {
            out->provider = s->providers[p].name;
            out->export_only = s->providers[p].export_only;
            undecorate(s, out);
            return true;
        }
        dt_symbol_clear(out);
    }
    return false;
}

bool dt_symbolizer_has_debug_symbols(dt_symbolizer *s, const dt_module *m,
                                     const dt_addrspace *as)
{
    module_entry *e = entry_for(s, m, as);
    for (size_t p = 0; e && p < e->opened; p++)
        if (e->handles[p])
            return !s->providers[p].export_only;
    return false;
}

void dt_symbolizer_annotate(dt_symbolizer *s, dt_module *m, const dt_addrspace *as)
{
    module_entry *e = entry_for(s, m, as);
    const char *src = "missing_symbols";
    bool loaded = false;
    for (size_t p = 0; e && p < e->opened; p++) {
        if (!e->handles[p])
            continue;
        src = e->sources[p] ? e->sources[p] : s->providers[p].name;
        loaded = !s->providers[p].export_only;
        break;
    }
    char *copy = strdup(src);
    if (copy) {
        free(m->symbol_source);
        m->symbol_source = copy;
    }
    m->symbols_loaded = loaded;
    if (e && e->debug_file && !(m->debug_file && m->debug_id[0])) {
        char *df = strdup(e->debug_file);
        if (df) {
            free(m->debug_file);
            m->debug_file = df;
            memcpy(m->debug_id, e->debug_id, sizeof m->debug_id);
        }
    }
}

struct dt_pdb *dt_symbolizer_pdb(dt_symbolizer *s, const dt_module *m)
{
    module_entry *e = entry_for(s, m, NULL);
    return e ? e->handles[PROVIDER_PDB] : NULL;
}

const dt_breakpad_sym *dt_symbolizer_breakpad(dt_symbolizer *s, const dt_module *m)
{
    module_entry *e = entry_for(s, m, NULL);
    return e ? e->handles[PROVIDER_BREAKPAD] : NULL;
}

bool dt_symbolizer_cfi_unwind(dt_symbolizer *s, const dt_module *m, uint64_t address,
                              const dt_cpu_context *callee, const dt_breakpad_unwind_env *env,
                              dt_cpu_context *caller, bool *scanned, uint32_t *param_size)
{
    *scanned = false;
    *param_size = 0;
    if (!m || address < m->base || address - m->base > UINT32_MAX)
        return false;
    const dt_breakpad_sym *sym = dt_symbolizer_breakpad(s, m);
    if (!sym)
        return false;
    uint32_t rva = (uint32_t)(address - m->base);
    if (callee->arch == DT_ARCH_X86 &&
        dt_breakpad_unwind_win(sym, rva, callee, env, caller, scanned, param_size))
        return true;
    return dt_breakpad_unwind_cfi(sym, rva, callee, env->as, caller);
}

bool dt_symbolizer_image_file(dt_symbolizer *s, const dt_module *m, dt_view *out)
{
    module_entry *e = entry_for(s, m, NULL);
    if (!e || !entry_image(s, e, m))
        return false;
    *out = e->image.view;
    return true;
}

bool dt_symbolizer_has_function(dt_symbolizer *s, const dt_module *m, const dt_addrspace *as,
                                uint64_t address)
{
    if (!m || address < m->base)
        return false;
    module_entry *e = entry_for(s, m, as);
    if (!e)
        return true;
    bool checked = false;
    for (size_t p = 0; p < e->opened; p++) {
        const dt_symbol_provider *prov = &s->providers[p];
        if (!e->handles[p] || !prov->has_function || prov->export_only)
            continue;
        if (prov->has_function(e->handles[p], address - m->base))
            return true;
        checked = true;
    }
    return !checked;
}
