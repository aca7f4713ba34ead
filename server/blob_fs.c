/*
 * blob_fs.c — the filesystem blob store (blob.h's dt_blob_ops over
 * DATA/blobs/ab/cdef…): the same layout and durability order as spools
 * (data fsync'ed, renamed into place, directories fsync'ed), so a blob path
 * always names a complete, durable file on a local disk or on a shared
 * filesystem that keeps the guarantees listed in docs/operations.md.
 */
#include "blob.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    dt_blob_store base;
    char data_dir[1100];
} fs_store;

static const char *root(dt_blob_store *bs)
{
    return ((fs_store *)bs)->data_dir;
}

static void fsync_path(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

static dt_status fs_put_file(dt_blob_store *bs, const char *path, const char *sha256, uint64_t size, dt_error *err)
{
    char dst[1200], dir[1300], blobs[1200];
    if (dt_blob_path(root(bs), sha256, dst, sizeof dst) != 0)
        return dt_error_set(err, DT_ERR_ARG, "not a SHA-256: %.80s", sha256 ? sha256 : "(null)");
    if (dt_blob_exists(root(bs), sha256, size)) {
        unlink(path); /* identical content is already stored */
        return DT_OK;
    }
    snprintf(blobs, sizeof blobs, "%s/blobs", root(bs));
    snprintf(dir, sizeof dir, "%.1200s/%.2s", blobs, sha256);
    if (mkdir(dir, 0750) != 0 && errno != EEXIST)
        return dt_error_set(err, DT_ERR_IO, "cannot create %s: %s", dir, strerror(errno));
    if (rename(path, dst) != 0)
        return dt_error_set(err, DT_ERR_IO, "cannot store blob: %s", strerror(errno));
    fsync_path(dir);
    fsync_path(blobs);
    return DT_OK;
}

static dt_status fs_put_copy(dt_blob_store *bs, const char *path, const char *sha256, uint64_t size, dt_error *err)
{
    char dst[1200], dir[1300], blobs[1200];
    if (dt_blob_path(root(bs), sha256, dst, sizeof dst) != 0)
        return dt_error_set(err, DT_ERR_ARG, "not a SHA-256: %.80s", sha256 ? sha256 : "(null)");
    if (dt_blob_exists(root(bs), sha256, size))
        return DT_OK;
    snprintf(blobs, sizeof blobs, "%s/blobs", root(bs));
    snprintf(dir, sizeof dir, "%.1200s/%.2s", blobs, sha256);
    if (mkdir(dir, 0750) != 0 && errno != EEXIST)
        return dt_error_set(err, DT_ERR_IO, "cannot create %s: %s", dir, strerror(errno));
    unlink(dst); /* a leftover of another size */
    if (link(path, dst) != 0)
        return dt_error_set(err, DT_ERR_IO, "cannot store blob: %s", strerror(errno));
    fsync_path(dir);
    fsync_path(blobs);
    return DT_OK;
}

static dt_status fs_put_stream(dt_blob_store *bs, int fd, char sha256[65], uint64_t *size, dt_error *err)
{
    dt_spool sp;
    if (dt_spool_open(&sp, root(bs), err) != DT_OK)
        return DT_ERR_IO;
    if (dt_spool_write_from(&sp, fd, err) != DT_OK)
        return DT_ERR_IO;
    uint64_t total = sp.size;
    if (dt_spool_place(&sp, bs, sha256, err) != DT_OK)
        return DT_ERR_IO;
    if (size)
        *size = total;
    return DT_OK;
}

static int fs_open_read(dt_blob_store *bs, const char *sha256, dt_error *err)
{
    char p[1200];
    if (dt_blob_path(root(bs), sha256, p, sizeof p) != 0) {
        dt_error_set(err, DT_ERR_ARG, "not a SHA-256");
        return -1;
    }
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        dt_error_set(err, errno == ENOENT ? DT_ERR_NOT_FOUND : DT_ERR_IO, "cannot open blob %.12s…: %s", sha256,
                     strerror(errno));
    return fd;
}

static int fs_local_path(dt_blob_store *bs, const char *sha256, char *out, size_t len, dt_error *err)
{
    if (dt_blob_path(root(bs), sha256, out, len) != 0) {
        dt_error_set(err, DT_ERR_ARG, "not a SHA-256");
        return -1;
    }
    return 0;
}

static int fs_exists(dt_blob_store *bs, const char *sha256, uint64_t size)
{
    return dt_blob_exists(root(bs), sha256, size);
}

static dt_status fs_remove(dt_blob_store *bs, const char *sha256, dt_error *err)
{
    char p[1200];
    if (dt_blob_path(root(bs), sha256, p, sizeof p) != 0)
        return dt_error_set(err, DT_ERR_ARG, "not a SHA-256");
    if (unlink(p) != 0 && errno != ENOENT)
        return dt_error_set(err, DT_ERR_IO, "cannot remove blob: %s", strerror(errno));
    return DT_OK;
}

static int is_hex(const char *s, size_t n)
{
    return strlen(s) == n && strspn(s, "0123456789abcdef") == n;
}

static dt_status fs_list(dt_blob_store *bs, dt_blob_visit visit, void *arg, dt_error *err)
{
    char blobs[1200];
    snprintf(blobs, sizeof blobs, "%s/blobs", root(bs));
    DIR *d = opendir(blobs);
    if (!d)
        return dt_error_set(err, DT_ERR_IO, "cannot list %s: %s", blobs, strerror(errno));
    struct dirent *e;
    int stop = 0;
    while (!stop && (e = readdir(d))) {
        if (!is_hex(e->d_name, 2))
            continue;
        char sub[1300];
        snprintf(sub, sizeof sub, "%.1200s/%.2s", blobs, e->d_name);
        DIR *s = opendir(sub);
        if (!s)
            continue;
        struct dirent *f;
        while (!stop && (f = readdir(s))) {
            if (!is_hex(f->d_name, 62))
                continue;
            char sha[65], p[1400];
            snprintf(sha, sizeof sha, "%.2s%.62s", e->d_name, f->d_name);
            snprintf(p, sizeof p, "%.1300s/%.62s", sub, f->d_name);
            struct stat sb;
            if (stat(p, &sb) != 0)
                continue; /* removed meanwhile */
            stop = visit(sha, (int64_t)sb.st_mtime, arg);
        }
        closedir(s);
    }
    closedir(d);
    return DT_OK;
}

/* The probe goes through the same steps as an upload: a new file in tmp/,
 * written and fsync'ed, renamed, read back, removed.  A filesystem that is
 * full, read-only, unmounted or stale fails one of them. */
static dt_status fs_check(dt_blob_store *bs, dt_error *err)
{
    char blobs[1200], a[1200], b[1300];
    snprintf(blobs, sizeof blobs, "%s/blobs", root(bs));
    struct stat sb;
    if (stat(blobs, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return dt_error_set(err, DT_ERR_IO, "blobs directory: %s", strerror(errno ? errno : ENOTDIR));
    snprintf(a, sizeof a, "%s/tmp/ready-XXXXXX", root(bs));
    int fd = mkostemp(a, O_CLOEXEC);
    if (fd < 0)
        return dt_error_set(err, DT_ERR_IO, "cannot create a probe file: %s", strerror(errno));
    static const char probe[] = "dumptriage readiness probe\n";
    ssize_t w = write(fd, probe, sizeof probe - 1);
    int e = w == (ssize_t)(sizeof probe - 1) ? (fsync(fd) == 0 ? 0 : errno) : (w < 0 ? errno : ENOSPC);
    close(fd);
    if (e) {
        unlink(a);
        return dt_error_set(err, DT_ERR_IO, "cannot write a probe file: %s", strerror(e));
    }
    snprintf(b, sizeof b, "%.1200s.done", a);
    if (rename(a, b) != 0) {
        e = errno;
        unlink(a);
        return dt_error_set(err, DT_ERR_IO, "cannot rename a probe file: %s", strerror(e));
    }
    char back[sizeof probe];
    fd = open(b, O_RDONLY | O_CLOEXEC);
    ssize_t r = fd >= 0 ? read(fd, back, sizeof back) : -1;
    e = errno;
    if (fd >= 0)
        close(fd);
    unlink(b);
    if (r != (ssize_t)(sizeof probe - 1) || memcmp(back, probe, sizeof probe - 1) != 0)
        return dt_error_set(err, DT_ERR_IO, "cannot read a probe file back: %s", r < 0 ? strerror(e) : "short read");
    return DT_OK;
}

static void fs_free(dt_blob_store *bs)
{
    free(bs);
}

static const dt_blob_ops fs_ops = {
    .name = "fs",
    .put_file = fs_put_file,
    .put_copy = fs_put_copy,
    .put_stream = fs_put_stream,
    .open_read = fs_open_read,
    .local_path = fs_local_path,
    .exists = fs_exists,
    .remove = fs_remove,
    .list = fs_list,
    .check = fs_check,
    .free = fs_free,
};

dt_blob_store *dt_blob_store_fs(const char *data_dir)
{
    fs_store *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->base.ops = &fs_ops;
    snprintf(s->data_dir, sizeof s->data_dir, "%s", data_dir);
    return &s->base;
}

void dt_blob_store_free(dt_blob_store *bs)
{
    if (bs)
        bs->ops->free(bs);
}
