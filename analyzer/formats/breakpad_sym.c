/*
 * breakpad_sym.c — one-pass parser and lookups for Breakpad .sym files.
 *
 * Records are appended to growable arrays while reading, then each array is
 * sorted once; lookups are binary searches.  Strings that outlive the parse
 * (names, file names, unwind programs) go into an arena of chunks that never
 * move; consecutive identical STACK WIN programs (the common case: one
 * program per frame kind) share one copy.  Every number is parsed with
 * overflow checks and a bad line is skipped with a warning, never trusted.
 */
#include "formats/breakpad_sym.h"

#include <stdlib.h>
#include <string.h>

#include "base/mapped_file.h"
#include "base/arena.h"

typedef struct {
    uint32_t number;
    const char *name;
} bp_file;

typedef struct {
    uint32_t rva, size;
    const char *rules;
} bp_cfi;

#define GROWABLE(T) struct { T *v; size_t n, cap; }

/* INLINE depth call_line call_file origin [addr size]+ : one record per
 * range; func_rva ties it to the FUNC it followed. */
typedef struct {
    uint32_t rva;
    uint32_t size;
    uint32_t func_rva;
    uint32_t depth;
    uint32_t call_line;
    uint32_t call_file;
    uint32_t origin;
} bp_inline;

typedef struct {
    uint32_t rva; /* the origin id (named rva for UPPER_BOUND) */
    const char *name;
} bp_origin;

struct dt_breakpad_sym {
    dt_breakpad_module module;
    dt_warnings warnings;
    dt_arena arena;
    GROWABLE(dt_breakpad_func) funcs;
    GROWABLE(dt_breakpad_public) publics;
    GROWABLE(dt_breakpad_line) lines;
    GROWABLE(bp_file) files;
    GROWABLE(dt_breakpad_stack_win) win_frame_data;
    GROWABLE(dt_breakpad_stack_win) win_fpo;
    GROWABLE(bp_cfi) cfi_init;
    GROWABLE(bp_cfi) cfi_delta;
    GROWABLE(bp_inline) inlines;          /* one per address range, sorted by rva */
    GROWABLE(bp_origin) origins;          /* sorted by id */
    const char *last_program;
    size_t last_program_len;
};

/* Appends one element to a GROWABLE, false on OOM. */
#define PUSH(arr, val)                                                              \
    ((arr).n < (arr).cap || grow((void **)&(arr).v, &(arr).cap, sizeof *(arr).v) ? \
         ((arr).v[(arr).n++] = (val), true) :                                       \
         false)

static bool grow(void **v, size_t *cap, size_t elem)
{
    size_t ncap = *cap ? *cap * 2 : 64;
    void *t = realloc(*v, ncap * elem);
    if (!t)
        return false;
    *v = t;
    *cap = ncap;
    return true;
}

static const char *arena_strn(dt_breakpad_sym *s, const char *p, size_t len)
{
    return dt_arena_strn(&s->arena, p, len);
}

/* ---- tokenizing ----------------------------------------------------------- */

typedef struct {
    const char *p, *end;
} cursor;

static bool next_token(cursor *c, const char **tok, size_t *len)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
        c->p++;
    if (c->p >= c->end)
        return false;
    const char *s = c->p;
    while (c->p < c->end && *c->p != ' ' && *c->p != '\t')
        c->p++;
    *tok = s;
    *len = (size_t)(c->p - s);
    return true;
}

/* The rest of the line after one separating space (names may contain spaces). */
static bool rest_of_line(cursor *c, const char **tok, size_t *len)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
        c->p++;
    if (c->p >= c->end)
        return false;
    *tok = c->p;
    *len = (size_t)(c->end - c->p);
    c->p = c->end;
    return true;
}

static bool parse_hex(const char *t, size_t len, uint64_t *out)
{
    if (len == 0 || len > 16)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = t[i];
        unsigned d;
        if (ch >= '0' && ch <= '9')
            d = (unsigned)(ch - '0');
        else if (ch >= 'a' && ch <= 'f')
            d = (unsigned)(ch - 'a' + 10);
        else if (ch >= 'A' && ch <= 'F')
            d = (unsigned)(ch - 'A' + 10);
        else
            return false;
        v = (v << 4) | d;
    }
    *out = v;
    return true;
}

