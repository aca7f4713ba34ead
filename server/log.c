/*
 * log.c — see log.h.  JSON lines so operators can feed them to any log
 * pipeline without a parser of our own.
 */
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t dt_log_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void dt_log_safe_path(const char *url, char *out, size_t len)
{
    if (!url)
        url = "";
    if (strncmp(url, "/v/", 3) == 0)
        url = "/v/-";
    snprintf(out, len, "%s", url);
}

void dt_log_event(const char *event, cJSON *o)
{
    if (!o)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[40], stamp[64];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(stamp, sizeof stamp, "%.32s.%03dZ", when, (int)(ts.tv_nsec / 1000000) % 1000);
    /* time and event first, so the lines read well unparsed; the caller's
     * members follow, moved over with their keys. */
    cJSON *line = cJSON_CreateObject();
    if (!line) {
        cJSON_Delete(o);
        return;
    }
    cJSON_AddStringToObject(line, "time", stamp);
    cJSON_AddStringToObject(line, "event", event);
    while (o->child)
        cJSON_AddItemToArray(line, cJSON_DetachItemViaPointer(o, o->child));
    cJSON_Delete(o);
    o = line;
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!text)
        return;
    size_t n = strlen(text);
    text[n] = '\n'; /* replaces the NUL; length known */
    flockfile(stderr);
    fwrite(text, 1, n + 1, stderr);
    fflush(stderr);
    funlockfile(stderr);
    free(text);
}
