/*
 * symsrv.c — the symbol-server client and its cache (see symsrv.h).
 *
 * HTTP is libcurl's; CAB (`name.pd_`) decompression is libarchive's, both
 * reached through the tables of symsrv_libs.h, loaded on the first download
 * so that an analysis that downloads nothing never loads them.  A
 * download lands in a temporary file beside its final name and is renamed
 * only when complete and within limits, so a killed process never leaves a
 * half file that a later run would trust.
 */
#include "symbols/symsrv.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "symbols/symsrv_libs.h"

#define DEAD_SERVERS_MAX 16

struct dt_symsrv {
    dt_symsrv_options opt;
    char *dead[DEAD_SERVERS_MAX]; /* servers that timed out in this analysis */
    size_t ndead;
    struct {
        char *url;
        long spent_ms;
    } spent[DEAD_SERVERS_MAX];    /* time used per server in this analysis */
    size_t nspent;
};

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Adds ms to url's account; true when the server is now over budget. */
static bool charge(dt_symsrv *s, const char *url, long ms)
{
    size_t i;
    for (i = 0; i < s->nspent; i++)
        if (strcmp(s->spent[i].url, url) == 0)
            break;
    if (i == s->nspent) {
        if (s->nspent == DEAD_SERVERS_MAX)
            return false;
        s->spent[i].url = strdup(url);
        if (!s->spent[i].url)
            return false;
        s->spent[i].spent_ms = 0;
        s->nspent++;
    }
    s->spent[i].spent_ms += ms;
    return s->spent[i].spent_ms > s->opt.server_budget_ms;
}

dt_symsrv *dt_symsrv_new(const dt_symsrv_options *opt)
{
    dt_symsrv *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    if (opt)
        s->opt = *opt;
    if (s->opt.connect_timeout_ms <= 0)
        s->opt.connect_timeout_ms = 5000;
    if (s->opt.timeout_ms <= 0)
        s->opt.timeout_ms = 20000;
    if (s->opt.server_budget_ms <= 0)
        s->opt.server_budget_ms = 2 * s->opt.timeout_ms;
    if (!s->opt.max_bytes)
        s->opt.max_bytes = UINT64_C(2) << 30;
    if (!s->opt.max_concurrent)
        s->opt.max_concurrent = 4;
    if (s->opt.negative_ttl_s <= 0)
        s->opt.negative_ttl_s = 86400;
    return s;
}

void dt_symsrv_free(dt_symsrv *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->ndead; i++)
        free(s->dead[i]);
    for (size_t i = 0; i < s->nspent; i++)
        free(s->spent[i].url);
    free(s);
}

int dt_symsrv_valid_key(const char *name, const char *id)
{
    if (!name || !id || !*name || !*id || strlen(name) > 255 || strlen(id) > 64)
        return 0;
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return 0;
    for (const char *p = name; *p; p++)
        if (*p == '/' || *p == '\\' || *p == ':' || (unsigned char)*p < 0x20 || *p == '%' || *p == '?' ||
            *p == '#' || *p == '*')
            return 0;
    for (const char *p = id; *p; p++)
        if (!isalnum((unsigned char)*p))
            return 0;
    return 1;
}

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
}

static int mkdirs(const char *path)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return -1;
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0755) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    return mkdir(buf, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

static char *join3(const char *a, const char *name, const char *id, const char *leaf)
{
    size_t n = strlen(a) + strlen(name) + strlen(id) + strlen(leaf) + 4;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s/%s/%s/%s", a, name, id, leaf);
    return s;
}

static int is_dead(const dt_symsrv *s, const char *url)
{
    for (size_t i = 0; i < s->ndead; i++)
        if (strcmp(s->dead[i], url) == 0)
            return 1;
    return 0;
}

static void mark_dead(dt_symsrv *s, const char *url)
{
    if (s->ndead < DEAD_SERVERS_MAX && !is_dead(s, url))
        s->dead[s->ndead++] = strdup(url);
}

/* One of max_concurrent flock'ed slot files under cache/.dt-slots; waits up
 * to the request timeout for a free slot.  Returns the locked fd or -1. */
static int acquire_slot(const dt_symsrv *s, const char *cache)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/.dt-slots", cache);
    if (mkdirs(dir) != 0)
        return -1;
    long waited = 0;
    for (;;) {
        for (unsigned i = 0; i < s->opt.max_concurrent; i++) {
            char path[4200];
            snprintf(path, sizeof path, "%s/slot-%u", dir, i);
            int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
            if (fd < 0)
                return -1;
            if (flock(fd, LOCK_EX | LOCK_NB) == 0)
                return fd;
            close(fd);
        }
        if (waited >= s->opt.timeout_ms)
            return -1;
        struct timespec ts = { 0, 50 * 1000000L };
        nanosleep(&ts, NULL);
        waited += 50;
    }
}

