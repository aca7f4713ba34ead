/*
 * ratelimit.c — owns the per-client limit table (see ratelimit.h): token
 * buckets for upload rates, in-flight byte budgets, and the failure counts
 * and backoff of credential guesses.
 *
 * The table is open-addressed with a short probe run: a key's slot is found
 * within PROBE slots of its hash.  When all of them are taken, the least
 * recently seen entry that holds no state worth keeping (nothing in flight,
 * no backoff running) is reused; if none qualifies the client goes
 * unlimited for that call rather than being refused, because refusing
 * would let a crowd of clients lock out a newcomer.
 */
#include "ratelimit.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 4096
#define PROBE 16
#define KEY_LEN 64
#define AUTH_FORGET_MS (15 * 60 * 1000)

typedef struct {
    char key[KEY_LEN];          /* "" = free */
    int64_t seen_ms;            /* last use, for eviction */
    double tokens;              /* upload bucket */
    int64_t refill_ms;          /* when tokens was last brought up to date */
    uint64_t inflight;          /* bytes reserved by uploads in progress */
    unsigned failures;          /* failed guesses since the last quiet period */
    int64_t last_failure_ms;
    int64_t blocked_until_ms;
} entry;

struct dt_ratelimit {
    dt_ratelimit_config cfg;
    pthread_mutex_t mu;
    entry *slots;
    uint64_t throttled[DT_LIMIT_COUNT];
    uint64_t auth_failures[DT_AUTH_KIND_COUNT];
};

dt_status dt_ratelimit_new(const dt_ratelimit_config *cfg, dt_ratelimit **out, dt_error *err)
{
    *out = NULL;
    dt_ratelimit *rl = calloc(1, sizeof *rl);
    entry *slots = calloc(SLOTS, sizeof *slots);
    if (!rl || !slots) {
        free(rl);
        free(slots);
        return dt_error_set(err, DT_ERR_NOMEM, "out of memory for the client limit table");
    }
    rl->cfg = *cfg;
    rl->slots = slots;
    pthread_mutex_init(&rl->mu, NULL);
    *out = rl;
    return DT_OK;
}

void dt_ratelimit_free(dt_ratelimit *rl)
{
    if (!rl)
        return;
    pthread_mutex_destroy(&rl->mu);
    free(rl->slots);
    free(rl);
}

static uint64_t hash_key(const char *k)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *k; k++)
        h = (h ^ (unsigned char)*k) * 1099511628211ull;
    return h;
}

static bool idle(const entry *e, int64_t now_ms)
{
    return e->inflight == 0 && e->blocked_until_ms <= now_ms
        && (e->failures == 0 || now_ms - e->last_failure_ms > AUTH_FORGET_MS);
}

/* The entry of client (created if needed), or NULL when no slot is free. */
static entry *find(dt_ratelimit *rl, const char *client, int64_t now_ms, bool create)
{
    uint64_t h = hash_key(client);
    entry *victim = NULL;
    for (unsigned i = 0; i < PROBE; i++) {
        entry *e = &rl->slots[(h + i) % SLOTS];
        if (e->key[0] && strcmp(e->key, client) == 0) {
            e->seen_ms = now_ms;
            return e;
        }
        if (!e->key[0]) {
            if (!victim || victim->key[0])
                victim = e;
        } else if (idle(e, now_ms) && (!victim || (victim->key[0] && e->seen_ms < victim->seen_ms))) {
            victim = e;
        }
    }
    if (!create || !victim)
        return NULL;
    memset(victim, 0, sizeof *victim);
    snprintf(victim->key, sizeof victim->key, "%s", client);
    victim->seen_ms = now_ms;
    victim->refill_ms = now_ms;
    victim->tokens = rl->cfg.upload_rate;
    return victim;
}

static void refill(const dt_ratelimit *rl, entry *e, int64_t now_ms)
{
    double per_ms = rl->cfg.upload_rate / 60000.0;
    if (now_ms > e->refill_ms)
        e->tokens = fmin((double)rl->cfg.upload_rate, e->tokens + (double)(now_ms - e->refill_ms) * per_ms);
    e->refill_ms = now_ms;
}

bool dt_ratelimit_upload_begin(dt_ratelimit *rl, const char *client, uint64_t expect_bytes, int64_t now_ms,
                               dt_limit_kind *why, unsigned *retry_after)
{
    *why = DT_LIMIT_NONE;
    *retry_after = 0;
    if (!rl)
        return true;
    pthread_mutex_lock(&rl->mu);
    entry *e = find(rl, client, now_ms, true);
    bool ok = true;
    if (e && rl->cfg.upload_rate) {
        refill(rl, e, now_ms);
        if (e->tokens < 1.0) {
            ok = false;
            *why = DT_LIMIT_UPLOAD_RATE;
            *retry_after = (unsigned)ceil((1.0 - e->tokens) * 60.0 / rl->cfg.upload_rate);
        }
    }
    /* A client with nothing in flight may always start one upload: the
     * request limit, not this budget, bounds a single upload. */
    if (ok && e && rl->cfg.inflight_bytes && e->inflight > 0 && e->inflight + expect_bytes > rl->cfg.inflight_bytes) {
        ok = false;
        *why = DT_LIMIT_INFLIGHT;
        *retry_after = 30;
    }
    if (ok && e) {
        if (rl->cfg.upload_rate)
            e->tokens -= 1.0;
        e->inflight += expect_bytes;
    }
    if (!ok) {
        rl->throttled[*why]++;
        if (*retry_after == 0)
            *retry_after = 1;
    }
    /* e == NULL (table full): admitted unlimited, see the file comment. */
    pthread_mutex_unlock(&rl->mu);
    return ok;
}

