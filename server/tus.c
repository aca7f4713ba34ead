/*
 * tus.c — the tus 1.0 server under /api/uploads (see tus.h): the protocol's
 * headers, the files DATA/tus/<id>, durable offsets, gzip-member chunks,
 * completion into a normal upload.
 *
 * Durability: a PATCH writes at the row's offset, fdatasync()s, and only
 * then records the new offset (synchronous=FULL) and answers 204.  Bytes
 * past the recorded offset (written but never acknowledged) are cut off
 * when the next PATCH starts and at start-up.  Completion copies the file
 * into the blob store (a hard link on the filesystem store; the tus file
 * stays until the upload row is committed, so a crash in between leaves an
 * unreferenced blob the orphan sweep removes and a tus file that completes
 * again) and records the upload and the finished rows in one transaction.
 *
 * Gzip-member chunks (Content-Encoding: gzip on a PATCH): the body is one or
 * more gzip members, inflated as they arrive; offsets count inflated bytes,
 * so the stored file is the dump itself and its SHA-256 the dump's.
 * Inflating while receiving was chosen over storing compressed: the analyzer
 * maps the dump, so a stored .gz would be inflated once more before every
 * analysis (docs/performance.md).  Bomb-safe: memory is one 64 KiB buffer;
 * the inflated bytes may not pass the declared Upload-Length (which is at
 * most --max-part-size), and free space is checked as written.
 */
#include "tus.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "archive_walk.h"
#include "base/utf8.h"
#include "blob.h"
#include "hash_behind.h"
#include "log.h"
#include "secrets.h"
#include "store_tus.h"

#define TUS_VERSION "1.0.0"
#define TUS_EXTENSIONS "creation,creation-with-upload,creation-defer-length,termination,expiration,checksum"
#define TUS_SLOTS 256
#define IO_BUF (1u << 20)
#define INFLATE_BUF (64u * 1024)
#define MAX_GROUP_FILES 2

/* ---- registry: who is writing, running hashes ---- */

typedef struct {
    char id[33];
    EVP_MD_CTX *md;      /* SHA-256 of the file's first `hashed` bytes */
    uint64_t hashed;     /* UINT64_MAX: md is not usable */
    bool busy;           /* a PATCH holds it */
    bool used;
    int64_t touched;
} tus_slot;

struct dt_tus_registry {
    pthread_mutex_t mu;
    tus_slot slots[TUS_SLOTS];
    /* The expiry sweeper (under mu): started by the first tus request —
     * uploads older than the process were swept by dt_tus_recover, and every
     * later one was made by a request — stopped by dt_tus_registry_free. */
    pthread_cond_t sweep_wake;
    pthread_t sweeper;
    bool sweeping, sweep_stop;
};

dt_tus_registry *dt_tus_registry_new(void)
{
    dt_tus_registry *reg = calloc(1, sizeof *reg);
    if (reg) {
        pthread_mutex_init(&reg->mu, NULL);
        pthread_cond_init(&reg->sweep_wake, NULL);
    }
    return reg;
}

void dt_tus_registry_free(dt_tus_registry *reg)
{
    if (!reg)
        return;
    pthread_mutex_lock(&reg->mu);
    bool join = reg->sweeping;
    reg->sweep_stop = true;
    pthread_cond_broadcast(&reg->sweep_wake);
    pthread_mutex_unlock(&reg->mu);
    if (join)
        pthread_join(reg->sweeper, NULL);
    for (int i = 0; i < TUS_SLOTS; i++)
        EVP_MD_CTX_free(reg->slots[i].md);
    pthread_cond_destroy(&reg->sweep_wake);
    pthread_mutex_destroy(&reg->mu);
    free(reg);
}

/* Seconds between expiry sweeps: a quarter of --tus-expiry, at least 1 s and
 * at most 5 min, so an abandoned upload's space is back within 1.25 times
 * its expiry (or 5 min past it). */
unsigned dt_tus_sweep_interval(unsigned expiry)
{
    unsigned s = expiry / 4;
    return s < 1 ? 1 : s > 300 ? 300 : s;
}

static void *sweeper_main(void *arg)
{
    dt_server *srv = arg;
    dt_tus_registry *reg = srv->tus;
    unsigned interval = dt_tus_sweep_interval(srv->cfg.tus_expiry);
    pthread_mutex_lock(&reg->mu);
    while (!reg->sweep_stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += interval;
        int rc = 0;
        while (!reg->sweep_stop && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&reg->sweep_wake, &reg->mu, &ts);
        if (reg->sweep_stop)
            break;
        pthread_mutex_unlock(&reg->mu);
        dt_store *st = dt_server_store(srv);
        if (st) {
            int n = dt_tus_expire(srv, st);
            dt_store_close(st);
            if (n > 0) {
                cJSON *o = cJSON_CreateObject();
                cJSON_AddNumberToObject(o, "removed", n);
                dt_log_event("tus_expired", o);
            }
        }
        pthread_mutex_lock(&reg->mu);
    }
    pthread_mutex_unlock(&reg->mu);
    return NULL;
}

/* Starts the sweeper once (the first tus request of this process). */
static void sweeper_ensure(dt_server *srv)
{
    dt_tus_registry *reg = srv->tus;
    if (!reg)
        return;
    pthread_mutex_lock(&reg->mu);
    if (!reg->sweeping && !reg->sweep_stop && pthread_create(&reg->sweeper, NULL, sweeper_main, srv) == 0)
        reg->sweeping = true;
    pthread_mutex_unlock(&reg->mu);
}

/* Takes the slot of upload id.  NULL with *busy set when another request
 * holds it; NULL otherwise when every slot is busy. */
static tus_slot *slot_acquire(dt_tus_registry *reg, const char *id, bool *busy)
{
    *busy = false;
    pthread_mutex_lock(&reg->mu);
    tus_slot *found = NULL, *free_slot = NULL, *oldest = NULL;
    for (int i = 0; i < TUS_SLOTS; i++) {
        tus_slot *s = &reg->slots[i];
        if (s->used && strcmp(s->id, id) == 0) {
            found = s;
            break;
        }
        if (!s->used && !free_slot)
            free_slot = s;
        if (s->used && !s->busy && (!oldest || s->touched < oldest->touched))
            oldest = s;
    }
    if (found && found->busy) {
        *busy = true;
        found = NULL;
    } else if (!found) {
        found = free_slot ? free_slot : oldest;
        if (found) {
            EVP_MD_CTX_free(found->md); /* an idle upload's hash: it is recomputed if it comes back */
            memset(found, 0, sizeof *found);
            snprintf(found->id, sizeof found->id, "%s", id);
            found->hashed = UINT64_MAX;
            found->used = true;
        }
    }
    if (found) {
        found->busy = true;
        found->touched = dt_now();
    }
    pthread_mutex_unlock(&reg->mu);
    return found;
}

/* Releases a slot; drop forgets the upload's hash (completed, removed). */
static void slot_release(dt_tus_registry *reg, tus_slot *s, bool drop)
{
    if (!s)
        return;
    pthread_mutex_lock(&reg->mu);
    s->busy = false;
    if (drop) {
        EVP_MD_CTX_free(s->md);
        memset(s, 0, sizeof *s);
    }
    pthread_mutex_unlock(&reg->mu);
}

