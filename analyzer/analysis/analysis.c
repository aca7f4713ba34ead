/*
 * analysis.c — dt_analyze (analysis.h): the one place where a whole analysis
 * is put together, for the CLI, the server's analysis child and the tests.
 *
 * Order matters in two places.  The kernel part runs first because a bad
 * kernel dump makes the whole pair unusable before any user-mode work is
 * spent.  The one symbolizer is shared by both parts (one cache of PDBs and
 * downloads); its warnings are attributed to the part during which they
 * appeared, which is why they are taken by count after each part.
 */
#include "analysis/analysis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/mapped_file.h"
#include "formats/minidump.h"
#include "formats/sniff.h"
#include "report/report_upgrade.h"
#include "report/user_report.h"
#include "report/user_stacks.h"
#include "triage/rules.h"
#include "triage/triage.h"

/* Everything one analysis owns; released by analysis_free. */
typedef struct {
    const char *user_path, *kernel_path;
    dt_mapped_file uf, kf;
    dt_symbolizer *sym;
    size_t sym_warnings_taken;     /* symbolizer warnings already attributed */
    char sym_error[sizeof(dt_error) + 32]; /* why there is no symbolizer, if so */
    dt_minidump *md;
    cJSON *user, *kernel, *triage;
} analysis;

static void analysis_free(analysis *a)
{
    cJSON_Delete(a->user);
    cJSON_Delete(a->kernel);
    cJSON_Delete(a->triage);
    dt_minidump_free(a->md);
    dt_symbolizer_free(a->sym);
    dt_mapped_file_close(&a->uf);
    dt_mapped_file_close(&a->kf);
}

static dt_status open_input(const char *path, dt_mapped_file *f, dt_file_kind *kind, dt_error *err)
{
    dt_error e = { 0 };
    if (dt_mapped_file_open(f, path, &e) != DT_OK)
        return dt_error_set(err, e.code, "%s: %s", path, e.message);
    *kind = dt_sniff(f->view.data, f->view.size);
    return DT_OK;
}

static bool is_kernel_kind(dt_file_kind k) { return k == DT_KIND_KERNEL64 || k == DT_KIND_KERNEL32; }

/* Opens both inputs and checks each is what its role needs; plain
 * arguments may have come in either order, so they are routed by content. */
static dt_status open_inputs(analysis *a, const dt_analysis_request *req, dt_error *err)
{
    dt_file_kind uk = DT_KIND_UNKNOWN, kk = DT_KIND_UNKNOWN;
    a->user_path = req->user_path;
    a->kernel_path = req->kernel_path;
    if (a->user_path && open_input(a->user_path, &a->uf, &uk, err) != DT_OK)
        return err ? err->code : DT_ERR_IO;
    if (a->kernel_path && open_input(a->kernel_path, &a->kf, &kk, err) != DT_OK)
        return err ? err->code : DT_ERR_IO;
    if (req->route_by_content && (is_kernel_kind(uk) || kk == DT_KIND_MINIDUMP)) {
        dt_mapped_file tf = a->uf;
        a->uf = a->kf;
        a->kf = tf;
        const char *tp = a->user_path;
        a->user_path = a->kernel_path;
        a->kernel_path = tp;
        dt_file_kind tk = uk;
        uk = kk;
        kk = tk;
    }
    if (a->user_path && uk != DT_KIND_MINIDUMP)
        return dt_error_set(err, DT_ERR_FORMAT, "%s: not a user-mode minidump (%s)", a->user_path,
                            dt_file_kind_name(uk));
    if (a->kernel_path && !is_kernel_kind(kk))
        return dt_error_set(err, DT_ERR_FORMAT, "%s: not a kernel dump (%s)", a->kernel_path,
                            dt_file_kind_name(kk));
    return DT_OK;
}

/* Appends the symbolizer's warnings not yet attributed to part's list. */
static void take_symbol_warnings(analysis *a, cJSON *part)
{
    const dt_warnings *sw = a->sym ? dt_symbolizer_warnings(a->sym) : NULL;
    cJSON *list = cJSON_GetObjectItemCaseSensitive(part, "warnings");
    for (; sw && a->sym_warnings_taken < sw->count; a->sym_warnings_taken++) {
        if (!cJSON_IsArray(list))
            continue;
        char line[600];
        snprintf(line, sizeof line, "symbols: %s", sw->items[a->sym_warnings_taken]);
        cJSON_AddItemToArray(list, dt_json_str(line));
    }
}

static dt_status kernel_part(analysis *a, dt_error *err)
{
    dt_error e = { 0 };
    a->kernel = dt_analyze_kernel_view(a->kf.view, NULL, a->sym, &e);
    if (!a->kernel)
        return dt_error_set(err, e.code ? e.code : DT_ERR_FORMAT, "%s: %s", a->kernel_path, e.message);
    take_symbol_warnings(a, a->kernel);
    return DT_OK;
}

