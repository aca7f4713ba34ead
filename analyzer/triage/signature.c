/*
 * signature.c — the hang signature: a short, stable string that is equal for
 * two dumps of the same hang and different for different hangs, so uploads
 * can be bucketed.
 *
 * It is built from normalised frame names only (module lower-case without
 * extension, aliases from triage.rules, no offsets, no addresses, no thread
 * ids — those change from run to run):
 *   hang|<user blocking frame>|<first application frame>|<kernel wait frame>|<driver frame>
 *   deadlock|<lock kind>|<application frames of the cycle, sorted>
 *   crash|<exception>|<first application frame>
 *   bugcheck|<code name>|<first driver frame>
 * A missing part is "-".
 *
 * Robust to symbols: a part is only ever "-" (not known), a module
 * ("hello_block": its frame has no name, or only the nearest export's, which
 * is right only when the function happens to be exported) or
 * "module!function".  Symbols arriving therefore only refine parts, never
 * replace one name by another, and dt_signature_refines() recognises the
 * richer signature of the same hang (docs/triage.md) so the server can merge
 * the buckets.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/json.h"
#include "triage/triage_internal.h"

static const char *norm_or_dash(const dt_tframe *f, int idx)
{
    return idx >= 0 ? f[idx].norm : "-";
}

/* The part an application frame contributes.  An export-only name there is
 * the nearest export below the address: a static function between two
 * exports gets the lower export's name, and the PDB later names the real
 * function, so the part would change name instead of being refined.  The
 * module alone is what is certain.  (System frames keep their export names:
 * the blocking rules match the exported APIs an application calls.) */
static const char *app_part(const dt_tframe *f)
{
    bool export_only = false;
    if (f->json && dt_json_bool(f->json, "export_only", &export_only) && export_only && f->mod[0])
        return f->mod;
    return f->norm;
}

static const char *app_or_dash(const dt_tframe *f, int idx)
{
    return idx >= 0 ? app_part(&f[idx]) : "-";
}

/* The modules whose symbols would refine the signature: those of the frames
 * that gave a part only their module (no name, or only an export's), by
 * file name as the report's modules[] list them (a kernel frame's
 * module_file).  Distinct, in part order; at most 16. */
typedef struct {
    const char *files[16];
    size_t n;
} needs_list;

static void needs_frame(needs_list *nl, const dt_tframe *f)
{
    bool export_only = false;
    if (!f || !f->mod[0] || (f->named && !(dt_json_bool(f->json, "export_only", &export_only) && export_only)))
        return;
    const char *file = dt_json_get_str(f->json, "module_file");
    if (!file)
        file = dt_json_get_str(f->json, "module");
    if (!file || !*file)
        return;
    for (size_t i = 0; i < nl->n; i++)
        if (strcmp(nl->files[i], file) == 0)
            return;
    if (nl->n < sizeof nl->files / sizeof nl->files[0])
        nl->files[nl->n++] = file;
}

