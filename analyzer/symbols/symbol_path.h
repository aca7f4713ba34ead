/*
 * symbol_path.h — the symbol path in the syntax Windows engineers already
 * type into WinDbg (_NT_SYMBOL_PATH):
 *
 *   C:\syms;srv*C:\cache*https://msdl.microsoft.com/download/symbols
 *   cache*~/symcache;srv*https://symbols.example.com;/opt/more-syms
 *
 * Elements are separated by ';'.  A plain directory is searched as a symbol
 * store (or flat).  `srv*[CACHE*…]*URL` (also `symsrv*symsrv.dll*…`) names a
 * symbol server with the downstream stores that cache it; a server given as
 * a path rather than an http(s) URL is a local or mounted store.  `cache*DIR`
 * makes DIR the downstream store of the servers after it that name none.
 * Without any, a server caches into the default cache the caller gives.
 */
#ifndef DT_SYMBOLS_SYMBOL_PATH_H
#define DT_SYMBOLS_SYMBOL_PATH_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

typedef struct {
    char *dir;        /* local store (plain element, or the server itself when it is a path) */
    char *url;        /* http(s) server, NULL for a local store */
    char **caches;    /* downstream stores, nearest first; caches[0] receives downloads */
    size_t ncaches;
} dt_sympath_element;

typedef struct {
    dt_sympath_element *items;
    size_t count;
} dt_sympath;

/* Parses text (may be NULL or empty: an empty path).  default_cache (may be
 * NULL) is used for servers without a downstream store.  Caller frees *out. */
dt_status dt_sympath_parse(const char *text, const char *default_cache, dt_sympath *out, dt_error *err);
/* Appends the elements of another path text (e.g. --symbols given twice). */
dt_status dt_sympath_append(dt_sympath *path, const char *text, const char *default_cache, dt_error *err);
void dt_sympath_free(dt_sympath *p);

#endif