/* Whether a PATCH holds the upload now. */
static bool slot_busy(dt_tus_registry *reg, const char *id)
{
    bool busy = false;
    if (!reg)
        return false; /* start-up, before the daemon */
    pthread_mutex_lock(&reg->mu);
    for (int i = 0; i < TUS_SLOTS; i++)
        if (reg->slots[i].used && strcmp(reg->slots[i].id, id) == 0)
            busy = reg->slots[i].busy;
    pthread_mutex_unlock(&reg->mu);
    return busy;
}

/* ---- files ---- */

static void tus_path(const dt_server *srv, const char *id, char *out, size_t len)
{
    snprintf(out, len, "%.1100s/tus/%.32s", srv->cfg.data_dir, id);
}

static void fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

static void remove_file(dt_server *srv, const char *id)
{
    char p[1200];
    tus_path(srv, id, p, sizeof p);
    unlink(p);
}

/* Brings s's hash up to `offset` bytes of the file at fd (after a restart,
 * or when a failed chunk left it ahead). */
static dt_status slot_catch_up(tus_slot *s, int fd, uint64_t offset, dt_error *err)
{
    if (s->md && s->hashed == offset)
        return DT_OK;
    EVP_MD_CTX_free(s->md);
    s->md = EVP_MD_CTX_new();
    s->hashed = UINT64_MAX;
    if (!s->md || EVP_DigestInit_ex(s->md, EVP_sha256(), NULL) != 1)
        return dt_error_set(err, DT_ERR_NOMEM, "cannot start hashing");
    uint8_t *buf = malloc(IO_BUF);
    if (!buf)
        return dt_error_set(err, DT_ERR_NOMEM, "out of memory");
    uint64_t at = 0;
    while (at < offset) {
        size_t want = offset - at < IO_BUF ? (size_t)(offset - at) : IO_BUF;
        ssize_t n = pread(fd, buf, want, (off_t)at);
        if (n <= 0) {
            free(buf);
            return dt_error_set(err, DT_ERR_IO, "the upload's file is shorter than its offset");
        }
        EVP_DigestUpdate(s->md, buf, (size_t)n);
        at += (uint64_t)n;
    }
    free(buf);
    s->hashed = offset;
    return DT_OK;
}

/* ---- headers ---- */

static void http_date(int64_t t, char *out, size_t len)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, len, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* A decimal header value (digits only, at most 2^62). */
static bool parse_u64(const char *v, uint64_t *out)
{
    if (!v || !*v || strlen(v) > 19 || strspn(v, "0123456789") != strlen(v))
        return false;
    *out = strtoull(v, NULL, 10);
    return *out <= (1ull << 62);
}

/* Base64 (standard alphabet) into out (NUL-terminated); -1 if malformed or
 * too long. */
static int b64_decode(const char *in, size_t inlen, unsigned char *out, size_t outcap)
{
    if (inlen % 4 != 0 || inlen / 4 * 3 + 1 > outcap)
        return -1;
    if (inlen == 0) {
        out[0] = 0;
        return 0;
    }
    int n = EVP_DecodeBlock(out, (const unsigned char *)in, (int)inlen);
    if (n < 0)
        return -1;
    if (in[inlen - 1] == '=')
        n--;
    if (in[inlen - 2] == '=')
        n--;
    out[n] = 0;
    return n;
}

static enum MHD_Result reply(dt_request *r, unsigned status, struct MHD_Response *resp);

/* ---- per-request state ---- */

typedef struct dt_tus_req {
    dt_tus_row row;          /* as read when the request began */
    tus_slot *slot;
    int fd;
    char path[1200];
    uint64_t start;          /* the durable offset the body is appended at */
    uint64_t written;        /* bytes (inflated) written by this request */
    uint64_t limit;          /* the most it may write */
    int64_t new_length;      /* Upload-Length sent with a PATCH of a deferred upload; -1 */
    bool created;            /* POST: the resource was created by this request */
    bool has_body;           /* a PATCH, or a creation with upload */
    bool gzip;
    z_stream z;
    bool z_inited, in_member;
    uint64_t member_end;     /* written, at the end of the last whole gzip member */
    dt_hash_behind *hb;      /* the upload's SHA-256, continued behind the writer
                                while the body arrives (holds the slot's md) */
    EVP_MD_CTX *ck;          /* Upload-Checksum over the body as sent */
    unsigned char ck_want[EVP_MAX_MD_SIZE];
    int ck_len;
    uint64_t unchecked;      /* bytes since free space was checked */
    uint64_t wire;           /* body bytes as sent (compressed, for a gzip chunk) */
    unsigned fail_http;      /* a refusal while receiving */
    const char *fail_code;
    char fail_msg[300];
    bool done;               /* settled: acknowledged or refused */
} tus_req;

static void req_fail(tus_req *t, unsigned http, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void req_fail(tus_req *t, unsigned http, const char *code, const char *fmt, ...)
{
    if (t->fail_http)
        return;
    t->fail_http = http;
    t->fail_code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->fail_msg, sizeof t->fail_msg, fmt, ap);
    va_end(ap);
}

static void req_free(dt_request *r)
{
    tus_req *t = r->tus;
    if (!t)
        return;
    dt_hash_behind_cancel(t->hb); /* reads fd: stopped before the close */
    if (t->fd >= 0)
        close(t->fd);
    if (t->z_inited)
        inflateEnd(&t->z);
    EVP_MD_CTX_free(t->ck);
    slot_release(r->srv->tus, t->slot, false);
    free(t);
    r->tus = NULL;
}

static bool may_access(const dt_request *r, const dt_tus_row *row)
{
    if (row->owner_token_id == 0)
        return true; /* anonymous: the 96-bit id is the credential */
    return r->who.role == DT_ROLE_STAFF
        || (r->who.role != DT_ROLE_ANONYMOUS && r->who.token_id == row->owner_token_id);
}

