/*
 * series_verdicts.c — the series as a whole: the threads' order (the
 * primary stuck thread first, then by series state and the newest triage's
 * rank), the primary thread and hang signature from the series rather than
 * from one snapshot (a thread that moved is not the hang; a spinning thread
 * gets a "spin|…" signature), and the one-line summary.
 */
#include "analysis/series_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"

static int group_of(const dt_series_thread *t)
{
    if (t->stuck)
        return 0;
    static const char *order[] = { "spinning", "progressing", "not_moved", "single", "idle", "appeared", "exited" };
    for (int i = 0; i < (int)(sizeof order / sizeof order[0]); i++)
        if (strcmp(t->state, order[i]) == 0)
            return 1 + i;
    return 9;
}

static const dt_series_tsnap *last_snap(const dt_series_thread *t) { return &t->snaps[t->last_seen]; }

static int thread_cmp(const void *pa, const void *pb)
{
    const dt_series_thread *a = pa, *b = pb;
    if (a->rank != b->rank)
        return a->rank < b->rank ? -1 : 1;
    int ga = group_of(a), gb = group_of(b);
    if (ga != gb)
        return ga - gb;
    int ra = last_snap(a)->triage_rank, rb = last_snap(b)->triage_rank;
    if (ra != rb) {
        if (ra < 0 || rb < 0)
            return ra < 0 ? 1 : -1; /* threads triage does not list go last */
        return ra - rb;
    }
    return a->thread_id < b->thread_id ? -1 : a->thread_id > b->thread_id;
}

/* "kernelbase!ReadFile+0x1e" → normalised "kernelbase!readfile" (triage's
 * signature form). */
static void norm_frame(const dt_rules *r, const char *display, char *out, size_t n)
{
    if (!display || !display[0]) {
        snprintf(out, n, "-");
        return;
    }
    char buf[600];
    snprintf(buf, sizeof buf, "%s", display);
    char *bang = strchr(buf, '!');
    char *fn = NULL;
    if (bang) {
        *bang = '\0';
        fn = bang + 1;
        char *off = strstr(fn, "+0x");
        if (off)
            *off = '\0';
    } else {
        char *off = strstr(buf, "+0x");
        if (off)
            *off = '\0';
    }
    dt_rules_normalize(r, buf, fn, out, n);
}

static void set_signature(dt_series *s, const char *const *parts, size_t n)
{
    char sig[2048] = "";
    size_t len = 0;
    for (size_t i = 0; i < n && i < 8; i++) {
        s->signature_parts[s->nsignature_parts++] = dt_series_strdup(parts[i]);
        if (len < sizeof sig)
            len += (size_t)snprintf(sig + len, sizeof sig - len, "%s%s", i ? "|" : "", parts[i]);
    }
    s->signature = dt_series_strdup(sig);
}

