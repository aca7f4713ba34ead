/*
 * series_compare.c — one thread across the snapshots: each step (one
 * snapshot to the next holding the thread) is "same", "spinning" or
 * "changed", and the thread gets its series state and verdict.
 *
 * The rules (docs/report.md, "series"):
 *   spinning  the innermost function and every caller (function and stack
 *             pointer) are equal, the instruction pointer or the registers
 *             are not, the thread is not waiting in either snapshot and it
 *             used CPU in between (at least 10% of the time between the
 *             dumps, when the dumps hold CPU times);
 *   same      every frame has the same function and stack pointer (its
 *             instruction pointer may have moved inside the function: lock
 *             waits that time out and wait again, as Wine's critical
 *             sections do every few seconds, are not progress);
 *   changed   anything else.
 * A thread is spinning if any step spins, idle if triage calls it idle in
 * every snapshot, progressing if any step changed, idle if it stayed in a
 * wait triage calls benign (sleeping), and otherwise did not move.
 */
#include "analysis/series_internal.h"

#include <string.h>

#include "base/json.h"

/* A step uses CPU when it used at least this share of the time between the
 * two dumps ("used 4.9 s of CPU in 5 s"). */
#define BUSY_SHARE 0.10
static bool is_waiting(const dt_series_tsnap *t) { return t->state && strcmp(t->state, "waiting") == 0; }

