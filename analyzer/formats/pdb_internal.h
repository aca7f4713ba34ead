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
};

#endif
