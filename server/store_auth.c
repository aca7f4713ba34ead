/*
 * store_auth.c — owns tokens and browser sessions in the store: creating,
 * looking up, listing and revoking tokens; creating, looking up and ending
 * sessions.
 *
 * Secrets are looked up by their SHA-256: the database holds only hashes, and
 * a lookup by hash needs no constant-time compare (the index finds an exact
 * 256-bit value or nothing).  A token's last use is written at most once a
 * minute, so reads authenticated by a token stay reads.
 */
#include "store_internal.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "secrets.h"

dt_status dt_store_token_create(dt_store *s, dt_role role, const char *name, const char *token,
                                char *out, size_t outlen, int64_t *out_id, dt_error *err)
{
    char secret[80];
    if (token) {
        if (strlen(token) < 16 || strlen(token) >= sizeof secret)
            return dt_error_set(err, DT_ERR_ARG, "a token must be 16 to 79 characters");
        strcpy(secret, token);
    } else {
        strcpy(secret, "dt_");
        if (dt_random_hex(secret + 3, sizeof secret - 3, 24) != DT_OK)
            return dt_error_set(err, DT_ERR_IO, "no randomness");
    }
    if (role != DT_ROLE_STAFF && role != DT_ROLE_UPLOADER)
        return dt_error_set(err, DT_ERR_ARG, "role must be staff or uploader");
    char hash[65];
    dt_sha256_hex(secret, strlen(secret), hash);
    dt_stmt *st = dt_sql_prepare(s, "INSERT INTO tokens(token_hash, role, name, created_at) VALUES (?,?,?,?)"
                                         " ON CONFLICT(token_hash) DO UPDATE SET role = excluded.role, revoked = 0",
                                      err);
    if (!st)
        return DT_ERR_IO;
    dt_sql_bind_text(st, 1, hash);
    dt_sql_bind_text(st, 2, dt_role_name(role));
    dt_sql_bind_text(st, 3, name ? name : "");
    dt_stmt_bind_int64(st, 4, dt_now());
    int rc = dt_stmt_step(st);
    dt_stmt_finalize(st);
    if (rc != DT_DB_DONE)
        return dt_error_set(err, DT_ERR_IO, "cannot store token: %s", dt_db_errmsg(s->db));
    if (out_id) {
        st = dt_sql_prepare(s, "SELECT id FROM tokens WHERE token_hash = ?", err);
        if (!st)
            return DT_ERR_IO;
        dt_sql_bind_text(st, 1, hash);
        *out_id = dt_stmt_step(st) == DT_DB_ROW ? dt_stmt_int64(st, 0) : 0;
        dt_stmt_finalize(st);
    }
    if (out)
        snprintf(out, outlen, "%s", secret);
    return DT_OK;
}

bool dt_store_has_staff(dt_store *s)
{
    dt_stmt *st = dt_sql_prepare(s, "SELECT 1 FROM tokens WHERE role = 'staff' AND revoked = 0 LIMIT 1", NULL);
    int found = st && dt_stmt_step(st) == DT_DB_ROW;
    dt_stmt_finalize(st);
    return found;
}

static dt_role role_from(const char *t)
{
    if (!t)
        return DT_ROLE_ANONYMOUS;
    if (strcmp(t, "staff") == 0)
        return DT_ROLE_STAFF;
    if (strcmp(t, "uploader") == 0)
        return DT_ROLE_UPLOADER;
    return DT_ROLE_ANONYMOUS;
}

#define LAST_USED_GRAIN 60

