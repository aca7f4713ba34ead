/*
 * store_internal.h — what the store*.c files share: the connection struct and
 * small statement helpers.  Not for use outside the store.
 */
#ifndef DT_SERVER_STORE_INTERNAL_H
#define DT_SERVER_STORE_INTERNAL_H

#include <sqlite3.h>

#include "store.h"

struct dt_store {
    sqlite3 *db;
};

/* Prepared statement or NULL (with err set if err is non-NULL). */
sqlite3_stmt *dt_sql_prepare(dt_store *s, const char *sql, dt_error *err);
/* Runs SQL text without results; 0 ok, -1 (err set). */
int dt_sql_exec(dt_store *s, const char *sql, dt_error *err);
/* Binds text or NULL. */
void dt_sql_bind_text(sqlite3_stmt *st, int i, const char *v);
/* Column text copied into buf (empty string for NULL). */
void dt_sql_column_copy(sqlite3_stmt *st, int i, char *buf, size_t len);
/* A JSON string or null for a text column. */
cJSON *dt_sql_column_json(sqlite3_stmt *st, int i);

#endif
