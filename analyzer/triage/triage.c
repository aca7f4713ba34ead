/*
 * triage.c — pairing user threads with kernel threads, per-thread verdicts,
 * the primary stuck thread (see triage.h).
 *
 * Pairing is by process id and thread id (the user thread id is the kernel
 * thread's Cid.UniqueThread).  The joined stack meets at the system call: the
 * user stack's top frame is the ntdll stub (`ntdll!ZwReadFile`), the kernel
 * stack's outermost frames are the service (`nt!NtReadFile`) and the entry
 * (`nt!KiSystemServiceCopyEnd`).  Frames the dump writer itself added on top
 * of the real wait (the live-dump snapshot APC) are folded, not removed.
 */
#include "triage/triage.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/json.h"
#include "triage/triage_internal.h"

/* Folding looks at most this deep for writer-added frames. */
#define SNAPSHOT_SCAN_FRAMES 24

static const cJSON *get(const cJSON *o, const char *k)
{
    return o ? cJSON_GetObjectItemCaseSensitive(o, k) : NULL;
}

static bool user_pid(const cJSON *user, uint64_t *pid)
{
    return dt_json_u64(user, "pid", pid) || dt_json_u64(get(user, "process"), "pid", pid);
}

static bool thread_tid(const cJSON *t, uint64_t *tid)
{
    return dt_json_u64(t, "thread_id", tid) || dt_json_u64(t, "tid", tid);
}

/* Kernel thread state as a verdict state. */
static const char *kernel_state(const cJSON *kt)
{
    const char *s = dt_json_get_str(kt, "state");
    uint64_t n;
    if (!s && dt_json_u64(kt, "state", &n)) {
        static const char *names[] = { "initialized", "ready", "running", "standby", "terminated",
                                       "waiting", "transition", "deferredready" };
        s = n < 8 ? names[n] : NULL;
    }
    if (!s)
        return NULL;
    if (strcasecmp(s, "waiting") == 0 || strcasecmp(s, "gatewaitobsolete") == 0 ||
        strcasecmp(s, "waitingforprocessinswap") == 0 || strcasecmp(s, "transition") == 0)
        return "waiting";
    if (strcasecmp(s, "running") == 0)
        return "running";
    if (strcasecmp(s, "ready") == 0 || strcasecmp(s, "standby") == 0 || strcasecmp(s, "deferredready") == 0)
        return "ready";
    if (strcasecmp(s, "terminated") == 0)
        return "terminated";
    return "unknown";
}

static void fmt_duration(double s, char *out, size_t outsz)
{
    if (s < 1)
        snprintf(out, outsz, "<1 s");
    else if (s < 120)
        snprintf(out, outsz, "%.0f s", s);
    else if (s < 7200)
        snprintf(out, outsz, "%.0f min", s / 60);
    else if (s < 2 * 86400)
        snprintf(out, outsz, "%ld h %ld min", (long)s / 3600, (long)s % 3600 / 60);
    else
        snprintf(out, outsz, "%.1f days", s / 86400);
}

/* ntdll!ZwReadFile -> "NtReadFile" (also win32u!NtUser…). */
static bool syscall_name_of(const dt_tframe *f, char *out, size_t outsz)
{
    if (!f->named)
        return false;
    if (strcmp(f->mod, "ntdll") != 0 && strcmp(f->mod, "win32u") != 0)
        return false;
    const char *fn = strchr(f->name, '!');
    if (!fn)
        return false;
    fn++;
    if ((strncmp(fn, "Nt", 2) != 0 && strncmp(fn, "Zw", 2) != 0) || !isupper((unsigned char)fn[2]))
        return false;
    snprintf(out, outsz, "Nt%s", fn + 2);
    return true;
}

/* A thread stopped in an unnamed win32u system-call stub (no win32u image
 * or symbols in the dump): the ip is a stub's ret (4 mod 16, as every x64
 * stub starts 16-byte aligned) and the saved RAX a win32k service number
 * (0x1000-0x1fff).  Its arguments in the volatile registers then say a
 * message wait when they have NtUserMsgWaitForMultipleObjectsEx's shape: a
 * DWORD timeout in r8 and a QS_* wake mask (at most 0x1dff) in r9 — a guess,
 * said so in the verdict's rule. */
static bool win32k_stub(const dt_tthread *t, uint32_t *service, bool *msg_wait)
{
    const dt_tframe *f = &t->uf[0];
    uint64_t ip, rax, r8, r9;
    const cJSON *regs = cJSON_GetObjectItemCaseSensitive(t->uthread, "registers");
    if (f->named || strcmp(f->mod, "win32u") != 0 || !dt_json_u64(f->json, "ip", &ip) || (ip & 0xf) != 4 ||
        !dt_json_u64(regs, "rax", &rax) || rax < 0x1000 || rax >= 0x2000)
        return false;
    *service = (uint32_t)rax;
    *msg_wait = dt_json_u64(regs, "r8", &r8) && r8 <= 0xffffffffu && dt_json_u64(regs, "r9", &r9) && r9 &&
                (r9 & ~UINT64_C(0x1dff)) == 0;
    return true;
}

