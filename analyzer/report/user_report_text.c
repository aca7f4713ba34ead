/*
 * user_report_text.c — the "user" JSON object rendered as a debugger-style
 * summary: what WinDbg's `|` (process), `.exr -1` (exception), `~`
 * (threads) and `lm` (modules) would tell, plus handles, memory and
 * warnings.
 *
 * It reads only the JSON, never the minidump, so text and JSON cannot
 * disagree; every member is optional so a partial report still renders.
 * Dump-derived strings were made valid UTF-8 when the JSON was built;
 * control characters are replaced here so they cannot drive a terminal.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/json.h"
#include "report/user_report.h"

static void put_clean(FILE *out, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        fputc(*p < 0x20 || *p == 0x7F ? '?' : *p, out);
}

/* s with control characters replaced, into buf (cut at n-1 bytes). */
static const char *cleaned(const char *s, char *buf, size_t n)
{
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && o + 1 < n; p++)
        buf[o++] = (char)(*p < 0x20 || *p == 0x7F ? '?' : *p);
    buf[o] = '\0';
    return buf;
}

static void section_process(const cJSON *user, FILE *out)
{
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(user, "dump");
    const cJSON *si = cJSON_GetObjectItemCaseSensitive(user, "system_info");
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(user, "process");
    fprintf(out, "Dump:      user-mode minidump, written %s, flags %s\n", dt_or(dt_json_get_str(d, "time"), "?"),
            dt_or(dt_json_get_str(d, "flags"), "?"));
    fprintf(out, "System:    ");
    put_clean(out, dt_or(dt_json_get_str(si, "os"), "unknown"));
    fputc(' ', out);
    put_clean(out, dt_or(dt_json_get_str(si, "os_ver"), "?"));
    fprintf(out, ", %s, %g CPU(s)", dt_or(dt_json_get_str(si, "cpu_arch"), "unknown"), dt_json_get_num(si, "cpu_count", 0));
    const char *cpu = dt_json_get_str(si, "cpu_info");
    if (cpu) {
        fputs(" (", out);
        put_clean(out, cpu);
        fputc(')', out);
    }
    fputc('\n', out);
    const cJSON *pid = cJSON_GetObjectItemCaseSensitive(p, "pid");
    fprintf(out, "Process:   ");
    if (cJSON_IsNumber(pid))
        fprintf(out, "pid %" PRIu64 " (0x%" PRIx64 ")  ", dt_json_get_uint(p, "pid"), dt_json_get_uint(p, "pid"));
    else
        fprintf(out, "pid unknown  ");
    put_clean(out, dt_or(dt_json_get_str(p, "image"), "(image unknown)"));
    fputc('\n', out);
    const char *created = dt_json_get_str(p, "create_time");
    if (created)
        fprintf(out, "           started %s, uptime %.0f s, user %.0f s, kernel %.0f s\n", created,
                dt_json_get_num(p, "uptime", 0), dt_json_get_num(p, "user_time", 0),
                dt_json_get_num(p, "kernel_time", 0));
    const char *bs = dt_json_get_str(p, "build_string");
    if (bs) {
        fprintf(out, "           build ");
        put_clean(out, bs);
        fputc('\n', out);
    }
}

static void section_exception(const cJSON *user, FILE *out)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(user, "crash_info");
    if (!cJSON_IsObject(c)) {
        fprintf(out, "Exception: none recorded\n");
        return;
    }
    fprintf(out, "Exception: %s (%s) at %s", dt_or(dt_json_get_str(c, "type"), "?"), dt_or(dt_json_get_str(c, "code"), "?"),
            dt_or(dt_json_get_str(c, "address"), "?"));
    const char *ip = dt_json_get_str(c, "instruction");
    if (ip) {
        fprintf(out, ", instruction %s", ip);
        const char *mod = dt_json_get_str(c, "module");
        if (mod) {
            fputs(" in ", out);
            put_clean(out, mod);
        }
    }
    if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(c, "thread_id")))
        fprintf(out, ", thread 0x%" PRIx64, dt_json_get_uint(c, "thread_id"));
    fputc('\n', out);
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(c, "parameters");
    if (cJSON_IsArray(params) && cJSON_GetArraySize(params) > 0) {
        fprintf(out, "           parameters:");
        const cJSON *it;
        cJSON_ArrayForEach(it, params)
            if (cJSON_IsString(it))
                fprintf(out, " %s", it->valuestring);
        fputc('\n', out);
    }
}

static void thread_line(const cJSON *t, int index, bool crashing, FILE *out)
{
    const cJSON *frames = cJSON_GetObjectItemCaseSensitive(t, "frames");
    const cJSON *f0 = cJSON_IsArray(frames) ? cJSON_GetArrayItem(frames, 0) : NULL;
    char where[160] = "";
    const char *mod = dt_json_get_str(f0, "module");
    const char *off = dt_json_get_str(f0, "module_offset");
    if (mod && off)
        snprintf(where, sizeof where, "%s+%s", mod, off);
    fprintf(out, "%c%3d  %-6" PRIx64 " %4.0f %4.0f  %-18s %-18s %-18s %-18s ", crashing ? '.' : ' ',
            index, dt_json_get_uint(t, "thread_id"), dt_json_get_num(t, "suspend_count", 0),
            dt_json_get_num(t, "priority", 0), dt_or(dt_json_get_str(t, "teb"), "?"), dt_or(dt_json_get_str(t, "stack_start"), "?"),
            dt_or(dt_json_get_str(f0, "ip"), "-"), dt_or(dt_json_get_str(f0, "sp"), "-"));
    put_clean(out, where);
    const char *name = dt_json_get_str(t, "thread_name");
    if (name) {
        fputs(" \"", out);
        put_clean(out, name);
        fputc('"', out);
    }
    fputc('\n', out);
}

