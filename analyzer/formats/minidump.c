/*
 * minidump.c — MDMP header, stream directory, strings, and the streams every
 * other one depends on: SystemInfo (it decides the CONTEXT layout),
 * ThreadList/ThreadExList, Exception and MiscInfo.  It also runs the parse in
 * dependency order: system info first, then threads, then everything that
 * annotates threads (names, thread info, Breakpad's dump thread), then the
 * memory index, which needs the thread stacks.
 *
 * Policy: a directory entry that points outside the file, a count larger
 * than its stream, a context too short — each is a warning, and the parse
 * keeps whatever is sound.  Only a missing header or directory is fatal.
 */
#include "formats/minidump_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MD_HEADER_SIZE 32
#define MD_DIRENT_SIZE 12
#define MD_THREAD_SIZE 48
#define MD_THREAD_EX_SIZE 64
#define MD_EXCEPTION_STREAM_SIZE 0xA8
#define MD_SYSTEM_INFO_SIZE 56
/* A decoded thread costs ~8x its 48 file bytes; no real process has more. */
#define DT_MD_MAX_THREADS 100000

/* ---- strings ------------------------------------------------------------ */

static size_t utf8_put(char *out, uint32_t cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

char *dt_md_utf16_to_utf8(const uint8_t *p, size_t nbytes)
{
    size_t units = nbytes / 2;
    /* Each UTF-16 unit yields at most 3 UTF-8 bytes (a pair yields 4). */
    char *out = malloc(units * 3 + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < units; i++) {
        uint32_t u = dt_le16(p + 2 * i);
        if (u == 0)
            break;
        if (u >= 0xD800 && u <= 0xDBFF && i + 1 < units) {
            uint32_t lo = dt_le16(p + 2 * (i + 1));
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
                o += utf8_put(out + o, 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00));
                i++;
                continue;
            }
        }
        if (u >= 0xD800 && u <= 0xDFFF)
            u = 0xFFFD;
        o += utf8_put(out + o, u);
    }
    out[o] = '\0';
    return out;
}

char *dt_md_strndup(const uint8_t *p, size_t n)
{
    size_t len = 0;
    while (len < n && p[len])
        len++;
    char *s = malloc(len + 1);
    if (!s)
        return NULL;
    memcpy(s, p, len);
    s[len] = '\0';
    return s;
}

char *dt_md_read_string(dt_minidump *md, uint64_t rva, const char *what)
{
    uint32_t len;
    if (rva == 0)
        return NULL;
    if (!dt_view_u32(md->file, rva, &len)) {
        dt_warn(&md->warnings, "%s: string at 0x%llx is outside the file", what,
                (unsigned long long)rva);
        return NULL;
    }
    uint64_t avail = md->file.size - (rva + 4);
    uint64_t n = len;
    if (n > avail) {
        dt_warn(&md->warnings, "%s: string at 0x%llx claims %u bytes, file has %llu", what,
                (unsigned long long)rva, len, (unsigned long long)avail);
        n = avail;
    }
    if (n > DT_MD_MAX_STRING_BYTES)
        n = DT_MD_MAX_STRING_BYTES;
    if (n > md->string_budget) {
        if (!md->string_budget_spent)
            dt_warn(&md->warnings, "%s at 0x%llx: the strings read so far add up to more than twice the file's "
                    "size (records sharing or overlapping one string); this and later strings are cut",
                    what, (unsigned long long)rva);
        md->string_budget_spent = true;
        n = md->string_budget;
    }
    md->string_budget -= n;
    if (n == 0 && len != 0)
        return NULL;
    return dt_md_utf16_to_utf8(md->file.data + rva + 4, (size_t)n);
}

void dt_md_format_guid(const uint8_t *g, char out[37])
{
    snprintf(out, 37, "%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x", dt_le32(g),
             dt_le16(g + 4), dt_le16(g + 6), g[8], g[9], g[10], g[11], g[12], g[13], g[14],
             g[15]);
}

/* ---- names -------------------------------------------------------------- */

