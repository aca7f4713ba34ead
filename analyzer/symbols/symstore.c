/*
 * symstore.c — symbol-store and flat-directory lookups (see symstore.h).
 *
 * A candidate found in store layout is trusted by its path (the id is part
 * of it); a file found flat is opened and its identity compared, since a
 * flat directory may hold any build of a same-named file.
 */
#include "symbols/symstore.h"

#include <ctype.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "formats/pdb.h"
#include "base/mapped_file.h"

struct dt_symstore_listing {
    bool loaded;
    char **names;         /* sorted case-insensitively */
    size_t count;
};

static bool add_dir(dt_symstore *s, const char *d, size_t len)
{
    while (len && (d[len - 1] == '/') && len > 1)
        len--;
    if (!len)
        return true;
    char **t = realloc(s->dirs, (s->ndirs + 1) * sizeof *t);
    if (!t)
        return false;
    s->dirs = t;
    struct dt_symstore_listing *l = realloc(s->listings, (s->ndirs + 1) * sizeof *l);
    if (!l)
        return false;
    s->listings = l;
    memset(&s->listings[s->ndirs], 0, sizeof *l);
    s->dirs[s->ndirs] = strndup(d, len);
    if (!s->dirs[s->ndirs])
        return false;
    s->ndirs++;
    return true;
}

/* A symbol path text: its local stores become dirs, the rest stays in
 * s->servers. */
static dt_status add_sympath(dt_symstore *s, const char *text, const char *default_cache, dt_error *err)
{
    size_t before = s->servers.count;
    dt_status st = dt_sympath_append(&s->servers, text, default_cache, err);
    if (st != DT_OK)
        return st;
    for (size_t i = before; i < s->servers.count; i++) {
        const dt_sympath_element *e = &s->servers.items[i];
        if (!e->url && e->dir && !add_dir(s, e->dir, strlen(e->dir)))
            return dt_error_set(err, DT_ERR_NOMEM, "out of memory");
        if (e->url && !s->srv) {
            /* Deployments tune how long a symbol server may take (seconds per
             * request) and can forbid the network (cache only). */
            dt_symsrv_options o = { 0 };
            const char *t = getenv(DT_SYMBOL_TIMEOUT_ENV);
            if (t && atof(t) > 0)
                o.timeout_ms = (long)(atof(t) * 1000);
            const char *mx = getenv(DT_SYMBOL_MAX_BYTES_ENV);
            if (mx && strtoull(mx, NULL, 10) > 0)
                o.max_bytes = strtoull(mx, NULL, 10);
            const char *off = getenv(DT_SYMBOL_OFFLINE_ENV);
            o.offline = off && *off && strcmp(off, "0") != 0;
            if (!(s->srv = dt_symsrv_new(&o)))
                return dt_error_set(err, DT_ERR_NOMEM, "out of memory");
        }
    }
    return DT_OK;
}

dt_status dt_symstore_init(dt_symstore *s, const char *const *dirs, size_t ndirs,
                           const char *path_list, const char *default_cache, dt_error *err)
{
    memset(s, 0, sizeof *s);
    /* Every entry, plain directory or not, goes through the one symbol-path
     * parser: "A;B" given as one --symbols is two directories. */
    for (size_t i = 0; i <= ndirs; i++) {
        const char *text = i < ndirs ? dirs[i] : path_list;
        if (!text)
            continue;
        dt_status st = add_sympath(s, text, default_cache, err);
        if (st != DT_OK) {
            dt_symstore_free(s);
            return st;
        }
    }
    return DT_OK;
}

void dt_symstore_free(dt_symstore *s)
{
    for (size_t i = 0; i < s->ndirs; i++) {
        free(s->dirs[i]);
        for (size_t k = 0; s->listings && k < s->listings[i].count; k++)
            free(s->listings[i].names[k]);
        if (s->listings)
            free(s->listings[i].names);
    }
    free(s->dirs);
    free(s->listings);
    dt_sympath_free(&s->servers);
    dt_symsrv_free(s->srv);
    memset(s, 0, sizeof *s);
}

/* ---- untrusted names --------------------------------------------------------- */

static const char *base_name(const char *path)
{
    const char *b = path;
    for (const char *p = path; *p; p++)
        if (*p == '\\' || *p == '/')
            b = p + 1;
    return b;
}

