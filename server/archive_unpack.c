/*
 * archive_unpack.c — see archive_unpack.h.
 *
 * libarchive detects the container and its compression; the "raw" format is
 * enabled too, so a bare x.dmp.gz (a compressed file that is no archive) reads
 * as one entry.  Entries are streamed into spools (hashed while written), so
 * memory stays small whatever the sizes; the ratio limit is checked against
 * the packed size as bytes come out, stopping a bomb early.
 */
#include "archive_unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "blob.h"

static void entry_name(struct archive_entry *e, char *out, size_t len)
{
    const char *p = archive_entry_pathname(e);
    if (!p)
        p = "";
    const char *base = p;
    for (const char *q = p; *q; q++)
        if (*q == '/' || *q == '\\')
            base = q + 1;
    size_t j = 0;
    for (const char *q = base; *q && j + 1 < len; q++) {
        unsigned char c = (unsigned char)*q;
        out[j++] = (c >= 0x20 && c < 0x7f && c != '"' && c != ';') ? (char)c : '_';
    }
    out[j] = 0;
}

dt_status dt_archive_unpack(const char *data_dir, const char *archive_path, const dt_unpack_limits *limits,
                            dt_file_rec *out, int *nout, dt_error *err)
{
    *nout = 0;
    struct stat st;
    if (stat(archive_path, &st) != 0)
        return dt_error_set(err, DT_ERR_IO, "archive blob is missing");
    uint64_t packed = (uint64_t)st.st_size;
    uint64_t ratio_cap = packed * limits->max_ratio;
    if (ratio_cap < (1u << 20))
        ratio_cap = 1u << 20;
    struct archive *a = archive_read_new();
    if (!a)
        return dt_error_set(err, DT_ERR_NOMEM, "out of memory");
    archive_read_support_filter_all(a);
    archive_read_support_format_all(a);
    archive_read_support_format_raw(a);
    if (archive_read_open_filename(a, archive_path, 64 * 1024) != ARCHIVE_OK) {
        dt_error_set(err, DT_ERR_FORMAT, "cannot read the archive: %s", archive_error_string(a));
        archive_read_free(a);
        return DT_ERR_FORMAT;
    }
    dt_status rc = DT_OK;
    uint64_t total = 0;
    unsigned entries = 0;
    int have_user = 0, have_kernel = 0;
    struct archive_entry *e;
    char buf[64 * 1024];
    for (;;) {
        int r = archive_read_next_header(a, &e);
        if (r == ARCHIVE_EOF)
            break;
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
            if (have_user || have_kernel)
                break; /* keep what was found before the damage */
            rc = dt_error_set(err, DT_ERR_FORMAT, "cannot read the archive: %s", archive_error_string(a));
            break;
        }
        if (++entries > limits->max_entries) {
            rc = dt_error_set(err, DT_ERR_CORRUPT, "the archive has more than %u entries", limits->max_entries);
            break;
        }
        mode_t type = archive_entry_filetype(e);
        if (type != 0 && type != AE_IFREG)
            continue;
        dt_spool sp;
        dt_error serr = { 0 };
        if (dt_spool_open(&sp, data_dir, &serr) != DT_OK) {
            rc = dt_error_set(err, DT_ERR_IO, "%s", serr.message);
            break;
        }
        int wanted = -1; /* unknown until the head is seen */
        for (;;) {
            la_ssize_t n = archive_read_data(a, buf, sizeof buf);
            if (n == 0)
                break;
            if (n < 0) {
                rc = dt_error_set(err, DT_ERR_FORMAT, "cannot unpack %s: %s",
                                  archive_entry_pathname(e) ? archive_entry_pathname(e) : "entry",
                                  archive_error_string(a));
                break;
            }
            total += (uint64_t)n;
            if (total > limits->max_total || total > ratio_cap) {
                rc = dt_error_set(err, DT_ERR_CORRUPT,
                                  "the archive unpacks to more than %s (%llu bytes)",
                                  total > limits->max_total ? "the size limit" : "the ratio limit",
                                  (unsigned long long)(total > limits->max_total ? limits->max_total : ratio_cap));
                break;
            }
            if (dt_spool_write(&sp, buf, (size_t)n, &serr) != DT_OK) {
                rc = dt_error_set(err, DT_ERR_IO, "%s", serr.message);
                break;
            }
            if (wanted < 0 && sp.head_len >= DT_SNIFF_BYTES) {
                dt_file_kind k = dt_spool_kind(&sp);
                wanted = (k == DT_KIND_MINIDUMP && !have_user)
                      || ((k == DT_KIND_KERNEL64 || k == DT_KIND_KERNEL32) && !have_kernel);
                if (!wanted)
                    break;
            }
        }
        if (rc != DT_OK || wanted != 1) {
            dt_spool_abort(&sp);
            if (rc != DT_OK)
                break;
            continue;
        }
        dt_file_kind k = dt_spool_kind(&sp);
        dt_file_rec *f = &out[*nout];
        memset(f, 0, sizeof *f);
        snprintf(f->role, sizeof f->role, "%s", k == DT_KIND_MINIDUMP ? "user" : "kernel");
        snprintf(f->kind, sizeof f->kind, "%s", dt_file_kind_name(k));
        entry_name(e, f->name, sizeof f->name);
        f->size = sp.size;
        if (dt_spool_commit(&sp, data_dir, f->sha256, &serr) != DT_OK) {
            rc = dt_error_set(err, DT_ERR_IO, "%s", serr.message);
            break;
        }
        (*nout)++;
        if (k == DT_KIND_MINIDUMP)
            have_user = 1;
        else
            have_kernel = 1;
        if (have_user && have_kernel)
            break;
    }
    archive_read_free(a);
    if (rc == DT_OK && *nout == 0)
        rc = dt_error_set(err, DT_ERR_FORMAT, "the archive holds no minidump or kernel dump");
    return rc;
}
