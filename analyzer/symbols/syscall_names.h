/*
 * syscall_names.h — naming a thread stopped in an ntdll system-call stub
 * without symbols for ntdll (a minidump without module images and no
 * symbol server: the Electron dump in the corpus shows ntdll+0x1657b4).
 *
 * The service number comes from the stub bytes in the dump when present
 * ("mov r10, rcx; mov eax, N" at ip - 0x14, ip at the ret after syscall),
 * else from RAX of the thread's context: a thread in a system call keeps
 * the number in the RAX of its saved user context.  The number is named
 * with the x64 per-build table of j00ru/windows-syscalls (see
 * scripts/gen_syscall_names.py; docs/symbols.md).  x64 ntdll only: win32k
 * numbers move within one build's servicing, so they are not named.
 */
#ifndef DT_SYMBOLS_SYSCALL_NAMES_H
#define DT_SYMBOLS_SYSCALL_NAMES_H

#include <stdbool.h>
#include <stdint.h>

#include "base/addrspace.h"
#include "base/cpu_context.h"
#include "base/module.h"

/* The Nt* name of service number n on Windows build `build` (x64), or NULL.
 * A build missing from the table is named only when the nearest listed
 * builds below and above it agree. */
const char *dt_syscall_name(uint32_t build, uint32_t n);

typedef struct {
    const char *name;     /* static */
    uint32_t number;
    const char *source;   /* static: "stub" or "rax" */
} dt_syscall;

/* True when frame 0 at ip in module m (ntdll, x64) sits at a system-call
 * stub's return and the service is known; ctx is the thread's context.
 * The build is taken from ntdll's file version ("10.0.26100.…"). */
bool dt_syscall_identify(const dt_module *m, uint64_t ip, const dt_cpu_context *ctx, const dt_addrspace *as,
                         dt_syscall *out);

#endif