static void analyse_kernel_frames(const dt_rules *r, dt_tthread *t)
{
    t->kernel_fold_count = 0;
    t->kernel_wait_idx = -1;
    t->driver_idx = -1;
    t->syscall_kernel_idx = -1;
    size_t limit = t->nkf < SNAPSHOT_SCAN_FRAMES ? t->nkf : SNAPSHOT_SCAN_FRAMES;
    for (size_t i = 0; i < limit; i++)
        if (dt_rules_match(r, DT_RULE_SNAPSHOT, t->kf[i].norm))
            t->kernel_fold_count = (int)i + 1;
    for (size_t i = (size_t)t->kernel_fold_count; i < t->nkf; i++) {
        const dt_tframe *f = &t->kf[i];
        if (dt_rules_match(r, DT_RULE_SYSCALL_ENTRY, f->norm))
            break;
        bool core = dt_rules_module_is(r, DT_RULE_KERNEL_MODULE, f->mod);
        if (t->kernel_wait_idx < 0 && core && f->named && !dt_rules_match(r, DT_RULE_KERNEL_INTERNAL, f->norm))
            t->kernel_wait_idx = (int)i;
        if (t->driver_idx < 0 && !core && f->mod[0])
            t->driver_idx = (int)i;
    }
    if (t->syscall[0]) {
        char want[160];
        snprintf(want, sizeof want, "nt!%s", t->syscall);
        for (char *p = want; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        for (size_t i = 0; i < t->nkf; i++)
            if (strcmp(t->kf[i].norm, want) == 0) {
                t->syscall_kernel_idx = (int)i;
                break;
            }
    }
    if (t->syscall_kernel_idx < 0) {
        /* The service is the frame just inside the system-call entry. */
        for (size_t i = 1; i < t->nkf; i++)
            if (dt_rules_match(r, DT_RULE_SYSCALL_ENTRY, t->kf[i].norm)) {
                t->syscall_kernel_idx = (int)i - 1;
                if (!t->syscall[0] && t->kf[i - 1].named) {
                    const char *fn = strchr(t->kf[i - 1].name, '!');
                    if (fn)
                        snprintf(t->syscall, sizeof t->syscall, "%s", fn + 1);
                }
                break;
            }
    }
}

static void analyse_user_frames(const dt_rules *r, dt_tthread *t)
{
    t->blocking = NULL;
    t->blocking_idx = -1;
    t->first_app_idx = -1;
    t->syscall_user_idx = -1;
    t->idle_rule = NULL;
    for (size_t i = 0; i < t->nuf; i++)
        if (!dt_tframe_is_system(r, &t->uf[i])) {
            t->first_app_idx = (int)i;
            break;
        }
    uint32_t service;
    bool msg_wait = false;
    if (t->nuf && syscall_name_of(&t->uf[0], t->syscall, sizeof t->syscall)) {
        t->syscall_user_idx = 0;
    } else if (t->nuf && t->uthread && win32k_stub(t, &service, &msg_wait)) {
        snprintf(t->syscall, sizeof t->syscall, "win32k service 0x%x", service);
        t->syscall_user_idx = 0;
    }
    /* The blocking call is the matching system frame closest to the
     * application (ReadFile rather than the ZwReadFile stub it calls). */
    size_t end = t->first_app_idx >= 0 ? (size_t)t->first_app_idx : t->nuf;
    for (size_t i = 0; i < end; i++) {
        const dt_rule *b = dt_rules_match(r, DT_RULE_BLOCKING, t->uf[i].norm);
        if (b) {
            t->blocking = b;
            t->blocking_idx = (int)i;
        }
    }
    if (!t->blocking && msg_wait) {
        /* The rules' message-wait kind, as MsgWaitForMultipleObjectsEx. */
        t->blocking = dt_rules_match(r, DT_RULE_BLOCKING, "user32!msgwaitformultipleobjectsex");
        t->blocking_idx = t->blocking ? 0 : -1;
        t->win32k_msg_guess = t->blocking != NULL;
    }
    /* An idle frame counts only when no application code runs above it:
     * the pool worker, finalizer, RPC or COM thread that is inside the
     * application's callback, Finalize method or server routine is busy
     * with (or stuck in) the application's work, not waiting for work —
     * their start routines stay at the bottom of the stack either way. */
    size_t idle_end = t->first_app_idx >= 0 ? (size_t)t->first_app_idx + 1 : t->nuf;
    for (size_t i = 0; i < idle_end && i < t->nuf && !t->idle_rule; i++)
        t->idle_rule = dt_rules_match(r, DT_RULE_IDLE, t->uf[i].norm);
    if (!t->idle_rule && t->name && *t->name && t->first_app_idx < 0) {
        /* Runtimes name their own workers (Wine's thread pool does). */
        char nm[128];
        size_t k = 0;
        for (; t->name[k] && k + 1 < sizeof nm; k++)
            nm[k] = (char)tolower((unsigned char)t->name[k]);
        nm[k] = '\0';
        t->idle_rule = dt_rules_match(r, DT_RULE_IDLE_THREAD, nm);
    }
}

static bool category_is(const dt_tthread *t, const char *c)
{
    return t->blocking && t->blocking->category && strcmp(t->blocking->category, c) == 0;
}

/* Blocking that is normal for a healthy program, so not "stuck". */
static bool benign_wait(const dt_tthread *t)
{
    return category_is(t, "sleep") || category_is(t, "message_wait");
}

static void decide_state(dt_tthread *t, uint64_t crash_tid, bool has_crash)
{
    const char *ks = t->kthread ? kernel_state(t->kthread) : NULL;
    if (ks) {
        t->state = ks;
        t->state_source = "kernel";
    } else if (t->syscall_user_idx == 0 || t->blocking) {
        t->state = "waiting";
        t->state_source = "user stack";
    } else if (t->uthread && t->nuf) {
        /* Not stopped at a system call: it was running user code. */
        t->state = "running";
        t->state_source = "user stack";
    } else if (t->uthread) {
        t->state = "unknown";
        t->state_source = "user stack";
    } else {
        t->state = "unknown";
        t->state_source = "none";
    }
    if (has_crash && t->uthread && t->tid == crash_tid) {
        t->state = "crashed";
        t->state_source = "exception";
    }
    t->idle = t->idle_rule != NULL;
    t->stuck = strcmp(t->state, "waiting") == 0 && !t->idle && !benign_wait(t);
    double s;
    if (t->kthread && (dt_json_num(t->kthread, "wait_seconds", &s) || dt_json_num(t->kthread, "wait_time_s", &s))) {
        t->wait_seconds = s;
        t->has_wait_seconds = true;
    }
}

static int io_score(const dt_tthread *t)
{
    static const char *io[] = { "read", "write", "device_io", "pipe_connect", "socket", "alpc", "file_io" };
    for (size_t i = 0; i < sizeof io / sizeof io[0]; i++)
        if (category_is(t, io[i]))
            return 3;
    if (category_is(t, "critical_section") || category_is(t, "srw_lock") || category_is(t, "condition_variable"))
        return 3;
    if (t->blocking)
        return 2;
    return 1;
}

static const char *fn_only(const char *name)
{
    const char *b = strchr(name, '!');
    return b ? b + 1 : name;
}

/* The call chain a verdict names: system call ← blocking API ← first
 * application frame, and what the kernel says the thread waits on. */
static void verdict_chain(const dt_tthread *t, char *chain, size_t chain_cap)
{
    chain[0] = '\0';
    size_t len = 0;
    if (t->syscall[0])
        len += (size_t)snprintf(chain + len, chain_cap - len, "%s", t->syscall);
    if (t->blocking_idx > 0 && len < chain_cap)
        len += (size_t)snprintf(chain + len, chain_cap - len, "%s%s", len ? " ← " : "",
                                fn_only(t->uf[t->blocking_idx].name));
    if (t->first_app_idx >= 0 && len < chain_cap)
        len += (size_t)snprintf(chain + len, chain_cap - len, "%s%s", len ? " ← " : "",
                                t->uf[t->first_app_idx].name);
    if (!len && t->nuf)
        snprintf(chain, chain_cap, "%s", t->uf[0].display);
    if (!len && !t->nuf && t->nkf) {
        int k = t->kernel_wait_idx >= 0 ? t->kernel_wait_idx : t->kernel_fold_count < (int)t->nkf ? t->kernel_fold_count : 0;
        snprintf(chain, chain_cap, "%s", t->kf[k].name);
    }

    /* What the kernel says the thread waits on: threads by id (a join),
     * or the first object with its type and owner. */
    const cJSON *wos = get(t->kthread, "wait_objects");
    if (cJSON_IsArray(wos) && cJSON_GetArraySize(wos) > 0 && strcmp(t->state, "waiting") == 0) {
        char on[200] = "";
        size_t ol = 0, nthreads = 0;
        const cJSON *wo;
        cJSON_ArrayForEach(wo, wos)
        {
            uint64_t target;
            if (dt_json_u64(wo, "thread_id", &target) && ol < sizeof on)
                ol += (size_t)snprintf(on + ol, sizeof on - ol, "%s%" PRIu64, nthreads++ ? ", " : "", target);
        }
        if (nthreads) {
            char tmp[sizeof on + 16];
            snprintf(tmp, sizeof tmp, "on thread%s %s", nthreads > 1 ? "s" : "", on);
            memcpy(on, tmp, sizeof on - 1);
            on[sizeof on - 1] = '\0';
        } else {
            const cJSON *first = cJSON_GetArrayItem(wos, 0);
            const char *type = dt_json_get_str(first, "type"), *addr = dt_json_get_str(first, "object");
            uint64_t owner;
            int n = snprintf(on, sizeof on, "on %s %s", type ? type : "object", addr ? addr : "?");
            if (n > 0 && (size_t)n < sizeof on && dt_json_u64(first, "owner_thread_id", &owner))
                snprintf(on + n, sizeof on - (size_t)n, " owned by thread %" PRIu64, owner);
        }
        size_t cl = strlen(chain);
        if (cl < chain_cap)
            snprintf(chain + cl, chain_cap - cl, " %s", on);
    }
}

/* "UserRequest, KernelMode wait, not alertable" for a waiting thread. */
static void wait_facts(const dt_tthread *t, char *wait, size_t wait_cap)
{
    wait[0] = '\0';
    if (t->kthread) {
        const char *reason = dt_json_get_str(t->kthread, "wait_reason");
        const char *mode = dt_json_get_str(t->kthread, "wait_mode");
        bool alertable;
        bool has_alert = dt_json_bool(t->kthread, "alertable", &alertable);
        size_t wl = 0;
        if (reason && strcmp(t->state, "waiting") == 0)
            wl += (size_t)snprintf(wait + wl, wait_cap - wl, "%s", reason);
        if (mode && strcmp(t->state, "waiting") == 0 && wl < wait_cap)
            wl += (size_t)snprintf(wait + wl, wait_cap - wl, "%s%s wait", wl ? ", " : "", mode);
        if (has_alert && strcmp(t->state, "waiting") == 0 && wl < wait_cap)
            snprintf(wait + wl, wait_cap - wl, "%s%s", wl ? ", " : "", alertable ? "alertable" : "not alertable");
    }
}

/* The sentence under a verdict: state and where it comes from, the
 * blocking frame, its caller, the kernel wait and the driver frame. */
static void explanation(const dt_tthread *t, char *expl, size_t esz)
{
    size_t el = (size_t)snprintf(expl, esz, "Thread %" PRIu64 "%s%s%s is %s", t->tid, t->name && *t->name ? " (" : "",
                                 t->name && *t->name ? t->name : "", t->name && *t->name ? ")" : "", t->state);
    if (el < esz && t->state_source)
        el += (size_t)snprintf(expl + el, esz - el, " (from the %s)", t->state_source);
    if (el < esz && t->blocking_idx >= 0)
        el += (size_t)snprintf(expl + el, esz - el, "; it blocks in %s", t->uf[t->blocking_idx].display);
    if (el < esz && t->first_app_idx >= 0)
        el += (size_t)snprintf(expl + el, esz - el, ", called from %s", t->uf[t->first_app_idx].display);
    if (el < esz && t->kernel_wait_idx >= 0)
        el += (size_t)snprintf(expl + el, esz - el, "; in the kernel it waits in %s", t->kf[t->kernel_wait_idx].display);
    if (el < esz && t->driver_idx >= 0)
        el += (size_t)snprintf(expl + el, esz - el, " under driver frame %s", t->kf[t->driver_idx].display);
    if (el < esz)
        snprintf(expl + el, esz - el, ".");
}

static void build_verdict(const dt_tmodel *m, const dt_tthread *t, char *verdict, size_t vsz, char *expl,
                          size_t esz)
{
    char dur[48] = "";
    if (t->has_wait_seconds) {
        char d[40];
        fmt_duration(t->wait_seconds, d, sizeof d);
        snprintf(dur, sizeof dur, " %s", d);
    }
    char chain[1024];
    verdict_chain(t, chain, sizeof chain);
    char wait[256];
    wait_facts(t, wait, sizeof wait);
    const char *what = t->blocking && t->blocking->text ? t->blocking->text : NULL;
    char io[768];
    if (dt_triage_io_phrase(t, what, io, sizeof io))
        what = io; /* the pending IRP names the driver and the file (io_wait.c) */
    if (strcmp(t->state, "crashed") == 0) {
        snprintf(verdict, vsz, "crashed — %s", chain);
    } else if (t->idle) {
        snprintf(verdict, vsz, "idle: %s", t->idle_rule->text);
    } else if (t->has_lock) {
        const char *owner_name = NULL;
        for (size_t i = 0; i < m->count; i++)
            if (m->threads[i].tid == t->lock_owner && m->threads[i].uthread)
                owner_name = m->threads[i].name;
        bool loader = m->has_loader_lock && m->loader_lock == t->lock_addr;
        snprintf(verdict, vsz, "%s%s 0x%" PRIx64 "%s owned by thread %" PRIu64 "%s%s%s%s",
                 t->in_deadlock ? "deadlocked:" : "blocked", t->in_deadlock ? " waiting for critical section" : " on critical section",
                 t->lock_addr, loader ? " (the loader lock, PEB.LoaderLock)" : "", t->lock_owner,
                 owner_name && *owner_name ? " (" : "", owner_name && *owner_name ? owner_name : "",
                 owner_name && *owner_name ? ")" : "", t->in_deadlock ? ", which waits for a lock this thread holds" : "");
    } else if (t->ulock_kind && !t->in_deadlock && strcmp(t->state, "waiting") == 0) {
        /* SRW lock / condition variable (user_locks.c): no owner is recorded. */
        char others[200];
        size_t n = dt_triage_user_lock_waiters(m, t->ulock_addr, others, sizeof others);
        bool srw = strcmp(t->ulock_kind, "srw_lock") == 0;
        char holder[96] = "";
        if (srw && t->has_ulock_holder)
            snprintf(holder, sizeof holder, "; possibly held by thread %" PRIu64 " (a guess)", t->ulock_holder);
        if (srw)
            snprintf(verdict, vsz, "blocked%s waiting for SRW lock 0x%" PRIx64 " (%s; owner unknown: Windows records no SRW owner; waiters %s%s; address %s) — %s",
                     dur, t->ulock_addr, t->ulock_shared ? "shared" : "exclusive", n ? others : "-", holder,
                     t->ulock_conf, chain);
        else {
            char released[80] = "";
            if (t->ulock_assoc)
                snprintf(released, sizeof released, ", released %s 0x%" PRIx64,
                         t->ulock_assoc_cs ? "critical section" : "SRW lock", t->ulock_assoc);
            snprintf(verdict, vsz, "blocked%s on condition variable 0x%" PRIx64 "%s (no owner: any thread may wake it; waiters %s; address %s) — %s",
                     dur, t->ulock_addr, released, n ? others : "-", t->ulock_conf, chain);
        }
    } else if (strcmp(t->state, "waiting") == 0) {
        if (what && benign_wait(t))
            snprintf(verdict, vsz, "%s%s — %s", what, dur, chain);
        else if (what)
            snprintf(verdict, vsz, "blocked%s %s — %s", dur, what, chain);
        else
            snprintf(verdict, vsz, "waiting%s in %s", dur, chain);
    } else if (strcmp(t->state, "running") == 0) {
        snprintf(verdict, vsz, "running — %s", chain);
    } else if (strcmp(t->state, "ready") == 0) {
        snprintf(verdict, vsz, "ready to run — %s", chain);
    } else {
        snprintf(verdict, vsz, "%s — %s", t->state, chain);
    }
    if (wait[0] && !t->idle) {
        size_t vl = strlen(verdict);
        if (vl < vsz)
            snprintf(verdict + vl, vsz - vl, "; %s", wait);
    }
    dt_triage_activity_verdict(m, t, verdict, vsz);

    explanation(t, expl, esz);
}

static cJSON *frames_out(const dt_tframe *f, size_t n, int fold, const char *fold_reason)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
        cJSON *c = cJSON_Duplicate(f[i].json, 1);
        if (!c)
            continue;
        if (!cJSON_GetObjectItemCaseSensitive(c, "display"))
            cJSON_AddStringToObject(c, "display", f[i].display);
        if ((int)i < fold) {
            cJSON_AddBoolToObject(c, "folded", 1);
            cJSON_AddStringToObject(c, "fold_reason", fold_reason);
        }
        cJSON_AddItemToArray(arr, c);
    }
    return arr;
}

