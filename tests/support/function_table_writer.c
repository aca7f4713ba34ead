/*
 * function_table_writer.c — see function_table_writer.h.  Layouts (x64):
 * MINIDUMP_FUNCTION_TABLE_STREAM {SizeOfHeader 24, SizeOfDescriptor 32,
 * SizeOfNativeDescriptor 0x70, SizeOfFunctionEntry 12, NumberOfDescriptors,
 * SizeOfAlignPad 0}; MINIDUMP_FUNCTION_TABLE_DESCRIPTOR {MinimumAddress,
 * MaximumAddress, BaseAddress, EntryCount, SizeOfAlignPad}; the native
 * DYNAMIC_FUNCTION_TABLE (Windows 10: ListEntry, FunctionTable, TimeStamp,
 * MinimumAddress, MaximumAddress, BaseAddress, Callback, Context,
 * OutOfProcessCallbackDll, Type, EntryCount, TreeNode) — 0x70 bytes, as in
 * the real V8 dump user/node-minidump__windows.dmp.
 */
#include "function_table_writer.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    uint8_t *p;
    size_t n, cap;
} buf;

static void put(buf *b, const void *d, size_t n)
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

static void put32(buf *b, uint32_t v) { put(b, &v, 4); }
static void put64(buf *b, uint64_t v) { put(b, &v, 8); }

uint8_t *dt_test_add_function_table_stream(const uint8_t *dump, size_t size, const dt_test_function_table *t,
                                           size_t n, size_t *out_size)
{
    if (size < 32 || memcmp(dump, "MDMP", 4) != 0)
        return NULL;
    uint32_t nstreams, dir;
    memcpy(&nstreams, dump + 8, 4);
    memcpy(&dir, dump + 12, 4);
    if ((uint64_t)dir + (uint64_t)nstreams * 12 > size)
        return NULL;
    buf b = { 0 };
    put(&b, dump, size);
    while (b.n % 8)
        put(&b, "", 1);
    uint32_t stream_rva = (uint32_t)b.n;
    put32(&b, 24);
    put32(&b, 32);
    put32(&b, 0x70);
    put32(&b, 12);
    put32(&b, (uint32_t)n);
    put32(&b, 0);
    for (size_t i = 0; i < n; i++) {
        put64(&b, t[i].min_address);
        put64(&b, t[i].max_address);
        put64(&b, t[i].base);
        put32(&b, t[i].claimed_count ? t[i].claimed_count : t[i].count);
        put32(&b, 0);
        uint8_t native[0x70] = { 0 };
        memcpy(native + 0x20, &t[i].min_address, 8);
        memcpy(native + 0x28, &t[i].max_address, 8);
        memcpy(native + 0x30, &t[i].base, 8);
        memcpy(native + 0x54, &t[i].count, 4); /* Type 0 (RF_SORTED) at 0x50 */
        put(&b, native, sizeof native);
        for (uint32_t k = 0; k < t[i].count; k++)
            for (int j = 0; j < 3; j++)
                put32(&b, t[i].entries[k][j]);
    }
    uint32_t stream_size = (uint32_t)b.n - stream_rva;
    while (b.n % 4)
        put(&b, "", 1);
    /* the directory, moved to the end with the new entry */
    uint32_t new_dir = (uint32_t)b.n;
    put(&b, dump + dir, (size_t)nstreams * 12);
    put32(&b, 13);
    put32(&b, stream_size);
    put32(&b, stream_rva);
    uint32_t ns = nstreams + 1;
    memcpy(b.p + 8, &ns, 4);
    memcpy(b.p + 12, &new_dir, 4);
    *out_size = b.n;
    return b.p;
}
