/*
 * upload_main.c — `dumptriage upload` (the dumptriage-upload binary, exec'd
 * by `dumptriage upload` so that the lean analyzer never links libcurl):
 * sends a user dump and optionally a kernel dump to a dumptriage server
 * over tus (/api/uploads), compressed chunk by chunk as gzip members,
 * resuming an interrupted run from its state file, and prints the triage
 * URL; with --wait it follows the analysis and prints the verdict.
 *
 * Exit codes (README "Sending dumps from the command line"):
 *   0 uploaded (with --wait: analysed)   2 usage        3 a file cannot be read
 *   4 refused by the server              5 gave up: server unreachable past --give-up
 *   6 the analysis failed (--wait)       7 --wait ran out of time
 */
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "progress.h"
#include "state_file.h"
#include "tus_http.h"

enum { EXIT_OK = 0, EXIT_USAGE = 2, EXIT_FILE = 3, EXIT_REFUSED = 4, EXIT_UNREACHABLE = 5, EXIT_FAILED = 6,
       EXIT_WAIT_TIMEOUT = 7 };

typedef struct {
    const char *server, *token, *note, *case_id, *customer;
    const char *files[DT_UP_MAX_FILES];
    int nfiles;
    size_t chunk;
    int level;            /* gzip level; 0: send raw */
    bool wait;
    unsigned give_up, wait_timeout;
    long limit_rate;
} options;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: dumptriage upload [--server URL] [--token T] [--note TEXT] [--case ID] [--customer NAME]\n"
            "                         [--wait] [--chunk MiB] [--level 0-9] [--give-up SECONDS] USER.dmp [KERNEL.dmp]\n"
            "  --server URL      the dumptriage server (default $DUMPTRIAGE_SERVER, else http://127.0.0.1:8080)\n"
            "  --token T         uploader token (default $DUMPTRIAGE_TOKEN)\n"
            "  --note, --case, --customer   text shown with the upload\n"
            "  --wait            wait for the analysis and print the verdict\n"
            "  --chunk MiB       dump bytes per request (default 32); a resume repeats at most one chunk\n"
            "  --level N         gzip level per chunk, 0 sends uncompressed (default 1)\n"
            "  --give-up S       stop retrying after S seconds without progress (default 3600)\n"
            "An interrupted upload continues when the same command is run again.\n"
            "Exit: 0 done, 2 usage, 3 unreadable file, 4 refused by the server, 5 server unreachable,\n"
            "      6 analysis failed (--wait), 7 --wait timed out.\n");
}

static int parse(int argc, char **argv, options *o)
{
    memset(o, 0, sizeof *o);
    o->server = getenv("DUMPTRIAGE_SERVER");
    if (!o->server || !*o->server)
        o->server = "http://127.0.0.1:8080";
    o->token = getenv("DUMPTRIAGE_TOKEN");
    o->chunk = 32u << 20;
    o->level = 1;
    o->give_up = 3600;
    o->wait_timeout = 3600;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define OPT(name) (strcmp(a, name) == 0 && v && (i++, 1))
        if (strcmp(a, "upload") == 0 && i == 1)
            continue; /* exec'd as `dumptriage-upload upload …` */
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            exit(0);
        } else if (strcmp(a, "--wait") == 0) {
            o->wait = true;
        } else if (OPT("--server")) {
            o->server = v;
        } else if (OPT("--token")) {
            o->token = v;
        } else if (OPT("--note")) {
            o->note = v;
        } else if (OPT("--case")) {
            o->case_id = v;
        } else if (OPT("--customer")) {
            o->customer = v;
        } else if (OPT("--chunk")) {
            long mib = strtol(v, NULL, 10);
            if (mib < 1 || mib > 1024)
                return -1;
            o->chunk = (size_t)mib << 20;
        } else if (OPT("--level")) {
            o->level = atoi(v);
            if (o->level < 0 || o->level > 9)
                return -1;
        } else if (OPT("--give-up")) {
            o->give_up = (unsigned)strtoul(v, NULL, 10);
        } else if (OPT("--wait-timeout")) {
            o->wait_timeout = (unsigned)strtoul(v, NULL, 10);
        } else if (OPT("--limit-rate")) { /* tests: bytes per second */
            o->limit_rate = strtol(v, NULL, 10);
        } else if (a[0] == '-' && a[1]) {
            return -1;
        } else if (o->nfiles < DT_UP_MAX_FILES) {
            o->files[o->nfiles++] = a;
        } else {
            return -1;
        }