static cJSON *thread_out(const dt_tmodel *m, const dt_tthread *t)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "thread_id", (double)t->tid);
    if (t->has_pid)
        cJSON_AddNumberToObject(o, "pid", (double)t->pid);
    cJSON_AddStringToObject(o, "thread_name", t->name ? t->name : "");
    cJSON *src = cJSON_AddArrayToObject(o, "sources");
    if (t->uthread)
        cJSON_AddItemToArray(src, cJSON_CreateString("user"));
    if (t->kthread)
        cJSON_AddItemToArray(src, cJSON_CreateString("kernel"));
    cJSON_AddStringToObject(o, "state", t->state);
    cJSON_AddStringToObject(o, "state_source", t->state_source);
    cJSON_AddBoolToObject(o, "stuck", t->stuck);
    cJSON_AddBoolToObject(o, "idle", t->idle);
    if (t->idle_rule)
        cJSON_AddStringToObject(o, "idle_reason", t->idle_rule->text);
    cJSON_AddStringToObject(o, "category", t->blocking && t->blocking->category ? t->blocking->category
                                           : t->idle ? "idle" : "none");
    char verdict[1536], expl[2048];
    build_verdict(m, t, verdict, sizeof verdict, expl, sizeof expl);
    cJSON_AddStringToObject(o, "verdict", verdict);
    cJSON_AddStringToObject(o, "explanation", expl);
    if (t->blocking_idx >= 0)
        cJSON_AddStringToObject(o, "blocking_frame", t->uf[t->blocking_idx].display);
    if (t->first_app_idx >= 0)
        cJSON_AddStringToObject(o, "first_app_frame", t->uf[t->first_app_idx].display);
    if (t->kernel_wait_idx >= 0)
        cJSON_AddStringToObject(o, "kernel_wait_frame", t->kf[t->kernel_wait_idx].display);
    if (t->driver_idx >= 0)
        cJSON_AddStringToObject(o, "driver_frame", t->kf[t->driver_idx].display);
    dt_triage_io_add_json(t, o);

    cJSON *w = cJSON_AddObjectToObject(o, "wait");
    if (t->kthread) {
        const char *keys[] = { "wait_reason", "wait_mode" };
        const char *outk[] = { "reason", "mode" };
        for (int i = 0; i < 2; i++) {
            const char *v = dt_json_get_str(t->kthread, keys[i]);
            if (v)
                cJSON_AddStringToObject(w, outk[i], v);
        }
        bool a;
        if (dt_json_bool(t->kthread, "alertable", &a))
            cJSON_AddBoolToObject(w, "alertable", a);
        const cJSON *obj = get(t->kthread, "wait_objects");
        if (cJSON_IsArray(obj) && cJSON_GetArraySize(obj) > 0) {
            const cJSON *first = cJSON_GetArrayItem(obj, 0);
            const char *addr = dt_json_get_str(first, "object");
            const char *type = dt_json_get_str(first, "type");
            if (addr)
                cJSON_AddStringToObject(w, "object", addr);
            if (type)
                cJSON_AddStringToObject(w, "object_type", type);
            uint64_t owner;
            if (dt_json_u64(first, "owner_thread_id", &owner))
                cJSON_AddNumberToObject(w, "owner_thread_id", (double)owner);
        }
    }
    if (t->has_wait_seconds)
        cJSON_AddNumberToObject(w, "seconds", t->wait_seconds);
    if (t->has_lock) {
        dt_json_add_hex(w, "object", t->lock_addr);
        cJSON_AddStringToObject(w, "object_type", "RTL_CRITICAL_SECTION");
        cJSON_AddNumberToObject(w, "owner_thread_id", (double)t->lock_owner);
    } else if (t->ulock_kind) {
        dt_json_add_hex(w, "object", t->ulock_addr);
        cJSON_AddStringToObject(w, "object_type", strcmp(t->ulock_kind, "srw_lock") == 0 ? "RTL_SRWLOCK" : "RTL_CONDITION_VARIABLE");
        cJSON_AddStringToObject(w, "object_confidence", t->ulock_conf);
    }
    if (t->syscall[0] || t->syscall_kernel_idx >= 0) {
        cJSON *s = cJSON_AddObjectToObject(o, "syscall");
        cJSON_AddStringToObject(s, "name", t->syscall);
        if (t->syscall_user_idx >= 0) {
            cJSON_AddNumberToObject(s, "user_frame", t->syscall_user_idx);
            cJSON_AddStringToObject(s, "user_name", t->uf[t->syscall_user_idx].name);
        }
        if (t->syscall_kernel_idx >= 0) {
            cJSON_AddNumberToObject(s, "kernel_frame", t->syscall_kernel_idx);
            cJSON_AddStringToObject(s, "kernel_name", t->kf[t->syscall_kernel_idx].name);
        }
    }
    char rule[256];
    dt_triage_activity_rule(t, rule, sizeof rule);
    cJSON_AddStringToObject(o, "rule", rule);
    dt_triage_activity_json(t, o); /* cpu, waits_on, blocked_threads (wait_graph.c) */
    cJSON_AddItemToObject(o, "user_frames", frames_out(t->uf, t->nuf, 0, NULL));
    cJSON_AddItemToObject(o, "kernel_frames",
                          frames_out(t->kf, t->nkf, t->kernel_fold_count,
                                     "added by the dump writer (live kernel dump snapshot APC)"));
    return o;
}

