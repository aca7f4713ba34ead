/*
 * analyze.c — `dumptriage analyze`: open the user dump and/or kernel dump,
 * parse them, and print one report document as JSON or text.
 *
 * The document is built once, as JSON ({"schema_version", "generator",
 * "inputs", "user", "kernel", "warnings"}; docs/report.md); the text output
 * is rendered from that JSON, never from the parsers, so the two cannot
 * disagree.  Files given without --user/--kernel are routed by their first
 * bytes (formats/sniff.h), after transparent gzip inflation.
 *
 * Exit statuses (cli.h): 0 report printed (possibly with warnings), 1 no
 * usable input (one line on stderr), 2 usage error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "formats/minidump.h"
#include "formats/sniff.h"
#include "base/mapped_file.h"
#include "base/json.h"
#include "report/kernel_report.h"
#include "symbols/symbolizer.h"
#include "report/user_report.h"
#include "report/user_stacks.h"
#include "symbols/symbolizer.h"
#include "triage/rules.h"
#include "triage/triage.h"

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
            "                       kernel dump has the user dump's pid\n"
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

/* Opens a file and classifies it (after gzip inflation). */
static int open_dump(const char *path, dt_mapped_file *f, dt_file_kind *kind)
{
    dt_error err = { 0 };
    if (dt_mapped_file_open(f, path, &err) != DT_OK) {
        fprintf(stderr, "dumptriage: %s: %s\n", path, err.message);
        return DT_EXIT_UNUSABLE;
    }
    *kind = dt_sniff(f->view.data, f->view.size);
    return DT_EXIT_OK;
}