static cJSON *iso_time(int64_t t)
{
    struct tm tm;
    time_t tt = (time_t)t;
    char buf[32];
    gmtime_r(&tt, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return cJSON_CreateString(buf);
}

dt_role dt_store_token_lookup(dt_store *s, const char *token, int64_t *token_id)
{
    if (!token || !*token || strlen(token) > 200)
        return DT_ROLE_ANONYMOUS;
    char hash[65];
    dt_sha256_hex(token, strlen(token), hash);
    dt_stmt *st = dt_sql_prepare(s, "SELECT id, role, COALESCE(last_used_at, 0) FROM tokens"
                                         " WHERE token_hash = ? AND revoked = 0", NULL);
    dt_role role = DT_ROLE_ANONYMOUS;
    int64_t id = 0, last_used = 0;
    if (st) {
        dt_sql_bind_text(st, 1, hash);
        if (dt_stmt_step(st) == DT_DB_ROW) {
            role = role_from(dt_stmt_text(st, 1));
            id = dt_stmt_int64(st, 0);
            last_used = dt_stmt_int64(st, 2);
        }
    }
    dt_stmt_finalize(st);
    if (role != DT_ROLE_ANONYMOUS && token_id)
        *token_id = id;
    int64_t now = dt_now();
    if (role != DT_ROLE_ANONYMOUS && now - last_used >= LAST_USED_GRAIN) {
        /* Best effort: a busy store must not fail the request it serves. */
        st = dt_sql_prepare(s, "UPDATE tokens SET last_used_at = ? WHERE id = ?", NULL);
        if (st) {
            dt_stmt_bind_int64(st, 1, now);
            dt_stmt_bind_int64(st, 2, id);
            dt_stmt_step(st);
        }
        dt_stmt_finalize(st);
    }
    return role;
}

cJSON *dt_store_token_list(dt_store *s, dt_error *err)
{
    dt_stmt *st = dt_sql_prepare(s, "SELECT id, name, role, created_at, last_used_at, revoked FROM tokens"
                                         " ORDER BY id", err);
    if (!st)
        return NULL;
    cJSON *o = cJSON_CreateObject();
    cJSON *items = cJSON_AddArrayToObject(o, "items");
    int rc;
    while ((rc = dt_stmt_step(st)) == DT_DB_ROW) {
        cJSON *t = cJSON_CreateObject();
        cJSON_AddNumberToObject(t, "id", (double)dt_stmt_int64(st, 0));
        cJSON_AddItemToObject(t, "name", dt_sql_column_json(st, 1));
        cJSON_AddItemToObject(t, "role", dt_sql_column_json(st, 2));
        cJSON_AddItemToObject(t, "created_at", iso_time(dt_stmt_int64(st, 3)));
        if (dt_stmt_is_null(st, 4))
            cJSON_AddNullToObject(t, "last_used_at");
        else
            cJSON_AddItemToObject(t, "last_used_at", iso_time(dt_stmt_int64(st, 4)));
        cJSON_AddBoolToObject(t, "revoked", (int)dt_stmt_int64(st, 5) != 0);
        cJSON_AddItemToArray(items, t);
    }
    dt_stmt_finalize(st);
    if (rc != DT_DB_DONE) {
        cJSON_Delete(o);
        dt_sql_fail(s, err, "cannot list tokens");
        return NULL;
    }
    return o;
}

/* Revocation and the end of the token's sessions, in one transaction. */
static dt_status revoke_body(dt_store *s, void *ctx, dt_error *err)
{
    int64_t id = *(const int64_t *)ctx;
    dt_stmt *st = dt_sql_prepare(s, "UPDATE tokens SET revoked = 1 WHERE id = ?", err);
    if (!st)
        return DT_ERR_IO;
    dt_stmt_bind_int64(st, 1, id);
    int rc = dt_stmt_step(st);
    dt_stmt_finalize(st);
    if (rc != DT_DB_DONE)
        return dt_sql_fail(s, err, "cannot revoke token");
    if (dt_db_changes(s->db) != 1)
        return dt_error_set(err, DT_ERR_NOT_FOUND, "no token %lld", (long long)id);
    st = dt_sql_prepare(s, "DELETE FROM sessions WHERE token_id = ?", err);
    if (!st)
        return DT_ERR_IO;
    dt_stmt_bind_int64(st, 1, id);
    rc = dt_stmt_step(st);
    dt_stmt_finalize(st);
    return rc == DT_DB_DONE ? DT_OK : dt_sql_fail(s, err, "cannot end the token's sessions");
}

dt_status dt_store_token_revoke(dt_store *s, int64_t token_id, dt_error *err)
{
    return dt_sql_txn(s, revoke_body, &token_id, err);
}

dt_status dt_store_session_create(dt_store *s, int64_t token_id, int64_t ttl, char out[65], dt_error *err)
{
    if (dt_random_hex(out, 65, 32) != DT_OK)
        return dt_error_set(err, DT_ERR_IO, "no randomness");
    char hash[65];
    dt_sha256_hex(out, strlen(out), hash);
    dt_stmt *st = dt_sql_prepare(s, "INSERT INTO sessions(session_hash, token_id, expires_at) VALUES (?,?,?)", err);
    if (!st)
        return DT_ERR_IO;
    dt_sql_bind_text(st, 1, hash);
    dt_stmt_bind_int64(st, 2, token_id);
    dt_stmt_bind_int64(st, 3, dt_now() + ttl);
    int rc = dt_stmt_step(st);
    dt_stmt_finalize(st);
    /* Expired sessions are swept whenever a new one is made. */
    st = dt_sql_prepare(s, "DELETE FROM sessions WHERE expires_at < ?", NULL);
    if (st) {
        dt_stmt_bind_int64(st, 1, dt_now());
        dt_stmt_step(st);
    }
    dt_stmt_finalize(st);
    return rc == DT_DB_DONE ? DT_OK : dt_error_set(err, DT_ERR_IO, "cannot store session");
}

dt_role dt_store_session_lookup(dt_store *s, const char *session, int64_t *token_id)
{
    if (!session || strlen(session) != 64)
        return DT_ROLE_ANONYMOUS;
    char hash[65];
    dt_sha256_hex(session, 64, hash);
    dt_stmt *st = dt_sql_prepare(s, "SELECT t.id, t.role FROM sessions s JOIN tokens t ON t.id = s.token_id"
                                         " WHERE s.session_hash = ? AND s.expires_at >= ? AND t.revoked = 0",
                                      NULL);
    dt_role role = DT_ROLE_ANONYMOUS;
    if (st) {
        dt_sql_bind_text(st, 1, hash);
        dt_stmt_bind_int64(st, 2, dt_now());
        if (dt_stmt_step(st) == DT_DB_ROW) {
            role = role_from(dt_stmt_text(st, 1));
            if (token_id)
                *token_id = dt_stmt_int64(st, 0);
        }
    }
    dt_stmt_finalize(st);
    return role;
}

void dt_store_session_delete(dt_store *s, const char *session)
{
    if (!session || strlen(session) != 64)
        return;
    char hash[65];
    dt_sha256_hex(session, 64, hash);
    dt_stmt *st = dt_sql_prepare(s, "DELETE FROM sessions WHERE session_hash = ?", NULL);
    if (st) {
        dt_sql_bind_text(st, 1, hash);
        dt_stmt_step(st);
    }
    dt_stmt_finalize(st);
}
