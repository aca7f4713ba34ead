/*
 * store_signatures.c — see store_signatures.h.  Reads signature_merges
 * (written by the trigger of migrations/008_signature_merges.sql) and
 * counts of the buckets a chain passes through; every statement filters by
 * the caller's uploads the way the signature list and detail do.
 */
#include "store_signatures.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store_internal.h"
#include "triage/triage.h"

static cJSON *iso(int64_t t)
{
    char buf[32];
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return cJSON_CreateString(buf);
}

/* [{signature, uploads, last_merged_at, kind}] of the moves out of
 * (outgoing) or into `signature`, latest first. */
static cJSON *moves(dt_store *s, const char *signature, int64_t owner, bool outgoing, dt_error *err)
{
    dt_stmt *st = dt_sql_prepare(s, outgoing
        ? "SELECT into_signature, COUNT(DISTINCT upload_id), MAX(merged_at) FROM signature_merges"
          " WHERE from_signature = ?1 AND (?2 < 0 OR owner_token_id = ?2)"
          " GROUP BY into_signature ORDER BY MAX(merged_at) DESC, MAX(id) DESC LIMIT 100"
        : "SELECT from_signature, COUNT(DISTINCT upload_id), MAX(merged_at) FROM signature_merges"
          " WHERE into_signature = ?1 AND (?2 < 0 OR owner_token_id = ?2)"
          " GROUP BY from_signature ORDER BY MAX(merged_at) DESC, MAX(id) DESC LIMIT 100", err);
    if (!st)
        return NULL;
    dt_sql_bind_text(st, 1, signature);
    dt_stmt_bind_int64(st, 2, owner);
    cJSON *arr = cJSON_CreateArray();
    while (arr && dt_stmt_step(st) == DT_DB_ROW) {
        const char *other = (const char *)dt_stmt_text(st, 0);
        if (!other)
            continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "signature", other);
        cJSON_AddNumberToObject(o, "uploads", (double)dt_stmt_int64(st, 1));
        cJSON_AddItemToObject(o, "last_merged_at", iso(dt_stmt_int64(st, 2)));
        bool symbols = outgoing ? dt_signature_refines(signature, other) : dt_signature_refines(other, signature);
        cJSON_AddStringToObject(o, "kind", symbols ? "symbols" : "reanalysis");
        cJSON_AddItemToArray(arr, o);
    }
    dt_stmt_finalize(st);
    return arr;
}

/* Uploads the caller may see in bucket `signature`; -1 on error. */
static int64_t bucket_count(dt_store *s, const char *signature, int64_t owner, dt_error *err)
{
    dt_stmt *st = dt_sql_prepare(s, "SELECT COUNT(*) FROM uploads u JOIN reports r ON r.id = u.report_id"
                                    " WHERE r.signature = ?1 AND (?2 < 0 OR u.owner_token_id = ?2)", err);
    if (!st)
        return -1;
    dt_sql_bind_text(st, 1, signature);
    dt_stmt_bind_int64(st, 2, owner);
    int64_t n = dt_stmt_step(st) == DT_DB_ROW ? dt_stmt_int64(st, 0) : -1;
    dt_stmt_finalize(st);
    if (n < 0)
        dt_sql_fail(s, err, "cannot count a signature's uploads");
    return n;
}

/* The latest move out of `signature` the caller may see (malloc'd), or NULL. */
static char *latest_target(dt_store *s, const char *signature, int64_t owner, dt_error *err, bool *failed)
{
    dt_stmt *st = dt_sql_prepare(s, "SELECT into_signature FROM signature_merges"
                                    " WHERE from_signature = ?1 AND (?2 < 0 OR owner_token_id = ?2)"
                                    " ORDER BY merged_at DESC, id DESC LIMIT 1", err);
    if (!st) {
        *failed = true;
        return NULL;
    }
    dt_sql_bind_text(st, 1, signature);
    dt_stmt_bind_int64(st, 2, owner);
    char *out = NULL;
    if (dt_stmt_step(st) == DT_DB_ROW && dt_stmt_text(st, 0))
        out = strdup((const char *)dt_stmt_text(st, 0));
    dt_stmt_finalize(st);
    return out;
}

dt_status dt_store_signature_merges(dt_store *s, const char *signature, int64_t owner_token_id, cJSON *detail,
                                    dt_error *err)
{
    cJSON *out = moves(s, signature, owner_token_id, true, err);
    if (!out)
        return DT_ERR_IO;
    cJSON_AddItemToObject(detail, "moved_to", out);
    cJSON *in = moves(s, signature, owner_token_id, false, err);
    if (!in)
        return DT_ERR_IO;
    cJSON_AddItemToObject(detail, "merged_from", in);

    /* An emptied bucket says where its uploads are now: follow the latest
     * move while the bucket reached is empty too (a second merge after
     * more symbols), never round a loop. */
    const cJSON *count = cJSON_GetObjectItemCaseSensitive(detail, "count");
    char *chain[DT_SIGNATURE_MERGE_HOPS + 1] = { 0 };
    size_t n = 0;
    dt_status rc = DT_OK;
    if (cJSON_IsNumber(count) && count->valuedouble == 0 && cJSON_GetArraySize(out) > 0) {
        chain[n++] = strdup(signature);
        while (n <= DT_SIGNATURE_MERGE_HOPS && chain[n - 1]) {
            bool failed = false;
            char *next = latest_target(s, chain[n - 1], owner_token_id, err, &failed);
            if (failed) {
                rc = DT_ERR_IO;
                break;
            }
            bool seen = false;
            for (size_t i = 0; next && i < n; i++)
                seen |= strcmp(chain[i], next) == 0;
            if (!next || seen) {
                free(next);
                break;
            }
            chain[n++] = next;
            int64_t c = bucket_count(s, next, owner_token_id, err);
            if (c < 0) {
                rc = DT_ERR_IO;
                break;
            }
            if (c > 0)
                break;
        }
    }
    if (rc == DT_OK && n > 1)
        cJSON_AddStringToObject(detail, "merged_into", chain[n - 1]);
    else
        cJSON_AddNullToObject(detail, "merged_into");
    for (size_t i = 0; i < n; i++)
        free(chain[i]);
    return rc;
}
