/*
 * series.c — dt_analyze_series (series.h): several dumps of one hang,
 * compared thread by thread.
 *
 * Each snapshot goes through the ordinary analysis (dt_analyze), one at a
 * time and in dump-time order; what the comparison needs is copied out of
 * its report into small per-thread summaries (report/series_report.h) and
 * the report is dropped, except the newest, which becomes the document the
 * "series" member is added to.  The summaries are read from the documented
 * JSON (docs/report.md), as triage reads the parts, so the comparison sees
 * exactly what a reader of each single report sees.
 *
 * The rules of the comparison (docs/report.md, "series"):
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
#include "analysis/series.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <zlib.h>

#include "analysis/analysis.h"
#include "base/json.h"
#include "formats/sniff.h"
#include "report/series_report.h"
#include "triage/rules.h"

/* A step uses CPU when it used at least this share of the time between the
 * two dumps ("used 4.9 s of CPU in 5 s"). */
#define BUSY_SHARE 0.10

/* ------------------------------------------------------------ helpers --- */

static char *xstrdup(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

#define FNV_START UINT64_C(0xcbf29ce484222325)

static void add_warning(char ***list, size_t *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void add_warning(char ***list, size_t *n, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char **grown = realloc(*list, (*n + 1) * sizeof **list);
    if (!grown)
        return;
    *list = grown;
    char *s = xstrdup(buf);
    if (s)
        (*list)[(*n)++] = s;
}

/* "2026-12-04T18:49:54Z" → Unix seconds. */
static bool parse_iso_time(const char *s, int64_t *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                     &tm.tm_min, &tm.tm_sec) != 6)
        return false;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    *out = (int64_t)timegm(&tm);
    return true;
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    const char *b = strrchr(p, '\\');
    if (b && (!s || b > s))
        s = b;
    return s ? s + 1 : p;
}

static bool ends_with_ci(const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);
    return n >= k && strncasecmp(s + n - k, suffix, k) == 0;
}

/* The name a dump pairs by: its file name without ".gz", ".dmp" and, for a
 * kernel dump, ".Kernel" (procdump writes X.dmp and X.Kernel.dmp). */
static size_t pairing_stem(const char *path, bool kernel, char *out, size_t outsz)
{
    const char *b = base_name(path);
    size_t n = strlen(b);
    if (ends_with_ci(b, n, ".gz"))
        n -= 3;
    if (ends_with_ci(b, n, ".dmp"))
        n -= 4;
    if (kernel && ends_with_ci(b, n, ".kernel"))
        n -= 7;
    if (n >= outsz)
        n = outsz - 1;
    memcpy(out, b, n);
    out[n] = '\0';
    return n;
}

/* What kind of dump a file is and, for a minidump, its header's time —
 * from its first bytes only (gzip inflated as far as needed), so that the
 * snapshots can be ordered before any is analysed. */
static void peek(const char *path, dt_file_kind *kind, bool *has_time, int64_t *t)
{
    *kind = DT_KIND_UNKNOWN;
    *has_time = false;
    gzFile g = gzopen(path, "rb");
    if (!g)
        return;
    unsigned char h[32];
    int n = gzread(g, h, sizeof h);
    gzclose(g);
    if (n <= 0)
        return;
    *kind = dt_sniff(h, (size_t)n);
    if (*kind == DT_KIND_MINIDUMP && n >= 24) {
        *t = (int64_t)((uint32_t)h[20] | (uint32_t)h[21] << 8 | (uint32_t)h[22] << 16 | (uint32_t)h[23] << 24);
        *has_time = true;
    }
}

/* ------------------------------------------------------ the work list --- */

typedef struct {
    const char *user, *kernel;
    int arg_index;
    bool has_time;
    int64_t time;
} input;

static int input_cmp(const void *pa, const void *pb)
{
    const input *a = pa, *b = pb;
    if (a->has_time != b->has_time)
        return a->has_time ? -1 : 1;
    if (a->has_time && a->time != b->time)
        return a->time < b->time ? -1 : 1;
    return a->arg_index - b->arg_index;
}

