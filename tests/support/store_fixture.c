/*
 * store_fixture.c — see store_fixture.h.
 */
#include "store_fixture.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "db.h"

/* A new PostgreSQL database on the test's server; its URL in db.  Check
 * forks a child per test, so the pid tells tests apart and the counter the
 * stores of one test. */
static void fresh_pg_database(const char *sock, const char *tag, char *db, size_t dbcap)
{
    static int n;
    char admin[600], name[96], sql[160];
    snprintf(admin, sizeof admin, "postgresql://dt@/postgres?host=%s", sock);
    snprintf(name, sizeof name, "dt_%s_%ld_%d", tag, (long)getpid(), ++n);
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", name);
    dt_error err = { 0 };
    dt_db *a = dt_db_open(admin, &err);
    ck_assert_msg(a != NULL, "connect: %s", err.message);
    ck_assert_msg(dt_db_exec(a, sql, &err) == DT_OK, "%s", err.message);
    dt_db_close(a);
    snprintf(db, dbcap, "postgresql://dt@/%s?host=%s", name, sock);
}

void dt_test_store_target(const char *tag, char *dir, size_t dircap, char *db, size_t dbcap)
{
    snprintf(dir, dircap, "/tmp/dt-test-%s.XXXXXX", tag);
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(db, dbcap, "%s/db.sqlite", dir);
    if (getenv("DT_TEST_PG_SOCK"))
        fresh_pg_database(getenv("DT_TEST_PG_SOCK"), tag, db, dbcap);
}

void dt_test_migrations_dir(char *mig, size_t cap)
{
    snprintf(mig, cap, "%s/migrations", getenv("DT_SOURCE_DIR") ? getenv("DT_SOURCE_DIR") : ".");
}

dt_store *dt_test_store_fresh(const char *tag, char *dir, size_t dircap, char *db, size_t dbcap)
{
    dt_test_store_target(tag, dir, dircap, db, dbcap);
    char mig[1024];
    dt_test_migrations_dir(mig, sizeof mig);
    dt_error err = { 0 };
    dt_store *s = dt_store_open(db, mig, &err);
    ck_assert_msg(s != NULL, "open: %s", err.message);
    return s;
}

void dt_test_store_remove(dt_store *s, const char *dir)
{
    dt_store_close(s);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}
