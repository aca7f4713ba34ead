/*
 * series_identity.c — whether a snapshot belongs in the series: of the same
 * process as the first (pid, image, process create time; a series of two
 * processes is refused unless allow_mismatch) and not the same dump given
 * twice (noticed and compared once).
 */
#include "analysis/series_internal.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static bool same_text(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcasecmp(a, b) == 0);
}

/* "another process" reasons, or "" when snapshot b is of a's process. */
void dt_series_process_mismatch(const dt_series_snapshot *a, const dt_series_snapshot *b, char *why, size_t n)
{
    why[0] = '\0';
    if (a->has_pid && b->has_pid && a->pid != b->pid)
        snprintf(why, n, "pid %llu, not %llu", (unsigned long long)b->pid, (unsigned long long)a->pid);
    else if (a->image && b->image && !same_text(a->image, b->image))
        snprintf(why, n, "image %s, not %s", b->image, a->image);
    else if (a->create_time && b->create_time) {
        int64_t ta, tb;
        if (dt_series_parse_time(a->create_time, &ta) && dt_series_parse_time(b->create_time, &tb) &&
            (ta - tb > 2 || tb - ta > 2))
            snprintf(why, n, "process created %s, not %s", b->create_time, a->create_time);
    }
}

/* The same dump twice (the same file given twice, or a copy): same time,
 * size and threads, each with the same registers and frames. */
bool dt_series_is_duplicate(const dt_series *s, size_t k, const dt_series_snapshot *b, const dt_series_pending *p)
{
    const dt_series_snapshot *a = &s->snaps[k];
    if (!a->has_time || !b->has_time || a->time != b->time || a->size != b->size ||
        a->thread_count != b->thread_count)
        return false;
    for (size_t i = 0; i < p->n; i++) {
        const dt_series_thread *t = NULL;
        for (size_t j = 0; j < s->nthreads && !t; j++)
            if (s->threads[j].thread_id == p->t[i].tid)
                t = &s->threads[j];
        if (!t || !t->snaps[k].present)
            return false;
        const dt_series_tsnap *x = &t->snaps[k], *y = &p->t[i].ts;
        if (x->frames_hash != y->frames_hash || x->regs_hash != y->regs_hash || x->nframes != y->nframes)
            return false;
    }
    return true;
}
