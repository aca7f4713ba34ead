/*
 * thread_activity.c — what a thread that is not simply "blocked" is doing:
 * its CPU time (as `!runaway` shows it), running or spinning in user code,
 * waits with a finite timeout (they end on their own), alertable sleeps;
 * and the name of the rule behind each verdict.
 *
 * Kept apart from triage.c because these facts come from several places
 * (ThreadInfoList, KTHREAD times, the wait graph's timeouts) and each verdict
 * must say which one decided it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/json.h"
#include "triage/triage_internal.h"

/* KTHREAD times are in clock ticks; without the kernel's tick length
 * (docs/report.md, series) the default tick is 15.625 ms. */
#define DEFAULT_TICK_MS 15.625

void dt_triage_cpu_times(dt_tmodel *m)
{
    for (size_t i = 0; i < m->count; i++) {
        dt_tthread *t = &m->threads[i];
        double u, k;
        if (t->uthread && dt_json_num(t->uthread, "user_time_ms", &u) &&
            dt_json_num(t->uthread, "kernel_time_ms", &k)) {
            t->cpu_user_ms = u;
            t->cpu_kernel_ms = k;
            t->cpu_source = "ThreadInfoList";
            t->has_cpu = true;
        } else if (t->kthread && dt_json_num(t->kthread, "user_time", &u) && dt_json_num(t->kthread, "kernel_time", &k) &&
                   u >= 0 && k >= 0) {
            double tick = DEFAULT_TICK_MS, ws, wt;
            if (dt_json_num(t->kthread, "wait_seconds", &ws) && dt_json_num(t->kthread, "wait_ticks", &wt) && wt > 0)
                tick = ws * 1000.0 / wt;
            t->cpu_user_ms = u * tick;
            t->cpu_kernel_ms = k * tick;
            t->cpu_source = "KTHREAD";
            t->has_cpu = true;
        }
    }
}

static bool category_is(const dt_tthread *t, const char *c)
{
    return t->blocking && t->blocking->category && strcmp(t->blocking->category, c) == 0;
}

/* After the wait graph: finite timeouts are not stuck; alertable infinite
 * sleeps are APC waiters (idle). */
void dt_triage_timed_waits(dt_tmodel *m)
{
    for (size_t i = 0; i < m->count; i++) {
        dt_tthread *t = &m->threads[i];
        if (!t->state || strcmp(t->state, "waiting") != 0 || t->idle)
            continue;
        bool alertable = false;
        if (t->has_timeout && !t->in_deadlock)
            t->stuck = false;
        else if (category_is(t, "sleep") && !t->has_timeout && t->kthread &&
                 dt_json_bool(t->kthread, "alertable", &alertable) && alertable)
            t->stuck = false;
    }
}

static void fmt_cpu(const dt_tthread *t, char *out, size_t cap)
{
    out[0] = '\0';
    if (t->has_cpu)
        snprintf(out, cap, ", %.1f s CPU", (t->cpu_user_ms + t->cpu_kernel_ms) / 1000.0);
}

static void fmt_timeout(double ms, char *out, size_t cap)
{
    if (ms < 1000)
        snprintf(out, cap, "%.0f ms", ms);
    else if (ms < 120000)
        snprintf(out, cap, "%.3g s", ms / 1000.0);
    else
        snprintf(out, cap, "%.0f min", ms / 60000.0);
}

