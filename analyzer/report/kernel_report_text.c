/*
 * kernel_report_text.c — the kernel part of a report (docs/kernel.md) as
 * text close to WinDbg's `!analyze -v` header, `!process`, `!thread` and `k`.
 *
 * Rendered from the JSON, never from the model, so the text and the JSON
 * cannot disagree and the server can render stored reports.
 */
#include "report/kernel_report.h"

#include <stdlib.h>
#include <string.h>

#include "base/json.h"

/* "0xfffff8047bdf5a80" → "fffff804`7bdf5a80" as WinDbg prints pointers. */
static const char *windbg_ptr(const char *hex, char *out, size_t cap)
{
    if (!hex || strncmp(hex, "0x", 2) != 0) {
        snprintf(out, cap, "%s", "????????`????????");
        return out;
    }
    unsigned long long v = strtoull(hex + 2, NULL, 16);
    snprintf(out, cap, "%08llx`%08llx", v >> 32, v & 0xffffffffULL);
    return out;
}

/* Where the walk started and the thread's pending IRPs, in the spirit of
 * WinDbg's `!thread` IRP list and `!irp`. */
static void irps_text(const cJSON *t, FILE *out)
{
    const cJSON *ss = cJSON_GetObjectItemCaseSensitive(t, "stack_start");
    const char *src = dt_json_get_str(ss, "source");
    if (src) {
        const char *ctx = dt_json_get_str(ss, "context");
        fprintf(out, "    Stack from: %s%s%s\n", src, ctx ? " at " : "", ctx ? ctx : "");
    }
    const char *note = dt_json_get_str(ss, "note");
    if (note)
        fprintf(out, "    (%s)\n", note);
    const cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(t, "irps"))
    {
        const cJSON *file = cJSON_GetObjectItemCaseSensitive(r, "file");
        const cJSON *dev = cJSON_GetObjectItemCaseSensitive(r, "device");
        const cJSON *drv = cJSON_GetObjectItemCaseSensitive(r, "driver");
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(r, "code");
        fprintf(out, "    IRP %s  %s", dt_or(dt_json_get_str(r, "irp"), "?"), dt_or(dt_json_get_str(r, "major"), "(major unknown)"));
        if (cJSON_IsObject(code))
            fprintf(out, " %s %s%s%s", dt_or(dt_json_get_str(code, "value"), "?"), dt_json_get_str(code, "name") ? "(" : "",
                    dt_or(dt_json_get_str(code, "name"), ""), dt_json_get_str(code, "name") ? ")" : "");
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "cancel")))
            fprintf(out, "  CANCELLED");
        fprintf(out, "\n");
        if (cJSON_IsObject(file))
            fprintf(out, "        File %s  %s\n", dt_or(dt_json_get_str(file, "object"), "?"),
                    dt_or(dt_json_get_str(file, "name"), "(no name)"));
        if (cJSON_IsObject(dev))
            fprintf(out, "        Device %s  %s\n", dt_or(dt_json_get_str(dev, "object"), "?"),
                    dt_or(dt_json_get_str(dev, "type_name"), dt_or(dt_json_get_str(dev, "type"), "")));
        if (cJSON_IsObject(drv))
            fprintf(out, "        Driver %s  %s\n", dt_or(dt_json_get_str(drv, "object"), "?"),
                    dt_or(dt_json_get_str(drv, "name"), "(no name)"));
    }
}

/* An ALPC wait as WinDbg's !thread words it ("Waiting for reply to ALPC
 * Message … : queued at port … : owned by process …"), with the port's name,
 * the server's pid and image and the server thread when known. */