static enum MHD_Result tus_error(dt_request *r, unsigned status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static enum MHD_Result tus_error(dt_request *r, unsigned status, const char *code, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return dt_http_error(r, status, code, "%s", msg);
}

/* Removes an upload (row and file). */
static void remove_upload(dt_server *srv, dt_store *st, const char *id)
{
    remove_file(srv, id);
    dt_store_tus_delete(st, id);
}

/* ---- metadata ---- */

typedef struct {
    char name[256], role[8], grp[80];
    char note[DT_TUS_TEXT_MAX], case_id[DT_TUS_TEXT_MAX], customer[DT_TUS_TEXT_MAX];
    int files;
} tus_meta;

static bool grp_ok(const char *g)
{
    size_t n = strlen(g);
    return n >= 8 && n <= 64 && strspn(g, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

/* Upload-Metadata: "key b64,key b64,…".  Unknown keys are kept (echoed by
 * HEAD) but not used. */
static bool parse_metadata(const char *h, tus_meta *m, char *why, size_t whylen)
{
    memset(m, 0, sizeof *m);
    m->files = 1;
    if (!h)
        return true;
    const char *p = h;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p)
            break;
        size_t klen = strcspn(p, " ,");
        char key[32];
        if (klen == 0 || klen >= sizeof key) {
            snprintf(why, whylen, "malformed Upload-Metadata key");
            return false;
        }
        memcpy(key, p, klen);
        key[klen] = 0;
        p += klen;
        const char *v = "";
        size_t vlen = 0;
        if (*p == ' ') {
            v = ++p;
            vlen = strcspn(p, ",");
            p += vlen;
            while (vlen && v[vlen - 1] == ' ')
                vlen--;
        }
        unsigned char val[DT_TUS_TEXT_MAX + 4];
        int n = b64_decode(v, vlen, val, sizeof val);
        if (n < 0) {
            snprintf(why, whylen, "Upload-Metadata value of %s is not base64 or longer than %d bytes", key,
                     DT_TUS_TEXT_MAX);
            return false;
        }
        if (memchr(val, 0, (size_t)n)) {
            snprintf(why, whylen, "Upload-Metadata value of %s holds a NUL byte", key);
            return false;
        }
        const char *s = (const char *)val;
        if (strcmp(key, "filename") == 0 || strcmp(key, "name") == 0) {
            dt_walk_base_name(s, m->name, sizeof m->name); /* as the one-shot upload names its parts */
        } else if (strcmp(key, "role") == 0) {
            if (strcmp(s, "user") != 0 && strcmp(s, "kernel") != 0 && *s) {
                snprintf(why, whylen, "role must be user or kernel");
                return false;
            }
            snprintf(m->role, sizeof m->role, "%s", s);
        } else if (strcmp(key, "note") == 0) {
            snprintf(m->note, sizeof m->note, "%s", s);
        } else if (strcmp(key, "case") == 0 || strcmp(key, "case_id") == 0 || strcmp(key, "ticket") == 0) {
            snprintf(m->case_id, sizeof m->case_id, "%s", s);
        } else if (strcmp(key, "customer") == 0) {
            snprintf(m->customer, sizeof m->customer, "%s", s);
        } else if (strcmp(key, "case_upload") == 0) {
            if (!grp_ok(s)) {
                snprintf(why, whylen, "case_upload must be 8-64 letters, digits, '-' or '_'");
                return false;
            }
            snprintf(m->grp, sizeof m->grp, "%s", s);
        } else if (strcmp(key, "files") == 0) {
            if (strcmp(s, "1") != 0 && strcmp(s, "2") != 0) {
                snprintf(why, whylen, "files must be 1 or 2 (a user dump and a kernel dump)");
                return false;
            }
            m->files = s[0] - '0';
        }
    }
    if (m->files > 1 && !m->grp[0]) {
        snprintf(why, whylen, "files > 1 needs a case_upload id shared by the files");
        return false;
    }
    dt_utf8_sanitize_inplace(m->note, sizeof m->note);
    dt_utf8_sanitize_inplace(m->case_id, sizeof m->case_id);
    dt_utf8_sanitize_inplace(m->customer, sizeof m->customer);
    return true;
}

/* ---- receiving a body ---- */

static void write_out(tus_req *t, dt_server *srv, const uint8_t *p, size_t len)
{
    if (t->fail_http || len == 0)
        return;
    if (t->written + len > t->limit) {
        if (t->row.length >= 0 || t->new_length >= 0)
            req_fail(t, 413, "too_large", "the chunk%s goes past Upload-Length (%llu bytes)",
                     t->gzip ? " inflates to more than fits and" : "",
                     (unsigned long long)(t->row.length >= 0 ? t->row.length : t->new_length));
        else
            req_fail(t, 413, "too_large", "the upload is larger than the limit of %llu bytes",
                     (unsigned long long)srv->cfg.max_part_size);
        return;
    }
    t->unchecked += len;
    if (srv->cfg.min_free_space && t->unchecked >= DT_SPOOL_FREE_CHECK) {
        t->unchecked = 0;
        struct statvfs v;
        if (fstatvfs(t->fd, &v) == 0 && (uint64_t)v.f_bavail * v.f_frsize < srv->cfg.min_free_space + len) {
            req_fail(t, 507, "insufficient_storage", "not enough free space on the server");
            return;
        }
    }
    if (!t->hb)
        EVP_DigestUpdate(t->slot->md, p, len);
    while (len > 0) {
        ssize_t w = write(t->fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == ENOSPC || errno == EDQUOT)
                req_fail(t, 507, "insufficient_storage", "the disk is full");
            else
                req_fail(t, 500, "internal", "cannot write the upload: %s", strerror(errno));
            return;
        }
        p += w;
        len -= (size_t)w;
        t->written += (uint64_t)w;
    }
    if (t->hb)
        dt_hash_behind_written(t->hb, t->start + t->written);
}

static void feed_gzip(tus_req *t, dt_server *srv, const uint8_t *data, size_t len)
{
    uint8_t out[INFLATE_BUF];
    t->z.next_in = (Bytef *)data;
    t->z.avail_in = (uInt)len;
    while (t->z.avail_in > 0 && !t->fail_http) {
        t->in_member = true;
        t->z.next_out = out;
        t->z.avail_out = sizeof out;
        int rc = inflate(&t->z, Z_NO_FLUSH);
        write_out(t, srv, out, sizeof out - t->z.avail_out);
        if (rc == Z_STREAM_END) {
            t->member_end = t->written;
            t->in_member = false;
            inflateReset(&t->z); /* the next member, if any */
        } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
            req_fail(t, 400, "bad_request", "the chunk is not valid gzip: %s", t->z.msg ? t->z.msg : "corrupt");
        } else if (rc == Z_BUF_ERROR && t->z.avail_in > 0 && t->z.avail_out > 0) {
            req_fail(t, 400, "bad_request", "the chunk is not valid gzip");
        }
    }
}

void dt_tus_feed(dt_request *r, const char *data, size_t len)
{
    tus_req *t = r->tus;
    if (!t || t->done || t->fail_http || !t->has_body)
        return;
    t->wire += len;
    if (t->ck)
        EVP_DigestUpdate(t->ck, data, len);
    if (t->gzip)
        feed_gzip(t, r->srv, (const uint8_t *)data, len);
    else
        write_out(t, r->srv, (const uint8_t *)data, len);
}

