/*
 * fuzz_unwind.c — the stack walker over arbitrary bytes taken as a module
 * image plus a stack, for each architecture: UNWIND_INFO/.xdata decoding
 * and execution, epilog recognition, frame-pointer chains and scanning.
 *
 * Layout: the input starts with the image (so a real PE seed is a real
 * image); the last 8 bytes are controls: byte 0 picks the architecture
 * (bits 0-1), keeps the image out of memory so it is reached only through
 * the image_file hook (bit 2), and sets stack bounds (bit 3); bytes 1-4
 * give the stack length L taken from just before the controls; bytes 5-7
 * seed the instruction pointer.  With L = 0 a stack of pointers into the
 * image is synthesized, so plain PE seeds unwind through their own .pdata.
 * Bit 4 of byte 0 makes the walk start in generated code: the image bytes
 * are also mapped at JIT_BASE, outside every module, and described by a
 * dynamic function table whose RUNTIME_FUNCTION entries are the image's
 * first bytes (docs/symbols.md "JIT and generated code").
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "unwind/stackwalk.h"

#define IMAGE_BASE 0x140000000ULL
#define STACK_BASE 0x10000ULL
#define SYNTH_STACK 4096
#define JIT_BASE 0x7000000ULL

typedef struct {
    const uint8_t *image;
    size_t image_size;
    bool image_in_memory;
    bool jit;
    const uint8_t *stack;
    size_t stack_size;
} fuzz_space;

static size_t copy_from(uint64_t base, const uint8_t *p, size_t n, uint64_t va, void *buf, size_t len)
{
    if (va < base || va - base >= n)
        return 0;
    size_t off = (size_t)(va - base);
    if (len > n - off)
        len = n - off;
    memcpy(buf, p + off, len);
    return len;
}

static size_t fuzz_read(void *ctx, uint64_t va, void *buf, size_t len)
{
    fuzz_space *s = ctx;
    size_t got = copy_from(STACK_BASE, s->stack, s->stack_size, va, buf, len);
    if (!got && s->image_in_memory)
        got = copy_from(IMAGE_BASE, s->image, s->image_size, va, buf, len);
    if (!got && s->jit)
        got = copy_from(JIT_BASE, s->image, s->image_size, va, buf, len);
    return got;
}

static bool fuzz_image(void *ctx, const dt_module *m, dt_view *out)
{
    fuzz_space *s = ctx;
    (void)m;
    *out = dt_view_make(s->image, s->image_size);
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 16)
        return 0;
    const uint8_t *ctl = data + size - 8;
    static const dt_cpu_arch arches[4] = { DT_ARCH_AMD64, DT_ARCH_X86, DT_ARCH_ARM64, DT_ARCH_AMD64 };
    dt_cpu_arch arch = arches[ctl[0] & 3];
    uint32_t l = (uint32_t)ctl[1] | ((uint32_t)ctl[2] << 8) | ((uint32_t)ctl[3] << 16) | ((uint32_t)ctl[4] << 24);
    uint32_t seed = (uint32_t)ctl[5] | ((uint32_t)ctl[6] << 8) | ((uint32_t)ctl[7] << 16);
    size_t rest = size - 8;
    size_t stack_size = l % (rest + 1);
    fuzz_space s = { data, rest - stack_size, (ctl[0] & 4) == 0, (ctl[0] & 16) != 0, data + rest - stack_size,
                     stack_size };
    if (!s.image_size)
        return 0;
    uint8_t *synth = NULL;
    if (!stack_size) {
        synth = malloc(SYNTH_STACK);
        if (!synth)
            return 0;
        uint64_t x = seed ^ (uint64_t)size;
        for (size_t i = 0; i + 8 <= SYNTH_STACK; i += 8) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            uint64_t v = (x >> 33) % 4 ? IMAGE_BASE + (x >> 20) % s.image_size : 0;
            memcpy(synth + i, &v, 8);
        }
        s.stack = synth;
        s.stack_size = SYNTH_STACK;
    }

    dt_module_list mods = { 0 };
    dt_module m;
    memset(&m, 0, sizeof m);
    m.base = IMAGE_BASE;
    m.size = s.image_size;
    if (!dt_module_list_add(&mods, &m)) {
        free(synth);
        return 0;
    }

    uint64_t w[4] = { 0, 0, 0, 0 };
    for (int i = 0; i < 4; i++)
        for (int b = 0; b < 8 && (size_t)(i * 8 + b) < s.stack_size; b++)
            w[i] |= (uint64_t)s.stack[i * 8 + b] << (8 * b);
    dt_cpu_context ctx = { .arch = arch };
    uint64_t ip = IMAGE_BASE + ((uint64_t)seed * 97 + s.image_size / 2) % s.image_size;
    uint64_t sp = STACK_BASE + ((w[1] % s.stack_size) & ~(uint64_t)7);
    uint64_t fp = STACK_BASE + w[2] % s.stack_size;
    for (int r = 0; r < 16; r++)
        dt_ctx_set(&ctx, r, w[3] + (uint64_t)r);
    dt_ctx_set(&ctx, dt_cpu_context_ip_reg(arch), ip);
    dt_ctx_set(&ctx, dt_cpu_context_sp_reg(arch), sp);
    dt_ctx_set(&ctx, dt_cpu_context_fp_reg(arch), fp);
    if (arch == DT_ARCH_ARM64)
        dt_ctx_set(&ctx, DT_ARM64_LR, IMAGE_BASE + w[3] % s.image_size);

    dt_addrspace as = { &s, fuzz_read, NULL, arch == DT_ARCH_X86 ? 4u : 8u };
    dt_stackwalk_hooks hooks = { .ctx = &s, .image_file = fuzz_image };
    dt_stackwalk_input in = { .arch = arch, .start = &ctx, .memory = &as, .modules = &mods,
                              .hooks = &hooks, .max_frames = 64 };
    /* generated code: a table over the image bytes mapped at JIT_BASE */
    dt_md_function_table table = { 0 };
    dt_md_function_tables tables = { &table, 1, 12 };
    dt_code_region region = { JIT_BASE, s.image_size, 0x40, 0x1000, 0x20000 };
    dt_generated_code gen = { &tables, &region, 1 };
    if (s.jit) {
        table.min_address = JIT_BASE;
        table.max_address = JIT_BASE + s.image_size;
        table.base_address = JIT_BASE;
        table.entry_count = (uint32_t)(s.image_size / 12 < 256 ? s.image_size / 12 : 256);
        table.entries = dt_view_make(s.image, (size_t)table.entry_count * 12);
        dt_ctx_set(&ctx, dt_cpu_context_ip_reg(arch), ip - IMAGE_BASE + JIT_BASE);
        in.generated = &gen;
    }
    if (ctl[0] & 8) {
        in.stack_low = STACK_BASE;
        in.stack_high = STACK_BASE + s.stack_size;
    }
    dt_stack st;
    if (dt_stackwalk(&in, &st, NULL) == DT_OK)
        dt_stack_free(&st);
    dt_module_list_free(&mods);
    free(synth);
    return 0;
}