#undef OPT
    }
    if (o->nfiles == 0 || strncmp(o->server, "http", 4) != 0)
        return -1;
    return 0;
}

static void b64(const unsigned char *in, size_t n, char *out)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0) | (i + 2 < n ? in[i + 2] : 0);
        out[o++] = t[v >> 18 & 63];
        out[o++] = t[v >> 12 & 63];
        out[o++] = i + 1 < n ? t[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? t[v & 63] : '=';
    }
    out[o] = 0;
}

/* Appends ",key base64(value)" to meta (cap bytes). */
static void meta_add(char *meta, size_t cap, const char *key, const char *value)
{
    if (!value || !*value)
        return;
    size_t n = strlen(value);
    if (n > 2000)
        n = 2000;
    char enc[2800];
    b64((const unsigned char *)value, n, enc);
    size_t used = strlen(meta);
    snprintf(meta + used, cap - used, "%s%s %s", used ? "," : "", key, enc);
}

/* Already compressed files (a .dmp.gz, an archive) are sent as they are. */
static bool compressed_already(int fd)
{
    unsigned char m[6] = { 0 };
    if (pread(fd, m, sizeof m, 0) < 4)
        return false;
    return (m[0] == 0x1f && m[1] == 0x8b) || memcmp(m, "PK\3\4", 4) == 0 || memcmp(m, "7z\xBC\xAF", 4) == 0
        || memcmp(m, "\xFD" "7zXZ", 5) == 0 || memcmp(m, "\x28\xB5\x2F\xFD", 4) == 0 || memcmp(m, "BZh", 3) == 0;
}

/* One gzip member of in into out (cap bytes); its length, or 0 on failure. */
static size_t gzip_member(const unsigned char *in, size_t n, unsigned char *out, size_t cap, int level)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return 0;
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    size_t len = cap - z.avail_out;
    deflateEnd(&z);
    return rc == Z_STREAM_END ? len : 0;
}

typedef struct {
    dt_progress *pg;
    uint64_t raw;   /* dump bytes in the chunk being sent */
} chunk_progress;

static void on_chunk_progress(void *ctx, uint64_t sent, uint64_t total)
{
    chunk_progress *c = ctx;
    dt_progress_draw(c->pg, total ? c->raw * sent / total : 0, false);
}

static bool retryable(long status)
{
    return status == 0 || status >= 500 || status == 423 || status == 409 || status == 429;
}

typedef struct {
    char upload_id[40], view_url[160], status_url[160];
} result;

