/*
 * breakpad_unwind.c — caller registers from STACK WIN and STACK CFI data.
 *
 * STACK WIN follows Breakpad's x86 walker closely, because the MSVC frame
 * data it consumes is only right when read exactly that way: a program from
 * the record (or a synthesized one for FPO records without a program),
 * `.raSearchStart` computed from the callee's ESP and the record's sizes,
 * an up-to-three-word scan for a return address in case ESP was aligned,
 * and after evaluation a wider scan when the recovered EIP is not code,
 * plus a search for a saved EBP in the saved-register area.
 */
#include "symbols/breakpad_unwind.h"

#include <stdio.h>
#include <string.h>

#include "symbols/postfix.h"

enum { RA_SEARCH_WORDS = 40, CFI_RULES_MAX = 4096, CFI_MAX_RULES = 64 };

static bool scan_for_return(const dt_breakpad_unwind_env *env, uint64_t start, unsigned words,
                            uint64_t *location, uint64_t *ip)
{
    if (!env->is_code)
        return false;
    for (unsigned i = 0; i < words; i++) {
        uint32_t v;
        uint64_t at = (start + (uint64_t)i * 4) & UINT32_MAX;
        if (!dt_as_u32(env->as, at, &v))
            return false;
        if (env->is_code(env->ctx, v)) {
            *location = at;
            *ip = v;
            return true;
        }
    }
    return false;
}

static void preset(dt_postfix_env *pe, const dt_cpu_context *c, int reg, const char *name)
{
    uint64_t v;
    if (dt_ctx_get(c, reg, &v))
        dt_postfix_set(pe, name, v);
}