static dt_status user_part(analysis *a, dt_error *err)
{
    dt_error e = { 0 };
    if (dt_minidump_parse(a->uf.view, &a->md, &e) != DT_OK)
        return dt_error_set(err, e.code, "%s: %s", a->user_path, e.message);
    a->user = dt_user_report(a->md);
    if (!a->user)
        return dt_error_set(err, DT_ERR_NOMEM, "out of memory building the report");
    dt_warnings walk = { 0 };
    dt_user_report_add_stacks(a->user, a->md, a->sym, &walk);
    cJSON *list = cJSON_GetObjectItemCaseSensitive(a->user, "warnings");
    for (size_t i = 0; cJSON_IsArray(list) && i < walk.count; i++)
        cJSON_AddItemToArray(list, dt_json_str(walk.items[i]));
    dt_warnings_free(&walk);
    take_symbol_warnings(a, a->user);
    return DT_OK;
}

static dt_status triage_part(analysis *a, const dt_analysis_request *req, dt_error *err)
{
    dt_rules rules;
    dt_status st = req->rules_path ? dt_rules_load_file(req->rules_path, &rules, err) : dt_rules_default(&rules, err);
    if (st != DT_OK)
        return st;
    dt_triage_options topt = { .rules = &rules,
                               .user_memory = a->md ? dt_minidump_addrspace(a->md) : NULL,
                               .allow_mismatch = req->allow_mismatch };
    st = dt_triage_build(a->user, a->kernel, &topt, &a->triage, err);
    dt_rules_free(&rules);
    return st;
}

static void copy_warnings(cJSON *to, const cJSON *from, const char *prefix)
{
    const cJSON *w;
    cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(from, "warnings")) {
        if (!cJSON_IsString(w))
            continue;
        if (!prefix) {
            cJSON_AddItemToArray(to, dt_json_str(w->valuestring));
            continue;
        }
        size_t n = strlen(prefix) + strlen(w->valuestring) + 3;
        char *s = malloc(n);
        if (!s)
            continue;
        snprintf(s, n, "%s: %s", prefix, w->valuestring);
        cJSON_AddItemToArray(to, dt_json_str(s));
        free(s);
    }
}

static void add_part(cJSON *doc, const char *name, cJSON **part)
{
    if (*part)
        cJSON_AddItemToObject(doc, name, *part);
    else
        cJSON_AddNullToObject(doc, name);
    *part = NULL; /* owned by doc now */
}

/* The document: {"schema_version", "generator", "inputs", "user", "kernel",
 * "warnings", "triage"} (docs/report.md).  Takes the parts from a. */
static cJSON *assemble(analysis *a, const dt_analysis_request *req)
{
    cJSON *doc = cJSON_CreateObject();
    if (!doc)
        return NULL;
    dt_json_add_num(doc, "schema_version", DT_REPORT_SCHEMA_VERSION);
    dt_json_add_str(doc, "generator", "dumptriage " DT_VERSION);
    cJSON *inputs = cJSON_AddObjectToObject(doc, "inputs");
    if (inputs) {
        dt_json_add_str(inputs, "user", a->user_path);
        dt_json_add_str(inputs, "kernel", a->kernel_path);
        if (a->user_path)
            dt_json_add_bool(inputs, "user_was_gzip", a->uf.was_gzip);
        cJSON *syms = cJSON_AddArrayToObject(inputs, "symbols");
        for (size_t i = 0; syms && i < req->nsymbol_paths; i++)
            cJSON_AddItemToArray(syms, dt_json_str(req->symbol_paths[i]));
    }
    cJSON *warnings = cJSON_CreateArray();
    if (warnings) {
        if (a->sym_error[0])
            cJSON_AddItemToArray(warnings, dt_json_str(a->sym_error));
        copy_warnings(warnings, a->user, "user");
        copy_warnings(warnings, a->kernel, "kernel");
        copy_warnings(warnings, a->triage, NULL);
    }
    add_part(doc, "user", &a->user);
    add_part(doc, "kernel", &a->kernel);
    if (warnings)
        cJSON_AddItemToObject(doc, "warnings", warnings);
    add_part(doc, "triage", &a->triage);
    return doc;
}

dt_status dt_analyze(const dt_analysis_request *req, cJSON **report, dt_error *err)
{
    *report = NULL;
    if (!req || (!req->user_path && !req->kernel_path))
        return dt_error_set(err, DT_ERR_ARG, "no dump file given");
    analysis a;
    memset(&a, 0, sizeof a);
    dt_status st = open_inputs(&a, req, err);
    if (st == DT_OK) {
        /* A malformed symbol path costs only the names: go on without. */
        dt_error serr = { 0 };
        a.sym = dt_symbolizer_new(req->symbol_paths, req->nsymbol_paths, &serr);
        if (!a.sym)
            snprintf(a.sym_error, sizeof a.sym_error, "symbols unavailable: %s", serr.message);
    }
    if (st == DT_OK && a.kernel_path)
        st = kernel_part(&a, err);
    if (st == DT_OK && a.user_path)
        st = user_part(&a, err);
    if (st == DT_OK)
        st = triage_part(&a, req, err);
    if (st == DT_OK) {
        *report = assemble(&a, req);
        if (!*report)
            st = dt_error_set(err, DT_ERR_NOMEM, "out of memory building the report");
    }
    analysis_free(&a);
    return st;
}