/* Routes the paths, pairs kernel dumps with user dumps, orders by time. */
static dt_status plan(const dt_series_request *req, input *in, size_t *nin, dt_error *err)
{
    const char *kernels[2 * DT_SERIES_MAX];
    size_t nk = 0;
    *nin = 0;
    for (size_t i = 0; i < req->npaths; i++) {
        dt_file_kind k;
        bool ht;
        int64_t t = 0;
        peek(req->paths[i], &k, &ht, &t);
        if (k == DT_KIND_KERNEL64 || k == DT_KIND_KERNEL32) {
            if (nk == 2 * DT_SERIES_MAX)
                return dt_error_set(err, DT_ERR_ARG, "too many kernel dumps in one series");
            kernels[nk++] = req->paths[i];
            continue;
        }
        /* Anything else is a user snapshot; one that is not a dump at all
         * is reported unusable by its analysis. */
        if (*nin == DT_SERIES_MAX)
            return dt_error_set(err, DT_ERR_ARG, "a series takes at most %d snapshots", DT_SERIES_MAX);
        in[*nin] = (input){ .user = req->paths[i], .arg_index = (int)*nin, .has_time = ht, .time = t };
        (*nin)++;
    }
    for (size_t i = 0; i < req->nkernel_paths; i++) {
        if (nk == 2 * DT_SERIES_MAX)
            return dt_error_set(err, DT_ERR_ARG, "too many kernel dumps in one series");
        kernels[nk++] = req->kernel_paths[i];
    }
    if (*nin == 0)
        return dt_error_set(err, DT_ERR_ARG, "a series needs user-mode dumps");
    const char *users[DT_SERIES_MAX];
    int kof[DT_SERIES_MAX];
    for (size_t u = 0; u < *nin; u++)
        users[u] = in[u].user;
    dt_status st = dt_series_pair(users, *nin, kernels, nk, kof, err);
    if (st != DT_OK)
        return st;
    for (size_t u = 0; u < *nin; u++)
        in[u].kernel = kof[u] >= 0 ? kernels[kof[u]] : NULL;
    qsort(in, *nin, sizeof *in, input_cmp);
    return DT_OK;
}

dt_status dt_series_pair(const char *const *user_names, size_t nusers, const char *const *kernel_names,
                         size_t nkernels, int *kernel_of_user, dt_error *err)
{
    for (size_t u = 0; u < nusers; u++)
        kernel_of_user[u] = -1;
    /* By name first: X.Kernel.dmp goes with X.dmp. */
    for (size_t k = 0; k < nkernels; k++) {
        char ks[512], us[512];
        pairing_stem(kernel_names[k], true, ks, sizeof ks);
        for (size_t u = 0; u < nusers; u++) {
            if (kernel_of_user[u] >= 0)
                continue;
            pairing_stem(user_names[u], false, us, sizeof us);
            if (strcasecmp(ks, us) == 0) {
                kernel_of_user[u] = (int)k;
                break;
            }
        }
    }
    /* The rest in the order given. */
    size_t u = 0;
    for (size_t k = 0; k < nkernels; k++) {
        bool taken = false;
        for (size_t j = 0; j < nusers; j++)
            taken |= kernel_of_user[j] == (int)k;
        if (taken)
            continue;
        while (u < nusers && kernel_of_user[u] >= 0)
            u++;
        if (u == nusers)
            return dt_error_set(err, DT_ERR_ARG, "%s: no user dump left to pair this kernel dump with",
                                kernel_names[k]);
        kernel_of_user[u] = (int)k;
    }
    return DT_OK;
}

/* --------------------------------------------------- per-snapshot facts --- */