/* Opens the file and the hash for a body appended at t->start. */
static enum MHD_Result prepare_body(dt_request *r, tus_req *t)
{
    dt_server *srv = r->srv;
    const char *ct = dt_http_header(r, "Content-Type");
    if (!ct || strncasecmp(ct, "application/offset+octet-stream", 31) != 0)
        return tus_error(r, 415, "unsupported_media_type", "a chunk needs Content-Type: application/offset+octet-stream");
    const char *ce = dt_http_header(r, "Content-Encoding");
    if (ce && strcasecmp(ce, "gzip") != 0 && strcasecmp(ce, "identity") != 0)
        return tus_error(r, 415, "unsupported_media_type", "Content-Encoding must be gzip or absent");
    t->gzip = ce && strcasecmp(ce, "gzip") == 0;
    int64_t length = t->row.length >= 0 ? t->row.length : t->new_length;
    if (length >= 0 && (uint64_t)length < t->start)
        return tus_error(r, 400, "bad_request", "Upload-Length is smaller than the offset");
    t->limit = length >= 0 ? (uint64_t)length - t->start : srv->cfg.max_part_size - t->start;
    const char *cl = dt_http_header(r, "Content-Length");
    uint64_t clen = 0;
    if (cl && parse_u64(cl, &clen) && !t->gzip && clen > t->limit)
        return tus_error(r, 413, "too_large", "the chunk of %llu bytes goes past the upload's length",
                         (unsigned long long)clen);
    const char *ck = dt_http_header(r, "Upload-Checksum");
    if (ck) {
        char alg[16];
        size_t an = strcspn(ck, " ");
        if (an == 0 || an >= sizeof alg || ck[an] != ' ')
            return tus_error(r, 400, "bad_request", "Upload-Checksum must be \"<algorithm> <base64>\"");
        memcpy(alg, ck, an);
        alg[an] = 0;
        const EVP_MD *md = strcmp(alg, "sha1") == 0 ? EVP_sha1() : strcmp(alg, "sha256") == 0 ? EVP_sha256()
                         : strcmp(alg, "md5") == 0 ? EVP_md5() : NULL;
        if (!md)
            return tus_error(r, 400, "bad_request", "checksum algorithm %s is not supported (sha1, sha256, md5)", alg);
        const char *b = ck + an + 1;
        unsigned char raw[EVP_MAX_MD_SIZE + 4];
        int n = b64_decode(b, strlen(b), raw, sizeof raw);
        if (n != EVP_MD_size(md))
            return tus_error(r, 400, "bad_request", "Upload-Checksum is not a base64 %s digest", alg);
        memcpy(t->ck_want, raw, (size_t)n);
        t->ck_len = n;
        t->ck = EVP_MD_CTX_new();
        if (!t->ck || EVP_DigestInit_ex(t->ck, md, NULL) != 1)
            return tus_error(r, 503, "busy", "out of memory");
    }
    if (t->gzip) {
        if (inflateInit2(&t->z, 16 + MAX_WBITS) != Z_OK)
            return tus_error(r, 503, "busy", "out of memory");
        t->z_inited = true;
    }
    bool busy;
    t->slot = slot_acquire(srv->tus, t->row.id, &busy);
    if (!t->slot)
        return busy ? tus_error(r, 423, "locked", "another request is writing this upload")
                    : tus_error(r, 503, "busy", "too many uploads are being written at once");
    tus_path(srv, t->row.id, t->path, sizeof t->path);
    t->fd = open(t->path, O_RDWR | O_CLOEXEC);
    if (t->fd < 0)
        return tus_error(r, 410, "gone", "the upload's data is gone");
    dt_error err = { 0 };
    /* Bytes past the durable offset were never acknowledged. */
    if (ftruncate(t->fd, (off_t)t->start) != 0 || lseek(t->fd, (off_t)t->start, SEEK_SET) < 0
        || slot_catch_up(t->slot, t->fd, t->start, &err) != DT_OK)
        return tus_error(r, 500, "internal", "cannot resume the upload: %s", err.message[0] ? err.message : strerror(errno));
    /* The hash goes on behind the writer (hash_behind.h); until the body is
     * committed the slot holds no usable hash.  Without the thread it stays
     * inline. */
    t->hb = dt_hash_behind_start(t->fd, t->slot->md, t->start, NULL);
    if (t->hb) {
        t->slot->md = NULL;
        t->slot->hashed = UINT64_MAX;
    }
    t->has_body = true;
    return MHD_YES;
}

/* ---- completion ---- */

typedef struct {
    unsigned http;
    const char *code;
    char msg[300];
} tus_outcome;

static dt_status sha_hex(EVP_MD_CTX *md, char out[65])
{
    EVP_MD_CTX *copy = EVP_MD_CTX_new();
    unsigned char d[32];
    unsigned dl = 0;
    bool ok = copy && EVP_MD_CTX_copy_ex(copy, md) == 1 && EVP_DigestFinal_ex(copy, d, &dl) == 1 && dl == 32;
    EVP_MD_CTX_free(copy);
    if (!ok)
        return DT_ERR_IO;
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
    return DT_OK;
}

/* Places a complete file in the blob store, keeping it here until the
 * upload row commits (unless that content is there already). */
static dt_status place_blob(dt_server *srv, const dt_tus_row *row, dt_error *err)
{
    char src[1200];
    tus_path(srv, row->id, src, sizeof src);
    dt_blob_store *bs = dt_blob_store_open(&srv->cfg, NULL);
    if (!bs)
        return dt_error_set(err, DT_ERR_NOMEM, "out of memory");
    dt_status st = bs->ops->put_copy(bs, src, row->sha256, (uint64_t)row->length, err);
    dt_blob_store_free(bs);
    return st;
}

/* When every file of row's case upload is complete: blobs, the upload and
 * its job, the rows finished — the upload id goes to out_row. */
static void finish_group(dt_server *srv, dt_store *st, const dt_request *r, dt_tus_row *row, tus_outcome *oc)
{
    dt_tus_row rows[MAX_GROUP_FILES + 1];
    int n = dt_store_tus_group(st, row->owner_token_id, row->grp, rows, MAX_GROUP_FILES + 1);
    if (n < 0) {
        oc->http = 500, oc->code = "internal", snprintf(oc->msg, sizeof oc->msg, "store error");
        return;
    }
    int complete = 0, want = row->group_files;
    for (int i = 0; i < n && i <= MAX_GROUP_FILES; i++)
        if (strcmp(rows[i].state, "complete") == 0)
            complete++;
    if (complete < want || n > want)
        return; /* waits for the other file(s) */
    dt_upload_new u;
    memset(&u, 0, sizeof u);
    u.owner_token_id = row->owner_token_id;
    int lock = dt_blob_lock(srv->cfg.data_dir);
    if (lock < 0) {
        oc->http = 500, oc->code = "internal", snprintf(oc->msg, sizeof oc->msg, "cannot take the blob lock");
        return;
    }
    dt_error err = { 0 };
    for (int i = 0; i < n; i++) {
        dt_tus_row *f = &rows[i];
        if (place_blob(srv, f, &err) != DT_OK) {
            dt_blob_unlock(lock);
            oc->http = 507, oc->code = "insufficient_storage", snprintf(oc->msg, sizeof oc->msg, "%s", err.message);
            return;
        }
        dt_file_rec *fr = &u.files[u.nfiles++];
        snprintf(fr->role, sizeof fr->role, "%s", f->role);
        snprintf(fr->sha256, sizeof fr->sha256, "%s", f->sha256);
        snprintf(fr->kind, sizeof fr->kind, "%s", f->kind);
        snprintf(fr->name, sizeof fr->name, "%s", f->name);
        fr->size = (uint64_t)f->length;
        /* The case's text: the first file that carries it. */
        if (!u.note && f->note[0])
            u.note = f->note;
        if (!u.case_id && f->case_id[0])
            u.case_id = f->case_id;
        if (!u.customer && f->customer[0])
            u.customer = f->customer;
    }
    dt_status s = dt_store_tus_finish_group(st, &u, row->owner_token_id, row->grp, n, &err);
    dt_blob_unlock(lock);
    if (s != DT_OK) {
        if (s == DT_ERR_ARG)
            return; /* another request finished it */
        oc->http = 500, oc->code = "internal", snprintf(oc->msg, sizeof oc->msg, "cannot record the upload: %s",
                                                        err.message);
        return;
    }
    for (int i = 0; i < n; i++)
        remove_file(srv, rows[i].id);
    if (!u.reused)
        dt_store_job_set_submitter(st, u.id, r ? r->client_key : row->owner_key, NULL);
    uint64_t bytes = 0;
    for (int i = 0; i < u.nfiles; i++)
        bytes += u.files[i].size;
    pthread_mutex_lock(&srv->mu);
    srv->uploads_accepted++;
    srv->upload_bytes_accepted += bytes;
    pthread_mutex_unlock(&srv->mu);
    if (!u.reused)
        dt_server_notify_job(srv);
    snprintf(row->upload_id, sizeof row->upload_id, "%s", u.id);
    snprintf(row->view_key, sizeof row->view_key, "%s", u.view_key);
    snprintf(row->state, sizeof row->state, "finished");
}

/* The file of row is whole (offset == length): hash, check, mark complete,
 * and finish its case upload if that was the last file.  md is the running
 * hash when at hand (else the file is hashed here).  A file that is no dump
 * is refused and the upload removed: nothing is kept half. */
