/*
 * fuzz_handles.c — libFuzzer target for the HandleData reader
 * (minidump_streams.c descriptors, minidump_handles.c object-information
 * chains), with no report: building one made a JSON object per handle and
 * held the target to ~1 600 executions a second; the report's handles
 * member is reached by fuzz_minidump.  The input becomes the only
 * stream of a minimal MDMP (header + one directory entry at offset 32, the
 * stream at offset 44), so descriptor counts and sizes, ObjectInfoRva chains,
 * their loops and sizes are all under the fuzzer's control; RVAs are file
 * offsets (the stream's byte i is at RVA 44 + i).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/minidump.h"

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
        /* Names are decoded from at most twice the file (minidump.c's string
         * budget): more means a shared or overlapping RVA was decoded again
         * and again, a hostile file's way to a gigabyte of names. */
        size_t names = 0;
        for (size_t i = 0; i < md->nhandles; i++) {
            const dt_md_handle *h = &md->handles[i];
            if (h->has_event && h->event_type > 1)
                abort(); /* the reader accepts only the two EVENT_TYPEs */
            names += (h->type_name ? strlen(h->type_name) : 0) + (h->object_name ? strlen(h->object_name) : 0);
        }
        if (names > 3 * (2 * total + 65536) / 2)
            abort(); /* UTF-16 to UTF-8: at most 3 bytes per 2 */
        dt_minidump_free(md);
    }
    free(f);
    return 0;
}
