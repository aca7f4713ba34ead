/*
 * static_files.c — owns the web pages: / (upload), /list, /login, /triage/{id}
 * and /static/… from --web-dir, and the short view link /v/{key} (a
 * redirect to /triage/{id}?key=…).
 *
 * Only a fixed set of page names and, under /static/, paths made of plain
 * name characters are served; any "." or ".." segment is refused, and the
 * resolved file must still lie inside the web directory (a symlink pointing
 * out is refused too).
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http.h"
#include "ratelimit.h"

static const char *content_type(const char *path)
{
    static const struct { const char *ext, *type; } types[] = {
        { ".html", "text/html; charset=utf-8" }, { ".js", "text/javascript; charset=utf-8" },
        { ".mjs", "text/javascript; charset=utf-8" }, { ".css", "text/css; charset=utf-8" },
        { ".json", "application/json" }, { ".svg", "image/svg+xml" }, { ".png", "image/png" },
        { ".ico", "image/x-icon" }, { ".woff2", "font/woff2" }, { ".txt", "text/plain; charset=utf-8" },
        { ".map", "application/json" },
    };
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

static bool safe_relative(const char *p)
{
    if (!*p || strlen(p) > 200)
        return false;
    const char *seg = p;
    for (const char *c = p;; c++) {
        if (*c == '/' || *c == 0) {
            size_t n = (size_t)(c - seg);
            if (n == 0 || (n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.') || seg[0] == '.')
                return false;
            if (!*c)
                return true;
            seg = c + 1;
            continue;
        }
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '.'
              || *c == '_' || *c == '-'))
            return false;
    }
}

enum MHD_Result dt_static_serve(dt_request *r)
{
    const char *url = r->url;
    char rel[256];
    if (strcmp(url, "/") == 0 || strcmp(url, "/index.html") == 0)
        strcpy(rel, "index.html");
    else if (strcmp(url, "/list") == 0)
        strcpy(rel, "list.html");
    else if (strcmp(url, "/login") == 0)
        strcpy(rel, "login.html");
    else if (strcmp(url, "/signature") == 0)
        strcpy(rel, "signature.html");
    else if (strncmp(url, "/triage/", 8) == 0 && url[8] && strlen(url + 8) <= 32
             && strspn(url + 8, "0123456789abcdef") == strlen(url + 8))
        strcpy(rel, "triage.html");
    else if (strncmp(url, "/static/", 8) == 0 && safe_relative(url + 8))
        snprintf(rel, sizeof rel, "static/%s", url + 8);
    else if (strncmp(url, "/v/", 3) == 0) {
        /* The short view link: redirect to the triage page with its key. */
        dt_upload_ref u;
        dt_store *st = dt_http_store(r);
        if (!st)
            return dt_http_error(r, 503, "busy", "the store is not available");
        if (!dt_store_upload_find_by_key(st, url + 3, &u)) {
            dt_http_auth_failed(r, DT_AUTH_VIEW_KEY); /* a guessed view key */
            return dt_http_error(r, 404, "not_found", "no such link");
        }
        char loc[200];
        snprintf(loc, sizeof loc, "/triage/%s?key=%s", u.id, u.view_key);
        struct MHD_Response *resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        if (!resp)
            return MHD_NO;
        MHD_add_response_header(resp, "Location", loc);
        return dt_http_reply(r, 302, resp);
    } else if (strcmp(url, "/favicon.ico") == 0)
        strcpy(rel, "static/favicon.ico");
    else
        return dt_http_error(r, 404, "not_found", "no such page");
    char root[PATH_MAX], path[PATH_MAX + 300], real[PATH_MAX];
    if (!realpath(r->srv->cfg.web_dir, root))
        return dt_http_error(r, 404, "not_found", "the web pages are not installed");
    snprintf(path, sizeof path, "%s/%s", root, rel);
    size_t rl = strlen(root);
    if (!realpath(path, real) || strncmp(real, root, rl) != 0 || real[rl] != '/')
        return dt_http_error(r, 404, "not_found", "no such page");
    int fd = open(real, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        return dt_http_error(r, 404, "not_found", "no such page");
    }
    struct MHD_Response *resp = MHD_create_response_from_fd64((uint64_t)st.st_size, fd);
    if (!resp) {
        close(fd);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", content_type(real));
    MHD_add_response_header(resp, "Cache-Control", "no-cache");
    dt_http_set_bytes(r, (int64_t)st.st_size);
    return dt_http_reply(r, 200, resp);
}
