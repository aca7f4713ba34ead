/*
 * report_index.c — see report_index.h.  Paths read (all optional):
 *   user.process.image (or user.process.name), user.pid (or user.process.pid),
 *   user.threads[].{thread_id, thread_name, frames[0].function|module},
 *   kernel.bugcheck (a number, a string, or an object with code/name),
 *   triage.primary.{verdict, signature},
 *   triage.threads[].{thread_id, state, verdict, stuck},
 *   series.verdicts.primary.{verdict, signature}, series.threads[].{thread_id,
 *   verdict, stuck}: with several dumps of one hang the series decides
 *   (docs/report.md "series": a thread that moved is not stuck).
 */
#include "report_index.h"

#include <stdint.h>

#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"

#define MAX_THREADS 100000
#define MAX_SEARCH 65536

static const cJSON *get(const cJSON *o, const char *k)
{
    return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, k) : NULL;
}

static char *str_of(const cJSON *v)
{
    if (cJSON_IsString(v) && v->valuestring)
        return strdup(v->valuestring);
    if (cJSON_IsNumber(v)) {
        char buf[64];
        snprintf(buf, sizeof buf, "%.17g", v->valuedouble);
        return strdup(buf);
    }
    return NULL;
}

/* An id (pid, thread id) through the analyzer's reader, which accepts a
 * number or a "0x…"/decimal string and never converts an out-of-range
 * double. */
static bool id_of(const cJSON *obj, const char *key, int64_t *out)
{
    uint64_t v;
    if (!cJSON_IsObject(obj) || !dt_json_u64(obj, key, &v) || v > INT64_MAX)
        return false;
    *out = (int64_t)v;
    return true;
}

static char *bugcheck_of(const cJSON *b)
{
    if (cJSON_IsNumber(b)) {
        char buf[32];
        snprintf(buf, sizeof buf, "0x%llX", (unsigned long long)(int64_t)b->valuedouble);
        return strdup(buf);
    }
    if (cJSON_IsString(b))
        return str_of(b);
    if (cJSON_IsObject(b)) {
        const cJSON *name = get(b, "name");
        const cJSON *code = get(b, "code");
        char *c = code ? bugcheck_of(code) : NULL;
        if (cJSON_IsString(name) && name->valuestring) {
            char buf[256];
            snprintf(buf, sizeof buf, "%s%s%s%s", name->valuestring, c ? " (" : "", c ? c : "", c ? ")" : "");
            free(c);
            return strdup(buf);
        }
        return c;
    }
    return NULL;
}

static char *top_frame_of(const cJSON *thread)
{
    const cJSON *frames = get(thread, "frames");
    if (!frames)
        frames = get(get(thread, "stack"), "frames");
    const cJSON *f = cJSON_IsArray(frames) ? cJSON_GetArrayItem(frames, 0) : NULL;
    if (!f)
        return NULL;
    const cJSON *fn = get(f, "function"), *mod = get(f, "module");
    char buf[512];
    if (cJSON_IsString(fn) && cJSON_IsString(mod))
        snprintf(buf, sizeof buf, "%s!%s", mod->valuestring, fn->valuestring);
    else if (cJSON_IsString(fn))
        snprintf(buf, sizeof buf, "%s", fn->valuestring);
    else if (cJSON_IsString(mod))
        snprintf(buf, sizeof buf, "%s", mod->valuestring);
    else
        return NULL;
    return strdup(buf);
}

static void search_add(char *buf, size_t *len, const char *s)
{
    if (!s)
        return;
    size_t n = strlen(s);
    if (*len + n + 2 >= MAX_SEARCH)
        return;
    memcpy(buf + *len, s, n);
    *len += n;
    buf[(*len)++] = '\n';
    buf[*len] = 0;
}

static dt_thread_row *find_row(dt_report_index *idx, int64_t tid)
{
    for (size_t i = 0; i < idx->nthreads; i++)
        if (idx->threads[i].thread_id == tid)
            return &idx->threads[i];
    return NULL;
}

static dt_thread_row *add_row(dt_report_index *idx, int64_t tid, size_t cap)
{
    dt_thread_row *r = find_row(idx, tid);
    if (r || idx->nthreads >= cap)
        return r;
    r = &idx->threads[idx->nthreads++];
    memset(r, 0, sizeof *r);
    r->thread_id = tid;
    r->stuck = -1;
    return r;
}

