/*
 * fuzz_minidump_parse.c — libFuzzer target for the MDMP parser alone: the
 * header, the stream directory and every stream reader, then the model's
 * accessors (threads, contexts, modules, memory reads through the address
 * space).  No report is built: fuzz_minidump (the whole-report target) runs
 * ~11 inputs a second because each one walks every stack; this one runs
 * thousands, so the readers get the depth (docs/fuzzing.md).
 * Seeds: tests/data/user and tests/data/malformed (fuzz_minidump_parse.dirs).
 */
#include <stdint.h>
#include <stdlib.h>

#include "formats/minidump.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dt_minidump *md = NULL;
    if (dt_minidump_parse(dt_view_make(data, size), &md, NULL) != DT_OK)
        return 0;
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
    for (size_t i = 0; i < md->modules.count; i++) {
        size_t avail = 0;
        const uint8_t *p = as->map(as->ctx, md->modules.items[i].base, &avail);
        if (p && avail && (p < md->file.data || p + avail > md->file.data + md->file.size))
            abort(); /* map must point into the dump */
    }
    for (size_t i = 0; i < md->memory.count; i++) {
        const dt_user_range *r = &md->memory.ranges[i];
        if (dt_as_read(as, r->start, buf, 1) != 1)
            abort(); /* every indexed byte is readable */
    }
    for (size_t i = 0; i < md->nstreams; i++)
        dt_minidump_stream_name(md->streams[i].type);
    dt_minidump_free(md);
    return 0;
}
