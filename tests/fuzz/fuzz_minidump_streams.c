/*
 * fuzz_minidump_streams.c — libFuzzer target for the MDMP stream readers one
 * by one.  A mutated whole file rarely keeps a valid header and directory,
 * so the stream readers behind them are reached seldom; here the input says
 * which streams to build and the harness writes the header and directory
 * itself:
 *
 *   byte 0        number of streams (1 + b % 4)
 *   per stream    1 byte: index into the table of stream types below,
 *                 2 bytes LE: its size (clipped to what is left)
 *   rest          the streams' bytes, back to back
 *
 * The file is header (32 bytes) + directory (12 bytes a stream) + the
 * streams, so RVAs inside a stream (a module's name, a thread's stack) point
 * into this synthetic file and the fuzzer can learn them.  The model's
 * accessors are then walked as in fuzz_minidump_parse.  MINIDUMP_HEADER and
 * MINIDUMP_DIRECTORY layouts: docs/formats.md (Microsoft's minidumpapiset.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/minidump.h"

static const uint32_t stream_types[] = {
    DT_MD_THREAD_LIST,      DT_MD_MODULE_LIST,         DT_MD_MEMORY_LIST,         DT_MD_EXCEPTION,
    DT_MD_SYSTEM_INFO,      DT_MD_THREAD_EX_LIST,      DT_MD_MEMORY64_LIST,       DT_MD_COMMENT_A,
    DT_MD_COMMENT_W,        DT_MD_HANDLE_DATA,         DT_MD_UNLOADED_MODULE_LIST, DT_MD_MISC_INFO,
    DT_MD_MEMORY_INFO_LIST, DT_MD_THREAD_INFO_LIST,    DT_MD_TOKEN,               DT_MD_SYSTEM_MEMORY_INFO,
    DT_MD_PROCESS_VM_COUNTERS, DT_MD_THREAD_NAMES,     DT_MD_BREAKPAD_INFO,       DT_MD_BREAKPAD_ASSERTION_INFO,
    DT_MD_CRASHPAD_INFO,
};
#define NTYPES (sizeof stream_types / sizeof stream_types[0])

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    unsigned n = 1 + data[0] % 4;
    size_t pos = 1;
    uint32_t types[4], sizes[4];
    for (unsigned i = 0; i < n; i++) {
        if (pos + 3 > size)
            return 0;
        types[i] = stream_types[data[pos] % NTYPES];
        sizes[i] = (uint32_t)data[pos + 1] | (uint32_t)data[pos + 2] << 8;
        pos += 3;
    }
    size_t body = size - pos, hdr = 32 + 12 * (size_t)n;
    uint8_t *file = malloc(hdr + body);
    if (!file)
        return 0;
    memset(file, 0, hdr);
    put32(file, 0x504d444d); /* "MDMP" */
    put32(file + 4, 0xa793);
    put32(file + 8, n);
    put32(file + 12, 32);
    memcpy(file + hdr, data + pos, body);
    size_t off = 0;
    for (unsigned i = 0; i < n; i++) {
        uint32_t len = sizes[i] <= body - off ? sizes[i] : (uint32_t)(body - off);
        put32(file + 32 + 12 * i, types[i]);
        put32(file + 36 + 12 * i, len);
        put32(file + 40 + 12 * i, (uint32_t)(hdr + off));
        off += len;
    }

    dt_minidump *md = NULL;
    if (dt_minidump_parse(dt_view_make(file, hdr + body), &md, NULL) == DT_OK) {
        const dt_addrspace *as = dt_minidump_addrspace(md);
        uint8_t buf[64];
        for (size_t i = 0; i < md->nthreads; i++) {
            const dt_md_thread *t = &md->threads[i];
            if (dt_minidump_find_thread(md, t->thread_id) == NULL)
                abort();
            dt_as_read(as, t->stack_start, buf, sizeof buf);
            const dt_cpu_context *c = dt_minidump_thread_context(md, t);
            uint64_t v;
            if (c && dt_ctx_get(c, dt_cpu_context_ip_reg(c->arch), &v))
                dt_module_list_find(&md->modules, v);
        }
        for (size_t i = 0; i < md->memory.count; i++) {
            if (dt_as_read(as, md->memory.ranges[i].start, buf, 1) != 1)
                abort(); /* every indexed byte is readable */
        }
        dt_minidump_free(md);
    }
    free(file);
    return 0;
}
