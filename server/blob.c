/*
 * blob.c — see blob.h.  The durability order matters: data is fsync'ed before
 * it is handed to the blob store (whose put_file renames it and syncs the
 * directory, blob_fs.c), so a crash leaves either no blob or a complete one;
 * the database row that points at a blob is written only after that.
 */
#include "blob.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <zlib.h>

#include "hash_behind.h"

static int make_dir(const char *path)
{
    return mkdir(path, 0750) == 0 || errno == EEXIST ? 0 : -1;
}

dt_status dt_blob_prepare_dirs(const char *data_dir, dt_error *err)
{
    char p[1200];
    if (make_dir(data_dir) != 0)
        return dt_error_set(err, DT_ERR_IO, "cannot create %s: %s", data_dir, strerror(errno));
    snprintf(p, sizeof p, "%s/tmp", data_dir);
    if (make_dir(p) != 0)
        return dt_error_set(err, DT_ERR_IO, "cannot create %s: %s", p, strerror(errno));
    snprintf(p, sizeof p, "%s/blobs", data_dir);
    if (make_dir(p) != 0)
        return dt_error_set(err, DT_ERR_IO, "cannot create %s: %s", p, strerror(errno));
    return DT_OK;
}

static void remove_tree(const char *path, int depth)
{
    DIR *d = opendir(path);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char p[2048];
        snprintf(p, sizeof p, "%s/%s", path, e->d_name);
        struct stat st;
        if (lstat(p, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode) && depth < 4) {
            remove_tree(p, depth + 1);
            rmdir(p);
        } else {
            unlink(p);
        }
    }
    closedir(d);
}

int dt_blob_clean_tmp(const char *data_dir)
{
    char p[1200];
    snprintf(p, sizeof p, "%s/tmp", data_dir);
    remove_tree(p, 0);
    return 0;
}

void dt_blob_remove_dir(const char *dir)
{
    remove_tree(dir, 0);
    rmdir(dir);
}

int dt_blob_path(const char *data_dir, const char *sha256, char *out, size_t len)
{
    if (!sha256 || strlen(sha256) != 64 || strspn(sha256, "0123456789abcdef") != 64)
        return -1;
    snprintf(out, len, "%s/blobs/%.2s/%s", data_dir, sha256, sha256 + 2);
    return 0;
}

int dt_blob_exists(const char *data_dir, const char *sha256, uint64_t size)
{
    char p[1200];
    struct stat st;
    return dt_blob_path(data_dir, sha256, p, sizeof p) == 0 && stat(p, &st) == 0 && (uint64_t)st.st_size == size;
}

int dt_blob_lock(const char *data_dir)
{
    char p[1200];
    snprintf(p, sizeof p, "%s/blobs.lock", data_dir);
    int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0)
        return -1;
    while (flock(fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            close(fd);
            return -1;
        }
    }
    return fd;
}

void dt_blob_unlock(int lock_fd)
{
    if (lock_fd >= 0)
        close(lock_fd); /* closing the only descriptor releases the flock */
}

uint64_t dt_blob_free_space(const char *data_dir)
{
    struct statvfs v;
    if (statvfs(data_dir, &v) != 0)
        return UINT64_MAX;
    return (uint64_t)v.f_bavail * v.f_frsize;
}

void dt_spool_init(dt_spool *sp)
{
    memset(sp, 0, sizeof *sp);
    sp->fd = -1;
}

dt_status dt_spool_open(dt_spool *sp, const char *data_dir, dt_error *err)
{
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s/tmp", data_dir);
    return dt_spool_open_in(sp, tmp, 0, err);
}

dt_status dt_spool_open_in(dt_spool *sp, const char *tmp_dir, uint64_t min_free, dt_error *err)
{
    dt_spool_init(sp);
    sp->min_free = min_free;
    sp->unchecked = DT_SPOOL_FREE_CHECK; /* check at the first write */
    snprintf(sp->tmp_path, sizeof sp->tmp_path, "%s/part-XXXXXX", tmp_dir);
    sp->fd = mkostemp(sp->tmp_path, O_CLOEXEC);
    if (sp->fd < 0)
        return dt_error_set(err, DT_ERR_IO, "cannot create a temp file: %s", strerror(errno));
    sp->md = EVP_MD_CTX_new();
    if (!sp->md || EVP_DigestInit_ex(sp->md, EVP_sha256(), NULL) != 1) {
        dt_spool_abort(sp);
        return dt_error_set(err, DT_ERR_NOMEM, "cannot start hashing");
    }
    return DT_OK;
}

