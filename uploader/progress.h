/*
 * progress.h — the uploader's progress display: a bar redrawn in place on a
 * terminal (bytes, compression ratio, speed, time left), plain lines when
 * stderr is not a terminal (logs, CI), and "paused — will resume" while the
 * network is down.
 */
#ifndef DT_UPLOADER_PROGRESS_H
#define DT_UPLOADER_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    bool tty;
    uint64_t total;        /* bytes of all files */
    uint64_t done;         /* bytes of the dumps acknowledged by the server */
    uint64_t wire;         /* bytes sent, compressed, acknowledged */
    uint64_t raw_acked;    /* dump bytes behind `wire` (for the ratio) */
    uint64_t start_done;   /* `done` when this run started (speed counts this run only) */
    double start_time, last_draw;
    int last_percent;
} dt_progress;

void dt_progress_init(dt_progress *p, uint64_t total, uint64_t already);
/* Draws (rate-limited) with `inflight` dump bytes of the current chunk
 * estimated as sent. */
void dt_progress_draw(dt_progress *p, uint64_t inflight, bool force);
void dt_progress_paused(dt_progress *p, const char *why, unsigned retry_in);
void dt_progress_done(dt_progress *p);
double dt_progress_now(void);

#endif