static bool safe_name(const char *n)
{
    size_t len = strlen(n);
    if (len == 0 || len > 255 || strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
        return false;
    for (const char *p = n; *p; p++)
        if (*p == '/' || *p == '\\' || (unsigned char)*p < 0x20 || *p == 0x7f)
            return false;
    return true;
}

static bool safe_id(const char *id)
{
    size_t len = strlen(id);
    if (len == 0 || len > 64)
        return false;
    for (const char *p = id; *p; p++)
        if (!isalnum((unsigned char)*p))
            return false;
    return true;
}

/* ---- paths --------------------------------------------------------------------- */

static char *join(const char *dir, const char *name)
{
    size_t len = strlen(dir) + strlen(name) + 2;
    char *p = malloc(len);
    if (p)
        snprintf(p, len, "%s/%s", dir, name);
    return p;
}

/* dir/name as spelled, else the case-insensitive match in dir; NULL when
 * neither exists (or, with want_dir, is not of the wanted kind). */
static char *resolve(const char *dir, const char *name, bool want_dir)
{
    struct stat st;
    char *p = join(dir, name);
    if (!p)
        return NULL;
    if (stat(p, &st) == 0 && (want_dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode)))
        return p;
    free(p);
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    char *found = NULL;
    struct dirent *e;
    while (!found && (e = readdir(d)) != NULL) {
        if (strcasecmp(e->d_name, name) != 0)
            continue;
        p = join(dir, e->d_name);
        if (p && stat(p, &st) == 0 && (want_dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode)))
            found = p;
        else
            free(p);
    }
    closedir(d);
    return found;
}

static int casecmp_ptr(const void *a, const void *b)
{
    return strcasecmp(*(char *const *)a, *(char *const *)b);
}

#define LISTING_MAX 1000000

static void load_listing(struct dt_symstore_listing *l, const char *dir)
{
    l->loaded = true;
    DIR *d = opendir(dir);
    if (!d)
        return;
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && l->count < LISTING_MAX) {
        if (l->count == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            char **t = realloc(l->names, ncap * sizeof *t);
            if (!t)
                break;
            l->names = t;
            cap = ncap;
        }
        if (!(l->names[l->count] = strdup(e->d_name)))
            break;
        l->count++;
    }
    closedir(d);
    if (l->count > 1)
        qsort(l->names, l->count, sizeof *l->names, casecmp_ptr);
}

/* resolve() for a top-level directory of the path, whose listing is read
 * once and then searched by binary search. */
static char *resolve_root(const dt_symstore *s, size_t i, const char *name, bool want_dir)
{
    struct stat st;
    char *p = join(s->dirs[i], name);
    if (!p)
        return NULL;
    if (stat(p, &st) == 0 && (want_dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode)))
        return p;
    free(p);
    struct dt_symstore_listing *l = &s->listings[i];
    if (!l->loaded)
        load_listing(l, s->dirs[i]);
    size_t lo = 0, hi = l->count;
    while (lo < hi) { /* first name >= name, case-insensitively */
        size_t mid = lo + (hi - lo) / 2;
        if (strcasecmp(l->names[mid], name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < l->count && strcasecmp(l->names[lo], name) == 0; lo++) {
        p = join(s->dirs[i], l->names[lo]);
        if (p && stat(p, &st) == 0 && (want_dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode)))
            return p;
        free(p);
    }
    return NULL;
}

/* dirs[i]/a/id/file through resolve(). */
static char *store_path(const dt_symstore *s, size_t i, const char *a, const char *id, const char *file)
{
    char *p1 = resolve_root(s, i, a, true);
    if (!p1)
        return NULL;
    char *p2 = resolve(p1, id, true);
    free(p1);
    if (!p2)
        return NULL;
    char *p3 = resolve(p2, file, false);
    free(p2);
    return p3;
}

/* ---- identity checks for flat files ------------------------------------------- */

bool dt_symstore_pdb_id_matches(const char *module_id, const char *pdb_id)
{
    if (strlen(module_id) < 33 || strlen(pdb_id) < 33 || strncasecmp(module_id, pdb_id, 32) != 0)
        return false;
    char *end1, *end2;
    unsigned long a1 = strtoul(module_id + 32, &end1, 16), a2 = strtoul(pdb_id + 32, &end2, 16);
    return !*end1 && !*end2 && a1 <= a2;
}

static bool pdb_matches(const char *path, const char *id)
{
    dt_pdb *p;
    if (dt_pdb_open(&p, path, NULL) != DT_OK)
        return false;
    bool ok = dt_symstore_pdb_id_matches(id, dt_pdb_get_info(p)->debug_id);
    dt_pdb_close(p);
    return ok;
}

static bool sym_matches(const char *path, const char *id)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    char line[512], os[64], arch[64], fid[128];
    bool ok = fgets(line, sizeof line, f) &&
              sscanf(line, "MODULE %63s %63s %127s", os, arch, fid) == 3 && strcasecmp(fid, id) == 0;
    fclose(f);
    return ok;
}

