/*
 * pdb.c — PDB info stream, DBI stream (modules, optional debug header,
 * section headers, OMAP), public symbols, module procedures and C13 line
 * numbers (formats.md F.2).
 *
 * Symbol records and line tables are walked once, on first use, into sorted
 * arrays; names are copied into an arena (records may lack their NUL in a
 * damaged file, and the stream buffers they live in are released after the
 * walk).  Nothing read from the file is trusted: every record length, count
 * and offset is checked against the view it claims to be in.
 */
#include "formats/pdb_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    PDB_STREAM_INFO = 1,
    PDB_STREAM_DBI = 3,
    S_PUB32 = 0x110E,
    S_LPROC32 = 0x110F,
    S_GPROC32 = 0x1110,
    S_LPROC32_ID = 0x1146,
    S_GPROC32_ID = 0x1147,
    S_LPROC32_DPC = 0x1155,
    S_LPROC32_DPC_ID = 0x1156,
    DEBUG_S_LINES = 0xF2,
    DEBUG_S_FILECHKSMS = 0xF4,
    DBG_OMAP_FROM_SRC = 4,
    DBG_SECTION_HDR = 5,
    DBG_SECTION_HDR_ORIG = 10,
};

/* ---- arena ---------------------------------------------------------- */

/* Copies at most max bytes of the NUL-terminated string at p (stopping at
 * the end of the view) into the arena. */
static const char *arena_str(dt_pdb *pdb, dt_view v, uint64_t off)
{
    const uint8_t *p = dt_view_ptr(v, off, 0);
    size_t avail = off <= v.size ? v.size - (size_t)off : 0;
    if (!p)
        return NULL;
    const uint8_t *nul = memchr(p, 0, avail);
    size_t len = nul ? (size_t)(nul - p) : avail;
    return dt_arena_strn(&pdb->arena, (const char *)p, len);
}

/* ---- numeric leaves (shared with pdb_types.c) ------------------------ */

bool dt_pdb_read_numeric(dt_view v, uint64_t off, uint64_t *value, uint64_t *len)
{
    uint16_t leaf;
    if (!dt_view_u16(v, off, &leaf))
        return false;
    if (leaf < 0x8000) {
        *value = leaf;
        *len = 2;
        return true;
    }
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    switch (leaf) {
    case 0x8000: /* LF_CHAR */
        if (!dt_view_u8(v, off + 2, &u8))
            return false;
        *value = (uint64_t)(int64_t)(int8_t)u8;
        *len = 3;
        return true;
    case 0x8001: /* LF_SHORT */
    case 0x8002: /* LF_USHORT */
        if (!dt_view_u16(v, off + 2, &u16))
            return false;
        *value = leaf == 0x8001 ? (uint64_t)(int64_t)(int16_t)u16 : u16;
        *len = 4;
        return true;
    case 0x8003: /* LF_LONG */
    case 0x8004: /* LF_ULONG */
        if (!dt_view_u32(v, off + 2, &u32))
            return false;
        *value = leaf == 0x8003 ? (uint64_t)(int64_t)(int32_t)u32 : u32;
        *len = 6;
        return true;
    case 0x8009: /* LF_QUADWORD */
    case 0x800a: /* LF_UQUADWORD */
        if (!dt_view_u64(v, off + 2, &u64))
            return false;
        *value = u64;
        *len = 10;
        return true;
    default:
        return false;
    }
}

/* ---- open: info stream, DBI header, sections ------------------------- */

static void format_debug_id(dt_pdb_info *info)
{
    const uint8_t *g = info->guid;
    snprintf(info->debug_id, sizeof info->debug_id,
             "%08X%04X%04X%02X%02X%02X%02X%02X%02X%02X%02X%X", dt_le32(g), dt_le16(g + 4),
             dt_le16(g + 6), g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15], info->age);
}

