/*
 * pdb.h — reading a Microsoft PDB (formats.md F.1–F.2): identity, section
 * headers, public symbols, functions from module symbol streams, C13 line
 * numbers, inline sites, and struct field offsets from the TPI stream.
 *
 * Opening a PDB decodes only the MSF directory, the info stream and the DBI
 * header; publics, functions/lines and types are each loaded on first use
 * (a kernel PDB is 10+ MB, and the kernel track only wants a few field
 * offsets from it).  Addresses are RVAs (segment:offset mapped through the
 * section headers, and OMAP when the image was rearranged after linking).
 *
 * Ownership: a dt_pdb owns everything it returns; pointers (names, arrays)
 * stay valid until dt_pdb_close.  A dt_pdb is not thread-safe.
 */
#ifndef DT_FORMATS_PDB_H
#define DT_FORMATS_PDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/view.h"
#include "base/error.h"

typedef struct dt_pdb dt_pdb;

typedef struct {
    uint32_t version;      /* info stream version (20000404 = VC70) */
    uint32_t signature;
    uint32_t age;          /* info stream age: the one matched against the PE */
    uint32_t dbi_age;
    uint8_t guid[16];      /* as stored (first three fields little-endian) */
    char debug_id[48];     /* 32 hex GUID digits + %X age, Breakpad/symstore form */
    uint16_t machine;      /* DBI machine (0x14C, 0x8664, 0xAA64), 0 when unknown */
} dt_pdb_info;

typedef struct {
    char name[9];
    uint32_t virtual_address;
    uint32_t virtual_size;
} dt_pdb_section;

typedef struct {
    const char *name;      /* decorated, as stored */
    const char *display;   /* x86 C names without their call-convention
                              decoration (_f, _f@8, @f@8 -> f); else = name */
    uint32_t rva;          /* 0 with has_rva false when the segment is unknown */
    uint32_t offset;
    uint16_t segment;
    uint32_t flags;        /* 1 code, 2 function, 4 managed, 8 MSIL */
    bool has_rva;
} dt_pdb_public;

typedef struct {
    const char *name;
    uint32_t rva;
    uint32_t size;
    uint32_t module;       /* DBI module index */
    bool is_global;        /* S_GPROC32 vs S_LPROC32 (static) */
} dt_pdb_function;

typedef struct {
    uint32_t rva;
    uint32_t length;
    uint32_t line;
    uint32_t file;         /* index for dt_pdb_file_name */
    uint32_t module;       /* DBI module index (identical code folding puts
                              several modules' lines at one address) */
} dt_pdb_line;

/* What dt_pdb_lookup found for an address. */
typedef struct {
    const char *function;  /* NULL when nothing covers the address */
    uint32_t function_rva;
    const char *file;      /* NULL without line info */
    uint32_t line;
    bool from_public;      /* only a public symbol (no size, no lines) matched */
} dt_pdb_symbol;

/* Opens a PDB over data, which must stay mapped until dt_pdb_close. */
dt_status dt_pdb_open_view(dt_pdb **out, dt_view data, dt_error *err);
/* Maps path (plain or gzip) and opens it; the dt_pdb owns the mapping. */
dt_status dt_pdb_open(dt_pdb **out, const char *path, dt_error *err);
void dt_pdb_close(dt_pdb *pdb);

const dt_pdb_info *dt_pdb_get_info(const dt_pdb *pdb);
/* Non-fatal problems met so far (clamped counts, bad records). */
const dt_warnings *dt_pdb_warnings(const dt_pdb *pdb);

/* Section headers (from the DBI optional debug header); count may be 0. */
const dt_pdb_section *dt_pdb_sections(const dt_pdb *pdb, size_t *count);
/* segment:offset → RVA (1-based segments, OMAP applied); false if unmapped. */
bool dt_pdb_rva(const dt_pdb *pdb, uint16_t segment, uint32_t offset, uint32_t *rva);

/* S_PUB32 records of the symbol record stream, sorted by RVA (those without
 * an RVA last).  Loaded on first call; NULL with *count 0 on failure. */
const dt_pdb_public *dt_pdb_publics(dt_pdb *pdb, size_t *count, dt_error *err);

/* Procedures (S_GPROC32/S_LPROC32 and _ID variants) from every module
 * stream, sorted by RVA, and their C13 line records sorted by RVA. */
const dt_pdb_function *dt_pdb_functions(dt_pdb *pdb, size_t *count, dt_error *err);
const dt_pdb_line *dt_pdb_lines(dt_pdb *pdb, size_t *count, dt_error *err);
/* Source file name of a line record's file index ("" when unknown). */
const char *dt_pdb_file_name(dt_pdb *pdb, uint32_t file);

/* Best symbol for rva: a module procedure containing it (with its line),
 * else the nearest public symbol at or below it in the same section (its
 * display name). */
bool dt_pdb_lookup(dt_pdb *pdb, uint32_t rva, dt_pdb_symbol *out);

/* One level of inlined code at an address (S_INLINESITE in a module
 * stream, its name from the IPI stream's LF_FUNC_ID/LF_MFUNC_ID, its line
 * from the site's binary annotations, starting at the DEBUG_S_INLINEELINES
 * line of the inlinee). */
typedef struct {
    const char *function;
    const char *file;      /* NULL when unknown */
    uint32_t line;         /* this function's own line at the address */
} dt_pdb_inline;

/* The functions inlined at rva into the procedure starting at
 * function_rva (dt_pdb_symbol.function_rva), outermost first; returns how
 * many (at most max).  The procedure's own line at rva (dt_pdb_lookup) is
 * then where the outermost one was called, and each level's line is where
 * it called the next. */
size_t dt_pdb_inlines(dt_pdb *pdb, uint32_t rva, uint32_t function_rva, dt_pdb_inline *out, size_t max);

/* Offset of field in the struct/class/union named type_name (TPI stream).
 * field may be a dotted path ("Pcb.DirectoryTableBase") through nested
 * struct members; a bitfield gives its containing member's offset.
 * DT_ERR_NOT_FOUND when the type or field is absent. */
dt_status dt_pdb_field_offset(dt_pdb *pdb, const char *type_name, const char *field,
                              uint64_t *offset, dt_error *err);
/* dt_pdb_field_offset in the shape of the kernel model's field-offset
 * provider (model/kernel_offsets.h): ctx is a dt_pdb *. */
bool dt_pdb_field_offset_fn(void *ctx, const char *type_name, const char *field, uint32_t *offset);
/* Size in bytes of the struct/class/union named type_name. */
dt_status dt_pdb_type_size(dt_pdb *pdb, const char *type_name, uint64_t *size, dt_error *err);

#endif
