/*
 * fuzz_upload.c — the upload path on arbitrary bytes: a raw body (gzip
 * Content-Encoding or not, fed in input-chosen chunk sizes) through the body
 * sink, sniffing, the minimum dump check and blob placement; when the body
 * is an archive, the archive walk that unpacks it (in this process, so a
 * crash in libarchive's use shows here).  The client text sanitizer runs
 * on the input as a note.  Multipart parsing needs a libmicrohttpd
 * connection and is covered by the integration tests instead.
 *
 * The first input byte picks: bit 0 gzip encoding, bits 1-3 the chunk size
 * (1 << (4 + n) bytes).  Needs dumptriage_server (see the fuzz section of
 * CMakeLists.txt).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive_unpack.h"
#include "blob.h"
#include "upload.h"
#include "base/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *data_dir(void)
{
    static char dir[64];
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/dt-fuzz-upload.XXXXXX");
        if (!mkdtemp(dir) || dt_blob_prepare_dirs(dir, NULL) != DT_OK)
            abort();
    }
    return dir;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *dir = data_dir();
    uint8_t mode = data[0];
    data++;
    size--;

    char note[300], clean[300];
    size_t n = size < sizeof note - 1 ? size : sizeof note - 1;
    memcpy(note, data, n);
    note[n] = 0;
    dt_utf8_sanitize(note, clean, sizeof clean);
    if (!dt_utf8_valid(clean, strlen(clean)))
        abort();

    dt_upload_limits lim = {
        .data_dir = dir, .max_part_size = 8u << 20, .max_request_size = 8u << 20, .max_ratio = 200,
    };
    dt_refusal why = { 0 };
    dt_upload *u = dt_upload_begin(NULL, &lim, "application/octet-stream", (mode & 1) ? "gzip" : NULL, NULL, &why);
    if (!u)
        return 0;
    size_t chunk = (size_t)1 << (4 + ((mode >> 1) & 7));
    for (size_t off = 0; off < size; off += chunk)
        if (dt_upload_feed(u, (const char *)data + off, size - off < chunk ? size - off : chunk) != DT_OK)
            break;
    dt_upload_new out;
    memset(&out, 0, sizeof out);
    int lock = -1;
    dt_blob_store *bs = dt_blob_store_fs(dir);
    if (!bs)
        abort();
    if (dt_upload_finish(u, &out, &lock) == DT_OK) {
        dt_blob_unlock(lock);
        for (int i = 0; i < out.nfiles; i++) {
            if (strcmp(out.files[i].role, "archive") == 0) {
                char path[1200];
                dt_blob_path(dir, out.files[i].sha256, path, sizeof path);
                dt_unpack_limits ul = { .max_total = 32u << 20, .max_entries = 16, .max_ratio = 200,
                                        .max_entry = 16u << 20, .max_entry_ratio = 1000 };
                dt_file_rec found[DT_UNPACK_MAX_DUMPS];
                int nfound = 0;
                dt_error err = { 0 };
                if (dt_archive_unpack_here(dir, path, &ul, found, &nfound, &err) == DT_OK)
                    for (int k = 0; k < nfound; k++)
                        bs->ops->remove(bs, found[k].sha256, NULL);
            }
            bs->ops->remove(bs, out.files[i].sha256, NULL);
        }
    }
    dt_blob_store_free(bs);
    dt_upload_free(u);
    return 0;
}