const char *dt_minidump_stream_name(uint32_t type)
{
    static const char *const names[] = {
        [0] = "Unused", [1] = "Reserved0", [2] = "Reserved1",
        [DT_MD_THREAD_LIST] = "ThreadList", [DT_MD_MODULE_LIST] = "ModuleList",
        [DT_MD_MEMORY_LIST] = "MemoryList", [DT_MD_EXCEPTION] = "Exception",
        [DT_MD_SYSTEM_INFO] = "SystemInfo", [DT_MD_THREAD_EX_LIST] = "ThreadExList",
        [DT_MD_MEMORY64_LIST] = "Memory64List", [DT_MD_COMMENT_A] = "CommentA",
        [DT_MD_COMMENT_W] = "CommentW", [DT_MD_HANDLE_DATA] = "HandleData",
        [DT_MD_FUNCTION_TABLE] = "FunctionTable",
        [DT_MD_UNLOADED_MODULE_LIST] = "UnloadedModuleList", [DT_MD_MISC_INFO] = "MiscInfo",
        [DT_MD_MEMORY_INFO_LIST] = "MemoryInfoList", [DT_MD_THREAD_INFO_LIST] = "ThreadInfoList",
        [DT_MD_HANDLE_OPERATION_LIST] = "HandleOperationList", [DT_MD_TOKEN] = "Token",
        [DT_MD_JAVASCRIPT_DATA] = "JavaScriptData", [DT_MD_SYSTEM_MEMORY_INFO] = "SystemMemoryInfo",
        [DT_MD_PROCESS_VM_COUNTERS] = "ProcessVmCounters", [DT_MD_IPT_TRACE] = "IptTrace",
        [DT_MD_THREAD_NAMES] = "ThreadNames",
    };
    if (type < sizeof names / sizeof names[0])
        return names[type];
    switch (type) {
    case DT_MD_BREAKPAD_INFO: return "BreakpadInfo";
    case DT_MD_BREAKPAD_ASSERTION_INFO: return "BreakpadAssertionInfo";
    case 0x47670003: return "LinuxCpuInfo";
    case 0x47670004: return "LinuxProcStatus";
    case 0x47670005: return "LinuxLsbRelease";
    case 0x47670006: return "LinuxCmdLine";
    case 0x47670007: return "LinuxEnviron";
    case 0x47670008: return "LinuxAuxv";
    case 0x47670009: return "LinuxMaps";
    case 0x4767000A: return "LinuxDsoDebug";
    case DT_MD_CRASHPAD_INFO: return "CrashpadInfo";
    case 0x4B6B0001: return "KaskoData";
    case 0x4B6B0002: return "StabilityReport";
    case 0xFFF0: return "WineLinuxLibraries";
    default: return NULL;
    }
}

/* ---- lookups ------------------------------------------------------------ */

/* Thread lookups by id come once per ThreadNames/ThreadInfoList entry, and
 * a hostile file can hold many of both: keep them logarithmic. */
dt_md_thread *dt_md_thread_by_id(dt_minidump *md, uint32_t tid)
{
    if (!md->thread_index) {
        for (size_t i = 0; i < md->nthreads; i++)
            if (md->threads[i].thread_id == tid)
                return &md->threads[i];
        return NULL;
    }
    size_t lo = 0, hi = md->nthreads;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if ((uint32_t)(md->thread_index[mid] >> 32) < tid)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < md->nthreads && (uint32_t)(md->thread_index[lo] >> 32) == tid)
        return &md->threads[(uint32_t)md->thread_index[lo]];
    return NULL;
}

const dt_md_thread *dt_minidump_find_thread(const dt_minidump *md, uint32_t tid)
{
    return dt_md_thread_by_id((dt_minidump *)md, tid);
}

const dt_cpu_context *dt_minidump_thread_context(const dt_minidump *md, const dt_md_thread *t)
{
    if (!t)
        return NULL;
    if (md->exception.present && md->exception.has_context &&
        md->exception.thread_id == t->thread_id)
        return &md->exception.context;
    return t->has_context ? &t->context : NULL;
}

unsigned dt_minidump_pointer_size(const dt_minidump *md)
{
    return md->system.arch == DT_ARCH_X86 || md->system.arch == DT_ARCH_ARM ? 4 : 8;
}

const dt_addrspace *dt_minidump_addrspace(const dt_minidump *md)
{
    return dt_user_memory_addrspace(&md->memory);
}

/* ---- contexts ----------------------------------------------------------- */

