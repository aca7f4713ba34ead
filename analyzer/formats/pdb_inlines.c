/*
 * pdb_inlines.c — inline frames from a PDB (docs/symbols.md "Inline frames
 * from PDBs"): the S_INLINESITE / S_INLINESITE2 records nested in a module
 * stream's procedures, each naming an IPI item (LF_FUNC_ID, LF_MFUNC_ID)
 * and carrying binary annotations that say which code ranges of the
 * procedure belong to the inlined function and at which of its lines,
 * starting from the inlinee's line in the module's DEBUG_S_INLINEELINES.
 *
 * Its own file because the annotation machine and the range index are a
 * reader of their own beside procedures and line tables (pdb.c calls in
 * while it walks each module stream once).  Nothing is trusted: annotation
 * operands that do not decode end the site's ranges with a warning, ranges
 * outside their procedure are dropped, nesting and counts are capped.
 */
#include "formats/pdb_internal.h"

#include <stdlib.h>
#include <string.h>

enum {
    S_END = 0x0006,
    S_THUNK32 = 0x1102,
    S_BLOCK32 = 0x1103,
    S_WITH32 = 0x1104,
    S_LPROC32 = 0x110F,
    S_GPROC32 = 0x1110,
    S_SEPCODE = 0x1132,
    S_LPROC32_ID = 0x1146,
    S_GPROC32_ID = 0x1147,
    S_INLINESITE = 0x114D,
    S_INLINESITE_END = 0x114E,
    S_PROC_ID_END = 0x114F,
    S_LPROC32_DPC = 0x1155,
    S_LPROC32_DPC_ID = 0x1156,
    S_INLINESITE2 = 0x115D,
    DEBUG_S_FILECHKSMS = 0xF4,
    DEBUG_S_INLINEELINES = 0xF6,
    LF_FUNC_ID = 0x1601,
    LF_MFUNC_ID = 0x1602,
    LF_STRING_ID = 0x1605,
    MAX_SCOPE_DEPTH = 256,     /* scopes tracked; deeper ones are counted only */
    MAX_INLINE_DEPTH = 64,     /* as the Breakpad reader: deeper sites are malformed */
    MAX_SITES = 1u << 20,
    MAX_RANGES = 1u << 22,
    MAX_RANGES_PER_SITE = 1u << 16,
};

/* Binary annotation opcodes (cvinfo.h BinaryAnnotationOpcode). */
enum {
    BA_INVALID = 0,
    BA_CODE_OFFSET = 1,
    BA_CHANGE_CODE_OFFSET_BASE = 2,
    BA_CHANGE_CODE_OFFSET = 3,
    BA_CHANGE_CODE_LENGTH = 4,
    BA_CHANGE_FILE = 5,
    BA_CHANGE_LINE_OFFSET = 6,
    BA_CHANGE_LINE_END_DELTA = 7,
    BA_CHANGE_RANGE_KIND = 8,
    BA_CHANGE_COLUMN_START = 9,
    BA_CHANGE_COLUMN_END_DELTA = 10,
    BA_CHANGE_CODE_OFFSET_AND_LINE_OFFSET = 11,
    BA_CHANGE_CODE_LENGTH_AND_CODE_OFFSET = 12,
    BA_CHANGE_COLUMN_END = 13,
};

/* CodeView's compressed unsigned integer: 1, 2 or 4 bytes by the top bits
 * of the first. */
