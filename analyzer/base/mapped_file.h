/*
 * mapped_file.h — a dump file as one read-only view, without copying it.
 *
 * Plain files are mmap'd, so a multi-GB dump costs only the pages a parser
 * touches.  Gzip-compressed files (customers mail `.dmp.gz`) are inflated
 * once into an unlinked temporary file, which is then mapped the same way:
 * memory stays proportional to what is read, never to the file size.
 */
#ifndef DT_BASE_MAPPED_FILE_H
#define DT_BASE_MAPPED_FILE_H

#include <stdbool.h>
#include <stdint.h>

#include "base/view.h"
#include "base/error.h"

typedef struct {
    dt_view view;        /* the (decompressed) contents */
    void *map;           /* mmap base, or NULL for an empty file */
    size_t map_size;
    bool was_gzip;       /* the input was gzip and view is its inflated form */
} dt_mapped_file;

/* Upper bound on inflated size; a larger gzip stream is refused (zip bombs). */
#define DT_GZIP_MAX_INFLATED (UINT64_C(64) << 30)

/* Opens path.  On success the caller owns *f and releases it with
 * dt_mapped_file_close.  On failure *f is zeroed and err says why. */
dt_status dt_mapped_file_open(dt_mapped_file *f, const char *path, dt_error *err);
void dt_mapped_file_close(dt_mapped_file *f);

#endif