static void complete_upload(dt_server *srv, dt_store *st, const dt_request *r, dt_tus_row *row, EVP_MD_CTX *md,
                            tus_outcome *oc)
{
    char path[1200];
    tus_path(srv, row->id, path, sizeof path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        oc->http = 410, oc->code = "gone", snprintf(oc->msg, sizeof oc->msg, "the upload's data is gone");
        return;
    }
    char sha[65];
    tus_slot tmp = { .hashed = UINT64_MAX };
    dt_error err = { 0 };
    if (!md) {
        if (slot_catch_up(&tmp, fd, row->offset, &err) != DT_OK) {
            EVP_MD_CTX_free(tmp.md);
            close(fd);
            oc->http = 500, oc->code = "internal", snprintf(oc->msg, sizeof oc->msg, "%s", err.message);
            return;
        }
        md = tmp.md;
    }
    dt_status hs = sha_hex(md, sha);
    EVP_MD_CTX_free(tmp.md);
    dt_spool sp;
    dt_spool_init(&sp);
    sp.fd = fd;
    snprintf(sp.tmp_path, sizeof sp.tmp_path, "%s", path);
    ssize_t hn = pread(fd, sp.head, sizeof sp.head, 0);
    sp.head_len = hn > 0 ? (size_t)hn : 0;
    sp.size = row->offset;
    dt_file_kind k = dt_spool_kind(&sp);
    dt_file_kind inner = dt_spool_gzip_inner_kind(&sp);
    close(fd);
    if (hs != DT_OK) {
        oc->http = 500, oc->code = "internal", snprintf(oc->msg, sizeof oc->msg, "cannot finish hashing");
        return;
    }
    if (inner != DT_KIND_UNKNOWN)
        k = inner;
    if (k == DT_KIND_UNKNOWN) {
        remove_upload(srv, st, row->id);
        oc->http = 415, oc->code = "unsupported_media_type",
        snprintf(oc->msg, sizeof oc->msg, "the file is no minidump, kernel dump or archive; the upload was removed");
        return;
    }
    if (inner == DT_KIND_UNKNOWN && dt_dump_check(k, sp.head, sp.head_len, row->offset, &err) != DT_OK) {
        remove_upload(srv, st, row->id);
        oc->http = 400, oc->code = "bad_request",
        snprintf(oc->msg, sizeof oc->msg, "%s; the upload was removed", err.message);
        return;
    }
    const char *role = k == DT_KIND_MINIDUMP ? "user" : dt_file_kind_is_dump(k) ? "kernel" : "archive";
    /* The other file of the case must not have the same role. */
    dt_tus_row rows[MAX_GROUP_FILES + 1];
    int n = dt_store_tus_group(st, row->owner_token_id, row->grp, rows, MAX_GROUP_FILES + 1);
    for (int i = 0; i < n && i <= MAX_GROUP_FILES; i++) {
        if (strcmp(rows[i].id, row->id) == 0 || strcmp(rows[i].state, "receiving") == 0)
            continue;
        if (strcmp(rows[i].role, role) == 0 || strcmp(rows[i].role, "archive") == 0 || strcmp(role, "archive") == 0) {
            remove_upload(srv, st, row->id);
            oc->http = 409, oc->code = "conflict",
            snprintf(oc->msg, sizeof oc->msg, "the case upload has a %s file already (send a user dump and a kernel"
                                              " dump, or one archive); this upload was removed", rows[i].role);
            return;
        }
    }
    char kind[16];
    snprintf(kind, sizeof kind, "%s%s", dt_file_kind_name(k), inner != DT_KIND_UNKNOWN ? "+gzip" : "");
    if (dt_store_tus_complete(st, row->id, sha, kind, role, &err) != DT_OK) {
        oc->http = 500, oc->code = "internal", snprintf(oc->msg, sizeof oc->msg, "%s", err.message);
        return;
    }
    snprintf(row->state, sizeof row->state, "complete");
    snprintf(row->sha256, sizeof row->sha256, "%s", sha);
    snprintf(row->kind, sizeof row->kind, "%s", kind);
    snprintf(row->role, sizeof row->role, "%s", role);
    finish_group(srv, st, r, row, oc);
}

/* Records what a body wrote (commit bytes of it): fsync, then the offset. */
static dt_status commit_bytes(dt_request *r, tus_req *t, uint64_t commit, dt_error *err)
{
    if (commit < t->written) {
        dt_hash_behind_cancel(t->hb); /* it ran ahead; and it reads what is cut */
        t->hb = NULL;
        if (ftruncate(t->fd, (off_t)(t->start + commit)) != 0)
            return dt_error_set(err, DT_ERR_IO, "cannot cut the chunk: %s", strerror(errno));
        t->slot->hashed = UINT64_MAX; /* the hash ran ahead: recomputed next time */
    }
    bool sync = commit > 0 || t->new_length >= 0;
    /* The sync first: the hash behind catches up while the disk writes. */
    if (sync && fdatasync(t->fd) != 0)
        return dt_error_set(err, DT_ERR_IO, "cannot fsync the upload: %s", strerror(errno));
    if (t->hb) {
        dt_hash_behind *hb = t->hb;
        t->hb = NULL;
        t->slot->md = dt_hash_behind_finish(hb, err);
        if (!t->slot->md)
            return DT_ERR_IO; /* hashed stays UINT64_MAX: rebuilt from the file next time */
        t->slot->hashed = t->start + t->written;
    }
    if (!sync)
        return DT_OK;
    dt_store *st = dt_http_store(r);
    if (!st)
        return dt_error_set(err, DT_ERR_IO, "the store is not available");
    int64_t now = dt_now();
    dt_status s = dt_store_tus_set_offset(st, t->row.id, t->start + commit, t->new_length, now,
                                          now + (int64_t)r->srv->cfg.tus_expiry, err);
    if (s != DT_OK)
        return s;
    t->row.offset = t->start + commit;
    if (t->new_length >= 0 && t->row.length < 0)
        t->row.length = t->new_length;
    t->row.expires_at = now + (int64_t)r->srv->cfg.tus_expiry;
    if (commit == t->written)
        t->slot->hashed = t->row.offset;
    return DT_OK;
}

/* ---- replies ---- */

static void common_headers(struct MHD_Response *resp)
{
    MHD_add_response_header(resp, "Tus-Resumable", TUS_VERSION);
}

static void upload_headers(dt_request *r, struct MHD_Response *resp, const dt_tus_row *row)
{
    (void)r;
    char v[256];
    snprintf(v, sizeof v, "%llu", (unsigned long long)row->offset);
    MHD_add_response_header(resp, "Upload-Offset", v);
    if (strcmp(row->state, "finished") != 0) {
        http_date(row->expires_at, v, sizeof v);
        MHD_add_response_header(resp, "Upload-Expires", v);
    }
    if (row->upload_id[0]) {
        MHD_add_response_header(resp, "Dumptriage-Upload-Id", row->upload_id);
        snprintf(v, sizeof v, "/triage/%s?key=%s", row->upload_id, row->view_key);
        MHD_add_response_header(resp, "Dumptriage-View-Url", v);
        snprintf(v, sizeof v, "/api/dumps/%s?key=%s", row->upload_id, row->view_key);
        MHD_add_response_header(resp, "Dumptriage-Status-Url", v);
    }
}