static void tsnap_free(dt_series_tsnap *t)
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
    uint64_t h = FNV_START, hp = FNV_START, hc = FNV_START;
    size_t i = 0;
    const cJSON *f;
    cJSON_ArrayForEach(f, frames) {
        uint64_t ip = 0, sp = 0;
        dt_json_get_hex(f, "ip", &ip);
        dt_json_get_hex(f, "sp", &sp);
        h = fnv(fnv(h, &ip, sizeof ip), &sp, sizeof sp);
        char name[600];
        frame_name(f, false, name, sizeof name);
        hp = fnv(fnv(hp, name, strlen(name) + 1), &sp, sizeof sp);
        if (i > 0)
            hc = fnv(fnv(hc, name, strlen(name) + 1), &sp, sizeof sp);
        if (i == 0) {
            frame_name(f, true, name, sizeof name);
            ts->top_frame = xstrdup(name);
            ts->ip = ip;
            ts->sp = sp;
            ts->has_ip = true;
        }
        frame_name(f, false, name, sizeof name);
        if (i == 0)
            ts->inner_function = xstrdup(name);
        if (ts->nnames < DT_SERIES_MAX_NAMES) {
            ts->names[ts->nnames] = xstrdup(name);
            if (ts->names[ts->nnames])
                ts->nnames++;
        }
        i++;
    }
    ts->nframes = i;
    ts->frames_hash = h;
    ts->places_hash = hp;
    ts->callers_hash = hc;
    uint64_t hr = FNV_START;
    const cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(ut, "registers")) {
        if (r->string)
            hr = fnv(hr, r->string, strlen(r->string));
        if (cJSON_IsString(r))
            hr = fnv(hr, r->valuestring, strlen(r->valuestring));
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
        ts->state = xstrdup(dt_json_get_str(tt, "state"));
        ts->stuck = dt_json_get_bool(tt, "stuck");
        ts->idle = dt_json_get_bool(tt, "idle");
        ts->category = xstrdup(dt_json_get_str(tt, "category"));
        ts->verdict = xstrdup(dt_json_get_str(tt, "verdict"));
        ts->blocking_frame = xstrdup(dt_json_get_str(tt, "blocking_frame"));
        ts->first_app_frame = xstrdup(dt_json_get_str(tt, "first_app_frame"));
        ts->kernel_wait_frame = xstrdup(dt_json_get_str(tt, "kernel_wait_frame"));
        ts->driver_frame = xstrdup(dt_json_get_str(tt, "driver_frame"));
        if (!ts->has_wait && dt_json_num(cJSON_GetObjectItemCaseSensitive(tt, "wait"), "seconds", &ws)) {
            ts->has_wait = true;
            ts->wait_seconds = ws;
        }
    }
}

/* A snapshot's threads, before it is known whether the snapshot counts. */
typedef struct {
    uint64_t tid;
    char *name;
    dt_series_tsnap ts;
} pending_thread;

typedef struct {
    pending_thread *t;
    size_t n;
} pending;

static void pending_free(pending *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->t[i].name);
        tsnap_free(&p->t[i].ts);
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
static void damage(const cJSON *user, char *why, size_t n)
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
static dt_status summarize(const cJSON *doc, dt_series_snapshot *s, pending *p)
{
    const cJSON *user = cJSON_GetObjectItemCaseSensitive(doc, "user");
    const cJSON *kernel = cJSON_GetObjectItemCaseSensitive(doc, "kernel");
    const cJSON *triage = cJSON_GetObjectItemCaseSensitive(doc, "triage");
    const cJSON *dump = cJSON_GetObjectItemCaseSensitive(user, "dump");
    int64_t t;
    if (parse_iso_time(dt_json_get_str(dump, "time"), &t)) {
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
    s->image = xstrdup(dt_json_get_str(proc, "image"));
    s->create_time = xstrdup(dt_json_get_str(proc, "create_time"));
    s->signature = xstrdup(dt_json_get_str(triage, "signature"));
    uint64_t ptid;
    if (dt_json_u64(cJSON_GetObjectItemCaseSensitive(triage, "primary"), "thread_id", &ptid)) {
        s->primary_thread_id = ptid;
        s->has_primary = true;
    }
    const cJSON *w;
    cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(doc, "warnings")) {
        if (cJSON_IsString(w))
            add_warning(&s->warnings, &s->nwarnings, "%s", w->valuestring);
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
        pending_thread *pt = &p->t[p->n++];
        pt->tid = tid;
        pt->name = xstrdup(dt_json_get_str(ut, "thread_name"));
        summarize_thread(&pt->ts, ut, tt, rank, kt, tick_ms);
        pt->ts.in_deadlock = in_deadlock(triage, tid);
        pt->ts.is_primary = s->has_primary && s->primary_thread_id == tid;
    }
    s->thread_count = p->n;
    return DT_OK;
}

/* ------------------------------------------------------- the series --- */

