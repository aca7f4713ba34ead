/*
 * msf.c — MSF 7.00 superblock, stream directory and stream gathering.
 *
 * The directory itself is stored in blocks listed by the block at
 * BlockMapAddr; it is gathered once (it is small: a few KB to a few hundred
 * KB) and decoded into per-stream block lists.  Every block number and size
 * is checked against the file before use, so a damaged PDB yields missing
 * streams, never a wild read.
 */
#include "formats/msf.h"

#include <stdlib.h>
#include <string.h>

static const char msf_magic[32] = "Microsoft C/C++ MSF 7.00\r\n\x1a" "DS\0\0\0";

bool dt_msf_is_msf(dt_view file)
{
    const uint8_t *p = dt_view_ptr(file, 0, 32);
    return p && memcmp(p, msf_magic, 32) == 0;
}

static uint64_t blocks_for(uint64_t bytes, uint32_t block_size)
{
    return (bytes + block_size - 1) / block_size;
}

/* Copies `len` bytes of a block-listed byte run starting at byte `off` into
 * dst.  The caller has checked that blocks[] covers [off, off+len). */
static bool gather(dt_view file, uint32_t block_size, const uint32_t *blocks, uint64_t off,
                   uint8_t *dst, uint64_t len)
{
    while (len) {
        uint64_t bi = off / block_size, in = off % block_size;
        uint64_t chunk = block_size - in;
        if (chunk > len)
            chunk = len;
        if (!dt_view_copy(file, (uint64_t)blocks[bi] * block_size + in, dst, (size_t)chunk))
            return false;
        dst += chunk;
        off += chunk;
        len -= chunk;
    }
    return true;
}

dt_status dt_msf_open(dt_msf *msf, dt_view file, dt_error *err)
{
    memset(msf, 0, sizeof *msf);
    msf->file = file;
    if (!dt_msf_is_msf(file))
        return dt_error_set(err, DT_ERR_FORMAT, "not an MSF 7.00 (PDB) file");
    uint32_t bs, nblocks, dir_bytes, map_addr;
    if (!dt_view_u32(file, 32, &bs) || !dt_view_u32(file, 40, &nblocks) ||
        !dt_view_u32(file, 44, &dir_bytes) || !dt_view_u32(file, 52, &map_addr))
        return dt_error_set(err, DT_ERR_TRUNCATED, "PDB superblock truncated");
    if (bs != 512 && bs != 1024 && bs != 2048 && bs != 4096 && bs != 8192 && bs != 16384 &&
        bs != 32768)
        return dt_error_set(err, DT_ERR_CORRUPT, "PDB block size %u is invalid", bs);
    if (dir_bytes < 4 || dir_bytes > file.size)
        return dt_error_set(err, DT_ERR_CORRUPT, "PDB stream directory size %u is invalid", dir_bytes);
    msf->block_size = bs;
    msf->num_blocks = nblocks;

    uint64_t ndir_blocks = blocks_for(dir_bytes, bs);
    dt_view map;
    if (!dt_view_sub(file, (uint64_t)map_addr * bs, ndir_blocks * 4, &map))
        return dt_error_set(err, DT_ERR_TRUNCATED, "PDB directory block map out of file");
    uint32_t *dir_blocks = malloc(ndir_blocks * sizeof *dir_blocks);
    uint8_t *dir = malloc(dir_bytes);
    if (!dir_blocks || !dir) {
        free(dir_blocks);
        free(dir);
        return dt_error_set(err, DT_ERR_NOMEM, "out of memory reading PDB directory");
    }
    for (uint64_t i = 0; i < ndir_blocks; i++)
        dir_blocks[i] = dt_le32(map.data + i * 4);
    dt_status st = DT_OK;
    if (!gather(file, bs, dir_blocks, 0, dir, dir_bytes)) {
        st = dt_error_set(err, DT_ERR_TRUNCATED, "PDB stream directory out of file");
        goto out;
    }
    dt_view dv = dt_view_make(dir, dir_bytes);
    uint32_t nstreams;
    dt_view_u32(dv, 0, &nstreams);
    nstreams = (uint32_t)dt_view_clamp_count(dv, 4, 4, nstreams, NULL);
    msf->stream_sizes = calloc(nstreams ? nstreams : 1, sizeof *msf->stream_sizes);
    msf->stream_blocks = calloc(nstreams ? nstreams : 1, sizeof *msf->stream_blocks);
    uint64_t total_blocks = (dir_bytes - 4 - (uint64_t)nstreams * 4) / 4;
    msf->blocks_storage = malloc((total_blocks ? total_blocks : 1) * sizeof(uint32_t));
    if (!msf->stream_sizes || !msf->stream_blocks || !msf->blocks_storage) {
        st = dt_error_set(err, DT_ERR_NOMEM, "out of memory reading PDB directory");
        goto out;
    }
    msf->num_streams = nstreams;
    uint64_t pos = 4 + (uint64_t)nstreams * 4, used = 0;
    for (uint32_t s = 0; s < nstreams; s++) {
        uint32_t size = dt_le32(dir + 4 + (uint64_t)s * 4);
        msf->stream_blocks[s] = msf->blocks_storage + used;
        if (size == UINT32_MAX) {
            msf->stream_sizes[s] = UINT32_MAX;
            continue;
        }
        uint64_t nb = blocks_for(size, bs);
        if (nb > total_blocks - used) {
            /* The directory ends early: this and later streams are absent. */
            for (uint32_t t = s; t < nstreams; t++)
                msf->stream_sizes[t] = UINT32_MAX;
            break;
        }
        bool ok = true;
        for (uint64_t b = 0; b < nb; b++) {
            uint32_t blk = dt_le32(dir + pos + b * 4);
            if ((uint64_t)blk * bs + bs > file.size &&
                !(b == nb - 1 && (uint64_t)blk * bs + (size - b * bs) <= file.size))
                ok = false;
            msf->blocks_storage[used + b] = blk;
        }
        pos += nb * 4;
        used += nb;
        msf->stream_sizes[s] = ok ? size : UINT32_MAX;
    }
out:
    free(dir_blocks);
    free(dir);
    if (st != DT_OK)
        dt_msf_close(msf);
    return st;
}

