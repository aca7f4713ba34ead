/*
 * walker.h — the state one stack walk shares with its per-architecture
 * unwinders (internal to analyzer/unwind).
 *
 * The walker owns a per-walk cache of opened PE images, one slot per module,
 * filled on first use: the image mapped in target memory when its exception
 * data is readable there, else a PE file from hooks.image_file.  Unwinders
 * ask for a module's image, for code bytes, and whether an address is
 * plausible code; they never open anything themselves.
 */
#ifndef DT_UNWIND_WALKER_H
#define DT_UNWIND_WALKER_H

#include "formats/pe.h"
#include "unwind/stackwalk.h"

typedef struct {
    bool tried;
    bool ok;
    dt_pe pe;
} dt_walker_image_slot;

struct dt_stackwalk_cache {
    const dt_module_list *modules; /* what the slots were opened for */
    const dt_addrspace *memory;
    const dt_stackwalk_hooks *hooks;
    dt_walker_image_slot *images;  /* owned; one per module, lazily filled */
    size_t count;
};

typedef struct dt_walker {
    const dt_stackwalk_input *in;
    dt_stackwalk_cache *cache;    /* the input's, or one private to the walk */
    uint32_t callee_param_size;   /* from the last cfi_unwind, for the next frame */
    uint32_t next_param_size;     /* what this step's hook reported */
} dt_walker;

/* How an unwinder produced the caller: trust, plus a machine frame flag. */
typedef struct {
    dt_frame_trust trust;
    bool machine_frame;
} dt_unwind_result;

/* A walker over in, its images kept in cache (emptied first when it was
 * filled for other inputs); for scans outside dt_stackwalk that share the
 * walk's images (unwind/kernel_stacks.c). */
void dt_walker_init(dt_walker *w, const dt_stackwalk_input *in, dt_stackwalk_cache *cache);
const dt_module *dt_walker_module(const dt_walker *w, uint64_t addr);
/* The PE image of m (memory or file), or NULL when none is usable. */
const dt_pe *dt_walker_image(dt_walker *w, const dt_module *m);
/* Reads a target pointer (4 or 8 bytes by architecture). */
bool dt_walker_read_ptr(const dt_walker *w, uint64_t va, uint64_t *out);
/* Code bytes at addr: from memory, else from the module's image file. */
size_t dt_walker_read_code(dt_walker *w, uint64_t addr, uint8_t *buf, size_t len);
/* addr lies in a module, in an executable section when the image is known,
 * and inside a function when hooks.has_function says so. */
bool dt_walker_is_code(dt_walker *w, uint64_t addr);
/* Tries hooks.cfi_unwind for the frame; lookup_ip is the address to
 * look unwind rules up at (ip - 1 for return addresses).  *trust is cfi, or
 * cfi_scan when the hook found the return address by scanning. */
bool dt_walker_hook_cfi(dt_walker *w, const dt_frame *callee, uint64_t lookup_ip, dt_cpu_context *caller,
                        dt_frame_trust *trust);
/* The address to look unwind data up at: ip for a context/machine frame,
 * ip - 1 for a return address. */
uint64_t dt_walker_lookup_ip(const dt_frame *f);

#endif
