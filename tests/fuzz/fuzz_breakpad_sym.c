/*
 * fuzz_breakpad_sym.c — the .sym parser, lookups, and the STACK WIN / CFI
 * evaluator on arbitrary text, unwinding over a small fixed stack.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "formats/breakpad_sym.h"
#include "symbols/breakpad_unwind.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t stack[256];

static size_t read_stack(void *ctx, uint64_t va, void *buf, size_t len)
{
    (void)ctx;
    if (va < 0x1000 || va - 0x1000 >= sizeof stack)
        return 0;
    size_t avail = sizeof stack - (size_t)(va - 0x1000);
    size_t n = len < avail ? len : avail;
    memcpy(buf, stack + (va - 0x1000), n);
    return n;
}

static bool any_code(void *ctx, uint64_t a)
{
    (void)ctx;
    return a >= 0x1000 && a < 0x1100;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dt_breakpad_sym *s = NULL;
    if (dt_breakpad_sym_parse(&s, dt_view_make(data, size), NULL) != DT_OK)
        return 0;
    for (size_t i = 0; i < sizeof stack; i++)
        stack[i] = (uint8_t)(0x10 + i);
    dt_addrspace as = { NULL, read_stack, NULL, 4 };
    size_t nf;
    const dt_breakpad_func *f = dt_breakpad_sym_functions(s, &nf);
    uint32_t probes[4] = { 0x1000, 0x4290, nf ? f[0].rva : 0, nf ? f[nf - 1].rva + 1 : 1 };
    for (int i = 0; i < 4; i++) {
        dt_breakpad_symbol sym;
        dt_breakpad_sym_lookup(s, probes[i], &sym);
        dt_breakpad_sym_has_function(s, probes[i]);
        dt_cpu_context callee = { .arch = DT_ARCH_X86 }, caller;
        dt_ctx_set(&callee, DT_X86_EIP, probes[i]);
        dt_ctx_set(&callee, DT_X86_ESP, 0x1010);
        dt_ctx_set(&callee, DT_X86_EBP, 0x1020);
        dt_breakpad_unwind_env env = { &as, any_code, NULL, 4, i == 0 };
        bool scanned;
        uint32_t params;
        dt_breakpad_unwind_win(s, probes[i], &callee, &env, &caller, &scanned, &params);
        dt_breakpad_unwind_cfi(s, probes[i], &callee, &as, &caller);
        dt_cpu_context c64 = { .arch = DT_ARCH_AMD64 };
        dt_ctx_set(&c64, DT_AMD64_RIP, probes[i]);
        dt_ctx_set(&c64, DT_AMD64_RSP, 0x1010);
        dt_breakpad_unwind_cfi(s, probes[i], &c64, &as, &caller);
    }
    dt_breakpad_sym_free(s);
    return 0;
}
