/*
 * minidump_streams.c — the descriptive streams: HandleData, ThreadInfoList,
 * ThreadNames, Token, ProcessVmCounters, SystemMemoryInfo, CommentA/W,
 * BreakpadInfo, Breakpad's AssertionInfo and CrashpadInfo.
 *
 * None of them is needed to walk a stack, but each answers a question a
 * hang triager asks (what is this thread called, what handle does it wait
 * on, how big is the process).  They are decoded to plain values; tables
 * with a header declaring its own entry size are read with that stride, so
 * newer Windows versions with longer entries still parse.
 */
#include "formats/minidump_internal.h"

#include <stdlib.h>
#include <string.h>

#define MD_HANDLE_MIN_DESCRIPTOR 24
#define MD_THREAD_INFO_MIN_ENTRY 64
#define MD_THREAD_NAME_ENTRY 12
/* Comments are free text; keep the report bounded. */
#define MD_MAX_COMMENT_BYTES 65536

void dt_md_parse_handle_data(dt_minidump *md, dt_view s)
{
    uint32_t hdr, desc, claimed;
    if (!dt_view_u32(s, 0, &hdr) || !dt_view_u32(s, 4, &desc) || !dt_view_u32(s, 8, &claimed)) {
        dt_warn(&md->warnings, "HandleData header truncated");
        return;
    }
    if (hdr < 16 || desc < MD_HANDLE_MIN_DESCRIPTOR) {
        dt_warn(&md->warnings, "HandleData: header %u / descriptor %u bytes too small", hdr, desc);
        return;
    }
    md->has_handle_stream = true;
    bool clamped;
    uint64_t n = dt_view_clamp_count(s, hdr, desc, claimed, &clamped);
    if (clamped)
        dt_warn(&md->warnings, "HandleData claims %u handles, stream holds %llu", claimed,
                (unsigned long long)n);
    if (n == 0)
        return;
    md->handles = calloc((size_t)n, sizeof *md->handles);
    if (!md->handles) {
        dt_warn(&md->warnings, "out of memory for %llu handles", (unsigned long long)n);
        return;
    }
    for (uint64_t i = 0; i < n; i++) {
        const uint8_t *p = s.data + hdr + i * desc;
        dt_md_handle *h = &md->handles[md->nhandles++];
        h->handle = dt_le64(p);
        h->type_name = dt_md_read_string(md, dt_le32(p + 8), "handle type name");
        h->object_name = dt_md_read_string(md, dt_le32(p + 12), "handle object name");
        h->attributes = dt_le32(p + 16);
        h->granted_access = dt_le32(p + 20);
        if (desc >= 32) {
            h->handle_count = dt_le32(p + 24);
            h->pointer_count = dt_le32(p + 28);
        }
        /* MINIDUMP_HANDLE_DESCRIPTOR_2 adds ObjectInfoRva at +32. */
        if (desc >= 40 && dt_le32(p + 32))
            dt_md_parse_handle_object_info(md, h, dt_le32(p + 32));
    }
}

void dt_md_parse_thread_info_list(dt_minidump *md, dt_view s)
{
    uint32_t hdr, entry, claimed;
    if (!dt_view_u32(s, 0, &hdr) || !dt_view_u32(s, 4, &entry) || !dt_view_u32(s, 8, &claimed)) {
        dt_warn(&md->warnings, "ThreadInfoList header truncated");
        return;
    }
    if (hdr < 12 || entry < MD_THREAD_INFO_MIN_ENTRY) {
        dt_warn(&md->warnings, "ThreadInfoList: header %u / entry %u bytes too small", hdr, entry);
        return;
    }
    bool clamped;
    uint64_t n = dt_view_clamp_count(s, hdr, entry, claimed, &clamped);
    if (clamped)
        dt_warn(&md->warnings, "ThreadInfoList claims %u entries, stream holds %llu", claimed,
                (unsigned long long)n);
    for (uint64_t i = 0; i < n; i++) {
        const uint8_t *p = s.data + hdr + i * entry;
        dt_md_thread *t = dt_md_thread_by_id(md, dt_le32(p));
        if (!t || t->has_info)
            continue;
        t->has_info = true;
        t->dump_flags = dt_le32(p + 4);
        t->dump_error = dt_le32(p + 8);
        t->exit_status = dt_le32(p + 12);
        t->create_time = dt_le64(p + 16);
        t->exit_time = dt_le64(p + 24);
        t->kernel_time = dt_le64(p + 32);
        t->user_time = dt_le64(p + 40);
        t->start_address = dt_le64(p + 48);
        t->affinity = dt_le64(p + 56);
    }
}

void dt_md_parse_thread_names(dt_minidump *md, dt_view s)
{
    uint32_t claimed;
    if (!dt_view_u32(s, 0, &claimed)) {
        dt_warn(&md->warnings, "ThreadNames is empty");
        return;
    }
    bool clamped;
    uint64_t n = dt_view_clamp_count(s, 4, MD_THREAD_NAME_ENTRY, claimed, &clamped);
    if (clamped)
        dt_warn(&md->warnings, "ThreadNames claims %u names, stream holds %llu", claimed,
                (unsigned long long)n);
    for (uint64_t i = 0; i < n; i++) {
        const uint8_t *p = s.data + 4 + i * MD_THREAD_NAME_ENTRY;
        uint32_t tid = dt_le32(p);
        uint64_t rva = dt_le64(p + 4);
        dt_md_thread *t = dt_md_thread_by_id(md, tid);
        if (!t) {
            dt_warn(&md->warnings, "ThreadNames names thread 0x%x, which is not in the thread list", tid);
            continue;
        }
        if (t->name)
            continue;
        char *name = dt_md_read_string(md, rva, "thread name");
        if (name && !*name) {
            free(name);
            name = NULL;
        }
        t->name = name;
    }
}

