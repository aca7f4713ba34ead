/*
 * series_snapshot.c — one snapshot's facts: what the comparison needs is
 * copied out of that snapshot's report (frames as names and hashes,
 * registers, CPU and wait times, triage's state and verdict) so the report
 * can be dropped before the next snapshot is analysed.  The facts are read
 * from the documented JSON (docs/report.md), as triage reads the parts, so
 * the comparison sees exactly what a reader of each single report sees.
 * Also: whether an analysed snapshot is too damaged to compare.
 */
#include "analysis/series_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"

void dt_series_tsnap_free(dt_series_tsnap *t)
{
    free(t->top_frame);
    free(t->inner_function);
    for (size_t i = 0; i < t->nnames; i++)
        free(t->names[i]);
    free(t->state);
    free(t->category);
    free(t->verdict);
    free(t->blocking_frame);
    free(t->first_app_frame);
    free(t->kernel_wait_frame);
    free(t->driver_frame);
    memset(t, 0, sizeof *t);
}

/* "module!function" or "module+0x…" for a report frame; with_offset adds
 * "+0x…" to a function name. */
static void frame_name(const cJSON *f, bool with_offset, char *out, size_t outsz)
{
    const char *mod = dt_json_get_str(f, "module_short");
    if (!mod)
        mod = dt_json_get_str(f, "module");
    const char *fn = dt_json_get_str(f, "function");
    const char *fo = dt_json_get_str(f, "function_offset");
    const char *mo = dt_json_get_str(f, "module_offset");
    if (mod && fn)
        snprintf(out, outsz, "%s!%s%s%s", mod, fn, with_offset && fo ? "+" : "", with_offset && fo ? fo : "");
    else if (mod)
        snprintf(out, outsz, "%s+%s", mod, mo ? mo : "?");
    else
        snprintf(out, outsz, "%s", dt_or(dt_json_get_str(f, "ip"), "?"));
}

static const cJSON *find_by_tid(const cJSON *arr, uint64_t tid, bool need_pid, uint64_t pid)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, arr) {
        uint64_t v, p;
        if (!dt_json_u64(t, "thread_id", &v) || v != tid)
            continue;
        if (need_pid && dt_json_u64(t, "pid", &p) && p != pid)
            continue;
        return t;
    }
    return NULL;
}

/* Milliseconds per kernel clock tick: KTHREAD times are in ticks; the report
 * gives wait_seconds and wait_ticks, whose ratio is the tick length. */
static double kernel_tick_ms(const cJSON *kernel)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(kernel, "threads")) {
        double s, ticks;
        if (dt_json_num(t, "wait_seconds", &s) && dt_json_num(t, "wait_ticks", &ticks) && ticks > 0)
            return s * 1000.0 / ticks;
    }
    return 15.625;
}

