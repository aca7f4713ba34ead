/*
 * archive_unpack.h — finding the user and kernel dump inside an uploaded
 * archive (zip, 7z, tar with any compression, or one gzip/xz/zstd/bzip2
 * compressed dump), with limits against archive bombs.
 */
#ifndef DT_SERVER_ARCHIVE_UNPACK_H
#define DT_SERVER_ARCHIVE_UNPACK_H

#include <stdint.h>

#include "store.h"

typedef struct {
    uint64_t max_total;      /* bytes unpacked over all entries */
    unsigned max_entries;    /* entries looked at */
    unsigned max_ratio;      /* unpacked bytes per packed byte */
} dt_unpack_limits;

/* Streams the archive's entries; the first minidump becomes the "user" file
 * and the first kernel dump the "kernel" file, each stored as a blob under
 * data_dir.  Other entries are skipped.  out must hold 2 records.  Fails
 * (DT_ERR_FORMAT) if no dump is found, DT_ERR_CORRUPT on a limit. */
dt_status dt_archive_unpack(const char *data_dir, const char *archive_path, const dt_unpack_limits *limits,
                            dt_file_rec *out, int *nout, dt_error *err);

#endif