static bool image_matches(const char *path, const char *id)
{
    dt_mapped_file f;
    if (dt_mapped_file_open(&f, path, NULL) != DT_OK)
        return false;
    uint32_t lfanew, sig, stamp, size;
    bool ok = dt_view_u32(f.view, 0x3c, &lfanew) && dt_view_u32(f.view, lfanew, &sig) &&
              sig == 0x4550 && dt_view_u32(f.view, (uint64_t)lfanew + 8, &stamp) &&
              dt_view_u32(f.view, (uint64_t)lfanew + 24 + 56, &size);
    dt_mapped_file_close(&f);
    if (!ok)
        return false;
    char code_id[32];
    snprintf(code_id, sizeof code_id, "%08X%X", stamp, size);
    return strcasecmp(code_id, id) == 0;
}

/* ---- lookups -------------------------------------------------------------------- */

typedef bool (*verify_fn)(const char *path, const char *id);

static char *flat(const dt_symstore *s, size_t i, const char *file, const char *id, verify_fn verify)
{
    char *p = resolve_root(s, i, file, false);
    if (p && !verify(p, id)) {
        free(p);
        p = NULL;
    }
    return p;
}

/* name/id/name from the symbol servers (via their caches), verified like a
 * flat file; failures other than "not there" become warnings. */
static char *from_servers_file(const dt_symstore *s, const char *name, const char *id, const char *file,
                               verify_fn verify);

static char *from_servers(const dt_symstore *s, const char *name, const char *id, verify_fn verify)
{
    return from_servers_file(s, name, id, name, verify);
}

static char *from_servers_file(const dt_symstore *s, const char *name, const char *id, const char *file,
                               verify_fn verify)
{
    for (size_t i = 0; s->srv && i < s->servers.count; i++) {
        const dt_sympath_element *e = &s->servers.items[i];
        if (!e->url)
            continue;
        char *path = NULL;
        dt_error err = { 0 };
        dt_status st = dt_symsrv_get_file(s->srv, e, name, id, file, &path, &err);
        if (st == DT_OK && verify(path, id))
            return path;
        if (st == DT_OK)
            dt_warn(s->warnings, "%s: %s/%s/%s from %s does not match its id", file, name, id, file, e->url);
        else if (st != DT_ERR_NOT_FOUND)
            dt_warn(s->warnings, "%s: %s", name, err.message);
        free(path);
    }
    return NULL;
}

char *dt_symstore_find_pdb(const dt_symstore *s, const char *debug_file, const char *debug_id)
{
    if (!debug_file || !debug_id)
        return NULL;
    const char *name = base_name(debug_file);
    if (!safe_name(name) || !safe_id(debug_id))
        return NULL;
    for (size_t i = 0; i < s->ndirs; i++) {
        char *p = store_path(s, i, name, debug_id, name);
        if (!p)
            p = flat(s, i, name, debug_id, pdb_matches);
        if (p)
            return p;
    }
    return from_servers(s, name, debug_id, pdb_matches);
}

char *dt_symstore_find_breakpad(const dt_symstore *s, const char *debug_file, const char *debug_id)
{
    if (!debug_file || !debug_id)
        return NULL;
    const char *name = base_name(debug_file);
    if (!safe_name(name) || !safe_id(debug_id))
        return NULL;
    /* Breakpad names the .sym after the PDB with its extension replaced */
    char stem[256], sym[300];
    snprintf(stem, sizeof stem, "%s", name);
    size_t len = strlen(stem);
    if (len > 4 && strcasecmp(stem + len - 4, ".pdb") == 0)
        stem[len - 4] = 0;
    snprintf(sym, sizeof sym, "%s.sym", stem);
    for (size_t i = 0; i < s->ndirs; i++) {
        char *p = store_path(s, i, name, debug_id, sym);
        if (!p && strcmp(stem, name) != 0)
            p = store_path(s, i, stem, debug_id, sym);
        if (!p)
            p = flat(s, i, sym, debug_id, sym_matches);
        if (p)
            return p;
    }
    /* Mozilla/Chromium symbol servers: URL/app.pdb/ID/app.sym */
    return from_servers_file(s, name, debug_id, sym, sym_matches);
}

char *dt_symstore_find_image(const dt_symstore *s, const char *code_file, const char *code_id)
{
    if (!code_file || !code_id)
        return NULL;
    const char *name = base_name(code_file);
    if (!safe_name(name) || !safe_id(code_id))
        return NULL;
    for (size_t i = 0; i < s->ndirs; i++) {
        char *p = store_path(s, i, name, code_id, name);
        if (!p)
            p = flat(s, i, name, code_id, image_matches);
        if (p)
            return p;
    }
    return from_servers(s, name, code_id, image_matches);
}
