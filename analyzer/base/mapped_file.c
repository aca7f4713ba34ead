/*
 * mapped_file.c — mmap a dump, inflating gzip input to an unlinked temp file
 * first (see mapped_file.h for why not into memory).
 */
#include "base/mapped_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static dt_status map_fd(dt_mapped_file *f, int fd, const char *path, dt_error *err)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return dt_error_set(err, DT_ERR_IO, "%s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return dt_error_set(err, DT_ERR_IO, "%s: not a regular file", path);
    if (st.st_size == 0) {
        f->view = dt_view_make(NULL, 0);
        return DT_OK;
    }
    if ((uint64_t)st.st_size > SIZE_MAX)
        return dt_error_set(err, DT_ERR_IO, "%s: too large to map", path);
    void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED)
        return dt_error_set(err, DT_ERR_IO, "%s: mmap: %s", path, strerror(errno));
    f->map = m;
    f->map_size = (size_t)st.st_size;
    f->view = dt_view_make(m, f->map_size);
    return DT_OK;
}

static bool is_gzip(int fd)
{
    unsigned char magic[2];
    ssize_t n = pread(fd, magic, 2, 0);
    return n == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
}

/* Inflates the gzip stream on in_fd into an anonymous temporary file. */
static dt_status inflate_to_temp(int in_fd, const char *path, int *out_fd, dt_error *err)
{
    const char *tmpdir = getenv("TMPDIR");
    char tmpl[4096];
    snprintf(tmpl, sizeof tmpl, "%s/dumptriage-gz-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    int tfd = mkstemp(tmpl);
    if (tfd < 0)
        return dt_error_set(err, DT_ERR_IO, "%s: cannot create temp file: %s", path, strerror(errno));
    unlink(tmpl);

    int dfd = dup(in_fd);
    gzFile gz = dfd >= 0 ? gzdopen(dfd, "rb") : NULL;
    if (!gz) {
        if (dfd >= 0)
            close(dfd);
        close(tfd);
        return dt_error_set(err, DT_ERR_IO, "%s: cannot open gzip stream", path);
    }
    gzbuffer(gz, 1 << 17);
    enum { CHUNK = 1 << 17 };
    unsigned char *buf = malloc(CHUNK);
    if (!buf) {
        gzclose(gz);
        close(tfd);
        return dt_error_set(err, DT_ERR_NOMEM, "out of memory");
    }
    uint64_t total = 0;
    dt_status st = DT_OK;
    for (;;) {
        int n = gzread(gz, buf, CHUNK);
        if (n < 0) {
            int zerr;
            const char *msg = gzerror(gz, &zerr);
            st = dt_error_set(err, DT_ERR_CORRUPT, "%s: gzip: %s", path, msg);
            break;
        }
        if (n == 0)
            break;
        total += (uint64_t)n;
        if (total > DT_GZIP_MAX_INFLATED) {
            st = dt_error_set(err, DT_ERR_UNSUPPORTED, "%s: gzip inflates beyond %llu bytes", path,
                              (unsigned long long)DT_GZIP_MAX_INFLATED);
            break;
        }
        for (int done = 0; done < n;) {
            ssize_t w = write(tfd, buf + done, (size_t)(n - done));
            if (w < 0) {
                if (errno == EINTR)
                    continue;
                st = dt_error_set(err, DT_ERR_IO, "%s: writing inflated data: %s", path, strerror(errno));
                break;
            }
            done += (int)w;
        }
        if (st != DT_OK)
            break;
    }
    free(buf);
    gzclose(gz);
    if (st != DT_OK) {
        close(tfd);
        return st;
    }
    *out_fd = tfd;
    return DT_OK;
}

dt_status dt_mapped_file_open(dt_mapped_file *f, const char *path, dt_error *err)
{
    memset(f, 0, sizeof *f);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return dt_error_set(err, DT_ERR_IO, "%s: %s", path, strerror(errno));
    dt_status st;
    if (is_gzip(fd)) {
        int tfd = -1;
        st = inflate_to_temp(fd, path, &tfd, err);
        close(fd);
        if (st != DT_OK)
            return st;
        f->was_gzip = true;
        fd = tfd;
    }
    st = map_fd(f, fd, path, err);
    close(fd); /* the mapping keeps the (possibly unlinked) file alive */
    if (st != DT_OK)
        memset(f, 0, sizeof *f);
    return st;
}

void dt_mapped_file_close(dt_mapped_file *f)
{
    if (f->map)
        munmap(f->map, f->map_size);
    memset(f, 0, sizeof *f);
}