static void add_needs(cJSON *tri, const needs_list *nl)
{
    cJSON *arr = cJSON_AddArrayToObject(tri, "signature_needs_symbols");
    for (size_t i = 0; arr && i < nl->n; i++)
        cJSON_AddItemToArray(arr, cJSON_CreateString(nl->files[i]));
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void add_parts(cJSON *tri, const char *const *parts, size_t n)
{
    char sig[2048];
    size_t len = 0;
    cJSON *arr = cJSON_AddArrayToObject(tri, "signature_parts");
    for (size_t i = 0; i < n; i++) {
        cJSON_AddItemToArray(arr, cJSON_CreateString(parts[i]));
        if (len < sizeof sig)
            len += (size_t)snprintf(sig + len, sizeof sig - len, "%s%s", i ? "|" : "", parts[i]);
    }
    cJSON_AddStringToObject(tri, "signature", sig);
}

static int first_app(const dt_tmodel *m, const dt_tthread *t)
{
    for (size_t i = 0; i < t->nuf; i++)
        if (!dt_tframe_is_system(m->rules, &t->uf[i]))
            return (int)i;
    return -1;
}

void dt_triage_signature(const dt_tmodel *m, const dt_tthread *primary, const cJSON *user, const cJSON *kernel,
                         cJSON *tri)
{
    needs_list nl = { .n = 0 }; /* before the goto below */
    const cJSON *crash = user ? cJSON_GetObjectItemCaseSensitive(user, "crash_info") : NULL;
    const char *exc_code = dt_json_get_str(crash, "code");
    if (exc_code && strcasecmp(exc_code, "0x80000003") == 0)
        crash = NULL; /* a debugger's break-in, not the problem */
    const cJSON *bug = kernel ? cJSON_GetObjectItemCaseSensitive(kernel, "bugcheck") : NULL;

    /* A real bugcheck is the story of a kernel dump; dumps forced to look at
     * a hang (live dumps, manual crashes, power-button holds) are not. */
    uint64_t bcode = 0;
    bool real_bugcheck = cJSON_IsObject(bug) && dt_json_u64(bug, "code", &bcode) && bcode != 0 &&
                         !dt_triage_bugcheck_is_forced(bcode);
    if (real_bugcheck)
        goto bugcheck;

    if (primary && primary->in_deadlock) {
        const char *names[64];
        size_t n = 0;
        for (size_t i = 0; i < m->count && n < 64; i++) {
            const dt_tthread *t = &m->threads[i];
            if (!t->in_deadlock)
                continue;
            int a = t->first_app_idx;
            if (a >= 0)
                needs_frame(&nl, &t->uf[a]);
            const char *nm = app_or_dash(t->uf, a);
            bool dup = false;
            for (size_t k = 0; k < n; k++)
                dup |= strcmp(names[k], nm) == 0;
            if (!dup)
                names[n++] = nm;
        }
        qsort(names, n, sizeof names[0], cmp_str);
        const char *parts[66] = { "deadlock", "critical_section" };
        for (size_t i = 0; i < n; i++)
            parts[2 + i] = names[i];
        add_parts(tri, parts, 2 + n);
        add_needs(tri, &nl);
        return;
    }
    if (primary && primary->stuck) {
        const char *parts[5] = { "hang", norm_or_dash(primary->uf, primary->blocking_idx),
                                 app_or_dash(primary->uf, primary->first_app_idx),
                                 norm_or_dash(primary->kf, primary->kernel_wait_idx),
                                 norm_or_dash(primary->kf, primary->driver_idx) };
        /* The driver holding the thread's pending IRP is the one to blame
         * (triage/io_wait.c), more than a driver frame on its stack. */
        if (primary->io_driver[0])
            parts[4] = primary->io_driver;
        /* A kernel-only thread has no user frames: name its service instead. */
        if (!primary->nuf && primary->syscall_kernel_idx >= 0)
            parts[1] = primary->kf[primary->syscall_kernel_idx].norm;
        add_parts(tri, parts, 5);
        /* Which symbols would name what is only a module or "-" here: the
         * innermost frame when no blocking frame was recognised, the
         * application frame, the kernel's innermost (not dump-writer) frame
         * when no wait frame was, the driver frame. */
        if (primary->blocking_idx < 0 && primary->nuf)
            needs_frame(&nl, &primary->uf[0]);
        if (primary->first_app_idx >= 0)
            needs_frame(&nl, &primary->uf[primary->first_app_idx]);
        if (primary->kernel_wait_idx < 0 && primary->nkf > (size_t)primary->kernel_fold_count)
            needs_frame(&nl, &primary->kf[primary->kernel_fold_count]);
        if (!primary->io_driver[0] && primary->driver_idx >= 0)
            needs_frame(&nl, &primary->kf[primary->driver_idx]);
        add_needs(tri, &nl);
        return;
    }
    if (cJSON_IsObject(crash)) {
        const char *type = dt_json_get_str(crash, "type");
        const dt_tthread *ct = NULL;
        for (size_t i = 0; i < m->count; i++)
            if (strcmp(m->threads[i].state, "crashed") == 0)
                ct = &m->threads[i];
        int a = ct ? first_app(m, ct) : -1;
        const char *parts[3] = { "crash", type ? type : "-", ct ? app_or_dash(ct->uf, a) : "-" };
        add_parts(tri, parts, 3);
        if (ct && a >= 0)
            needs_frame(&nl, &ct->uf[a]);
        add_needs(tri, &nl);
        return;
    }
bugcheck:
    if (cJSON_IsObject(bug) && bcode != 0) {
        const char *name = dt_json_get_str(bug, "name");
        char code[32] = "-";
        uint64_t c;
        if (dt_json_u64(bug, "code", &c))
            snprintf(code, sizeof code, "0x%" PRIx64, c);
        /* The faulting driver from the parameters, without its offset (a
         * rebuilt driver moves it); else the current thread's first driver frame. */
        char drv[520] = "-";
        if (dt_triage_bugcheck_faulting_module(m->rules, kernel, drv, sizeof drv)) {
            char *plus = strrchr(drv, '+');
            if (plus)
                *plus = '\0';
            char mod[160];
            dt_rules_normalize_module(m->rules, drv, mod, sizeof mod);
            snprintf(drv, sizeof drv, "%s", mod);
        } else {
            for (size_t i = 0; i < m->count; i++) {
                const dt_tthread *t = &m->threads[i];
                if (t->driver_idx >= 0 && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t->kthread, "current"))) {
                    snprintf(drv, sizeof drv, "%s", t->kf[t->driver_idx].norm);
                    break;
                }
            }
        }
        const char *parts[3] = { "bugcheck", name ? name : code, drv };
        add_parts(tri, parts, 3);
        add_needs(tri, &nl); /* its parts are a code and a module: names would not change them */
        return;
    }
    cJSON_AddNullToObject(tri, "signature");
}

