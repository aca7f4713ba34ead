/*
 * analyze.c — `dumptriage analyze`: the command line of one analysis.
 *
 * Everything but the arguments and the printing is dt_analyze's
 * (analysis/analysis.h): the document is built once, as JSON
 * (docs/report.md), and the text output is rendered from it
 * (report/report_text.h).  Files given without --user/--kernel are routed by
 * their contents.
 *
 * Exit statuses (cli.h): 0 report printed (possibly with warnings), 1 no
 * usable input (one line on stderr), 2 usage error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "analysis/analysis.h"
#include "analysis/series.h"
#include "cli/cli.h"
#include "report/report_text.h"
#include "report/series_report.h"

#define MAX_SYMBOL_DIRS 32

/* What the command line asked for.  symbol_dirs are kept for the symbol
 * layer (in order of preference); the strings belong to argv. */
typedef struct {
    bool text;
    const char *user_path;
    const char *kernel_path;
    const char *symbol_dirs[MAX_SYMBOL_DIRS];
    size_t nsymbol_dirs;
    const char *rules_path;
    bool allow_mismatch;
    /* --series: every dump file is a snapshot (analysis/series.h). */
    bool series;
    const char *series_paths[DT_SERIES_MAX];
    size_t nseries_paths;
    const char *series_kernels[DT_SERIES_MAX];
    size_t nseries_kernels;
} analyze_options;

static void usage(FILE *to)
{
    fprintf(to,
            "usage: dumptriage analyze [options] FILE...\n"
            "\n"
            "Analyzes a user-mode minidump (MDMP) and/or a kernel dump and prints a report.\n"
            "FILEs are routed by content (gzip-compressed files are accepted); --user and\n"
            "--kernel name the role explicitly.\n"
            "\n"
            "options:\n"
            "  --format json|text   output format (default json)\n"
            "  --user FILE          the user-mode minidump\n"
            "  --kernel FILE        the kernel dump (MEMORY.DMP, triage or procdump -mk)\n"
            "  --symbols PATH       symbol directory (symstore layout or flat) or symbol path in\n"
            "                       _NT_SYMBOL_PATH syntax (srv*CACHE*URL;DIR;…); repeatable.\n"
            "                       Also read from DUMPTRIAGE_SYMBOL_PATH\n"
            "  --rules FILE         triage rules replacing the built-in ones (docs/triage.md)\n"
            "  --allow-mismatch     pair a user and a kernel dump even when no process of the\n"
            "                       kernel dump has the user dump's pid (with --series: also\n"
            "                       compare snapshots of different processes)\n"
            "  --series             FILEs are several dumps of one hang (procdump -n 3): compare\n"
            "                       them thread by thread (ordered by dump time; kernel dumps\n"
            "                       pair with X.dmp by the name X.Kernel.dmp, else in order)\n"
            "  -h, --help           this help\n"
            "\n"
            "exit status: 0 report printed (it may carry warnings), 1 no usable input\n"
            "(the reason is one line on stderr), 2 usage error\n");
}