/* "2026-01-02T03:04:05Z" -> epoch seconds. */
static bool iso_time(const char *s, double *out)
{
    if (!s)
        return false;
    struct tm tm = { 0 };
    int y, mo, d, h, mi;
    double sec;
    if (sscanf(s, "%d-%d-%dT%d:%d:%lf", &y, &mo, &d, &h, &mi, &sec) != 6)
        return false;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = (int)sec;
    *out = (double)timegm(&tm) + (sec - (int)sec);
    return true;
}

static void add_check(cJSON *checks, const char *name, bool ok, const char *user_v, const char *kernel_v,
                      const char *note)
{
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "check", name);
    cJSON_AddBoolToObject(c, "ok", ok);
    if (user_v)
        cJSON_AddStringToObject(c, "user", user_v);
    if (kernel_v)
        cJSON_AddStringToObject(c, "kernel", kernel_v);
    if (note)
        cJSON_AddStringToObject(c, "note", note);
    cJSON_AddItemToArray(checks, c);
}

static const char *basename_of(const char *p)
{
    const char *b = p;
    for (; p && *p; p++)
        if (*p == '\\' || *p == '/')
            b = p + 1;
    return b;
}

/* Same-instance checks; returns false (with err) when the pair is refused. */
static bool check_instance(const cJSON *user, const cJSON *kernel, const dt_triage_options *opt, cJSON *checks,
                           cJSON *warnings, const cJSON **kproc, dt_error *err)
{
    *kproc = NULL;
    uint64_t upid;
    if (!user_pid(user, &upid)) {
        cJSON_AddItemToArray(warnings, cJSON_CreateString(
                                           "the user dump records no process id: threads are paired by thread id only"));
        return true;
    }
    const cJSON *procs = get(kernel, "processes");
    const cJSON *p;
    char have[512] = "";
    size_t hl = 0;
    cJSON_ArrayForEach(p, procs)
    {
        uint64_t kp;
        if (dt_json_u64(p, "pid", &kp)) {
            if (kp == upid)
                *kproc = p;
            if (hl < sizeof have - 1)
                hl += (size_t)snprintf(have + hl, sizeof have - hl, "%s%" PRIu64 " %s", hl ? ", " : "", kp,
                                       dt_json_get_str(p, "image") ? dt_json_get_str(p, "image") : "?");
        }
    }
    bool pid_in_threads = false;
    const cJSON *kt;
    cJSON_ArrayForEach(kt, get(kernel, "threads"))
    {
        uint64_t kp;
        if (dt_json_u64(kt, "pid", &kp) && kp == upid)
            pid_in_threads = true;
    }
    char uv[32], kv[512];
    snprintf(uv, sizeof uv, "%" PRIu64, upid);
    snprintf(kv, sizeof kv, "%s", have[0] ? have : "none");
    bool ok = *kproc || pid_in_threads;
    add_check(checks, "pid", ok, uv, kv, NULL);
    if (!ok) {
        char msg[700];
        snprintf(msg, sizeof msg,
                 "the kernel dump holds no process with the user dump's pid %" PRIu64 " (its processes: %s): "
                 "these dumps are not of the same process",
                 upid, kv);
        if (!opt->allow_mismatch) {
            dt_error_set(err, DT_ERR_ARG, "%s", msg);
            return false;
        }
        cJSON_AddItemToArray(warnings, cJSON_CreateString(msg));
        return true;
    }
    const char *uimg = dt_json_get_str(get(user, "process"), "image");
    const char *kimg = *kproc ? dt_json_get_str(*kproc, "image") : NULL;
    if (uimg && kimg) {
        /* EPROCESS.ImageFileName keeps only the first 14 characters. */
        const char *ub = basename_of(uimg);
        size_t kl = strlen(kimg);
        bool same = strncasecmp(ub, kimg, kl < 14 ? (kl ? kl : 1) : 14) == 0;
        add_check(checks, "image", same, ub, kimg, NULL);
        if (!same) {
            char msg[400];
            snprintf(msg, sizeof msg, "MISMATCH: the user dump is of %s but the kernel dump's pid %" PRIu64 " is %s",
                     ub, upid, kimg);
            cJSON_AddItemToArray(warnings, cJSON_CreateString(msg));
        }
    }
    double ut, kt2;
    const char *uct = dt_json_get_str(get(user, "process"), "create_time");
    const char *kct = *kproc ? dt_json_get_str(*kproc, "create_time") : NULL;
    if (iso_time(uct, &ut) && iso_time(kct, &kt2)) {
        bool same = ut - kt2 < 2 && kt2 - ut < 2;
        add_check(checks, "process_create_time", same, uct, kct, NULL);
        if (!same)
            cJSON_AddItemToArray(warnings, cJSON_CreateString(
                                               "MISMATCH: the process create times differ: the kernel dump's pid "
                                               "belongs to another process instance (pid reused?)"));
    }
    const char *udt = dt_json_get_str(get(user, "dump"), "time");
    const char *kdt = dt_json_get_str(get(kernel, "system"), "system_time");
    if (iso_time(udt, &ut) && iso_time(kdt, &kt2)) {
        double d = ut > kt2 ? ut - kt2 : kt2 - ut;
        bool close = d <= 600;
        char note[64];
        snprintf(note, sizeof note, "%.0f s apart", d);
        add_check(checks, "dump_time", close, udt, kdt, note);
        if (!close) {
            char msg[200];
            snprintf(msg, sizeof msg, "the dumps were written %.0f s apart: stacks may have moved between them", d);
            cJSON_AddItemToArray(warnings, cJSON_CreateString(msg));
        }
    }
    return true;
}