static bool ba_uint(dt_view v, uint64_t *off, uint32_t *out)
{
    uint8_t b[4];
    if (!dt_view_u8(v, *off, &b[0]))
        return false;
    if ((b[0] & 0x80) == 0) {
        *out = b[0];
        *off += 1;
        return true;
    }
    if ((b[0] & 0xC0) == 0x80) {
        if (!dt_view_u8(v, *off + 1, &b[1]))
            return false;
        *out = ((uint32_t)(b[0] & 0x3F) << 8) | b[1];
        *off += 2;
        return true;
    }
    if ((b[0] & 0xE0) == 0xC0) {
        for (int i = 1; i < 4; i++)
            if (!dt_view_u8(v, *off + (uint64_t)i, &b[i]))
                return false;
        *out = ((uint32_t)(b[0] & 0x1F) << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
        *off += 4;
        return true;
    }
    return false;
}

/* Signed operands keep the sign in bit 0. */
static int32_t ba_signed(uint32_t u)
{
    return (u & 1) ? -(int32_t)(u >> 1) : (int32_t)(u >> 1);
}

/* ---- the inlinee's start line (DEBUG_S_INLINEELINES) ------------------- */

typedef struct {
    uint32_t inlinee, file_chk, line;
} inlinee_line;

typedef struct {
    inlinee_line *v;
    size_t n;
    dt_view checksums;
} module_ctx;

static int inlinee_cmp(const void *a, const void *b)
{
    const inlinee_line *x = a, *y = b;
    return x->inlinee < y->inlinee ? -1 : x->inlinee > y->inlinee;
}

static void read_inlinee_lines(dt_pdb *pdb, dt_view c13, module_ctx *m)
{
    size_t cap = 0;
    uint64_t off = 0;
    while (off + 8 <= c13.size) {
        uint32_t kind = dt_le32(c13.data + off), len = dt_le32(c13.data + off + 4);
        dt_view sub;
        if (!dt_view_sub(c13, off + 8, len, &sub))
            break;
        off += 8 + (((uint64_t)len + 3) & ~(uint64_t)3);
        if (kind == DEBUG_S_FILECHKSMS) {
            m->checksums = sub;
            continue;
        }
        uint32_t sig;
        if (kind != DEBUG_S_INLINEELINES || !dt_view_u32(sub, 0, &sig) || sig > 1)
            continue;
        /* entries: inlinee, file checksum offset, line; the extended form
         * adds a count of extra files and their ids */
        uint64_t p = 4;
        while (p + 12 <= sub.size && m->n < MAX_SITES) {
            inlinee_line e = { dt_le32(sub.data + p), dt_le32(sub.data + p + 4), dt_le32(sub.data + p + 8) };
            p += 12;
            if (sig == 1) {
                uint32_t extra;
                if (!dt_view_u32(sub, p, &extra) || !dt_view_has(sub, p + 4, (uint64_t)extra * 4)) {
                    dt_warn(&pdb->warnings, "PDB inlinee lines: extra file list runs past its subsection");
                    break;
                }
                p += 4 + (uint64_t)extra * 4;
            }
            if (m->n == cap) {
                size_t nc = cap ? cap * 2 : 64;
                inlinee_line *t = realloc(m->v, nc * sizeof *t);
                if (!t)
                    return;
                m->v = t;
                cap = nc;
            }
            m->v[m->n++] = e;
        }
    }
    if (m->n)
        qsort(m->v, m->n, sizeof *m->v, inlinee_cmp);
}

static const inlinee_line *find_inlinee(const module_ctx *m, uint32_t inlinee)
{
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->v[mid].inlinee < inlinee)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < m->n && m->v[lo].inlinee == inlinee ? &m->v[lo] : NULL;
}

/* A DEBUG_S_FILECHKSMS entry's file name (its first field is the /names
 * offset). */
static const char *checksum_file(dt_pdb *pdb, const module_ctx *m, uint32_t chk)
{
    uint32_t name_off;
    if (!dt_view_u32(m->checksums, chk, &name_off))
        return NULL;
    const char *f = dt_pdb_file_name(pdb, name_off);
    return f[0] ? f : NULL;
}

/* ---- names from the IPI stream ------------------------------------------ */

