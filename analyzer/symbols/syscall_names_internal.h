/*
 * syscall_names_internal.h — the generated table's shape
 * (syscall_names_table.c, scripts/gen_syscall_names.py); only
 * syscall_names.c reads it.
 */
#ifndef DT_SYMBOLS_SYSCALL_NAMES_INTERNAL_H
#define DT_SYMBOLS_SYSCALL_NAMES_INTERNAL_H

#include <stdint.h>

#define DT_SYSCALL_NBUILDS 24
#define DT_SYSCALL_NNAMES 506

extern const uint32_t dt_syscall_builds[DT_SYSCALL_NBUILDS];
extern const char *const dt_syscall_names[DT_SYSCALL_NNAMES];
extern const uint16_t dt_syscall_numbers[DT_SYSCALL_NNAMES][DT_SYSCALL_NBUILDS];

#endif