static int thread_rank(const dt_tthread *t)
{
    if (t->in_deadlock)
        return 0;
    if (t->stuck)
        return 1;
    if (strcmp(t->state, "crashed") == 0)
        return 1;
    if (strcmp(t->state, "waiting") == 0 && !t->idle)
        return 2;
    if (strcmp(t->state, "running") == 0 || strcmp(t->state, "ready") == 0)
        return 3;
    if (t->idle)
        return 5;
    return 4;
}

static int by_rank(const void *a, const void *b, void *ctx)
{
    const size_t *x = a, *y = b;
    const dt_tthread *base = ctx;
    const dt_tthread *t = &base[*x], *u = &base[*y];
    int rx = thread_rank(t), ry = thread_rank(u);
    if (rx != ry)
        return rx - ry;
    return t->order < u->order ? -1 : t->order > u->order;
}

/* A crash-style summary for dumps that carry an exception or a bugcheck. */
static void add_crash_summary(const dt_tmodel *m, const cJSON *user, const cJSON *kernel, cJSON *tri)
{
    const cJSON *crash = get(user, "crash_info");
    const char *code = dt_json_get_str(crash, "code");
    if (code && strcasecmp(code, "0x80000003") == 0)
        crash = NULL; /* a debugger's break-in, see dt_triage_build */
    const cJSON *bug = get(kernel, "bugcheck");
    if (cJSON_IsObject(crash)) {
        cJSON *c = cJSON_AddObjectToObject(tri, "crash");
        cJSON_AddStringToObject(c, "kind", "exception");
        const char *keys[] = { "type", "code", "address" };
        for (int i = 0; i < 3; i++)
            if (dt_json_get_str(crash, keys[i]))
                cJSON_AddStringToObject(c, keys[i], dt_json_get_str(crash, keys[i]));
        uint64_t tid;
        if (dt_json_u64(crash, "thread_id", &tid)) {
            cJSON_AddNumberToObject(c, "thread_id", (double)tid);
            for (size_t i = 0; i < m->count; i++) {
                const dt_tthread *t = &m->threads[i];
                if (t->uthread && t->tid == tid) {
                    if (t->nuf)
                        cJSON_AddStringToObject(c, "top_frame", t->uf[0].display);
                    if (t->first_app_idx >= 0)
                        cJSON_AddStringToObject(c, "first_app_frame", t->uf[t->first_app_idx].display);
                }
            }
        }
    } else if (cJSON_IsObject(bug)) {
        uint64_t bcode;
        if (!dt_json_u64(bug, "code", &bcode) || bcode == 0)
            return; /* procdump-style triage dumps carry no real bugcheck */
        cJSON *c = cJSON_AddObjectToObject(tri, "crash");
        cJSON_AddStringToObject(c, "kind", "bugcheck");
        dt_json_add_hex(c, "code", bcode);
        if (dt_json_get_str(bug, "name"))
            cJSON_AddStringToObject(c, "name", dt_json_get_str(bug, "name"));
        const cJSON *params = get(bug, "parameters");
        if (params)
            cJSON_AddItemToObject(c, "parameters", cJSON_Duplicate(params, 1));
        char faulting[160];
        if (dt_triage_bugcheck_faulting_module(m->rules, kernel, faulting, sizeof faulting))
            cJSON_AddStringToObject(c, "faulting_module", faulting);
        for (size_t i = 0; i < m->count; i++) {
            const dt_tthread *t = &m->threads[i];
            if (t->kthread && cJSON_IsTrue(get(t->kthread, "current")) && t->driver_idx >= 0) {
                cJSON_AddStringToObject(c, "driver_frame", t->kf[t->driver_idx].display);
                cJSON_AddNumberToObject(c, "thread_id", (double)t->tid);
                break;
            }
        }
    }
}