static const char *join_name(dt_pdb *pdb, const uint8_t *scope, size_t slen, const uint8_t *name, size_t nlen)
{
    if (!scope || !slen)
        return dt_arena_strn(&pdb->arena, (const char *)name, nlen);
    if (slen > 4096 || nlen > 4096)
        return NULL;
    char buf[8200];
    memcpy(buf, scope, slen);
    memcpy(buf + slen, "::", 2);
    memcpy(buf + slen + 2, name, nlen);
    return dt_arena_strn(&pdb->arena, buf, slen + 2 + nlen);
}

static bool record_string(dt_view rec, uint64_t off, const uint8_t **s, size_t *len)
{
    const uint8_t *p = dt_view_ptr(rec, off, 0);
    if (!p || off >= rec.size)
        return false;
    const uint8_t *nul = memchr(p, 0, rec.size - off);
    *s = p;
    *len = nul ? (size_t)(nul - p) : rec.size - off;
    return true;
}

/* "scope::name" for LF_FUNC_ID (scope: an LF_STRING_ID namespace) and
 * LF_MFUNC_ID (scope: the class from the TPI stream), as llvm-symbolizer
 * and WinDbg name inlined functions; cached per item. */
static const char *inlinee_name(dt_pdb *pdb, uint32_t item)
{
    dt_pdb_tpi *ipi = &pdb->ipi;
    if (!dt_pdb_typestream_load(pdb, ipi, 4, NULL) || item < ipi->begin || item >= ipi->end)
        return NULL;
    if (!pdb->inlinee_names) {
        pdb->inlinee_names = calloc(ipi->end - ipi->begin, sizeof *pdb->inlinee_names);
        if (!pdb->inlinee_names)
            return NULL;
    }
    const char **slot = &pdb->inlinee_names[item - ipi->begin];
    if (*slot)
        return *slot;
    dt_view rec;
    uint16_t kind;
    uint32_t scope;
    const uint8_t *name, *sname = NULL;
    size_t nlen, slen = 0;
    if (!dt_pdb_typestream_record(ipi, item, &rec, &kind) || (kind != LF_FUNC_ID && kind != LF_MFUNC_ID) ||
        !dt_view_u32(rec, 2, &scope) || !record_string(rec, 10, &name, &nlen))
        return NULL;
    if (kind == LF_FUNC_ID && scope) {
        dt_view srec;
        uint16_t skind;
        if (dt_pdb_typestream_record(ipi, scope, &srec, &skind) && skind == LF_STRING_ID)
            record_string(srec, 6, &sname, &slen);
    } else if (kind == LF_MFUNC_ID) {
        dt_pdb_type_aggregate_name(pdb, scope, &sname, &slen);
    }
    *slot = join_name(pdb, sname, slen, name, nlen);
    return *slot;
}

/* ---- sites and ranges ----------------------------------------------------- */

static bool push_site(dt_pdb *pdb, const dt_pdb_inline_site *s)
{
    if (pdb->ninline_sites >= MAX_SITES)
        return false;
    if (pdb->ninline_sites == pdb->cap_inline_sites) {
        size_t nc = pdb->cap_inline_sites ? pdb->cap_inline_sites * 2 : 64;
        dt_pdb_inline_site *t = realloc(pdb->inline_sites, nc * sizeof *t);
        if (!t)
            return false;
        pdb->inline_sites = t;
        pdb->cap_inline_sites = nc;
    }
    pdb->inline_sites[pdb->ninline_sites++] = *s;
    return true;
}

static bool push_range(dt_pdb *pdb, const dt_pdb_inline_range *r)
{
    if (pdb->ninline_ranges >= MAX_RANGES)
        return false;
    if (pdb->ninline_ranges == pdb->cap_inline_ranges) {
        size_t nc = pdb->cap_inline_ranges ? pdb->cap_inline_ranges * 2 : 256;
        dt_pdb_inline_range *t = realloc(pdb->inline_ranges, nc * sizeof *t);
        if (!t)
            return false;
        pdb->inline_ranges = t;
        pdb->cap_inline_ranges = nc;
    }
    pdb->inline_ranges[pdb->ninline_ranges++] = *r;
    return true;
}

