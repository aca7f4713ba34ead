/*
 * pdb_internal.h — the dt_pdb object shared by pdb.c (info, DBI, symbols,
 * lines) and pdb_types.c (TPI).  Not for use outside analyzer/formats/pdb*.c.
 */
#ifndef DT_FORMATS_PDB_INTERNAL_H
#define DT_FORMATS_PDB_INTERNAL_H

#include "formats/msf.h"
#include "formats/pdb.h"
#include "base/arena.h"
#include "base/mapped_file.h"

/* Numeric leaf (CodeView LF_NUMERIC encoding) at off in v: the value and the
 * number of bytes it occupied; false when truncated or of an unknown kind. */
bool dt_pdb_read_numeric(dt_view v, uint64_t off, uint64_t *value, uint64_t *len);

typedef struct {
    uint32_t *record_offsets;   /* per type index - begin, offset in stream */
    uint32_t begin, end;
    dt_msf_stream stream;
    bool loaded, failed;
    /* callers ask for many fields of one type in a row (_EPROCESS, …):
     * remember where the last type found by name was */
    char last_name[256];
    uint32_t last_ti;
} dt_pdb_tpi;

/* TPI (2) and IPI (4) streams: index the records of stream into t (once;
 * false when the stream is absent or its header is not one). */
bool dt_pdb_typestream_load(struct dt_pdb *pdb, dt_pdb_tpi *t, uint16_t stream, dt_error *err);
/* Record ti of a loaded type stream, from its kind field on. */
bool dt_pdb_typestream_record(const dt_pdb_tpi *t, uint32_t ti, dt_view *rec, uint16_t *kind);
/* Name of the class/struct/union type ti of the TPI stream (not NUL-
 * terminated; borrows the stream). */
bool dt_pdb_type_aggregate_name(struct dt_pdb *pdb, uint32_t ti, const uint8_t **name, size_t *len);

/* One S_INLINESITE of a module stream (pdb_inlines.c). */
typedef struct {
    const char *function;       /* IPI LF_FUNC_ID / LF_MFUNC_ID name (arena) */
    uint32_t parent;            /* index of the enclosing site, UINT32_MAX: the procedure */
    uint32_t proc_rva;          /* the procedure the code was inlined into */
    uint32_t depth;             /* 0 = inlined directly into the procedure */
} dt_pdb_inline_site;

/* A code range of a site with its line (from the binary annotations). */
typedef struct {
    uint32_t rva, end;
    uint32_t line;
    uint32_t site;
    const char *file;           /* borrows /names; NULL when unknown */
} dt_pdb_inline_range;

/* Appends the inline sites of one module (its symbols and C13 subsections)
 * to pdb->inline_sites / inline_ranges; called by pdb.c while it reads the
 * module streams.  dt_pdb_inlines_finish sorts the ranges afterwards. */
void dt_pdb_collect_inlines(struct dt_pdb *pdb, dt_view syms, dt_view c13);
void dt_pdb_inlines_finish(struct dt_pdb *pdb);

struct dt_pdb {
    dt_mapped_file mapped;      /* only when opened by path */
    bool owns_mapping;
    dt_msf msf;
    dt_pdb_info info;
    dt_warnings warnings;

    /* DBI header fields we use */
    bool has_dbi;
    uint16_t sym_record_stream;
    uint16_t public_stream;
    dt_view dbi_modinfo;        /* views into dbi stream */
    dt_msf_stream dbi;

    dt_pdb_section *sections;      /* final image layout */
    size_t nsections;
    dt_pdb_section *orig_sections; /* pre-OMAP layout symbols refer to; NULL without OMAP */
    size_t norig_sections;
    uint32_t *omap_from_src;    /* pairs (from, to), sorted; NULL when absent */
    size_t nomap;

    /* arena of chunks that never move: all names returned live here */
    dt_arena arena;

    dt_pdb_public *publics;
    size_t npublics;
    bool publics_loaded;

    dt_pdb_function *functions;
    size_t nfunctions;
    dt_pdb_line *lines;
    size_t nlines;
    dt_msf_stream names;        /* the /names string table (file indices point in) */
    bool functions_loaded;

    dt_pdb_tpi tpi;
    dt_pdb_tpi ipi;             /* LF_FUNC_ID / LF_MFUNC_ID names of inline sites */

    dt_pdb_inline_site *inline_sites;
    size_t ninline_sites, cap_inline_sites;
    dt_pdb_inline_range *inline_ranges; /* sorted by rva */
    uint32_t *inline_max_end;   /* max end of ranges [0..i]: bounds the backward scan */
    size_t ninline_ranges, cap_inline_ranges;
    const char **inlinee_names; /* per IPI index, resolved on first use */
};

#endif