bool dt_triage_bugcheck_is_forced(uint64_t code)
{
    return code == 0x161 || code == 0xe2 || code == 0xdeaddead || code == 0x1c8;
}

/* Bugcheck parameters that are code addresses, by code (the rest: none).
 * Order: the parameter most likely to be the faulting instruction first. */
static const int *address_params(uint64_t code)
{
    static const int p2[] = { 1, -1 }, p4[] = { 3, -1 }, p3[] = { 2, -1 }, any[] = { 1, 3, 2, 0, -1 };
    switch (code & 0x0fffffff) {
    case 0x7e: case 0x8e: case 0x1e: case 0x3b: case 0x7f:
        return p2;
    case 0xd1: case 0xa:
        return p4;
    case 0x50:
        return p3;
    default:
        return any;
    }
}

bool dt_triage_bugcheck_faulting_module(const dt_rules *r, const cJSON *kernel, char *out, size_t outsz)
{
    const cJSON *bug = get(kernel, "bugcheck");
    uint64_t code;
    if (!dt_json_u64(bug, "code", &code) || code == 0)
        return false;
    const cJSON *params = get(bug, "parameters");
    for (const int *p = address_params(code); *p >= 0; p++) {
        uint64_t a;
        const cJSON *v = cJSON_GetArrayItem(params, *p);
        if (!v || !cJSON_IsString(v) || sscanf(v->valuestring, "%" SCNx64, &a) != 1)
            continue;
        const cJSON *d;
        cJSON_ArrayForEach(d, get(kernel, "drivers"))
        {
            uint64_t lo, hi;
            if (!dt_json_u64(d, "base_addr", &lo) || !dt_json_u64(d, "end_addr", &hi) || a < lo || a >= hi)
                continue;
            char mod[128];
            const char *fn = dt_json_get_str(d, "filename");
            dt_rules_normalize_module(r, fn ? fn : "", mod, sizeof mod);
            /* The core kernel is where bugchecks are raised, rarely why. */
            if (dt_rules_module_is(r, DT_RULE_KERNEL_MODULE, mod))
                continue;
            snprintf(out, outsz, "%s+0x%" PRIx64, fn ? fn : mod, a - lo);
            return true;
        }
    }
    return false;
}

