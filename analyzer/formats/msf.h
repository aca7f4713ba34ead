/*
 * msf.h — the MSF 7.00 container under every PDB (formats.md F.1).
 *
 * A PDB is a little file system: fixed-size blocks, a stream directory, and
 * streams that are lists of (not necessarily adjacent) blocks.  This reader
 * only maps the file and decodes the directory; a stream's bytes are touched
 * when someone asks for that stream, so a 100 MB PDB costs what is read.
 */
#ifndef DT_FORMATS_MSF_H
#define DT_FORMATS_MSF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/view.h"
#include "base/error.h"

typedef struct {
    dt_view file;          /* the whole PDB (not owned) */
    uint32_t block_size;
    uint32_t num_blocks;
    uint32_t num_streams;
    uint32_t *stream_sizes;  /* owned; UINT32_MAX = nil stream */
    uint32_t **stream_blocks;/* owned; per stream, pointers into blocks_storage */
    uint32_t *blocks_storage;/* owned */
} dt_msf;

/* A stream's bytes as one view.  When the stream's blocks are adjacent in the
 * file the view points into the file; otherwise they are gathered into
 * `owned`.  Release with dt_msf_stream_free. */
typedef struct {
    dt_view view;
    uint8_t *owned;
} dt_msf_stream;

/* Decodes the superblock and stream directory of file (which must outlive
 * *msf).  Caller frees with dt_msf_close. */
dt_status dt_msf_open(dt_msf *msf, dt_view file, dt_error *err);
void dt_msf_close(dt_msf *msf);

/* True when file starts with the MSF 7.00 magic. */
bool dt_msf_is_msf(dt_view file);

/* Size of stream idx, 0 for a nil or absent stream. */
uint32_t dt_msf_stream_size(const dt_msf *msf, uint32_t idx);

/* Loads stream idx; DT_ERR_NOT_FOUND for a nil/absent stream. */
dt_status dt_msf_stream_load(const dt_msf *msf, uint32_t idx, dt_msf_stream *out, dt_error *err);
void dt_msf_stream_free(dt_msf_stream *s);

#endif
