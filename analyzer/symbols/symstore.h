/*
 * symstore.h — finding symbol files and images in local symbol directories.
 *
 * Each directory may be a symbol store (SymStore / symbol-server layout) or
 * a flat directory of files:
 *   PDB       DIR/name.pdb/<GUID><AGE>/name.pdb      or DIR/name.pdb (identity checked)
 *   PE        DIR/name.exe/<TIMESTAMP><SIZE>/name.exe or DIR/name.exe (identity checked)
 *   Breakpad  DIR/name.pdb/<ID>/name.sym, DIR/name/<ID>/name.sym
 *                                                    or DIR/name.sym (MODULE id checked)
 * Windows names are case-insensitive and Linux file systems are not, so a
 * component that does not exist as spelled is matched case-insensitively.
 * Names and ids come from dumps: anything that is not a plain file name
 * (separators, "..", control characters) is refused, never joined to a path.
 */
#ifndef DT_SYMBOLS_SYMSTORE_H
#define DT_SYMBOLS_SYMSTORE_H

#include <stdbool.h>
#include <stddef.h>

#include "symbols/symbol_path.h"
#include "symbols/symsrv.h"
#include "base/error.h"

/* The environment variable holding extra directories, ';' or ':' separated,
 * or a symbol path in _NT_SYMBOL_PATH syntax when it contains a '*'. */
#define DT_SYMBOL_PATH_ENV "DUMPTRIAGE_SYMBOL_PATH"
/* Download cache for symbol servers that name none ("srv*https://…"). */
#define DT_SYMBOL_CACHE_ENV "DUMPTRIAGE_SYMBOL_CACHE"
/* Seconds one symbol-server request may take (default 20; a server gets
 * twice that in total per analysis). */
#define DT_SYMBOL_TIMEOUT_ENV "DUMPTRIAGE_SYMBOL_TIMEOUT"
/* Largest symbol file (bytes) a server may send (default 2 GiB). */
#define DT_SYMBOL_MAX_BYTES_ENV "DUMPTRIAGE_SYMBOL_MAX_BYTES"
/* Non-empty and not "0": use symbol-server caches only, no network. */
#define DT_SYMBOL_OFFLINE_ENV "DUMPTRIAGE_SYMBOL_OFFLINE"

struct dt_symstore_listing;

typedef struct {
    char **dirs;          /* owned: local directories, searched first */
    size_t ndirs;
    /* owned: per dir, its entry names read once for case-insensitive
     * matching (a store root may hold many thousands of entries) */
    struct dt_symstore_listing *listings;
    dt_sympath servers;   /* owned: symbol path elements; those with a URL
                             are asked (through their caches) after dirs */
    dt_symsrv *srv;       /* owned; NULL when no element names a server */
    dt_warnings *warnings;/* borrowed, may be NULL: server failures go here */
} dt_symstore;

/* Directories from dirs (in order) followed by those in path_list (a
 * DUMPTRIAGE_SYMBOL_PATH value, may be NULL).  An entry containing '*' is a
 * symbol path ("srv*C:\cache*https://msdl.microsoft.com/download/symbols",
 * symbols/symbol_path.h): its local stores join dirs, its servers are used
 * for PDBs and images missing locally, downloading into their cache
 * (default_cache, may be NULL, for those naming none).  Free with
 * dt_symstore_free. */
dt_status dt_symstore_init(dt_symstore *s, const char *const *dirs, size_t ndirs,
                           const char *path_list, const char *default_cache, dt_error *err);
void dt_symstore_free(dt_symstore *s);

/* Each returns a malloc'd path (caller frees) or NULL when not found.
 * debug_file may be a full Windows path; its basename is used. */
char *dt_symstore_find_pdb(const dt_symstore *s, const char *debug_file, const char *debug_id);
char *dt_symstore_find_breakpad(const dt_symstore *s, const char *debug_file, const char *debug_id);
char *dt_symstore_find_image(const dt_symstore *s, const char *code_file, const char *code_id);

/* True when id matches a PDB identity: same GUID (first 32 hex digits,
 * case-insensitive) and module age <= PDB age. */
bool dt_symstore_pdb_id_matches(const char *module_id, const char *pdb_id);

#endif