typedef struct {
    FILE *out;
    uint64_t written;
    uint64_t limit;
    int too_large;
} sink;

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
    sink *k = ud;
    size_t n = size * nmemb;
    if (k->written + n > k->limit) {
        k->too_large = 1;
        return 0; /* aborts the transfer */
    }
    if (fwrite(ptr, 1, n, k->out) != n)
        return 0;
    k->written += n;
    return n;
}

typedef enum { GET_OK, GET_NOT_FOUND, GET_FAILED, GET_TIMEOUT } get_result;

/* GET url into tmp_path; on failure err says why. */
static get_result http_get(const dt_symsrv *s, const char *url, const char *tmp_path, dt_error *err)
{
    const dt_curl_api *cu = dt_symsrv_curl(err);
    if (!cu)
        return GET_FAILED;
    FILE *f = fopen(tmp_path, "wb");
    if (!f) {
        dt_error_set(err, DT_ERR_IO, "%s: %s", tmp_path, strerror(errno));
        return GET_FAILED;
    }
    CURL *c = cu->easy_init();
    if (!c) {
        fclose(f);
        dt_error_set(err, DT_ERR_NOMEM, "cannot start an HTTP request");
        return GET_FAILED;
    }
    sink k = { f, 0, s->opt.max_bytes, 0 };
    char errbuf[CURL_ERROR_SIZE] = "";
    cu->easy_setopt(c, CURLOPT_URL, url);
    cu->easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    cu->easy_setopt(c, CURLOPT_WRITEDATA, &k);
    cu->easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    cu->easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
    cu->easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    cu->easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    cu->easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, s->opt.connect_timeout_ms);
    cu->easy_setopt(c, CURLOPT_TIMEOUT_MS, s->opt.timeout_ms);
    cu->easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    cu->easy_setopt(c, CURLOPT_USERAGENT, "Microsoft-Symbol-Server/10.0 dumptriage/" DT_VERSION);
    cu->easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    cu->easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)s->opt.max_bytes);
    CURLcode rc = cu->easy_perform(c);
    long status = 0;
    cu->easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    cu->easy_cleanup(c);
    int closed = fclose(f);
    if (rc == CURLE_OPERATION_TIMEDOUT) {
        dt_error_set(err, DT_ERR_IO, "timed out after %ld ms", s->opt.timeout_ms);
        return GET_TIMEOUT;
    }
    if (k.too_large || rc == CURLE_FILESIZE_EXCEEDED) {
        dt_error_set(err, DT_ERR_UNSUPPORTED, "larger than the %llu-byte limit", (unsigned long long)s->opt.max_bytes);
        return GET_FAILED;
    }
    if (rc != CURLE_OK) {
        dt_error_set(err, DT_ERR_IO, "%s", errbuf[0] ? errbuf : cu->easy_strerror(rc));
        return rc == CURLE_COULDNT_CONNECT ? GET_TIMEOUT : GET_FAILED;
    }
    if (status == 404 || status == 410)
        return GET_NOT_FOUND;
    if (status != 200) {
        dt_error_set(err, DT_ERR_IO, "HTTP status %ld", status);
        return GET_FAILED;
    }
    if (closed != 0) {
        dt_error_set(err, DT_ERR_IO, "%s: %s", tmp_path, strerror(errno));
        return GET_FAILED;
    }
    return GET_OK;
}

/* Extracts the single file of a CAB (or any archive libarchive reads) to out. */
static dt_status extract_cab(const dt_symsrv *s, const char *cab, const char *out, dt_error *err)
{
    const dt_archive_api *ar = dt_symsrv_archive(err);
    if (!ar)
        return err ? err->code : DT_ERR_UNSUPPORTED;
    struct archive *a = ar->read_new();
    if (!a)
        return dt_error_set(err, DT_ERR_NOMEM, "out of memory");
    ar->read_support_format_cab(a);
    ar->read_support_format_zip(a);
    ar->read_support_filter_all(a);
    dt_status st = DT_OK;
    if (ar->read_open_filename(a, cab, 65536) != ARCHIVE_OK) {
        st = dt_error_set(err, DT_ERR_CORRUPT, "compressed symbol file is corrupt: %s", ar->error_string(a));
        ar->read_free(a);
        return st;
    }
    struct archive_entry *e;
    if (ar->read_next_header(a, &e) != ARCHIVE_OK) {
        st = dt_error_set(err, DT_ERR_CORRUPT, "compressed symbol file is corrupt: %s", ar->error_string(a));
        ar->read_free(a);
        return st;
    }
    FILE *f = fopen(out, "wb");
    if (!f) {
        ar->read_free(a);
        return dt_error_set(err, DT_ERR_IO, "%s: %s", out, strerror(errno));
    }
    char buf[65536];
    uint64_t total = 0;
    for (;;) {
        la_ssize_t n = ar->read_data(a, buf, sizeof buf);
        if (n == 0)
            break;
        if (n < 0) {
            st = dt_error_set(err, DT_ERR_CORRUPT, "compressed symbol file is corrupt: %s", ar->error_string(a));
            break;
        }
        total += (uint64_t)n;
        if (total > s->opt.max_bytes) {
            st = dt_error_set(err, DT_ERR_UNSUPPORTED, "expands beyond the %llu-byte limit",
                              (unsigned long long)s->opt.max_bytes);
            break;
        }
        if (fwrite(buf, 1, (size_t)n, f) != (size_t)n) {
            st = dt_error_set(err, DT_ERR_IO, "%s: %s", out, strerror(errno));
            break;
        }
    }
    if (fclose(f) != 0 && st == DT_OK)
        st = dt_error_set(err, DT_ERR_IO, "%s: %s", out, strerror(errno));
    ar->read_free(a);
    return st;
}

