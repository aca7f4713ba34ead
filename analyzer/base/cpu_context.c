/*
 * cpu_context.c — decoding x86, AMD64 and ARM64 CONTEXT records.
 *
 * Offsets are those of winnt.h's CONTEXT (docs/formats.md A.11).  The flags
 * word's architecture bit is not required to match: real dumps (Wine, some
 * Crashpad versions) set only the group bits, so the caller's architecture
 * (from SystemInfo or the kernel header) decides the layout.
 */
#include "base/cpu_context.h"

#define CTX_AMD64_CONTROL 0x1u
#define CTX_AMD64_INTEGER 0x2u
#define CTX_X86_CONTROL   0x1u
#define CTX_X86_INTEGER   0x2u
#define CTX_ARM64_CONTROL 0x1u
#define CTX_ARM64_INTEGER 0x2u

static void set_from(dt_cpu_context *c, int reg, dt_view v, size_t off, unsigned width)
{
    if (width == 8) {
        uint64_t x;
        if (dt_view_u64(v, off, &x))
            dt_ctx_set(c, reg, x);
    } else {
        uint32_t x;
        if (dt_view_u32(v, off, &x))
            dt_ctx_set(c, reg, x);
    }
}

static dt_status parse_amd64(dt_view r, dt_cpu_context *c, dt_error *err)
{
    uint32_t flags;
    if (r.size < 0x100 || !dt_view_u32(r, 0x30, &flags))
        return dt_error_set(err, DT_ERR_TRUNCATED, "AMD64 CONTEXT is %zu bytes, need 0x100", r.size);
    c->context_flags = flags;
    /* A record without any group bits is still the only state we have; treat
     * it as complete rather than discard the thread (Wine writes 0 here on
     * some paths). */
    if ((flags & 0xffff) == 0)
        flags |= CTX_AMD64_CONTROL | CTX_AMD64_INTEGER;
    if (flags & CTX_AMD64_CONTROL) {
        set_from(c, DT_AMD64_RSP, r, 0x98, 8);
        set_from(c, DT_AMD64_RIP, r, 0xF8, 8);
        set_from(c, DT_AMD64_EFLAGS, r, 0x44, 4);
    }
    if (flags & CTX_AMD64_INTEGER) {
        static const struct { int reg; size_t off; } ints[] = {
            { DT_AMD64_RAX, 0x78 }, { DT_AMD64_RCX, 0x80 }, { DT_AMD64_RDX, 0x88 },
            { DT_AMD64_RBX, 0x90 }, { DT_AMD64_RBP, 0xA0 }, { DT_AMD64_RSI, 0xA8 },
            { DT_AMD64_RDI, 0xB0 }, { DT_AMD64_R8, 0xB8 },  { DT_AMD64_R9, 0xC0 },
            { DT_AMD64_R10, 0xC8 }, { DT_AMD64_R11, 0xD0 }, { DT_AMD64_R12, 0xD8 },
            { DT_AMD64_R13, 0xE0 }, { DT_AMD64_R14, 0xE8 }, { DT_AMD64_R15, 0xF0 },
        };
        for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
            set_from(c, ints[i].reg, r, ints[i].off, 8);
    }
    return DT_OK;
}

static dt_status parse_x86(dt_view r, dt_cpu_context *c, dt_error *err)
{
    uint32_t flags;
    if (r.size < DT_CONTEXT_X86_SIZE || !dt_view_u32(r, 0, &flags))
        return dt_error_set(err, DT_ERR_TRUNCATED, "x86 CONTEXT is %zu bytes, need 0x%x", r.size,
                            DT_CONTEXT_X86_SIZE);
    c->context_flags = flags;
    if ((flags & 0xffff) == 0)
        flags |= CTX_X86_CONTROL | CTX_X86_INTEGER;
    if (flags & CTX_X86_CONTROL) {
        set_from(c, DT_X86_EBP, r, 0xB4, 4);
        set_from(c, DT_X86_EIP, r, 0xB8, 4);
        set_from(c, DT_X86_EFLAGS, r, 0xC0, 4);
        set_from(c, DT_X86_ESP, r, 0xC4, 4);
    }
    if (flags & CTX_X86_INTEGER) {
        set_from(c, DT_X86_EDI, r, 0x9C, 4);
        set_from(c, DT_X86_ESI, r, 0xA0, 4);
        set_from(c, DT_X86_EBX, r, 0xA4, 4);
        set_from(c, DT_X86_EDX, r, 0xA8, 4);
        set_from(c, DT_X86_ECX, r, 0xAC, 4);
        set_from(c, DT_X86_EAX, r, 0xB0, 4);
    }
    return DT_OK;
}