bool dt_breakpad_unwind_win(const dt_breakpad_sym *sym, uint32_t rva, const dt_cpu_context *callee,
                            const dt_breakpad_unwind_env *env, dt_cpu_context *caller,
                            bool *scanned, uint32_t *param_size)
{
    *scanned = false;
    const dt_breakpad_stack_win *w = dt_breakpad_sym_find_stack_win(sym, rva);
    uint64_t esp, ebp, eip;
    if (!w || callee->arch != DT_ARCH_X86 || !dt_ctx_get(callee, DT_X86_ESP, &esp) ||
        !dt_ctx_get(callee, DT_X86_EIP, &eip))
        return false;
    if (!dt_ctx_get(callee, DT_X86_EBP, &ebp))
        ebp = 0;
    *param_size = w->param_size;

    dt_postfix_env pe;
    dt_postfix_init(&pe, env->as, 4);
    dt_postfix_set(&pe, "$ebp", ebp);
    dt_postfix_set(&pe, "$esp", esp);
    preset(&pe, callee, DT_X86_EBX, "$ebx");
    preset(&pe, callee, DT_X86_ESI, "$esi");
    preset(&pe, callee, DT_X86_EDI, "$edi");
    dt_postfix_set(&pe, ".cbCalleeParams", env->callee_param_size);
    dt_postfix_set(&pe, ".cbSavedRegs", w->saved_regs_size);
    dt_postfix_set(&pe, ".cbLocals", w->locals_size);
    dt_postfix_set(&pe, ".cbParams", w->param_size);

    uint64_t ra_start = (esp + env->callee_param_size + w->locals_size + w->saved_regs_size) & UINT32_MAX;
    uint64_t ra_old = ra_start, loc, found;
    if (scan_for_return(env, ra_start, 3, &loc, &found)) {
        ra_start = loc;
        /* An interrupted FPO function: the "return address" found is the
         * context's own EIP; look past it. */
        if (env->context_frame && w->type == 0 && ra_old == ra_start && found == eip) {
            ra_start += 4;
            if (scan_for_return(env, ra_start, 3, &loc, &found))
                ra_start = loc;
        }
    }

    char program[512];
    bool recover_ebp = true;
    const char *prog = w->program;
    if (!prog) {
        if (w->allocates_base_pointer) {
            prog = "$eip .raSearchStart ^ = $ebp $esp .cbCalleeParams + .cbSavedRegs + 8 - ^ = "
                   "$esp .raSearchStart 4 + =";
        } else {
            snprintf(program, sizeof program, "$eip .raSearchStart ^ = $esp .raSearchStart 4 + =%s",
                     dt_ctx_get(callee, DT_X86_EBX, &found) ? " $ebx $ebx =" : "");
            prog = program;
            recover_ebp = false;
        }
    }
    /* An aligning program (`@`) makes ESP-based search starts wrong; the
     * return address then sits just above the saved EBP. */
    if (strchr(prog, '@'))
        ra_start = (ebp + 4) & UINT32_MAX;
    dt_postfix_set(&pe, ".raSearchStart", ra_start);
    dt_postfix_set(&pe, ".raSearch", ra_start);

    if (!dt_postfix_run(&pe, prog, strlen(prog)) || !dt_postfix_assigned(&pe, "$eip") ||
        !dt_postfix_assigned(&pe, "$esp"))
        return false;
    uint64_t new_eip, new_esp, new_ebp;
    dt_postfix_get(&pe, "$eip", &new_eip);
    dt_postfix_get(&pe, "$esp", &new_esp);
    dt_postfix_get(&pe, "$ebp", &new_ebp);

    if (new_eip != 0 || new_ebp != 0) {
        uint64_t offset = 0;
        if (env->is_code && !env->is_code(env->ctx, new_eip)) {
            uint64_t start = (ra_start + 4) & UINT32_MAX;
            unsigned words = env->context_frame ? RA_SEARCH_WORDS * 4 : RA_SEARCH_WORDS;
            if (scan_for_return(env, start, words, &loc, &found)) {
                new_eip = found;
                new_esp = (loc + 4) & UINT32_MAX;
                offset = loc - start;
                *scanned = true;
            }
        }
        if (recover_ebp) {
            uint32_t probe;
            bool skipped = *scanned && new_ebp <= ra_start + offset;
            if (skipped || !dt_as_u32(env->as, new_ebp, &probe)) {
                uint64_t end = (esp + env->callee_param_size) & UINT32_MAX;
                uint64_t locn = end + w->saved_regs_size + offset;
                for (unsigned k = 0; locn >= end && k < 4096; locn -= 4, k++) {
                    uint32_t cand;
                    if (!dt_as_u32(env->as, locn, &cand))
                        break;
                    if (dt_as_u32(env->as, cand, &probe)) {
                        new_ebp = cand;
                        break;
                    }
                    if (locn < 4)
                        break;
                }
            }
        }
    }

    memset(caller, 0, sizeof *caller);
    caller->arch = DT_ARCH_X86;
    dt_ctx_set(caller, DT_X86_EIP, new_eip);
    dt_ctx_set(caller, DT_X86_ESP, new_esp);
    dt_ctx_set(caller, DT_X86_EBP, new_ebp);
    static const struct { int reg; const char *name; } saved[] = {
        { DT_X86_EBX, "$ebx" }, { DT_X86_ESI, "$esi" }, { DT_X86_EDI, "$edi" } };
    for (size_t i = 0; i < sizeof saved / sizeof *saved; i++) {
        uint64_t v;
        if (dt_postfix_assigned(&pe, saved[i].name) && dt_postfix_get(&pe, saved[i].name, &v))
            dt_ctx_set(caller, saved[i].reg, v);
    }
    return true;
}

/* ---- STACK CFI --------------------------------------------------------------- */

/* Register index for a rule or variable name ("$rbx", "x19", "fp"), or -1. */
static int reg_index(dt_cpu_arch arch, const char *name, size_t len)
{
    if (len && name[0] == '$') {
        name++;
        len--;
    }
    if (arch == DT_ARCH_ARM64) {
        if (len == 3 && memcmp(name, "x29", 3) == 0)
            return DT_ARM64_FP;
        if (len == 3 && memcmp(name, "x30", 3) == 0)
            return DT_ARM64_LR;
    }
    int n = dt_cpu_context_nregs(arch);
    for (int i = 0; i < n; i++) {
        const char *r = dt_cpu_context_reg_name(arch, i);
        if (r && strlen(r) == len && memcmp(r, name, len) == 0)
            return i;
    }
    return -1;
}

static bool callee_saved(dt_cpu_arch arch, int reg)
{
    switch (arch) {
    case DT_ARCH_X86:
        return reg == DT_X86_EBX || reg == DT_X86_ESI || reg == DT_X86_EDI || reg == DT_X86_EBP;
    case DT_ARCH_AMD64:
        return reg == DT_AMD64_RBX || reg == DT_AMD64_RBP || reg == DT_AMD64_RSI ||
               reg == DT_AMD64_RDI || (reg >= DT_AMD64_R12 && reg <= DT_AMD64_R15);
    case DT_ARCH_ARM64:
        return reg >= 19 && reg <= DT_ARM64_FP;
    default:
        return false;
    }
}

