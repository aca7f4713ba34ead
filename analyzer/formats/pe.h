/*
 * pe.h — a PE/PE32+ image reader that works the same on a file and on an
 * image mapped in target memory.
 *
 * One reader serves two sources: a PE file found on disk or in a symbol
 * store (a dt_view, RVAs translated through the section table), and an
 * image the loader mapped in a dump (a dt_addrspace + base, RVA = offset
 * from base, pages possibly missing).  Everything above the headers is
 * read lazily through dt_pe_read: exports, the debug directory, .pdata and
 * UNWIND_INFO are fetched only when asked for, and every array is clamped
 * to its directory size and to the image, so a hostile header can make a
 * lookup fail but never make it expensive.
 *
 * Ownership: a dt_pe owns its section table and, once built, its export
 * table; dt_pe_close frees both.  It borrows the view / address space,
 * which must outlive it.
 */
#ifndef DT_FORMATS_PE_H
#define DT_FORMATS_PE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/view.h"
#include "base/addrspace.h"
#include "base/error.h"

#define DT_PE_MACHINE_I386  0x14C
#define DT_PE_MACHINE_AMD64 0x8664
#define DT_PE_MACHINE_ARM64 0xAA64

enum {
    DT_PE_DIR_EXPORT = 0, DT_PE_DIR_IMPORT = 1, DT_PE_DIR_RESOURCE = 2,
    DT_PE_DIR_EXCEPTION = 3, DT_PE_DIR_SECURITY = 4, DT_PE_DIR_BASERELOC = 5,
    DT_PE_DIR_DEBUG = 6, DT_PE_DIR_TLS = 9, DT_PE_DIR_LOAD_CONFIG = 10,
    DT_PE_DIR_IAT = 12, DT_PE_DIR_DELAY_IMPORT = 13, DT_PE_DIR_CLR = 14,
    DT_PE_DIR_COUNT = 16
};

/* Section characteristics the walker cares about. */
#define DT_PE_SCN_CNT_CODE    0x00000020u
#define DT_PE_SCN_MEM_EXECUTE 0x20000000u

typedef struct {
    char name[9];
    uint32_t virtual_size;
    uint32_t virtual_address;
    uint32_t raw_size;
    uint32_t raw_offset;
    uint32_t characteristics;
} dt_pe_section;

typedef struct {
    uint32_t rva;
    uint32_t size;
} dt_pe_dir;

typedef struct {
    uint32_t ordinal;     /* Base + index */
    uint32_t rva;         /* 0 for an unused slot */
    const char *name;     /* NULL when exported by ordinal only; owned by the dt_pe */
    const char *forwarder;/* "NTDLL.RtlAllocateHeap" when rva lies in the export directory */
    const char *label;    /* name, or "#ordinal" when there is none; never NULL */
} dt_pe_export;

typedef struct dt_pe {
    /* source: exactly one of file / (as, base) */
    bool mapped;
    dt_view file;
    const dt_addrspace *as;
    uint64_t base;

    uint16_t machine;
    uint16_t characteristics;
    uint32_t time_date_stamp;
    bool pe32plus;
    uint64_t image_base;     /* preferred base from the optional header */
    uint32_t entry_point;
    uint32_t size_of_image;
    uint32_t size_of_headers;
    uint32_t dir_count;
    dt_pe_dir dirs[DT_PE_DIR_COUNT];
    dt_pe_section *sections; /* owned */
    size_t section_count;

    /* lazily built by the export functions */
    bool exports_loaded;
    dt_pe_export *exports;   /* owned, ordinal order */
    size_t export_count;
    uint64_t *exports_by_rva;/* owned: rva << 32 | unnamed << 20 | index, sorted */
    size_t exports_by_rva_count;
    char *export_strings;    /* owned: storage for names and forwarders */
} dt_pe;

/* Parses the headers of a PE file held in `file`.  On success the caller
 * owns *pe (dt_pe_close); on failure *pe is zeroed. */
dt_status dt_pe_open_file(dt_pe *pe, dt_view file, dt_error *err);
/* Parses the headers of an image mapped at `base` in `as`.  The headers
 * page must be present; missing pages further in only make later lookups
 * fail. */
dt_status dt_pe_open_mapped(dt_pe *pe, const dt_addrspace *as, uint64_t base, dt_error *err);
void dt_pe_close(dt_pe *pe);

/* Copies up to len bytes at rva; returns how many consecutive bytes were
 * available (file: inside headers or a section's raw data; memory: present
 * pages, never past SizeOfImage). */
size_t dt_pe_read(const dt_pe *pe, uint32_t rva, void *buf, size_t len);
bool dt_pe_read_u32(const dt_pe *pe, uint32_t rva, uint32_t *out);
/* Reads a NUL-terminated string at rva into buf (at most cap-1 chars). */
bool dt_pe_read_cstring(const dt_pe *pe, uint32_t rva, char *buf, size_t cap);