typedef struct {
    dt_pdb *pdb;
    uint32_t proc_rva, proc_size, site;
    uint32_t line;              /* the machine's current line and file */
    const char *file;
    bool open;                  /* a range started and not yet ended */
    uint32_t start, range_line; /* the open range, with the line and file */
    const char *range_file;     /* in effect when it started */
    size_t count;
    bool bad;
} range_state;

/* Ends the open range at code offset end (relative to the procedure). */
static void close_range(range_state *st, uint32_t end)
{
    if (!st->open)
        return;
    st->open = false;
    if (end <= st->start)
        return;
    if (end > st->proc_size) {
        st->bad = true;
        if (st->start >= st->proc_size)
            return;
        end = st->proc_size;
    }
    if (++st->count > MAX_RANGES_PER_SITE) {
        st->bad = true;
        return;
    }
    dt_pdb_inline_range r = { st->proc_rva + st->start, st->proc_rva + end, st->range_line, st->site,
                              st->range_file };
    push_range(st->pdb, &r);
}

static void open_range(range_state *st, uint32_t at)
{
    close_range(st, at);
    st->open = true;
    st->start = at;
    st->range_line = st->line;
    st->range_file = st->file;
}

/* Runs a site's binary annotations: a cursor (code offset within the
 * procedure), a line and a file.  ChangeCodeOffset and the combined ops
 * start a range at the cursor with the current line (ending the previous
 * one there); ChangeCodeLength ends the open range that many bytes on and
 * moves the cursor past it (what clang and MSVC emit, and how
 * llvm-pdbutil lists them). */
static void run_annotations(range_state *st, dt_view ann, uint32_t line, const char *file, const module_ctx *m)
{
    uint64_t off = 0;
    uint32_t cursor = 0;
    st->line = line;
    st->file = file;
    while (off < ann.size) {
        uint32_t op, a = 0, b = 0;
        if (!ba_uint(ann, &off, &op)) {
            st->bad = true;
            break;
        }
        if (op == BA_INVALID)
            break; /* padding to 4 bytes */
        if (op > BA_CHANGE_COLUMN_END || !ba_uint(ann, &off, &a) ||
            (op == BA_CHANGE_CODE_LENGTH_AND_CODE_OFFSET && !ba_uint(ann, &off, &b))) {
            st->bad = true;
            break;
        }
        switch (op) {
        case BA_CODE_OFFSET:
            cursor = a;
            break;
        case BA_CHANGE_CODE_OFFSET:
            cursor += a;
            open_range(st, cursor);
            break;
        case BA_CHANGE_CODE_LENGTH:
            if (st->open)
                cursor = st->start + a;
            else
                cursor += a;
            close_range(st, cursor);
            break;
        case BA_CHANGE_FILE:
            st->file = checksum_file(st->pdb, m, a);
            break;
        case BA_CHANGE_LINE_OFFSET:
            st->line += (uint32_t)ba_signed(a);
            break;
        case BA_CHANGE_CODE_OFFSET_AND_LINE_OFFSET:
            st->line += (uint32_t)ba_signed(a >> 4);
            cursor += a & 0xF;
            open_range(st, cursor);
            break;
        case BA_CHANGE_CODE_LENGTH_AND_CODE_OFFSET:
            cursor += b;
            open_range(st, cursor);
            cursor += a;
            close_range(st, cursor);
            break;
        default: /* offset base, line end, range kind, columns: not needed */
            break;
        }
        if (cursor > st->proc_size) {
            st->bad = true;
            break;
        }
    }
    close_range(st, st->proc_size);
}

typedef struct {
    uint8_t kind;               /* 0 procedure, 1 inline site, 2 other scope */
    uint32_t site;
} scope;

