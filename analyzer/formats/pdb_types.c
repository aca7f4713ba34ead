/*
 * pdb_types.c — just enough of the TPI (type) stream to answer "at what
 * offset is field F of struct S", which the kernel parser needs for
 * structures whose layout changes between builds (_EPROCESS, _KTHREAD, …).
 *
 * The stream is indexed once (one offset per type record) and struct
 * definitions are found by a name scan, which also resolves forward
 * references (members usually point at a forward declaration; the full
 * definition carries the same name).  Field lists are walked subrecord by
 * subrecord, following LF_INDEX continuations with a bounded hop count.
 */
#include "formats/pdb_internal.h"

#include <stdlib.h>
#include <string.h>

enum {
    LF_MODIFIER = 0x1001,
    LF_FIELDLIST = 0x1203,
    LF_BCLASS = 0x1400,
    LF_VBCLASS = 0x1401,
    LF_IVBCLASS = 0x1402,
    LF_INDEX = 0x1404,
    LF_VFUNCTAB = 0x1409,
    LF_ENUMERATE = 0x1502,
    LF_CLASS = 0x1504,
    LF_STRUCTURE = 0x1505,
    LF_UNION = 0x1506,
    LF_MEMBER = 0x150d,
    LF_STMEMBER = 0x150e,
    LF_METHOD = 0x150f,
    LF_NESTTYPE = 0x1510,
    LF_ONEMETHOD = 0x1511,
    LF_NESTTYPEEX = 0x1512,
    PROP_FWDREF = 0x80,
    PROP_HAS_UNIQUE_NAME = 0x200,
    MAX_FIELDLIST_HOPS = 4096,
    MAX_PATH_DEPTH = 16,
};

/* TPI (stream 2) and IPI (stream 4) share this layout: a header, then
 * records numbered from begin. */
bool dt_pdb_typestream_load(dt_pdb *pdb, dt_pdb_tpi *t, uint16_t stream, dt_error *err)
{
    if (t->loaded)
        return !t->failed;
    t->loaded = true;
    t->failed = true;
    if (dt_msf_stream_load(&pdb->msf, stream, &t->stream, err) != DT_OK)
        return false;
    dt_view v = t->stream.view;
    uint32_t hdr, begin, end, bytes;
    if (!dt_view_u32(v, 4, &hdr) || !dt_view_u32(v, 8, &begin) || !dt_view_u32(v, 12, &end) ||
        !dt_view_u32(v, 16, &bytes) || end < begin) {
        dt_error_set(err, DT_ERR_CORRUPT, "PDB type stream header invalid");
        return false;
    }
    dt_view recs;
    if (!dt_view_sub(v, hdr, bytes, &recs))
        recs = dt_view_tail(v, hdr);
    /* Each record takes at least 4 bytes: bound the index by what fits. */
    uint64_t n = dt_view_clamp_count(recs, 0, 4, (uint64_t)end - begin, NULL);
    t->record_offsets = malloc((n ? n : 1) * sizeof *t->record_offsets);
    if (!t->record_offsets) {
        dt_error_set(err, DT_ERR_NOMEM, "out of memory indexing PDB types");
        return false;
    }
    uint64_t off = hdr, stop = hdr + recs.size;
    uint64_t i = 0;
    for (; i < n && off + 4 <= stop; i++) {
        uint16_t len = dt_le16(v.data + off);
        if (len < 2 || off + 2 + len > stop)
            break;
        t->record_offsets[i] = (uint32_t)off;
        off += 2 + (uint64_t)len;
    }
    t->begin = begin;
    t->end = begin + (uint32_t)i;
    t->failed = false;
    return true;
}

static bool tpi_load(dt_pdb *pdb, dt_error *err) { return dt_pdb_typestream_load(pdb, &pdb->tpi, 2, err); }

bool dt_pdb_typestream_record(const dt_pdb_tpi *t, uint32_t ti, dt_view *rec, uint16_t *kind)
{
    if (ti < t->begin || ti >= t->end)
        return false;
    uint32_t off = t->record_offsets[ti - t->begin];
    dt_view v = t->stream.view;
    uint16_t len;
    if (!dt_view_u16(v, off, &len) || !dt_view_sub(v, off + 2, len, rec))
        return false;
    return dt_view_u16(*rec, 0, kind);
}

/* The record (from its kind field on) of type index ti. */
static bool tpi_record(const dt_pdb *pdb, uint32_t ti, dt_view *rec, uint16_t *kind)
{
    return dt_pdb_typestream_record(&pdb->tpi, ti, rec, kind);
}

typedef struct {
    uint32_t field_list;
    uint64_t size;
    uint16_t property;
    const uint8_t *name;
    size_t name_len;
    const uint8_t *unique;      /* decorated unique name, NULL when absent */
    size_t unique_len;
} aggregate;

static bool name_at(dt_view rec, uint64_t off, const uint8_t **name, size_t *len)
{
    const uint8_t *p = dt_view_ptr(rec, off, 0);
    if (!p)
        return false;
    const uint8_t *nul = memchr(p, 0, rec.size - off);
    if (!nul)
        return false;
    *name = p;
    *len = (size_t)(nul - p);
    return true;
}

