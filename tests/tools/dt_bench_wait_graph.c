/*
 * dt_bench_wait_graph.c — what the wait graph (#15) adds to an analysis:
 * per dump, one whole analysis (dt_analyze), then the triage step rebuilt
 * from that report N times with and N times without the wait graph (same
 * process, same memory; interleaved, fastest of N), and the difference as a share of the analysis.
 * Used by bench/bench_wait_graph.sh; prints one TSV row per dump.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "analysis/analysis.h"
#include "base/mapped_file.h"
#include "formats/minidump.h"
#include "triage/rules.h"
#include "triage/triage.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s N SYMDIR DUMP...\n", argv[0]);
        return 2;
    }
    int n = atoi(argv[1]);
    const char *syms[] = { argv[2] };
    dt_rules rules;
    dt_error err = { 0 };
    if (dt_rules_default(&rules, &err) != DT_OK)
        return 1;
    printf("dump\tanalysis_ms\ttriage_with_ms\ttriage_without_ms\tgraph_share_of_analysis\n");
    for (int a = 3; a < argc; a++) {
        dt_analysis_request req = { .user_path = argv[a], .symbol_paths = syms, .nsymbol_paths = 1 };
        cJSON *rep = NULL;
        double t0 = now();
        if (dt_analyze(&req, &rep, &err) != DT_OK) {
            fprintf(stderr, "%s: %s\n", argv[a], err.message);
            continue;
        }
        double t_an = now() - t0;
        dt_mapped_file f;
        dt_minidump *md = NULL;
        if (dt_mapped_file_open(&f, argv[a], &err) != DT_OK || dt_minidump_parse(f.view, &md, &err) != DT_OK) {
            cJSON_Delete(rep);
            continue;
        }
        const cJSON *user = cJSON_GetObjectItem(rep, "user");
        /* Interleaved, one warm-up round, the fastest of n per variant:
         * the first triage of a dump pays for cold caches. */
        double t[2] = { 1e9, 1e9 };
        for (int i = 0; i <= n; i++)
            for (int with = 0; with < 2; with++) {
                dt_triage_options opt = { .rules = &rules, .user_memory = dt_minidump_addrspace(md),
                                          .no_wait_graph = !with };
                double s = now();
                cJSON *tri = NULL;
                if (dt_triage_build(user, NULL, &opt, &tri, &err) == DT_OK)
                    cJSON_Delete(tri);
                double d = now() - s;
                if (i > 0 && d < t[with])
                    t[with] = d;
            }
        printf("%s\t%.2f\t%.3f\t%.3f\t%.4f\n", argv[a], t_an * 1e3, t[1] * 1e3, t[0] * 1e3, (t[1] - t[0]) / t_an);
        dt_minidump_free(md);
        dt_mapped_file_close(&f);
        cJSON_Delete(rep);
    }
    dt_rules_free(&rules);
    return 0;
}
