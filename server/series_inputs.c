/*
 * series_inputs.c — see series_inputs.h.
 */
#include "series_inputs.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analysis/series.h"
#include "blob.h"

int dt_series_user_count(const dt_file_rec *files, int nfiles)
{
    int n = 0;
    for (int i = 0; i < nfiles; i++)
        n += strcmp(files[i].role, "user") == 0;
    return n;
}

static dt_status add_link(dt_series_inputs *in, const char *data_dir, const dt_file_rec *f,
                          const dt_unpack_limits *limits, const char *name, bool *cancelled, dt_error *err)
{
    char path[1200];
    uint64_t size = 0;
    bool temp = false;
    dt_status st = dt_unpack_input(data_dir, f, limits, path, sizeof path, &size, &temp, cancelled, err);
    if (st != DT_OK)
        return st;
    if (temp)
        snprintf(in->temps[in->ntemps++], sizeof in->temps[0], "%s", path);
    in->insize += size;
    char link[sizeof in->links[0]];
    snprintf(link, sizeof link, "%s/%s", in->dir, name);
    if (symlink(path, link) != 0)
        return dt_error_set(err, DT_ERR_IO, "cannot link %s: %s", name, strerror(errno));
    snprintf(in->names[in->nlinks], sizeof in->names[0], "%s", f->name[0] ? f->name : name);
    memcpy(in->links[in->nlinks++], link, sizeof link);
    return DT_OK;
}

dt_status dt_series_inputs_prepare(const char *data_dir, long long job_id, int attempt, const dt_file_rec *files,
                                   int nfiles, const dt_unpack_limits *limits, dt_series_inputs *out,
                                   bool *cancelled, dt_error *err)
{
    memset(out, 0, sizeof *out);
    const dt_file_rec *users[DT_MAX_UPLOAD_FILES], *kernels[DT_MAX_UPLOAD_FILES];
    const char *unames[DT_MAX_UPLOAD_FILES], *knames[DT_MAX_UPLOAD_FILES];
    int nu = 0, nk = 0;
    for (int i = 0; i < nfiles && i < DT_MAX_UPLOAD_FILES; i++) {
        if (strcmp(files[i].role, "user") == 0) {
            users[nu] = &files[i];
            unames[nu++] = files[i].name;
        } else if (strcmp(files[i].role, "kernel") == 0) {
            kernels[nk] = &files[i];
            knames[nk++] = files[i].name;
        }
    }
    int kof[DT_MAX_UPLOAD_FILES];
    dt_status st = dt_series_pair(unames, (size_t)nu, knames, (size_t)nk, kof, err);
    if (st != DT_OK)
        return st;
    snprintf(out->dir, sizeof out->dir, "%s/tmp/series-%lld-%d", data_dir, job_id, attempt);
    if (mkdir(out->dir, 0700) != 0 && errno != EEXIST) {
        st = dt_error_set(err, DT_ERR_IO, "cannot create %s: %s", out->dir, strerror(errno));
        out->dir[0] = '\0';
        return st;
    }
    for (int u = 0; u < nu && st == DT_OK; u++) {
        char name[64];
        snprintf(name, sizeof name, "%d.dmp", u + 1);
        st = add_link(out, data_dir, users[u], limits, name, cancelled, err);
        if (st == DT_OK && kof[u] >= 0) {
            snprintf(name, sizeof name, "%d.Kernel.dmp", u + 1);
            st = add_link(out, data_dir, kernels[kof[u]], limits, name, cancelled, err);
        }
    }
    if (st != DT_OK)
        dt_series_inputs_cleanup(out);
    return st;
}

void dt_series_inputs_cleanup(dt_series_inputs *in)
{
    for (int i = 0; i < in->nlinks; i++)
        unlink(in->links[i]);
    for (int i = 0; i < in->ntemps; i++)
        unlink(in->temps[i]);
    if (in->dir[0])
        rmdir(in->dir);
    in->nlinks = in->ntemps = 0;
    in->dir[0] = '\0';
}