static bool parse_aggregate(dt_view rec, uint16_t kind, aggregate *a)
{
    uint64_t numeric_off;
    if (kind == LF_CLASS || kind == LF_STRUCTURE)
        numeric_off = 18;
    else if (kind == LF_UNION)
        numeric_off = 10;
    else
        return false;
    uint16_t prop;
    uint32_t fl;
    uint64_t nlen;
    if (!dt_view_u16(rec, 4, &prop) || !dt_view_u32(rec, 6, &fl) ||
        !dt_pdb_read_numeric(rec, numeric_off, &a->size, &nlen))
        return false;
    a->property = prop;
    a->field_list = fl;
    a->unique = NULL;
    a->unique_len = 0;
    if (!name_at(rec, numeric_off + nlen, &a->name, &a->name_len))
        return false;
    if (prop & PROP_HAS_UNIQUE_NAME)
        name_at(rec, numeric_off + nlen + a->name_len + 1, &a->unique, &a->unique_len);
    return true;
}

/* The full (non-forward) definition of the aggregate named name; with a
 * unique name, the one carrying it (names like "<unnamed-tag>" repeat). */
static bool find_aggregate_at(const dt_pdb *pdb, const char *name, size_t name_len,
                              const uint8_t *unique, size_t unique_len, aggregate *out, uint32_t *found_ti)
{
    const dt_pdb_tpi *t = &pdb->tpi;
    for (uint32_t ti = t->begin; ti < t->end; ti++) {
        dt_view rec;
        uint16_t kind;
        if (!tpi_record(pdb, ti, &rec, &kind) ||
            (kind != LF_CLASS && kind != LF_STRUCTURE && kind != LF_UNION))
            continue;
        aggregate a;
        if (!parse_aggregate(rec, kind, &a) || (a.property & PROP_FWDREF))
            continue;
        if (a.name_len == name_len && memcmp(a.name, name, name_len) == 0 &&
            (!unique || (a.unique_len == unique_len && memcmp(a.unique, unique, unique_len) == 0))) {
            *out = a;
            if (found_ti)
                *found_ti = ti;
            return true;
        }
    }
    return false;
}

static bool find_aggregate(const dt_pdb *pdb, const char *name, size_t name_len,
                           const uint8_t *unique, size_t unique_len, aggregate *out)
{
    return find_aggregate_at(pdb, name, name_len, unique, unique_len, out, NULL);
}

/* A top-level type by name, through the one-entry cache. */
static bool find_named_type(dt_pdb *pdb, const char *name, aggregate *out)
{
    dt_pdb_tpi *t = &pdb->tpi;
    size_t len = strlen(name);
    if (t->last_name[0] && strcmp(t->last_name, name) == 0) {
        dt_view rec;
        uint16_t kind;
        if (tpi_record(pdb, t->last_ti, &rec, &kind) && parse_aggregate(rec, kind, out))
            return true;
    }
    uint32_t ti;
    if (!find_aggregate_at(pdb, name, len, NULL, 0, out, &ti))
        return false;
    if (len < sizeof t->last_name) {
        memcpy(t->last_name, name, len + 1);
        t->last_ti = ti;
    }
    return true;
}

/* Skips the LF_PAD bytes (0xF0..0xFF) that align field-list subrecords. */
static uint64_t skip_pad(dt_view fl, uint64_t off)
{
    uint8_t b;
    while (dt_view_u8(fl, off, &b) && b >= 0xF0)
        off++;
    return off;
}

/* Searches the field list chain starting at ti for a member named name.
 * Returns its offset and type. */
