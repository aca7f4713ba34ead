/*
 * tus_http.c — see tus_http.h.  One easy handle per request: a chunk is
 * tens of MiB, so connection reuse saves nothing that matters, and a fresh
 * handle after a dropped network never inherits a dead connection.
 */
#include "tus_http.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct {
    dt_tus_reply *out;
    char *buf;
    size_t len;
} sink;

void dt_tus_reply_free(dt_tus_reply *r)
{
    free(r->body);
    r->body = NULL;
}

static void copy_value(const char *v, size_t n, char *dst, size_t cap)
{
    while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' '))
        n--;
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, v, n);
    dst[n] = 0;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
    sink *s = ud;
    size_t n = size * nmemb;
    const char *colon = memchr(p, ':', n);
    if (!colon)
        return n;
    size_t klen = (size_t)(colon - p);
    const char *v = colon + 1;
    while (v < p + n && *v == ' ')
        v++;
    size_t vlen = (size_t)(p + n - v);
    char tmp[32];
#define IS(name) (klen == sizeof name - 1 && strncasecmp(p, name, klen) == 0)
    if (IS("Upload-Offset")) {
        copy_value(v, vlen, tmp, sizeof tmp);
        s->out->offset = strtoll(tmp, NULL, 10);
    } else if (IS("Location")) {
        copy_value(v, vlen, s->out->location, sizeof s->out->location);
    } else if (IS("Dumptriage-Upload-Id")) {
        copy_value(v, vlen, s->out->upload_id, sizeof s->out->upload_id);
    } else if (IS("Dumptriage-View-Url")) {
        copy_value(v, vlen, s->out->view_url, sizeof s->out->view_url);
    } else if (IS("Dumptriage-Status-Url")) {
        copy_value(v, vlen, s->out->status_url, sizeof s->out->status_url);
    }
#undef IS
    return n;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
    sink *s = ud;
    size_t n = size * nmemb;
    if (s->len + n > (1u << 20))
        return n; /* replies are small JSON; more is not kept */
    char *nb = realloc(s->buf, s->len + n + 1);
    if (!nb)
        return 0;
    s->buf = nb;
    memcpy(s->buf + s->len, p, n);
    s->len += n;
    s->buf[s->len] = 0;
    return n;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    (void)dltotal;
    (void)dlnow;
    const dt_tus_client *c = ud;
    if (c->progress && ultotal > 0)
        c->progress(c->progress_ctx, (uint64_t)ulnow, (uint64_t)ultotal);
    return 0;
}

/* The server's {"error":{"message":…}} without a JSON parser: the message
 * is shown to the user only. */
static void error_message(const char *body, char *dst, size_t cap)
{
    const char *m = body ? strstr(body, "\"message\":\"") : NULL;
    if (!m)
        return;
    m += 11;
    size_t n = 0;
    while (m[n] && m[n] != '"' && n + 1 < cap)
        n++;
    memcpy(dst, m, n);
    dst[n] = 0;
}

static void perform(const dt_tus_client *c, const char *method, const char *path, struct curl_slist *h,
                    const void *body, size_t len, dt_tus_reply *out)
{
    memset(out, 0, sizeof *out);
    out->offset = -1;
    CURL *e = curl_easy_init();
    if (!e) {
        snprintf(out->error, sizeof out->error, "cannot start libcurl");
        return;
    }
    char url[1024];
    snprintf(url, sizeof url, "%s%s", c->server, path);
    h = curl_slist_append(h, "Tus-Resumable: 1.0.0");
    char auth[300];
    if (c->token && *c->token) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", c->token);
        h = curl_slist_append(h, auth);
    }
    sink s = { out, NULL, 0 };
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &s);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 30L);
    /* A stalled link (lid closed, VPN gone) is noticed within a minute. */
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, body ? body : "");
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    if (body && len) {
        curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(e, CURLOPT_XFERINFODATA, (void *)c);
        if (c->limit_rate > 0)
            curl_easy_setopt(e, CURLOPT_MAX_SEND_SPEED_LARGE, (curl_off_t)c->limit_rate);
    }
    CURLcode rc = curl_easy_perform(e);
    if (rc != CURLE_OK) {
        snprintf(out->error, sizeof out->error, "%s", curl_easy_strerror(rc));
    } else {
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &out->status);
        if (out->status >= 400)
            error_message(s.buf, out->error, sizeof out->error);
    }
    out->body = s.buf;
    curl_easy_cleanup(e);
    curl_slist_free_all(h);
}

void dt_tus_create(const dt_tus_client *c, uint64_t length, const char *metadata, dt_tus_reply *out)
{
    char l[64];
    snprintf(l, sizeof l, "Upload-Length: %llu", (unsigned long long)length);
    struct curl_slist *h = curl_slist_append(NULL, l);
    char *m = malloc(strlen(metadata) + 32);
    if (m) {
        sprintf(m, "Upload-Metadata: %s", metadata);
        h = curl_slist_append(h, m);
        free(m);
    }
    h = curl_slist_append(h, "Content-Type:"); /* no body: no form type */
    perform(c, "POST", "/api/uploads", h, NULL, 0, out);
}

void dt_tus_head(const dt_tus_client *c, const char *location, dt_tus_reply *out)
{
    perform(c, "HEAD", location, NULL, NULL, 0, out);
}

void dt_tus_patch(const dt_tus_client *c, const char *location, uint64_t offset, const void *body, size_t len,
                  int gzip, dt_tus_reply *out)
{
    char o[64];
    snprintf(o, sizeof o, "Upload-Offset: %llu", (unsigned long long)offset);
    struct curl_slist *h = curl_slist_append(NULL, o);
    h = curl_slist_append(h, "Content-Type: application/offset+octet-stream");
    if (gzip)
        h = curl_slist_append(h, "Content-Encoding: gzip");
    h = curl_slist_append(h, "Expect:"); /* no 100-continue round trip per chunk */
    perform(c, "PATCH", location, h, body, len, out);
}

void dt_tus_get(const dt_tus_client *c, const char *path, dt_tus_reply *out)
{
    perform(c, "GET", path, NULL, NULL, 0, out);
}