static bool hex32(cursor *c, uint32_t *out)
{
    const char *t;
    size_t len;
    uint64_t v;
    if (!next_token(c, &t, &len) || !parse_hex(t, len, &v) || v > UINT32_MAX)
        return false;
    *out = (uint32_t)v;
    return true;
}

static bool dec32(cursor *c, uint32_t *out)
{
    const char *t;
    size_t len;
    if (!next_token(c, &t, &len) || len == 0 || len > 10)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (t[i] < '0' || t[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(t[i] - '0');
    }
    if (v > UINT32_MAX)
        return false;
    *out = (uint32_t)v;
    return true;
}

static bool keyword(const char *t, size_t len, const char *kw)
{
    return len == strlen(kw) && memcmp(t, kw, len) == 0;
}

/* Optional `m` flag before the address of FUNC/PUBLIC. */
static bool multiple_flag(cursor *c)
{
    cursor save = *c;
    const char *t;
    size_t len;
    if (next_token(c, &t, &len) && keyword(t, len, "m"))
        return true;
    *c = save;
    return false;
}

/* ---- record parsers --------------------------------------------------------- */

static bool parse_module(dt_breakpad_sym *s, cursor *c)
{
    const char *t[3], *name;
    size_t l[3], nl;
    for (int i = 0; i < 3; i++)
        if (!next_token(c, &t[i], &l[i]))
            return false;
    if (!rest_of_line(c, &name, &nl))
        return false;
    s->module.os = arena_strn(s, t[0], l[0]);
    s->module.arch = arena_strn(s, t[1], l[1]);
    s->module.debug_id = arena_strn(s, t[2], l[2]);
    s->module.debug_file = arena_strn(s, name, nl);
    return s->module.debug_file != NULL;
}

static bool parse_info(dt_breakpad_sym *s, cursor *c)
{
    const char *t, *id, *file;
    size_t l, il, fl;
    if (!next_token(c, &t, &l))
        return false;
    if (!keyword(t, l, "CODE_ID"))
        return true; /* other INFO lines are not needed */
    if (!next_token(c, &id, &il))
        return false;
    s->module.code_id = arena_strn(s, id, il);
    if (rest_of_line(c, &file, &fl))
        s->module.code_file = arena_strn(s, file, fl);
    return true;
}

static bool parse_file(dt_breakpad_sym *s, cursor *c)
{
    uint32_t num;
    const char *name;
    size_t nl;
    if (!dec32(c, &num) || !rest_of_line(c, &name, &nl))
        return false;
    bp_file f = { num, arena_strn(s, name, nl) };
    return f.name && PUSH(s->files, f);
}

static bool parse_func(dt_breakpad_sym *s, cursor *c)
{
    dt_breakpad_func f = { 0 };
    const char *name;
    size_t nl;
    f.multiple = multiple_flag(c);
    if (!hex32(c, &f.rva) || !hex32(c, &f.size) || !hex32(c, &f.param_size))
        return false;
    if (!rest_of_line(c, &name, &nl))
        name = "", nl = 0;
    f.name = arena_strn(s, name, nl);
    return f.name && PUSH(s->funcs, f);
}

/* INLINE_ORIGIN id name */
static bool parse_inline_origin(dt_breakpad_sym *s, cursor *c)
{
    bp_origin o = { 0, NULL };
    const char *name;
    size_t nl;
    if (!dec32(c, &o.rva) || !rest_of_line(c, &name, &nl))
        return false;
    o.name = arena_strn(s, name, nl);
    return o.name && PUSH(s->origins, o);
}

/* More ranges than any compiler writes for one inline site. */
#define MAX_INLINE_RANGES 256
/* Deeper nesting than any real inline chain; bounds every lookup. */
#define MAX_INLINE_DEPTH 64

static bool parse_inline(dt_breakpad_sym *s, cursor *c)
{
    if (!s->funcs.n)
        return false; /* an INLINE belongs to the FUNC before it */
    const dt_breakpad_func *f = &s->funcs.v[s->funcs.n - 1];
    bp_inline r = { 0 };
    r.func_rva = f->rva;
    if (!dec32(c, &r.depth) || !dec32(c, &r.call_line) || !dec32(c, &r.call_file) || !dec32(c, &r.origin) ||
        r.depth >= MAX_INLINE_DEPTH)
        return false;
    int n = 0;
    while (hex32(c, &r.rva)) {
        if (!hex32(c, &r.size) || ++n > MAX_INLINE_RANGES)
            return false;
        /* a range outside its function is malformed */
        if (r.rva < f->rva || r.rva - f->rva >= f->size || r.size > f->size - (r.rva - f->rva))
            return false;
        if (!PUSH(s->inlines, r))
            return false;
    }
    return n > 0;
}

static bool parse_public(dt_breakpad_sym *s, cursor *c)
{
    dt_breakpad_public p = { 0 };
    const char *name;
    size_t nl;
    p.multiple = multiple_flag(c);
    if (!hex32(c, &p.rva) || !hex32(c, &p.param_size))
        return false;
    if (!rest_of_line(c, &name, &nl))
        name = "", nl = 0;
    p.name = arena_strn(s, name, nl);
    return p.name && PUSH(s->publics, p);
}

static bool parse_line_record(dt_breakpad_sym *s, cursor *c)
{
    dt_breakpad_line l;
    if (!hex32(c, &l.rva) || !hex32(c, &l.size) || !dec32(c, &l.line) || !dec32(c, &l.file))
        return false;
    return PUSH(s->lines, l);
}

static bool parse_stack_win(dt_breakpad_sym *s, cursor *c)
{
    dt_breakpad_stack_win w = { 0 };
    uint32_t type, has_program;
    if (!hex32(c, &type) || !hex32(c, &w.rva) || !hex32(c, &w.code_size) ||
        !hex32(c, &w.prolog_size) || !hex32(c, &w.epilog_size) || !hex32(c, &w.param_size) ||
        !hex32(c, &w.saved_regs_size) || !hex32(c, &w.locals_size) ||
        !hex32(c, &w.max_stack_size) || !hex32(c, &has_program))
        return false;
    w.type = (uint8_t)type;
    const char *rest;
    size_t rl;
    if (!rest_of_line(c, &rest, &rl))
        return false;
    if (has_program) {
        if (s->last_program && s->last_program_len == rl && memcmp(s->last_program, rest, rl) == 0) {
            w.program = s->last_program;
        } else {
            w.program = arena_strn(s, rest, rl);
            if (!w.program)
                return false;
            s->last_program = w.program;
            s->last_program_len = rl;
        }
    } else {
        w.allocates_base_pointer = rl == 1 && rest[0] == '1';
    }
    if (type == 4)
        return PUSH(s->win_frame_data, w);
    if (type == 0)
        return PUSH(s->win_fpo, w);
    return true; /* other types (trap, TSS, standard) carry nothing we use */
}

static bool parse_stack_cfi(dt_breakpad_sym *s, cursor *c)
{
    cursor save = *c;
    const char *t, *rules;
    size_t l, rl;
    bool init = next_token(c, &t, &l) && keyword(t, l, "INIT");
    if (!init)
        *c = save;
    bp_cfi r = { 0, 0, NULL };
    if (!hex32(c, &r.rva) || (init && !hex32(c, &r.size)) || !rest_of_line(c, &rules, &rl))
        return false;
    r.rules = arena_strn(s, rules, rl);
    if (!r.rules)
        return false;
    return init ? PUSH(s->cfi_init, r) : PUSH(s->cfi_delta, r);
}

static bool parse_line(dt_breakpad_sym *s, const char *p, size_t len, bool *have_module)
{
    cursor c = { p, p + len };
    const char *t;
    size_t l;
    if (!next_token(&c, &t, &l))
        return true; /* blank */
    if (keyword(t, l, "MODULE")) {
        *have_module = parse_module(s, &c);
        return *have_module;
    }
    if (!*have_module)
        return false;
    if (keyword(t, l, "FILE"))
        return parse_file(s, &c);
    if (keyword(t, l, "FUNC"))
        return parse_func(s, &c);
    if (keyword(t, l, "PUBLIC"))
        return parse_public(s, &c);
    if (keyword(t, l, "INFO"))
        return parse_info(s, &c);
    if (keyword(t, l, "INLINE_ORIGIN"))
        return parse_inline_origin(s, &c);
    if (keyword(t, l, "INLINE"))
        return parse_inline(s, &c);
    if (keyword(t, l, "STACK")) {
        if (!next_token(&c, &t, &l))
            return false;
        if (keyword(t, l, "WIN"))
            return parse_stack_win(s, &c);
        if (keyword(t, l, "CFI"))
            return parse_stack_cfi(s, &c);
        return false;
    }
    c.p = p;
    return parse_line_record(s, &c);
}

/* ---- sorting ---------------------------------------------------------------- */

static int cmp_u32(uint32_t a, uint32_t b) { return a < b ? -1 : a > b; }
static int func_cmp(const void *a, const void *b)
{
    return cmp_u32(((const dt_breakpad_func *)a)->rva, ((const dt_breakpad_func *)b)->rva);
}
static int public_cmp(const void *a, const void *b)
{
    return cmp_u32(((const dt_breakpad_public *)a)->rva, ((const dt_breakpad_public *)b)->rva);
}
/* Equal starts: the longer record last, so lookups (which take the last
 * record at or below an address) skip a zero-sized one. */
static int line_cmp(const void *a, const void *b)
{
    const dt_breakpad_line *x = a, *y = b;
    int c = cmp_u32(x->rva, y->rva);
    return c ? c : cmp_u32(x->size, y->size);
}
static int file_cmp(const void *a, const void *b)
{
    return cmp_u32(((const bp_file *)a)->number, ((const bp_file *)b)->number);
}
static int win_cmp(const void *a, const void *b)
{
    const dt_breakpad_stack_win *x = a, *y = b;
    int c = cmp_u32(x->rva, y->rva);
    return c ? c : cmp_u32(y->code_size, x->code_size); /* outer range first */
}
static int cfi_cmp(const void *a, const void *b)
{
    return cmp_u32(((const bp_cfi *)a)->rva, ((const bp_cfi *)b)->rva);
}

static int inline_cmp(const void *a, const void *b)
{
    return cmp_u32(((const bp_inline *)a)->rva, ((const bp_inline *)b)->rva);
}
static int cfi_cmp_origin(const void *a, const void *b)
{
    return cmp_u32(((const bp_origin *)a)->rva, ((const bp_origin *)b)->rva);
}

/* qsort, which must not be handed the NULL of an empty array */
static void sort_array(void *v, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
    if (n > 1)
        qsort(v, n, size, cmp);
}

dt_status dt_breakpad_sym_parse(dt_breakpad_sym **out, dt_view text, dt_error *err)
{
    *out = NULL;
    dt_breakpad_sym *s = calloc(1, sizeof *s);
    if (!s)
        return dt_error_set(err, DT_ERR_NOMEM, "out of memory parsing .sym");
    const char *p = (const char *)text.data, *end = p ? p + text.size : NULL;
    bool have_module = false;
    size_t lineno = 0, bad = 0;
    while (p && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        size_t len = (size_t)(le - p);
        if (len && p[len - 1] == '\r')
            len--;
        lineno++;
        if (!parse_line(s, p, len, &have_module)) {
            if (lineno == 1 && !have_module)
                break;
            if (bad++ < 10)
                dt_warn(&s->warnings, ".sym line %zu is malformed; skipped", lineno);
        }
        p = nl ? nl + 1 : end;
    }
    if (!have_module) {
        dt_breakpad_sym_free(s);
        return dt_error_set(err, DT_ERR_FORMAT, "not a Breakpad symbol file (no MODULE line)");
    }
    if (bad > 10)
        dt_warn(&s->warnings, ".sym: %zu malformed lines in all", bad);
    sort_array(s->funcs.v, s->funcs.n, sizeof *s->funcs.v, func_cmp);
    sort_array(s->publics.v, s->publics.n, sizeof *s->publics.v, public_cmp);
    sort_array(s->lines.v, s->lines.n, sizeof *s->lines.v, line_cmp);
    sort_array(s->files.v, s->files.n, sizeof *s->files.v, file_cmp);
    sort_array(s->win_frame_data.v, s->win_frame_data.n, sizeof *s->win_frame_data.v, win_cmp);
    sort_array(s->win_fpo.v, s->win_fpo.n, sizeof *s->win_fpo.v, win_cmp);
    sort_array(s->cfi_init.v, s->cfi_init.n, sizeof *s->cfi_init.v, cfi_cmp);
    sort_array(s->inlines.v, s->inlines.n, sizeof *s->inlines.v, inline_cmp);
    sort_array(s->origins.v, s->origins.n, sizeof *s->origins.v, cfi_cmp_origin);
    /* deltas keep file order among equal addresses: later ones win */
    for (size_t i = 1; i < s->cfi_delta.n; i++) {
        if (s->cfi_delta.v[i].rva < s->cfi_delta.v[i - 1].rva) {
            sort_array(s->cfi_delta.v, s->cfi_delta.n, sizeof *s->cfi_delta.v, cfi_cmp);
            break;
        }
    }
    *out = s;
    return DT_OK;
}

dt_status dt_breakpad_sym_load(dt_breakpad_sym **out, const char *path, dt_error *err)
{
    dt_mapped_file f;
    *out = NULL;
    dt_status st = dt_mapped_file_open(&f, path, err);
    if (st != DT_OK)
        return st;
    st = dt_breakpad_sym_parse(out, f.view, err);
    dt_mapped_file_close(&f);
    return st;
}

void dt_breakpad_sym_free(dt_breakpad_sym *s)
{
    if (!s)
        return;
    dt_arena_free(&s->arena);
    free(s->funcs.v);
    free(s->publics.v);
    free(s->lines.v);
    free(s->files.v);
    free(s->win_frame_data.v);
    free(s->win_fpo.v);
    free(s->cfi_init.v);
    free(s->cfi_delta.v);
    free(s->inlines.v);
    free(s->origins.v);
    dt_warnings_free(&s->warnings);
    free(s);
}

const dt_breakpad_module *dt_breakpad_sym_module(const dt_breakpad_sym *s) { return &s->module; }
const dt_warnings *dt_breakpad_sym_warnings(const dt_breakpad_sym *s) { return &s->warnings; }

const dt_breakpad_func *dt_breakpad_sym_functions(const dt_breakpad_sym *s, size_t *count)
{
    *count = s->funcs.n;
    return s->funcs.v;
}

const dt_breakpad_public *dt_breakpad_sym_publics(const dt_breakpad_sym *s, size_t *count)
{
    *count = s->publics.n;
    return s->publics.v;
}

size_t dt_breakpad_sym_stack_win_count(const dt_breakpad_sym *s)
{
    return s->win_frame_data.n + s->win_fpo.n;
}

size_t dt_breakpad_sym_cfi_count(const dt_breakpad_sym *s) { return s->cfi_init.n; }

const char *dt_breakpad_sym_file(const dt_breakpad_sym *s, uint32_t number)
{
    size_t lo = 0, hi = s->files.n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->files.v[mid].number < number)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < s->files.n && s->files.v[lo].number == number ? s->files.v[lo].name : NULL;
}

