/*
 * symbol_filing.h — filing uploaded symbol files into the server's own
 * symbol store (looking symbols up is the analyzer's
 * analyzer/symbols/symstore.c): DATA_DIR/symbols/ in
 * symstore layout (what `dumptriage analyze --symbols DIR` reads), the
 * symbol_files table that says who uploaded what, and finding the stored
 * reports that lacked an uploaded file's symbols so they can be analyzed
 * again.
 *
 * A file is filed by the identity read from its content (PDB GUID+age, PE
 * TimeDateStamp+SizeOfImage, Breakpad MODULE line), never by a path from the
 * request: only a validated basename is used, and only where the content does
 * not name itself (PDB and PE files do not).
 */
#ifndef DT_SERVER_SYMBOL_FILING_H
#define DT_SERVER_SYMBOL_FILING_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "base/error.h"

typedef struct {
    char kind[12];         /* pdb | pe | breakpad */
    char name[256];        /* file name in the store: x.pdb, x.exe, x.sym */
    char ident[80];        /* debug id (pdb, breakpad) or code id (pe) */
    char match_file[256];  /* the module name a report carries: debug_file or code file */
    char path[700];        /* relative to DATA_DIR/symbols: dir/ident/name */
    uint64_t size;
    char sha256[65];
} dt_symbol_filing_entry;

/* The first bytes name a kind this store accepts (PDB, PE, Breakpad .sym). */
int dt_symbol_filing_sniff(const uint8_t *head, size_t len);

/* Reads the identity of the file at path.  name is the basename the client
 * gave (may be NULL or empty; required for PDB and PE, whose content does not
 * carry their own file name).  DT_ERR_FORMAT: none of the kinds;
 * DT_ERR_ARG: the name is missing or not a plain file name. */
dt_status dt_symbol_filing_identify(const char *path, const char *name, dt_symbol_filing_entry *out, dt_error *err);

/* Moves the complete file src into DATA_DIR/symbols/<e->path> (replacing a
 * file of the same identity).  src must be on the same file system (under
 * DATA_DIR). */
dt_status dt_symbol_filing_place(const char *data_dir, const char *src, const dt_symbol_filing_entry *e, dt_error *err);

/* DATA_DIR/symbols into out. */
void dt_symbol_filing_dir(const char *data_dir, char *out, size_t len);

/* Records (or refreshes) the row of an entry stored by token_id (0: none). */
dt_status dt_store_symbol_record(dt_store *s, const dt_symbol_filing_entry *e, int64_t token_id, dt_error *err);
/* {"items":[{name,id,kind,size,sha256,uploaded_at,uploaded_by}]}, newest first;
 * caller frees. */
cJSON *dt_store_symbol_list(dt_store *s);
/* Queues a new analysis of every finished upload whose report has a module
 * without symbols (missing_symbols, or exports only) matching one of the
 * entries, unless its dump files were purged (nothing to analyse).  Returns
 * how many uploads were queued, -1 on a store error. */
int dt_store_symbol_requeue(dt_store *s, const dt_symbol_filing_entry *e, size_t n, dt_error *err);

#endif