static dt_status parse_arm64(dt_view r, dt_cpu_context *c, dt_error *err)
{
    uint32_t flags;
    if (r.size < 0x110 || !dt_view_u32(r, 0, &flags))
        return dt_error_set(err, DT_ERR_TRUNCATED, "ARM64 CONTEXT is %zu bytes, need 0x110", r.size);
    c->context_flags = flags;
    if ((flags & 0xffff) == 0)
        flags |= CTX_ARM64_CONTROL | CTX_ARM64_INTEGER;
    if (flags & CTX_ARM64_CONTROL) {
        set_from(c, DT_ARM64_CPSR, r, 0x04, 4);
        set_from(c, DT_ARM64_FP, r, 0xF0, 8);
        set_from(c, DT_ARM64_LR, r, 0xF8, 8);
        set_from(c, DT_ARM64_SP, r, 0x100, 8);
        set_from(c, DT_ARM64_PC, r, 0x108, 8);
    }
    if (flags & CTX_ARM64_INTEGER) {
        for (int i = 0; i <= 28; i++)
            set_from(c, i, r, 0x08 + (size_t)i * 8, 8);
        /* Windows counts FP and LR as integer registers too. */
        set_from(c, DT_ARM64_FP, r, 0xF0, 8);
        set_from(c, DT_ARM64_LR, r, 0xF8, 8);
    }
    return DT_OK;
}

dt_status dt_cpu_context_parse(dt_cpu_arch arch, dt_view record, dt_cpu_context *out, dt_error *err)
{
    memset(out, 0, sizeof *out);
    out->arch = arch;
    switch (arch) {
    case DT_ARCH_AMD64: return parse_amd64(record, out, err);
    case DT_ARCH_X86: return parse_x86(record, out, err);
    case DT_ARCH_ARM64: return parse_arm64(record, out, err);
    default:
        return dt_error_set(err, DT_ERR_UNSUPPORTED, "CONTEXT of architecture %s is not decoded",
                            dt_cpu_arch_name(arch));
    }
}

int dt_cpu_context_ip_reg(dt_cpu_arch arch)
{
    switch (arch) {
    case DT_ARCH_AMD64: return DT_AMD64_RIP;
    case DT_ARCH_X86: return DT_X86_EIP;
    case DT_ARCH_ARM64: return DT_ARM64_PC;
    default: return -1;
    }
}

int dt_cpu_context_sp_reg(dt_cpu_arch arch)
{
    switch (arch) {
    case DT_ARCH_AMD64: return DT_AMD64_RSP;
    case DT_ARCH_X86: return DT_X86_ESP;
    case DT_ARCH_ARM64: return DT_ARM64_SP;
    default: return -1;
    }
}

int dt_cpu_context_fp_reg(dt_cpu_arch arch)
{
    switch (arch) {
    case DT_ARCH_AMD64: return DT_AMD64_RBP;
    case DT_ARCH_X86: return DT_X86_EBP;
    case DT_ARCH_ARM64: return DT_ARM64_FP;
    default: return -1;
    }
}

int dt_cpu_context_nregs(dt_cpu_arch arch)
{
    switch (arch) {
    case DT_ARCH_AMD64: return DT_AMD64_NREGS;
    case DT_ARCH_X86: return DT_X86_NREGS;
    case DT_ARCH_ARM64: return DT_ARM64_NREGS;
    default: return 0;
    }
}

const char *dt_cpu_context_reg_name(dt_cpu_arch arch, int reg)
{
    static const char *amd64[] = { "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8",
                                   "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip", "eflags" };
    static const char *x86[] = { "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "eip", "eflags" };
    static const char *arm64[] = { "x0",  "x1",  "x2",  "x3",  "x4",  "x5",  "x6",  "x7",  "x8",
                                   "x9",  "x10", "x11", "x12", "x13", "x14", "x15", "x16", "x17",
                                   "x18", "x19", "x20", "x21", "x22", "x23", "x24", "x25", "x26",
                                   "x27", "x28", "fp",  "lr",  "sp",  "pc",  "cpsr" };
    if (reg < 0)
        return NULL;
    switch (arch) {
    case DT_ARCH_AMD64: return reg < DT_AMD64_NREGS ? amd64[reg] : NULL;
    case DT_ARCH_X86: return reg < DT_X86_NREGS ? x86[reg] : NULL;
    case DT_ARCH_ARM64: return reg < DT_ARM64_NREGS ? arm64[reg] : NULL;
    default: return NULL;
    }
}

const char *dt_cpu_arch_name(dt_cpu_arch arch)
{
    switch (arch) {
    case DT_ARCH_X86: return "x86";
    case DT_ARCH_AMD64: return "amd64";
    case DT_ARCH_ARM64: return "arm64";
    case DT_ARCH_ARM: return "arm";
    default: return "unknown";
    }
}

dt_cpu_arch dt_cpu_arch_from_processor_architecture(uint16_t pa)
{
    switch (pa) {
    case 0: return DT_ARCH_X86;
    case 5: return DT_ARCH_ARM;
    case 9: return DT_ARCH_AMD64;
    case 12: return DT_ARCH_ARM64;
    default: return DT_ARCH_UNKNOWN;
    }
}

dt_cpu_arch dt_cpu_arch_from_machine(uint32_t m)
{
    switch (m) {
    case 0x14C: return DT_ARCH_X86;
    case 0x8664: return DT_ARCH_AMD64;
    case 0xAA64: return DT_ARCH_ARM64;
    case 0x1C0: case 0x1C4: return DT_ARCH_ARM;
    default: return DT_ARCH_UNKNOWN;
    }
}
