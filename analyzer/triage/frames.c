/*
 * frames.c — report frames normalised once for matching (rules) and shown
 * WinDbg-style (`kernelbase!ReadFile+0x148`, `hello_block+0x13ae`).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "triage/triage_internal.h"

/* "C:\\x\\KERNELBASE.dll" -> "KERNELBASE" (case kept), with module aliases. */
static void display_module(const dt_rules *r, const char *module, char *out, size_t outsz)
{
    char norm[128];
    dt_rules_normalize_module(r, module, norm, sizeof norm);
    const char *base = module ? module : "";
    for (const char *p = base; *p; p++)
        if (*p == '\\' || *p == '/')
            base = p + 1;
    snprintf(out, outsz, "%s", base);
    char *dot = strrchr(out, '.');
    if (dot && dot != out)
        *dot = '\0';
    /* An alias renames (ntoskrnl -> nt); keep the dump's case otherwise. */
    if (strcasecmp(out, norm) != 0)
        snprintf(out, outsz, "%s", norm);
}

dt_tframe *dt_tframes_from_json(const dt_rules *r, const cJSON *frames, size_t *count)
{
    *count = 0;
    int n = cJSON_IsArray(frames) ? cJSON_GetArraySize(frames) : 0;
    if (n <= 0)
        return NULL;
    dt_tframe *out = calloc((size_t)n, sizeof *out);
    if (!out)
        return NULL;
    size_t k = 0;
    const cJSON *f;
    cJSON_ArrayForEach(f, frames)
    {
        dt_tframe *t = &out[k++];
        t->json = f;
        const char *module = dt_json_get_str(f, "module");
        const char *function = dt_json_get_str(f, "function");
        /* In inlined code the innermost inline function is what the thread
         * is doing (#19): verdicts and signatures match on it, and the
         * display says where it was inlined, as WinDbg does. */
        const cJSON *inl = cJSON_GetObjectItemCaseSensitive(f, "inlines");
        const char *inner = cJSON_IsArray(inl) ? dt_json_get_str(cJSON_GetArrayItem(inl, 0), "function_name") : NULL;
        const char *outer = NULL;
        if (inner && *inner && function && *function) {
            outer = function;
            function = inner;
        }
        t->named = function && *function;
        dt_rules_normalize(r, module, t->named ? function : NULL, t->norm, sizeof t->norm);
        dt_rules_normalize_module(r, module, t->mod, sizeof t->mod);
        char dmod[128];
        display_module(r, module, dmod, sizeof dmod);
        uint64_t off = 0;
        if (t->named) {
            bool has_off = dt_json_u64(f, "function_offset", &off);
            snprintf(t->name, sizeof t->name, "%s!%s", dmod, function);
            if (outer)
                snprintf(t->display, sizeof t->display, "%s [inlined in %s!%s+0x%" PRIx64 "]", t->name, dmod,
                         outer, off);
            else if (has_off)
                snprintf(t->display, sizeof t->display, "%s+0x%" PRIx64, t->name, off);
            else
                snprintf(t->display, sizeof t->display, "%s", t->name);
        } else if (module && *module) {
            dt_json_u64(f, "module_offset", &off);
            snprintf(t->name, sizeof t->name, "%s+0x%" PRIx64, dmod, off);
            snprintf(t->display, sizeof t->display, "%s", t->name);
        } else {
            uint64_t ip = 0;
            bool generated = false;
            dt_json_u64(f, "ip", &ip);
            dt_json_bool(f, "generated_code", &generated);
            if (generated) {
                /* code outside every module (JIT): its address differs
                 * from run to run, so the name (and any signature built
                 * from it) does not carry it; the display does */
                snprintf(t->name, sizeof t->name, "[JIT/generated code]");
                snprintf(t->norm, sizeof t->norm, "[jit]");
                snprintf(t->display, sizeof t->display, "[JIT/generated code] 0x%" PRIx64, ip);
            } else {
                snprintf(t->name, sizeof t->name, "0x%" PRIx64, ip);
                snprintf(t->display, sizeof t->display, "%s", t->name);
            }
        }
        t->has_sp = dt_json_u64(f, "sp", &t->sp);
    }
    *count = k;
    return out;
}

bool dt_tframe_is_system(const dt_rules *r, const dt_tframe *f)
{
    /* generated code belongs to the application (its JIT), not the system */
    bool generated = false;
    if (!f->mod[0] && f->json && dt_json_bool(f->json, "generated_code", &generated) && generated)
        return false;
    return !f->mod[0] || dt_rules_module_is(r, DT_RULE_SYSTEM_MODULE, f->mod);
}
