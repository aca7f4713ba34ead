/*
 * archive_walk.h — the one libarchive loop of the server, with the limits
 * against archive bombs.  Dump archives (archive_unpack.c) and symbol
 * archives (api_symbols.c) both walk their uploads through it; the caller
 * decides per entry whether its bytes are wanted.
 *
 * Every byte that comes out of the decoders counts, whether the caller keeps
 * it or not: an entry the caller skips is still read to its end here (a
 * libarchive skip would decompress it just the same, uncounted), so a small
 * archive whose skipped first entry inflates to 48 GiB stops at the ratio
 * limit after a few MB instead of running for minutes.
 *
 * Only the formats the server advertises are enabled — zip, 7z, tar, and a
 * lone compressed file ("raw") — with the gzip, bzip2, xz/lzma and zstd
 * filters.  Their decoder memory is bounded by the process the walk runs in
 * (archive_unpack.c runs it in a limited child, limited_child.h), since
 * libarchive offers no memory limit for reading.
 */
#ifndef DT_SERVER_ARCHIVE_WALK_H
#define DT_SERVER_ARCHIVE_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

typedef struct {
    uint64_t max_total;       /* decompressed bytes over all entries, kept or skipped */
    uint64_t max_entry;       /* decompressed bytes of one entry; 0: max_total */
    unsigned max_entries;     /* entries looked at (directories too) */
    unsigned max_ratio;       /* decompressed : packed over the whole archive */
    unsigned max_entry_ratio; /* decompressed : compressed bytes read, one entry; 0: none */
    unsigned max_nesting;     /* compression layers around the container (tar.gz: 1) */
} dt_walk_limits;

/* Ratios are checked only past this many decompressed bytes: small files
 * legitimately compress very well (a mostly-zero page of a dump). */
#define DT_WALK_RATIO_FLOOR (1u << 20)

typedef struct {
    /* A regular entry starts.  name is the entry's last path component in
     * printable ASCII ("" for a lone compressed file, raw set).  Set *want
     * false to have its bytes counted but not passed. */
    dt_status (*begin)(void *ctx, const char *name, bool raw, bool *want, dt_error *err);
    /* Bytes of a wanted entry; set *want false to skip the rest. */
    dt_status (*data)(void *ctx, const void *buf, size_t len, bool *want, dt_error *err);
    /* The entry ended (complete: all its bytes were passed).  Also called
     * after a failure in the entry, with complete false, so the caller can
     * drop what it holds. */
    dt_status (*end)(void *ctx, bool complete, dt_error *err);
    /* Polled after each entry: true stops the walk (the caller has what it
     * needs). */
    bool (*done)(void *ctx);
} dt_walk_hooks;

typedef struct {
    unsigned entries;
    uint64_t total;           /* decompressed bytes */
    uint64_t packed;          /* the archive's size */
} dt_walk_stats;

/* Walks the archive at path.  DT_OK at its end (or when done() said so);
 * DT_ERR_CORRUPT when a limit is hit (the message names it: "ratio",
 * "entries", …); DT_ERR_FORMAT when it cannot be read (the message says
 * why, never "(null)"); or what a hook returned.  stats may be NULL. */
dt_status dt_archive_walk(const char *path, const dt_walk_limits *lim, const dt_walk_hooks *hooks, void *ctx,
                          dt_walk_stats *stats, dt_error *err);

/* The entry-name rule used by the walk (last component, printable ASCII
 * without quotes or ';'), for names from other places too. */
void dt_walk_base_name(const char *in, char *out, size_t len);

#endif