static void series_free(dt_series *s)
{
    for (size_t i = 0; i < s->nthreads; i++) {
        for (size_t k = 0; k < s->nsnaps; k++)
            tsnap_free(&s->threads[i].snaps[k]);
        free(s->threads[i].snaps);
        free(s->threads[i].thread_name);
        free(s->threads[i].verdict);
    }
    free(s->threads);
    for (size_t k = 0; k < s->nsnaps; k++) {
        dt_series_snapshot *x = &s->snaps[k];
        free(x->file);
        free(x->kernel_file);
        free(x->error);
        free(x->image);
        free(x->create_time);
        free(x->signature);
        for (size_t i = 0; i < x->nwarnings; i++)
            free(x->warnings[i]);
        free(x->warnings);
    }
    free(s->snaps);
    free(s->signature);
    for (size_t i = 0; i < s->nsignature_parts; i++)
        free(s->signature_parts[i]);
    free(s->summary);
    for (size_t i = 0; i < s->nwarnings; i++)
        free(s->warnings[i]);
    free(s->warnings);
    memset(s, 0, sizeof *s);
}

static dt_series_thread *thread_slot(dt_series *s, uint64_t tid, const char *name)
{
    for (size_t i = 0; i < s->nthreads; i++)
        if (s->threads[i].thread_id == tid)
            return &s->threads[i];
    dt_series_thread *grown = realloc(s->threads, (s->nthreads + 1) * sizeof *grown);
    if (!grown)
        return NULL;
    s->threads = grown;
    dt_series_thread *t = &s->threads[s->nthreads];
    memset(t, 0, sizeof *t);
    t->snaps = calloc(s->nsnaps, sizeof *t->snaps);
    if (!t->snaps)
        return NULL;
    t->thread_id = tid;
    t->thread_name = xstrdup(name);
    s->nthreads++;
    return t;
}

/* Moves a counted snapshot's threads into the series. */
static dt_status merge(dt_series *s, size_t k, pending *p)
{
    for (size_t i = 0; i < p->n; i++) {
        dt_series_thread *t = thread_slot(s, p->t[i].tid, p->t[i].name);
        if (!t)
            return DT_ERR_NOMEM;
        if (!t->thread_name && p->t[i].name)
            t->thread_name = xstrdup(p->t[i].name);
        t->snaps[k] = p->t[i].ts;
        memset(&p->t[i].ts, 0, sizeof p->t[i].ts);
    }
    return DT_OK;
}

static bool same_text(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcasecmp(a, b) == 0);
}

/* "another process" reasons, or "" when snapshot b is of a's process. */
static void process_mismatch(const dt_series_snapshot *a, const dt_series_snapshot *b, char *why, size_t n)
{
    why[0] = '\0';
    if (a->has_pid && b->has_pid && a->pid != b->pid)
        snprintf(why, n, "pid %llu, not %llu", (unsigned long long)b->pid, (unsigned long long)a->pid);
    else if (a->image && b->image && !same_text(a->image, b->image))
        snprintf(why, n, "image %s, not %s", b->image, a->image);
    else if (a->create_time && b->create_time) {
        int64_t ta, tb;
        if (parse_iso_time(a->create_time, &ta) && parse_iso_time(b->create_time, &tb) &&
            (ta - tb > 2 || tb - ta > 2))
            snprintf(why, n, "process created %s, not %s", b->create_time, a->create_time);
    }
}

/* The same dump twice (the same file given twice, or a copy): same time,
 * size and threads, each with the same registers and frames. */
static bool is_duplicate(const dt_series *s, size_t k, const dt_series_snapshot *b, const pending *p)
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

/* ------------------------------------------------------ comparison --- */

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

static void fmt_seconds(double s, char *out, size_t n)
{
    if (s < 10)
        snprintf(out, n, "%.1f s", s);
    else if (s < 600)
        snprintf(out, n, "%.0f s", s);
    else
        snprintf(out, n, "%.0f min", s / 60);
}

static char *strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *strf(const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return xstrdup(buf);
}