/* ---- lookups ------------------------------------------------------------------ */

/* Index one past the last element with rva <= key (arrays sorted by rva,
 * with the rva as first member). */
#define UPPER_BOUND(arr, key, result)                       \
    do {                                                    \
        size_t lo_ = 0, hi_ = (arr).n;                      \
        while (lo_ < hi_) {                                 \
            size_t mid_ = lo_ + (hi_ - lo_) / 2;            \
            if ((arr).v[mid_].rva <= (key))                 \
                lo_ = mid_ + 1;                             \
            else                                            \
                hi_ = mid_;                                 \
        }                                                   \
        (result) = lo_;                                     \
    } while (0)

static const dt_breakpad_func *func_before(const dt_breakpad_sym *s, uint32_t rva)
{
    size_t i;
    UPPER_BOUND(s->funcs, rva, i);
    return i ? &s->funcs.v[i - 1] : NULL;
}

bool dt_breakpad_sym_has_function(const dt_breakpad_sym *s, uint32_t rva)
{
    const dt_breakpad_func *f = func_before(s, rva);
    return f && rva - f->rva < f->size;
}

bool dt_breakpad_sym_lookup(const dt_breakpad_sym *s, uint32_t rva, dt_breakpad_symbol *out)
{
    memset(out, 0, sizeof *out);
    const dt_breakpad_func *f = func_before(s, rva);
    if (f && rva - f->rva < f->size) {
        out->function = f->name;
        out->function_rva = f->rva;
        out->param_size = f->param_size;
        size_t i;
        UPPER_BOUND(s->lines, rva, i);
        if (i) {
            const dt_breakpad_line *l = &s->lines.v[i - 1];
            if (rva - l->rva < (l->size ? l->size : 1) && l->rva >= f->rva) {
                out->file = dt_breakpad_sym_file(s, l->file);
                out->line = l->line;
                out->line_rva = l->rva;
            }
        }
        return true;
    }
    size_t i;
    UPPER_BOUND(s->publics, rva, i);
    if (!i)
        return false;
    const dt_breakpad_public *p = &s->publics.v[i - 1];
    if (f && f->rva > p->rva)
        return false; /* a FUNC ends between the public and rva */
    out->function = p->name;
    out->function_rva = p->rva;
    out->param_size = p->param_size;
    out->from_public = true;
    return true;
}