void dt_report_index_build(const cJSON *report, dt_report_index *idx)
{
    memset(idx, 0, sizeof *idx);
    idx->thread_count = -1;
    const cJSON *user = get(report, "user"), *kernel = get(report, "kernel"), *triage = get(report, "triage");
    const cJSON *proc = get(user, "process");
    idx->process = str_of(get(proc, "image"));
    if (!idx->process)
        idx->process = str_of(get(proc, "name"));
    if (!idx->process && cJSON_IsString(proc))
        idx->process = str_of(proc);
    idx->has_pid = id_of(user, "pid", &idx->pid) || id_of(proc, "pid", &idx->pid);
    idx->bugcheck = bugcheck_of(get(kernel, "bugcheck"));
    const cJSON *primary = get(triage, "primary");
    idx->verdict = str_of(get(primary, "verdict"));
    idx->signature = str_of(get(primary, "signature"));
    if (!idx->signature)
        idx->signature = str_of(get(triage, "signature"));
    const cJSON *series = get(report, "series");
    if (cJSON_IsObject(series)) {
        const cJSON *sv = get(series, "verdicts");
        free(idx->verdict);
        free(idx->signature);
        idx->verdict = str_of(get(get(sv, "primary"), "verdict"));
        idx->signature = str_of(get(sv, "signature"));
    }

    const cJSON *uthreads = get(user, "threads"), *tthreads = get(triage, "threads");
    size_t cap = 0;
    if (cJSON_IsArray(uthreads)) {
        idx->thread_count = cJSON_GetArraySize(uthreads);
        cap += (size_t)idx->thread_count;
    }
    if (cJSON_IsArray(tthreads))
        cap += (size_t)cJSON_GetArraySize(tthreads);
    if (cap > MAX_THREADS)
        cap = MAX_THREADS;
    idx->threads = cap ? calloc(cap, sizeof *idx->threads) : NULL;
    if (!idx->threads)
        cap = 0;
    char *search = malloc(MAX_SEARCH);
    size_t slen = 0;
    if (search)
        search[0] = 0;
    if (search) {
        search_add(search, &slen, idx->process);
        search_add(search, &slen, idx->signature);
        search_add(search, &slen, idx->verdict);
        search_add(search, &slen, idx->bugcheck);
    }
    const cJSON *t;
    const cJSON *ulist = cJSON_IsArray(uthreads) ? uthreads : NULL;
    cJSON_ArrayForEach(t, ulist) {
        int64_t tid;
        if (!id_of(t, "thread_id", &tid))
            continue;
        dt_thread_row *r = add_row(idx, tid, cap);
        if (!r)
            break;
        if (!r->name)
            r->name = str_of(get(t, "thread_name"));
        if (!r->top_frame)
            r->top_frame = top_frame_of(t);
        if (search) {
            search_add(search, &slen, r->name);
            search_add(search, &slen, r->top_frame);
        }
    }
    const cJSON *tlist = cJSON_IsArray(tthreads) ? tthreads : NULL;
    cJSON_ArrayForEach(t, tlist) {
        int64_t tid;
        if (!id_of(t, "thread_id", &tid))
            continue;
        dt_thread_row *r = add_row(idx, tid, cap);
        if (!r)
            break;
        free(r->state);
        free(r->verdict);
        r->state = str_of(get(t, "state"));
        r->verdict = str_of(get(t, "verdict"));
        const cJSON *stuck = get(t, "stuck");
        if (cJSON_IsBool(stuck))
            r->stuck = cJSON_IsTrue(stuck);
    }
    const cJSON *slist = get(series, "threads");
    if (!cJSON_IsArray(slist))
        slist = NULL;
    cJSON_ArrayForEach(t, slist) {
        int64_t tid;
        dt_thread_row *r = id_of(t, "thread_id", &tid) ? find_row(idx, tid) : NULL;
        if (!r)
            continue; /* a thread of an older snapshot only: not in this report's lists */
        char *v = str_of(get(t, "verdict"));
        if (v) {
            free(r->verdict);
            r->verdict = v;
        }
        const cJSON *stuck = get(t, "stuck");
        if (cJSON_IsBool(stuck))
            r->stuck = cJSON_IsTrue(stuck);
    }
    idx->search_text = search;
}

void dt_report_index_free(dt_report_index *idx)
{
    free(idx->process);
    free(idx->bugcheck);
    free(idx->verdict);
    free(idx->signature);
    free(idx->search_text);
    for (size_t i = 0; i < idx->nthreads; i++) {
        free(idx->threads[i].name);
        free(idx->threads[i].state);
        free(idx->threads[i].verdict);
        free(idx->threads[i].top_frame);
    }
    free(idx->threads);
    memset(idx, 0, sizeof *idx);
}
