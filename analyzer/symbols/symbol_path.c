/*
 * symbol_path.c — parsing _NT_SYMBOL_PATH-style symbol paths (see symbol_path.h).
 */
#include "symbols/symbol_path.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

static bool is_url(const char *s)
{
    return strncasecmp(s, "http://", 7) == 0 || strncasecmp(s, "https://", 8) == 0;
}

static char *dup_range(const char *b, const char *e)
{
    while (b < e && (*b == ' ' || *b == '\t'))
        b++;
    while (e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
        e--;
    char *s = malloc((size_t)(e - b) + 1);
    if (s) {
        memcpy(s, b, (size_t)(e - b));
        s[e - b] = '\0';
    }
    return s;
}

static void element_free(dt_sympath_element *e)
{
    free(e->dir);
    free(e->url);
    for (size_t i = 0; i < e->ncaches; i++)
        free(e->caches[i]);
    free(e->caches);
    memset(e, 0, sizeof *e);
}

void dt_sympath_free(dt_sympath *p)
{
    for (size_t i = 0; i < p->count; i++)
        element_free(&p->items[i]);
    free(p->items);
    memset(p, 0, sizeof *p);
}

static bool push_cache(dt_sympath_element *e, const char *dir)
{
    char **n = realloc(e->caches, (e->ncaches + 1) * sizeof *n);
    if (!n)
        return false;
    e->caches = n;
    e->caches[e->ncaches] = strdup(dir);
    if (!e->caches[e->ncaches])
        return false;
    e->ncaches++;
    return true;
}

/* Splits "a*b*c" into at most max fields; returns their count. */
static size_t split_stars(char *s, char **fields, size_t max)
{
    size_t n = 0;
    char *p = s;
    while (n < max) {
        fields[n++] = p;
        char *star = strchr(p, '*');
        if (!star)
            break;
        *star = '\0';
        p = star + 1;
    }
    return n;
}

/* Takes ownership of *e (freed on failure). */
static dt_status push_element(dt_sympath *path, dt_sympath_element *e, dt_error *err)
{
    if (path->count >= DT_SYMPATH_MAX_ELEMENTS) {
        element_free(e);
        return dt_error_set(err, DT_ERR_FORMAT, "symbol path has more than %d elements", DT_SYMPATH_MAX_ELEMENTS);
    }
    dt_sympath_element *n = realloc(path->items, (path->count + 1) * sizeof *n);
    if (!n) {
        element_free(e);
        return dt_error_set(err, DT_ERR_NOMEM, "out of memory");
    }
    path->items = n;
    path->items[path->count++] = *e;
    return DT_OK;
}

/* Length of a Windows drive prefix ("C:\" or "C:/"), whose colon does not
 * separate directories; 0 when there is none. */
static size_t drive_prefix(const char *s)
{
    bool letter = (s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z');
    return letter && s[1] == ':' && (s[2] == '\\' || s[2] == '/') ? 2 : 0;
}

dt_status dt_sympath_append(dt_sympath *path, const char *text, const char *default_cache, dt_error *err)
{
    if (!text)
        return DT_OK;
    char *cache_for_rest = NULL; /* from cache*DIR */
    dt_status st = DT_OK;
    const char *p = text;
    while (*p && st == DT_OK) {
        const char *end = strchr(p, ';');
        if (!end)
            end = p + strlen(p);
        char *elem = dup_range(p, end);
        p = *end ? end + 1 : end;
        if (!elem) {
            st = dt_error_set(err, DT_ERR_NOMEM, "out of memory");
            break;
        }
        if (!*elem) {
            free(elem);
            continue;
        }
        char *fields[16];
        size_t nf = split_stars(elem, fields, 16);
        dt_sympath_element e = { 0 };
        bool ok = true;
        if (nf >= 2 && strcasecmp(fields[0], "cache") == 0) {
            free(cache_for_rest);
            cache_for_rest = fields[1][0] ? strdup(fields[1]) : NULL;
            free(elem);
            continue;
        } else if (nf >= 2 && (strcasecmp(fields[0], "srv") == 0 || strcasecmp(fields[0], "symsrv") == 0)) {
            size_t first = 1;
            if (strcasecmp(fields[0], "symsrv") == 0)
                first = 2; /* symsrv*symsrv.dll*… */
            if (first >= nf || !fields[nf - 1][0]) {
                st = dt_error_set(err, DT_ERR_FORMAT, "symbol path element '%s*…' names no server", fields[0]);
                free(elem);
                break;
            }
            const char *server = fields[nf - 1];
            for (size_t i = first; i + 1 < nf && ok; i++)
                if (fields[i][0])
                    ok = push_cache(&e, fields[i]);
            if (ok && e.ncaches == 0 && (cache_for_rest || default_cache))
                ok = push_cache(&e, cache_for_rest ? cache_for_rest : default_cache);
            if (ok) {
                if (is_url(server))
                    e.url = strdup(server);
                else
                    e.dir = strdup(server);
                ok = e.url || e.dir;
            }
        } else if (!is_url(elem) && strchr(elem + drive_prefix(elem), ':')) {
            /* A POSIX-style list inside one element ("/a:/b"): each part is
             * a plain directory. */
            char *q = elem;
            size_t skip = drive_prefix(q);
            while (ok && st == DT_OK) {
                char *colon = strchr(q + skip, ':');
                if (colon)
                    *colon = '\0';
                char *d = dup_range(q, q + strlen(q));
                if (!d) {
                    ok = false;
                } else if (!*d) {
                    free(d);
                } else {
                    dt_sympath_element pe = { .dir = d };
                    st = push_element(path, &pe, err);
                }
                if (!colon)
                    break;
                q = colon + 1;
                skip = drive_prefix(q);
            }
            free(elem);
            if (!ok)
                st = dt_error_set(err, DT_ERR_NOMEM, "out of memory");
            continue;
        } else {
            e.dir = strdup(elem);
            ok = e.dir != NULL;
        }
        free(elem);
        if (!ok) {
            element_free(&e);
            st = dt_error_set(err, DT_ERR_NOMEM, "out of memory");
            break;
        }
        st = push_element(path, &e, err);
    }
    free(cache_for_rest);
    return st;
}

dt_status dt_sympath_parse(const char *text, const char *default_cache, dt_sympath *out, dt_error *err)
{
    memset(out, 0, sizeof *out);
    dt_status st = dt_sympath_append(out, text, default_cache, err);
    if (st != DT_OK)
        dt_sympath_free(out);
    return st;
}

void dt_sympath_warn_unresolved(const dt_sympath *p, dt_warnings *w)
{
    for (size_t i = 0; i < p->count; i++) {
        const dt_sympath_element *e = &p->items[i];
        if (e->url || !e->dir)
            continue; /* a server is only known to answer when it is asked */
        struct stat st;
        if (stat(e->dir, &st) != 0)
            dt_warn(w, "symbol path element '%s' does not exist: no symbols will be found there", e->dir);
        else if (!S_ISDIR(st.st_mode))
            dt_warn(w, "symbol path element '%s' is not a directory: no symbols will be found there", e->dir);
    }
}