/* Finds a named stream ("/names") in the info stream's name map. */
static uint32_t find_named_stream(dt_view info, const char *wanted)
{
    uint32_t strsize, size, capacity, nwords;
    uint64_t off = 28;
    if (!dt_view_u32(info, off, &strsize))
        return UINT32_MAX;
    dt_view strings;
    if (!dt_view_sub(info, off + 4, strsize, &strings))
        return UINT32_MAX;
    off += 4 + (uint64_t)strsize;
    if (!dt_view_u32(info, off, &size) || !dt_view_u32(info, off + 4, &capacity) ||
        !dt_view_u32(info, off + 8, &nwords))
        return UINT32_MAX;
    (void)size;
    uint64_t present_off = off + 12;
    if (!dt_view_has(info, present_off, (uint64_t)nwords * 4))
        return UINT32_MAX;
    off = present_off + (uint64_t)nwords * 4;
    uint32_t ndeleted;
    if (!dt_view_u32(info, off, &ndeleted) || !dt_view_has(info, off + 4, (uint64_t)ndeleted * 4))
        return UINT32_MAX;
    off += 4 + (uint64_t)ndeleted * 4;
    uint64_t cap = capacity < (uint64_t)nwords * 32 ? capacity : (uint64_t)nwords * 32;
    for (uint64_t i = 0; i < cap; i++) {
        uint32_t word = dt_le32(info.data + present_off + (i / 32) * 4);
        if (!(word & (UINT32_C(1) << (i % 32))))
            continue;
        uint32_t key, value;
        if (!dt_view_u32(info, off, &key) || !dt_view_u32(info, off + 4, &value))
            return UINT32_MAX;
        off += 8;
        const uint8_t *name = dt_view_ptr(strings, key, 0);
        size_t avail = key <= strings.size ? strings.size - key : 0;
        size_t wl = strlen(wanted);
        if (name && avail > wl && memcmp(name, wanted, wl) == 0 && name[wl] == 0)
            return value;
    }
    return UINT32_MAX;
}

static dt_status load_sections(dt_pdb *pdb, uint16_t stream, dt_pdb_section **out, size_t *count)
{
    dt_msf_stream s;
    if (dt_msf_stream_load(&pdb->msf, stream, &s, NULL) != DT_OK)
        return DT_ERR_NOT_FOUND;
    size_t n = s.view.size / 40;
    dt_pdb_section *secs = calloc(n ? n : 1, sizeof *secs);
    if (!secs) {
        dt_msf_stream_free(&s);
        return DT_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = s.view.data + i * 40;
        memcpy(secs[i].name, p, 8);
        secs[i].virtual_size = dt_le32(p + 8);
        secs[i].virtual_address = dt_le32(p + 12);
    }
    *out = secs;
    *count = n;
    dt_msf_stream_free(&s);
    return DT_OK;
}

static void load_omap(dt_pdb *pdb, uint16_t stream)
{
    dt_msf_stream s;
    if (dt_msf_stream_load(&pdb->msf, stream, &s, NULL) != DT_OK)
        return;
    size_t n = s.view.size / 8;
    pdb->omap_from_src = malloc((n ? n : 1) * 8);
    if (pdb->omap_from_src) {
        for (size_t i = 0; i < n * 2; i++)
            pdb->omap_from_src[i] = dt_le32(s.view.data + i * 4);
        pdb->nomap = n;
    }
    dt_msf_stream_free(&s);
}

