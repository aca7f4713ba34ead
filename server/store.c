/*
 * store.c — opening the SQLite database, applying migrations, and the small
 * helpers every store*.c file uses.
 *
 * Migrations are plain files migrations/NNN_name.sql.  At start each file whose
 * number is not yet in schema_migrations is run in its own transaction together
 * with the row recording it, so a crash in the middle leaves either the old or
 * the new schema, never half of one.
 */
#include "store_internal.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secrets.h"

const char *dt_role_name(dt_role role)
{
    switch (role) {
    case DT_ROLE_STAFF: return "staff";
    case DT_ROLE_UPLOADER: return "uploader";
    default: return "anonymous";
    }
}

sqlite3_stmt *dt_sql_prepare(dt_store *s, const char *sql, dt_error *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
        dt_error_set(err, DT_ERR_IO, "sql: %s", sqlite3_errmsg(s->db));
        return NULL;
    }
    return st;
}

dt_status dt_sql_exec(dt_store *s, const char *sql, dt_error *err)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        dt_error_set(err, DT_ERR_IO, "sql: %s", msg ? msg : sqlite3_errmsg(s->db));
        sqlite3_free(msg);
        return DT_ERR_IO;
    }
    return DT_OK;
}

dt_status dt_sql_fail(dt_store *s, dt_error *err, const char *what)
{
    if (err && err->message[0])
        return err->code ? err->code : DT_ERR_IO;
    return dt_error_set(err, DT_ERR_IO, "%s: %s", what, sqlite3_errmsg(s->db));
}

dt_status dt_sql_txn(dt_store *s, dt_sql_txn_body body, void *ctx, dt_error *err)
{
    dt_status rc = dt_sql_exec(s, "BEGIN IMMEDIATE", err);
    if (rc != DT_OK)
        return rc;
    rc = body(s, ctx, err);
    if (rc == DT_OK)
        rc = dt_sql_exec(s, "COMMIT", err);
    if (rc != DT_OK) {
        /* A failed COMMIT may leave the transaction open (SQLITE_BUSY):
         * roll back in every failure case so the connection is reusable. */
        if (!sqlite3_get_autocommit(s->db))
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        if (err && !err->message[0])
            dt_error_set(err, rc, "transaction failed: %s", sqlite3_errmsg(s->db));
    }
    return rc;
}

void dt_sql_bind_text(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

void dt_sql_column_copy(sqlite3_stmt *st, int i, char *buf, size_t len)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    snprintf(buf, len, "%s", t ? (const char *)t : "");
}

cJSON *dt_sql_column_json(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? cJSON_CreateString((const char *)t) : cJSON_CreateNull();
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *read_small_file(const char *path, size_t limit)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(limit + 1);
    size_t n = buf ? fread(buf, 1, limit, f) : 0;
    int too_big = buf && n == limit && fgetc(f) != EOF;
    fclose(f);
    if (!buf || too_big) {
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    return buf;
}

typedef struct {
    long version;
    const char *name, *sql;
} migration_step;

/* One migration and the row recording it (inside dt_sql_txn). */
static dt_status apply_migration(dt_store *s, void *ctx, dt_error *err)
{
    const migration_step *m = ctx;
    if (dt_sql_exec(s, m->sql, err) != DT_OK)
        return DT_ERR_IO;
    sqlite3_stmt *st = dt_sql_prepare(s, "INSERT INTO schema_migrations(version, name, applied_at) VALUES (?,?,?)", err);
    if (!st)
        return DT_ERR_IO;
    sqlite3_bind_int64(st, 1, m->version);
    dt_sql_bind_text(st, 2, m->name);
    sqlite3_bind_int64(st, 3, dt_now());
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? DT_OK : dt_sql_fail(s, err, "cannot record migration");
}

static dt_status migrate(dt_store *s, const char *dir, dt_error *err)
{
    if (dt_sql_exec(s, "CREATE TABLE IF NOT EXISTS schema_migrations ("
                       " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
                    err) != DT_OK)
        return DT_ERR_IO;
    DIR *d = opendir(dir);
    if (!d) {
        return dt_error_set(err, DT_ERR_IO, "cannot open migrations directory %s", dir);
    }
    char *names[256];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 256) {
        size_t len = strlen(e->d_name);
        if (len > 4 && strcmp(e->d_name + len - 4, ".sql") == 0 && e->d_name[0] >= '0' && e->d_name[0] <= '9')
            names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof names[0], cmp_names);
    dt_status rc = DT_OK;
    for (size_t i = 0; i < n && rc == DT_OK; i++) {
        if (!names[i]) {
            rc = dt_error_set(err, DT_ERR_NOMEM, "out of memory");
            break;
        }
        long version = strtol(names[i], NULL, 10);
        sqlite3_stmt *st = dt_sql_prepare(s, "SELECT 1 FROM schema_migrations WHERE version = ?", err);
        if (!st) {
            rc = DT_ERR_IO;
            break;
        }
        sqlite3_bind_int64(st, 1, version);
        int applied = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_finalize(st);
        if (applied)
            continue;
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        char *sql = read_small_file(path, 1 << 20);
        if (!sql) {
            rc = dt_error_set(err, DT_ERR_IO, "cannot read migration %s", path);
            break;
        }
        migration_step m = { version, names[i], sql };
        rc = dt_sql_txn(s, apply_migration, &m, err);
        free(sql);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    return rc;
}

dt_store *dt_store_open(const char *path, const char *migrations_dir, dt_error *err)
{
    dt_store *s = calloc(1, sizeof *s);
    if (!s) {
        dt_error_set(err, DT_ERR_NOMEM, "out of memory");
        return NULL;
    }
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL)
        != SQLITE_OK) {
        dt_error_set(err, DT_ERR_IO, "cannot open database %s: %s", path,
                     s->db ? sqlite3_errmsg(s->db) : "out of memory");
        dt_store_close(s);
        return NULL;
    }
    sqlite3_busy_timeout(s->db, 15000);
    /* WAL: readers never block the writer; synchronous=FULL: a commit that
     * returned is on disk, so a 202 is never lost to a crash. */
    if (dt_sql_exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;", err) != DT_OK
        || (migrations_dir && migrate(s, migrations_dir, err) != DT_OK)) {
        dt_store_close(s);
        return NULL;
    }
    return s;
}

void dt_store_close(dt_store *s)
{
    if (!s)
        return;
    sqlite3_close_v2(s->db);
    free(s);
}

int dt_store_migration_count(dt_store *s)
{
    sqlite3_stmt *st = dt_sql_prepare(s, "SELECT COUNT(*) FROM schema_migrations", NULL);
    int n = -1;
    if (st && sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return n;
}