static int negative_fresh(const dt_symsrv *s, const char *marker)
{
    struct stat st;
    if (stat(marker, &st) != 0)
        return 0;
    return time(NULL) - st.st_mtime < s->opt.negative_ttl_s;
}

static void url_of(char *out, size_t outsz, const char *base, const char *name, const char *id, const char *leaf)
{
    size_t bl = strlen(base);
    while (bl && base[bl - 1] == '/')
        bl--;
    snprintf(out, outsz, "%.*s/%s/%s/%s", (int)bl, base, name, id, leaf);
}

/* Downloads name/id/name (or its CAB, or follows file.ptr) into final_path. */
static dt_status download(dt_symsrv *s, const char *url, const char *dir, const char *name, const char *id,
                          const char *file, const char *final_path, dt_error *err)
{
    char tmp[4200], u[4096];
    snprintf(tmp, sizeof tmp, "%s/.dt-download-%ld-XXXXXX", dir, (long)getpid());
    int fd = mkstemp(tmp);
    if (fd < 0)
        return dt_error_set(err, DT_ERR_IO, "%s: %s", dir, strerror(errno));
    close(fd);

    url_of(u, sizeof u, url, name, id, file);
    get_result r = http_get(s, u, tmp, err);
    if (r == GET_OK) {
        if (rename(tmp, final_path) != 0) {
            unlink(tmp);
            return dt_error_set(err, DT_ERR_IO, "%s: %s", final_path, strerror(errno));
        }
        return DT_OK;
    }
    if (r == GET_NOT_FOUND) {
        char packed[300];
        snprintf(packed, sizeof packed, "%s", file);
        packed[strlen(packed) - 1] = '_';
        url_of(u, sizeof u, url, name, id, packed);
        r = http_get(s, u, tmp, err);
        if (r == GET_OK) {
            char out[4300];
            snprintf(out, sizeof out, "%s.unpacked", tmp);
            dt_status st = extract_cab(s, tmp, out, err);
            unlink(tmp);
            if (st != DT_OK) {
                unlink(out);
                return st;
            }
            if (rename(out, final_path) != 0) {
                unlink(out);
                return dt_error_set(err, DT_ERR_IO, "%s: %s", final_path, strerror(errno));
            }
            return DT_OK;
        }
    }
    if (r == GET_NOT_FOUND) {
        url_of(u, sizeof u, url, name, id, "file.ptr");
        r = http_get(s, u, tmp, err);
        if (r == GET_OK) {
            char ptr[4096] = "";
            FILE *f = fopen(tmp, "rb");
            size_t n = f ? fread(ptr, 1, sizeof ptr - 1, f) : 0;
            if (f)
                fclose(f);
            ptr[n] = '\0';
            ptr[strcspn(ptr, "\r\n")] = '\0';
            if (strncmp(ptr, "PATH:", 5) == 0) {
                const char *target = ptr + 5;
                if (strncasecmp(target, "http://", 7) == 0 || strncasecmp(target, "https://", 8) == 0) {
                    r = http_get(s, target, tmp, err);
                    if (r == GET_OK && rename(tmp, final_path) == 0)
                        return DT_OK;
                } else {
                    unlink(tmp);
                    return dt_error_set(err, DT_ERR_UNSUPPORTED,
                                        "file.ptr points to %s, a path this machine cannot reach", target);
                }
            } else {
                unlink(tmp);
                return dt_error_set(err, DT_ERR_NOT_FOUND, "server says: %s", ptr[0] ? ptr : "(empty file.ptr)");
            }
        }
    }
    unlink(tmp);
    if (r == GET_NOT_FOUND)
        return dt_error_set(err, DT_ERR_NOT_FOUND, "not on the server");
    if (r == GET_TIMEOUT) {
        mark_dead(s, url);
        return err ? err->code : DT_ERR_IO;
    }
    return err && err->code != DT_OK ? err->code : DT_ERR_IO;
}