/* The primary thread and the hang signature, from the series. */
void dt_series_verdicts(dt_series *s, const dt_rules *rules)
{
    s->primary = -1;
    int last_ok = -1;
    for (size_t k = 0; k < s->nsnaps; k++)
        if (strcmp(s->snaps[k].status, "ok") == 0)
            last_ok = (int)k;
    /* A stuck thread that did not move, the one the newest snapshot's triage
     * ranks first; else the busiest spinning thread. */
    int best = -1;
    for (size_t i = 0; i < s->nthreads; i++) {
        const dt_series_thread *t = &s->threads[i];
        if (!t->stuck || t->last_seen != last_ok)
            continue;
        int r = last_snap(t)->triage_rank;
        if (best < 0 || (r >= 0 && (last_snap(&s->threads[best])->triage_rank < 0 ||
                                    r < last_snap(&s->threads[best])->triage_rank)))
            best = (int)i;
    }
    if (best < 0) {
        for (size_t i = 0; i < s->nthreads; i++) {
            const dt_series_thread *t = &s->threads[i];
            if (strcmp(t->state, "spinning") == 0 && (best < 0 || t->cpu_ms > s->threads[best].cpu_ms))
                best = (int)i;
        }
    }
    if (best >= 0) {
        s->threads[best].rank = -1; /* sorts first */
        qsort(s->threads, s->nthreads, sizeof *s->threads, thread_cmp);
        s->primary = 0;
    } else {
        qsort(s->threads, s->nthreads, sizeof *s->threads, thread_cmp);
    }
    for (size_t i = 0; i < s->nthreads; i++)
        s->threads[i].rank = (int)i;

    const dt_series_snapshot *ls = last_ok >= 0 ? &s->snaps[last_ok] : NULL;
    if (s->primary == 0) {
        const dt_series_thread *p = &s->threads[0];
        const dt_series_tsnap *z = last_snap(p);
        if (strcmp(p->state, "spinning") == 0) {
            char inner[600], app[600] = "-";
            norm_frame(rules, z->inner_function, inner, sizeof inner);
            norm_frame(rules, z->first_app_frame, app, sizeof app);
            const char *parts[3] = { "spin", inner, app };
            set_signature(s, parts, 3);
        } else if (ls && ls->signature && z->is_primary) {
            /* The newest triage chose the same thread: its signature stands. */
            char buf[2048];
            snprintf(buf, sizeof buf, "%s", ls->signature);
            const char *parts[8];
            size_t n = 0;
            for (char *tok = strtok(buf, "|"); tok && n < 8; tok = strtok(NULL, "|"))
                parts[n++] = tok;
            set_signature(s, parts, n);
        } else {
            char b[600], a[600], kw[600], dr[600];
            norm_frame(rules, z->blocking_frame, b, sizeof b);
            norm_frame(rules, z->first_app_frame, a, sizeof a);
            norm_frame(rules, z->kernel_wait_frame, kw, sizeof kw);
            norm_frame(rules, z->driver_frame, dr, sizeof dr);
            const char *parts[5] = { "hang", b, a, kw, dr };
            set_signature(s, parts, 5);
        }
    }

    int c_stuck = 0, c_nm = 0, c_spin = 0, c_prog = 0, c_idle = 0, c_app = 0, c_exit = 0;
    for (size_t i = 0; i < s->nthreads; i++) {
        const dt_series_thread *t = &s->threads[i];
        c_stuck += t->stuck;
        c_nm += strcmp(t->state, "not_moved") == 0;
        c_spin += strcmp(t->state, "spinning") == 0;
        c_prog += strcmp(t->state, "progressing") == 0;
        c_idle += strcmp(t->state, "idle") == 0;
        c_app += strcmp(t->presence, "appeared") == 0;
        c_exit += strcmp(t->presence, "exited") == 0;
    }
    int first_ok = -1;
    for (size_t k = 0; k < s->nsnaps && first_ok < 0; k++)
        if (strcmp(s->snaps[k].status, "ok") == 0)
            first_ok = (int)k;
    double span = first_ok >= 0 && ls && ls->has_time && s->snaps[first_ok].has_time
                      ? (double)(ls->time - s->snaps[first_ok].time)
                      : 0;
    char span_s[32];
    dt_series_fmt_seconds(span, span_s, sizeof span_s);
    char prim[256] = "no thread is stuck";
    if (s->primary == 0)
        snprintf(prim, sizeof prim, "primary: thread %llu%s%s%s", (unsigned long long)s->threads[0].thread_id,
                 s->threads[0].thread_name ? " (" : "", dt_or(s->threads[0].thread_name, ""),
                 s->threads[0].thread_name ? ")" : "");
    s->summary = dt_series_strf("%d snapshots over %s: %d did not move (%d stuck), %d spinning, %d progressing, %d idle, "
                      "%d appeared, %d exited; %s",
                      s->used, span_s, c_nm, c_stuck, c_spin, c_prog, c_idle, c_app, c_exit, prim);
}