/* User threads enter the model first, in file order. */
static void collect_user_threads(dt_tmodel *m, const cJSON *user, uint64_t upid, bool has_upid)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, get(user, "threads"))
    {
        dt_tthread *x = &m->threads[m->count];
        if (!thread_tid(t, &x->tid))
            continue;
        x->uthread = t;
        x->order = m->count;
        x->name = dt_json_get_str(t, "thread_name");
        x->pid = upid;
        x->has_pid = has_upid;
        x->uf = dt_tframes_from_json(m->rules, get(t, "frames"), &x->nuf);
        m->count++;
    }
}

static void add_unpaired(cJSON *unpaired, uint64_t tid, const char *only_in, const char *reason)
{
    cJSON *u = cJSON_CreateObject();
    cJSON_AddNumberToObject(u, "thread_id", (double)tid);
    cJSON_AddStringToObject(u, "only_in", only_in);
    cJSON_AddStringToObject(u, "reason", reason);
    cJSON_AddItemToArray(unpaired, u);
}

/* Kernel threads join user threads by (pid, tid); in a kernel-only analysis
 * every kernel thread is a thread of the triage.  Threads found on one side
 * only go to unpaired with the likely reason. */
static void pair_kernel_threads(dt_tmodel *m, const cJSON *user, const cJSON *kernel, uint64_t upid,
                                bool has_upid, cJSON *unpaired)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, get(kernel, "threads"))
    {
        uint64_t tid = 0, pid = 0;
        bool has_tid = thread_tid(t, &tid);
        bool has_pid = dt_json_u64(t, "pid", &pid);
        dt_tthread *match = NULL;
        if (user) {
            if (!has_tid || (has_pid && has_upid && pid != upid))
                continue; /* another process's thread (or a cpuN thread) */
            for (size_t i = 0; i < m->count; i++)
                if (m->threads[i].uthread && m->threads[i].tid == tid && !m->threads[i].kthread)
                    match = &m->threads[i];
            if (!match)
                add_unpaired(unpaired, tid, "kernel",
                             "no thread with this id in the user dump (it may have started after, or "
                             "ended before, the user dump was written)");
        }
        if (!match) {
            match = &m->threads[m->count];
            match->tid = tid;
            match->order = m->count;
            match->name = dt_json_get_str(t, "label") ? dt_json_get_str(t, "label") : dt_json_get_str(t, "image");
            m->count++;
        }
        match->kthread = t;
        if (has_pid) {
            match->pid = pid;
            match->has_pid = true;
        }
        match->kf = dt_tframes_from_json(m->rules, get(t, "frames"), &match->nkf);
    }
    if (!user || !kernel)
        return;
    for (size_t i = 0; i < m->count; i++)
        if (m->threads[i].uthread && !m->threads[i].kthread)
            add_unpaired(unpaired, m->threads[i].tid, "user",
                         "the kernel dump holds no ETHREAD for this thread id (a per-process kernel "
                         "triage dump captures a limited number of threads)");
}

/* Every thread's state, idle/stuck flags and wait facts.  *has_crash is
 * cleared when the exception is only a debugger's break-in: a breakpoint in
 * a hang dump is how winedbg, WinDbg or cdb broke in to write it, not what
 * went wrong. */
static void classify_threads(dt_tmodel *m, const cJSON *user, bool *has_crash, uint64_t *crash_tid)
{
    *has_crash = dt_json_u64(get(user, "crash_info"), "thread_id", crash_tid);
    const char *code = dt_json_get_str(get(user, "crash_info"), "code");
    bool debugger_break_in = *has_crash && code && strcasecmp(code, "0x80000003") == 0;
    if (debugger_break_in)
        *has_crash = false;
    for (size_t i = 0; i < m->count; i++) {
        dt_tthread *x = &m->threads[i];
        x->syscall_kernel_idx = -1;
        analyse_user_frames(m->rules, x);
        analyse_kernel_frames(m->rules, x);
        decide_state(x, *crash_tid, *has_crash);
        dt_triage_io_analyse(m->rules, x);
        if (debugger_break_in && x->uthread && x->tid == *crash_tid && !x->idle_rule) {
            x->idle = true;
            x->stuck = false;
            x->idle_rule = dt_rules_match(m->rules, DT_RULE_IDLE, "ntdll!dbguiremotebreakin");
        }
    }
}

/* Primary: a deadlocked thread, else the stuck thread most likely to be the
 * cause (I/O and locks before plain waits), the earliest on ties, else the
 * crashed thread. */
static const dt_tthread *choose_primary(const dt_tmodel *m, bool has_crash)
{
    for (size_t i = 0; i < m->count; i++)
        if (m->threads[i].in_deadlock)
            return &m->threads[i];
    const dt_tthread *primary = NULL;
    int best = -1;
    for (size_t i = 0; i < m->count; i++) {
        const dt_tthread *x = &m->threads[i];
        if (!x->stuck)
            continue;
        int s = io_score(x) * 2 + (x->kthread ? 1 : 0);
        if (s > best) {
            best = s;
            primary = x;
        }
    }
    if (!primary && has_crash)
        for (size_t i = 0; i < m->count && !primary; i++)
            if (strcmp(m->threads[i].state, "crashed") == 0)
                primary = &m->threads[i];
    return primary;
}