static const char *origin_name(const dt_breakpad_sym *s, uint32_t id)
{
    size_t i;
    UPPER_BOUND(s->origins, id, i);
    return i && s->origins.v[i - 1].rva == id ? s->origins.v[i - 1].name : NULL;
}

size_t dt_breakpad_sym_inlines(const dt_breakpad_sym *s, uint32_t rva, dt_breakpad_inline *out, size_t max)
{
    const dt_breakpad_func *f = func_before(s, rva);
    if (!f || rva - f->rva >= f->size || !max)
        return 0;
    /* one record per depth: the innermost range covering rva at each */
    const bp_inline *at[MAX_INLINE_DEPTH] = { 0 };
    size_t i;
    UPPER_BOUND(s->inlines, rva, i);
    while (i > 0 && s->inlines.v[i - 1].rva >= f->rva) {
        const bp_inline *r = &s->inlines.v[--i];
        if (r->func_rva == f->rva && rva - r->rva < r->size && !at[r->depth])
            at[r->depth] = r;
    }
    size_t n = 0;
    for (uint32_t d = 0; d < MAX_INLINE_DEPTH && at[d] && n < max; d++) {
        const char *name = origin_name(s, at[d]->origin);
        out[n].function = name ? name : "<unknown inline>";
        out[n].call_file = dt_breakpad_sym_file(s, at[d]->call_file);
        out[n].call_line = at[d]->call_line;
        out[n].depth = d;
        n++;
    }
    return n; /* a gap in the depths ends the chain */
}

