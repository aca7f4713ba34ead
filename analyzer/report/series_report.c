/*
 * series_report.c — the "series" member (series_report.h): the finished
 * comparison as JSON, and that JSON as text.  Deciding anything is
 * analysis/series.c's; this file only writes down what was decided, in the
 * shape docs/report.md documents.
 */
#include "report/series_report.h"

#include <string.h>
#include <time.h>

#include "base/json.h"

static void add_str_or_null(cJSON *o, const char *k, const char *v)
{
    if (v)
        dt_json_add_str(o, k, v);
    else
        cJSON_AddNullToObject(o, k);
}

static void add_time(cJSON *o, const char *k, bool has, int64_t t)
{
    if (has)
        dt_json_add_time(o, k, t);
    else
        cJSON_AddNullToObject(o, k);
}

static cJSON *snapshot_json(const dt_series *s, size_t k)
{
    const dt_series_snapshot *x = &s->snaps[k];
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    dt_json_add_num(o, "index", (double)k);
    dt_json_add_str(o, "file", x->file);
    add_str_or_null(o, "kernel_file", x->kernel_file);
    dt_json_add_num(o, "argument", x->arg_index);
    add_time(o, "time", x->has_time, x->time);
    int first = -1;
    for (size_t j = 0; j < s->nsnaps && first < 0; j++)
        if (strcmp(s->snaps[j].status, "ok") == 0)
            first = (int)j;
    if (x->has_time && first >= 0 && s->snaps[first].has_time)
        dt_json_add_num(o, "seconds", (double)(x->time - s->snaps[first].time));
    else
        cJSON_AddNullToObject(o, "seconds");
    dt_json_add_str(o, "status", x->status ? x->status : "unusable");
    if (x->duplicate_of >= 0)
        dt_json_add_num(o, "duplicate_of", x->duplicate_of);
    else
        cJSON_AddNullToObject(o, "duplicate_of");
    add_str_or_null(o, "error", x->error);
    if (x->has_pid)
        dt_json_add_num(o, "pid", (double)x->pid);
    else
        cJSON_AddNullToObject(o, "pid");
    add_str_or_null(o, "image", x->image);
    add_str_or_null(o, "process_create_time", x->create_time);
    dt_json_add_num(o, "thread_count", (double)x->thread_count);
    add_str_or_null(o, "signature", x->signature);
    if (x->has_primary)
        dt_json_add_num(o, "primary_thread_id", (double)x->primary_thread_id);
    else
        cJSON_AddNullToObject(o, "primary_thread_id");
    dt_json_add_bool(o, "report", (int)k == s->report_snapshot);
    cJSON *w = cJSON_AddArrayToObject(o, "warnings");
    for (size_t i = 0; w && i < x->nwarnings; i++)
        cJSON_AddItemToArray(w, dt_json_str(x->warnings[i]));
    return o;
}

static cJSON *tsnap_json(const dt_series_tsnap *t)
{
    if (!t->present)
        return cJSON_CreateNull();
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    add_str_or_null(o, "change", t->change);
    if (t->change && strcmp(t->change, "same") == 0)
        dt_json_add_bool(o, "ip_moved", t->ip_moved);
    add_str_or_null(o, "state", t->state);
    dt_json_add_bool(o, "stuck", t->stuck);
    dt_json_add_bool(o, "idle", t->idle);
    add_str_or_null(o, "category", t->category);
    add_str_or_null(o, "verdict", t->verdict);
    add_str_or_null(o, "top_frame", t->top_frame);
    if (t->has_ip) {
        dt_json_add_hex(o, "ip", t->ip);
        dt_json_add_hex(o, "sp", t->sp);
    } else {
        cJSON_AddNullToObject(o, "ip");
        cJSON_AddNullToObject(o, "sp");
    }
    dt_json_add_num(o, "frame_count", (double)t->nframes);
    if (t->has_cpu) {
        dt_json_add_num(o, "cpu_ms", t->cpu_ms);
        dt_json_add_str(o, "cpu_source", t->cpu_source);
    } else {
        cJSON_AddNullToObject(o, "cpu_ms");
        cJSON_AddNullToObject(o, "cpu_source");
    }
    if (t->has_cpu_delta)
        dt_json_add_num(o, "cpu_ms_delta", t->cpu_delta_ms);
    else
        cJSON_AddNullToObject(o, "cpu_ms_delta");
    if (t->change && strcmp(t->change, "first") != 0 && strcmp(t->change, "appeared") != 0)
        dt_json_add_num(o, "seconds_since_previous", t->wall_delta_s);
    else
        cJSON_AddNullToObject(o, "seconds_since_previous");
    if (t->has_wait)
        dt_json_add_num(o, "wait_seconds", t->wait_seconds);
    else
        cJSON_AddNullToObject(o, "wait_seconds");
    if (t->change && strcmp(t->change, "changed") == 0) {
        cJSON *c = cJSON_AddObjectToObject(o, "changed");
        if (c) {
            if (t->changed_at >= 0)
                dt_json_add_num(c, "same_outer_frames", t->changed_at);
            else
                cJSON_AddNullToObject(c, "same_outer_frames");
            add_str_or_null(c, "before", t->changed_before);
            add_str_or_null(c, "after", t->changed_after);
            dt_json_add_bool(c, "same_functions", t->changed_sp_only);
        }
    } else {
        cJSON_AddNullToObject(o, "changed");
    }
    return o;
}

