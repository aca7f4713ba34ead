/*
 * store_snapshots.c — see store_snapshots.h.
 *
 * The statements are plain SQL text that SQLite and PostgreSQL both read
 * (INSERT … SELECT … WHERE, ||), run through dt_sql_exec inside
 * dt_sql_txn.  Values are written as literals: the integers are formatted
 * here, and the text comes from fixed sets (role), hex (SHA-256), the
 * server's kind names, or a file name already reduced to printable ASCII
 * without quotes by the upload (archive_walk.h dt_walk_base_name) and
 * filtered once more below, so no value can end its literal.
 */
#include "store_snapshots.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "secrets.h"
#include "store_internal.h"

/* Copies s keeping only characters that cannot end or escape an SQL
 * literal in either engine (printable ASCII without quotes and backslash);
 * anything else becomes '_'. */
static void literal_text(const char *s, char *out, size_t len)
{
    size_t i = 0;
    for (; s && s[i] && i + 1 < len; i++) {
        unsigned char c = (unsigned char)s[i];
        out[i] = c >= 0x20 && c < 0x7f && c != '\'' && c != '"' && c != '\\' ? (char)c : '_';
    }
    out[i] = '\0';
}

static bool is_hex64(const char *s)
{
    size_t n = strspn(s, "0123456789abcdef");
    return n == 64 && s[n] == '\0';
}

typedef struct {
    int64_t seq;
    const dt_file_rec *files;
    int n;
    int max_users;
} snapshots_ctx;

static dt_status snapshots_body(dt_store *s, void *vctx, dt_error *err)
{
    const snapshots_ctx *c = vctx;
    char sql[2048], name[256], kind[32], key[1400] = "";
    size_t klen = 0;
    for (int i = 0; i < c->n; i++) {
        const dt_file_rec *f = &c->files[i];
        if ((strcmp(f->role, "user") != 0 && strcmp(f->role, "kernel") != 0) || !is_hex64(f->sha256))
            return dt_error_set(err, DT_ERR_ARG, "a snapshot is a user dump or a kernel dump");
        literal_text(f->name, name, sizeof name);
        literal_text(f->kind, kind, sizeof kind);
        /* The cap holds whatever runs concurrently: the count is taken in
         * the same statement (SQLite writes one at a time; PostgreSQL's
         * caller re-reads the files). */
        snprintf(sql, sizeof sql,
                 "INSERT INTO files(upload_seq, role, sha256, size, kind, name)"
                 " SELECT %" PRId64 ", '%s', '%s', %" PRIu64 ", '%s', %s%s%s"
                 " WHERE (SELECT COUNT(*) FROM files WHERE upload_seq = %" PRId64 " AND role = '%s') < %d",
                 c->seq, f->role, f->sha256, f->size, kind, name[0] ? "'" : "", name[0] ? name : "NULL",
                 name[0] ? "'" : "", c->seq, f->role, c->max_users);
        if (dt_sql_exec(s, sql, err) != DT_OK)
            return dt_sql_fail(s, err, "cannot record a snapshot");
        if (klen < sizeof key)
            klen += (size_t)snprintf(key + klen, sizeof key - klen, "%s:%s;", f->role, f->sha256);
    }
    /* The upload's content changed: its reuse key names the new files too,
     * and the report it had is replaced by the series' when the analysis
     * ends (as for a reanalysis, the old one is shown until then). */
    int64_t now = dt_now();
    snprintf(sql, sizeof sql,
             "UPDATE uploads SET status = 'queued', error = NULL, reused_from = NULL, updated_at = %" PRId64 ","
             " pair_key = pair_key || '%s' WHERE seq = %" PRId64,
             now, key, c->seq);
    if (dt_sql_exec(s, sql, err) != DT_OK)
        return dt_sql_fail(s, err, "cannot requeue the upload");
    /* A job already queued reads the files when it is leased: it takes the
     * new ones too. */
    snprintf(sql, sizeof sql,
             "INSERT INTO jobs(upload_seq, state, created_at) SELECT %" PRId64 ", 'queued', %" PRId64
             " WHERE NOT EXISTS (SELECT 1 FROM jobs WHERE upload_seq = %" PRId64 " AND state = 'queued')",
             c->seq, now, c->seq);
    if (dt_sql_exec(s, sql, err) != DT_OK)
        return dt_sql_fail(s, err, "cannot queue the analysis");
    return DT_OK;
}

dt_status dt_store_snapshots_add(dt_store *s, int64_t seq, const dt_file_rec *files, int n, int max_users,
                                 dt_error *err)
{
    snapshots_ctx c = { seq, files, n, max_users };
    return dt_sql_txn(s, snapshots_body, &c, err);
}