static void section_threads(const cJSON *user, FILE *out)
{
    const cJSON *threads = cJSON_GetObjectItemCaseSensitive(user, "threads");
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(user, "crash_info");
    int crashing = (int)dt_json_get_num(c, "crashing_thread", -1);
    fprintf(out, "\nThreads (%d):\n", cJSON_GetArraySize(threads));
    fprintf(out, "   #  tid    susp prio  %-18s %-18s %-18s %-18s location / name\n", "teb",
            "stack low", "ip", "sp");
    int i = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, threads) {
        thread_line(t, i, i == crashing, out);
        i++;
    }
    const cJSON *dump = cJSON_GetObjectItemCaseSensitive(user, "dump_thread");
    if (cJSON_IsObject(dump))
        fprintf(out, "  (Breakpad dump thread 0x%" PRIx64 " not listed)\n", dt_json_get_uint(dump, "thread_id"));
}

static void section_modules(const cJSON *user, FILE *out)
{
    const cJSON *mods = cJSON_GetObjectItemCaseSensitive(user, "modules");
    fprintf(out, "\nModules (%d):\n", cJSON_GetArraySize(mods));
    fprintf(out, "  %-18s %-18s %-24s %-16s %s\n", "start", "end", "module", "version",
            "debug file / id");
    const cJSON *m;
    cJSON_ArrayForEach(m, mods) {
        char name[256];
        fprintf(out, "  %-18s %-18s %-24s %-16s ", dt_or(dt_json_get_str(m, "base_addr"), "?"), dt_or(dt_json_get_str(m, "end_addr"), "?"),
                cleaned(dt_or(dt_json_get_str(m, "filename"), "?"), name, sizeof name), dt_or(dt_json_get_str(m, "version"), "-"));
        const char *df = dt_json_get_str(m, "debug_file");
        if (df) {
            put_clean(out, df);
            fprintf(out, " %s", dt_or(dt_json_get_str(m, "debug_id"), "?"));
        } else {
            fputs("(no CodeView record)", out);
        }
        fputc('\n', out);
    }
    const cJSON *un = cJSON_GetObjectItemCaseSensitive(user, "unloaded_modules");
    if (cJSON_GetArraySize(un) > 0) {
        fprintf(out, "\nUnloaded modules (%d):\n", cJSON_GetArraySize(un));
        cJSON_ArrayForEach(m, un) {
            fprintf(out, "  %-18s %-18s ", dt_or(dt_json_get_str(m, "base_addr"), "?"), dt_or(dt_json_get_str(m, "end_addr"), "?"));
            put_clean(out, dt_or(dt_json_get_str(m, "filename"), "?"));
            fputc('\n', out);
        }
    }
}

static void section_handles(const cJSON *user, FILE *out)
{
    const cJSON *hs = cJSON_GetObjectItemCaseSensitive(user, "handles");
    int n = cJSON_GetArraySize(hs);
    if (n == 0)
        return;
    fprintf(out, "\nHandles (%d):\n", n);
    const cJSON *h;
    cJSON_ArrayForEach(h, hs) {
        char type[64];
        fprintf(out, "  %-10s %-22s access %-10s ", dt_or(dt_json_get_str(h, "handle"), "?"),
                cleaned(dt_or(dt_json_get_str(h, "type"), "?"), type, sizeof type), dt_or(dt_json_get_str(h, "granted_access"), "?"));
        put_clean(out, dt_or(dt_json_get_str(h, "name"), ""));
        fputc('\n', out);
    }
}

static void section_memory_and_warnings(const cJSON *user, FILE *out)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(user, "memory");
    uint64_t bytes = 0;
    dt_json_get_hex(m, "bytes", &bytes);
    fprintf(out, "\nMemory:    %.0f ranges, %" PRIu64 " bytes captured%s", dt_json_get_num(m, "ranges", 0),
            bytes, dt_json_get_bool(m, "full_memory") ? " (full memory)" : "");
    double regions = dt_json_get_num(m, "regions", -1);
    if (regions >= 0) {
        uint64_t commit = 0;
        dt_json_get_hex(m, "committed_bytes", &commit);
        fprintf(out, "; %.0f regions, %" PRIu64 " bytes committed", regions, commit);
    }
    fputc('\n', out);
    const cJSON *ws = cJSON_GetObjectItemCaseSensitive(user, "warnings");
    int n = cJSON_GetArraySize(ws);
    if (n == 0)
        return;
    fprintf(out, "\nWarnings (%d):\n", n);
    const cJSON *w;
    cJSON_ArrayForEach(w, ws) {
        if (!cJSON_IsString(w))
            continue;
        fputs("  ", out);
        put_clean(out, w->valuestring);
        fputc('\n', out);
    }
}

void dt_user_report_text(const cJSON *user, FILE *out)
{
    section_process(user, out);
    section_exception(user, out);
    section_threads(user, out);
    section_modules(user, out);
    section_handles(user, out);
    section_memory_and_warnings(user, out);
}
