/*
 * fuzz_kdump.c — libFuzzer target for the kernel dump stack: header,
 * full/bitmap layouts, triage tables, KDBG, address spaces, thread
 * extraction, captured -mk CONTEXTs, pending IRPs and their file, device
 * and driver objects (model/kernel_irp.c), ALPC waits (model/kernel_alpc.c:
 * message, port, object-header names, server process, receive wait lists),
 * stack scans, the JSON/text report, and triage of the kernel part alone
 * (io_wait.c reads irps[], wait_graph.c the alpc objects).
 * Seeds: tests/data/kernel (fuzz_kdump.dirs), the synthesized -mk dump
 * of the paired case with its captured CONTEXT and console IRP, and the
 * synthesized ALPC dump of tests/unit/test_kernel_alpc.c (b8771443…: written
 * with DT_KW_SEED_DIR set).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "analysis/analysis.h"
#include "model/kernel_dump.h"
#include "report/kernel_report.h"
#include "triage/triage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static dt_rules rules;
    static bool have_rules;
    if (!have_rules) {
        dt_error rerr = { 0 };
        have_rules = dt_rules_default(&rules, &rerr) == DT_OK;
    }
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
        if (have_rules) {
            dt_triage_options topt = { .rules = &rules };
            cJSON *tri = NULL;
            if (dt_triage_build(NULL, r, &topt, &tri, &err) == DT_OK)
                cJSON_Delete(tri);
        }
        cJSON_Delete(r);
    }
    return 0;
}