dt_status dt_spool_write_from(dt_spool *sp, int fd, dt_error *err)
{
    char buf[65536];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            dt_spool_abort(sp);
            return dt_error_set(err, DT_ERR_IO, "cannot read: %s", strerror(e));
        }
        if (n == 0)
            return DT_OK;
        if (dt_spool_write(sp, buf, (size_t)n, err) != DT_OK) {
            dt_spool_abort(sp);
            return DT_ERR_IO;
        }
    }
}

dt_status dt_spool_write(dt_spool *sp, const void *data, size_t len, dt_error *err)
{
    if (sp->fd < 0)
        return dt_error_set(err, DT_ERR_ARG, "spool is closed");
    if (sp->head_len < DT_SPOOL_HEAD) {
        size_t n = DT_SPOOL_HEAD - sp->head_len < len ? DT_SPOOL_HEAD - sp->head_len : len;
        memcpy(sp->head + sp->head_len, data, n);
        sp->head_len += n;
    }
    if (sp->min_free) {
        sp->unchecked += len;
        if (sp->unchecked >= DT_SPOOL_FREE_CHECK) {
            sp->unchecked = 0;
            struct statvfs v;
            if (fstatvfs(sp->fd, &v) == 0 && (uint64_t)v.f_bavail * v.f_frsize < sp->min_free + len)
                return dt_error_set(err, DT_ERR_NOMEM, "not enough free space on the server (%llu bytes are kept free)",
                                    (unsigned long long)sp->min_free);
        }
    }
    if (!sp->hb && sp->size + len > DT_SPOOL_HASH_INLINE) {
        /* Cannot start the thread: the hash simply stays inline. */
        sp->hb = dt_hash_behind_start(sp->fd, sp->md, sp->size, NULL);
        if (sp->hb)
            sp->md = NULL;
    }
    if (!sp->hb)
        EVP_DigestUpdate(sp->md, data, len);
    const char *p = data;
    while (len > 0) {
        ssize_t w = write(sp->fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return dt_error_set(err, errno == ENOSPC || errno == EDQUOT ? DT_ERR_NOMEM : DT_ERR_IO,
                                "cannot write upload: %s", strerror(errno));
        }
        p += w;
        len -= (size_t)w;
        sp->size += (uint64_t)w;
    }
    if (sp->hb)
        dt_hash_behind_written(sp->hb, sp->size);
    return DT_OK;
}

dt_file_kind dt_spool_kind(const dt_spool *sp)
{
    dt_file_kind k = dt_sniff(sp->head, sp->head_len);
    if (k == DT_KIND_UNKNOWN && sp->head_len >= 262 && memcmp(sp->head + 257, "ustar", 5) == 0)
        k = DT_KIND_TAR;
    return k;
}