static dt_status parse_dbi(dt_pdb *pdb, dt_error *err)
{
    if (dt_msf_stream_load(&pdb->msf, PDB_STREAM_DBI, &pdb->dbi, NULL) != DT_OK)
        return DT_OK; /* a PDB without DBI still has an identity */
    dt_view d = pdb->dbi.view;
    uint32_t sig, age;
    if (!dt_view_u32(d, 0, &sig) || sig != UINT32_MAX || !dt_view_u32(d, 8, &age) ||
        !dt_view_has(d, 0, 64)) {
        dt_warn(&pdb->warnings, "PDB DBI stream has an unknown header; no symbols");
        return DT_OK;
    }
    (void)err;
    pdb->has_dbi = true;
    pdb->info.dbi_age = age;
    pdb->public_stream = dt_le16(d.data + 16);
    pdb->sym_record_stream = dt_le16(d.data + 20);
    pdb->info.machine = dt_le16(d.data + 58);
    uint64_t sizes[6];
    for (int i = 0; i < 5; i++)
        sizes[i] = dt_le32(d.data + 24 + i * 4);            /* modinfo .. typeserver map */
    uint32_t dbg_size = dt_le32(d.data + 48), ec_size = dt_le32(d.data + 52);
    sizes[5] = ec_size;
    uint64_t off = 64;
    if (!dt_view_sub(d, off, sizes[0], &pdb->dbi_modinfo)) {
        dt_warn(&pdb->warnings, "PDB DBI module list truncated");
        pdb->dbi_modinfo = dt_view_tail(d, off);
    }
    for (int i = 0; i < 6; i++)
        off += sizes[i] > d.size ? d.size : sizes[i];
    dt_view dbg;
    if (!dt_view_sub(d, off, dbg_size, &dbg))
        dbg = dt_view_tail(d, off);
    uint16_t hdr = UINT16_MAX, hdr_orig = UINT16_MAX, omap = UINT16_MAX;
    dt_view_u16(dbg, DBG_SECTION_HDR * 2, &hdr);
    dt_view_u16(dbg, DBG_SECTION_HDR_ORIG * 2, &hdr_orig);
    dt_view_u16(dbg, DBG_OMAP_FROM_SRC * 2, &omap);
    /* With OMAP, symbol addresses are in the original (pre-rearrangement)
     * layout: original section headers, then OMAP to the final RVA. */
    if (hdr != UINT16_MAX)
        load_sections(pdb, hdr, &pdb->sections, &pdb->nsections);
    if (omap != UINT16_MAX && hdr_orig != UINT16_MAX) {
        load_omap(pdb, omap);
        if (pdb->omap_from_src &&
            load_sections(pdb, hdr_orig, &pdb->orig_sections, &pdb->norig_sections) != DT_OK) {
            free(pdb->omap_from_src);
            pdb->omap_from_src = NULL;
            pdb->nomap = 0;
        }
    }
    return DT_OK;
}

dt_status dt_pdb_open_view(dt_pdb **out, dt_view data, dt_error *err)
{
    *out = NULL;
    dt_pdb *pdb = calloc(1, sizeof *pdb);
    if (!pdb)
        return dt_error_set(err, DT_ERR_NOMEM, "out of memory opening PDB");
    dt_status st = dt_msf_open(&pdb->msf, data, err);
    if (st != DT_OK) {
        free(pdb);
        return st;
    }
    dt_msf_stream info;
    st = dt_msf_stream_load(&pdb->msf, PDB_STREAM_INFO, &info, err);
    if (st != DT_OK || !dt_view_has(info.view, 0, 28)) {
        if (st == DT_OK)
            dt_msf_stream_free(&info);
        dt_msf_close(&pdb->msf);
        free(pdb);
        return dt_error_set(err, DT_ERR_CORRUPT, "PDB info stream missing or truncated");
    }
    pdb->info.version = dt_le32(info.view.data);
    pdb->info.signature = dt_le32(info.view.data + 4);
    pdb->info.age = dt_le32(info.view.data + 8);
    memcpy(pdb->info.guid, info.view.data + 12, 16);
    format_debug_id(&pdb->info);
    uint32_t names = find_named_stream(info.view, "/names");
    dt_msf_stream_free(&info);
    if (names != UINT32_MAX)
        dt_msf_stream_load(&pdb->msf, names, &pdb->names, NULL);
    st = parse_dbi(pdb, err);
    if (st != DT_OK) {
        dt_pdb_close(pdb);
        return st;
    }
    *out = pdb;
    return DT_OK;
}

dt_status dt_pdb_open(dt_pdb **out, const char *path, dt_error *err)
{
    dt_mapped_file f;
    *out = NULL;
    dt_status st = dt_mapped_file_open(&f, path, err);
    if (st != DT_OK)
        return st;
    st = dt_pdb_open_view(out, f.view, err);
    if (st != DT_OK) {
        dt_mapped_file_close(&f);
        return st;
    }
    (*out)->mapped = f;
    (*out)->owns_mapping = true;
    return DT_OK;
}

void dt_pdb_close(dt_pdb *pdb)
{
    if (!pdb)
        return;
    dt_arena_free(&pdb->arena);
    free(pdb->sections);
    free(pdb->orig_sections);
    free(pdb->omap_from_src);
    free(pdb->publics);
    free(pdb->functions);
    free(pdb->lines);
    free(pdb->tpi.record_offsets);
    dt_msf_stream_free(&pdb->tpi.stream);
    free(pdb->ipi.record_offsets);
    dt_msf_stream_free(&pdb->ipi.stream);
    free(pdb->inline_sites);
    free(pdb->inline_ranges);
    free(pdb->inline_max_end);
    free(pdb->inlinee_names);
    dt_msf_stream_free(&pdb->names);
    dt_msf_stream_free(&pdb->dbi);
    dt_msf_close(&pdb->msf);
    dt_warnings_free(&pdb->warnings);
    if (pdb->owns_mapping)
        dt_mapped_file_close(&pdb->mapped);
    free(pdb);
}