static enum MHD_Result reply(dt_request *r, unsigned status, struct MHD_Response *resp)
{
    if (!resp)
        return MHD_NO;
    common_headers(resp);
    dt_http_set_bytes(r, 0);
    return dt_http_reply(r, status, resp);
}

static struct MHD_Response *empty(void)
{
    return MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
}

/* ---- the requests ---- */

static bool version_ok(dt_request *r)
{
    const char *v = dt_http_header(r, "Tus-Resumable");
    return v && strcmp(v, TUS_VERSION) == 0;
}

static enum MHD_Result version_refused(dt_request *r)
{
    struct MHD_Response *resp = empty();
    MHD_add_response_header(resp, "Tus-Version", TUS_VERSION);
    return reply(r, 412, resp);
}

/* The upload named by rest ("/<id>"), checked for access and expiry.
 * Returns 1 found, or 0 after replying. */
static int lookup(dt_request *r, const char *rest, dt_tus_row *row, enum MHD_Result *res)
{
    const char *id = rest[0] == '/' ? rest + 1 : "";
    dt_store *st = dt_http_store(r);
    if (!st) {
        *res = tus_error(r, 503, "busy", "the store is not available");
        return 0;
    }
    int f = strlen(id) == 24 && strspn(id, "0123456789abcdef") == 24 ? dt_store_tus_get(st, id, row) : 0;
    if (f < 0) {
        *res = tus_error(r, 500, "internal", "store error");
        return 0;
    }
    if (f == 0 || !may_access(r, row)) {
        *res = tus_error(r, 404, "not_found", "no such upload");
        return 0;
    }
    if (row->expires_at <= dt_now() && !slot_busy(r->srv->tus, row->id)) {
        remove_upload(r->srv, st, row->id);
        *res = tus_error(r, 410, "gone", "the upload expired and was removed");
        return 0;
    }
    return 1;
}