static cJSON *thread_json(const dt_series *s, const dt_series_thread *t)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    dt_json_add_num(o, "thread_id", (double)t->thread_id);
    add_str_or_null(o, "thread_name", t->thread_name);
    dt_json_add_str(o, "presence", t->presence);
    dt_json_add_str(o, "state", t->state);
    dt_json_add_bool(o, "stuck", t->stuck);
    add_str_or_null(o, "verdict", t->verdict);
    dt_json_add_num(o, "first_seen", t->first_seen);
    dt_json_add_num(o, "last_seen", t->last_seen);
    if (strcmp(t->state, "not_moved") == 0)
        dt_json_add_num(o, "not_moved_seconds", t->not_moved_seconds);
    else
        cJSON_AddNullToObject(o, "not_moved_seconds");
    if (t->has_cpu) {
        dt_json_add_num(o, "cpu_ms", t->cpu_ms);
        dt_json_add_num(o, "cpu_seconds_of", t->cpu_wall_s);
    } else {
        cJSON_AddNullToObject(o, "cpu_ms");
        cJSON_AddNullToObject(o, "cpu_seconds_of");
    }
    if (t->has_wait_growth)
        dt_json_add_num(o, "wait_growth_seconds", t->wait_growth_s);
    else
        cJSON_AddNullToObject(o, "wait_growth_seconds");
    cJSON *arr = cJSON_AddArrayToObject(o, "snapshots");
    for (size_t k = 0; arr && k < s->nsnaps; k++)
        cJSON_AddItemToArray(arr, tsnap_json(&t->snaps[k]));
    return o;
}

cJSON *dt_series_report_json(const dt_series *s)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    dt_json_add_num(o, "snapshot_count", (double)s->nsnaps);
    dt_json_add_num(o, "compared", s->used);
    cJSON *snaps = cJSON_AddArrayToObject(o, "snapshots");
    for (size_t k = 0; snaps && k < s->nsnaps; k++)
        cJSON_AddItemToArray(snaps, snapshot_json(s, k));
    cJSON *v = cJSON_AddObjectToObject(o, "verdicts");
    if (v) {
        add_str_or_null(v, "summary", s->summary);
        if (s->primary >= 0) {
            const dt_series_thread *p = &s->threads[s->primary];
            cJSON *pj = cJSON_AddObjectToObject(v, "primary");
            if (pj) {
                dt_json_add_num(pj, "thread_id", (double)p->thread_id);
                add_str_or_null(pj, "thread_name", p->thread_name);
                dt_json_add_str(pj, "state", p->state);
                add_str_or_null(pj, "verdict", p->verdict);
                add_str_or_null(pj, "signature", s->signature);
            }
        } else {
            cJSON_AddNullToObject(v, "primary");
        }
        add_str_or_null(v, "signature", s->signature);
        cJSON *parts = cJSON_AddArrayToObject(v, "signature_parts");
        for (size_t i = 0; parts && i < s->nsignature_parts; i++)
            cJSON_AddItemToArray(parts, dt_json_str(s->signature_parts[i]));
        cJSON *c = cJSON_AddObjectToObject(v, "counts");
        if (c) {
            /* States, except appeared/exited: by presence (a thread that
             * appeared may be idle or stuck since). */
            static const char *keys[] = { "not_moved", "spinning", "progressing", "idle", "single",
                                          "appeared", "exited" };
            int n[7] = { 0 }, stuck = 0;
            for (size_t i = 0; i < s->nthreads; i++) {
                stuck += s->threads[i].stuck;
                for (int j = 0; j < 5; j++)
                    n[j] += strcmp(s->threads[i].state, keys[j]) == 0;
                for (int j = 5; j < 7; j++)
                    n[j] += strcmp(s->threads[i].presence, keys[j]) == 0;
            }
            dt_json_add_num(c, "threads", (double)s->nthreads);
            dt_json_add_num(c, "stuck", stuck);
            for (int j = 0; j < 7; j++)
                dt_json_add_num(c, keys[j], n[j]);
        }
    }
    cJSON *threads = cJSON_AddArrayToObject(o, "threads");
    for (size_t i = 0; threads && i < s->nthreads; i++)
        cJSON_AddItemToArray(threads, thread_json(s, &s->threads[i]));
    cJSON *w = cJSON_AddArrayToObject(o, "warnings");
    for (size_t i = 0; w && i < s->nwarnings; i++)
        cJSON_AddItemToArray(w, dt_json_str(s->warnings[i]));
    return o;
}