void dt_md_parse_token(dt_minidump *md, dt_view s)
{
    if (!dt_view_u32(s, 0, &md->token.total_size) || !dt_view_u32(s, 4, &md->token.token_count)) {
        dt_warn(&md->warnings, "Token stream header truncated");
        return;
    }
    md->token.present = true;
}

void dt_md_parse_vm_counters(dt_minidump *md, dt_view s)
{
    dt_md_vm_counters *c = &md->vm_counters;
    if (!dt_view_u16(s, 0, &c->revision) || !dt_view_u32(s, 4, &c->page_fault_count)) {
        dt_warn(&md->warnings, "ProcessVmCounters truncated");
        return;
    }
    c->present = true;
    dt_view_u16(s, 2, &c->flags);
    dt_view_u64(s, 8, &c->peak_working_set_size);
    dt_view_u64(s, 16, &c->working_set_size);
    dt_view_u64(s, 24, &c->quota_peak_paged_pool);
    dt_view_u64(s, 32, &c->quota_paged_pool);
    dt_view_u64(s, 40, &c->quota_peak_nonpaged_pool);
    dt_view_u64(s, 48, &c->quota_nonpaged_pool);
    dt_view_u64(s, 56, &c->pagefile_usage);
    dt_view_u64(s, 64, &c->peak_pagefile_usage);
    if (c->revision >= 2 && s.size >= 112) {
        c->has_v2 = true;
        dt_view_u64(s, 72, &c->peak_virtual_size);
        dt_view_u64(s, 80, &c->virtual_size);
        dt_view_u64(s, 88, &c->private_usage);
        dt_view_u64(s, 96, &c->private_working_set_size);
        dt_view_u64(s, 104, &c->shared_commit_usage);
    } else {
        dt_view_u64(s, 72, &c->private_usage);
    }
}

void dt_md_parse_system_memory_info(dt_minidump *md, dt_view s)
{
    if (!dt_view_u16(s, 0, &md->system_memory.revision) || !dt_view_u16(s, 2, &md->system_memory.flags)) {
        dt_warn(&md->warnings, "SystemMemoryInfo truncated");
        return;
    }
    md->system_memory.present = true;
    md->system_memory.size = (uint32_t)(s.size > UINT32_MAX ? UINT32_MAX : s.size);
}

void dt_md_parse_comment_a(dt_minidump *md, dt_view s)
{
    size_t n = s.size < MD_MAX_COMMENT_BYTES ? s.size : MD_MAX_COMMENT_BYTES;
    md->comment_a = dt_md_strndup(s.data ? s.data : (const uint8_t *)"", s.data ? n : 0);
}

void dt_md_parse_comment_w(dt_minidump *md, dt_view s)
{
    size_t n = s.size < MD_MAX_COMMENT_BYTES ? s.size : MD_MAX_COMMENT_BYTES;
    md->comment_w = dt_md_utf16_to_utf8(s.data ? s.data : (const uint8_t *)"", s.data ? n : 0);
}

void dt_md_parse_breakpad_info(dt_minidump *md, dt_view s)
{
    dt_md_breakpad_info *b = &md->breakpad;
    if (!dt_view_u32(s, 0, &b->validity) || !dt_view_u32(s, 4, &b->dump_thread_id) ||
        !dt_view_u32(s, 8, &b->requesting_thread_id)) {
        dt_warn(&md->warnings, "BreakpadInfo truncated");
        return;
    }
    b->present = true;
}

void dt_md_parse_crashpad_info(dt_minidump *md, dt_view s)
{
    dt_md_crashpad_info *c = &md->crashpad;
    if (!dt_view_u32(s, 0, &c->version)) {
        dt_warn(&md->warnings, "CrashpadInfo truncated");
        return;
    }
    c->present = true;
    const uint8_t *g = dt_view_ptr(s, 4, 32);
    if (g) {
        dt_md_format_guid(g, c->report_id);
        dt_md_format_guid(g + 16, c->client_id);
    }
}

void dt_md_parse_assertion_info(dt_minidump *md, dt_view s)
{
    /* Three WCHAR[128] strings, then u32 line and u32 type. */
    dt_md_assertion_info *a = &md->assertion;
    const uint8_t *p = dt_view_ptr(s, 0, 776);
    if (!p) {
        dt_warn(&md->warnings, "BreakpadAssertionInfo is %zu bytes, need 776", s.size);
        return;
    }
    a->present = true;
    a->expression = dt_md_utf16_to_utf8(p, 256);
    a->function = dt_md_utf16_to_utf8(p + 256, 256);
    a->file = dt_md_utf16_to_utf8(p + 512, 256);
    a->line = dt_le32(p + 768);
    a->type = dt_le32(p + 772);
}