void dt_pdb_collect_inlines(dt_pdb *pdb, dt_view syms, dt_view c13)
{
    module_ctx m = { NULL, 0, dt_view_make(NULL, 0) };
    bool any = false;
    /* A quick look first: most modules of a PDB have no inline sites. */
    for (uint64_t off = 4; off + 4 <= syms.size;) {
        uint16_t len = dt_le16(syms.data + off), kind = dt_le16(syms.data + off + 2);
        if (len < 2)
            break;
        if (kind == S_INLINESITE || kind == S_INLINESITE2) {
            any = true;
            break;
        }
        off += (uint64_t)len + 2;
    }
    if (!any)
        return;
    read_inlinee_lines(pdb, c13, &m);
    scope stack[MAX_SCOPE_DEPTH];
    size_t depth = 0, overflow = 0;
    uint32_t proc_rva = 0, proc_size = 0;
    bool in_proc = false, warned = false;
    uint64_t off = 4;
    while (off + 4 <= syms.size) {
        uint16_t len = dt_le16(syms.data + off), kind = dt_le16(syms.data + off + 2);
        dt_view rec;
        if (len < 2 || !dt_view_sub(syms, off, (uint64_t)len + 2, &rec))
            break;
        off += (uint64_t)len + 2;
        switch (kind) {
        case S_GPROC32:
        case S_LPROC32:
        case S_GPROC32_ID:
        case S_LPROC32_ID:
        case S_LPROC32_DPC:
        case S_LPROC32_DPC_ID: {
            /* a procedure starts a new scope tree */
            depth = overflow = 0;
            in_proc = false;
            uint32_t o;
            uint16_t seg;
            if (rec.size >= 39 && dt_view_u32(rec, 32, &o) && dt_view_u16(rec, 36, &seg) &&
                dt_pdb_rva(pdb, seg, o, &proc_rva)) {
                proc_size = dt_le32(rec.data + 16);
                in_proc = true;
            }
            stack[depth++] = (scope){ 0, UINT32_MAX };
            break;
        }
        case S_THUNK32:
        case S_BLOCK32:
        case S_WITH32:
        case S_SEPCODE:
            if (depth < MAX_SCOPE_DEPTH)
                stack[depth++] = (scope){ 2, UINT32_MAX };
            else
                overflow++;
            break;
        case S_INLINESITE:
        case S_INLINESITE2: {
            if (depth >= MAX_SCOPE_DEPTH) {
                overflow++;
                break;
            }
            uint32_t parent = UINT32_MAX, level = 0;
            for (size_t i = depth; i > 0; i--)
                if (stack[i - 1].kind == 1) {
                    if (parent == UINT32_MAX)
                        parent = stack[i - 1].site;
                    level++;
                }
            uint32_t inlinee;
            uint64_t ann_off = kind == S_INLINESITE ? 16 : 20;
            const char *name = NULL;
            if (in_proc && level < MAX_INLINE_DEPTH && dt_view_u32(rec, 12, &inlinee))
                name = inlinee_name(pdb, inlinee);
            /* a parent that was dropped drops its children too */
            bool parent_ok = parent == UINT32_MAX || parent < pdb->ninline_sites;
            uint32_t idx = UINT32_MAX - 1;
            if (name && parent_ok) {
                dt_pdb_inline_site s = { name, parent, proc_rva, level };
                if (push_site(pdb, &s)) {
                    idx = (uint32_t)(pdb->ninline_sites - 1);
                    const inlinee_line *il = find_inlinee(&m, inlinee);
                    range_state st = { .pdb = pdb, .proc_rva = proc_rva, .proc_size = proc_size, .site = idx };
                    run_annotations(&st, dt_view_tail(rec, ann_off), il ? il->line : 0,
                                    il ? checksum_file(pdb, &m, il->file_chk) : NULL, &m);
                    if (st.bad && !warned) {
                        warned = true;
                        dt_warn(&pdb->warnings, "PDB inline site of %s: malformed binary annotations", name);
                    }
                }
            } else if (in_proc && level >= MAX_INLINE_DEPTH && !warned) {
                warned = true;
                dt_warn(&pdb->warnings, "PDB inline sites nested deeper than %d; deeper ones ignored",
                        MAX_INLINE_DEPTH);
            }
            stack[depth++] = (scope){ 1, idx };
            break;
        }
        case S_END:
        case S_PROC_ID_END:
        case S_INLINESITE_END:
            if (overflow)
                overflow--;
            else if (depth)
                depth--;
            break;
        default:
            break;
        }
    }
    free(m.v);
}