void dt_msf_close(dt_msf *msf)
{
    free(msf->stream_sizes);
    free(msf->stream_blocks);
    free(msf->blocks_storage);
    memset(msf, 0, sizeof *msf);
}

uint32_t dt_msf_stream_size(const dt_msf *msf, uint32_t idx)
{
    if (idx >= msf->num_streams || msf->stream_sizes[idx] == UINT32_MAX)
        return 0;
    return msf->stream_sizes[idx];
}

dt_status dt_msf_stream_load(const dt_msf *msf, uint32_t idx, dt_msf_stream *out, dt_error *err)
{
    memset(out, 0, sizeof *out);
    if (idx >= msf->num_streams || msf->stream_sizes[idx] == UINT32_MAX)
        return dt_error_set(err, DT_ERR_NOT_FOUND, "PDB stream %u is absent", idx);
    uint32_t size = msf->stream_sizes[idx];
    const uint32_t *blocks = msf->stream_blocks[idx];
    uint64_t nb = blocks_for(size, msf->block_size);
    bool adjacent = true;
    for (uint64_t b = 1; b < nb && adjacent; b++)
        adjacent = blocks[b] == blocks[b - 1] + 1;
    if (size == 0) {
        out->view = dt_view_make(NULL, 0);
        return DT_OK;
    }
    if (adjacent) {
        if (!dt_view_sub(msf->file, (uint64_t)blocks[0] * msf->block_size, size, &out->view))
            return dt_error_set(err, DT_ERR_TRUNCATED, "PDB stream %u out of file", idx);
        return DT_OK;
    }
    out->owned = malloc(size);
    if (!out->owned)
        return dt_error_set(err, DT_ERR_NOMEM, "out of memory loading PDB stream %u", idx);
    if (!gather(msf->file, msf->block_size, blocks, 0, out->owned, size)) {
        free(out->owned);
        out->owned = NULL;
        return dt_error_set(err, DT_ERR_TRUNCATED, "PDB stream %u out of file", idx);
    }
    out->view = dt_view_make(out->owned, size);
    return DT_OK;
}

void dt_msf_stream_free(dt_msf_stream *s)
{
    free(s->owned);
    memset(s, 0, sizeof *s);
}