static void copy_warnings(cJSON *to, const cJSON *section, const char *prefix)
{
    const cJSON *ws = cJSON_GetObjectItemCaseSensitive(section, "warnings");
    const cJSON *w;
    cJSON_ArrayForEach(w, ws) {
        if (!cJSON_IsString(w))
            continue;
        size_t n = strlen(prefix) + strlen(w->valuestring) + 3;
        char *s = malloc(n);
        if (!s)
            continue;
        snprintf(s, n, "%s: %s", prefix, w->valuestring);
        cJSON_AddItemToArray(to, cJSON_CreateString(s));
        free(s);
    }
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

    dt_mapped_file uf, kf;
    memset(&uf, 0, sizeof uf);
    memset(&kf, 0, sizeof kf);
    dt_file_kind ukind = DT_KIND_UNKNOWN, kkind = DT_KIND_UNKNOWN;
    if (o.user_path && (rc = open_dump(o.user_path, &uf, &ukind)) != DT_EXIT_OK)
        return rc;
    if (o.kernel_path && (rc = open_dump(o.kernel_path, &kf, &kkind)) != DT_EXIT_OK) {
        dt_mapped_file_close(&uf);
        return rc;
    }
    /* Plain arguments may have come in either order: route by content. */
    if (ukind == DT_KIND_KERNEL64 || ukind == DT_KIND_KERNEL32 || kkind == DT_KIND_MINIDUMP) {
        dt_mapped_file tf = uf;
        uf = kf;
        kf = tf;
        const char *tp = o.user_path;
        o.user_path = o.kernel_path;
        o.kernel_path = tp;
        dt_file_kind tk = ukind;
        ukind = kkind;
        kkind = tk;
    }
    rc = DT_EXIT_OK;
    if (o.user_path && ukind != DT_KIND_MINIDUMP) {
        fprintf(stderr, "dumptriage: %s: not a user-mode minidump (%s)\n", o.user_path,
                dt_file_kind_name(ukind));
        rc = DT_EXIT_UNUSABLE;
    } else if (o.kernel_path && kkind != DT_KIND_KERNEL64 && kkind != DT_KIND_KERNEL32) {
        fprintf(stderr, "dumptriage: %s: not a kernel dump (%s)\n", o.kernel_path,
                dt_file_kind_name(kkind));
        rc = DT_EXIT_UNUSABLE;
    }
    /* ---- KERNEL DUMPS (report/kernel_report.h) ------------------------- */
    cJSON *kernel = NULL;
    if (rc == DT_EXIT_OK && o.kernel_path) {
        dt_error kerr = { 0 };
        /* Symbols for kernel frames from the same --symbols directories; a
         * bad symbol path only costs the names. */
        dt_symbolizer *ksym = dt_symbolizer_new(o.symbol_dirs, o.nsymbol_dirs, NULL);
        kernel = dt_kernel_analyze_view_symbolized(kf.view, NULL, ksym, &kerr);
        const dt_warnings *ksw = ksym ? dt_symbolizer_warnings(ksym) : NULL;
        cJSON *kw = kernel ? cJSON_GetObjectItemCaseSensitive(kernel, "warnings") : NULL;
        for (size_t i = 0; cJSON_IsArray(kw) && ksw && i < ksw->count; i++) {
            char line[600];
            snprintf(line, sizeof line, "symbols: %s", ksw->items[i]);
            cJSON_AddItemToArray(kw, dt_json_str(line));
        }
        dt_symbolizer_free(ksym);
        if (!kernel) {
            fprintf(stderr, "dumptriage: %s: %s\n", o.kernel_path, kerr.message);
            rc = DT_EXIT_UNUSABLE;
        }
    }
    /* -------------------------------------------------------------------- */
    if (rc != DT_EXIT_OK) {
        dt_mapped_file_close(&uf);
        dt_mapped_file_close(&kf);
        return rc;
    }

    dt_minidump *md = NULL;
    dt_error err = { 0 };
    if (o.user_path && dt_minidump_parse(uf.view, &md, &err) != DT_OK) {
        fprintf(stderr, "dumptriage: %s: %s\n", o.user_path, err.message);
        cJSON_Delete(kernel);
        dt_mapped_file_close(&uf);
        dt_mapped_file_close(&kf);
        return DT_EXIT_UNUSABLE;
    }

    cJSON *doc = cJSON_CreateObject();
    cJSON *user = md ? dt_user_report(md) : NULL;
    if (!doc || (md && !user)) {
        fprintf(stderr, "dumptriage: out of memory building the report\n");
        cJSON_Delete(doc);
        cJSON_Delete(user);
        cJSON_Delete(kernel);
        dt_minidump_free(md);
        dt_mapped_file_close(&uf);
        dt_mapped_file_close(&kf);
        return DT_EXIT_UNUSABLE;
    }
    /* Stacks: every user thread walked and named. */
    dt_symbolizer *sym = dt_symbolizer_new(o.symbol_dirs, o.nsymbol_dirs, &err);
    if (!sym)
        fprintf(stderr, "dumptriage: symbols unavailable: %s\n", err.message);
    if (user) {
        dt_warnings walk_warnings = { 0 };
        dt_user_report_add_stacks(user, md, sym, &walk_warnings);
        /* Symbol-server failures, one line per module and server. */
        const dt_warnings *sw = sym ? dt_symbolizer_warnings(sym) : NULL;
        for (size_t i = 0; sw && i < sw->count; i++)
            dt_warn(&walk_warnings, "symbols: %s", sw->items[i]);
        cJSON *uw = cJSON_GetObjectItemCaseSensitive(user, "warnings");
        for (size_t i = 0; cJSON_IsArray(uw) && i < walk_warnings.count; i++)
            cJSON_AddItemToArray(uw, dt_json_str(walk_warnings.items[i]));
        dt_warnings_free(&walk_warnings);
    }
    dt_json_add_num(doc, "schema_version", 1);
    dt_json_add_str(doc, "generator", "dumptriage " DT_VERSION);
    cJSON *inputs = cJSON_AddObjectToObject(doc, "inputs");
    if (inputs) {
        dt_json_add_str(inputs, "user", o.user_path);
        dt_json_add_str(inputs, "kernel", o.kernel_path);
        if (o.user_path)
            dt_json_add_bool(inputs, "user_was_gzip", uf.was_gzip);
        cJSON *syms = cJSON_AddArrayToObject(inputs, "symbols");
        for (size_t i = 0; syms && i < o.nsymbol_dirs; i++)
            cJSON_AddItemToArray(syms, dt_json_str(o.symbol_dirs[i]));
    }
    if (user)
        cJSON_AddItemToObject(doc, "user", user);
    else
        cJSON_AddNullToObject(doc, "user");
    if (kernel)
        cJSON_AddItemToObject(doc, "kernel", kernel);
    else
        cJSON_AddNullToObject(doc, "kernel");
    cJSON *warnings = cJSON_AddArrayToObject(doc, "warnings");
    if (warnings && user)
        copy_warnings(warnings, user, "user");
    if (warnings && kernel)
        copy_warnings(warnings, kernel, "kernel");

    /* Triage: pairing, verdicts, lock cycles, signature. */
    dt_rules rules;
    dt_status rst = o.rules_path ? dt_rules_load_file(o.rules_path, &rules, &err) : dt_rules_default(&rules, &err);
    cJSON *triage = NULL;
    if (rst != DT_OK) {
        fprintf(stderr, "dumptriage: %s\n", err.message);
        rc = DT_EXIT_UNUSABLE;
    } else {
        dt_triage_options topt = { .rules = &rules,
                                   .user_memory = md ? dt_minidump_addrspace(md) : NULL,
                                   .allow_mismatch = o.allow_mismatch };
        if (dt_triage_build(user, kernel, &topt, &triage, &err) != DT_OK) {
            fprintf(stderr, "dumptriage: %s\n", err.message);
            rc = DT_EXIT_UNUSABLE;
        } else {
            cJSON_AddItemToObject(doc, "triage", triage);
            const cJSON *tw = cJSON_GetObjectItemCaseSensitive(triage, "warnings");
            const cJSON *w;
            cJSON_ArrayForEach(w, tw)
                if (warnings && cJSON_IsString(w))
                    cJSON_AddItemToArray(warnings, dt_json_str(w->valuestring));
        }
        dt_rules_free(&rules);
    }
    if (rc != DT_EXIT_OK) {
        /* A refused pair or unreadable rules: no report at all. */
    } else if (o.text) {
        printf("dumptriage %s — ", DT_VERSION);
        if (o.user_path)
            printf("user dump %s", o.user_path);
        printf("\n\n");
        if (user)
            dt_user_report_text(user, stdout);
        char *ktext = kernel ? dt_kernel_report_text(kernel) : NULL;
        if (ktext) {
            printf("%s%s", user ? "\n" : "", ktext);
            free(ktext);
        }
        dt_triage_text(triage, stdout);
    } else {
        char *s = cJSON_Print(doc);
        if (s) {
            fputs(s, stdout);
            fputc('\n', stdout);
            free(s);
        } else {
            fprintf(stderr, "dumptriage: out of memory printing the report\n");
            rc = DT_EXIT_UNUSABLE;
        }
    }
    cJSON_Delete(doc);
    dt_symbolizer_free(sym);
    dt_minidump_free(md);
    dt_mapped_file_close(&uf);
    dt_mapped_file_close(&kf);
    return rc;
}