enum MHD_Result dt_tus_begin(dt_request *r)
{
    dt_server *srv = r->srv;
    sweeper_ensure(srv);
    if (r->retry_after)
        return dt_http_throttled(r, r->retry_after, "too many failed credentials from this address");
    if (r->who.bad_credentials)
        return dt_http_error(r, 401, "unauthorized", "the token is not valid");
    if (!dt_http_origin_ok(r))
        return dt_http_error(r, 403, "forbidden", "cross-origin request refused");
    if (!version_ok(r))
        return version_refused(r);
    bool post = strcmp(r->method, "POST") == 0;
    const char *rest = r->url + 12;
    if (post && rest[0] != 0)
        return dt_http_error(r, 405, "method_not_allowed", "POST is allowed on /api/uploads only");
    if (!post && rest[0] != '/')
        return dt_http_error(r, 405, "method_not_allowed", "PATCH needs an upload's URL");
    tus_req *t = calloc(1, sizeof *t);
    if (!t)
        return MHD_NO;
    t->fd = -1;
    t->new_length = -1;
    r->tus = t;
    dt_store *st = dt_http_store(r);
    if (!st)
        return dt_http_error(r, 503, "busy", "the store is not available");
    uint64_t len = 0;
    const char *ul = dt_http_header(r, "Upload-Length");
    const char *defer = dt_http_header(r, "Upload-Defer-Length");
    if (ul && !parse_u64(ul, &len))
        return dt_http_error(r, 400, "bad_request", "Upload-Length must be a non-negative decimal number");
    if (!post) {
        enum MHD_Result res;
        if (!lookup(r, rest, &t->row, &res))
            return res;
        if (strcmp(t->row.state, "receiving") != 0)
            return tus_error(r, 409, "conflict", "the upload is complete; no more chunks are taken");
        const char *uo = dt_http_header(r, "Upload-Offset");
        uint64_t off;
        if (!uo || !parse_u64(uo, &off))
            return tus_error(r, 400, "bad_request", "a PATCH needs Upload-Offset");
        if (off != t->row.offset)
            return tus_error(r, 409, "conflict", "Upload-Offset %llu is not the upload's offset %llu",
                             (unsigned long long)off, (unsigned long long)t->row.offset);
        if (ul) {
            if (t->row.length >= 0 && (uint64_t)t->row.length != len)
                return tus_error(r, 400, "bad_request", "Upload-Length cannot change");
            if (t->row.length < 0) {
                if (len > srv->cfg.max_part_size)
                    return tus_error(r, 413, "too_large", "the upload is larger than the limit of %llu bytes",
                                     (unsigned long long)srv->cfg.max_part_size);
                if (len < t->row.offset)
                    return tus_error(r, 400, "bad_request", "Upload-Length is smaller than the offset");
                t->new_length = (int64_t)len;
            }
        }
        t->start = t->row.offset;
        return prepare_body(r, t);
    }
    /* Creation. */
    if (!srv->cfg.upload_open && r->who.role == DT_ROLE_ANONYMOUS)
        return dt_http_error(r, 401, "unauthorized", "uploads need an uploader or staff token");
    pthread_mutex_lock(&srv->mu);
    int stopping = srv->stopping;
    pthread_mutex_unlock(&srv->mu);
    if (stopping)
        return dt_http_error(r, 503, "busy", "the server is shutting down");
    bool deferred = defer && strcmp(defer, "1") == 0;
    if ((ul != NULL) == deferred || (defer && !deferred))
        return dt_http_error(r, 400, "bad_request", "send Upload-Length, or Upload-Defer-Length: 1");
    if (ul && len > srv->cfg.max_part_size)
        return dt_http_error(r, 413, "too_large", "the upload is larger than the limit of %llu bytes",
                             (unsigned long long)srv->cfg.max_part_size);
    uint64_t free_bytes = dt_blob_free_space(srv->cfg.data_dir);
    if (free_bytes != UINT64_MAX && free_bytes < srv->cfg.min_free_space + len)
        return dt_http_error(r, 507, "insufficient_storage", "not enough free space on the server for this upload");
    if (dt_store_queue_depth(st) >= (int64_t)srv->cfg.max_queue)
        return dt_http_error(r, 503, "busy", "too many analyses are waiting; try again later");
    const char *mh = dt_http_header(r, "Upload-Metadata");
    if (mh && strlen(mh) >= DT_TUS_META_MAX)
        return dt_http_error(r, 400, "bad_request", "Upload-Metadata is longer than %d bytes", DT_TUS_META_MAX - 1);
    tus_meta m;
    char why[200];
    if (!parse_metadata(mh, &m, why, sizeof why))
        return dt_http_error(r, 400, "bad_request", "%s", why);
    dt_tus_expire(srv, st);
    if (r->who.role != DT_ROLE_STAFF) {
        int64_t count, bytes;
        dt_store_tus_usage(st, r->client_key, &count, &bytes);
        if (srv->cfg.tus_max_uploads && count >= (int64_t)srv->cfg.tus_max_uploads)
            return dt_http_throttled(r, 60, "%lld unfinished resumable uploads of yours exist already",
                                     (long long)count);
        if ((uint64_t)bytes + len > srv->cfg.tus_max_bytes)
            return dt_http_throttled(r, 60, "more than %llu bytes of your resumable uploads are unfinished",
                                     (unsigned long long)srv->cfg.tus_max_bytes);
    }
    dt_tus_row *row = &t->row;
    if (dt_random_hex(row->id, sizeof row->id, 12) != DT_OK)
        return dt_http_error(r, 500, "internal", "no randomness");
    row->owner_token_id = r->who.role == DT_ROLE_ANONYMOUS ? 0 : r->who.token_id;
    snprintf(row->owner_key, sizeof row->owner_key, "%s", r->client_key);
    row->length = deferred ? -1 : (int64_t)len;
    snprintf(row->metadata, sizeof row->metadata, "%s", mh ? mh : "");
    snprintf(row->name, sizeof row->name, "%s", m.name);
    snprintf(row->note, sizeof row->note, "%s", m.note);
    snprintf(row->case_id, sizeof row->case_id, "%s", m.case_id);
    snprintf(row->customer, sizeof row->customer, "%s", m.customer);
    snprintf(row->grp, sizeof row->grp, "%s", m.grp[0] ? m.grp : row->id);
    row->group_files = m.files;
    if (m.grp[0]) {
        dt_tus_row others[MAX_GROUP_FILES + 1];
        int n = dt_store_tus_group(st, row->owner_token_id, row->grp, others, MAX_GROUP_FILES + 1);
        if (n >= m.files)
            return dt_http_error(r, 409, "conflict", "case upload %s has all its %d files already", m.grp, m.files);
        for (int i = 0; i < n && i <= MAX_GROUP_FILES; i++)
            if (others[i].group_files != m.files)
                return dt_http_error(r, 409, "conflict", "the files of case upload %s disagree on their number",
                                     m.grp);
    }
    row->created_at = row->updated_at = dt_now();
    row->expires_at = row->created_at + (int64_t)srv->cfg.tus_expiry;
    /* The file first: a crash before the row leaves a file the start-up
     * sweep removes, never a row without its file. */
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/tus", srv->cfg.data_dir);
    tus_path(srv, row->id, t->path, sizeof t->path);
    int fd = open(t->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (fd < 0)
        return dt_http_error(r, 500, "internal", "cannot create the upload's file: %s", strerror(errno));
    fsync(fd);
    close(fd);
    fsync_dir(dir);
    dt_error err = { 0 };
    if (dt_store_tus_create(st, row, &err) != DT_OK) {
        unlink(t->path);
        return dt_http_error(r, 500, "internal", "%s", err.message);
    }
    t->created = true;
    const char *ct = dt_http_header(r, "Content-Type");
    if (ct && strncasecmp(ct, "application/offset+octet-stream", 31) == 0) {
        t->start = 0;
        return prepare_body(r, t);
    }
    return MHD_YES;
}

/* The final call of a PATCH (or a creation with upload). */
static void finish_body(dt_request *r, tus_req *t, tus_outcome *oc)
{
    dt_error err = { 0 };
    t->done = true;
    if (!t->fail_http && t->gzip && t->in_member)
        req_fail(t, 400, "bad_request", "the chunk ends inside a gzip member");
    if (!t->fail_http && t->ck) {
        unsigned char got[EVP_MAX_MD_SIZE];
        unsigned gl = 0;
        EVP_DigestFinal_ex(t->ck, got, &gl);
        if ((int)gl != t->ck_len || memcmp(got, t->ck_want, gl) != 0)
            req_fail(t, 460, "checksum_mismatch", "the chunk does not match its Upload-Checksum");
    }
    if (t->fail_http) {
        /* Nothing of a refused chunk is kept. */
        commit_bytes(r, t, 0, &err);
        oc->http = t->fail_http, oc->code = t->fail_code;
        snprintf(oc->msg, sizeof oc->msg, "%s", t->fail_msg);
        return;
    }
    if (commit_bytes(r, t, t->written, &err) != DT_OK) {
        oc->http = err.code == DT_ERR_NOT_FOUND ? 410 : 500;
        oc->code = err.code == DT_ERR_NOT_FOUND ? "gone" : "internal";
        snprintf(oc->msg, sizeof oc->msg, "%s", err.message);
        return;
    }
    if (t->row.length >= 0 && t->row.offset == (uint64_t)t->row.length) {
        complete_upload(r->srv, dt_http_store(r), r, &t->row, t->slot->md, oc);
        slot_release(r->srv->tus, t->slot, true);
        t->slot = NULL;
    }
}

static enum MHD_Result options(dt_request *r)
{
    struct MHD_Response *resp = empty();
    char v[32];
    snprintf(v, sizeof v, "%llu", (unsigned long long)r->srv->cfg.max_part_size);
    MHD_add_response_header(resp, "Tus-Version", TUS_VERSION);
    MHD_add_response_header(resp, "Tus-Extension", TUS_EXTENSIONS);
    MHD_add_response_header(resp, "Tus-Max-Size", v);
    MHD_add_response_header(resp, "Tus-Checksum-Algorithm", "sha1,sha256,md5");
    /* Not a tus header: tells clients (the upload page) that a PATCH may be
     * gzip members (docs/api.md). */
    MHD_add_response_header(resp, "Dumptriage-Chunk-Encoding", "gzip");
    return reply(r, 204, resp);
}

/* A kill between the durable offset of the last byte and the completion
 * leaves a whole file unfinished.  A server alone on its store finishes it
 * at start (dt_tus_recover); on a shared store nothing is tidied at start
 * (another server may hold it), so the next HEAD or GET that finds it whole
 * finishes it here, unless a request of this process holds the upload.
 * Servers that race to do it elsewhere are harmless: the state moves only
 * from 'receiving', the blob is content-addressed, and finishing the case
 * upload records it once (finish_group).  Returns 0 when the upload is gone
 * (its content was refused). */
static int catch_up(dt_request *r, dt_tus_row *row, enum MHD_Result *res)
{
    bool whole = strcmp(row->state, "receiving") == 0 && row->length >= 0 && row->offset == (uint64_t)row->length;
    if (!whole && strcmp(row->state, "complete") != 0)
        return 1;
    bool busy;
    tus_slot *s = slot_acquire(r->srv->tus, row->id, &busy);
    if (!s)
        return 1; /* a PATCH here is finishing it: the state read is the truth for now */
    dt_store *st = dt_http_store(r);
    tus_outcome oc = { 0 };
    if (whole)
        complete_upload(r->srv, st, r, row, NULL, &oc);
    else
        finish_group(r->srv, st, r, row, &oc);
    slot_release(r->srv->tus, s, true);
    int f = dt_store_tus_get(st, row->id, row);
    if (f == 1)
        return 1;
    *res = f == 0 && oc.http ? tus_error(r, oc.http, oc.code, "%s", oc.msg)
                             : tus_error(r, f == 0 ? 404 : 500, f == 0 ? "not_found" : "internal",
                                         f == 0 ? "no such upload" : "store error");
    return 0;
}

static enum MHD_Result head(dt_request *r, const char *rest)
{
    if (!version_ok(r))
        return version_refused(r);
    dt_tus_row row;
    enum MHD_Result res;
    if (!lookup(r, rest, &row, &res) || !catch_up(r, &row, &res))
        return res;
    struct MHD_Response *resp = empty();
    upload_headers(r, resp, &row);
    char v[32];
    if (row.length >= 0) {
        snprintf(v, sizeof v, "%lld", (long long)row.length);
        MHD_add_response_header(resp, "Upload-Length", v);
    } else {
        MHD_add_response_header(resp, "Upload-Defer-Length", "1");
    }
    if (row.metadata[0])
        MHD_add_response_header(resp, "Upload-Metadata", row.metadata);
    return reply(r, 200, resp);
}

/* GET: the same facts as JSON, for the uploader and the page. */
static enum MHD_Result get_json(dt_request *r, const char *rest)
{
    dt_tus_row row;
    enum MHD_Result res;
    if (!lookup(r, rest, &row, &res) || !catch_up(r, &row, &res))
        return res;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", row.id);
    cJSON_AddNumberToObject(o, "offset", (double)row.offset);
    if (row.length >= 0)
        cJSON_AddNumberToObject(o, "length", (double)row.length);
    else
        cJSON_AddNullToObject(o, "length");
    cJSON_AddStringToObject(o, "state", row.state);
    cJSON_AddStringToObject(o, "case_upload", row.grp);
    char v[256];
    http_date(row.expires_at, v, sizeof v);
    cJSON_AddStringToObject(o, "expires", v);
    if (row.upload_id[0]) {
        cJSON_AddStringToObject(o, "upload_id", row.upload_id);
        snprintf(v, sizeof v, "/triage/%s?key=%s", row.upload_id, row.view_key);
        cJSON_AddStringToObject(o, "view_url", v);
        snprintf(v, sizeof v, "/api/dumps/%s?key=%s", row.upload_id, row.view_key);
        cJSON_AddStringToObject(o, "status_url", v);
    } else {
        cJSON_AddNullToObject(o, "upload_id");
    }
    return dt_http_json(r, 200, o);
}

static enum MHD_Result terminate(dt_request *r, const char *rest)
{
    if (!version_ok(r))
        return version_refused(r);
    dt_tus_row row;
    enum MHD_Result res;
    if (!lookup(r, rest, &row, &res))
        return res;
    bool busy;
    tus_slot *s = slot_acquire(r->srv->tus, row.id, &busy);
    if (!s)
        return busy ? tus_error(r, 423, "locked", "a request is writing this upload")
                    : tus_error(r, 503, "busy", "too many uploads are being written at once");
    remove_upload(r->srv, dt_http_store(r), row.id);
    slot_release(r->srv->tus, s, true);
    return reply(r, 204, empty());
}

enum MHD_Result dt_api_tus(dt_request *r, const char *rest)
{
    const char *m = r->method;
    sweeper_ensure(r->srv);
    if (strcmp(m, "OPTIONS") == 0)
        return options(r);
    if (strcmp(m, "HEAD") == 0 && rest[0] == '/')
        return head(r, rest);
    if (strcmp(m, "GET") == 0 && rest[0] == '/')
        return get_json(r, rest);
    if (strcmp(m, "DELETE") == 0 && rest[0] == '/')
        return terminate(r, rest);
    tus_req *t = r->tus;
    bool post = strcmp(m, "POST") == 0 && rest[0] == 0;
    if (!t || (!post && strcmp(m, "PATCH") != 0))
        return dt_http_error(r, 405, "method_not_allowed", "%s is not allowed here", m);
    tus_outcome oc = { 0 };
    if (t->has_body)
        finish_body(r, t, &oc);
    t->done = true;
    struct MHD_Response *resp = empty();
    unsigned status = post ? 201 : 204;
    if (oc.http) {
        char *text = NULL;
        cJSON *o = cJSON_CreateObject();
        cJSON *e = cJSON_AddObjectToObject(o, "error");
        cJSON_AddStringToObject(e, "code", oc.code);
        cJSON_AddStringToObject(e, "message", oc.msg);
        text = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        MHD_destroy_response(resp);
        resp = text ? MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE) : empty();
        MHD_add_response_header(resp, "Content-Type", "application/json");
        status = oc.http;
        if (oc.http == 460 || oc.http == 413 || oc.http == 400 || oc.http == 507)
            upload_headers(r, resp, &t->row); /* the offset stays where it was */
    } else {
        upload_headers(r, resp, &t->row);
    }
    if (post && t->created) {
        char loc[128];
        snprintf(loc, sizeof loc, "/api/uploads/%s", t->row.id);
        MHD_add_response_header(resp, "Location", loc);
    }
    return reply(r, status, resp);
}