static void summarize_thread(dt_series_tsnap *ts, const cJSON *ut, const cJSON *tt, int rank, const cJSON *kt,
                             double tick_ms)
{
    ts->present = true;
    const cJSON *frames = cJSON_GetObjectItemCaseSensitive(ut, "frames");
    uint64_t h = DT_SERIES_FNV_START, hp = DT_SERIES_FNV_START, hc = DT_SERIES_FNV_START;
    size_t i = 0;
    const cJSON *f;
    cJSON_ArrayForEach(f, frames) {
        uint64_t ip = 0, sp = 0;
        dt_json_get_hex(f, "ip", &ip);
        dt_json_get_hex(f, "sp", &sp);
        h = dt_series_fnv(dt_series_fnv(h, &ip, sizeof ip), &sp, sizeof sp);
        char name[600];
        frame_name(f, false, name, sizeof name);
        hp = dt_series_fnv(dt_series_fnv(hp, name, strlen(name) + 1), &sp, sizeof sp);
        if (i > 0)
            hc = dt_series_fnv(dt_series_fnv(hc, name, strlen(name) + 1), &sp, sizeof sp);
        if (i == 0) {
            frame_name(f, true, name, sizeof name);
            ts->top_frame = dt_series_strdup(name);
            ts->ip = ip;
            ts->sp = sp;
            ts->has_ip = true;
        }
        frame_name(f, false, name, sizeof name);
        if (i == 0)
            ts->inner_function = dt_series_strdup(name);
        if (ts->nnames < DT_SERIES_MAX_NAMES) {
            ts->names[ts->nnames] = dt_series_strdup(name);
            if (ts->names[ts->nnames])
                ts->nnames++;
        }
        i++;
    }
    ts->nframes = i;
    ts->frames_hash = h;
    ts->places_hash = hp;
    ts->callers_hash = hc;
    uint64_t hr = DT_SERIES_FNV_START;
    const cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(ut, "registers")) {
        if (r->string)
            hr = dt_series_fnv(hr, r->string, strlen(r->string));
        if (cJSON_IsString(r))
            hr = dt_series_fnv(hr, r->valuestring, strlen(r->valuestring));
    }
    ts->regs_hash = hr;
    double um, km;
    if (dt_json_num(ut, "user_time_ms", &um) && dt_json_num(ut, "kernel_time_ms", &km)) {
        ts->has_cpu = true;
        ts->cpu_ms = um + km;
        ts->cpu_source = "thread_info";
    } else if (kt && dt_json_num(kt, "user_time", &um) && dt_json_num(kt, "kernel_time", &km)) {
        ts->has_cpu = true;
        ts->cpu_ms = (um + km) * tick_ms;
        ts->cpu_source = "kernel";
    }
    double ws;
    if (kt && dt_json_num(kt, "wait_seconds", &ws)) {
        ts->has_wait = true;
        ts->wait_seconds = ws;
    }
    ts->triage_rank = rank;
    if (tt) {
        ts->state = dt_series_strdup(dt_json_get_str(tt, "state"));
        ts->stuck = dt_json_get_bool(tt, "stuck");
        ts->idle = dt_json_get_bool(tt, "idle");
        ts->category = dt_series_strdup(dt_json_get_str(tt, "category"));
        ts->verdict = dt_series_strdup(dt_json_get_str(tt, "verdict"));
        ts->blocking_frame = dt_series_strdup(dt_json_get_str(tt, "blocking_frame"));
        ts->first_app_frame = dt_series_strdup(dt_json_get_str(tt, "first_app_frame"));
        ts->kernel_wait_frame = dt_series_strdup(dt_json_get_str(tt, "kernel_wait_frame"));
        ts->driver_frame = dt_series_strdup(dt_json_get_str(tt, "driver_frame"));
        if (!ts->has_wait && dt_json_num(cJSON_GetObjectItemCaseSensitive(tt, "wait"), "seconds", &ws)) {
            ts->has_wait = true;
            ts->wait_seconds = ws;
        }
    }
}

void dt_series_pending_free(dt_series_pending *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->t[i].name);
        dt_series_tsnap_free(&p->t[i].ts);
    }
    free(p->t);
    memset(p, 0, sizeof *p);
}

static bool in_deadlock(const cJSON *triage, uint64_t tid)
{
    const cJSON *d;
    cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(triage, "deadlocks")) {
        const cJSON *x;
        cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(d, "threads")) {
            if (cJSON_IsNumber(x) && (uint64_t)x->valuedouble == tid)
                return true;
        }
    }
    return false;
}

/* Why a snapshot that was analysed is still not fit to compare, or "": a
 * dump cut short keeps its thread list but loses the stacks, and every
 * thread would seem to have moved. */
