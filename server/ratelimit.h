/*
 * ratelimit.h — per-client limits of the HTTP server: upload rates and
 * in-flight upload bytes per client, and throttling with backoff of failed
 * credential guesses (bearer tokens, login, view keys).
 *
 * A "client" is a key chosen by the caller: "t:<token id>" for a request
 * made with a token, "ip:<address>" otherwise.  The table has a fixed size
 * (memory stays bounded whatever the number of clients); a client that has
 * nothing in flight, no backoff running and a full bucket may be forgotten
 * to make room, which only ever makes the server more lenient.
 * One table lives in dt_server; it is safe to use from every thread.
 */
#ifndef DT_SERVER_RATELIMIT_H
#define DT_SERVER_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

typedef struct {
    unsigned upload_rate;      /* uploads per minute per client (0: no limit); the burst is the same number */
    uint64_t inflight_bytes;   /* bytes of uploads in progress per client (0: no limit) */
    unsigned auth_free;        /* failed credential guesses per client before backoff starts */
    unsigned auth_backoff_max; /* longest backoff, seconds */
} dt_ratelimit_config;

typedef enum {
    DT_LIMIT_NONE = 0,
    DT_LIMIT_UPLOAD_RATE,   /* too many uploads per minute */
    DT_LIMIT_INFLIGHT,      /* too many bytes of uploads in progress */
    DT_LIMIT_QUEUE_SHARE,   /* the client's share of the queue is full (counted by the caller) */
    DT_LIMIT_AUTH,          /* failed credential guesses: backing off */
    DT_LIMIT_COUNT
} dt_limit_kind;

/* Kinds of failed credential: for the metrics. */
typedef enum { DT_AUTH_TOKEN = 0, DT_AUTH_LOGIN, DT_AUTH_VIEW_KEY, DT_AUTH_KIND_COUNT } dt_auth_kind;

typedef struct dt_ratelimit dt_ratelimit;

dt_status dt_ratelimit_new(const dt_ratelimit_config *cfg, dt_ratelimit **out, dt_error *err);
void dt_ratelimit_free(dt_ratelimit *rl);

/* An upload starts: takes one from the client's bucket and reserves
 * expect_bytes (the Content-Length, 0 if unknown) of its in-flight budget.
 * true: admitted (end it with dt_ratelimit_upload_end); false: refused, the
 * kind in *why and the seconds to wait in *retry_after. */
bool dt_ratelimit_upload_begin(dt_ratelimit *rl, const char *client, uint64_t expect_bytes, int64_t now_ms,
                               dt_limit_kind *why, unsigned *retry_after);
/* More body bytes than reserved arrived: grows the reservation by n (own:
 * this upload's reservation so far).  false when the client's other
 * uploads plus this one pass the budget (the upload should fail; nothing
 * was added). */
bool dt_ratelimit_upload_grow(dt_ratelimit *rl, const char *client, uint64_t own, uint64_t n);
/* The upload ended (either way): releases its reservation of `reserved` bytes. */
void dt_ratelimit_upload_end(dt_ratelimit *rl, const char *client, uint64_t reserved);

/* Whether the client must wait before its credentials are checked again;
 * *retry_after gets the seconds left. */
bool dt_ratelimit_auth_blocked(dt_ratelimit *rl, const char *client, int64_t now_ms, unsigned *retry_after);
/* A failed guess: after auth_free of them (forgotten 15 minutes after the
 * last one), each further failure blocks the client for 1, 2, 4 … seconds,
 * up to auth_backoff_max. */
void dt_ratelimit_auth_failed(dt_ratelimit *rl, const char *client, dt_auth_kind kind, int64_t now_ms);

/* Counts a refusal made by the caller (e.g. the queue share) for metrics. */
void dt_ratelimit_count(dt_ratelimit *rl, dt_limit_kind kind);
/* Appends the Prometheus text of the counters (dt_throttled_total{reason},
 * dt_auth_failures_total{kind}) to buf; returns the length written. */
size_t dt_ratelimit_metrics(dt_ratelimit *rl, char *buf, size_t len);
/* Counter values (tests). */
uint64_t dt_ratelimit_throttled(dt_ratelimit *rl, dt_limit_kind kind);

#endif
