/*
 * syscall_names.c — system-call stubs named without symbols (see
 * syscall_names.h).
 */
#include "symbols/syscall_names.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "symbols/syscall_names_internal.h"

static const char *name_at(int col, uint32_t n)
{
    for (int i = 0; i < DT_SYSCALL_NNAMES; i++)
        if (dt_syscall_numbers[i][col] == n)
            return dt_syscall_names[i];
    return NULL;
}

const char *dt_syscall_name(uint32_t build, uint32_t n)
{
    if (n >= 0xffff)
        return NULL;
    int below = -1, above = -1;
    for (int c = 0; c < DT_SYSCALL_NBUILDS; c++) {
        if (dt_syscall_builds[c] == build)
            return name_at(c, n);
        if (dt_syscall_builds[c] < build)
            below = c;
        else if (above < 0)
            above = c;
    }
    if (below < 0 || above < 0)
        return NULL;
    const char *a = name_at(below, n), *b = name_at(above, n);
    return a && b && strcmp(a, b) == 0 ? a : NULL;
}

/* "10.0.26100.8246" -> 26100 */
static uint32_t build_of(const char *version)
{
    const char *p = version;
    for (int dots = 0; *p && dots < 2; p++)
        if (*p == '.')
            dots++;
    return *p ? (uint32_t)strtoul(p, NULL, 10) : 0;
}

static bool is_ntdll(const char *code_file)
{
    if (!code_file)
        return false;
    const char *b = code_file;
    for (const char *p = code_file; *p; p++)
        if (*p == '\\' || *p == '/')
            b = p + 1;
    return strcasecmp(b, "ntdll.dll") == 0;
}

bool dt_syscall_identify(const dt_module *m, uint64_t ip, const dt_cpu_context *ctx, const dt_addrspace *as,
                         dt_syscall *out)
{
    memset(out, 0, sizeof *out);
    if (!m || !ctx || ctx->arch != DT_ARCH_AMD64 || !is_ntdll(m->code_file) || ip < m->base + 0x14)
        return false;
    uint32_t build = build_of(m->version);
    if (!build)
        return false;
    /* x64 stubs: 4C 8B D1 (mov r10, rcx) B8 imm32 (mov eax, N) … 0F 05
     * (syscall) C3 (ret) at +0x12/+0x14; the thread's ip is the ret. */
    unsigned char stub[0x15];
    if (as && dt_as_read(as, ip - 0x14, stub, sizeof stub) == sizeof stub) {
        if (memcmp(stub, "\x4c\x8b\xd1\xb8", 4) != 0 || stub[0x12] != 0x0f || stub[0x13] != 0x05 || stub[0x14] != 0xc3)
            return false; /* the bytes are there and are no stub */
        out->number = (uint32_t)stub[4] | (uint32_t)stub[5] << 8 | (uint32_t)stub[6] << 16 | (uint32_t)stub[7] << 24;
        out->source = "stub";
    } else {
        /* Without the bytes: stubs start 16-byte aligned, so the ret is at
         * 4 mod 16; the number is in the saved RAX. */
        uint64_t rax;
        if ((ip & 0xf) != 4 || !dt_ctx_get(ctx, DT_AMD64_RAX, &rax) || rax >= 0x1000)
            return false;
        out->number = (uint32_t)rax;
        out->source = "rax";
    }
    out->name = dt_syscall_name(build, out->number);
    return out->name != NULL;
}