const dt_pdb_info *dt_pdb_get_info(const dt_pdb *pdb) { return &pdb->info; }
const dt_warnings *dt_pdb_warnings(const dt_pdb *pdb) { return &pdb->warnings; }

const dt_pdb_section *dt_pdb_sections(const dt_pdb *pdb, size_t *count)
{
    *count = pdb->nsections;
    return pdb->sections;
}

bool dt_pdb_rva(const dt_pdb *pdb, uint16_t segment, uint32_t offset, uint32_t *rva)
{
    const dt_pdb_section *secs = pdb->omap_from_src ? pdb->orig_sections : pdb->sections;
    size_t nsecs = pdb->omap_from_src ? pdb->norig_sections : pdb->nsections;
    if (segment == 0 || segment > nsecs)
        return false;
    uint64_t r = (uint64_t)secs[segment - 1].virtual_address + offset;
    if (r > UINT32_MAX)
        return false;
    if (pdb->omap_from_src) {
        size_t lo = 0, hi = pdb->nomap;
        while (lo < hi) { /* first entry with from > r */
            size_t mid = lo + (hi - lo) / 2;
            if (pdb->omap_from_src[mid * 2] <= r)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo == 0)
            return false;
        uint32_t from = pdb->omap_from_src[(lo - 1) * 2], to = pdb->omap_from_src[(lo - 1) * 2 + 1];
        if (to == 0)
            return false;
        r = (uint64_t)to + (r - from);
        if (r > UINT32_MAX)
            return false;
    }
    *rva = (uint32_t)r;
    return true;
}

/* ---- publics ---------------------------------------------------------- */

/* x86 C symbols carry their calling convention in the name: cdecl "_f",
 * stdcall "_f@8", fastcall "@f@8".  Debuggers show "f"; C++ names ("?…")
 * are left alone. */
static const char *x86_display_name(dt_pdb *pdb, const char *name)
{
    if (name[0] != '_' && name[0] != '@')
        return name;
    const char *start = name + 1;
    size_t len = strlen(start);
    const char *at = strrchr(start, '@');
    if (at && at[1]) {
        bool digits = true;
        for (const char *q = at + 1; *q && digits; q++)
            digits = *q >= '0' && *q <= '9';
        if (digits)
            len = (size_t)(at - start);
    } else if (name[0] == '@') {
        return name; /* not a fastcall decoration */
    }
    if (len == 0)
        return name;
    dt_view v = dt_view_make(start, len);
    /* arena_str stops at the view's end, so this copies exactly len bytes */
    const char *d = arena_str(pdb, v, 0);
    return d ? d : name;
}

static int public_cmp(const void *a, const void *b)
{
    const dt_pdb_public *x = a, *y = b;
    if (x->has_rva != y->has_rva)
        return x->has_rva ? -1 : 1;
    if (x->rva != y->rva)
        return x->rva < y->rva ? -1 : 1;
    return strcmp(x->name, y->name);
}