typedef struct {
    const char *name, *expr;
    size_t name_len, expr_len;
} cfi_rule;

bool dt_breakpad_unwind_cfi(const dt_breakpad_sym *sym, uint32_t rva, const dt_cpu_context *callee,
                            const dt_addrspace *as, dt_cpu_context *caller)
{
    char rules[CFI_RULES_MAX];
    dt_cpu_arch arch = callee->arch;
    int ip = dt_cpu_context_ip_reg(arch), sp = dt_cpu_context_sp_reg(arch);
    if (ip < 0 || sp < 0 || !dt_breakpad_sym_cfi_rules(sym, rva, rules, sizeof rules))
        return false;

    cfi_rule r[CFI_MAX_RULES];
    size_t n = 0;
    for (const char *p = rules; *p;) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        const char *t = p;
        while (*p && *p != ' ')
            p++;
        size_t tl = (size_t)(p - t);
        if (tl > 1 && t[tl - 1] == ':') {
            if (n == CFI_MAX_RULES)
                return false;
            r[n++] = (cfi_rule){ t, t, tl - 1, 0 };
            r[n - 1].expr = p;
        } else if (n) {
            r[n - 1].expr_len = (size_t)(p - r[n - 1].expr);
        } else {
            return false; /* expression before any rule name */
        }
    }

    dt_postfix_env pe;
    dt_postfix_init(&pe, as, arch == DT_ARCH_X86 ? 4 : 8);
    int nregs = dt_cpu_context_nregs(arch);
    for (int i = 0; i < nregs; i++) {
        uint64_t v;
        const char *name = dt_cpu_context_reg_name(arch, i);
        if (!name || !dt_ctx_get(callee, i, &v))
            continue;
        char buf[DT_POSTFIX_NAME_MAX];
        snprintf(buf, sizeof buf, "%s%s", arch == DT_ARCH_ARM64 ? "" : "$", name);
        dt_postfix_set(&pe, buf, v);
    }
    if (arch == DT_ARCH_ARM64) {
        preset(&pe, callee, DT_ARM64_FP, "x29");
        preset(&pe, callee, DT_ARM64_LR, "x30");
    }

    /* The last rule for a name wins; .cfa first since the others use it. */
    uint64_t cfa = 0, ra = 0;
    bool have_cfa = false, have_ra = false;
    for (size_t i = n; i-- > 0;) {
        if (r[i].name_len == 4 && memcmp(r[i].name, ".cfa", 4) == 0) {
            if (!dt_postfix_eval(&pe, r[i].expr, r[i].expr_len, &cfa))
                return false;
            have_cfa = true;
            break;
        }
    }
    if (!have_cfa)
        return false;
    dt_postfix_set(&pe, ".cfa", cfa);

    dt_cpu_context out;
    memset(&out, 0, sizeof out);
    out.arch = arch;
    for (int i = 0; i < nregs; i++) {
        uint64_t v;
        if (callee_saved(arch, i) && dt_ctx_get(callee, i, &v))
            dt_ctx_set(&out, i, v);
    }
    for (size_t i = 0; i < n; i++) {
        bool later = false;
        for (size_t j = i + 1; j < n && !later; j++)
            later = r[j].name_len == r[i].name_len && memcmp(r[j].name, r[i].name, r[i].name_len) == 0;
        if (later || (r[i].name_len == 4 && memcmp(r[i].name, ".cfa", 4) == 0))
            continue;
        uint64_t v;
        if (!dt_postfix_eval(&pe, r[i].expr, r[i].expr_len, &v))
            return false;
        if (r[i].name_len == 3 && memcmp(r[i].name, ".ra", 3) == 0) {
            ra = v;
            have_ra = true;
            continue;
        }
        int reg = reg_index(arch, r[i].name, r[i].name_len);
        if (reg >= 0)
            dt_ctx_set(&out, reg, v);
    }
    if (!have_ra)
        return false;
    dt_ctx_set(&out, ip, ra);
    dt_ctx_set(&out, sp, cfa);
    *caller = out;
    return true;
}