/* When SystemInfo is missing, the CONTEXT size is the best hint of the
 * architecture (formats.md A.11 sizes). */
static dt_cpu_arch guess_arch_from_context_size(uint32_t size)
{
    if (size >= DT_CONTEXT_AMD64_SIZE)
        return DT_ARCH_AMD64;
    if (size == DT_CONTEXT_ARM64_SIZE)
        return DT_ARCH_ARM64;
    if (size >= DT_CONTEXT_X86_SIZE && size <= 0x2CC)
        return DT_ARCH_X86;
    return DT_ARCH_UNKNOWN;
}

static bool read_context(dt_minidump *md, uint32_t size, uint32_t rva, dt_cpu_context *out,
                         const char *what, uint32_t tid)
{
    if (size == 0 || rva == 0)
        return false;
    dt_view rec;
    if (!dt_view_sub(md->file, rva, size, &rec)) {
        rec = dt_view_tail(md->file, rva);
        dt_warn(&md->warnings, "%s of thread 0x%x: CONTEXT at 0x%x (%u bytes) runs past the end of the file",
                what, tid, rva, size);
    }
    dt_error e = { 0 };
    if (dt_cpu_context_parse(md->system.arch, rec, out, &e) != DT_OK) {
        dt_warn(&md->warnings, "%s of thread 0x%x: %s", what, tid, e.message);
        return false;
    }
    return true;
}

/* ---- small fixed streams ------------------------------------------------ */

static void parse_system_info(dt_minidump *md, dt_view s)
{
    dt_md_system_info *si = &md->system;
    if (s.size < 32) {
        dt_warn(&md->warnings, "SystemInfo is %zu bytes, need %d", s.size, MD_SYSTEM_INFO_SIZE);
        return;
    }
    si->present = true;
    dt_view_u16(s, 0, &si->processor_architecture);
    dt_view_u16(s, 2, &si->processor_level);
    dt_view_u16(s, 4, &si->processor_revision);
    dt_view_u8(s, 6, &si->cpu_count);
    dt_view_u8(s, 7, &si->product_type);
    dt_view_u32(s, 8, &si->major);
    dt_view_u32(s, 12, &si->minor);
    dt_view_u32(s, 16, &si->build);
    dt_view_u32(s, 20, &si->platform_id);
    uint32_t csd_rva = 0;
    dt_view_u32(s, 24, &csd_rva);
    dt_view_u16(s, 28, &si->suite_mask);
    si->arch = dt_cpu_arch_from_processor_architecture(si->processor_architecture);
    if (si->arch == DT_ARCH_X86) {
        const uint8_t *v = dt_view_ptr(s, 32, 12);
        if (v) {
            for (int i = 0; i < 12; i++)
                si->vendor_id[i] = (v[i] >= 0x20 && v[i] < 0x7F) ? (char)v[i] : '\0';
            si->vendor_id[12] = '\0';
        }
        dt_view_u32(s, 44, &si->cpu_version);
        dt_view_u32(s, 48, &si->cpu_features);
        dt_view_u32(s, 52, &si->amd_features);
    } else {
        dt_view_u64(s, 32, &si->processor_features[0]);
        dt_view_u64(s, 40, &si->processor_features[1]);
    }
    si->csd_version = dt_md_read_string(md, csd_rva, "SystemInfo CSDVersion");
    if (si->arch == DT_ARCH_UNKNOWN)
        dt_warn(&md->warnings, "SystemInfo: processor architecture %u is not supported",
                si->processor_architecture);
}

/* A fixed WCHAR[n] field of MiscInfo, when it lies within the stream. */
static char *misc_wstr(dt_view s, size_t off, size_t bytes)
{
    const uint8_t *p = dt_view_ptr(s, off, bytes);
    return p ? dt_md_utf16_to_utf8(p, bytes) : NULL;
}

