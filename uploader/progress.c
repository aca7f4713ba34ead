/*
 * progress.c — see progress.h.  Output goes to stderr, so stdout carries
 * only the result (the triage URL, the verdict) for scripts.
 */
#include "progress.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

double dt_progress_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void dt_progress_init(dt_progress *p, uint64_t total, uint64_t already)
{
    p->tty = isatty(2);
    p->total = total;
    p->done = p->start_done = already;
    p->wire = p->raw_acked = 0;
    p->start_time = dt_progress_now();
    p->last_draw = 0;
    p->last_percent = -1;
}

static void human(double b, char *out, size_t len)
{
    const char *u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
    int i = 0;
    while (b >= 1024 && i < 4) {
        b /= 1024;
        i++;
    }
    snprintf(out, len, i ? "%.1f %s" : "%.0f %s", b, u[i]);
}

void dt_progress_draw(dt_progress *p, uint64_t inflight, bool force)
{
    double now = dt_progress_now();
    uint64_t cur = p->done + inflight;
    if (cur > p->total)
        cur = p->total;
    int pct = p->total ? (int)(cur * 100 / p->total) : 100;
    /* Terminal: 4 redraws a second.  Lines: every 5 % or 30 s. */
    if (!force) {
        if (p->tty && now - p->last_draw < 0.25)
            return;
        if (!p->tty && pct / 5 == p->last_percent / 5 && now - p->last_draw < 30)
            return;
    }
    p->last_draw = now;
    p->last_percent = pct;
    double el = now - p->start_time;
    double speed = el > 0.5 ? (double)(cur - p->start_done) / el : 0;
    char a[32], b[32], s[32], eta[32] = "--:--", ratio[32] = "";
    human((double)cur, a, sizeof a);
    human((double)p->total, b, sizeof b);
    human(speed, s, sizeof s);
    if (speed > 0) {
        long left = (long)((double)(p->total - cur) / speed);
        snprintf(eta, sizeof eta, "%ld:%02ld:%02ld", left / 3600, left / 60 % 60, left % 60);
    }
    if (p->wire > 0)
        snprintf(ratio, sizeof ratio, "  ratio %.1fx", (double)p->raw_acked / (double)p->wire);
    if (p->tty) {
        char bar[31];
        int fill = pct * 30 / 100;
        for (int i = 0; i < 30; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[30] = 0;
        fprintf(stderr, "\r[%s] %3d%%  %s / %s  %s/s  ETA %s%s   ", bar, pct, a, b, s, eta, ratio);
    } else {
        fprintf(stderr, "progress: %d%% %s of %s, %s/s, ETA %s%s\n", pct, a, b, s, eta, ratio);
    }
    fflush(stderr);
}

void dt_progress_paused(dt_progress *p, const char *why, unsigned retry_in)
{
    fprintf(stderr, "%spaused — will resume (%s; retrying in %u s)%s", p->tty ? "\r" : "", why, retry_in,
            p->tty ? "\033[K" : "\n");
    fflush(stderr);
}

void dt_progress_done(dt_progress *p)
{
    dt_progress_draw(p, 0, true);
    if (p->tty)
        fputc('\n', stderr);
}
