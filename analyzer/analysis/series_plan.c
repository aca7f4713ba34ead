/*
 * series_plan.c — the series' work list: which files are user dumps and
 * which kernel dumps (by content, not by name or argument), which kernel
 * dump goes with which user dump (dt_series_pair: by name, then by order),
 * and the snapshots' order by the dump time in each minidump header, read
 * before any snapshot is analysed so that the newest report is the one kept.
 */
#include "analysis/series_internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <zlib.h>

#include "formats/sniff.h"

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

static int input_cmp(const void *pa, const void *pb)
{
    const dt_series_input *a = pa, *b = pb;
    if (a->has_time != b->has_time)
        return a->has_time ? -1 : 1;
    if (a->has_time && a->time != b->time)
        return a->time < b->time ? -1 : 1;
    return a->arg_index - b->arg_index;
}

/* Routes the paths, pairs kernel dumps with user dumps, orders by time. */
dt_status dt_series_plan(const dt_series_request *req, dt_series_input *in, size_t *nin, dt_error *err)
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
        in[*nin] = (dt_series_input){ .user = req->paths[i], .arg_index = (int)*nin, .has_time = ht, .time = t };
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
