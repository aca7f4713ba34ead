/*
 * store_auth.c — tokens and browser sessions in the store.
 *
 * Secrets are looked up by their SHA-256: the database holds only hashes, and
 * a lookup by hash needs no constant-time compare (the index finds an exact
 * 256-bit value or nothing).
 */
#include "store_internal.h"

#include <stdio.h>
#include <string.h>

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
        if (dt_random_hex(secret + 3, sizeof secret - 3, 24) != 0)
            return dt_error_set(err, DT_ERR_IO, "no randomness");
    }
    if (role != DT_ROLE_STAFF && role != DT_ROLE_UPLOADER)
        return dt_error_set(err, DT_ERR_ARG, "role must be staff or uploader");
    char hash[65];
    dt_sha256_hex(secret, strlen(secret), hash);
    sqlite3_stmt *st = dt_sql_prepare(s, "INSERT INTO tokens(token_hash, role, name, created_at) VALUES (?,?,?,?)"
                                         " ON CONFLICT(token_hash) DO UPDATE SET role = excluded.role, revoked = 0",
                                      err);
    if (!st)
        return DT_ERR_IO;
    dt_sql_bind_text(st, 1, hash);
    dt_sql_bind_text(st, 2, dt_role_name(role));
    dt_sql_bind_text(st, 3, name ? name : "");
    sqlite3_bind_int64(st, 4, dt_now());
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return dt_error_set(err, DT_ERR_IO, "cannot store token: %s", sqlite3_errmsg(s->db));
    if (out_id) {
        st = dt_sql_prepare(s, "SELECT id FROM tokens WHERE token_hash = ?", err);
        if (!st)
            return DT_ERR_IO;
        dt_sql_bind_text(st, 1, hash);
        *out_id = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
        sqlite3_finalize(st);
    }
    if (out)
        snprintf(out, outlen, "%s", secret);
    return DT_OK;
}

int dt_store_has_staff(dt_store *s)
{
    sqlite3_stmt *st = dt_sql_prepare(s, "SELECT 1 FROM tokens WHERE role = 'staff' AND revoked = 0 LIMIT 1", NULL);
    int found = st && sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return found;
}

static dt_role role_from(const unsigned char *t)
{
    if (!t)
        return DT_ROLE_ANONYMOUS;
    if (strcmp((const char *)t, "staff") == 0)
        return DT_ROLE_STAFF;
    if (strcmp((const char *)t, "uploader") == 0)
        return DT_ROLE_UPLOADER;
    return DT_ROLE_ANONYMOUS;
}

dt_role dt_store_token_lookup(dt_store *s, const char *token, int64_t *token_id)
{
    if (!token || !*token || strlen(token) > 200)
        return DT_ROLE_ANONYMOUS;
    char hash[65];
    dt_sha256_hex(token, strlen(token), hash);
    sqlite3_stmt *st = dt_sql_prepare(s, "SELECT id, role FROM tokens WHERE token_hash = ? AND revoked = 0", NULL);
    dt_role role = DT_ROLE_ANONYMOUS;
    if (st) {
        dt_sql_bind_text(st, 1, hash);
        if (sqlite3_step(st) == SQLITE_ROW) {
            role = role_from(sqlite3_column_text(st, 1));
            if (token_id)
                *token_id = sqlite3_column_int64(st, 0);
        }
    }
    sqlite3_finalize(st);
    return role;
}

dt_status dt_store_session_create(dt_store *s, int64_t token_id, int64_t ttl, char out[65], dt_error *err)
{
    if (dt_random_hex(out, 65, 32) != 0)
        return dt_error_set(err, DT_ERR_IO, "no randomness");
    char hash[65];
    dt_sha256_hex(out, strlen(out), hash);
    sqlite3_stmt *st = dt_sql_prepare(s, "INSERT INTO sessions(session_hash, token_id, expires_at) VALUES (?,?,?)", err);
    if (!st)
        return DT_ERR_IO;
    dt_sql_bind_text(st, 1, hash);
    sqlite3_bind_int64(st, 2, token_id);
    sqlite3_bind_int64(st, 3, dt_now() + ttl);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    /* Expired sessions are swept whenever a new one is made. */
    dt_sql_exec(s, "DELETE FROM sessions WHERE expires_at < strftime('%s','now')", NULL);
    return rc == SQLITE_DONE ? DT_OK : dt_error_set(err, DT_ERR_IO, "cannot store session");
}

dt_role dt_store_session_lookup(dt_store *s, const char *session, int64_t *token_id)
{
    if (!session || strlen(session) != 64)
        return DT_ROLE_ANONYMOUS;
    char hash[65];
    dt_sha256_hex(session, 64, hash);
    sqlite3_stmt *st = dt_sql_prepare(s, "SELECT t.id, t.role FROM sessions s JOIN tokens t ON t.id = s.token_id"
                                         " WHERE s.session_hash = ? AND s.expires_at >= ? AND t.revoked = 0",
                                      NULL);
    dt_role role = DT_ROLE_ANONYMOUS;
    if (st) {
        dt_sql_bind_text(st, 1, hash);
        sqlite3_bind_int64(st, 2, dt_now());
        if (sqlite3_step(st) == SQLITE_ROW) {
            role = role_from(sqlite3_column_text(st, 1));
            if (token_id)
                *token_id = sqlite3_column_int64(st, 0);
        }
    }
    sqlite3_finalize(st);
    return role;
}

void dt_store_session_delete(dt_store *s, const char *session)
{
    if (!session || strlen(session) != 64)
        return;
    char hash[65];
    dt_sha256_hex(session, 64, hash);
    sqlite3_stmt *st = dt_sql_prepare(s, "DELETE FROM sessions WHERE session_hash = ?", NULL);
    if (st) {
        dt_sql_bind_text(st, 1, hash);
        sqlite3_step(st);
    }
    sqlite3_finalize(st);
}