void dt_series_damage(const cJSON *user, char *why, size_t n)
{
    why[0] = '\0';
    const cJSON *st;
    cJSON_ArrayForEach(st, cJSON_GetObjectItemCaseSensitive(user, "streams")) {
        if (dt_json_get_bool(st, "truncated")) {
            snprintf(why, n, "stream %s runs past the end of the file",
                     dt_or(dt_json_get_str(st, "name"), dt_or(dt_json_get_str(st, "type"), "?")));
            return;
        }
    }
    uint64_t missing = 0;
    if (dt_json_get_hex(cJSON_GetObjectItemCaseSensitive(user, "memory"), "missing_bytes", &missing) && missing)
        snprintf(why, n, "%llu bytes of memory are missing (the file is cut short)", (unsigned long long)missing);
    else if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(user, "threads")) == 0)
        snprintf(why, n, "it holds no threads");
}

/* Copies what the comparison needs out of one report. */
dt_status dt_series_summarize(const cJSON *doc, dt_series_snapshot *s, dt_series_pending *p)
{
    const cJSON *user = cJSON_GetObjectItemCaseSensitive(doc, "user");
    const cJSON *kernel = cJSON_GetObjectItemCaseSensitive(doc, "kernel");
    const cJSON *triage = cJSON_GetObjectItemCaseSensitive(doc, "triage");
    const cJSON *dump = cJSON_GetObjectItemCaseSensitive(user, "dump");
    int64_t t;
    if (dt_series_parse_time(dt_json_get_str(dump, "time"), &t)) {
        s->time = t;
        s->has_time = true;
    }
    s->size = dt_json_get_uint(dump, "size");
    uint64_t pid;
    if (dt_json_u64(user, "pid", &pid)) {
        s->pid = pid;
        s->has_pid = true;
    }
    const cJSON *proc = cJSON_GetObjectItemCaseSensitive(user, "process");
    s->image = dt_series_strdup(dt_json_get_str(proc, "image"));
    s->create_time = dt_series_strdup(dt_json_get_str(proc, "create_time"));
    s->signature = dt_series_strdup(dt_json_get_str(triage, "signature"));
    uint64_t ptid;
    if (dt_json_u64(cJSON_GetObjectItemCaseSensitive(triage, "primary"), "thread_id", &ptid)) {
        s->primary_thread_id = ptid;
        s->has_primary = true;
    }
    const cJSON *w;
    cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(doc, "warnings")) {
        if (cJSON_IsString(w))
            dt_series_warn(&s->warnings, &s->nwarnings, "%s", w->valuestring);
    }

    const cJSON *uthreads = cJSON_GetObjectItemCaseSensitive(user, "threads");
    const cJSON *tthreads = cJSON_GetObjectItemCaseSensitive(triage, "threads");
    const cJSON *kthreads = cJSON_GetObjectItemCaseSensitive(kernel, "threads");
    double tick_ms = kernel_tick_ms(kernel);
    int n = cJSON_GetArraySize(uthreads);
    p->t = calloc(n > 0 ? (size_t)n : 1, sizeof *p->t);
    if (!p->t)
        return DT_ERR_NOMEM;
    const cJSON *ut;
    cJSON_ArrayForEach(ut, uthreads) {
        uint64_t tid;
        if (!dt_json_u64(ut, "thread_id", &tid))
            continue;
        bool dup = false;
        for (size_t k = 0; k < p->n; k++)
            dup |= p->t[k].tid == tid;
        if (dup)
            continue;
        int rank = -1, i = 0;
        const cJSON *tt = NULL, *x;
        cJSON_ArrayForEach(x, tthreads) {
            uint64_t v;
            if (dt_json_u64(x, "thread_id", &v) && v == tid) {
                tt = x;
                rank = i;
                break;
            }
            i++;
        }
        const cJSON *kt = s->has_pid ? find_by_tid(kthreads, tid, true, s->pid) : NULL;
        dt_series_pending_thread *pt = &p->t[p->n++];
        pt->tid = tid;
        pt->name = dt_series_strdup(dt_json_get_str(ut, "thread_name"));
        summarize_thread(&pt->ts, ut, tt, rank, kt, tick_ms);
        pt->ts.in_deadlock = in_deadlock(triage, tid);
        pt->ts.is_primary = s->has_primary && s->primary_thread_id == tid;
    }
    s->thread_count = p->n;
    return DT_OK;
}
