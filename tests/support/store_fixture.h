/*
 * store_fixture.h — test-only: a fresh, migrated store for one test.  SQLite
 * in a new temporary directory, or, when the test runs under
 * DT_TEST_PG_SOCK (the *_pg twins, a PostgreSQL the test script started), a
 * new database on that server — so the store tests run unchanged on both
 * engines.  Shared by test_store*.c.
 */
#ifndef DT_TEST_STORE_FIXTURE_H
#define DT_TEST_STORE_FIXTURE_H

#include <stddef.h>

#include "store.h"

/* Makes /tmp/dt-test-TAG.XXXXXX (into dir) and the store's target (into
 * db: the SQLite file there or a new, empty PostgreSQL database
 * dt_TAG_PID_N); fails the test on any error. */
void dt_test_store_target(const char *tag, char *dir, size_t dircap, char *db, size_t dbcap);

/* The source tree's migrations directory (DT_SOURCE_DIR/migrations). */
void dt_test_migrations_dir(char *mig, size_t cap);

/* dt_test_store_target, then the store opened (migrated) and returned. */
dt_store *dt_test_store_fresh(const char *tag, char *dir, size_t dircap, char *db, size_t dbcap);

/* Closes s and removes dir. */
void dt_test_store_remove(dt_store *s, const char *dir);

#endif
