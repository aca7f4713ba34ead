/*
 * fuzz_handles.c — libFuzzer target for the HandleData reader
 * (minidump_streams.c descriptors, minidump_handles.c object-information
 * chains) and the report's handles member.  The input becomes the only
 * stream of a minimal MDMP (header + one directory entry at offset 32, the
 * stream at offset 44), so descriptor counts and sizes, ObjectInfoRva chains,
 * their loops and sizes are all under the fuzzer's control; RVAs are file
 * offsets (the stream's byte i is at RVA 44 + i).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "formats/minidump.h"
#include "report/user_report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20))
        return 0;
    size_t total = 44 + size;
    uint8_t *f = calloc(1, total);
    if (!f)
        return 0;
    uint32_t v;
    memcpy(f, "MDMP", 4);
    v = 0xa793;
    memcpy(f + 4, &v, 4);
    v = 1;                 /* NumberOfStreams */
    memcpy(f + 8, &v, 4);
    v = 32;                /* StreamDirectoryRva */
    memcpy(f + 12, &v, 4);
    v = 12;                /* HandleDataStream */
    memcpy(f + 32, &v, 4);
    v = (uint32_t)size;
    memcpy(f + 36, &v, 4);
    v = 44;
    memcpy(f + 40, &v, 4);
    memcpy(f + 44, data, size);
    dt_minidump *md = NULL;
    if (dt_minidump_parse(dt_view_make(f, total), &md, NULL) == DT_OK) {
        for (size_t i = 0; i < md->nhandles; i++)
            if (md->handles[i].has_event && md->handles[i].event_type > 1)
                abort(); /* the reader accepts only the two EVENT_TYPEs */
        cJSON *u = dt_user_report(md);
        char *s = u ? cJSON_PrintUnformatted(u) : NULL;
        free(s);
        cJSON_Delete(u);
        dt_minidump_free(md);
    }
    free(f);
    return 0;
}
