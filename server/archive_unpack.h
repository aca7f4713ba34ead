/*
 * archive_unpack.h — finding the user and kernel dump inside an uploaded
 * archive (zip, 7z, tar with any compression, or one gzip/xz/zstd/bzip2
 * compressed dump), and inflating a gzip-compressed dump for analysis, with
 * limits against archive bombs.
 *
 * Both run the walk (archive_walk.h) in the helper program
 * dumptriage-unpack (unpack_main.c) under the limits of limited_child.h:
 * the decoders' memory is capped by RLIMIT_AS, their time by CPU seconds and
 * a wall clock, what they write by RLIMIT_FSIZE and the walk's byte and
 * ratio limits, and the disk's free space is checked as bytes are written.
 * The child works in its own directory under DATA_DIR/tmp, removed
 * afterwards whatever happened, so a killed child leaves nothing behind.
 */
#ifndef DT_SERVER_ARCHIVE_UNPACK_H
#define DT_SERVER_ARCHIVE_UNPACK_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "store.h"

typedef struct {
    uint64_t max_total;       /* bytes unpacked over all entries, kept or skipped */
    unsigned max_entries;     /* entries looked at */
    unsigned max_ratio;       /* unpacked bytes per packed byte, whole archive */
    /* The rest: 0 means "none" (nesting: the default of 2). */
    uint64_t max_entry;       /* bytes of one entry (--max-part-size) */
    unsigned max_entry_ratio; /* unpacked : compressed, one entry */
    unsigned max_nesting;     /* compression layers */
    uint64_t memory;          /* the child's address space beyond what it inherits */
    unsigned cpu_seconds;     /* the child's CPU time */
    unsigned timeout_seconds; /* the child's wall clock */
    uint64_t min_free;        /* free space kept on the data disk */
    bool (*cancelled)(void *arg); /* drain: true kills the child */
    void *cancel_arg;
} dt_unpack_limits;

#define DT_UNPACK_DEFAULT_NESTING 2

/* The limits the server was configured with (cancel fields left NULL). */
void dt_unpack_limits_from_config(dt_unpack_limits *lim, const dt_server_config *cfg);

/* The most dumps one archive yields: a series of up to 8 user dumps
 * (several dumps of one hang, docs/api.md), each with its kernel dump. */
#define DT_UNPACK_MAX_USERS 8
#define DT_UNPACK_MAX_DUMPS (2 * DT_UNPACK_MAX_USERS)

/* Streams the archive's entries; every minidump (up to DT_UNPACK_MAX_USERS)
 * becomes a "user" file and every kernel dump (as many) a "kernel" file, in
 * archive order, each stored as a blob under data_dir; the entry's name is
 * kept for pairing (X.dmp with X.Kernel.dmp).  Other entries, and dumps past
 * those counts, are skipped (but their bytes count).  out must hold
 * DT_UNPACK_MAX_DUMPS records.  DT_ERR_FORMAT if no usable dump is found or the archive
 * cannot be read, DT_ERR_CORRUPT on a limit, DT_ERR_NOMEM at the memory
 * limit, DT_ERR_IO if the child could not run (or was cancelled:
 * *cancelled, may be NULL). */
dt_status dt_archive_unpack(const char *data_dir, const char *archive_path, const dt_unpack_limits *limits,
                            dt_file_rec *out, int *nout, dt_error *err);
dt_status dt_archive_unpack_ex(const char *data_dir, const char *archive_path, const dt_unpack_limits *limits,
                               dt_file_rec *out, int *nout, bool *cancelled, dt_error *err);

/* The same walk in this process, without the child's limits (fuzzing and
 * tests: a crash must show in the caller).  The byte, entry, ratio and
 * nesting limits still apply. */
dt_status dt_archive_unpack_here(const char *data_dir, const char *archive_path, const dt_unpack_limits *limits,
                                 dt_file_rec *out, int *nout, dt_error *err);

/* The file the analyzer reads for a stored dump f: its blob, or — for a
 * gzip-compressed dump (kind "…+gzip") — that dump inflated under the same
 * limits into DATA_DIR/tmp (*temp set: the caller unlinks path when the
 * analysis is over).  The inflated bytes are the server's, so they count
 * against the data disk's free space, not the analyzer's output limit.
 * *size gets the size the analyzer sees. */
dt_status dt_unpack_input(const char *data_dir, const dt_file_rec *f, const dt_unpack_limits *limits, char *path,
                          size_t path_len, uint64_t *size, bool *temp, bool *cancelled, dt_error *err);

/* ---- the helper's side (unpack_main.c) ---- */

/* The walk limits as one argv word and back (the cancel fields, the
 * child's own limits and the nesting default are not carried). */
void dt_unpack_limits_encode(const dt_unpack_limits *l, char *out, size_t len);
dt_status dt_unpack_limits_decode(const char *s, dt_unpack_limits *l, dt_error *err);

/* The dumps an archive job found: the helper's fixed-size result. */
typedef struct {
    dt_file_rec files[DT_UNPACK_MAX_DUMPS];
    int n;
} dt_unpack_found;

/* The archive walk of dt_archive_unpack, in this process: spools under
 * work_dir, kept dumps committed as blobs under data_dir. */
dt_status dt_unpack_job_archive(const char *data_dir, const char *work_dir, const char *archive,
                                const dt_unpack_limits *lim, dt_unpack_found *res, dt_error *err);
/* Inflates the one dump in gz into the existing file target (truncated)
 * and checks it is a dump; *size gets its size. */
dt_status dt_unpack_job_inflate(const char *gz, const char *target, const dt_unpack_limits *lim, uint64_t *size,
                                dt_error *err);

#endif