const dt_pdb_public *dt_pdb_publics(dt_pdb *pdb, size_t *count, dt_error *err)
{
    *count = 0;
    if (pdb->publics_loaded) {
        *count = pdb->npublics;
        return pdb->publics;
    }
    pdb->publics_loaded = true;
    if (!pdb->has_dbi) {
        dt_error_set(err, DT_ERR_NOT_FOUND, "PDB has no DBI stream");
        return NULL;
    }
    dt_msf_stream s;
    if (dt_msf_stream_load(&pdb->msf, pdb->sym_record_stream, &s, err) != DT_OK)
        return NULL;
    dt_view v = s.view;
    size_t cap = 0, n = 0;
    dt_pdb_public *arr = NULL;
    uint64_t off = 0;
    while (off + 4 <= v.size) {
        uint16_t len = dt_le16(v.data + off), kind = dt_le16(v.data + off + 2);
        if (len < 2) {
            dt_warn(&pdb->warnings, "PDB symbol record stream: bad record length at 0x%llx",
                    (unsigned long long)off);
            break;
        }
        dt_view rec;
        if (!dt_view_sub(v, off, (uint64_t)len + 2, &rec)) {
            dt_warn(&pdb->warnings, "PDB symbol record stream truncated");
            break;
        }
        off += (uint64_t)len + 2;
        if (kind != S_PUB32 || rec.size < 14)
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 1024;
            dt_pdb_public *t = realloc(arr, ncap * sizeof *t);
            if (!t)
                break;
            arr = t;
            cap = ncap;
        }
        dt_pdb_public *p = &arr[n];
        p->flags = dt_le32(rec.data + 4);
        p->offset = dt_le32(rec.data + 8);
        p->segment = dt_le16(rec.data + 12);
        p->name = arena_str(pdb, rec, 14);
        if (!p->name)
            continue;
        p->display = pdb->info.machine == 0x14c ? x86_display_name(pdb, p->name) : p->name;
        p->has_rva = dt_pdb_rva(pdb, p->segment, p->offset, &p->rva);
        if (!p->has_rva)
            p->rva = 0;
        n++;
    }
    dt_msf_stream_free(&s);
    if (n)
        qsort(arr, n, sizeof *arr, public_cmp);
    pdb->publics = arr;
    pdb->npublics = n;
    *count = n;
    return arr;
}

/* ---- module procedures and lines --------------------------------------- */

typedef struct {
    dt_pdb_function *f;
    size_t n, cap;
    dt_pdb_line *l;
    size_t nl, capl;
} collect;

static bool push_function(collect *c, const dt_pdb_function *f)
{
    if (c->n == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 256;
        dt_pdb_function *t = realloc(c->f, ncap * sizeof *t);
        if (!t)
            return false;
        c->f = t;
        c->cap = ncap;
    }
    c->f[c->n++] = *f;
    return true;
}

static bool push_line(collect *c, const dt_pdb_line *l)
{
    if (c->nl == c->capl) {
        size_t ncap = c->capl ? c->capl * 2 : 1024;
        dt_pdb_line *t = realloc(c->l, ncap * sizeof *t);
        if (!t)
            return false;
        c->l = t;
        c->capl = ncap;
    }
    c->l[c->nl++] = *l;
    return true;
}

static void module_procs(dt_pdb *pdb, collect *c, dt_view syms, uint32_t module)
{
    uint64_t off = 4; /* CV signature */
    while (off + 4 <= syms.size) {
        uint16_t len = dt_le16(syms.data + off), kind = dt_le16(syms.data + off + 2);
        dt_view rec;
        if (len < 2 || !dt_view_sub(syms, off, (uint64_t)len + 2, &rec))
            break;
        off += (uint64_t)len + 2;
        bool global;
        switch (kind) {
        case S_GPROC32:
        case S_GPROC32_ID:
            global = true;
            break;
        case S_LPROC32:
        case S_LPROC32_ID:
        case S_LPROC32_DPC:
        case S_LPROC32_DPC_ID:
            global = false;
            break;
        default:
            continue;
        }
        if (rec.size < 39)
            continue;
        dt_pdb_function f = { 0 };
        f.size = dt_le32(rec.data + 16);
        uint32_t o = dt_le32(rec.data + 32);
        uint16_t seg = dt_le16(rec.data + 36);
        f.is_global = global;
        f.module = module;
        if (!dt_pdb_rva(pdb, seg, o, &f.rva))
            continue;
        f.name = arena_str(pdb, rec, 39);
        if (f.name && !push_function(c, &f))
            return;
    }
}