static void parse_misc_info(dt_minidump *md, dt_view s)
{
    dt_md_misc_info *mi = &md->misc;
    uint32_t claimed;
    if (!dt_view_u32(s, 0, &claimed) || s.size < 0x18) {
        dt_warn(&md->warnings, "MiscInfo is %zu bytes, need 24", s.size);
        return;
    }
    /* Trust SizeOfInfo only as far as the stream really extends. */
    uint32_t size = claimed < s.size ? claimed : (uint32_t)s.size;
    if (claimed > s.size)
        dt_warn(&md->warnings, "MiscInfo: SizeOfInfo 0x%x exceeds stream size 0x%zx", claimed, s.size);
    dt_view v = dt_view_make(s.data, size);
    mi->present = true;
    mi->size_of_info = claimed;
    dt_view_u32(v, 4, &mi->flags1);
    if (mi->flags1 & 0x1)
        mi->has_pid = dt_view_u32(v, 8, &mi->pid);
    if (mi->flags1 & 0x2) {
        mi->has_times = dt_view_u32(v, 12, &mi->create_time) && dt_view_u32(v, 16, &mi->user_time) &&
                        dt_view_u32(v, 20, &mi->kernel_time);
    }
    if (size >= 0x2C && (mi->flags1 & 0x4)) {
        mi->has_power = true;
        dt_view_u32(v, 0x18, &mi->max_mhz);
        dt_view_u32(v, 0x1C, &mi->current_mhz);
        dt_view_u32(v, 0x20, &mi->mhz_limit);
        dt_view_u32(v, 0x24, &mi->max_idle_state);
        dt_view_u32(v, 0x28, &mi->current_idle_state);
    }
    if (size >= 0xE8) {
        if (mi->flags1 & 0x10)
            mi->has_integrity = dt_view_u32(v, 0x2C, &mi->integrity_level);
        if (mi->flags1 & 0x20)
            mi->has_execute_flags = dt_view_u32(v, 0x30, &mi->execute_flags);
        if (mi->flags1 & 0x80)
            mi->has_protected = dt_view_u32(v, 0x34, &mi->protected_process);
        if (mi->flags1 & 0x40) {
            uint32_t bias = 0;
            mi->has_timezone = dt_view_u32(v, 0x38, &mi->time_zone_id) && dt_view_u32(v, 0x3C, &bias);
            mi->tz_bias = (int32_t)bias;
            mi->tz_standard_name = misc_wstr(v, 0x40, 64);
            mi->tz_daylight_name = misc_wstr(v, 0x94, 64);
        }
    }
    if (size >= 0x340 && (mi->flags1 & 0x100)) {
        mi->build_string = misc_wstr(v, 0xE8, 520);
        mi->dbg_build_string = misc_wstr(v, 0x2F0, 80);
    }
    if (size >= 0x554 && (mi->flags1 & 0x200))
        mi->has_cookie = dt_view_u32(v, 0x550, &mi->process_cookie);
}

static void parse_exception(dt_minidump *md, dt_view s)
{
    dt_md_exception *ex = &md->exception;
    if (s.size < 0x20) {
        dt_warn(&md->warnings, "Exception stream is %zu bytes, need 0x%x", s.size,
                MD_EXCEPTION_STREAM_SIZE);
        return;
    }
    ex->present = true;
    dt_view_u32(s, 0, &ex->thread_id);
    dt_view_u32(s, 8, &ex->code);
    dt_view_u32(s, 12, &ex->flags);
    dt_view_u64(s, 16, &ex->record);
    dt_view_u64(s, 24, &ex->address);
    dt_view_u32(s, 32, &ex->nparams);
    uint32_t n = ex->nparams < 15 ? ex->nparams : 15;
    if (ex->nparams > 15)
        dt_warn(&md->warnings, "Exception: NumberParameters %u exceeds 15", ex->nparams);
    for (uint32_t i = 0; i < n; i++)
        if (!dt_view_u64(s, 40 + 8 * (uint64_t)i, &ex->params[i]))
            break;
    uint32_t csize = 0, crva = 0;
    if (dt_view_u32(s, 0xA0, &csize) && dt_view_u32(s, 0xA4, &crva))
        ex->has_context = read_context(md, csize, crva, &ex->context, "exception context", ex->thread_id);
    else
        dt_warn(&md->warnings, "Exception stream is %zu bytes: no thread context", s.size);
    /* 32-bit targets keep 32-bit addresses; some writers leave junk above. */
    if (dt_minidump_pointer_size(md) == 4)
        ex->address &= 0xFFFFFFFFu;
}

