/*
 * triage_blocks.c — see triage_blocks.h.  TRIAGE_DUMP64 sits at 0x2000;
 * DataBlocksOffset/Count are its u32s at +0x78/+0x7c; a block is
 * {u64 Address; u32 Offset; u32 Size}.
 */
#include "triage_blocks.h"

#include <stdlib.h>
#include <string.h>

static uint32_t r32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static void w32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static void w64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i)); }

uint8_t *dt_tb_add_block(uint8_t *dump, size_t *size, uint64_t va, const uint8_t *bytes, uint32_t len)
{
    uint8_t *tri = dump + 0x2000;
    uint32_t off = r32(tri + 0x78), count = r32(tri + 0x7c);
    size_t data_at = (*size + 15) & ~(size_t)15;
    size_t array_at = (data_at + len + 15) & ~(size_t)15;
    size_t nsize = array_at + (size_t)(count + 1) * 16;
    uint8_t *n = realloc(dump, nsize);
    if (!n) {
        free(dump);
        return NULL;
    }
    memset(n + *size, 0, nsize - *size);
    memcpy(n + data_at, bytes, len);
    memcpy(n + array_at, n + off, (size_t)count * 16);
    uint8_t *b = n + array_at + (size_t)count * 16;
    w64(b, va);
    w32(b + 8, (uint32_t)data_at);
    w32(b + 12, len);
    w32(n + 0x2000 + 0x78, (uint32_t)array_at);
    w32(n + 0x2000 + 0x7c, count + 1);
    *size = nsize;
    return n;
}
