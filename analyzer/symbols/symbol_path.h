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
 *
 * This is the one parser for every way a path arrives (the analyzer's
 * --symbols, DUMPTRIAGE_SYMBOL_PATH, the server's --symbols/DT_SYMBOLS),
 * so "A;B" means the same everywhere.  For the older colon-separated
 * directory lists, an element without '*' that is not a URL is split at ':'
 * too, except after a Windows drive letter ("C:/syms", "C:\\syms").
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

/* More elements than anyone types; a bound on hostile configuration. */
#define DT_SYMPATH_MAX_ELEMENTS 256

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
/* One warning per local element (directory, or a server given as a path)
 * that is not an existing directory: it can never resolve anything. */
void dt_sympath_warn_unresolved(const dt_sympath *p, dt_warnings *w);

#endif