static void module_lines(dt_pdb *pdb, collect *c, dt_view c13, uint32_t module)
{
    dt_view checksums = dt_view_make(NULL, 0);
    for (int pass = 0; pass < 2; pass++) {
        uint64_t off = 0;
        while (off + 8 <= c13.size) {
            uint32_t kind = dt_le32(c13.data + off), len = dt_le32(c13.data + off + 4);
            dt_view sub;
            if (!dt_view_sub(c13, off + 8, len, &sub))
                break;
            off += 8 + (((uint64_t)len + 3) & ~(uint64_t)3);
            if (pass == 0) {
                if (kind == DEBUG_S_FILECHKSMS)
                    checksums = sub;
                continue;
            }
            if (kind != DEBUG_S_LINES || sub.size < 12)
                continue;
            uint32_t off_con = dt_le32(sub.data);
            uint16_t seg = dt_le16(sub.data + 4), flags = dt_le16(sub.data + 6);
            uint32_t cb_con = dt_le32(sub.data + 8);
            uint32_t base;
            if (!dt_pdb_rva(pdb, seg, off_con, &base))
                continue;
            uint64_t b = 12;
            while (b + 12 <= sub.size) {
                uint32_t file_id = dt_le32(sub.data + b), nlines = dt_le32(sub.data + b + 4);
                uint32_t cb_block = dt_le32(sub.data + b + 8);
                if (cb_block < 12)
                    break;
                dt_view block;
                if (!dt_view_sub(sub, b, cb_block, &block))
                    block = dt_view_tail(sub, b);
                b += cb_block;
                /* entries are 8 bytes; with columns, 4 more per line follow them */
                nlines = (uint32_t)dt_view_clamp_count(block, 12, (flags & 1) ? 12 : 8, nlines, NULL);
                uint32_t name_off = UINT32_MAX;
                dt_view_u32(checksums, file_id, &name_off);
                for (uint32_t i = 0; i < nlines; i++) {
                    const uint8_t *e = block.data + 12 + (uint64_t)i * 8;
                    uint32_t lo = dt_le32(e), lf = dt_le32(e + 4);
                    /* An entry runs to the next one; one followed by another at
                     * the same offset is superseded (length 0, dropped). */
                    uint32_t end = cb_con;
                    if (i + 1 < nlines) {
                        uint32_t next = dt_le32(e + 8);
                        if (next >= lo)
                            end = next;
                    }
                    if (lo >= cb_con || end <= lo)
                        continue;
                    if (end > cb_con)
                        end = cb_con;
                    dt_pdb_line l = { base + lo, end - lo, lf & 0xFFFFFF, name_off, module };
                    if (!push_line(c, &l))
                        return;
                }
            }
        }
    }
}

static int function_cmp(const void *a, const void *b)
{
    const dt_pdb_function *x = a, *y = b;
    if (x->rva != y->rva)
        return x->rva < y->rva ? -1 : 1;
    if (x->is_global != y->is_global)
        return x->is_global ? -1 : 1;
    return 0;
}

static int line_cmp(const void *a, const void *b)
{
    const dt_pdb_line *x = a, *y = b;
    if (x->rva != y->rva)
        return x->rva < y->rva ? -1 : 1;
    return 0;
}

static void load_functions(dt_pdb *pdb)
{
    if (pdb->functions_loaded)
        return;
    pdb->functions_loaded = true;
    if (!pdb->has_dbi)
        return;
    collect c = { 0 };
    dt_view mi = pdb->dbi_modinfo;
    uint64_t off = 0;
    size_t nmod = 0;
    while (off + 64 <= mi.size && nmod < 1000000) {
        const uint8_t *p = mi.data + off;
        uint16_t stream = dt_le16(p + 34);
        uint32_t sym_bytes = dt_le32(p + 36), c11_bytes = dt_le32(p + 40), c13_bytes = dt_le32(p + 44);
        /* two NUL-terminated names follow, then padding to 4 */
        uint64_t q = off + 64;
        for (int k = 0; k < 2; k++) {
            const uint8_t *s = dt_view_ptr(mi, q, 0);
            const uint8_t *nul = s ? memchr(s, 0, mi.size - q) : NULL;
            q = nul ? (uint64_t)(nul - mi.data) + 1 : mi.size;
        }
        off = (q + 3) & ~(uint64_t)3;
        nmod++;
        if (stream == UINT16_MAX)
            continue;
        dt_msf_stream ms;
        if (dt_msf_stream_load(&pdb->msf, stream, &ms, NULL) != DT_OK)
            continue;
        dt_view syms, c13;
        if (!dt_view_sub(ms.view, 0, sym_bytes, &syms))
            syms = ms.view;
        module_procs(pdb, &c, syms, (uint32_t)(nmod - 1));
        if (!dt_view_sub(ms.view, (uint64_t)sym_bytes + c11_bytes, c13_bytes, &c13))
            c13 = dt_view_make(NULL, 0);
        module_lines(pdb, &c, c13, (uint32_t)(nmod - 1));
        dt_pdb_collect_inlines(pdb, syms, c13);
        dt_msf_stream_free(&ms);
    }
    if (c.n)
        qsort(c.f, c.n, sizeof *c.f, function_cmp);
    if (c.nl)
        qsort(c.l, c.nl, sizeof *c.l, line_cmp);
    dt_pdb_inlines_finish(pdb);
    pdb->functions = c.f;
    pdb->nfunctions = c.n;
    pdb->lines = c.l;
    pdb->nlines = c.nl;
}

