/*
 * triage_text.c — the triage part as text for a terminal: primary thread,
 * deadlocks, then each non-idle thread with its user and kernel stacks side
 * by side in the order a WinDbg user reads them (`k`: innermost first), the
 * kernel half on top because it is the innermost part of the joined stack.
 */
#include <stdio.h>
#include <string.h>

#include "base/json.h"
#include "report/report_text.h"

/* cJSON's lookup is NULL-safe for the object, which renderers of partial
 * (stored, possibly foreign) reports rely on. */
#define get cJSON_GetObjectItemCaseSensitive

/* A frame in inlined code (#19): under the frame's line, WinDbg's view of
 * the same return address, one line per level with its source line, the
 * innermost first, down to the real function:
 *        inline_jit!df_wait_batch (inline function) [C:\build\inline_jit.c @ 45]
 *        inline_jit!df_next_batch (inline function) [C:\build\inline_jit.c @ 53]
 *        inline_jit!df_serve_queue+0x29 [C:\build\inline_jit.c @ 62] */
static void print_inline_levels(FILE *out, const cJSON *f, const char *display)
{
    const cJSON *inl = get(f, "inlines");
    const char *function = dt_json_get_str(f, "function");
    if (!cJSON_IsArray(inl) || !cJSON_GetArraySize(inl) || !function || !display)
        return;
    const char *bang = strchr(display, '!');
    int modlen = bang ? (int)(bang - display) : 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, inl)
    {
        const char *name = dt_json_get_str(x, "function_name");
        const char *file = dt_json_get_str(x, "source_file_name");
        uint64_t line = 0;
        dt_json_u64(x, "source_line", &line);
        fprintf(out, "         %.*s!%s (inline function)", modlen, display, name ? name : "?");
        if (file)
            fprintf(out, " [%s @ %llu]", file, (unsigned long long)line);
        fputc('\n', out);
    }
    uint64_t off = 0, line = 0;
    dt_json_u64(f, "function_offset", &off);
    dt_json_u64(f, "line", &line);
    const char *file = dt_json_get_str(f, "file");
    fprintf(out, "         %.*s!%s+0x%llx", modlen, display, function, (unsigned long long)off);
    if (file)
        fprintf(out, " [%s @ %llu]", file, (unsigned long long)line);
    fputc('\n', out);
}

static void print_frames(FILE *out, const cJSON *frames, const char *side, int mark)
{
    int i = 0;
    const cJSON *f;
    cJSON_ArrayForEach(f, frames)
    {
        const char *d = dt_json_get_str(f, "display");
        const char *trust = dt_json_get_str(f, "trust");
        bool folded = false;
        dt_json_bool(f, "folded", &folded);
        fprintf(out, "    %s %02x %s%s%s%s\n", side, i, folded ? "(folded) " : "", d ? d : "?",
                trust && strcmp(trust, "scan") == 0 ? "   [scan]" : "",
                i == mark ? "   <== system call" : "");
        print_inline_levels(out, f, d);
        i++;
    }
}