/* Sends one file; its tus URL lives in st->location[idx]. */
static int send_file(const options *o, dt_tus_client *c, dt_up_state *st, int idx, dt_progress *pg, result *res)
{
    const char *file = o->files[idx];
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        fprintf(stderr, "dumptriage upload: cannot read %s: %s\n", file, strerror(errno));
        if (fd >= 0)
            close(fd);
        return EXIT_FILE;
    }
    uint64_t size = (uint64_t)sb.st_size;
    int level = compressed_already(fd) ? 0 : o->level;
    size_t cap = level ? (size_t)compressBound((uLong)o->chunk) + 64 : 0;
    unsigned char *buf = malloc(o->chunk), *zbuf = cap ? malloc(cap) : NULL;
    if (!buf || (cap && !zbuf)) {
        fprintf(stderr, "dumptriage upload: out of memory\n");
        close(fd);
        free(buf);
        free(zbuf);
        return EXIT_FILE;
    }
    int rc = EXIT_OK;
    double stalled_since = 0;
    unsigned backoff = 1;
    uint64_t counted = 0; /* bytes of this file already in pg->done */
    bool first_head = true;
    for (;;) {
        dt_tus_reply r;
        if (!st->location[idx][0]) {
            char meta[8192] = "";
            const char *base = strrchr(file, '/');
            meta_add(meta, sizeof meta, "filename", base ? base + 1 : file);
            meta_add(meta, sizeof meta, "note", o->note);
            meta_add(meta, sizeof meta, "case", o->case_id);
            meta_add(meta, sizeof meta, "customer", o->customer);
            meta_add(meta, sizeof meta, "case_upload", st->case_upload);
            meta_add(meta, sizeof meta, "files", o->nfiles == 2 ? "2" : "1");
            dt_tus_create(c, size, meta, &r);
            if (r.status == 201 && r.location[0]) {
                snprintf(st->location[idx], sizeof st->location[idx], "%s", r.location);
                if (dt_up_state_save(st) != 0)
                    fprintf(stderr, "dumptriage upload: warning: cannot write %s; an interruption will start over\n",
                            st->path);
                dt_tus_reply_free(&r);
                continue;
            }
        } else {
            dt_tus_head(c, st->location[idx], &r);
            if (r.status == 404 || r.status == 410) {
                /* Expired or removed on the server: start this file again. */
                fprintf(stderr, "%sdumptriage upload: the server no longer has %s's upload (%ld); starting it again\n",
                        pg->tty ? "\n" : "", file, r.status);
                st->location[idx][0] = 0;
                dt_tus_reply_free(&r);
                continue;
            }
            if (r.status == 200 && r.offset >= 0) {
                uint64_t off = (uint64_t)r.offset;
                if (off > counted) {
                    pg->done += off - counted;
                    if (first_head)
                        pg->start_done += off - counted; /* sent by an earlier run: not this run's speed */
                    counted = off;
                }
                first_head = false;
                if (off >= size) {
                    snprintf(res->upload_id, sizeof res->upload_id, "%s", r.upload_id);
                    snprintf(res->view_url, sizeof res->view_url, "%s", r.view_url);
                    snprintf(res->status_url, sizeof res->status_url, "%s", r.status_url);
                    dt_tus_reply_free(&r);
                    break;
                }
                dt_tus_reply_free(&r);
                size_t n = size - off < o->chunk ? (size_t)(size - off) : o->chunk;
                ssize_t got = pread(fd, buf, n, (off_t)off);
                if (got != (ssize_t)n) {
                    fprintf(stderr, "dumptriage upload: cannot read %s: %s\n", file, got < 0 ? strerror(errno) : "short read");
                    rc = EXIT_FILE;
                    break;
                }
                const unsigned char *body = buf;
                size_t blen = n;
                if (level) {
                    blen = gzip_member(buf, n, zbuf, cap, level);
                    body = zbuf;
                    if (!blen) {
                        fprintf(stderr, "dumptriage upload: compression failed\n");
                        rc = EXIT_FILE;
                        break;
                    }
                }
                chunk_progress cp = { pg, n };
                c->progress = on_chunk_progress;
                c->progress_ctx = &cp;
                dt_tus_patch(c, st->location[idx], off, body, blen, level != 0, &r);
                c->progress = NULL;
                if (r.status == 204) {
                    pg->wire += blen;
                    pg->raw_acked += n;
                    uint64_t now_off = r.offset >= 0 ? (uint64_t)r.offset : off + n;
                    pg->done += now_off - counted;
                    counted = now_off;
                    dt_progress_draw(pg, 0, false);
                    stalled_since = 0;
                    backoff = 1;
                    if (r.upload_id[0]) {
                        snprintf(res->upload_id, sizeof res->upload_id, "%s", r.upload_id);
                        snprintf(res->view_url, sizeof res->view_url, "%s", r.view_url);
                        snprintf(res->status_url, sizeof res->status_url, "%s", r.status_url);
                    }
                    dt_tus_reply_free(&r);
                    continue;
                }
            }
        }
        /* Something went wrong: refusal, or pause and retry. */
        if (!retryable(r.status)) {
            fprintf(stderr, "%sdumptriage upload: the server refused %s: HTTP %ld %s\n", pg->tty ? "\n" : "", file,
                    r.status, r.error);
            dt_tus_reply_free(&r);
            rc = EXIT_REFUSED;
            break;
        }
        double now = dt_progress_now();
        if (!stalled_since)
            stalled_since = now;
        if (now - stalled_since > o->give_up) {
            fprintf(stderr, "%sdumptriage upload: giving up after %u s: %s\n", pg->tty ? "\n" : "", o->give_up,
                    r.error[0] ? r.error : "server unavailable");
            dt_tus_reply_free(&r);
            rc = EXIT_UNREACHABLE;
            break;
        }
        if (r.status != 409) { /* 409: another offset; HEAD again at once */
            char why[600];
            snprintf(why, sizeof why, "%s", r.status ? (r.error[0] ? r.error : "server busy") : r.error);
            dt_progress_paused(pg, why, backoff);
            sleep(backoff);
            backoff = backoff < 30 ? backoff * 2 : 30;
        }
        dt_tus_reply_free(&r);
    }
    close(fd);
    free(buf);
    free(zbuf);
    return rc;
}