/* One part: equal, or "-" then known, or a module then one of its
 * functions ("hello_block" -> "hello_block!df_read_stdin"). */
static bool part_refines(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen == blen && memcmp(a, b, alen) == 0)
        return true;
    if (alen == 1 && a[0] == '-')
        return true;
    return alen && !memchr(a, '!', alen) && blen > alen + 1 && memcmp(a, b, alen) == 0 && b[alen] == '!';
}

#define SIG_MAX_PARTS 72

/* Splits at '|' into (start, length) pairs; false when there are too many. */
static size_t split_parts(const char *s, const char **start, size_t *len)
{
    size_t n = 0;
    for (const char *p = s;; p++) {
        const char *bar = strchr(p, '|');
        size_t l = bar ? (size_t)(bar - p) : strlen(p);
        if (n == SIG_MAX_PARTS)
            return 0;
        start[n] = p;
        len[n++] = l;
        if (!bar)
            return n;
        p = bar;
    }
}

/* Every part of one side (from index 2) refines, or is refined by, some
 * part of the other: deadlock members are a sorted set, and names arriving
 * can split one module into several functions or merge duplicates. */
static bool set_covered(const char *const *a, const size_t *al, size_t an, const char *const *b, const size_t *bl,
                        size_t bn, bool a_is_coarse)
{
    for (size_t i = 2; i < an; i++) {
        bool found = false;
        for (size_t j = 2; j < bn && !found; j++)
            found = a_is_coarse ? part_refines(a[i], al[i], b[j], bl[j]) : part_refines(b[j], bl[j], a[i], al[i]);
        if (!found)
            return false;
    }
    return true;
}

bool dt_signature_refines(const char *from, const char *to)
{
    if (!from || !to || !*from || !*to)
        return false;
    const char *a[SIG_MAX_PARTS], *b[SIG_MAX_PARTS];
    size_t al[SIG_MAX_PARTS], bl[SIG_MAX_PARTS];
    size_t an = split_parts(from, a, al), bn = split_parts(to, b, bl);
    if (an < 2 || bn < 2 || al[0] != bl[0] || memcmp(a[0], b[0], al[0]) != 0)
        return false;
    if (al[0] == 8 && memcmp(a[0], "deadlock", 8) == 0) {
        if (al[1] != bl[1] || memcmp(a[1], b[1], al[1]) != 0)
            return false;
        return set_covered(a, al, an, b, bl, bn, true) && set_covered(b, bl, bn, a, al, an, false);
    }
    if (an != bn)
        return false;
    for (size_t i = 1; i < an; i++)
        if (!part_refines(a[i], al[i], b[i], bl[i]))
            return false;
    return true;
}
