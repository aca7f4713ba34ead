/*
 * stackwalk.h — one stack walker for x86, AMD64 and ARM64, user or kernel.
 *
 * The walker starts from a thread's register context and, frame by frame,
 * asks the best available source for the caller's registers: unwind data
 * (x64 .pdata/UNWIND_INFO, ARM64 .pdata/.xdata, read from the image in dump
 * memory or from a PE file a hook supplies, or Breakpad STACK CFI/WIN through
 * a hook), then the frame-pointer chain, then a scan of the stack for return
 * addresses.  Each frame records which source found it (its trust), with the
 * names rust-minidump and minidump-stackwalk use, so readers know how far to
 * believe it.
 *
 * The walk is bounded (max_frames), stops when the stack pointer fails to
 * grow, when an (ip, sp) pair repeats, when sp leaves known stack bounds, and
 * at a machine frame that leads from a kernel stack into user mode (that user
 * context is kept in boundary_context: it is where the thread entered the
 * kernel).
 */
#ifndef DT_UNWIND_STACKWALK_H
#define DT_UNWIND_STACKWALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/cpu_context.h"
#include "base/view.h"
#include "base/addrspace.h"
#include "base/module.h"
#include "base/error.h"
#include "formats/minidump_function_table.h"

typedef enum {
    DT_TRUST_NONE = 0,
    DT_TRUST_SCAN,          /* a stack word that looks like a return address */
    DT_TRUST_CFI_SCAN,      /* scanned, then confirmed by CFI of the found frame */
    DT_TRUST_FRAME_POINTER, /* RBP/EBP/FP chain */
    DT_TRUST_CFI,           /* unwind data: .pdata/UNWIND_INFO, .xdata, Breakpad CFI/WIN */
    DT_TRUST_CONTEXT,       /* the thread's own register context */
} dt_frame_trust;

/* "context", "cfi", "frame_pointer", "scan", "cfi_scan", "none". */
const char *dt_frame_trust_name(dt_frame_trust t);

/* What a Breakpad-style unwinder needs to know about the frame beyond its
 * registers, and what it reports back (STACK WIN programs scan for the
 * return address and pass parameter sizes from frame to frame). */
typedef struct {
    bool context_frame;          /* the callee is frame 0 (thread context) */
    uint32_t callee_param_size;  /* param_size reported for the frame below, else 0 */
    /* The walker's plausibility test for return addresses (module code,
     * known function), for the hook's own scans. */
    bool (*is_code)(void *is_code_ctx, uint64_t addr);
    void *is_code_ctx;
    /* out */
    bool scanned;                /* the return address came from a scan */
    uint32_t param_size;         /* this frame's parameter size, for the next */
} dt_cfi_frame_info;

/* Outside help, all optional (NULL members are skipped).  The symbol layer
 * fills these: Breakpad STACK CFI/WIN evaluation, PE files found in symbol
 * directories, function-range knowledge. */
typedef struct {
    void *ctx;
    /* Computes the caller's registers for a frame at rva inside m (rva of
     * the return address - 1 for caller frames), given what info says of
     * the frame.  A frame whose info->scanned comes back true gets trust
     * cfi_scan. */
    bool (*cfi_unwind)(void *ctx, const dt_module *m, uint64_t rva, const dt_cpu_context *callee,
                       const dt_addrspace *as, dt_cfi_frame_info *info, dt_cpu_context *caller);
    /* A PE file for m; the bytes must stay valid while ctx lives. */
    bool (*image_file)(void *ctx, const dt_module *m, dt_view *pe_file);
    /* True when rva is inside a known function of m. */
    bool (*has_function)(void *ctx, const dt_module *m, uint64_t rva);
} dt_stackwalk_hooks;

/* A committed executable memory region (MemoryInfoList), for code that
 * belongs to no module: JIT compilers' and other generated code. */
typedef struct {
    uint64_t base, size;
    uint32_t protect, state, type;  /* MEMORY_BASIC_INFORMATION values */
} dt_code_region;

/* What a dump says about generated code (#19, docs/symbols.md "JIT and
 * generated code"): the dynamic function tables a process registered
 * (RtlAddFunctionTable: the FunctionTable stream), whose RUNTIME_FUNCTION
 * entries and UNWIND_INFO (read from dump memory) unwind such frames as
 * .pdata does for images, and the executable regions, sorted by base, that
 * make a return address outside every module a frame rather than the end of
 * the walk. */
typedef struct {
    const dt_md_function_tables *tables; /* may be NULL */
    const dt_code_region *regions;       /* may be NULL */
    size_t nregions;
} dt_generated_code;

/* The executable region holding addr, or NULL. */
const dt_code_region *dt_generated_code_region(const dt_generated_code *g, uint64_t addr);

typedef struct {
    uint64_t ip;
    uint64_t sp;
    uint64_t fp;
    bool has_fp;
    dt_frame_trust trust;
    const dt_module *module;   /* borrowed from the input module list; NULL if none */
    uint64_t module_offset;    /* ip - module->base */
    bool machine_frame;        /* reached through a trap/machine frame */
    dt_cpu_context context;    /* registers known in this frame */
    /* Code outside every module (no module): in executable memory or in a
     * dynamic function table's range.  region: the memory region holding
     * ip (borrowed from the input), NULL when unknown; function_table: the
     * dynamic function table covering ip (borrowed), NULL when none. */
    bool generated_code;
    const dt_code_region *region;
    const dt_md_function_table *function_table;
} dt_frame;

typedef struct {
    dt_frame *frames;          /* owned; frames[0] is the context frame */
    size_t count;
    const char *stop_reason;   /* static string: why the walk ended */
    bool has_boundary_context; /* a kernel walk reached the user-mode context */
    dt_cpu_context boundary_context;
} dt_stack;

/* Images opened by one walk, kept for the next walks over the same memory,
 * module list and hooks (all threads of one dump): opening an image costs a
 * header read, and a process has thousands of threads but few modules.  A
 * cache bound to other inputs is emptied first.  Not thread-safe. */
typedef struct dt_stackwalk_cache dt_stackwalk_cache;
dt_stackwalk_cache *dt_stackwalk_cache_new(void); /* NULL on OOM */
void dt_stackwalk_cache_free(dt_stackwalk_cache *c);

typedef struct {
    dt_cpu_arch arch;
    const dt_cpu_context *start;
    const dt_addrspace *memory;      /* target memory (stack, images) */
    const dt_module_list *modules;   /* sorted; may be NULL */
    uint64_t stack_low, stack_high;  /* both 0 when unknown */
    const dt_stackwalk_hooks *hooks; /* may be NULL */
    size_t max_frames;               /* 0: DT_STACKWALK_MAX_FRAMES */
    dt_warnings *warnings;           /* may be NULL */
    dt_stackwalk_cache *cache;       /* may be NULL: images live for one walk */
    const dt_generated_code *generated; /* may be NULL: no code outside modules */
} dt_stackwalk_input;

#define DT_STACKWALK_MAX_FRAMES 256

/* Walks the stack.  On success the caller owns *out (dt_stack_free); the
 * walk itself never fails on bad memory, it stops and says why. */
dt_status dt_stackwalk(const dt_stackwalk_input *in, dt_stack *out, dt_error *err);
void dt_stack_free(dt_stack *s);

#endif
