/*
 * fuzz_kdump.c — libFuzzer target for the kernel dump stack: header,
 * full/bitmap layouts, triage tables, KDBG, address spaces, thread
 * extraction, stack scans and the JSON/text report, on arbitrary bytes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "analysis/analysis.h"
#include "model/kernel_dump.h"
#include "report/kernel_report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dt_kernel_options o = { 0 };
    o.max_threads = 64;
    o.max_frames = 64;
    dt_error err = { 0 };
    cJSON *r = dt_analyze_kernel_view(dt_view_make(data, size), &o, NULL, &err);
    if (r) {
        FILE *devnull = fopen("/dev/null", "w");
        if (devnull) {
            dt_kernel_report_text(r, devnull);
            fclose(devnull);
        }
        cJSON_Delete(r);
    }
    return 0;
}