static const dt_breakpad_stack_win *win_in(const dt_breakpad_stack_win *v, size_t n, uint32_t rva)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid].rva <= rva)
            lo = mid + 1;
        else
            hi = mid;
    }
    /* The latest-starting record that covers rva is the innermost; nested
     * ranges are shallow, so a short backward walk suffices. */
    for (size_t k = 0; lo > 0 && k < 64; k++, lo--)
        if (rva - v[lo - 1].rva < v[lo - 1].code_size)
            return &v[lo - 1];
    return NULL;
}

const dt_breakpad_stack_win *dt_breakpad_sym_find_stack_win(const dt_breakpad_sym *s, uint32_t rva)
{
    const dt_breakpad_stack_win *w = win_in(s->win_frame_data.v, s->win_frame_data.n, rva);
    return w ? w : win_in(s->win_fpo.v, s->win_fpo.n, rva);
}

bool dt_breakpad_sym_cfi_rules(const dt_breakpad_sym *s, uint32_t rva, char *buf, size_t cap)
{
    size_t i;
    UPPER_BOUND(s->cfi_init, rva, i);
    if (!i)
        return false;
    const bp_cfi *init = &s->cfi_init.v[i - 1];
    if (rva - init->rva >= init->size)
        return false;
    size_t used = strlen(init->rules);
    if (used + 1 > cap)
        return false;
    memcpy(buf, init->rules, used + 1);
    size_t d = 0;
    if (init->rva)
        UPPER_BOUND(s->cfi_delta, init->rva - 1, d); /* first delta at or after init */
    for (; d < s->cfi_delta.n && s->cfi_delta.v[d].rva <= rva; d++) {
        size_t l = strlen(s->cfi_delta.v[d].rules);
        if (used + 1 + l + 1 > cap)
            return false;
        buf[used++] = ' ';
        memcpy(buf + used, s->cfi_delta.v[d].rules, l + 1);
        used += l;
    }
    return true;
}