/* "process" and "counts" of the triage object. */
static void add_process_and_counts(const dt_tmodel *m, const cJSON *user, const cJSON *kproc, uint64_t upid,
                                   bool has_upid, size_t ndeadlocks, cJSON *tri, size_t *nstuck)
{
    cJSON *proc = cJSON_AddObjectToObject(tri, "process");
    if (has_upid)
        cJSON_AddNumberToObject(proc, "pid", (double)upid);
    const char *img = dt_json_get_str(get(user, "process"), "image");
    if (!img && kproc)
        img = dt_json_get_str(kproc, "image");
    if (img)
        cJSON_AddStringToObject(proc, "image", img);
    size_t nidle = 0;
    *nstuck = 0;
    for (size_t i = 0; i < m->count; i++) {
        *nstuck += m->threads[i].stuck;
        nidle += m->threads[i].idle;
    }
    cJSON *counts = cJSON_AddObjectToObject(tri, "counts");
    cJSON_AddNumberToObject(counts, "threads", (double)m->count);
    cJSON_AddNumberToObject(counts, "stuck", (double)*nstuck);
    cJSON_AddNumberToObject(counts, "idle", (double)nidle);
    cJSON_AddNumberToObject(counts, "deadlocks", (double)ndeadlocks);
}

static void add_primary(const dt_tmodel *m, const dt_tthread *primary, size_t nstuck, cJSON *tri)
{
    if (!primary) {
        cJSON_AddNullToObject(tri, "primary");
        return;
    }
    cJSON *p = cJSON_AddObjectToObject(tri, "primary");
    cJSON_AddNumberToObject(p, "thread_id", (double)primary->tid);
    cJSON_AddStringToObject(p, "thread_name", primary->name ? primary->name : "");
    char verdict[1536], expl[2048];
    build_verdict(m, primary, verdict, sizeof verdict, expl, sizeof expl);
    cJSON_AddStringToObject(p, "verdict", verdict);
    char why[2300];
    snprintf(why, sizeof why, "%s%s", expl,
             primary->in_deadlock ? " It is part of a lock cycle, so it will never continue on its own."
             : primary->graph_root ? " Chosen as primary because it is the root cause of the wait graph: the "
                                     "other stuck threads wait on it, directly or through others."
             : nstuck > 1          ? " Chosen as primary because its wait (I/O or a lock) is the most likely "
                                     "cause among the stuck threads."
                                   : "");
    cJSON_AddStringToObject(p, "explanation", why);
}

/* "threads": the primary first, then by rank (by_rank). */
static void add_threads(const dt_tmodel *m, const dt_tthread *primary, cJSON *tri)
{
    cJSON *threads = cJSON_AddArrayToObject(tri, "threads");
    size_t *idx = malloc((m->count ? m->count : 1) * sizeof *idx);
    if (!idx)
        return;
    for (size_t i = 0; i < m->count; i++)
        idx[i] = i;
    qsort_r(idx, m->count, sizeof *idx, by_rank, m->threads);
    if (primary)
        cJSON_AddItemToArray(threads, thread_out(m, primary));
    for (size_t i = 0; i < m->count; i++)
        if (&m->threads[idx[i]] != primary)
            cJSON_AddItemToArray(threads, thread_out(m, &m->threads[idx[i]]));
    free(idx);
}

dt_status dt_triage_build(const cJSON *user, const cJSON *kernel, const dt_triage_options *opt, cJSON **out,
                          dt_error *err)
{
    *out = NULL;
    if (!opt || !opt->rules)
        return dt_error_set(err, DT_ERR_ARG, "triage needs rules");
    cJSON *tri = cJSON_CreateObject();
    cJSON *checks = cJSON_CreateArray();
    cJSON *warnings = cJSON_CreateArray();
    const cJSON *kproc = NULL;
    bool paired = user && kernel;
    if (paired && !check_instance(user, kernel, opt, checks, warnings, &kproc, err)) {
        cJSON_Delete(tri);
        cJSON_Delete(checks);
        cJSON_Delete(warnings);
        return err ? err->code : DT_ERR_ARG;
    }
    uint64_t upid = 0;
    bool has_upid = user && user_pid(user, &upid);
    const cJSON *uthreads = get(user, "threads");
    const cJSON *kthreads = get(kernel, "threads");
    size_t cap = (size_t)(cJSON_IsArray(uthreads) ? cJSON_GetArraySize(uthreads) : 0) +
                 (size_t)(cJSON_IsArray(kthreads) ? cJSON_GetArraySize(kthreads) : 0);
    dt_tmodel m = { .rules = opt->rules, .user_memory = opt->user_memory };
    m.threads = calloc(cap ? cap : 1, sizeof *m.threads);
    if (!m.threads) {
        cJSON_Delete(tri);
        cJSON_Delete(checks);
        cJSON_Delete(warnings);
        return dt_error_set(err, DT_ERR_NOMEM, "out of memory");
    }
    cJSON *unpaired = cJSON_CreateArray();
    collect_user_threads(&m, user, upid, has_upid);
    pair_kernel_threads(&m, user, kernel, upid, has_upid, unpaired);
    bool has_crash;
    uint64_t crash_tid = 0;
    classify_threads(&m, user, &has_crash, &crash_tid);
    cJSON *deadlocks = cJSON_CreateArray();
    dt_triage_find_locks(&m, deadlocks);
    if (!opt->no_wait_graph) /* its SRW/condition-variable/loader-lock edges are part of the graph's cost */
        dt_triage_user_locks(&m);
    dt_triage_cpu_times(&m);
    /* The wait graph's root cause is the primary thread when there is a chain. */
    const dt_tthread *root = opt->no_wait_graph ? NULL : dt_triage_wait_graph(&m, user, tri, deadlocks);
    dt_triage_timed_waits(&m);
    const dt_tthread *primary = root ? root : choose_primary(&m, has_crash);

    cJSON_AddBoolToObject(tri, "paired", paired);
    cJSON_AddItemToObject(tri, "checks", checks);
    size_t nstuck;
    add_process_and_counts(&m, user, kproc, upid, has_upid, (size_t)cJSON_GetArraySize(deadlocks), tri, &nstuck);
    add_primary(&m, primary, nstuck, tri);
    cJSON_AddItemToObject(tri, "deadlocks", deadlocks);
    add_crash_summary(&m, user, kernel, tri);
    dt_triage_signature(&m, primary, user, kernel, tri);
    if (primary) {
        const cJSON *sig = get(tri, "signature");
        cJSON *p = cJSON_GetObjectItemCaseSensitive(tri, "primary");
        if (cJSON_IsString(sig) && p)
            cJSON_AddStringToObject(p, "signature", sig->valuestring);
    }
    add_threads(&m, primary, tri);
    cJSON_AddItemToObject(tri, "unpaired", unpaired);
    cJSON_AddItemToObject(tri, "warnings", warnings);

    dt_triage_wait_graph_free(&m);
    for (size_t i = 0; i < m.count; i++) {
        free(m.threads[i].uf);
        free(m.threads[i].kf);
    }
    free(m.threads);
    *out = tri;
    return DT_OK;
}