/* ---------------------------------------------------------------- text --- */

/* Dump strings may hold control characters: shown as '?'. */
static void put_safe(FILE *out, const char *s)
{
    for (; s && *s; s++)
        fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, out);
}

static const char *str_or(const cJSON *o, const char *k, const char *fallback)
{
    const char *s = dt_json_get_str(o, k);
    return s ? s : fallback;
}

void dt_series_report_text(const cJSON *doc, FILE *out)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(doc, "series");
    if (!cJSON_IsObject(s))
        return;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(s, "verdicts");
    fprintf(out, "== Series: %d snapshots, %d compared\n",
            (int)dt_json_get_num(s, "snapshot_count", 0), (int)dt_json_get_num(s, "compared", 0));
    fputs("  ", out);
    put_safe(out, str_or(v, "summary", ""));
    fputc('\n', out);
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(v, "primary");
    if (cJSON_IsObject(p)) {
        fprintf(out, "  Primary:   thread %lld (", (long long)dt_json_get_num(p, "thread_id", 0));
        put_safe(out, str_or(p, "thread_name", "-"));
        fputs(") ", out);
        put_safe(out, str_or(p, "verdict", ""));
        fputc('\n', out);
    }
    fputs("  Signature: ", out);
    put_safe(out, str_or(v, "signature", "-"));
    fputc('\n', out);
    const cJSON *w;
    cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(s, "warnings")) {
        fputs("  warning: ", out);
        put_safe(out, cJSON_IsString(w) ? w->valuestring : "");
        fputc('\n', out);
    }
    fputs("\n  Snapshots:\n", out);
    const cJSON *x;
    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(s, "snapshots")) {
        double sec = dt_json_get_num(x, "seconds", -1);
        fprintf(out, "   #%d  %-20s ", (int)dt_json_get_num(x, "index", 0) + 1, str_or(x, "time", "-"));
        if (sec >= 0)
            fprintf(out, "+%-5.0f", sec);
        else
            fputs("      ", out);
        fprintf(out, " %-9s ", str_or(x, "status", "-"));
        put_safe(out, str_or(x, "file", "-"));
        if (dt_json_get_str(x, "kernel_file")) {
            fputs(" + ", out);
            put_safe(out, dt_json_get_str(x, "kernel_file"));
        }
        if (dt_json_get_str(x, "error")) {
            fputs(": ", out);
            put_safe(out, dt_json_get_str(x, "error"));
        }
        fputc('\n', out);
    }
    fputs("\n  Threads (one line per snapshot: change, state, CPU used since the previous, top frame):\n", out);
    const cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(s, "threads")) {
        long long tid = (long long)dt_json_get_num(t, "thread_id", 0);
        fprintf(out, "\n  thread %lld (0x%llx) ", tid, tid);
        put_safe(out, str_or(t, "thread_name", ""));
        fprintf(out, "  [%s, %s%s", str_or(t, "state", "?"), str_or(t, "presence", "?"),
                dt_json_get_bool(t, "stuck") ? ", STUCK" : "");
        double grew;
        /* The kernel's wait time, grown across the series: the same wait. */
        if (dt_json_num(t, "wait_growth_seconds", &grew))
            fprintf(out, ", kernel wait +%.1f s", grew);
        fputs("]\n    ", out);
        put_safe(out, str_or(t, "verdict", ""));
        fputc('\n', out);
        int k = 0;
        const cJSON *ts;
        cJSON_ArrayForEach(ts, cJSON_GetObjectItemCaseSensitive(t, "snapshots")) {
            k++;
            if (!cJSON_IsObject(ts)) {
                fprintf(out, "    #%d  -\n", k);
                continue;
            }
            char cpu[48] = "";
            double d;
            if (dt_json_num(ts, "cpu_ms_delta", &d))
                snprintf(cpu, sizeof cpu, "cpu +%.2f s", d / 1000.0);
            fprintf(out, "    #%d  %-9s %-8s %-14s ", k, str_or(ts, "change", "-"), str_or(ts, "state", "-"), cpu);
            put_safe(out, str_or(ts, "top_frame", "-"));
            const cJSON *c = cJSON_GetObjectItemCaseSensitive(ts, "changed");
            if (cJSON_IsObject(c)) {
                fputs("   (", out);
                put_safe(out, str_or(c, "before", "-"));
                fputs(" -> ", out);
                put_safe(out, str_or(c, "after", "-"));
                fputs(dt_json_get_bool(c, "same_functions") ? ", same functions, other sp)" : ")", out);
            }
            if (dt_json_num(ts, "wait_seconds", &d))
                fprintf(out, "   waited %.1f s", d);
            fputc('\n', out);
        }
    }
    fputc('\n', out);
}
