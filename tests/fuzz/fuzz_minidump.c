/*
 * fuzz_minidump.c — libFuzzer target for the MDMP parser: parse, walk every
 * accessor of the model (threads, contexts, modules, memory reads and maps
 * through the address space), then build the JSON report and render it as
 * text, so every path from hostile bytes to output runs under ASan+UBSan.
 * Seeds: tests/data/user and tests/data/malformed (fuzz_minidump.dirs).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "formats/minidump.h"
#include "report/user_report.h"
#include "triage/rules.h"
#include "triage/triage.h"

static void walk(const dt_minidump *md)
{
    const dt_addrspace *as = dt_minidump_addrspace(md);
    uint8_t buf[512];
    for (size_t i = 0; i < md->nthreads; i++) {
        const dt_md_thread *t = &md->threads[i];
        if (dt_minidump_find_thread(md, t->thread_id) == NULL)
            abort();
        dt_as_read(as, t->stack_start, buf, sizeof buf);
        dt_as_read(as, t->stack_start + t->stack_size - 8, buf, 16);
        const dt_cpu_context *c = dt_minidump_thread_context(md, t);
        uint64_t v;
        if (c && dt_ctx_get(c, dt_cpu_context_sp_reg(c->arch), &v))
            dt_as_ptr(as, v, &v);
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
        dt_as_read(as, r->start + r->size - 1, buf, sizeof buf);
    }
    for (size_t i = 0; i < md->nstreams; i++)
        dt_minidump_stream_name(md->streams[i].type);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dt_minidump *md = NULL;
    if (dt_minidump_parse(dt_view_make(data, size), &md, NULL) != DT_OK)
        return 0;
    walk(md);
    cJSON *u = dt_user_report(md);
    if (u) {
        char *s = cJSON_PrintUnformatted(u);
        if (s) {
            cJSON *back = cJSON_Parse(s);
            if (!back)
                abort(); /* the report must always be valid JSON */
            cJSON_Delete(back);
            free(s);
        }
        dt_rules rules;
        if (dt_rules_default(&rules, NULL) == DT_OK) {
            dt_triage_options topt = { .rules = &rules, .user_memory = dt_minidump_addrspace(md) };
            cJSON *tri = NULL;
            if (dt_triage_build(u, NULL, &topt, &tri, NULL) == DT_OK)
                cJSON_Delete(tri);
            dt_rules_free(&rules);
        }
        char *text = NULL;
        size_t len = 0;
        FILE *out = open_memstream(&text, &len);
        if (out) {
            dt_user_report_text(u, out);
            fclose(out);
            free(text);
        }
        cJSON_Delete(u);
    }
    dt_minidump_free(md);
    return 0;
}