static void classify_thread(dt_series *s, dt_series_thread *t)
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
    fmt_seconds(span, span_s, sizeof span_s);
    if (npresent < 2) {
        t->state = s->used < 2 ? "single" : strcmp(t->presence, "exited") == 0 ? "exited"
                                       : strcmp(t->presence, "appeared") == 0   ? "appeared"
                                                                                : "single";
        /* Seen once: nothing to compare.  A thread that exited was not stuck. */
        t->stuck = strcmp(t->state, "exited") != 0 && z->stuck;
        if (strcmp(t->state, "exited") == 0)
            t->verdict = strf("exited after snapshot %d (there: %s)", t->last_seen + 1, last_verdict);
        else if (strcmp(t->state, "appeared") == 0)
            t->verdict = strf("appeared in snapshot %d, the last one: %s", t->first_seen + 1, last_verdict);
        else
            t->verdict = strf("in one snapshot only: %s", last_verdict);
        return;
    }
    if (any_spin) {
        t->state = "spinning";
        t->stuck = false;
        if (t->has_cpu) {
            fmt_seconds(t->cpu_ms / 1000.0, cpu_s, sizeof cpu_s);
            fmt_seconds(t->cpu_wall_s, wall_s, sizeof wall_s);
            t->verdict = strf("spinning in %s: used %s of CPU in %s", dt_or(z->inner_function, "?"), cpu_s, wall_s);
        } else {
            t->verdict = strf("spinning in %s: the instruction pointer moves, the callers stay (no CPU times "
                              "in the dumps)",
                              dt_or(z->inner_function, "?"));
        }
        return;
    }
    if (all_idle) {
        t->state = "idle";
        t->stuck = false;
        t->verdict = strf("idle in every snapshot: %s", last_verdict);
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
        t->verdict = strf("progressing, not stuck: its stack changed in %d of %d intervals (last: %s → %s%s)",
                          changes, steps, dt_or(before, "-"), dt_or(after, "-"),
                          sp_only ? ", the same functions at another stack depth" : "");
        return;
    }
    if (all_unstuck) {
        t->state = "idle";
        t->stuck = false;
        t->verdict = strf("idle: did not move for %s in a wait that is not a hang: %s", span_s, last_verdict);
        return;
    }
    t->state = "not_moved";
    t->stuck = z->stuck;
    t->not_moved_seconds = span;
    t->verdict = strf("did not move for %s (%d snapshots): %s", span_s, npresent, last_verdict);
}

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
        s->signature_parts[s->nsignature_parts++] = xstrdup(parts[i]);
        if (len < sizeof sig)
            len += (size_t)snprintf(sig + len, sizeof sig - len, "%s%s", i ? "|" : "", parts[i]);
    }
    s->signature = xstrdup(sig);
}

/* The primary thread and the hang signature, from the series. */
static void verdicts(dt_series *s, const dt_rules *rules)
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
    fmt_seconds(span, span_s, sizeof span_s);
    char prim[256] = "no thread is stuck";
    if (s->primary == 0)
        snprintf(prim, sizeof prim, "primary: thread %llu%s%s%s", (unsigned long long)s->threads[0].thread_id,
                 s->threads[0].thread_name ? " (" : "", dt_or(s->threads[0].thread_name, ""),
                 s->threads[0].thread_name ? ")" : "");
    s->summary = strf("%d snapshots over %s: %d did not move (%d stuck), %d spinning, %d progressing, %d idle, "
                      "%d appeared, %d exited; %s",
                      s->used, span_s, c_nm, c_stuck, c_spin, c_prog, c_idle, c_app, c_exit, prim);
}

/* ------------------------------------------------------------ driver --- */

