/*
 * series.c — dt_analyze_series (series.h): drives the series analysis and
 * owns the series model's lifetime.
 *
 * Each snapshot goes through the ordinary analysis (dt_analyze), one at a
 * time and in dump-time order (series_plan.c); what the comparison needs is
 * copied out of its report (series_snapshot.c), checked against the series
 * (series_identity.c) and merged into the model, and the report is dropped,
 * except the newest, which becomes the document the "series" member is
 * added to.  The threads are then compared (series_compare.c), the series
 * judged (series_verdicts.c) and written out (report/series_report.c).  So
 * N snapshots cost N analyses plus a comparison, and memory holds one report
 * at a time.
 */
#include "analysis/series_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"
#include "base/json.h"

/* ------------------------------------------------------ the model --- */

static void series_free(dt_series *s)
{
    for (size_t i = 0; i < s->nthreads; i++) {
        for (size_t k = 0; k < s->nsnaps; k++)
            dt_series_tsnap_free(&s->threads[i].snaps[k]);
        free(s->threads[i].snaps);
        free(s->threads[i].thread_name);
        free(s->threads[i].verdict);
    }
    free(s->threads);
    for (size_t k = 0; k < s->nsnaps; k++) {
        dt_series_snapshot *x = &s->snaps[k];
        free(x->file);
        free(x->kernel_file);
        free(x->error);
        free(x->image);
        free(x->create_time);
        free(x->signature);
        for (size_t i = 0; i < x->nwarnings; i++)
            free(x->warnings[i]);
        free(x->warnings);
    }
    free(s->snaps);
    free(s->signature);
    for (size_t i = 0; i < s->nsignature_parts; i++)
        free(s->signature_parts[i]);
    free(s->summary);
    for (size_t i = 0; i < s->nwarnings; i++)
        free(s->warnings[i]);
    free(s->warnings);
    memset(s, 0, sizeof *s);
}

static dt_series_thread *thread_slot(dt_series *s, uint64_t tid, const char *name)
{
    for (size_t i = 0; i < s->nthreads; i++)
        if (s->threads[i].thread_id == tid)
            return &s->threads[i];
    dt_series_thread *grown = realloc(s->threads, (s->nthreads + 1) * sizeof *grown);
    if (!grown)
        return NULL;
    s->threads = grown;
    dt_series_thread *t = &s->threads[s->nthreads];
    memset(t, 0, sizeof *t);
    t->snaps = calloc(s->nsnaps, sizeof *t->snaps);
    if (!t->snaps)
        return NULL;
    t->thread_id = tid;
    t->thread_name = dt_series_strdup(name);
    s->nthreads++;
    return t;
}

/* Moves a counted snapshot's threads into the series. */
static dt_status merge(dt_series *s, size_t k, dt_series_pending *p)
{
    for (size_t i = 0; i < p->n; i++) {
        dt_series_thread *t = thread_slot(s, p->t[i].tid, p->t[i].name);
        if (!t)
            return DT_ERR_NOMEM;
        if (!t->thread_name && p->t[i].name)
            t->thread_name = dt_series_strdup(p->t[i].name);
        t->snaps[k] = p->t[i].ts;
        memset(&p->t[i].ts, 0, sizeof p->t[i].ts);
    }
    return DT_OK;
}

/* ------------------------------------------------------------ driver --- */