/* The rule that decided the thread's verdict, for the report's "rule". */
void dt_triage_activity_rule(const dt_tthread *t, char *rule, size_t rule_cap)
{
    bool alertable = false;
    if (t->idle && t->idle_rule)
        snprintf(rule, rule_cap, "idle \"%s\"", t->idle_rule->text);
    else if (t->state && strcmp(t->state, "running") == 0)
        snprintf(rule, rule_cap, "running (%s)", t->state_source ? t->state_source : "none");
    else if (t->state && strcmp(t->state, "waiting") == 0 && t->has_timeout && !t->in_deadlock)
        snprintf(rule, rule_cap, "timed wait (%s)", t->timeout_source);
    else if (category_is(t, "sleep") && t->kthread && dt_json_bool(t->kthread, "alertable", &alertable) && alertable)
        snprintf(rule, rule_cap, "alertable sleep (an APC waiter)");
    else if (t->in_deadlock)
        snprintf(rule, rule_cap, "wait cycle (wait graph)");
    else if (t->has_lock)
        snprintf(rule, rule_cap, "critical section owner (user memory)");
    else if (t->blocking && t->win32k_msg_guess)
        snprintf(rule, rule_cap, "blocking %s (win32u stub: r8 a timeout, r9 a QS_ wake mask; a guess)",
                 t->blocking->category ? t->blocking->category : "");
    else if (t->blocking)
        snprintf(rule, rule_cap, "blocking %s", t->blocking->category ? t->blocking->category : "");
    else
        snprintf(rule, rule_cap, "state %s (%s)", t->state ? t->state : "unknown",
                 t->state_source ? t->state_source : "none");
}

/* Rewrites or completes the verdict triage.c built where this file knows
 * better: CPU hogs, timed waits, the wait graph's link. */
void dt_triage_activity_verdict(const dt_tmodel *m, const dt_tthread *t, char *verdict, size_t vsz)
{
    (void)m;
    char cpu[48];
    fmt_cpu(t, cpu, sizeof cpu);
    if (t->state && strcmp(t->state, "running") == 0 && t->nuf && !t->idle) {
        /* A CPU hog: name where it burns CPU, never "unknown".  An idle rule
         * (the debugger's break-in thread) keeps its own verdict, as its
         * rule says. */
        int app = t->first_app_idx;
        bool in_app = app == 0;
        const dt_tframe *f = &t->uf[app >= 0 ? app : 0];
        snprintf(verdict, vsz, "%s — %s%s%s%s", in_app ? "busy in user code" : "running",
                 f->named ? f->name : f->display, !in_app && app > 0 ? " (called from application code)" : "", cpu,
                 t->state_source && strcmp(t->state_source, "kernel") != 0 ? "; not stopped at a system call" : "");
        return;
    }
    if (t->state && strcmp(t->state, "waiting") == 0 && !t->idle && t->has_timeout && !t->in_deadlock) {
        char to[32], tmp[1536];
        fmt_timeout(t->timeout_ms, to, sizeof to);
        snprintf(tmp, sizeof tmp, "timed wait: waits up to %s, then returns (not stuck forever) — %s", to, verdict);
        snprintf(verdict, vsz, "%s", tmp);
    }
    if (t->link[0] && !t->idle && !t->has_lock) {
        size_t vl = strlen(verdict);
        if (vl < vsz)
            snprintf(verdict + vl, vsz - vl, "; %s", t->link);
    }
}

void dt_triage_activity_json(const dt_tthread *t, cJSON *o)
{
    if (t->has_cpu) {
        cJSON *c = cJSON_AddObjectToObject(o, "cpu");
        cJSON_AddNumberToObject(c, "user_ms", t->cpu_user_ms);
        cJSON_AddNumberToObject(c, "kernel_ms", t->cpu_kernel_ms);
        cJSON_AddNumberToObject(c, "total_ms", t->cpu_user_ms + t->cpu_kernel_ms);
        cJSON_AddStringToObject(c, "source", t->cpu_source);
    } else {
        cJSON_AddNullToObject(o, "cpu");
    }
    cJSON_AddItemToObject(o, "waits_on", t->waits_on ? cJSON_Duplicate(t->waits_on, 1) : cJSON_CreateArray());
    cJSON *b = cJSON_AddArrayToObject(o, "blocked_threads");
    for (size_t i = 0; i < t->nblocked; i++)
        if (t->blocked[i] != t->tid)
            cJSON_AddItemToArray(b, cJSON_CreateNumber((double)t->blocked[i]));
    if (t->has_timeout)
        cJSON_AddNumberToObject(o, "timeout_ms", t->timeout_ms);
    if (t->graph_root)
        cJSON_AddBoolToObject(o, "root_cause", true);
}
