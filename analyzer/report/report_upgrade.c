/*
 * report_upgrade.c — dt_report_upgrade (report_upgrade.h): one function per
 * schema step, applied in order.
 */
#include "report/report_upgrade.h"

#include <stdlib.h>
#include <string.h>

/* 1 → 2: kernel threads name their id "thread_id" like user threads. */
static void upgrade_1_to_2(cJSON *doc)
{
    cJSON *kernel = cJSON_GetObjectItemCaseSensitive(doc, "kernel");
    cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(kernel, "threads")) {
        cJSON *tid = cJSON_DetachItemFromObjectCaseSensitive(t, "tid");
        if (tid && !cJSON_HasObjectItem(t, "thread_id"))
            cJSON_AddItemToObject(t, "thread_id", tid);
        else
            cJSON_Delete(tid);
    }
}

bool dt_report_upgrade(cJSON *doc)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, "schema_version");
    if (!cJSON_IsNumber(v) || v->valuedouble > DT_REPORT_SCHEMA_VERSION || v->valuedouble < 1)
        return false;
    if (v->valuedouble < 2)
        upgrade_1_to_2(doc);
    cJSON_SetNumberValue(v, DT_REPORT_SCHEMA_VERSION);
    return true;
}

/* The schema_version stated near the start of a printed document (dt_analyze
 * writes it first), or -1 when none is found there. */
static long stated_version(const char *text)
{
    const char *k = strstr(text, "\"schema_version\"");
    if (!k || k - text > 64)
        return -1;
    k += strlen("\"schema_version\"");
    while (*k == ' ' || *k == '\t' || *k == '\n' || *k == '\r' || *k == ':')
        k++;
    char *end;
    long v = strtol(k, &end, 10);
    return end == k ? -1 : v;
}

char *dt_report_upgrade_text(const char *text)
{
    long v = text ? stated_version(text) : -1;
    if (v < 1 || v >= DT_REPORT_SCHEMA_VERSION)
        return NULL;
    cJSON *doc = cJSON_Parse(text);
    char *out = doc && dt_report_upgrade(doc) ? cJSON_Print(doc) : NULL;
    cJSON_Delete(doc);
    return out;
}