/* The section containing rva, or NULL. */
const dt_pe_section *dt_pe_section_for_rva(const dt_pe *pe, uint32_t rva);
/* True when rva lies in an executable/code section. */
bool dt_pe_rva_is_code(const dt_pe *pe, uint32_t rva);

/* `%08X%X` TimeDateStamp SizeOfImage (symstore / Breakpad code id). */
void dt_pe_code_id(const dt_pe *pe, char out[32]);
/* From the first CodeView debug entry (RSDS or NB10): the PDB basename and
 * the debug id (32 hex GUID digits + hex age, or %08X signature + %x age).
 * DT_ERR_NOT_FOUND when the image has none. */
dt_status dt_pe_codeview(const dt_pe *pe, char *debug_file, size_t debug_file_cap,
                         char debug_id[48], dt_error *err);

/* Exports.  The table is read on first use (clamped to the directory and to
 * 65536 entries) and kept by the dt_pe. */
dt_status dt_pe_exports(dt_pe *pe, const dt_pe_export **out, size_t *count, dt_error *err);
/* The nearest named (or ordinal) export at or below rva, inside the same
 * section: *name ("ReadFile" or "#12") stays valid until dt_pe_close. */
bool dt_pe_export_lookup(dt_pe *pe, uint32_t rva, const char **name, uint32_t *offset);
/* The rva of the export called name (case-sensitive). */
bool dt_pe_export_find(dt_pe *pe, const char *name, uint32_t *rva);

/* ---- x64 exception data -------------------------------------------------- */

typedef struct {
    uint32_t begin;
    uint32_t end;
    uint32_t unwind_info;   /* as stored; bit 0 set = indirect entry */
} dt_pe_runtime_function;

/* Number of RUNTIME_FUNCTION entries (clamped to the directory and image). */
size_t dt_pe_pdata_count(const dt_pe *pe);
bool dt_pe_pdata_get(const dt_pe *pe, size_t index, dt_pe_runtime_function *out);
/* Binary search for the entry with begin <= rva < end. */
bool dt_pe_pdata_find(const dt_pe *pe, uint32_t rva, dt_pe_runtime_function *out);

enum {
    DT_UWOP_PUSH_NONVOL = 0, DT_UWOP_ALLOC_LARGE = 1, DT_UWOP_ALLOC_SMALL = 2,
    DT_UWOP_SET_FPREG = 3, DT_UWOP_SAVE_NONVOL = 4, DT_UWOP_SAVE_NONVOL_FAR = 5,
    DT_UWOP_EPILOG = 6,         /* v2; v1: SAVE_XMM (2 slots) */
    DT_UWOP_SPARE = 7,          /* v1: SAVE_XMM_FAR (3 slots) */
    DT_UWOP_SAVE_XMM128 = 8, DT_UWOP_SAVE_XMM128_FAR = 9, DT_UWOP_PUSH_MACHFRAME = 10
};

#define DT_UNW_FLAG_EHANDLER  1
#define DT_UNW_FLAG_UHANDLER  2
#define DT_UNW_FLAG_CHAININFO 4

typedef struct {
    uint8_t code_offset;  /* prolog offset just past the instruction */
    uint8_t op;
    uint8_t info;
    uint8_t slots;        /* UNWIND_CODE slots consumed */
    uint32_t value;       /* bytes: allocation size or save offset; 0 otherwise */
} dt_unwind_op;

typedef struct {
    uint32_t rva;
    uint8_t version;
    uint8_t flags;
    uint8_t prolog_size;
    uint8_t code_count;   /* slots, as stored */
    uint8_t frame_reg;
    uint8_t frame_offset; /* scaled: bytes = frame_offset * 16 */
    dt_unwind_op ops[255];
    size_t op_count;
    bool has_chain;
    dt_pe_runtime_function chained;
    bool has_handler;
    uint32_t handler;
} dt_unwind_info;

/* Decodes the UNWIND_INFO at rva.  Fails (DT_ERR_CORRUPT/TRUNCATED) on an
 * unknown version, an opcode that runs past CountOfCodes, or missing bytes. */
dt_status dt_pe_unwind_info(const dt_pe *pe, uint32_t rva, dt_unwind_info *out, dt_error *err);
/* Follows indirect entries (bit 0 of UnwindInfoAddress) to a function whose
 * UnwindInfoAddress is a real UNWIND_INFO, at most a few hops. */
bool dt_pe_resolve_runtime_function(const dt_pe *pe, dt_pe_runtime_function *rf);

/* ---- ARM64 exception data ------------------------------------------------ */

typedef struct {
    uint32_t begin;
    uint32_t unwind_data;   /* bits 0-1: 0 = .xdata RVA, 1/2 = packed */
    uint32_t length;        /* function length in bytes (from packed or .xdata) */
} dt_pe_arm64_function;

size_t dt_pe_arm64_pdata_count(const dt_pe *pe);
bool dt_pe_arm64_pdata_get(const dt_pe *pe, size_t index, dt_pe_arm64_function *out);
bool dt_pe_arm64_pdata_find(const dt_pe *pe, uint32_t rva, dt_pe_arm64_function *out);

#endif
