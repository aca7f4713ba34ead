/*
 * unwind_arm64.h — ARM64 frames: .pdata/.xdata unwind codes (full and
 * packed) when the image is available, else the FP/LR chain, with pointer
 * authentication bits stripped from every return address.
 */
#ifndef DT_UNWIND_UNWIND_ARM64_H
#define DT_UNWIND_UNWIND_ARM64_H

#include "formats/pe.h"
#include "unwind/walker.h"

/* Clears PAC bits: keeps the canonical user (top bits 0) or kernel (top
 * bits 1) form of a 48-bit virtual address. */
uint64_t dt_arm64_strip_pac(uint64_t addr);

/* One unwind of callee with the exception data of pe loaded at base.
 * `exact`: pc is where execution stopped (prolog/epilog matter). */
bool dt_unwind_arm64_pdata(const dt_pe *pe, uint64_t base, const dt_addrspace *as,
                           const dt_cpu_context *callee, bool exact, dt_cpu_context *caller,
                           bool *machine_frame);

bool dt_unwind_arm64_step(dt_walker *w, const dt_frame *callee, size_t index, dt_cpu_context *caller,
                          dt_unwind_result *how);

#endif
