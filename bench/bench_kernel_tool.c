/*
 * bench_kernel_tool.c — helper for bench/bench_kernel.sh (not part of the
 * product): `gen OUT EXTRA_PAGES` writes a synthetic bitmap kernel dump
 * whose bitmap also declares EXTRA_PAGES more present pages (a sparse,
 * multi-GB file); `analyze FILE` runs the full kernel analysis and prints
 * the counts, so /usr/bin/time can measure time and peak RSS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mapped_file.h"
#include "kdump_writer.h"
#include "report/kernel_report.h"

static const uint64_t frames[] = { DT_KW_NT_BASE + 0x3f1000, DT_KW_NT_BASE + 0x2b0a10, DT_KW_DRV_BASE + 0x1100,
                                   DT_KW_NT_BASE + 0x3fd0d8 };
static const dt_kw_thread threads[] = {
    { 0x24, 5, 6, 1, false, 100, 0, frames, 4, -1, 2, 0x28 },
    { 0x28, 5, 4, 1, true, 200, 0, frames, 4, -1, 1, 0 },
    { 0x2c, 2, 0, 0, false, 0, 0, frames, 4, 0, 0, 0 },
};
static const dt_kw_process procs[] = { { 4, "System", threads, 1 }, { 0x20, "hello_block.ex", threads, 3 } };

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "gen") == 0) {
        dt_kw_system s = { 19041, 2, 0x161, { 0 }, 0x10, procs, 2, 1, 0 };
        dt_kw_physical o = { DT_KW_BITMAP_KERNEL, true, true, strtoull(argv[3], NULL, 0) };
        return dt_kw_write_physical(&s, &o, argv[2]) == 0 ? 0 : 1;
    }
    if (argc == 3 && strcmp(argv[1], "analyze") == 0) {
        dt_mapped_file f;
        dt_error err = { 0 };
        if (dt_mapped_file_open(&f, argv[2], &err) != DT_OK) {
            fprintf(stderr, "%s\n", err.message);
            return 1;
        }
        cJSON *r = dt_kernel_analyze_view(f.view, NULL, &err);
        if (!r) {
            fprintf(stderr, "%s\n", err.message);
            return 1;
        }
        printf("threads=%d drivers=%d\n", cJSON_GetArraySize(cJSON_GetObjectItem(r, "threads")),
               cJSON_GetArraySize(cJSON_GetObjectItem(r, "drivers")));
        cJSON_Delete(r);
        dt_mapped_file_close(&f);
        return 0;
    }
    fprintf(stderr, "usage: bench_kernel_tool gen OUT EXTRA_PAGES | analyze FILE\n");
    return 2;
}