static void parse_thread_list(dt_minidump *md, dt_view s, bool ex)
{
    uint32_t claimed;
    size_t entry = ex ? MD_THREAD_EX_SIZE : MD_THREAD_SIZE;
    if (!dt_view_u32(s, 0, &claimed)) {
        dt_warn(&md->warnings, "%s is empty", ex ? "ThreadExList" : "ThreadList");
        return;
    }
    bool clamped;
    uint64_t n = dt_view_clamp_count(s, 4, entry, claimed, &clamped);
    if (clamped)
        dt_warn(&md->warnings, "%s claims %u threads, stream holds %llu",
                ex ? "ThreadExList" : "ThreadList", claimed, (unsigned long long)n);
    if (n > DT_MD_MAX_THREADS) {
        dt_warn(&md->warnings, "thread list cut to %d threads", DT_MD_MAX_THREADS);
        n = DT_MD_MAX_THREADS;
    }
    if (n == 0)
        return;
    md->threads = calloc((size_t)n, sizeof *md->threads);
    if (!md->threads) {
        dt_warn(&md->warnings, "out of memory for %llu threads", (unsigned long long)n);
        return;
    }
    md->threads_are_ex = ex;
    /* Without SystemInfo, take the architecture from the first context. */
    if (md->system.arch == DT_ARCH_UNKNOWN && !md->system.present) {
        uint32_t csize = 0;
        dt_view_u32(s, 4 + 0x28, &csize);
        md->system.arch = guess_arch_from_context_size(csize);
        if (md->system.arch != DT_ARCH_UNKNOWN)
            dt_warn(&md->warnings, "no SystemInfo: architecture %s guessed from the context size",
                    dt_cpu_arch_name(md->system.arch));
    }
    for (uint64_t i = 0; i < n; i++) {
        const uint8_t *p = s.data + 4 + i * entry;
        dt_md_thread *t = &md->threads[md->nthreads++];
        t->thread_id = dt_le32(p);
        t->suspend_count = dt_le32(p + 4);
        t->priority_class = dt_le32(p + 8);
        t->priority = dt_le32(p + 12);
        t->teb = dt_le64(p + 16);
        t->stack_start = dt_le64(p + 24);
        t->stack_size = dt_le32(p + 32);
        t->stack_rva = dt_le32(p + 36);
        t->stack_in_file = t->stack_rva != 0 && t->stack_size != 0 &&
                           dt_view_has(md->file, t->stack_rva, t->stack_size);
        uint32_t csize = dt_le32(p + 40), crva = dt_le32(p + 44);
        t->has_context = read_context(md, csize, crva, &t->context, "context", t->thread_id);
        if (!t->has_context && (csize == 0 || crva == 0))
            dt_warn(&md->warnings, "thread 0x%x has no context", t->thread_id);
    }
}

static int by_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void index_threads(dt_minidump *md)
{
    if (md->nthreads < 2)
        return;
    md->thread_index = malloc(md->nthreads * sizeof *md->thread_index);
    if (!md->thread_index)
        return; /* lookups fall back to a linear scan */
    for (size_t i = 0; i < md->nthreads; i++)
        md->thread_index[i] = ((uint64_t)md->threads[i].thread_id << 32) | (uint32_t)i;
    qsort(md->thread_index, md->nthreads, sizeof *md->thread_index, by_u64);
}

/* ---- directory and driver ------------------------------------------------ */

static void free_contents(dt_minidump *md)
{
    free(md->streams);
    free(md->system.csd_version);
    free(md->misc.tz_standard_name);
    free(md->misc.tz_daylight_name);
    free(md->misc.build_string);
    free(md->misc.dbg_build_string);
    for (size_t i = 0; i < md->nthreads; i++)
        free(md->threads[i].name);
    free(md->threads);
    free(md->thread_index);
    dt_module_list_free(&md->modules);
    free(md->main_module_path);
    for (size_t i = 0; i < md->nunloaded; i++)
        free(md->unloaded[i].name);
    free(md->unloaded);
    for (size_t i = 0; i < md->nhandles; i++) {
        free(md->handles[i].type_name);
        free(md->handles[i].object_name);
    }
    free(md->handles);
    free(md->regions);
    free(md->assertion.expression);
    free(md->assertion.function);
    free(md->assertion.file);
    free(md->comment_a);
    free(md->comment_w);
    dt_user_memory_free(&md->memory);
    dt_warnings_free(&md->warnings);
}

