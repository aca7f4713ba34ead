/*
 * mdmp_append.c — see mdmp_append.h.  MINIDUMP_HEADER: NumberOfStreams at
 * +8, StreamDirectoryRva at +12; a MINIDUMP_DIRECTORY entry is {StreamType,
 * DataSize, Rva}, 12 bytes.
 */
#include "mdmp_append.h"

#include <stdlib.h>
#include <string.h>

void dt_mdmp_put(dt_mdmp_append *b, const void *d, size_t n)
{
    if (b->n + n > b->cap) {
        size_t nc = (b->n + n) * 2;
        uint8_t *x = realloc(b->p, nc);
        if (!x)
            abort();
        b->p = x;
        b->cap = nc;
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}

void dt_mdmp_put32(dt_mdmp_append *b, uint32_t v) { dt_mdmp_put(b, &v, 4); }
void dt_mdmp_put64(dt_mdmp_append *b, uint64_t v) { dt_mdmp_put(b, &v, 8); }
void dt_mdmp_set32(dt_mdmp_append *b, size_t at, uint32_t v) { memcpy(b->p + at, &v, 4); }

void dt_mdmp_align(dt_mdmp_append *b, size_t to)
{
    while (b->n % to)
        dt_mdmp_put(b, "", 1);
}

int dt_mdmp_append_begin(dt_mdmp_append *b, const uint8_t *dump, size_t size)
{
    memset(b, 0, sizeof *b);
    if (size < 32 || memcmp(dump, "MDMP", 4) != 0)
        return 0;
    memcpy(&b->nstreams, dump + 8, 4);
    memcpy(&b->dir, dump + 12, 4);
    if ((uint64_t)b->dir + (uint64_t)b->nstreams * 12 > size)
        return 0;
    b->dump = dump;
    dt_mdmp_put(b, dump, size);
    dt_mdmp_align(b, 8);
    return 1;
}

uint8_t *dt_mdmp_append_finish(dt_mdmp_append *b, uint32_t type, uint32_t stream_rva, uint32_t stream_size,
                               size_t *out_size)
{
    dt_mdmp_align(b, 4);
    uint32_t new_dir = (uint32_t)b->n;
    dt_mdmp_put(b, b->dump + b->dir, (size_t)b->nstreams * 12);
    dt_mdmp_put32(b, type);
    dt_mdmp_put32(b, stream_size);
    dt_mdmp_put32(b, stream_rva);
    dt_mdmp_set32(b, 8, b->nstreams + 1);
    dt_mdmp_set32(b, 12, new_dir);
    *out_size = b->n;
    return b->p;
}