bool dt_ratelimit_upload_grow(dt_ratelimit *rl, const char *client, uint64_t own, uint64_t n)
{
    if (!rl)
        return true;
    pthread_mutex_lock(&rl->mu);
    entry *e = find(rl, client, 0, false);
    bool ok = true;
    if (e) {
        /* Only the client's other uploads count against this one: a lone
         * upload is bounded by --max-request-size, not by this budget. */
        bool others = e->inflight > own;
        if (rl->cfg.inflight_bytes && others && e->inflight + n > rl->cfg.inflight_bytes) {
            ok = false;
            rl->throttled[DT_LIMIT_INFLIGHT]++;
        } else {
            e->inflight += n;
        }
    }
    pthread_mutex_unlock(&rl->mu);
    return ok;
}

void dt_ratelimit_upload_end(dt_ratelimit *rl, const char *client, uint64_t reserved)
{
    if (!rl)
        return;
    pthread_mutex_lock(&rl->mu);
    entry *e = find(rl, client, 0, false);
    if (e)
        e->inflight = e->inflight > reserved ? e->inflight - reserved : 0;
    pthread_mutex_unlock(&rl->mu);
}

bool dt_ratelimit_auth_blocked(dt_ratelimit *rl, const char *client, int64_t now_ms, unsigned *retry_after)
{
    *retry_after = 0;
    if (!rl)
        return false;
    pthread_mutex_lock(&rl->mu);
    entry *e = find(rl, client, now_ms, false);
    bool blocked = e && e->blocked_until_ms > now_ms;
    if (blocked) {
        *retry_after = (unsigned)((e->blocked_until_ms - now_ms + 999) / 1000);
        rl->throttled[DT_LIMIT_AUTH]++;
    }
    pthread_mutex_unlock(&rl->mu);
    return blocked;
}

void dt_ratelimit_auth_failed(dt_ratelimit *rl, const char *client, dt_auth_kind kind, int64_t now_ms)
{
    if (!rl)
        return;
    pthread_mutex_lock(&rl->mu);
    rl->auth_failures[kind]++;
    entry *e = find(rl, client, now_ms, true);
    if (e) {
        if (e->failures && now_ms - e->last_failure_ms > AUTH_FORGET_MS)
            e->failures = 0;
        e->failures++;
        e->last_failure_ms = now_ms;
        if (e->failures > rl->cfg.auth_free) {
            unsigned over = e->failures - rl->cfg.auth_free - 1;
            double secs = over >= 30 ? (double)rl->cfg.auth_backoff_max : fmin((double)(1u << over),
                                                                                (double)rl->cfg.auth_backoff_max);
            e->blocked_until_ms = now_ms + (int64_t)(secs * 1000);
        }
    }
    pthread_mutex_unlock(&rl->mu);
}

void dt_ratelimit_count(dt_ratelimit *rl, dt_limit_kind kind)
{
    if (!rl || kind <= DT_LIMIT_NONE || kind >= DT_LIMIT_COUNT)
        return;
    pthread_mutex_lock(&rl->mu);
    rl->throttled[kind]++;
    pthread_mutex_unlock(&rl->mu);
}

uint64_t dt_ratelimit_throttled(dt_ratelimit *rl, dt_limit_kind kind)
{
    if (!rl || kind >= DT_LIMIT_COUNT)
        return 0;
    pthread_mutex_lock(&rl->mu);
    uint64_t v = rl->throttled[kind];
    pthread_mutex_unlock(&rl->mu);
    return v;
}

size_t dt_ratelimit_metrics(dt_ratelimit *rl, char *buf, size_t len)
{
    static const char *const reasons[DT_LIMIT_COUNT] = { "none", "upload_rate", "inflight_bytes", "queue_share",
                                                         "auth_backoff" };
    static const char *const kinds[DT_AUTH_KIND_COUNT] = { "token", "login", "view_key" };
    uint64_t thr[DT_LIMIT_COUNT] = { 0 }, fail[DT_AUTH_KIND_COUNT] = { 0 };
    if (rl) {
        pthread_mutex_lock(&rl->mu);
        memcpy(thr, rl->throttled, sizeof thr);
        memcpy(fail, rl->auth_failures, sizeof fail);
        pthread_mutex_unlock(&rl->mu);
    }
    size_t off = 0;
#define ADD(...)                                                                                   \
    do {                                                                                           \
        if (off < len)                                                                             \
            off += (size_t)snprintf(buf + off, len - off, __VA_ARGS__);                            \
    } while (0)
    ADD("# HELP dt_throttled_total Requests refused with 429 by a per-client limit, by reason.\n"
        "# TYPE dt_throttled_total counter\n");
    for (int i = 1; i < DT_LIMIT_COUNT; i++)
        ADD("dt_throttled_total{reason=\"%s\"} %llu\n", reasons[i], (unsigned long long)thr[i]);
    ADD("# HELP dt_auth_failures_total Failed credentials (guesses), by kind.\n"
        "# TYPE dt_auth_failures_total counter\n");
    for (int i = 0; i < DT_AUTH_KIND_COUNT; i++)
        ADD("dt_auth_failures_total{kind=\"%s\"} %llu\n", kinds[i], (unsigned long long)fail[i]);
#undef ADD
    return off < len ? off : len;
}