void dt_minidump_free(dt_minidump *md)
{
    if (!md)
        return;
    free_contents(md);
    free(md);
}

/* The stream's bytes clipped to the file (read_directory has warned). */
static dt_view stream_view(dt_minidump *md, const dt_md_stream *st)
{
    dt_view v;
    if (dt_view_sub(md->file, st->rva, st->size, &v))
        return v;
    return dt_view_tail(md->file, st->rva);
}

/* First directory entry of a type; later duplicates are reported once. */
static const dt_md_stream *find_stream(dt_minidump *md, uint32_t type)
{
    const dt_md_stream *first = NULL;
    for (size_t i = 0; i < md->nstreams; i++) {
        if (md->streams[i].type != type)
            continue;
        if (!first) {
            first = &md->streams[i];
        } else {
            const char *name = dt_minidump_stream_name(type);
            dt_warn(&md->warnings, "duplicate %s stream (0x%x) ignored", name ? name : "?", type);
        }
    }
    return first;
}

static dt_status read_directory(dt_minidump *md, dt_error *err)
{
    const uint8_t *h = dt_view_ptr(md->file, 0, MD_HEADER_SIZE);
    if (!h) {
        if (md->file.size >= 4 && dt_le32(md->file.data) == DT_MDMP_SIGNATURE)
            return dt_error_set(err, DT_ERR_TRUNCATED, "minidump header truncated (%zu bytes, need 32)",
                                md->file.size);
        return dt_error_set(err, DT_ERR_FORMAT, "not a minidump (file is %zu bytes)", md->file.size);
    }
    if (dt_le32(h) != DT_MDMP_SIGNATURE)
        return dt_error_set(err, DT_ERR_FORMAT, "not a minidump (no MDMP signature)");
    md->version = dt_le32(h + 4);
    md->stream_count = dt_le32(h + 8);
    md->directory_rva = dt_le32(h + 12);
    md->checksum = dt_le32(h + 16);
    md->time_date_stamp = dt_le32(h + 20);
    md->flags = dt_le64(h + 24);
    if ((md->version & 0xFFFF) != DT_MDMP_VERSION)
        dt_warn(&md->warnings, "unexpected minidump version 0x%x", md->version);

    bool clamped;
    uint64_t n = dt_view_clamp_count(md->file, md->directory_rva, MD_DIRENT_SIZE,
                                     md->stream_count, &clamped);
    if (clamped)
        dt_warn(&md->warnings, "stream directory claims %u entries, file holds %llu",
                md->stream_count, (unsigned long long)n);
    if (n > DT_MD_MAX_STREAMS) {
        dt_warn(&md->warnings, "stream directory cut to %d entries", DT_MD_MAX_STREAMS);
        n = DT_MD_MAX_STREAMS;
    }
    if (n == 0)
        return dt_error_set(err, DT_ERR_TRUNCATED,
                            "minidump stream directory (%u entries at 0x%x) is outside the %zu-byte file",
                            md->stream_count, md->directory_rva, md->file.size);
    md->streams = calloc((size_t)n, sizeof *md->streams);
    if (!md->streams)
        return dt_error_set(err, DT_ERR_NOMEM, "out of memory for the stream directory");
    for (uint64_t i = 0; i < n; i++) {
        const uint8_t *e = md->file.data + md->directory_rva + i * MD_DIRENT_SIZE;
        dt_md_stream st = { dt_le32(e), dt_le32(e + 4), dt_le32(e + 8), false };
        if (st.type == DT_MD_UNUSED)
            continue;
        st.in_file = dt_view_has(md->file, st.rva, st.size);
        if (!st.in_file) {
            const char *name = dt_minidump_stream_name(st.type);
            dt_warn(&md->warnings, "stream %s (0x%x) at 0x%x, %u bytes, runs past the end of the file",
                    name ? name : "?", st.type, st.rva, st.size);
        }
        md->streams[md->nstreams++] = st;
    }
    return DT_OK;
}

/* Breakpad's own dumping thread is not part of the process's state. */
static void mark_dump_thread(dt_minidump *md)
{
    if (!md->breakpad.present || !(md->breakpad.validity & 1))
        return;
    dt_md_thread *t = dt_md_thread_by_id(md, md->breakpad.dump_thread_id);
    if (t)
        t->is_dump_thread = true;
}