dt_status dt_analyze_series(const dt_series_request *req, cJSON **report, dt_error *err)
{
    *report = NULL;
    if (!req || req->npaths == 0)
        return dt_error_set(err, DT_ERR_ARG, "no dump file given");
    dt_series_input in[DT_SERIES_MAX];
    size_t nin = 0;
    dt_status st = dt_series_plan(req, in, &nin, err);
    if (st != DT_OK)
        return st;
    dt_rules rules;
    st = req->rules_path ? dt_rules_load_file(req->rules_path, &rules, err) : dt_rules_default(&rules, err);
    if (st != DT_OK)
        return st;

    dt_series s;
    memset(&s, 0, sizeof s);
    s.nsnaps = nin;
    s.report_snapshot = -1;
    s.snaps = calloc(nin, sizeof *s.snaps);
    if (!s.snaps) {
        dt_rules_free(&rules);
        return dt_error_set(err, DT_ERR_NOMEM, "out of memory");
    }
    cJSON *kept = NULL;
    int ref = -1;
    char first_error[600] = "";
    for (size_t k = 0; k < nin && st == DT_OK; k++) {
        dt_series_snapshot *x = &s.snaps[k];
        x->file = dt_series_strdup(in[k].user);
        x->kernel_file = dt_series_strdup(in[k].kernel);
        x->arg_index = in[k].arg_index;
        x->duplicate_of = -1;
        x->has_time = in[k].has_time;
        x->time = in[k].time;
        dt_analysis_request one = {
            .user_path = in[k].user,
            .kernel_path = in[k].kernel,
            .symbol_paths = req->symbol_paths,
            .nsymbol_paths = req->nsymbol_paths,
            .rules_path = req->rules_path,
            .allow_mismatch = req->allow_mismatch,
        };
        cJSON *doc = NULL;
        dt_error e = { 0 };
        if (dt_analyze(&one, &doc, &e) != DT_OK) {
            x->status = "unusable";
            x->error = dt_series_strdup(e.message);
            dt_series_warn(&s.warnings, &s.nwarnings, "snapshot %zu (%s) is unusable and was left out: %s", k + 1,
                        in[k].user, e.message);
            if (!first_error[0])
                snprintf(first_error, sizeof first_error, "%s", e.message);
            continue;
        }
        dt_series_pending p = { 0 };
        if (dt_series_summarize(doc, x, &p) != DT_OK) {
            dt_series_pending_free(&p);
            cJSON_Delete(doc);
            st = dt_error_set(err, DT_ERR_NOMEM, "out of memory");
            break;
        }
        x->status = "ok";
        char why_damaged[300];
        dt_series_damage(cJSON_GetObjectItemCaseSensitive(doc, "user"), why_damaged, sizeof why_damaged);
        if (why_damaged[0]) {
            x->status = "damaged";
            x->error = dt_series_strdup(why_damaged);
            dt_series_warn(&s.warnings, &s.nwarnings, "snapshot %zu (%s) is damaged and was left out: %s", k + 1,
                        in[k].user, why_damaged);
            if (!first_error[0])
                snprintf(first_error, sizeof first_error, "%s: %s", in[k].user, why_damaged);
        } else if (ref >= 0) {
            char why[600];
            dt_series_process_mismatch(&s.snaps[ref], x, why, sizeof why);
            if (why[0] && !req->allow_mismatch) {
                st = dt_error_set(err, DT_ERR_ARG,
                                  "%s is not a snapshot of the process in %s (%s); --allow-mismatch compares "
                                  "them anyway",
                                  in[k].user, s.snaps[ref].file, why);
                dt_series_pending_free(&p);
                cJSON_Delete(doc);
                break;
            }
            if (why[0])
                dt_series_warn(&s.warnings, &s.nwarnings, "MISMATCH: snapshot %zu (%s) is another process (%s)",
                            k + 1, in[k].user, why);
            for (size_t j = 0; j < k; j++) {
                if (strcmp(s.snaps[j].status, "ok") == 0 && dt_series_is_duplicate(&s, j, x, &p)) {
                    x->status = "duplicate";
                    x->duplicate_of = (int)j;
                    dt_series_warn(&s.warnings, &s.nwarnings,
                                "snapshot %zu (%s) is the same dump as snapshot %zu (%s): compared once", k + 1,
                                in[k].user, j + 1, s.snaps[j].file);
                    break;
                }
            }
        } else {
            ref = (int)k;
        }
        if (strcmp(x->status, "ok") == 0) {
            st = merge(&s, k, &p);
            s.used++;
            /* The newest usable report is the one the document carries. */
            cJSON_Delete(kept);
            kept = doc;
            doc = NULL;
            s.report_snapshot = (int)k;
        }
        dt_series_pending_free(&p);
        cJSON_Delete(doc);
    }
    if (st == DT_OK && s.used == 0)
        st = dt_error_set(err, DT_ERR_FORMAT, "no snapshot of the series is usable: %s", first_error);
    if (st == DT_OK && s.used == 1 && nin > 1)
        dt_series_warn(&s.warnings, &s.nwarnings, "only one snapshot is usable: nothing to compare");
    if (st == DT_OK) {
        for (size_t i = 0; i < s.nthreads; i++) {
            s.threads[i].first_seen = -1;
            s.threads[i].rank = 0;
            dt_series_classify_thread(&s, &s.threads[i]);
        }
        dt_series_verdicts(&s, &rules);
        cJSON *js = dt_series_report_json(&s);
        if (!js) {
            st = dt_error_set(err, DT_ERR_NOMEM, "out of memory building the series");
        } else {
            cJSON *w = cJSON_GetObjectItemCaseSensitive(kept, "warnings");
            for (size_t i = 0; cJSON_IsArray(w) && i < s.nwarnings; i++) {
                char line[1100];
                snprintf(line, sizeof line, "series: %s", s.warnings[i]);
                cJSON_InsertItemInArray(w, (int)i, dt_json_str(line));
            }
            cJSON_AddItemToObject(kept, "series", js);
            *report = kept;
            kept = NULL;
        }
    }
    cJSON_Delete(kept);
    series_free(&s);
    dt_rules_free(&rules);
    return st;
}