static void alpc_text(const cJSON *t, FILE *out)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(t, "alpc");
    const char *kind = dt_json_get_str(a, "kind");
    if (!kind)
        return;
    const char *port = dt_json_get_str(a, "port"), *name = dt_json_get_str(a, "port_name");
    const char *ep = dt_json_get_str(a, "server_eprocess"), *img = dt_json_get_str(a, "server_image");
    const cJSON *pid = cJSON_GetObjectItemCaseSensitive(a, "server_process_id");
    const cJSON *stid = cJSON_GetObjectItemCaseSensitive(a, "server_thread_id");
    if (strcmp(kind, "reply") == 0)
        fprintf(out, "    Waiting for reply to ALPC Message %s", dt_or(dt_json_get_str(a, "message"), "?"));
    else
        fprintf(out, "    Waiting for ALPC requests");
    if (port)
        fprintf(out, " : %s port %s%s%s%s", strcmp(kind, "reply") == 0 ? "queued at" : "on", port, name ? " (" : "",
                dt_or(name, ""), name ? ")" : "");
    if (ep) {
        fprintf(out, " : owned by process %s", ep);
        if (cJSON_IsNumber(pid))
            fprintf(out, " (%s, pid %lld)", dt_or(img, "?"), (long long)pid->valuedouble);
    }
    if (cJSON_IsNumber(stid))
        fprintf(out, " : server thread %lld", (long long)stid->valuedouble);
    if (strcmp(kind, "reply") == 0 && !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "message_in_dump")))
        fprintf(out, " (the message is not in the dump)");
    fprintf(out, "\n");
}