static void build_memory(dt_minidump *md)
{
    dt_user_memory_init(&md->memory, md->file, dt_minidump_pointer_size(md));
    const dt_md_stream *st;
    if ((st = find_stream(md, DT_MD_MEMORY_LIST)))
        dt_md_parse_memory_list(md, stream_view(md, st));
    if ((st = find_stream(md, DT_MD_MEMORY64_LIST)))
        dt_md_parse_memory64_list(md, stream_view(md, st));
    /* Thread stacks usually repeat a memory-list range, but some writers
     * (Breakpad) list them only here. */
    for (size_t i = 0; i < md->nthreads; i++) {
        const dt_md_thread *t = &md->threads[i];
        if (t->stack_rva && t->stack_size)
            dt_user_memory_add(&md->memory, t->stack_start, t->stack_size, t->stack_rva);
    }
    dt_user_memory_finish(&md->memory);
    if (md->memory.clipped_bytes)
        dt_warn(&md->warnings, "%llu bytes of captured memory lie beyond the end of the file",
                (unsigned long long)md->memory.clipped_bytes);
}

dt_status dt_minidump_parse(dt_view file, dt_minidump **out, dt_error *err)
{
    *out = NULL;
    dt_minidump *md = calloc(1, sizeof *md);
    if (!md)
        return dt_error_set(err, DT_ERR_NOMEM, "out of memory");
    md->file = file;
    md->string_budget = 2 * (uint64_t)file.size + DT_MD_MAX_STRING_BYTES;
    dt_status st = read_directory(md, err);
    if (st != DT_OK) {
        dt_minidump_free(md);
        return st;
    }

    const dt_md_stream *s;
    if ((s = find_stream(md, DT_MD_SYSTEM_INFO)))
        parse_system_info(md, stream_view(md, s));
    else
        dt_warn(&md->warnings, "no SystemInfo stream");
    if ((s = find_stream(md, DT_MD_MISC_INFO)))
        parse_misc_info(md, stream_view(md, s));
    if ((s = find_stream(md, DT_MD_THREAD_LIST)))
        parse_thread_list(md, stream_view(md, s), false);
    else if ((s = find_stream(md, DT_MD_THREAD_EX_LIST)))
        parse_thread_list(md, stream_view(md, s), true);
    else
        dt_warn(&md->warnings, "no ThreadList stream");
    index_threads(md);
    if ((s = find_stream(md, DT_MD_EXCEPTION)))
        parse_exception(md, stream_view(md, s));
    if ((s = find_stream(md, DT_MD_MODULE_LIST)))
        dt_md_parse_module_list(md, stream_view(md, s));
    else
        dt_warn(&md->warnings, "no ModuleList stream");

    static const struct {
        uint32_t type;
        void (*parse)(dt_minidump *, dt_view);
    } others[] = {
        { DT_MD_UNLOADED_MODULE_LIST, dt_md_parse_unloaded_module_list },
        { DT_MD_HANDLE_DATA, dt_md_parse_handle_data },
        { DT_MD_MEMORY_INFO_LIST, dt_md_parse_memory_info_list },
        { DT_MD_THREAD_INFO_LIST, dt_md_parse_thread_info_list },
        { DT_MD_THREAD_NAMES, dt_md_parse_thread_names },
        { DT_MD_TOKEN, dt_md_parse_token },
        { DT_MD_PROCESS_VM_COUNTERS, dt_md_parse_vm_counters },
        { DT_MD_SYSTEM_MEMORY_INFO, dt_md_parse_system_memory_info },
        { DT_MD_COMMENT_A, dt_md_parse_comment_a },
        { DT_MD_COMMENT_W, dt_md_parse_comment_w },
        { DT_MD_BREAKPAD_INFO, dt_md_parse_breakpad_info },
        { DT_MD_CRASHPAD_INFO, dt_md_parse_crashpad_info },
        { DT_MD_BREAKPAD_ASSERTION_INFO, dt_md_parse_assertion_info },
    };
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
        if ((s = find_stream(md, others[i].type)))
            others[i].parse(md, stream_view(md, s));
    mark_dump_thread(md);
    build_memory(md);
    *out = md;
    return DT_OK;
}