/* --wait: polls the upload until analysed; prints the verdict. */
static int wait_verdict(const options *o, dt_tus_client *c, const result *res)
{
    double end = dt_progress_now() + o->wait_timeout;
    fprintf(stderr, "waiting for the analysis…\n");
    while (dt_progress_now() < end) {
        dt_tus_reply r;
        dt_tus_get(c, res->status_url, &r);
        cJSON *j = r.status == 200 && r.body ? cJSON_Parse(r.body) : NULL;
        dt_tus_reply_free(&r);
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "status");
        if (cJSON_IsString(s) && (strcmp(s->valuestring, "done") == 0 || strcmp(s->valuestring, "failed") == 0)) {
            bool done = strcmp(s->valuestring, "done") == 0;
            printf("status: %s\n", s->valuestring);
            const cJSON *sum = cJSON_GetObjectItemCaseSensitive(j, "summary");
            const char *keys[] = { "verdict", "signature", "process", "bugcheck" };
            for (int i = 0; i < 4; i++) {
                const cJSON *v = cJSON_GetObjectItemCaseSensitive(sum, keys[i]);
                if (cJSON_IsString(v))
                    printf("%s: %s\n", keys[i], v->valuestring);
            }
            const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
            if (cJSON_IsString(e))
                printf("error: %s\n", e->valuestring);
            cJSON_Delete(j);
            return done ? EXIT_OK : EXIT_FAILED;
        }
        cJSON_Delete(j);
        sleep(2);
    }
    fprintf(stderr, "dumptriage upload: the analysis did not finish within %u s\n", o->wait_timeout);
    return EXIT_WAIT_TIMEOUT;
}

int main(int argc, char **argv)
{
    options o;
    if (parse(argc, argv, &o) != 0) {
        usage(stderr);
        return EXIT_USAGE;
    }
    /* The state file is named after everything that makes this run this run. */
    char key[8192];
    size_t kl = (size_t)snprintf(key, sizeof key, "%s|%s|%s|%s|%s", o.server, o.token ? o.token : "",
                                 o.note ? o.note : "", o.case_id ? o.case_id : "", o.customer ? o.customer : "");
    uint64_t total = 0;
    for (int i = 0; i < o.nfiles; i++) {
        struct stat sb;
        char abs[PATH_MAX];
        if (stat(o.files[i], &sb) != 0 || !S_ISREG(sb.st_mode) || !realpath(o.files[i], abs)) {
            fprintf(stderr, "dumptriage upload: cannot read %s: %s\n", o.files[i],
                    errno ? strerror(errno) : "not a regular file");
            return EXIT_FILE;
        }
        total += (uint64_t)sb.st_size;
        if (kl < sizeof key)
            kl += (size_t)snprintf(key + kl, sizeof key - kl, "|%s|%lld|%lld|%lld", abs, (long long)sb.st_size,
                                   (long long)sb.st_mtime, (long long)sb.st_ino);
    }
    dt_up_state st;
    int resumed = dt_up_state_open(&st, key);
    if (!resumed) {
        unsigned char rnd[12];
        int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
        if (fd < 0 || read(fd, rnd, sizeof rnd) != (ssize_t)sizeof rnd) {
            fprintf(stderr, "dumptriage upload: no randomness\n");
            return EXIT_FILE;
        }
        close(fd);
        for (int i = 0; i < 12; i++)
            snprintf(st.case_upload + 2 * i, 3, "%02x", rnd[i]);
    } else {
        fprintf(stderr, "resuming an interrupted upload (state %s)\n", st.path);
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    char server[512];
    snprintf(server, sizeof server, "%s", o.server);
    size_t sl = strlen(server);
    while (sl && server[sl - 1] == '/')
        server[--sl] = 0;
    dt_tus_client c = { server, o.token, o.limit_rate, NULL, NULL };
    dt_progress pg;
    dt_progress_init(&pg, total, 0);
    result res = { "", "", "" };
    int rc = EXIT_OK;
    for (int i = 0; i < o.nfiles && rc == EXIT_OK; i++)
        rc = send_file(&o, &c, &st, i, &pg, &res);
    if (rc == EXIT_OK) {
        dt_progress_done(&pg);
        if (!res.upload_id[0]) {
            fprintf(stderr, "dumptriage upload: the server did not report the upload\n");
            rc = EXIT_REFUSED;
        } else {
            dt_up_state_remove(&st);
            printf("%s%s\n", server, res.view_url);
            fflush(stdout);
            if (o.wait)
                rc = wait_verdict(&o, &c, &res);
        }
    } else if (rc != EXIT_REFUSED) {
        fprintf(stderr, "run the same command again to continue where it stopped\n");
    } else {
        dt_up_state_remove(&st);
    }
    curl_global_cleanup();
    return rc;
}