static bool find_member(const dt_pdb *pdb, uint32_t ti, const char *name, size_t name_len,
                        uint64_t *offset, uint32_t *type)
{
    for (int hop = 0; hop < MAX_FIELDLIST_HOPS; hop++) {
        dt_view fl;
        uint16_t kind;
        if (!tpi_record(pdb, ti, &fl, &kind) || kind != LF_FIELDLIST)
            return false;
        uint64_t off = 2;
        uint32_t next = 0;
        while (off + 2 <= fl.size) {
            uint16_t sk = dt_le16(fl.data + off);
            uint64_t value, nlen, end;
            uint32_t mtype = 0;
            uint16_t attr = 0;
            const uint8_t *mname = NULL;
            size_t mlen = 0;
            switch (sk) {
            case LF_MEMBER:
                if (!dt_view_u32(fl, off + 4, &mtype) ||
                    !dt_pdb_read_numeric(fl, off + 8, &value, &nlen) ||
                    !name_at(fl, off + 8 + nlen, &mname, &mlen))
                    return false;
                if (mlen == name_len && memcmp(mname, name, name_len) == 0) {
                    *offset = value;
                    *type = mtype;
                    return true;
                }
                end = off + 8 + nlen + mlen + 1;
                break;
            case LF_BCLASS:
                if (!dt_pdb_read_numeric(fl, off + 8, &value, &nlen))
                    return false;
                end = off + 8 + nlen;
                break;
            case LF_VBCLASS:
            case LF_IVBCLASS: {
                uint64_t v2, n2;
                if (!dt_pdb_read_numeric(fl, off + 12, &value, &nlen) ||
                    !dt_pdb_read_numeric(fl, off + 12 + nlen, &v2, &n2))
                    return false;
                end = off + 12 + nlen + n2;
                break;
            }
            case LF_ENUMERATE:
                if (!dt_pdb_read_numeric(fl, off + 4, &value, &nlen) ||
                    !name_at(fl, off + 4 + nlen, &mname, &mlen))
                    return false;
                end = off + 4 + nlen + mlen + 1;
                break;
            case LF_INDEX:
                if (!dt_view_u32(fl, off + 4, &next))
                    return false;
                end = off + 8;
                break;
            case LF_VFUNCTAB:
                end = off + 8;
                break;
            case LF_STMEMBER:
            case LF_METHOD:
            case LF_NESTTYPE:
            case LF_NESTTYPEEX:
                if (!name_at(fl, off + 8, &mname, &mlen))
                    return false;
                end = off + 8 + mlen + 1;
                break;
            case LF_ONEMETHOD: {
                if (!dt_view_u16(fl, off + 2, &attr))
                    return false;
                unsigned mprop = (attr >> 2) & 7;
                uint64_t noff = off + 8 + ((mprop == 4 || mprop == 6) ? 4 : 0);
                if (!name_at(fl, noff, &mname, &mlen))
                    return false;
                end = noff + mlen + 1;
                break;
            }
            default:
                return false; /* unknown subrecord: its length is unknowable */
            }
            off = skip_pad(fl, end);
        }
        if (!next)
            return false;
        ti = next;
    }
    return false;
}

/* Resolves a member's type to an aggregate definition (through modifiers
 * and forward references). */
static bool resolve_aggregate(const dt_pdb *pdb, uint32_t ti, aggregate *out)
{
    for (int hop = 0; hop < 8; hop++) {
        dt_view rec;
        uint16_t kind;
        if (!tpi_record(pdb, ti, &rec, &kind))
            return false;
        if (kind == LF_MODIFIER) {
            if (!dt_view_u32(rec, 2, &ti))
                return false;
            continue;
        }
        aggregate a;
        if (!parse_aggregate(rec, kind, &a))
            return false;
        if (!(a.property & PROP_FWDREF)) {
            *out = a;
            return true;
        }
        return find_aggregate(pdb, (const char *)a.name, a.name_len, a.unique, a.unique_len, out);
    }
    return false;
}

dt_status dt_pdb_type_size(dt_pdb *pdb, const char *type_name, uint64_t *size, dt_error *err)
{
    if (!tpi_load(pdb, err))
        return err ? err->code : DT_ERR_CORRUPT;
    aggregate a;
    if (!find_named_type(pdb, type_name, &a))
        return dt_error_set(err, DT_ERR_NOT_FOUND, "type %s not in PDB", type_name);
    *size = a.size;
    return DT_OK;
}

dt_status dt_pdb_field_offset(dt_pdb *pdb, const char *type_name, const char *field,
                              uint64_t *offset, dt_error *err)
{
    if (!tpi_load(pdb, err))
        return err ? err->code : DT_ERR_CORRUPT;
    aggregate a;
    if (!find_named_type(pdb, type_name, &a))
        return dt_error_set(err, DT_ERR_NOT_FOUND, "type %s not in PDB", type_name);
    uint64_t total = 0;
    const char *p = field;
    for (int depth = 0; depth < MAX_PATH_DEPTH; depth++) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        uint64_t off;
        uint32_t mtype;
        if (!find_member(pdb, a.field_list, p, len, &off, &mtype))
            return dt_error_set(err, DT_ERR_NOT_FOUND, "field %s not in %s", field, type_name);
        total += off;
        if (!dot) {
            *offset = total;
            return DT_OK;
        }
        if (!resolve_aggregate(pdb, mtype, &a))
            return dt_error_set(err, DT_ERR_NOT_FOUND, "field %s of %s: %.*s is not a struct",
                                field, type_name, (int)len, p);
        p = dot + 1;
    }
    return dt_error_set(err, DT_ERR_ARG, "field path %s too deep", field);
}

bool dt_pdb_field_offset_fn(void *ctx, const char *type_name, const char *field, uint32_t *offset)
{
    uint64_t off;
    if (!ctx || dt_pdb_field_offset(ctx, type_name, field, &off, NULL) != DT_OK || off > UINT32_MAX)
        return false;
    *offset = (uint32_t)off;
    return true;
}

bool dt_pdb_type_aggregate_name(dt_pdb *pdb, uint32_t ti, const uint8_t **name, size_t *len)
{
    dt_view rec;
    uint16_t kind;
    aggregate a;
    if (!tpi_load(pdb, NULL) || !tpi_record(pdb, ti, &rec, &kind) || !parse_aggregate(rec, kind, &a))
        return false;
    *name = a.name;
    *len = a.name_len;
    return true;
}