dt_status dt_analyze_series(const dt_series_request *req, cJSON **report, dt_error *err)
{
    *report = NULL;
    if (!req || req->npaths == 0)
        return dt_error_set(err, DT_ERR_ARG, "no dump file given");
    input in[DT_SERIES_MAX];
    size_t nin = 0;
    dt_status st = plan(req, in, &nin, err);
    if (st != DT_OK)
        return st;
    dt_rules rules;
    st = req->rules_path ? dt_rules_load_file(req->rules_path, &rules, err) : dt_rules_default(&rules, err);
    if (st != DT_OK)
        return st;

    dt_series s;
    memset(&s, 0, sizeof s);
    s.nsnaps = nin;
    s.report_snapshot = -1;
    s.snaps = calloc(nin, sizeof *s.snaps);
    if (!s.snaps) {
        dt_rules_free(&rules);
        return dt_error_set(err, DT_ERR_NOMEM, "out of memory");
    }
    cJSON *kept = NULL;
    int ref = -1;
    char first_error[600] = "";
    for (size_t k = 0; k < nin && st == DT_OK; k++) {
        dt_series_snapshot *x = &s.snaps[k];
        x->file = xstrdup(in[k].user);
        x->kernel_file = xstrdup(in[k].kernel);
        x->arg_index = in[k].arg_index;
        x->duplicate_of = -1;
        x->has_time = in[k].has_time;
        x->time = in[k].time;
        dt_analysis_request one = {
            .user_path = in[k].user,
            .kernel_path = in[k].kernel,
            .symbol_paths = req->symbol_paths,
            .nsymbol_paths = req->nsymbol_paths,
            .rules_path = req->rules_path,
            .allow_mismatch = req->allow_mismatch,
        };
        cJSON *doc = NULL;
        dt_error e = { 0 };
        if (dt_analyze(&one, &doc, &e) != DT_OK) {
            x->status = "unusable";
            x->error = xstrdup(e.message);
            add_warning(&s.warnings, &s.nwarnings, "snapshot %zu (%s) is unusable and was left out: %s", k + 1,
                        in[k].user, e.message);
            if (!first_error[0])
                snprintf(first_error, sizeof first_error, "%s", e.message);
            continue;
        }
        pending p = { 0 };
        if (summarize(doc, x, &p) != DT_OK) {
            pending_free(&p);
            cJSON_Delete(doc);
            st = dt_error_set(err, DT_ERR_NOMEM, "out of memory");
            break;
        }
        x->status = "ok";
        char why_damaged[300];
        damage(cJSON_GetObjectItemCaseSensitive(doc, "user"), why_damaged, sizeof why_damaged);
        if (why_damaged[0]) {
            x->status = "damaged";
            x->error = xstrdup(why_damaged);
            add_warning(&s.warnings, &s.nwarnings, "snapshot %zu (%s) is damaged and was left out: %s", k + 1,
                        in[k].user, why_damaged);
            if (!first_error[0])
                snprintf(first_error, sizeof first_error, "%s: %s", in[k].user, why_damaged);
        } else if (ref >= 0) {
            char why[600];
            process_mismatch(&s.snaps[ref], x, why, sizeof why);
            if (why[0] && !req->allow_mismatch) {
                st = dt_error_set(err, DT_ERR_ARG,
                                  "%s is not a snapshot of the process in %s (%s); --allow-mismatch compares "
                                  "them anyway",
                                  in[k].user, s.snaps[ref].file, why);
                pending_free(&p);
                cJSON_Delete(doc);
                break;
            }
            if (why[0])
                add_warning(&s.warnings, &s.nwarnings, "MISMATCH: snapshot %zu (%s) is another process (%s)",
                            k + 1, in[k].user, why);
            for (size_t j = 0; j < k; j++) {
                if (strcmp(s.snaps[j].status, "ok") == 0 && is_duplicate(&s, j, x, &p)) {
                    x->status = "duplicate";
                    x->duplicate_of = (int)j;
                    add_warning(&s.warnings, &s.nwarnings,
                                "snapshot %zu (%s) is the same dump as snapshot %zu (%s): compared once", k + 1,
                                in[k].user, j + 1, s.snaps[j].file);
                    break;
                }
            }
        } else {
            ref = (int)k;
        }
        if (strcmp(x->status, "ok") == 0) {
            st = merge(&s, k, &p);
            s.used++;
            /* The newest usable report is the one the document carries. */
            cJSON_Delete(kept);
            kept = doc;
            doc = NULL;
            s.report_snapshot = (int)k;
        }
        pending_free(&p);
        cJSON_Delete(doc);
    }
    if (st == DT_OK && s.used == 0)
        st = dt_error_set(err, DT_ERR_FORMAT, "no snapshot of the series is usable: %s", first_error);
    if (st == DT_OK && s.used == 1 && nin > 1)
        add_warning(&s.warnings, &s.nwarnings, "only one snapshot is usable: nothing to compare");
    if (st == DT_OK) {
        for (size_t i = 0; i < s.nthreads; i++) {
            s.threads[i].first_seen = -1;
            s.threads[i].rank = 0;
            classify_thread(&s, &s.threads[i]);
        }
        verdicts(&s, &rules);
        cJSON *js = dt_series_report_json(&s);
        if (!js) {
            st = dt_error_set(err, DT_ERR_NOMEM, "out of memory building the series");
        } else {
            cJSON *w = cJSON_GetObjectItemCaseSensitive(kept, "warnings");
            for (size_t i = 0; cJSON_IsArray(w) && i < s.nwarnings; i++) {
                char line[1100];
                snprintf(line, sizeof line, "series: %s", s.warnings[i]);
                cJSON_InsertItemInArray(w, (int)i, dt_json_str(line));
            }
            cJSON_AddItemToObject(kept, "series", js);
            *report = kept;
            kept = NULL;
        }
    }
    cJSON_Delete(kept);
    series_free(&s);
    dt_rules_free(&rules);
    return st;
}