static int range_cmp(const void *a, const void *b)
{
    const dt_pdb_inline_range *x = a, *y = b;
    if (x->rva != y->rva)
        return x->rva < y->rva ? -1 : 1;
    return x->site < y->site ? -1 : x->site > y->site;
}

void dt_pdb_inlines_finish(dt_pdb *pdb)
{
    size_t n = pdb->ninline_ranges;
    if (!n)
        return;
    qsort(pdb->inline_ranges, n, sizeof *pdb->inline_ranges, range_cmp);
    pdb->inline_max_end = malloc(n * sizeof *pdb->inline_max_end);
    if (!pdb->inline_max_end) {
        pdb->ninline_ranges = 0;
        return;
    }
    uint32_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (pdb->inline_ranges[i].end > m)
            m = pdb->inline_ranges[i].end;
        pdb->inline_max_end[i] = m;
    }
}

size_t dt_pdb_inlines(dt_pdb *pdb, uint32_t rva, uint32_t function_rva, dt_pdb_inline *out, size_t max)
{
    size_t nf;
    dt_pdb_functions(pdb, &nf, NULL); /* loads the sites with the procedures */
    const dt_pdb_inline_range *r = pdb->inline_ranges;
    size_t lo = 0, hi = pdb->ninline_ranges;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r[mid].rva <= rva)
            lo = mid + 1;
        else
            hi = mid;
    }
    /* every range covering rva: ranges nest (an outer site's range covers
     * the code inlined into it), so scan back while one could still reach */
    const dt_pdb_inline_range *cover[MAX_INLINE_DEPTH];
    size_t nc = 0;
    for (size_t i = lo; i > 0 && pdb->inline_max_end[i - 1] > rva && nc < MAX_INLINE_DEPTH; i--) {
        const dt_pdb_inline_range *x = &r[i - 1];
        if (rva < x->end && pdb->inline_sites[x->site].proc_rva == function_rva)
            cover[nc++] = x;
    }
    if (!nc || !max)
        return 0;
    const dt_pdb_inline_range *inner = cover[0];
    for (size_t i = 1; i < nc; i++)
        if (pdb->inline_sites[cover[i]->site].depth > pdb->inline_sites[inner->site].depth)
            inner = cover[i];
    /* from the innermost site up through its parents */
    dt_pdb_inline chain[MAX_INLINE_DEPTH];
    size_t n = 0;
    for (uint32_t s = inner->site; s != UINT32_MAX && s < pdb->ninline_sites && n < MAX_INLINE_DEPTH;
         s = pdb->inline_sites[s].parent) {
        dt_pdb_inline *c = &chain[n++];
        c->function = pdb->inline_sites[s].function;
        c->file = NULL;
        c->line = 0;
        for (size_t i = 0; i < nc; i++)
            if (cover[i]->site == s) {
                c->file = cover[i]->file;
                c->line = cover[i]->line;
                break;
            }
        if (pdb->inline_sites[s].parent != UINT32_MAX && pdb->inline_sites[s].parent >= s)
            break; /* parents come before their children; anything else is a loop */
    }
    /* outermost first; when more than max, keep the innermost ones */
    size_t k = n < max ? n : max;
    for (size_t i = 0; i < k; i++)
        out[i] = chain[k - 1 - i];
    return k;
}
