/*
 * fuzz_kdump_header.c — libFuzzer target for the kernel dump readers below
 * the model: the DUMP_HEADER64/32 and its physical layout (runs or bitmap,
 * truncation), page lookups through that layout, the triage dump's tables
 * (TRIAGE_DUMP header, drivers, unloaded drivers, string pool, data
 * blocks, KDBG copy) and the KDDEBUGGER_DATA64 decoder, plain and after the
 * Win8+ decoding.  No address space, thread walk or report: fuzz_kdump
 * (the whole stack) spends its time there; this one reaches the headers
 * thousands of times a second (docs/fuzzing.md).
 * Seeds: tests/data/kernel (fuzz_kdump_header.dirs).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/kdbg.h"
#include "formats/kdump.h"
#include "formats/kdump_triage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dt_view file = dt_view_make(data, size);
    dt_warnings w = { 0 };
    dt_kdump kd;
    memset(&kd, 0, sizeof kd);
    if (dt_kdump_parse(file, &kd, &w, NULL) == DT_OK) {
        /* The first and last pages of each run, and a few bitmap pages:
         * a page pointer must lie wholly inside the file. */
        for (size_t i = 0; i < kd.run_count && i < 64; i++) {
            uint64_t pfns[2] = { kd.runs[i].base_page, kd.runs[i].base_page + kd.runs[i].page_count - 1 };
            for (int j = 0; j < 2; j++) {
                const uint8_t *p = dt_kdump_phys_page(&kd, file, pfns[j]);
                if (p && (p < data || p + 4096 > data + size))
                    abort();
            }
        }
        for (uint64_t pfn = 0; pfn < kd.bitmap_bits && pfn < 4096; pfn += 97) {
            const uint8_t *p = dt_kdump_phys_page(&kd, file, pfn);
            if (p && (p < data || p + 4096 > data + size))
                abort();
        }
        dt_kdump_type_name(kd.dump_type);
        dt_bugcheck_name(kd.bugcheck_code);
        if (kd.is64 && kd.dump_type == DT_KDUMP_TYPE_TRIAGE) {
            dt_kdump_triage t;
            memset(&t, 0, sizeof t);
            dt_kdump_triage_parse(file, &kd, &t, &w, NULL);
            dt_kdump_triage_free(&t); /* also after a failure: what it kept */
        }
    }
    dt_kdump_free(&kd); /* also after a failure, as the model does */
    dt_warnings_free(&w);

    /* KDDEBUGGER_DATA64 anywhere: as is, and decoded with keys taken from
     * the input's first bytes (the decode is the same for any key). */
    dt_kdbg k;
    dt_kdbg_parse(file, &k, NULL);
    if (size >= 24) {
        size_t n = (size - 24) & ~(size_t)7;
        if (n > 0x400)
            n = 0x400;
        uint8_t *buf = malloc(n ? n : 1);
        if (buf) {
            uint64_t keys[3];
            memcpy(keys, data, sizeof keys);
            memcpy(buf, data + 24, n);
            dt_kdbg_decode(buf, n, keys[0], keys[1], keys[2]);
            dt_kdbg_parse(dt_view_make(buf, n), &k, NULL);
            free(buf);
        }
    }
    return 0;
}
