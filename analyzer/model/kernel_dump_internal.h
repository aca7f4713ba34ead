/*
 * kernel_dump_internal.h — what the kernel_*.c model files share and no one
 * else calls: thread/process extraction.
 */
#ifndef DT_MODEL_KERNEL_DUMP_INTERNAL_H
#define DT_MODEL_KERNEL_DUMP_INTERNAL_H

#include "model/kernel_dump.h"

/* kernel_threads.c */
dt_status dt_kernel_collect_threads(dt_kernel_dump *kd, size_t max_threads);
/* Reads the identity (Cid, image) of an ETHREAD/EPROCESS pair under offsets o;
 * used to validate candidate layouts.  False when implausible. */
bool dt_kernel_check_identity(const dt_addrspace *as, const dt_kernel_offsets *o, uint64_t ethread,
                              uint64_t eprocess);

/* kernel_irp.c: each thread's pending IRPs and their file, device and
 * driver objects (thread.irps). */
void dt_kernel_collect_irps(dt_kernel_dump *kd);
/* kernel_alpc.c: what each thread in an ALPC/LPC wait (WrLpcReply,
 * WrLpcReceive) waits on: message, port, port name, server process and
 * thread (thread.alpc).  Run after the threads' wait objects are read. */
void dt_kernel_collect_alpc(dt_kernel_dump *kd);
/* kernel_text.c: UTF-16LE → UTF-8 into out[cap]; unpaired surrogates and
 * NULs become U+FFFD; always NUL-terminated, never cut inside a character. */
void dt_kernel_utf16_to_utf8(const uint8_t *p, size_t nbytes, char *out, size_t cap);
/* kernel_threads.c: the CONTEXT the -mk writer captured on a thread's own
 * stack; true when one passes the test of docs/kernel.md. */
bool dt_kernel_find_captured_context(dt_kernel_dump *kd, dt_kernel_thread *t);

#endif