void dt_triage_text(const cJSON *tri, FILE *out)
{
    if (!tri)
        return;
    fprintf(out, "\n== Triage\n");
    const cJSON *c;
    cJSON_ArrayForEach(c, get(tri, "checks"))
    {
        bool ok = false;
        dt_json_bool(c, "ok", &ok);
        fprintf(out, "  check %-20s %s  user=%s kernel=%s\n", dt_json_get_str(c, "check"), ok ? "ok      " : "MISMATCH",
                dt_json_get_str(c, "user") ? dt_json_get_str(c, "user") : "-",
                dt_json_get_str(c, "kernel") ? dt_json_get_str(c, "kernel") : "-");
    }
    const cJSON *w;
    cJSON_ArrayForEach(w, get(tri, "warnings"))
        if (cJSON_IsString(w))
            fprintf(out, "  WARNING: %s\n", w->valuestring);
    const cJSON *crash = get(tri, "crash");
    if (cJSON_IsObject(crash)) {
        const char *kind = dt_json_get_str(crash, "kind");
        if (kind && strcmp(kind, "exception") == 0)
            fprintf(out, "  Exception %s (%s) at %s in %s\n", dt_json_get_str(crash, "type") ? dt_json_get_str(crash, "type") : "?",
                    dt_json_get_str(crash, "code") ? dt_json_get_str(crash, "code") : "?",
                    dt_json_get_str(crash, "address") ? dt_json_get_str(crash, "address") : "?",
                    dt_json_get_str(crash, "first_app_frame") ? dt_json_get_str(crash, "first_app_frame")
                                                          : dt_json_get_str(crash, "top_frame") ? dt_json_get_str(crash, "top_frame") : "?");
        else
            fprintf(out, "  Bugcheck %s %s%s%s\n", dt_json_get_str(crash, "code") ? dt_json_get_str(crash, "code") : "?",
                    dt_json_get_str(crash, "name") ? dt_json_get_str(crash, "name") : "",
                    dt_json_get_str(crash, "driver_frame") ? " in " : "",
                    dt_json_get_str(crash, "driver_frame") ? dt_json_get_str(crash, "driver_frame") : "");
    }
    const cJSON *p = get(tri, "primary");
    if (cJSON_IsObject(p)) {
        uint64_t tid = 0;
        dt_json_u64(p, "thread_id", &tid);
        fprintf(out, "  Primary: thread %llu %s\n    %s\n    %s\n", (unsigned long long)tid,
                dt_json_get_str(p, "thread_name") ? dt_json_get_str(p, "thread_name") : "", dt_json_get_str(p, "verdict"),
                dt_json_get_str(p, "explanation"));
    } else {
        fprintf(out, "  No stuck thread found.\n");
    }
    const cJSON *sig = get(tri, "signature");
    if (cJSON_IsString(sig))
        fprintf(out, "  Signature: %s\n", sig->valuestring);
    /* The wait graph's chains as readable paths, and the root cause. */
    const cJSON *ch;
    cJSON_ArrayForEach(ch, get(tri, "chains"))
        fprintf(out, "  CHAIN%s: %s  [%s]\n", cJSON_IsTrue(get(ch, "cycle")) ? " (cycle)" : "",
                dt_json_get_str(ch, "text") ? dt_json_get_str(ch, "text") : "",
                dt_json_get_str(ch, "confidence") ? dt_json_get_str(ch, "confidence") : "?");
    const cJSON *rc = get(tri, "root_cause");
    if (cJSON_IsObject(rc))
        fprintf(out, "  Root cause: %s\n", dt_json_get_str(rc, "why") ? dt_json_get_str(rc, "why") : "");
    const cJSON *d;
    cJSON_ArrayForEach(d, get(tri, "deadlocks"))
        fprintf(out, "  DEADLOCK: %s\n", dt_json_get_str(d, "description") ? dt_json_get_str(d, "description") : "");

    const cJSON *t;
    size_t idle = 0;
    cJSON_ArrayForEach(t, get(tri, "threads"))
    {
        bool is_idle = false;
        dt_json_bool(t, "idle", &is_idle);
        if (is_idle) {
            idle++;
            continue;
        }
        uint64_t tid = 0;
        dt_json_u64(t, "thread_id", &tid);
        bool stuck = false;
        dt_json_bool(t, "stuck", &stuck);
        fprintf(out, "\n  %sthread %llu (0x%llx) %s\n    %s\n", stuck ? "STUCK " : "", (unsigned long long)tid,
                (unsigned long long)tid, dt_json_get_str(t, "thread_name") ? dt_json_get_str(t, "thread_name") : "",
                dt_json_get_str(t, "verdict"));
        const cJSON *wo;
        cJSON_ArrayForEach(wo, get(t, "waits_on"))
            fprintf(out, "    waits for %s  (%s; %s)\n", dt_json_get_str(wo, "label") ? dt_json_get_str(wo, "label") : "?",
                    dt_json_get_str(wo, "confidence") ? dt_json_get_str(wo, "confidence") : "?",
                    dt_json_get_str(wo, "source") ? dt_json_get_str(wo, "source") : "?");
        const cJSON *sys = get(t, "syscall");
        uint64_t uk = (uint64_t)-1, kk = (uint64_t)-1;
        dt_json_u64(sys, "user_frame", &uk);
        dt_json_u64(sys, "kernel_frame", &kk);
        const cJSON *kf = get(t, "kernel_frames");
        if (cJSON_GetArraySize(kf) > 0) {
            fprintf(out, "    -- kernel stack --\n");
            print_frames(out, kf, "k", (int)kk);
        }
        const cJSON *uf = get(t, "user_frames");
        if (cJSON_GetArraySize(uf) > 0) {
            fprintf(out, "    -- user stack --%s%s%s\n", sys ? " (joined at " : "",
                    sys && dt_json_get_str(sys, "name") ? dt_json_get_str(sys, "name") : "", sys ? ")" : "");
            print_frames(out, uf, "u", (int)uk);
        }
    }
    if (idle)
        fprintf(out, "\n  (%zu idle thread%s not shown)\n", idle, idle == 1 ? "" : "s");
    const cJSON *u;
    cJSON_ArrayForEach(u, get(tri, "unpaired"))
    {
        uint64_t tid = 0;
        dt_json_u64(u, "thread_id", &tid);
        fprintf(out, "  thread %llu only in the %s dump: %s\n", (unsigned long long)tid, dt_json_get_str(u, "only_in"),
                dt_json_get_str(u, "reason"));
    }
}
