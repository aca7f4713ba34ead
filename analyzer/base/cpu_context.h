/*
 * cpu_context.h — thread register state, architecture-neutral.
 *
 * Minidump threads, minidump exceptions and kernel dump headers/PRCBs all
 * carry a Windows CONTEXT record whose layout depends on the architecture.
 * This file decodes those records into one flat register file with a
 * validity mask (rust-minidump's idea: a walker asks "is RBP known?", and a
 * register recovered by unwinding is valid exactly when the unwinder could
 * recover it).  ContextFlags decide which groups are valid.
 */
#ifndef DT_BASE_CPU_CONTEXT_H
#define DT_BASE_CPU_CONTEXT_H

#include <stdbool.h>
#include <stdint.h>

#include "base/view.h"
#include "base/error.h"

typedef enum {
    DT_ARCH_UNKNOWN = 0,
    DT_ARCH_X86,
    DT_ARCH_AMD64,
    DT_ARCH_ARM64,
    DT_ARCH_ARM,
} dt_cpu_arch;

/* Register numbers.  AMD64 uses the x64 unwind-code encoding order
 * (RAX=0 … R15=15), so UNWIND_CODE.OpInfo indexes regs[] directly. */
enum {
    DT_AMD64_RAX = 0, DT_AMD64_RCX, DT_AMD64_RDX, DT_AMD64_RBX, DT_AMD64_RSP,
    DT_AMD64_RBP, DT_AMD64_RSI, DT_AMD64_RDI, DT_AMD64_R8, DT_AMD64_R9,
    DT_AMD64_R10, DT_AMD64_R11, DT_AMD64_R12, DT_AMD64_R13, DT_AMD64_R14,
    DT_AMD64_R15, DT_AMD64_RIP, DT_AMD64_EFLAGS, DT_AMD64_NREGS
};
enum {
    DT_X86_EAX = 0, DT_X86_ECX, DT_X86_EDX, DT_X86_EBX, DT_X86_ESP, DT_X86_EBP,
    DT_X86_ESI, DT_X86_EDI, DT_X86_EIP, DT_X86_EFLAGS, DT_X86_NREGS
};
enum {
    /* X0..X28 are 0..28 */
    DT_ARM64_FP = 29, DT_ARM64_LR = 30, DT_ARM64_SP = 31, DT_ARM64_PC = 32,
    DT_ARM64_CPSR = 33, DT_ARM64_NREGS
};
#define DT_CTX_MAX_REGS 34

typedef struct {
    dt_cpu_arch arch;
    uint32_t context_flags;  /* as in the record */
    uint64_t valid;          /* bit i set: regs[i] is known */
    uint64_t regs[DT_CTX_MAX_REGS];
} dt_cpu_context;

/* Minimum CONTEXT record sizes per architecture. */
#define DT_CONTEXT_X86_SIZE   0xCC   /* through SegSs; ExtendedRegisters optional */
#define DT_CONTEXT_AMD64_SIZE 0x4D0
#define DT_CONTEXT_ARM64_SIZE 0x390

/* Decodes a CONTEXT record of the given architecture.  Registers whose
 * ContextFlags group is absent are left invalid.  Fails only when the record
 * is too short to hold the control registers. */
dt_status dt_cpu_context_parse(dt_cpu_arch arch, dt_view record, dt_cpu_context *out, dt_error *err);

/* Instruction pointer / stack pointer / frame pointer register index. */
int dt_cpu_context_ip_reg(dt_cpu_arch arch);
int dt_cpu_context_sp_reg(dt_cpu_arch arch);
int dt_cpu_context_fp_reg(dt_cpu_arch arch);
int dt_cpu_context_nregs(dt_cpu_arch arch);
/* Lower-case register name ("rip", "x19", ...) or NULL. */
const char *dt_cpu_context_reg_name(dt_cpu_arch arch, int reg);

static inline bool dt_ctx_get(const dt_cpu_context *c, int reg, uint64_t *out)
{
    if (reg < 0 || reg >= DT_CTX_MAX_REGS || !(c->valid & (UINT64_C(1) << reg)))
        return false;
    *out = c->regs[reg];
    return true;
}
static inline void dt_ctx_set(dt_cpu_context *c, int reg, uint64_t v)
{
    if (reg < 0 || reg >= DT_CTX_MAX_REGS)
        return;
    c->regs[reg] = v;
    c->valid |= UINT64_C(1) << reg;
}

/* Name of an architecture ("x86", "amd64", "arm64", ...) as used in reports. */
const char *dt_cpu_arch_name(dt_cpu_arch arch);
/* From MINIDUMP SystemInfo.ProcessorArchitecture / PE or kernel machine type. */
dt_cpu_arch dt_cpu_arch_from_processor_architecture(uint16_t pa);
dt_cpu_arch dt_cpu_arch_from_machine(uint32_t image_file_machine);

#endif
