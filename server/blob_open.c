/*
 * blob_open.c — which blob store a data directory uses (blob.h:
 * dt_blob_store_record / dt_blob_store_at / dt_blob_store_open).  The
 * choice is written into the data directory at start rather than passed
 * around, because many places hold only the directory (the upload path,
 * the retention sweep, the archive-unpacking child, which is exec'd with
 * the directory on its argv and must place what it finds in the same
 * store); the S3 keys never go there or on an argv: they stay in the
 * environment, which the child inherits.
 */
#include "blob.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CONF_NAME "blob-store.conf"

dt_status dt_blob_store_record(const char *data_dir, const char *kind, const char *endpoint, const char *bucket,
                               const char *region, dt_error *err)
{
    char path[1200], tmp[1300];
    snprintf(path, sizeof path, "%.1100s/" CONF_NAME, data_dir);
    if (!kind || !kind[0] || strcmp(kind, "fs") == 0) {
        if (unlink(path) != 0 && errno != ENOENT)
            return dt_error_set(err, DT_ERR_IO, "cannot remove %s: %s", path, strerror(errno));
        return DT_OK;
    }
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f)
        return dt_error_set(err, DT_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
    /* One "key value" a line; no secrets. */
    fprintf(f, "store %s\nendpoint %s\nbucket %s\nregion %s\n", kind, endpoint ? endpoint : "", bucket ? bucket : "",
            region && region[0] ? region : "us-east-1");
    int bad = fflush(f) != 0 || fsync(fileno(f)) != 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        unlink(tmp);
        return dt_error_set(err, DT_ERR_IO, "cannot write %s", path);
    }
    return DT_OK;
}

dt_blob_store *dt_blob_store_at(const char *data_dir, dt_error *err)
{
    char path[1200];
    snprintf(path, sizeof path, "%.1100s/" CONF_NAME, data_dir);
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno != ENOENT) {
            dt_error_set(err, DT_ERR_IO, "cannot read %s: %s", path, strerror(errno));
            return NULL;
        }
        dt_blob_store *bs = dt_blob_store_fs(data_dir);
        if (!bs)
            dt_error_set(err, DT_ERR_NOMEM, "out of memory");
        return bs;
    }
    char line[700], store[16] = "", endpoint[600] = "", bucket[80] = "", region[80] = "";
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        char *sp = strchr(line, ' ');
        if (!sp)
            continue;
        *sp++ = 0;
        if (strcmp(line, "store") == 0)
            snprintf(store, sizeof store, "%s", sp);
        else if (strcmp(line, "endpoint") == 0)
            snprintf(endpoint, sizeof endpoint, "%s", sp);
        else if (strcmp(line, "bucket") == 0)
            snprintf(bucket, sizeof bucket, "%s", sp);
        else if (strcmp(line, "region") == 0)
            snprintf(region, sizeof region, "%s", sp);
    }
    fclose(f);
    if (strcmp(store, "s3") != 0) {
        dt_error_set(err, DT_ERR_FORMAT, "%s: unknown store '%s'", path, store);
        return NULL;
    }
    const char *ak = getenv("AWS_ACCESS_KEY_ID"), *sk = getenv("AWS_SECRET_ACCESS_KEY");
    if (!ak || !ak[0] || !sk || !sk[0]) {
        dt_error_set(err, DT_ERR_ARG, "the S3 blob store needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment");
        return NULL;
    }
    char cache[1200];
    snprintf(cache, sizeof cache, "%.1100s/cache", data_dir);
    dt_blob_s3_config c = {
        .endpoint = endpoint, .region = region, .bucket = bucket, .access_key = ak, .secret_key = sk, .cache_dir = cache,
    };
    return dt_blob_store_s3(&c, err);
}

dt_blob_store *dt_blob_store_open(const dt_server_config *cfg, dt_error *err)
{
    return dt_blob_store_at(cfg->data_dir, err);
}