const dt_pdb_function *dt_pdb_functions(dt_pdb *pdb, size_t *count, dt_error *err)
{
    (void)err;
    load_functions(pdb);
    *count = pdb->nfunctions;
    return pdb->functions;
}

const dt_pdb_line *dt_pdb_lines(dt_pdb *pdb, size_t *count, dt_error *err)
{
    (void)err;
    load_functions(pdb);
    *count = pdb->nlines;
    return pdb->lines;
}

const char *dt_pdb_file_name(dt_pdb *pdb, uint32_t file)
{
    dt_view names = pdb->names.view;
    uint32_t sig, bytes;
    if (!dt_view_u32(names, 0, &sig) || sig != 0xEFFEEFFE || !dt_view_u32(names, 8, &bytes))
        return "";
    dt_view strings;
    if (!dt_view_sub(names, 12, bytes, &strings))
        strings = dt_view_tail(names, 12);
    const uint8_t *s = dt_view_ptr(strings, file, 0);
    if (!s || !memchr(s, 0, strings.size - file))
        return "";
    return (const char *)s;
}

/* ---- lookup ------------------------------------------------------------- */

static const dt_pdb_section *section_of(const dt_pdb *pdb, uint32_t rva)
{
    for (size_t i = 0; i < pdb->nsections; i++) {
        const dt_pdb_section *s = &pdb->sections[i];
        if (rva >= s->virtual_address && rva - s->virtual_address < (s->virtual_size ? s->virtual_size : 1))
            return s;
    }
    return NULL;
}

bool dt_pdb_lookup(dt_pdb *pdb, uint32_t rva, dt_pdb_symbol *out)
{
    memset(out, 0, sizeof *out);
    load_functions(pdb);
    size_t lo = 0, hi = pdb->nfunctions;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (pdb->functions[mid].rva <= rva)
            lo = mid + 1;
        else
            hi = mid;
    }
    /* Walk back over equal-start entries so a zero-sized one does not hide
     * a sized one covering rva. */
    const dt_pdb_function *chosen = NULL;
    for (size_t i = lo; i > 0 && lo - i < 8; i--) {
        const dt_pdb_function *f = &pdb->functions[i - 1];
        if (rva - f->rva < (f->size ? f->size : 1)) {
            out->function = f->name;
            out->function_rva = f->rva;
            chosen = f;
            break;
        }
        if (f->rva != pdb->functions[lo - 1].rva)
            break;
    }
    if (chosen) {
        lo = 0;
        hi = pdb->nlines;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (pdb->lines[mid].rva <= rva)
                lo = mid + 1;
            else
                hi = mid;
        }
        /* Lines covering rva; with identical code folding there are several
         * (one per folded function), so prefer the chosen function's module. */
        const dt_pdb_line *best = NULL;
        for (size_t i = lo, k = 0; i > 0 && k < 64; i--, k++) {
            const dt_pdb_line *l = &pdb->lines[i - 1];
            if (rva - l->rva >= l->length)
                continue;
            if (!best || l->module == chosen->module)
                best = l;
            if (l->module == chosen->module)
                break;
        }
        if (best) {
            out->line = best->line;
            out->file = dt_pdb_file_name(pdb, best->file);
            if (!out->file[0])
                out->file = NULL;
        }
        return true;
    }
    size_t np;
    const dt_pdb_public *pub = dt_pdb_publics(pdb, &np, NULL);
    lo = 0;
    hi = np;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (pub[mid].has_rva && pub[mid].rva <= rva)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return false;
    const dt_pdb_public *p = &pub[lo - 1];
    const dt_pdb_section *sec = section_of(pdb, rva);
    if (!sec || section_of(pdb, p->rva) != sec)
        return false;
    out->function = p->display;
    out->function_rva = p->rva;
    out->from_public = true;
    return true;
}