/* One line per chunk in the log: what arrived and what was kept, so a
 * resume can be seen to start at the server's offset (tests, operators). */
static void log_chunk(const tus_req *t, bool ok, uint64_t kept)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return;
    cJSON_AddStringToObject(o, "id", t->row.id);
    cJSON_AddNumberToObject(o, "start", (double)t->start);
    cJSON_AddNumberToObject(o, "received", (double)t->written);
    cJSON_AddNumberToObject(o, "kept", (double)kept);
    cJSON_AddNumberToObject(o, "wire", (double)t->wire);
    cJSON_AddBoolToObject(o, "gzip", t->gzip);
    cJSON_AddBoolToObject(o, "cut_off", !ok);
    if (t->fail_http)
        cJSON_AddNumberToObject(o, "refused", t->fail_http);
    dt_log_event("tus_chunk", o);
}

void dt_tus_end(dt_request *r, bool ok)
{
    tus_req *t = r->tus;
    if (!t)
        return;
    if (!ok && t->has_body && !t->done) {
        /* Cut off mid-body: what arrived whole is kept (tus core: the
         * server should keep what it received).  Not for a chunk with a
         * checksum, which cannot be verified. */
        t->done = true;
        dt_error err = { 0 };
        uint64_t keep = t->fail_http || t->ck ? 0 : t->gzip ? t->member_end : t->written;
        if (commit_bytes(r, t, keep, &err) == DT_OK && t->row.length >= 0 && keep > 0
            && t->row.offset == (uint64_t)t->row.length) {
            tus_outcome oc = { 0 };
            complete_upload(r->srv, dt_http_store(r), r, &t->row, t->slot->hashed == t->row.offset ? t->slot->md : NULL,
                            &oc);
            slot_release(r->srv->tus, t->slot, true);
            t->slot = NULL;
        }
    }
    if (t->has_body)
        log_chunk(t, ok, t->row.offset >= t->start ? t->row.offset - t->start : 0);
    req_free(r);
}

int dt_tus_expire(dt_server *srv, dt_store *st)
{
    char ids[64][33];
    int removed = 0;
    for (;;) {
        int n = dt_store_tus_expired(st, dt_now(), ids, 64);
        int done_now = 0;
        for (int i = 0; i < n; i++) {
            if (slot_busy(srv->tus, ids[i]))
                continue; /* a chunk is arriving: it renews the expiry */
            remove_upload(srv, st, ids[i]);
            done_now++;
        }
        removed += done_now;
        if (n < 64 || done_now == 0)
            break;
    }
    return removed;
}

int dt_tus_recover(dt_server *srv, dt_store *st)
{
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/tus", srv->cfg.data_dir);
    if (mkdir(dir, 0750) != 0 && errno != EEXIST)
        return 0;
    int removed = 0;
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        dt_tus_row *row = malloc(sizeof *row);
        if (!row)
            break;
        char p[1400];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        int f = dt_store_tus_get(st, e->d_name, row);
        if (f == 0 || (f == 1 && strcmp(row->state, "finished") == 0)) {
            unlink(p);
            removed++;
        } else if (f == 1) {
            struct stat sb;
            if (stat(p, &sb) == 0 && (uint64_t)sb.st_size > row->offset && truncate(p, (off_t)row->offset) != 0) {
                /* the next PATCH cuts it back instead */
            }
            tus_outcome oc = { 0 };
            if (strcmp(row->state, "receiving") == 0 && row->length >= 0 && row->offset == (uint64_t)row->length)
                complete_upload(srv, st, NULL, row, NULL, &oc); /* the crash came between offset and completion */
            else if (strcmp(row->state, "complete") == 0)
                finish_group(srv, st, NULL, row, &oc);
        }
        free(row);
    }
    closedir(d);
    fsync_dir(dir);
    return removed + dt_tus_expire(srv, st);
}