static void compare_step(const dt_series_tsnap *a, dt_series_tsnap *b, double wall)
{
    b->wall_delta_s = wall;
    b->changed_at = -1;
    if (a->has_cpu && b->has_cpu) {
        b->has_cpu_delta = true;
        b->cpu_delta_ms = b->cpu_ms > a->cpu_ms ? b->cpu_ms - a->cpu_ms : 0;
    }
    double need = wall > 0 ? BUSY_SHARE * wall * 1000.0 : 1.0;
    bool busy = !b->has_cpu_delta || (b->cpu_delta_ms > 0 && b->cpu_delta_ms >= need);
    bool exact = a->nframes == b->nframes && a->frames_hash == b->frames_hash;
    bool same_place = a->nframes == b->nframes && a->places_hash == b->places_hash;
    /* A lone frame says nothing about the callers: no spinning from it. */
    if (a->nframes >= 2 && a->nframes == b->nframes && a->callers_hash == b->callers_hash &&
        a->inner_function && b->inner_function && strcmp(a->inner_function, b->inner_function) == 0 &&
        (!exact || a->regs_hash != b->regs_hash) && !is_waiting(a) && !is_waiting(b) && busy) {
        b->change = "spinning";
        return;
    }
    if (same_place) {
        b->change = "same";
        b->ip_moved = !exact;
        return;
    }
    b->change = "changed";
    /* What changed: the first frame, counted from the thread's start, whose
     * name differs (both stacks must be kept whole to count from there). */
    if (a->nnames == a->nframes && b->nnames == b->nframes) {
        size_t k = 0;
        while (k < a->nnames && k < b->nnames &&
               strcmp(a->names[a->nnames - 1 - k], b->names[b->nnames - 1 - k]) == 0)
            k++;
        b->changed_at = (int)k;
        b->changed_before = k < a->nnames ? a->names[a->nnames - 1 - k] : NULL;
        b->changed_after = k < b->nnames ? b->names[b->nnames - 1 - k] : NULL;
        if (!b->changed_before && !b->changed_after && a->nnames) {
            /* The same functions at other stack depths: say where it is. */
            b->changed_before = a->names[0];
            b->changed_after = b->names[0];
            b->changed_sp_only = true;
        }
    } else {
        b->changed_before = a->nnames ? a->names[0] : NULL;
        b->changed_after = b->nnames ? b->names[0] : NULL;
    }
}
void dt_series_classify_thread(dt_series *s, dt_series_thread *t)
{
    int prev = -1, first_ok = -1, last_ok = -1, npresent = 0;
    bool any_spin = false, any_change = false, all_idle = true, all_unstuck = true;
    for (size_t k = 0; k < s->nsnaps; k++) {
        if (strcmp(s->snaps[k].status, "ok") != 0)
            continue;
        if (first_ok < 0)
            first_ok = (int)k;
        last_ok = (int)k;
        dt_series_tsnap *ts = &t->snaps[k];
        if (!ts->present)
            continue;
        npresent++;
        if (t->first_seen < 0 || npresent == 1)
            t->first_seen = (int)k;
        t->last_seen = (int)k;
        all_idle &= ts->idle;
        all_unstuck &= !ts->stuck;
        if (prev < 0) {
            ts->change = (int)k == first_ok ? "first" : "appeared";
            ts->changed_at = -1;
        } else {
            double wall = s->snaps[k].has_time && s->snaps[prev].has_time
                              ? (double)(s->snaps[k].time - s->snaps[prev].time)
                              : 0;
            compare_step(&t->snaps[prev], ts, wall);
            any_spin |= strcmp(ts->change, "spinning") == 0;
            any_change |= strcmp(ts->change, "changed") == 0;
        }
        prev = (int)k;
    }
    bool at_first = t->first_seen == first_ok, at_last = t->last_seen == last_ok;
    bool gap = false;
    for (int k = t->first_seen; k <= t->last_seen; k++)
        gap |= strcmp(s->snaps[k].status, "ok") == 0 && !t->snaps[k].present;
    t->presence = gap ? "intermittent" : at_first && at_last ? "all" : at_first ? "exited" : at_last ? "appeared"
                                                                                                 : "intermittent";
    const dt_series_tsnap *a = &t->snaps[t->first_seen], *z = &t->snaps[t->last_seen];
    double span = s->snaps[t->last_seen].has_time && s->snaps[t->first_seen].has_time
                      ? (double)(s->snaps[t->last_seen].time - s->snaps[t->first_seen].time)
                      : 0;
    if (a->has_cpu && z->has_cpu && npresent > 1) {
        t->has_cpu = true;
        t->cpu_ms = z->cpu_ms > a->cpu_ms ? z->cpu_ms - a->cpu_ms : 0;
        t->cpu_wall_s = span;
    }
    if (a->has_wait && z->has_wait && npresent > 1 && z->wait_seconds > a->wait_seconds) {
        t->has_wait_growth = true;
        t->wait_growth_s = z->wait_seconds - a->wait_seconds;
    }
    const char *last_verdict = dt_or(z->verdict, "no triage verdict");
    char span_s[32], cpu_s[32], wall_s[32];
    dt_series_fmt_seconds(span, span_s, sizeof span_s);
    if (npresent < 2) {
        t->state = s->used < 2 ? "single" : strcmp(t->presence, "exited") == 0 ? "exited"
                                       : strcmp(t->presence, "appeared") == 0   ? "appeared"
                                                                                : "single";
        /* Seen once: nothing to compare.  A thread that exited was not stuck. */
        t->stuck = strcmp(t->state, "exited") != 0 && z->stuck;
        if (strcmp(t->state, "exited") == 0)
            t->verdict = dt_series_strf("exited after snapshot %d (there: %s)", t->last_seen + 1, last_verdict);
        else if (strcmp(t->state, "appeared") == 0)
            t->verdict = dt_series_strf("appeared in snapshot %d, the last one: %s", t->first_seen + 1, last_verdict);
        else
            t->verdict = dt_series_strf("in one snapshot only: %s", last_verdict);
        return;
    }
    if (any_spin) {
        t->state = "spinning";
        t->stuck = false;
        if (t->has_cpu) {
            dt_series_fmt_seconds(t->cpu_ms / 1000.0, cpu_s, sizeof cpu_s);
            dt_series_fmt_seconds(t->cpu_wall_s, wall_s, sizeof wall_s);
            t->verdict = dt_series_strf("spinning in %s: used %s of CPU in %s", dt_or(z->inner_function, "?"), cpu_s, wall_s);
        } else {
            t->verdict = dt_series_strf("spinning in %s: the instruction pointer moves, the callers stay (no CPU times "
                              "in the dumps)",
                              dt_or(z->inner_function, "?"));
        }
        return;
    }
    if (all_idle) {
        t->state = "idle";
        t->stuck = false;
        t->verdict = dt_series_strf("idle in every snapshot: %s", last_verdict);
        return;
    }
    if (any_change) {
        t->state = "progressing";
        t->stuck = false;
        const char *before = NULL, *after = NULL;
        bool sp_only = false;
        int changes = 0, steps = 0;
        for (int k = t->first_seen + 1; k <= t->last_seen; k++) {
            const dt_series_tsnap *x = &t->snaps[k];
            if (!x->present || !x->change)
                continue;
            steps++;
            if (strcmp(x->change, "changed") == 0) {
                changes++;
                before = x->changed_before;
                after = x->changed_after;
                sp_only = x->changed_sp_only;
            }
        }
        t->verdict = dt_series_strf("progressing, not stuck: its stack changed in %d of %d intervals (last: %s → %s%s)",
                          changes, steps, dt_or(before, "-"), dt_or(after, "-"),
                          sp_only ? ", the same functions at another stack depth" : "");
        return;
    }
    if (all_unstuck) {
        t->state = "idle";
        t->stuck = false;
        t->verdict = dt_series_strf("idle: did not move for %s in a wait that is not a hang: %s", span_s, last_verdict);
        return;
    }
    t->state = "not_moved";
    t->stuck = z->stuck;
    t->not_moved_seconds = span;
    t->verdict = dt_series_strf("did not move for %s (%d snapshots): %s", span_s, npresent, last_verdict);
}