void dt_kernel_report_text(const cJSON *k, FILE *out)
{
    const cJSON *bc = cJSON_GetObjectItemCaseSensitive(k, "bugcheck");
    const cJSON *sys = cJSON_GetObjectItemCaseSensitive(k, "system");
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(k, "dump");
    fprintf(out, "Kernel dump: %s (type %lld)%s, build %lld, %s, %lld processors\n", dt_or(dt_json_get_str(d, "type_name"), "?"),
              dt_json_get_int(d, "type"), cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "truncated")) ? ", TRUNCATED" : "",
              dt_json_get_int(sys, "build"), dt_or(dt_json_get_str(sys, "machine"), "?"), dt_json_get_int(sys, "processors"));
    fprintf(out, "Debug session time: %s\nSystem Uptime: %s\n", dt_or(dt_json_get_str(sys, "system_time"), "unknown"),
              dt_or(dt_json_get_str(sys, "uptime"), "unknown"));
    fprintf(out, "\nBugCheck %s, {", dt_or(dt_json_get_str(bc, "code"), "?"));
    const cJSON *p;
    int i = 0;
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(bc, "parameters"))
        fprintf(out, "%s%s", i++ ? ", " : "", cJSON_IsString(p) ? p->valuestring : "?");
    fprintf(out, "}\n%s\n", dt_or(dt_json_get_str(bc, "name"), "(unknown bugcheck name)"));
    const cJSON *cf = cJSON_GetObjectItemCaseSensitive(bc, "context_frames");
    if (cJSON_GetArraySize(cf) > 0) {
        fprintf(out, "\nStack at the faulting context (.cxr):\n");
        const cJSON *f;
        cJSON_ArrayForEach(f, cf) {
            const char *fn = dt_json_get_str(f, "function"), *mod = dt_json_get_str(f, "module"), *trust = dt_json_get_str(f, "trust");
            const char *scan = trust && strcmp(trust, "scan") == 0 ? "   [scan]" : "";
            if (fn)
                fprintf(out, "  %02llx %s!%s+%s%s\n", dt_json_get_int(f, "frame"), dt_or(mod, "?"), fn, dt_or(dt_json_get_str(f, "function_offset"), "0x0"),
                          scan);
            else
                fprintf(out, "  %02llx %s+%s%s\n", dt_json_get_int(f, "frame"), dt_or(mod, "?"), dt_or(dt_json_get_str(f, "module_offset"), "?"), scan);
        }
    }

    const cJSON *procs = cJSON_GetObjectItemCaseSensitive(k, "processes");
    cJSON_ArrayForEach(p, procs) {
        char b[32];
        fprintf(out, "\nPROCESS %s\n    Cid: %04llx    Image: %s    Threads: %lld\n",
                  windbg_ptr(dt_json_get_str(p, "eprocess"), b, sizeof b), dt_json_get_int(p, "pid"), dt_or(dt_json_get_str(p, "image"), "?"),
                  dt_json_get_int(p, "thread_count"));
    }
    const cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(k, "threads")) {
        char b[32], b2[32], b3[32];
        const cJSON *pid = cJSON_GetObjectItemCaseSensitive(t, "pid");
        if (cJSON_IsNumber(pid))
            fprintf(out, "\nTHREAD %s  Cid %04llx.%04llx  Image: %s", windbg_ptr(dt_json_get_str(t, "ethread"), b, sizeof b),
                      dt_json_get_int(t, "pid"), dt_json_get_int(t, "thread_id"), dt_or(dt_json_get_str(t, "image"), "?"));
        else
            fprintf(out, "\nTHREAD %s  %s", dt_json_get_str(t, "ethread") ? windbg_ptr(dt_json_get_str(t, "ethread"), b, sizeof b) : "(not in dump)",
                      dt_or(dt_json_get_str(t, "label"), "(unidentified)"));
        const cJSON *cpu = cJSON_GetObjectItemCaseSensitive(t, "cpu");
        if (cJSON_IsNumber(cpu))
            fprintf(out, "  RUNNING on processor %lld", dt_json_get_int(t, "cpu"));
        else if (dt_json_get_str(t, "state"))
            fprintf(out, "  %s", dt_json_get_str(t, "state"));
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t, "current")))
            fprintf(out, "  (current thread)");
        fprintf(out, "\n");
        if (dt_json_get_str(t, "wait_reason"))
            fprintf(out, "    WaitReason: %s  WaitMode: %s  Alertable: %s  WaitTime(ticks): %lld\n",
                      dt_json_get_str(t, "wait_reason"), dt_or(dt_json_get_str(t, "wait_mode"), "?"),
                      cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(t, "alertable"))
                          ? (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t, "alertable")) ? "yes" : "no")
                          : "?",
                      dt_json_get_int(t, "wait_time"));
        alpc_text(t, out);
        fprintf(out, "    Base %s Limit %s Call %s\n", windbg_ptr(dt_json_get_str(t, "stack_base"), b, sizeof b),
                  windbg_ptr(dt_json_get_str(t, "stack_limit"), b2, sizeof b2), windbg_ptr(dt_json_get_str(t, "kernel_stack"), b3, sizeof b3));
        irps_text(t, out);
        const cJSON *frames = cJSON_GetObjectItemCaseSensitive(t, "frames");
        int n = cJSON_GetArraySize(frames);
        if (n)
            fprintf(out, " # Child-SP          RetAddr               Call Site\n");
        for (int f = 0; f < n; f++) {
            const cJSON *fr = cJSON_GetArrayItem(frames, f);
            const cJSON *next = f + 1 < n ? cJSON_GetArrayItem(frames, f + 1) : NULL;
            char site[160];
            if (dt_json_get_str(fr, "module") && dt_json_get_str(fr, "function"))
                snprintf(site, sizeof site, "%s!%s+%s", dt_json_get_str(fr, "module"), dt_json_get_str(fr, "function"),
                         dt_or(dt_json_get_str(fr, "function_offset"), "0x0"));
            else if (dt_json_get_str(fr, "module"))
                snprintf(site, sizeof site, "%s+%s", dt_json_get_str(fr, "module"), dt_or(dt_json_get_str(fr, "module_offset"), "?"));
            else
                snprintf(site, sizeof site, "%s", dt_or(dt_json_get_str(fr, "ip"), "?"));
            fprintf(out, "%02x %s %s     %s%s\n", f, windbg_ptr(dt_json_get_str(fr, "sp"), b, sizeof b),
                      next ? windbg_ptr(dt_json_get_str(next, "ip"), b2, sizeof b2) : "00000000`00000000", site,
                      strcmp(dt_or(dt_json_get_str(fr, "trust"), ""), "scan") == 0 ? "  (scan)" : "");
        }
    }
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(k, "warnings");
    if (cJSON_GetArraySize(w)) {
        fprintf(out, "\nWarnings:\n");
        cJSON_ArrayForEach(p, w) fprintf(out, "  %s\n", cJSON_IsString(p) ? p->valuestring : "?");
    }
}