dt_status dt_symsrv_get(dt_symsrv *s, const dt_sympath_element *e, const char *name, const char *id, char **path,
                        dt_error *err)
{
    return dt_symsrv_get_file(s, e, name, id, name, path, err);
}

dt_status dt_symsrv_get_file(dt_symsrv *s, const dt_sympath_element *e, const char *name, const char *id,
                             const char *file, char **path, dt_error *err)
{
    *path = NULL;
    if (!dt_symsrv_valid_key(name, id) || !dt_symsrv_valid_key(file, id))
        return dt_error_set(err, DT_ERR_ARG, "refusing unsafe symbol file name '%s'", name ? name : "");
    /* Downstream caches (and the store itself, when it is a path). */
    for (size_t i = 0; i <= e->ncaches; i++) {
        const char *root = i < e->ncaches ? e->caches[i] : e->dir;
        if (!root)
            continue;
        char *p = join3(root, name, id, file);
        if (p && file_exists(p)) {
            *path = p;
            return DT_OK;
        }
        free(p);
    }
    if (!e->url)
        return dt_error_set(err, DT_ERR_NOT_FOUND, "not in %s", e->dir ? e->dir : "the cache");
    if (e->ncaches == 0)
        return dt_error_set(err, DT_ERR_ARG, "%s: no cache directory to download into", e->url);
    if (s->opt.offline)
        return dt_error_set(err, DT_ERR_NOT_FOUND, "not in the cache (offline)");
    if (is_dead(s, e->url))
        return dt_error_set(err, DT_ERR_IO, "%s: skipped (it timed out or used up its time budget earlier in this analysis)", e->url);

    char dir[4096];
    snprintf(dir, sizeof dir, "%s/%s/%s", e->caches[0], name, id);
    char marker[4200];
    /* one miss marker per file: a server may have the PDB and not the .sym */
    if (strcmp(file, name) == 0)
        snprintf(marker, sizeof marker, "%s/.dt-notfound", dir);
    else
        snprintf(marker, sizeof marker, "%s/.dt-notfound.%s", dir, file);
    if (negative_fresh(s, marker))
        return dt_error_set(err, DT_ERR_NOT_FOUND, "not on the server (remembered miss)");
    /* A download is due: only now is libcurl needed, and loaded. */
    if (!dt_symsrv_curl(err))
        return err ? err->code : DT_ERR_UNSUPPORTED;
    if (mkdirs(dir) != 0)
        return dt_error_set(err, DT_ERR_IO, "%s: %s", dir, strerror(errno));

    int slot = acquire_slot(s, e->caches[0]);
    if (slot < 0)
        return dt_error_set(err, DT_ERR_IO, "%s: too many downloads in progress", e->url);
    /* Another process may have fetched it while we waited for a slot. */
    char *final_path = join3(e->caches[0], name, id, file);
    dt_status st;
    if (!final_path) {
        st = dt_error_set(err, DT_ERR_NOMEM, "out of memory");
    } else if (file_exists(final_path)) {
        st = DT_OK;
    } else {
        long t0 = now_ms();
        st = download(s, e->url, dir, name, id, file, final_path, err);
        if (charge(s, e->url, now_ms() - t0)) {
            mark_dead(s, e->url);
            if (st != DT_OK && st != DT_ERR_NOT_FOUND && err) {
                char why[sizeof err->message];
                memcpy(why, err->message, sizeof why);
                dt_error_set(err, err->code, "%.150s; the server used up its %ld ms budget and is skipped from now on",
                             why, s->opt.server_budget_ms);
            }
        }
        if (st == DT_ERR_NOT_FOUND) {
            FILE *m = fopen(marker, "w");
            if (m)
                fclose(m);
        }
    }
    close(slot);
    if (st == DT_OK)
        *path = final_path;
    else
        free(final_path);
    return st;
}

dt_status dt_symsrv_find(dt_symsrv *s, const dt_sympath *p, const char *name, const char *id, char **path,
                         char *failures, size_t failures_size)
{
    *path = NULL;
    size_t fl = failures && failures_size ? strlen(failures) : 0;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < p->count; i++) {
            const dt_sympath_element *e = &p->items[i];
            /* Local stores before any network: pass 0 is local-only. */
            if ((pass == 0) != (e->url == NULL))
                continue;
            dt_error err = { 0 };
            dt_status st = dt_symsrv_get(s, e, name, id, path, &err);
            if (st == DT_OK)
                return DT_OK;
            if (st != DT_ERR_NOT_FOUND && failures && fl + 1 < failures_size)
                fl += (size_t)snprintf(failures + fl, failures_size - fl, "%s%s: %s", fl ? "; " : "",
                                       e->url ? e->url : e->dir, err.message);
        }
    }
    return DT_ERR_NOT_FOUND;
}
