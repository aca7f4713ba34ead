/*
 * report_upgrade.h — stored reports of older schema versions read as the
 * current one.
 *
 * The server keeps every report it produced; when the schema changes, the
 * stored documents are upgraded when read (not rewritten in the store), so
 * the pages and API clients see one schema and an old store needs no
 * migration run.  Re-analysis (POST /api/dumps/<id>/reanalyze) remains the
 * way to get what a newer analyzer adds beyond renamed keys.
 *
 *   1 → 2: kernel threads' "tid" is "thread_id", as for user threads.
 */
#ifndef DT_REPORT_REPORT_UPGRADE_H
#define DT_REPORT_REPORT_UPGRADE_H

#include <stdbool.h>

#include <cjson/cJSON.h>

/* The schema version dt_analyze writes (docs/report.md). */
#define DT_REPORT_SCHEMA_VERSION 2

/* Upgrades doc in place to DT_REPORT_SCHEMA_VERSION.  A document without a
 * schema_version, or of a newer one, is left as it is; returns true when
 * doc is (now) of the current version. */
bool dt_report_upgrade(cJSON *doc);

/* For stored report text: NULL when text needs no upgrade (the common
 * case, decided from the first bytes without parsing a report that may be
 * tens of MB), else the upgraded document printed (caller frees). */
char *dt_report_upgrade_text(const char *text);

#endif