/* Returns DT_EXIT_OK, or DT_EXIT_USAGE after printing why. */
static int parse_args(int argc, char **argv, analyze_options *o, bool *help)
{
    const char *plain[2] = { NULL, NULL };
    size_t nplain = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            *help = true;
            return DT_EXIT_OK;
        }
        if (strncmp(a, "--format=", 9) == 0) {
            val = a + 9;
            a = "--format";
        } else if (strcmp(a, "--allow-mismatch") == 0) {
            o->allow_mismatch = true;
            continue;
        } else if (strcmp(a, "--series") == 0) {
            o->series = true;
            continue;
        } else if (strcmp(a, "--format") == 0 || strcmp(a, "--user") == 0 ||
                   strcmp(a, "--kernel") == 0 || strcmp(a, "--symbols") == 0 ||
                   strcmp(a, "--rules") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "dumptriage analyze: %s needs a value\n", a);
                return DT_EXIT_USAGE;
            }
            val = argv[++i];
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "dumptriage analyze: unknown option '%s'\n", a);
            return DT_EXIT_USAGE;
        } else if (o->series) {
            if (o->nseries_paths == DT_SERIES_MAX) {
                fprintf(stderr, "dumptriage analyze: at most %d snapshots\n", DT_SERIES_MAX);
                return DT_EXIT_USAGE;
            }
            o->series_paths[o->nseries_paths++] = a;
            continue;
        } else {
            if (nplain == 2) {
                fprintf(stderr, "dumptriage analyze: at most two dump files (one user, one kernel)\n");
                return DT_EXIT_USAGE;
            }
            plain[nplain++] = a;
            continue;
        }
        if (strcmp(a, "--format") == 0) {
            if (strcmp(val, "json") == 0)
                o->text = false;
            else if (strcmp(val, "text") == 0)
                o->text = true;
            else {
                fprintf(stderr, "dumptriage analyze: --format must be json or text\n");
                return DT_EXIT_USAGE;
            }
        } else if (o->series && (strcmp(a, "--user") == 0 || strcmp(a, "--kernel") == 0)) {
            bool k = strcmp(a, "--kernel") == 0;
            size_t *n = k ? &o->nseries_kernels : &o->nseries_paths;
            if (*n == DT_SERIES_MAX) {
                fprintf(stderr, "dumptriage analyze: at most %d snapshots\n", DT_SERIES_MAX);
                return DT_EXIT_USAGE;
            }
            (k ? o->series_kernels : o->series_paths)[(*n)++] = val;
        } else if (strcmp(a, "--user") == 0) {
            if (o->user_path) {
                fprintf(stderr, "dumptriage analyze: only one user dump\n");
                return DT_EXIT_USAGE;
            }
            o->user_path = val;
        } else if (strcmp(a, "--kernel") == 0) {
            if (o->kernel_path) {
                fprintf(stderr, "dumptriage analyze: only one kernel dump\n");
                return DT_EXIT_USAGE;
            }
            o->kernel_path = val;
        } else if (strcmp(a, "--rules") == 0) {
            o->rules_path = val;
        } else if (strcmp(a, "--symbols") == 0) {
            if (o->nsymbol_dirs == MAX_SYMBOL_DIRS) {
                fprintf(stderr, "dumptriage analyze: at most %d --symbols\n", MAX_SYMBOL_DIRS);
                return DT_EXIT_USAGE;
            }
            o->symbol_dirs[o->nsymbol_dirs++] = val;
        }
    }
    if (o->series) {
        if (nplain || o->user_path || o->kernel_path) {
            fprintf(stderr, "dumptriage analyze: --series must come before the dump files\n");
            return DT_EXIT_USAGE;
        }
        if (o->nseries_paths == 0) {
            fprintf(stderr, "dumptriage analyze: --series needs dump files\n");
            return DT_EXIT_USAGE;
        }
        return DT_EXIT_OK;
    }
    if (nplain == 0 && !o->user_path && !o->kernel_path) {
        fprintf(stderr, "dumptriage analyze: no dump file given\n");
        return DT_EXIT_USAGE;
    }
    /* Plain files are routed later, by content; remember them in order. */
    for (size_t i = 0; i < nplain; i++) {
        if (!o->user_path && !o->kernel_path && i == 0 && nplain == 1) {
            o->user_path = plain[i]; /* provisional, checked by sniffing */
            continue;
        }
        if (!o->user_path)
            o->user_path = plain[i];
        else if (!o->kernel_path)
            o->kernel_path = plain[i];
        else {
            fprintf(stderr, "dumptriage analyze: too many dump files\n");
            return DT_EXIT_USAGE;
        }
    }
    return DT_EXIT_OK;
}

int dt_cli_analyze(int argc, char **argv)
{
    analyze_options o;
    memset(&o, 0, sizeof o);
    bool help = false;
    int rc = parse_args(argc, argv, &o, &help);
    if (help) {
        usage(stdout);
        return DT_EXIT_OK;
    }
    if (rc != DT_EXIT_OK) {
        usage(stderr);
        return rc;
    }
    dt_analysis_request req = {
        .user_path = o.user_path,
        .kernel_path = o.kernel_path,
        .route_by_content = true,
        .symbol_paths = o.symbol_dirs,
        .nsymbol_paths = o.nsymbol_dirs,
        .rules_path = o.rules_path,
        .allow_mismatch = o.allow_mismatch,
    };
    cJSON *doc = NULL;
    dt_error err = { 0 };
    dt_series_request sreq = {
        .paths = o.series_paths,
        .npaths = o.nseries_paths,
        .kernel_paths = o.series_kernels,
        .nkernel_paths = o.nseries_kernels,
        .symbol_paths = o.symbol_dirs,
        .nsymbol_paths = o.nsymbol_dirs,
        .rules_path = o.rules_path,
        .allow_mismatch = o.allow_mismatch,
    };
    if (o.series ? dt_analyze_series(&sreq, &doc, &err) != DT_OK : dt_analyze(&req, &doc, &err) != DT_OK) {
        fprintf(stderr, "dumptriage: %s\n", err.message);
        return DT_EXIT_UNUSABLE;
    }
    if (o.text) {
        dt_series_report_text(doc, stdout); /* nothing without --series */
        dt_report_text(doc, stdout);
    } else {
        char *s = cJSON_Print(doc);
        if (!s) {
            fprintf(stderr, "dumptriage: out of memory printing the report\n");
            rc = DT_EXIT_UNUSABLE;
        } else {
            fputs(s, stdout);
            fputc('\n', stdout);
            free(s);
        }
    }
    cJSON_Delete(doc);
    return rc;
}
