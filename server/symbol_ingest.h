/*
 * symbol_ingest.h — reading received symbol files (PDB, PE, Breakpad .sym,
 * or archives of them) and filing the ones that are into the symbol store
 * (symbol_filing.h): the hostile-input half of POST /api/symbols.
 *
 * It runs in the helper program (unpack_main.c, limited_child.h); the
 * request handler (api_symbols.c) passes each received file's path, name
 * and — for a file that sniffs as a symbol file — its SHA-256 (the spool is
 * sealed by the server, which hashed it as it arrived), and gets back this
 * fixed-size record of what was stored and what was skipped, from which it
 * writes the rows.  No pointers in the record: it crosses a process.
 */
#ifndef DT_SERVER_SYMBOL_INGEST_H
#define DT_SERVER_SYMBOL_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "archive_unpack.h"
#include "symbol_filing.h"

#define DT_SYMBOL_MAX_PARTS 8
#define DT_SYMBOL_MAX_ENTRIES 64
#define DT_SYMBOL_MAX_SKIPPED 64

typedef struct {
    char name[256];
    unsigned http;
    char code[32];         /* API error code ("unsupported_media_type", …) */
    char reason[256];
} dt_symbol_skipped;

/* What one request stored or skipped. */
typedef struct {
    dt_symbol_filing_entry stored[DT_SYMBOL_MAX_ENTRIES];
    size_t nstored;
    dt_symbol_skipped skipped[DT_SYMBOL_MAX_SKIPPED];
    size_t nskipped;
    dt_symbol_skipped first;   /* the refusal to give when nothing is stored (http 0: none) */
} dt_symbol_ingest;

/* One received file. */
typedef struct {
    const char *name;      /* the client's file name */
    const char *path;      /* the spool file */
    const char *sha256;    /* hex digest if sealed (symbol files), else NULL */
} dt_symbol_part;

/* A client's file name as a store name: its last component, no spaces. */
void dt_symbol_ingest_name(const char *in, char *out, size_t len);

/* Reads each part: files into data_dir/symbols what it can identify (moving
 * the spool file), walks archives with the limits lim (entries spooled
 * under work_dir), and records the rest as skipped. */
void dt_symbol_ingest_run(const char *data_dir, const char *work_dir, const dt_unpack_limits *lim,
                          const dt_symbol_part *parts, int nparts, dt_symbol_ingest *out);

#endif
