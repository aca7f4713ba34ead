/*
 * symsrv_libs.c — owns the dlopen'd libcurl and libarchive function tables
 * (see symsrv_libs.h).
 *
 * The tables and the load outcome are the one piece of global mutable state
 * in the analyzer.  That is acceptable here because what they describe is
 * itself process-wide (a shared library is loaded once per process, and
 * curl_global_init must run once per process), each is written exactly once
 * inside pthread_once and only read afterwards, and the libraries are never
 * unloaded, so a pointer handed out stays valid for the life of the process.
 */
#include "symbols/symsrv_libs.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    pthread_once_t once;
    int ok;
    char why[200]; /* the failure, kept for every later caller */
} load_state;

static dt_curl_api curl_api;
static load_state curl_state = { PTHREAD_ONCE_INIT, 0, "" };
static dt_archive_api archive_api;
static load_state archive_state = { PTHREAD_ONCE_INIT, 0, "" };

/* dlopen with RTLD_LOCAL: the library's symbols must not interpose on
 * anything else in the process; RTLD_NOW: a broken install fails here, at
 * load, not in the middle of a transfer. */
static void *open_lib(const char *soname, load_state *ls, const char *package)
{
    void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        snprintf(ls->why, sizeof ls->why, "symbol server support needs %s (apt install %s): %.120s",
                 soname, package, e ? e : "cannot load it");
    }
    return h;
}

/* Resolves one symbol into a typed slot; false (why set) when it is missing. */
static int resolve(void *h, const char *name, void **slot, load_state *ls, const char *soname)
{
    *slot = dlsym(h, name);
    if (!*slot)
        snprintf(ls->why, sizeof ls->why, "%s lacks %s (too old?)", soname, name);
    return *slot != NULL;
}

/* The slots are function pointers; dlsym returns void *.  POSIX guarantees
 * the conversion, and __typeof__ keeps each slot's real prototype. */
#define RESOLVE(h, table, field, name, ls, soname)                       \
    do {                                                                 \
        void *p_ = NULL;                                                 \
        if (!resolve(h, name, &p_, ls, soname))                          \
            return;                                                      \
        (table).field = (__typeof__((table).field))p_;                   \
    } while (0)

static void load_curl(void)
{
    load_state *ls = &curl_state;
    void *h = open_lib(DT_LIBCURL_SONAME, ls, "libcurl4");
    if (!h)
        return;
    __typeof__(curl_global_init) *global_init = NULL;
    void *gi = NULL;
    if (!resolve(h, "curl_global_init", &gi, ls, DT_LIBCURL_SONAME))
        return;
    global_init = (__typeof__(curl_global_init) *)gi;
    RESOLVE(h, curl_api, easy_init, "curl_easy_init", ls, DT_LIBCURL_SONAME);
    RESOLVE(h, curl_api, easy_setopt, "curl_easy_setopt", ls, DT_LIBCURL_SONAME);
    RESOLVE(h, curl_api, easy_perform, "curl_easy_perform", ls, DT_LIBCURL_SONAME);
    RESOLVE(h, curl_api, easy_getinfo, "curl_easy_getinfo", ls, DT_LIBCURL_SONAME);
    RESOLVE(h, curl_api, easy_cleanup, "curl_easy_cleanup", ls, DT_LIBCURL_SONAME);
    RESOLVE(h, curl_api, easy_strerror, "curl_easy_strerror", ls, DT_LIBCURL_SONAME);
    /* Explicitly, once: curl_easy_init would otherwise do it lazily, which
     * libcurl documents as unsafe when threads race to the first request. */
    CURLcode rc = global_init(CURL_GLOBAL_DEFAULT);
    if (rc != CURLE_OK) {
        snprintf(ls->why, sizeof ls->why, "cannot initialise libcurl (code %d)", (int)rc);
        return;
    }
    ls->ok = 1;
}

static void load_archive(void)
{
    load_state *ls = &archive_state;
    void *h = open_lib(DT_LIBARCHIVE_SONAME, ls, "libarchive13");
    if (!h)
        return;
    RESOLVE(h, archive_api, read_new, "archive_read_new", ls, DT_LIBARCHIVE_SONAME);
    RESOLVE(h, archive_api, read_support_format_cab, "archive_read_support_format_cab", ls, DT_LIBARCHIVE_SONAME);
    RESOLVE(h, archive_api, read_support_format_zip, "archive_read_support_format_zip", ls, DT_LIBARCHIVE_SONAME);
    RESOLVE(h, archive_api, read_support_filter_all, "archive_read_support_filter_all", ls, DT_LIBARCHIVE_SONAME);
    RESOLVE(h, archive_api, read_open_filename, "archive_read_open_filename", ls, DT_LIBARCHIVE_SONAME);
    RESOLVE(h, archive_api, read_next_header, "archive_read_next_header", ls, DT_LIBARCHIVE_SONAME);
    RESOLVE(h, archive_api, read_data, "archive_read_data", ls, DT_LIBARCHIVE_SONAME);
    RESOLVE(h, archive_api, error_string, "archive_error_string", ls, DT_LIBARCHIVE_SONAME);
    RESOLVE(h, archive_api, read_free, "archive_read_free", ls, DT_LIBARCHIVE_SONAME);
    ls->ok = 1;
}

const dt_curl_api *dt_symsrv_curl(dt_error *err)
{
    pthread_once(&curl_state.once, load_curl);
    if (!curl_state.ok) {
        dt_error_set(err, DT_ERR_UNSUPPORTED, "%s", curl_state.why);
        return NULL;
    }
    return &curl_api;
}

const dt_archive_api *dt_symsrv_archive(dt_error *err)
{
    pthread_once(&archive_state.once, load_archive);
    if (!archive_state.ok) {
        dt_error_set(err, DT_ERR_UNSUPPORTED, "%s", archive_state.why);
        return NULL;
    }
    return &archive_api;
}
