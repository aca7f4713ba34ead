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

#include <string.h>

#include "mdmp_append.h"

uint8_t *dt_test_add_function_table_stream(const uint8_t *dump, size_t size, const dt_test_function_table *t,
                                           size_t n, size_t *out_size)
{
    dt_mdmp_append b;
    if (!dt_mdmp_append_begin(&b, dump, size))
        return NULL;
    uint32_t stream_rva = (uint32_t)b.n;
    dt_mdmp_put32(&b, 24);
    dt_mdmp_put32(&b, 32);
    dt_mdmp_put32(&b, 0x70);
    dt_mdmp_put32(&b, 12);
    dt_mdmp_put32(&b, (uint32_t)n);
    dt_mdmp_put32(&b, 0);
    for (size_t i = 0; i < n; i++) {
        dt_mdmp_put64(&b, t[i].min_address);
        dt_mdmp_put64(&b, t[i].max_address);
        dt_mdmp_put64(&b, t[i].base);
        dt_mdmp_put32(&b, t[i].claimed_count ? t[i].claimed_count : t[i].count);
        dt_mdmp_put32(&b, 0);
        uint8_t native[0x70] = { 0 };
        memcpy(native + 0x20, &t[i].min_address, 8);
        memcpy(native + 0x28, &t[i].max_address, 8);
        memcpy(native + 0x30, &t[i].base, 8);
        memcpy(native + 0x54, &t[i].count, 4); /* Type 0 (RF_SORTED) at 0x50 */
        dt_mdmp_put(&b, native, sizeof native);
        for (uint32_t k = 0; k < t[i].count; k++)
            for (int j = 0; j < 3; j++)
                dt_mdmp_put32(&b, t[i].entries[k][j]);
    }
    uint32_t stream_size = (uint32_t)b.n - stream_rva;
    return dt_mdmp_append_finish(&b, 13 /* FunctionTableStream */, stream_rva, stream_size, out_size);
}
