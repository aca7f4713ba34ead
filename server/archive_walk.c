/*
 * archive_walk.c — see archive_walk.h.
 */
#include "archive_walk.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

void dt_walk_base_name(const char *in, char *out, size_t len)
{
    /* Names are shown to people and used in Content-Disposition, never as
     * paths: only the last component, printable ASCII without quotes. */
    const char *base = in ? in : "";
    for (const char *p = base; *p; p++)
        if (*p == '/' || *p == '\\')
            base = p + 1;
    size_t j = 0;
    for (const char *p = base; *p && j + 1 < len; p++) {
        unsigned char c = (unsigned char)*p;
        out[j++] = (c >= 0x20 && c < 0x7f && c != '"' && c != ';') ? (char)c : '_';
    }
    out[j] = 0;
}

/* libarchive may have no message (a garbage 7z once said "(null)"). */
static const char *la_error(struct archive *a)
{
    const char *m = archive_error_string(a);
    return m && *m ? m : "unrecognized or damaged data";
}

static uint64_t ratio_cap(uint64_t packed, unsigned ratio)
{
    if (!ratio)
        return UINT64_MAX;
    uint64_t cap = packed > UINT64_MAX / ratio ? UINT64_MAX : packed * ratio;
    return cap < DT_WALK_RATIO_FLOOR ? DT_WALK_RATIO_FLOOR : cap;
}

dt_status dt_archive_walk(const char *path, const dt_walk_limits *lim, const dt_walk_hooks *h, void *ctx,
                          dt_walk_stats *stats, dt_error *err)
{
    dt_walk_stats local = { 0 };
    dt_walk_stats *s = stats ? stats : &local;
    memset(s, 0, sizeof *s);
    struct stat st;
    if (stat(path, &st) != 0)
        return dt_error_set(err, DT_ERR_IO, "the archive is missing");
    s->packed = (uint64_t)st.st_size;
    uint64_t total_cap = ratio_cap(s->packed, lim->max_ratio);
    uint64_t max_entry = lim->max_entry ? lim->max_entry : lim->max_total;
    struct archive *a = archive_read_new();
    if (!a)
        return dt_error_set(err, DT_ERR_NOMEM, "out of memory");
    archive_read_support_filter_gzip(a);
    archive_read_support_filter_bzip2(a);
    archive_read_support_filter_xz(a);
    archive_read_support_filter_lzma(a);
    archive_read_support_filter_zstd(a);
    archive_read_support_format_zip(a);
    archive_read_support_format_7zip(a);
    archive_read_support_format_tar(a);
    archive_read_support_format_raw(a);
    if (archive_read_open_filename(a, path, 64 * 1024) != ARCHIVE_OK) {
        dt_error_set(err, DT_ERR_FORMAT, "cannot read the archive: %s", la_error(a));
        archive_read_free(a);
        return DT_ERR_FORMAT;
    }
    dt_status rc = DT_OK;
    char buf[64 * 1024], name[256];
    struct archive_entry *e;
    for (;;) {
        if (h->done && h->done(ctx))
            break;
        int r = archive_read_next_header(a, &e);
        if (r == ARCHIVE_EOF)
            break;
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
            rc = dt_error_set(err, DT_ERR_FORMAT, "cannot read the archive: %s", la_error(a));
            break;
        }
        bool raw = archive_format(a) == ARCHIVE_FORMAT_RAW;
        /* Filters: the compression layers plus libarchive's reader. */
        int layers = archive_filter_count(a) - 1;
        if (raw && layers < 1) {
            rc = dt_error_set(err, DT_ERR_FORMAT, "not an archive or a compressed file");
            break;
        }
        if (layers > (int)lim->max_nesting) {
            rc = dt_error_set(err, DT_ERR_CORRUPT, "the archive is compressed %d times, more than the limit of %u",
                              layers, lim->max_nesting);
            break;
        }
        if (++s->entries > lim->max_entries) {
            rc = dt_error_set(err, DT_ERR_CORRUPT, "the archive has more than %u entries", lim->max_entries);
            break;
        }
        mode_t type = archive_entry_filetype(e);
        if (type != 0 && type != AE_IFREG)
            continue; /* directories, links, devices: nothing to read */
        if (raw)
            name[0] = 0;
        else
            dt_walk_base_name(archive_entry_pathname(e), name, sizeof name);
        bool want = true;
        if ((rc = h->begin(ctx, name, raw, &want, err)) != DT_OK)
            break;
        uint64_t entry = 0;
        int64_t packed_start = archive_filter_bytes(a, -1);
        bool complete = want;
        for (;;) {
            la_ssize_t n = archive_read_data(a, buf, sizeof buf);
            if (n == 0)
                break;
            if (n < 0) {
                rc = dt_error_set(err, DT_ERR_FORMAT, "cannot unpack %s: %s", name[0] ? name : "the entry",
                                  la_error(a));
                break;
            }
            entry += (uint64_t)n;
            s->total += (uint64_t)n;
            if (s->total > lim->max_total || s->total > total_cap) {
                bool by_size = s->total > lim->max_total;
                rc = dt_error_set(err, DT_ERR_CORRUPT, "the archive unpacks to more than %s (%llu bytes)",
                                  by_size ? "the size limit" : "the ratio limit",
                                  (unsigned long long)(by_size ? lim->max_total : total_cap));
                break;
            }
            if (entry > max_entry) {
                rc = dt_error_set(err, DT_ERR_CORRUPT, "%s unpacks to more than the limit of %llu bytes",
                                  name[0] ? name : "an entry", (unsigned long long)max_entry);
                break;
            }
            if (lim->max_entry_ratio) {
                int64_t used = archive_filter_bytes(a, -1) - packed_start;
                if (entry > ratio_cap(used > 0 ? (uint64_t)used : 0, lim->max_entry_ratio)) {
                    rc = dt_error_set(err, DT_ERR_CORRUPT, "%s unpacks beyond the entry ratio limit (%u:1)",
                                      name[0] ? name : "an entry", lim->max_entry_ratio);
                    break;
                }
            }
            if (want) {
                if ((rc = h->data(ctx, buf, (size_t)n, &want, err)) != DT_OK)
                    break;
                if (!want)
                    complete = false;
            }
        }
        dt_error eerr = { 0 };
        dt_status erc = h->end(ctx, complete && rc == DT_OK, rc == DT_OK ? err : &eerr);
        if (rc != DT_OK)
            break;
        if (erc != DT_OK) {
            rc = erc;
            break;
        }
    }
    archive_read_free(a);
    return rc;
}