dt_file_kind dt_spool_gzip_inner_kind(const dt_spool *sp)
{
    /* Customers mail `.dmp.gz`: a gzip part whose content is one dump is
     * that dump (the analyzer inflates it itself), not an archive. */
    if (dt_spool_kind(sp) != DT_KIND_GZIP || sp->fd < 0)
        return DT_KIND_UNKNOWN;
    /* Its own descriptor: the spool's write offset must not move. */
    int fd = open(sp->tmp_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return DT_KIND_UNKNOWN;
    gzFile gz = gzdopen(fd, "rb");
    if (!gz) {
        close(fd);
        return DT_KIND_UNKNOWN;
    }
    uint8_t head[DT_SNIFF_BYTES];
    int n = gzread(gz, head, sizeof head);
    gzclose(gz);
    dt_file_kind k = n > 0 ? dt_sniff(head, (size_t)n) : DT_KIND_UNKNOWN;
    return dt_file_kind_is_dump(k) ? k : DT_KIND_UNKNOWN;
}

dt_status dt_spool_seal(dt_spool *sp, char sha256[65], dt_error *err)
{
    if (sp->sealed) {
        memcpy(sha256, sp->sha256, 65);
        return DT_OK;
    }
    if (sp->fd < 0) {
        dt_spool_abort(sp);
        return dt_error_set(err, DT_ERR_IO, "cannot finish hashing");
    }
    /* The sync first: the hash behind catches up while the disk writes. */
    if (fsync(sp->fd) != 0) {
        int e = errno;
        dt_spool_abort(sp);
        return dt_error_set(err, DT_ERR_IO, "cannot fsync upload: %s", strerror(e));
    }
    if (sp->hb) {
        dt_hash_behind *hb = sp->hb;
        sp->hb = NULL;
        sp->md = dt_hash_behind_finish(hb, err);
        if (!sp->md) {
            dt_spool_abort(sp);
            return DT_ERR_IO;
        }
    }
    unsigned char md[32];
    unsigned int mdlen = 0;
    if (EVP_DigestFinal_ex(sp->md, md, &mdlen) != 1 || mdlen != 32) {
        dt_spool_abort(sp);
        return dt_error_set(err, DT_ERR_IO, "cannot finish hashing");
    }
    for (int i = 0; i < 32; i++)
        snprintf(sp->sha256 + 2 * i, 3, "%02x", md[i]);
    sp->sealed = 1;
    memcpy(sha256, sp->sha256, 65);
    return DT_OK;
}

dt_status dt_spool_place(dt_spool *sp, dt_blob_store *bs, char sha256[65], dt_error *err)
{
    if (dt_spool_seal(sp, sha256, err) != DT_OK)
        return DT_ERR_IO;
    if (bs->ops->put_file(bs, sp->tmp_path, sha256, sp->size, err) != DT_OK) {
        dt_spool_abort(sp);
        return err && err->code ? err->code : DT_ERR_IO;
    }
    sp->tmp_path[0] = 0; /* consumed by the store */
    dt_spool_abort(sp);
    return DT_OK;
}

void dt_spool_abort(dt_spool *sp)
{
    dt_hash_behind_cancel(sp->hb); /* it reads fd: stopped before the close */
    sp->hb = NULL;
    if (sp->fd >= 0)
        close(sp->fd);
    sp->fd = -1;
    if (sp->tmp_path[0])
        unlink(sp->tmp_path);
    sp->tmp_path[0] = 0;
    if (sp->md)
        EVP_MD_CTX_free(sp->md);
    sp->md = NULL;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

dt_status dt_dump_check(dt_file_kind kind, const uint8_t *head, size_t head_len, uint64_t size, dt_error *err)
{
    if (kind == DT_KIND_MINIDUMP) {
        /* MINIDUMP_HEADER: Signature, Version, NumberOfStreams,
         * StreamDirectoryRva, CheckSum, TimeDateStamp, Flags (32 bytes);
         * each directory entry is 12 bytes. */
        if (size < 32 || head_len < 32)
            return dt_error_set(err, DT_ERR_TRUNCATED, "the minidump is %llu bytes: shorter than its header",
                                (unsigned long long)size);
        uint32_t nstreams = le32(head + 8), rva = le32(head + 12);
        if (nstreams == 0)
            return dt_error_set(err, DT_ERR_FORMAT, "the minidump has no streams");
        if (rva < 32 || (uint64_t)rva + (uint64_t)nstreams * 12 > size)
            return dt_error_set(err, DT_ERR_TRUNCATED, "the minidump's stream directory lies outside the file");
        return DT_OK;
    }
    if (kind == DT_KIND_KERNEL64 || kind == DT_KIND_KERNEL32) {
        uint64_t header = kind == DT_KIND_KERNEL64 ? 8192 : 4096;
        if (size < header)
            return dt_error_set(err, DT_ERR_TRUNCATED, "the kernel dump is %llu bytes: shorter than its %llu-byte header",
                                (unsigned long long)size, (unsigned long long)header);
    }
    return DT_OK;
}
