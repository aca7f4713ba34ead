/*
 * store.c — opening the store (a SQLite file or a PostgreSQL database, db.h),
 * applying migrations, and the small helpers every store*.c file uses.
 *
 * Migrations are plain files: migrations/NNN_name.sql for SQLite and
 * migrations/postgresql/NNN_name.sql for PostgreSQL, one history per engine
 * with the same numbers (docs/server.md).  At start each file whose number
 * is not yet in schema_migrations is run in its own transaction together
 * with the row recording it, so a crash in the middle leaves either the old
 * or the new schema, never half of one.  On PostgreSQL several servers and
 * workers may start at once: they apply the migrations one after the other
 * under a session advisory lock, so each file runs once.
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

dt_stmt *dt_sql_prepare(dt_store *s, const char *sql, dt_error *err)
{
    return dt_db_prepare(s->db, sql, err);
}

dt_status dt_sql_exec(dt_store *s, const char *sql, dt_error *err)
{
    return dt_db_exec(s->db, sql, err);
}

dt_status dt_sql_fail(dt_store *s, dt_error *err, const char *what)
{
    if (err && err->message[0])
        return err->code ? err->code : DT_ERR_IO;
    return dt_error_set(err, DT_ERR_IO, "%s: %s", what, dt_db_errmsg(s->db));
}

typedef struct {
    dt_store *s;
    dt_sql_txn_body body;
    void *ctx;
} txn_call;

static dt_status txn_trampoline(void *p, dt_error *err)
{
    txn_call *c = p;
    return c->body(c->s, c->ctx, err);
}

dt_status dt_sql_txn(dt_store *s, dt_sql_txn_body body, void *ctx, dt_error *err)
{
    txn_call c = { s, body, ctx };
    return dt_db_transaction(s->db, txn_trampoline, &c, err);
}

dt_status dt_sql_insert_id(dt_store *s, dt_stmt *st, int64_t *id, dt_error *err, const char *what)
{
    int rc = dt_stmt_step(st);
    if (rc == DT_DB_ROW)
        *id = dt_stmt_int64(st, 0);
    dt_stmt_finalize(st);
    return rc == DT_DB_ROW ? DT_OK : dt_sql_fail(s, err, what);
}

void dt_sql_bind_text(dt_stmt *st, int i, const char *v)
{
    dt_stmt_bind_text(st, i, v);
}

void dt_sql_column_copy(dt_stmt *st, int i, char *buf, size_t len)
{
    const char *t = dt_stmt_text(st, i);
    snprintf(buf, len, "%s", t ? t : "");
}

cJSON *dt_sql_column_json(dt_stmt *st, int i)
{
    const char *t = dt_stmt_text(st, i);
    return t ? cJSON_CreateString(t) : cJSON_CreateNull();
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

/* One migration and the row recording it (inside dt_sql_txn).  Checked
 * again inside the transaction: on SQLite, BEGIN IMMEDIATE makes processes
 * starting together take turns here, and the second finds the first's row. */
static dt_status apply_migration(dt_store *s, void *ctx, dt_error *err)
{
    const migration_step *m = ctx;
    dt_stmt *st = dt_sql_prepare(s, "SELECT 1 FROM schema_migrations WHERE version = ?", err);
    if (!st)
        return DT_ERR_IO;
    dt_stmt_bind_int64(st, 1, m->version);
    int applied = dt_stmt_step(st) == DT_DB_ROW;
    dt_stmt_finalize(st);
    if (applied)
        return DT_OK;
    if (dt_sql_exec(s, m->sql, err) != DT_OK)
        return DT_ERR_IO;
    st = dt_sql_prepare(s, "INSERT INTO schema_migrations(version, name, applied_at) VALUES (?,?,?)", err);
    if (!st)
        return DT_ERR_IO;
    dt_stmt_bind_int64(st, 1, m->version);
    dt_sql_bind_text(st, 2, m->name);
    dt_stmt_bind_int64(st, 3, dt_now());
    int rc = dt_stmt_step(st);
    dt_stmt_finalize(st);
    return rc == DT_DB_DONE ? DT_OK : dt_sql_fail(s, err, "cannot record migration");
}

/* Any number that no other user of the database locks with. */
#define MIGRATION_LOCK_KEY "7310580012"

static dt_status migrate_locked(dt_store *s, const char *dir, dt_error *err)
{
    if (dt_sql_exec(s, DT_STORE_PG(s)
                           ? "CREATE TABLE IF NOT EXISTS schema_migrations ("
                             " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)"
                           : "CREATE TABLE IF NOT EXISTS schema_migrations ("
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
        dt_stmt *st = dt_sql_prepare(s, "SELECT 1 FROM schema_migrations WHERE version = ?", err);
        if (!st) {
            rc = DT_ERR_IO;
            break;
        }
        dt_stmt_bind_int64(st, 1, version);
        int applied = dt_stmt_step(st) == DT_DB_ROW;
        dt_stmt_finalize(st);
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

static dt_status migrate(dt_store *s, const char *dir, dt_error *err)
{
    if (!DT_STORE_PG(s))
        return migrate_locked(s, dir, err);
    char pgdir[2048];
    snprintf(pgdir, sizeof pgdir, "%s/postgresql", dir);
    /* Held for the session: released below, or by the server when this
     * process dies, so a crashed start never blocks the others. */
    if (dt_sql_exec(s, "SELECT pg_advisory_lock(" MIGRATION_LOCK_KEY ")", err) != DT_OK)
        return DT_ERR_IO;
    dt_status rc = migrate_locked(s, pgdir, err);
    dt_sql_exec(s, "SELECT pg_advisory_unlock(" MIGRATION_LOCK_KEY ")", NULL);
    return rc;
}

dt_store *dt_store_open(const char *target, const char *migrations_dir, dt_error *err)
{
    dt_store *s = calloc(1, sizeof *s);
    if (!s) {
        dt_error_set(err, DT_ERR_NOMEM, "out of memory");
        return NULL;
    }
    s->db = dt_db_open(target, err);
    if (!s->db || (migrations_dir && migrate(s, migrations_dir, err) != DT_OK)) {
        dt_store_close(s);
        return NULL;
    }
    return s;
}

bool dt_store_is_shared(dt_store *s)
{
    return DT_STORE_PG(s);
}

bool dt_store_target_is_shared(const char *target)
{
    return dt_db_target_is_pg(target);
}

void dt_store_close(dt_store *s)
{
    if (!s)
        return;
    dt_db_close(s->db);
    free(s);
}

int dt_store_migration_count(dt_store *s)
{
    dt_stmt *st = dt_sql_prepare(s, "SELECT COUNT(*) FROM schema_migrations", NULL);
    int n = -1;
    if (st && dt_stmt_step(st) == DT_DB_ROW)
        n = (int)dt_stmt_int64(st, 0);
    dt_stmt_finalize(st);
    return n;
}
