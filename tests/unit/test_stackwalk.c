/*
 * test_stackwalk.c — the stack walker on hand-built address spaces.
 *
 * Real code: wine/bin/clang/hello_block.exe mapped at its image base the
 * way the loader lays it out, with stacks built by *executing* the prologs
 * its UNWIND_INFO describes (pushes, allocations, frame pointer, saves), so
 * the walker must undo exactly what ran.  Synthetic images cover the
 * opcodes real user-mode code rarely has (PUSH_MACHFRAME, chained and
 * indirect entries, SAVE_NONVOL_FAR, SET_FPREG), the kernel → user boundary,
 * x86 EBP chains and scanning, and ARM64 .xdata and FP/LR chains.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dt_test.h"
#include "formats/pe.h"
#include "base/mapped_file.h"
#include "unwind/scan.h"
#include "unwind/stackwalk.h"
#include "unwind/unwind_arm64.h"

/* ---- a sparse address space of a few regions ------------------------------------ */

typedef struct {
    uint64_t base;
    size_t size;
    uint8_t *bytes;
} region;

typedef struct {
    region r[8];
    size_t n;
} space;

static size_t space_read(void *ctx, uint64_t va, void *buf, size_t len)
{
    space *s = ctx;
    for (size_t i = 0; i < s->n; i++) {
        region *r = &s->r[i];
        if (va >= r->base && va - r->base < r->size) {
            size_t off = (size_t)(va - r->base);
            if (len > r->size - off)
                len = r->size - off;
            memcpy(buf, r->bytes + off, len);
            return len;
        }
    }
    return 0;
}

static uint8_t *space_add(space *s, uint64_t base, size_t size)
{
    ck_assert_uint_lt(s->n, 8);
    region *r = &s->r[s->n++];
    r->base = base;
    r->size = size;
    r->bytes = calloc(1, size);
    ck_assert_ptr_nonnull(r->bytes);
    return r->bytes;
}

static void space_free(space *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->r[i].bytes);
    s->n = 0;
}

static uint8_t *space_ptr(space *s, uint64_t va, size_t len)
{
    for (size_t i = 0; i < s->n; i++) {
        region *r = &s->r[i];
        if (va >= r->base && va - r->base + len <= r->size)
            return r->bytes + (va - r->base);
    }
    ck_abort_msg("address 0x%llx not in the test space", (unsigned long long)va);
    return NULL;
}

static void put64(space *s, uint64_t va, uint64_t v)
{
    uint8_t *p = space_ptr(s, va, 8);
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put32(space *s, uint64_t va, uint32_t v)
{
    uint8_t *p = space_ptr(s, va, 4);
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static dt_module *add_module(dt_module_list *l, uint64_t base, uint64_t size, const char *name)
{
    dt_module m;
    memset(&m, 0, sizeof m);
    m.base = base;
    m.size = size;
    m.code_file = strdup(name);
    dt_module *r = dt_module_list_add(l, &m);
    ck_assert_ptr_nonnull(r);
    return r;
}

/* Maps a PE file at base by sections, as the loader would. */
static void map_pe_file(space *s, const char *rel, uint64_t base, dt_mapped_file *keep, dt_pe *file_pe)
{
    ck_assert_int_eq(dt_mapped_file_open(keep, dt_test_data(rel), NULL), DT_OK);
    ck_assert_int_eq(dt_pe_open_file(file_pe, keep->view, NULL), DT_OK);
    uint8_t *img = space_add(s, base, file_pe->size_of_image);
    memcpy(img, keep->view.data, file_pe->size_of_headers);
    for (size_t i = 0; i < file_pe->section_count; i++) {
        const dt_pe_section *sec = &file_pe->sections[i];
        size_t n = sec->raw_size < sec->virtual_size ? sec->raw_size : sec->virtual_size;
        memcpy(img + sec->virtual_address, keep->view.data + sec->raw_offset, n);
    }
}

/* ---- executing prologs to build a real-looking stack ----------------------------- */

#define NONVOL_MASK 0xF0E8u /* rbx rbp rsi rdi r12-r15 */

typedef struct {
    uint64_t regs[16];
} regfile;

/* Runs the prolog of the function rf (all of it) at entry rsp *rsp, storing
 * the caller's registers where the codes say; then the body clobbers every
 * register it saved with a value unique to this frame. */
static void run_prolog(space *s, const dt_pe *pe, const dt_pe_runtime_function *rf, uint64_t *rsp,
                       regfile *r, unsigned frame_no)
{
    dt_unwind_info ui;
    ck_assert_int_eq(dt_pe_unwind_info(pe, rf->unwind_info, &ui, NULL), DT_OK);
    uint64_t fp_value = 0;
    bool has_fp = false;
    uint64_t saved[16];
    memcpy(saved, r->regs, sizeof saved);
    for (size_t k = ui.op_count; k-- > 0;) {
        const dt_unwind_op *op = &ui.ops[k];
        switch (op->op) {
        case DT_UWOP_PUSH_NONVOL:
            *rsp -= 8;
            put64(s, *rsp, saved[op->info]);
            break;
        case DT_UWOP_ALLOC_SMALL:
        case DT_UWOP_ALLOC_LARGE:
            *rsp -= op->value;
            break;
        case DT_UWOP_SET_FPREG:
            fp_value = *rsp + ui.frame_offset * 16u;
            has_fp = true;
            break;
        default:
            break;
        }
    }
    uint64_t frame_base = has_fp ? fp_value - ui.frame_offset * 16u : *rsp;
    for (size_t k = 0; k < ui.op_count; k++) {
        const dt_unwind_op *op = &ui.ops[k];
        if (op->op == DT_UWOP_SAVE_NONVOL || op->op == DT_UWOP_SAVE_NONVOL_FAR)
            put64(s, frame_base + op->value, saved[op->info]);
    }
    for (size_t k = 0; k < ui.op_count; k++) {
        const dt_unwind_op *op = &ui.ops[k];
        if (op->op == DT_UWOP_PUSH_NONVOL || op->op == DT_UWOP_SAVE_NONVOL || op->op == DT_UWOP_SAVE_NONVOL_FAR)
            r->regs[op->info] = 0xC0DE000000000000ULL | ((uint64_t)frame_no << 8) | op->info;
    }
    if (has_fp)
        r->regs[ui.frame_reg] = fp_value;
}

static bool usable_function(const dt_pe *pe, const dt_pe_runtime_function *rf)
{
    if (rf->unwind_info & 1)
        return false;
    dt_unwind_info ui;
    if (dt_pe_unwind_info(pe, rf->unwind_info, &ui, NULL) != DT_OK || ui.has_chain)
        return false;
    if (rf->end - rf->begin < ui.prolog_size + 16u)
        return false;
    for (size_t k = 0; k < ui.op_count; k++)
        if (ui.ops[k].op == DT_UWOP_PUSH_MACHFRAME)
            return false;
    /* The first body instruction must not open an epilog (add rsp / pop / ret). */
    uint8_t b[2];
    if (dt_pe_read(pe, rf->begin + ui.prolog_size, b, 2) != 2)
        return false;
    if (b[0] == 0x48 || b[0] == 0xC3 || (b[0] >= 0x58 && b[0] <= 0x5F) || b[0] == 0x41 || b[0] == 0xE9 ||
        b[0] == 0xEB || b[0] == 0xFF)
        return false;
    return true;
}

START_TEST(real_image_prologs_unwind_exactly)
{
    const uint64_t base = 0x140000000ULL, stack_base = 0x100000, stack_size = 0x40000;
    space s = { 0 };
    dt_mapped_file keep;
    dt_pe file_pe;
    map_pe_file(&s, "wine/bin/clang/hello_block.exe", base, &keep, &file_pe);
    space_add(&s, stack_base, stack_size);
    dt_addrspace as = { &s, space_read, NULL, 8 };
    dt_pe pe;
    ck_assert_int_eq(dt_pe_open_mapped(&pe, &as, base, NULL), DT_OK);

    /* Pick every usable function, outermost first, and "call" down the chain. */
    enum { MAXF = 40 };
    dt_pe_runtime_function chain[MAXF];
    size_t nf = 0, with_fp = 0;
    for (size_t i = 0; i < dt_pe_pdata_count(&pe) && nf < MAXF; i++) {
        dt_pe_runtime_function rf;
        ck_assert(dt_pe_pdata_get(&pe, i, &rf));
        if (!usable_function(&pe, &rf))
            continue;
        dt_unwind_info ui;
        dt_pe_unwind_info(&pe, rf.unwind_info, &ui, NULL);
        with_fp += ui.frame_reg != 0;
        chain[nf++] = rf;
    }
    ck_assert_uint_ge(nf, 20);
    ck_assert_uint_ge(with_fp, 1); /* the chain exercises SET_FPREG */
    regfile r;
    for (int i = 0; i < 16; i++)
        r.regs[i] = 0xAAAA000000000000ULL | (uint64_t)i;
    regfile snap[MAXF];
    uint64_t entry_rsp[MAXF], ret_of[MAXF];
    uint64_t rsp = stack_base + stack_size - 0x100;
    put64(&s, rsp, 0); /* the outermost function returns to 0: the end */
    for (size_t k = nf; k-- > 0;) {
        size_t frame_no = k;
        entry_rsp[frame_no] = rsp;
        run_prolog(&s, &pe, &chain[k], &rsp, &r, (unsigned)frame_no);
        snap[frame_no] = r;
        if (k > 0) {
            dt_unwind_info ui;
            dt_pe_unwind_info(&pe, chain[k].unwind_info, &ui, NULL);
            uint64_t ret = base + chain[k].begin + ui.prolog_size + 5; /* after a 5-byte call */
            ret_of[k] = ret;
            rsp -= 8;
            put64(&s, rsp, ret);
        }
    }
    dt_unwind_info ui0;
    dt_pe_unwind_info(&pe, chain[0].unwind_info, &ui0, NULL);
    dt_cpu_context ctx = { .arch = DT_ARCH_AMD64 };
    for (int i = 0; i < 16; i++)
        dt_ctx_set(&ctx, i, r.regs[i]);
    dt_ctx_set(&ctx, DT_AMD64_RSP, rsp);
    dt_ctx_set(&ctx, DT_AMD64_RIP, base + chain[0].begin + ui0.prolog_size);

    dt_module_list mods = { 0 };
    add_module(&mods, base, pe.size_of_image, "hello_block.exe");
    dt_module_list_sort(&mods);
    dt_stackwalk_input in = { .arch = DT_ARCH_AMD64, .start = &ctx, .memory = &as, .modules = &mods,
                              .stack_low = stack_base, .stack_high = stack_base + stack_size };
    dt_stack st;
    dt_error err = { 0 };
    ck_assert_msg(dt_stackwalk(&in, &st, &err) == DT_OK, "%s", err.message);
    ck_assert_msg(st.count == nf, "walked %zu frames of %zu (%s)", st.count, nf, st.stop_reason);
    ck_assert_str_eq(st.stop_reason, "end of stack (return address 0)");
    ck_assert_str_eq(dt_frame_trust_name(st.frames[0].trust), "context");
    for (size_t k = 1; k < nf; k++) {
        const dt_frame *f = &st.frames[k];
        ck_assert_str_eq(dt_frame_trust_name(f->trust), "cfi");
        ck_assert_uint_eq(f->ip, ret_of[k]);
        ck_assert_uint_eq(f->sp, entry_rsp[k - 1] + 8);
        ck_assert_ptr_eq(f->module, &mods.items[0]);
        ck_assert_uint_eq(f->module_offset, ret_of[k] - base);
        /* every non-volatile register the unwinder recovered is the one
         * that frame really had */
        for (int reg = 0; reg < 16; reg++) {
            uint64_t v;
            if (!(NONVOL_MASK & (1u << reg)) || !dt_ctx_get(&f->context, reg, &v))
                continue;
            ck_assert_msg(v == snap[k].regs[reg], "frame %zu reg %d: 0x%llx != 0x%llx", k, reg,
                          (unsigned long long)v, (unsigned long long)snap[k].regs[reg]);
        }
        ck_assert(!dt_ctx_get(&f->context, DT_AMD64_RAX, &(uint64_t){ 0 }));
    }
    dt_stack_free(&st);

    /* A cache shared by walks gives the same frames, and rebinds when the
     * inputs change. */
    dt_stackwalk_cache *cache = dt_stackwalk_cache_new();
    ck_assert_ptr_nonnull(cache);
    in.cache = cache;
    dt_addrspace as2 = as;
    for (int round = 0; round < 3; round++) {
        if (round == 2)
            in.memory = &as2;
        ck_assert_int_eq(dt_stackwalk(&in, &st, NULL), DT_OK);
        ck_assert_uint_eq(st.count, nf);
        ck_assert_uint_eq(st.frames[nf - 1].ip, ret_of[nf - 1]);
        dt_stack_free(&st);
    }
    dt_stackwalk_cache_free(cache);
    dt_module_list_free(&mods);
    dt_pe_close(&pe);
    dt_pe_close(&file_pe);
    dt_mapped_file_close(&keep);
    space_free(&s);
}
END_TEST

/* An RIP inside a real epilog (add rsp; pops; ret) is finished by emulation,
 * and an RIP mid-prolog undoes only what ran. */
START_TEST(real_image_epilog_and_prolog)
{
    const uint64_t base = 0x140000000ULL, stack_base = 0x100000;
    space s = { 0 };
    dt_mapped_file keep;
    dt_pe file_pe;
    map_pe_file(&s, "wine/bin/clang/hello_block.exe", base, &keep, &file_pe);
    space_add(&s, stack_base, 0x10000);
    dt_addrspace as = { &s, space_read, NULL, 8 };
    dt_pe pe;
    ck_assert_int_eq(dt_pe_open_mapped(&pe, &as, base, NULL), DT_OK);
    dt_module_list mods = { 0 };
    add_module(&mods, base, pe.size_of_image, "hello_block.exe");
    dt_stackwalk_input in = { .arch = DT_ARCH_AMD64, .memory = &as, .modules = &mods };

    /* find "48 83 C4 ib {pop}+ C3" after some prolog */
    bool found = false;
    const uint64_t ret_target = base + 0x1000 + 0x20; /* any code address */
    for (size_t i = 0; i < dt_pe_pdata_count(&pe) && !found; i++) {
        dt_pe_runtime_function rf;
        dt_pe_pdata_get(&pe, i, &rf);
        uint8_t code[4096];
        size_t len = rf.end - rf.begin < sizeof code ? rf.end - rf.begin : sizeof code;
        ck_assert_uint_eq(dt_pe_read(&pe, rf.begin, code, len), len);
        for (size_t at = 1; at + 6 < len && !found; at++) {
            if (code[at] != 0x48 || code[at + 1] != 0x83 || code[at + 2] != 0xC4)
                continue;
            size_t j = at + 4, npop = 0;
            int regs[8];
            while (j < len && npop < 8) {
                if (code[j] >= 0x58 && code[j] <= 0x5F) { regs[npop++] = code[j] - 0x58; j++; }
                else if (code[j] == 0x41 && j + 1 < len && code[j + 1] >= 0x58 && code[j + 1] <= 0x5F) { regs[npop++] = 8 + code[j + 1] - 0x58; j += 2; }
                else break;
            }
            if (!npop || j >= len || code[j] != 0xC3 || code[at + 3] >= 0x80)
                continue;
            found = true;
            uint64_t rsp = stack_base + 0x800, adj = code[at + 3];
            for (size_t p = 0; p < npop; p++)
                put64(&s, rsp + adj + p * 8, 0x5A5A000000000000ULL | (uint64_t)regs[p]);
            put64(&s, rsp + adj + npop * 8, ret_target);
            dt_cpu_context ctx = { .arch = DT_ARCH_AMD64 };
            dt_ctx_set(&ctx, DT_AMD64_RIP, base + rf.begin + at);
            dt_ctx_set(&ctx, DT_AMD64_RSP, rsp);
            for (size_t p = 0; p < npop; p++)
                dt_ctx_set(&ctx, regs[p], 0x1234);
            in.start = &ctx;
            in.max_frames = 2;
            dt_stack st;
            ck_assert_int_eq(dt_stackwalk(&in, &st, NULL), DT_OK);
            ck_assert_uint_eq(st.count, 2);
            ck_assert_uint_eq(st.frames[1].ip, ret_target);
            ck_assert_uint_eq(st.frames[1].sp, rsp + adj + npop * 8 + 8);
            for (size_t p = 0; p < npop; p++) {
                uint64_t v = 0;
                ck_assert(dt_ctx_get(&st.frames[1].context, regs[p], &v));
                ck_assert_uint_eq(v, 0x5A5A000000000000ULL | (uint64_t)regs[p]);
            }
            dt_stack_free(&st);
        }
    }
    ck_assert_msg(found, "no add rsp/pop/ret epilog found in hello_block.exe");

    /* Mid-prolog: only the first instruction (a push) has run. */
    found = false;
    for (size_t i = 0; i < dt_pe_pdata_count(&pe) && !found; i++) {
        dt_pe_runtime_function rf;
        dt_unwind_info ui;
        dt_pe_pdata_get(&pe, i, &rf);
        if (dt_pe_unwind_info(&pe, rf.unwind_info, &ui, NULL) != DT_OK || ui.op_count < 2)
            continue;
        const dt_unwind_op *first = &ui.ops[ui.op_count - 1];
        if (first->op != DT_UWOP_PUSH_NONVOL || ui.ops[ui.op_count - 2].code_offset <= first->code_offset)
            continue;
        found = true;
        uint64_t rsp = stack_base + 0x900;
        put64(&s, rsp, 0x7777);
        put64(&s, rsp + 8, ret_target);
        dt_cpu_context ctx = { .arch = DT_ARCH_AMD64 };
        dt_ctx_set(&ctx, DT_AMD64_RIP, base + rf.begin + first->code_offset);
        dt_ctx_set(&ctx, DT_AMD64_RSP, rsp);
        in.start = &ctx;
        in.max_frames = 2;
        dt_stack st;
        ck_assert_int_eq(dt_stackwalk(&in, &st, NULL), DT_OK);
        ck_assert_uint_eq(st.count, 2);
        ck_assert_uint_eq(st.frames[1].ip, ret_target);
        ck_assert_uint_eq(st.frames[1].sp, rsp + 16);
        uint64_t v = 0;
        ck_assert(dt_ctx_get(&st.frames[1].context, first->info, &v));
        ck_assert_uint_eq(v, 0x7777);
        dt_stack_free(&st);

        /* At the very first instruction nothing ran: rip = [rsp]. */
        dt_ctx_set(&ctx, DT_AMD64_RIP, base + rf.begin);
        put64(&s, rsp, ret_target);
        ck_assert_int_eq(dt_stackwalk(&in, &st, NULL), DT_OK);
        ck_assert_uint_eq(st.count, 2);
        ck_assert_uint_eq(st.frames[1].ip, ret_target);
        ck_assert_uint_eq(st.frames[1].sp, rsp + 8);
        dt_stack_free(&st);
    }
    ck_assert(found);
    dt_module_list_free(&mods);
    dt_pe_close(&pe);
    dt_pe_close(&file_pe);
    dt_mapped_file_close(&keep);
    space_free(&s);
}
END_TEST

/* ---- a synthetic x64 image with the rarer opcodes -------------------------------- */

#define SYN_SIZE 0x4000

static void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void wr32(uint8_t *p, uint32_t v) { wr16(p, (uint16_t)v); wr16(p + 2, (uint16_t)(v >> 16)); }

/* Headers and one RWX section covering 0x1000..SYN_SIZE; file layout equals
 * the mapped layout. */
static void syn_headers(uint8_t *img, uint16_t machine)
{
    img[0] = 'M'; img[1] = 'Z';
    wr32(img + 0x3C, 0x40);
    memcpy(img + 0x40, "PE\0\0", 4);
    wr16(img + 0x44, machine);
    wr16(img + 0x46, 1);
    wr16(img + 0x54, 0xF0);
    uint8_t *opt = img + 0x58;
    wr16(opt, 0x20B);
    wr32(opt + 16, 0x1000);
    wr32(opt + 24, 0x0);
    wr32(opt + 56, SYN_SIZE);
    wr32(opt + 60, 0x400);
    wr32(opt + 108, 16);
    uint8_t *sec = opt + 0xF0;
    memcpy(sec, ".text", 5);
    wr32(sec + 8, SYN_SIZE - 0x1000);
    wr32(sec + 12, 0x1000);
    wr32(sec + 16, SYN_SIZE - 0x1000);
    wr32(sec + 20, 0x1000);
    wr32(sec + 36, 0xE0000020);
}

static void syn_dir(uint8_t *img, int index, uint32_t rva, uint32_t size)
{
    wr32(img + 0x58 + 112 + index * 8, rva);
    wr32(img + 0x58 + 112 + index * 8 + 4, size);
}

/* Writes UNWIND_INFO at rva; codes given as u16 slots; returns bytes used. */
static uint32_t syn_unwind(uint8_t *img, uint32_t rva, uint8_t flags, uint8_t prolog, uint8_t frame,
                           const uint16_t *slots, uint8_t nslots, const uint32_t *chain)
{
    uint8_t *p = img + rva;
    p[0] = (uint8_t)(1 | (flags << 3));
    p[1] = prolog;
    p[2] = nslots;
    p[3] = frame;
    for (int i = 0; i < nslots; i++)
        wr16(p + 4 + i * 2, slots[i]);
    uint32_t used = 4 + ((nslots + 1u) & ~1u) * 2;
    if (chain) {
        wr32(p + used, chain[0]);
        wr32(p + used + 4, chain[1]);
        wr32(p + used + 8, chain[2]);
        used += 12;
    }
    return used;
}

#define CODE(off, op, info) ((uint16_t)((off) | ((op) << 8) | ((info) << 12)))

static void build_x64_synthetic(uint8_t *img)
{
    syn_headers(img, DT_PE_MACHINE_AMD64);
    /* F1 0x1000: push rbp; push rbx; sub rsp,0x40; lea rbp,[rsp+0x20]; mov [rbp-0x20+0x58], r12 */
    const uint16_t f1[] = { CODE(0x10, DT_UWOP_SAVE_NONVOL_FAR, 12), 0x58, 0,
                            CODE(0x0B, DT_UWOP_SET_FPREG, 0), CODE(0x06, DT_UWOP_ALLOC_SMALL, 7),
                            CODE(0x02, DT_UWOP_PUSH_NONVOL, 3), CODE(0x01, DT_UWOP_PUSH_NONVOL, 5) };
    syn_unwind(img, 0x2000, 0, 0x10, 5 | (2 << 4), f1, 7, NULL);
    /* F3 0x1400: a trap handler: the machine frame is the whole prolog */
    const uint16_t f3[] = { CODE(0x00, DT_UWOP_PUSH_MACHFRAME, 0) };
    syn_unwind(img, 0x2100, 0, 0, 0, f3, 1, NULL);
    /* F4 0x1800: sub rsp,0x10 chained to a parent that pushed rsi */
    const uint16_t f4p[] = { CODE(0x01, DT_UWOP_PUSH_NONVOL, 6) };
    syn_unwind(img, 0x2200, 0, 1, 0, f4p, 1, NULL);
    const uint32_t chain[3] = { 0x1800, 0x1900, 0x2200 };
    const uint16_t f4[] = { CODE(0x04, DT_UWOP_ALLOC_SMALL, 1) };
    syn_unwind(img, 0x2300, DT_UNW_FLAG_CHAININFO, 4, 0, f4, 1, chain);
    /* F5 0x1C00 through an indirect entry: ALLOC_LARGE (32-bit form) 0x18 */
    const uint16_t f5[] = { CODE(0x07, DT_UWOP_ALLOC_LARGE, 1), 0x18, 0 };
    syn_unwind(img, 0x2400, 0, 7, 0, f5, 3, NULL);
    wr32(img + 0x2500, 0x1C00);
    wr32(img + 0x2504, 0x1D00);
    wr32(img + 0x2508, 0x2400);
    /* .pdata */
    const uint32_t pdata[][3] = { { 0x1000, 0x1100, 0x2000 }, { 0x1400, 0x1500, 0x2100 },
                                  { 0x1800, 0x1900, 0x2300 }, { 0x1C00, 0x1D00, 0x2500 | 1 } };
    for (int i = 0; i < 4; i++)
        for (int k = 0; k < 3; k++)
            wr32(img + 0x3000 + i * 12 + k * 4, pdata[i][k]);
    syn_dir(img, DT_PE_DIR_EXCEPTION, 0x3000, 4 * 12);
    /* code bytes: nops, so no epilog is recognised in bodies */
    memset(img + 0x1000, 0x90, 0x1000);
}

START_TEST(synthetic_machframe_chain_indirect)
{
    const uint64_t base = 0x7FF600000000ULL, sb = 0x20000;
    space s = { 0 };
    uint8_t *img = space_add(&s, base, SYN_SIZE);
    build_x64_synthetic(img);
    space_add(&s, sb, 0x2000);
    dt_addrspace as = { &s, space_read, NULL, 8 };
    dt_module_list mods = { 0 };
    add_module(&mods, base, SYN_SIZE, "syn.dll");

    uint64_t rsp0 = sb + 0x100;
    put64(&s, rsp0, base + 0x1030);        /* machine frame: interrupted rip */
    put64(&s, rsp0 + 24, sb + 0x400);      /* ... and rsp */
    /* F1 body at rsp 0x20400, rbp = rsp + 0x20 */
    put64(&s, sb + 0x458, 0x1200);         /* r12 saved far */
    put64(&s, sb + 0x440, 0x1300);         /* rbx */
    put64(&s, sb + 0x448, 0x1500);         /* rbp */
    put64(&s, sb + 0x450, base + 0x1840);  /* return into F4 */
    put64(&s, sb + 0x468, 0x1600);         /* rsi pushed by F4's parent codes */
    put64(&s, sb + 0x470, base + 0x1C20);  /* return into F5 */
    put64(&s, sb + 0x490, 0);              /* F5 returns to 0 */

    dt_cpu_context ctx = { .arch = DT_ARCH_AMD64 };
    dt_ctx_set(&ctx, DT_AMD64_RIP, base + 0x1410);
    dt_ctx_set(&ctx, DT_AMD64_RSP, rsp0);
    dt_ctx_set(&ctx, DT_AMD64_RBP, sb + 0x420);
    dt_stackwalk_input in = { .arch = DT_ARCH_AMD64, .start = &ctx, .memory = &as, .modules = &mods };
    dt_stack st;
    ck_assert_int_eq(dt_stackwalk(&in, &st, NULL), DT_OK);
    ck_assert_msg(st.count == 4, "%zu frames: %s", st.count, st.stop_reason);
    ck_assert_str_eq(st.stop_reason, "end of stack (return address 0)");
    ck_assert_uint_eq(st.frames[1].ip, base + 0x1030);
    ck_assert(st.frames[1].machine_frame);
    ck_assert_uint_eq(st.frames[1].sp, sb + 0x400);
    ck_assert_uint_eq(st.frames[2].ip, base + 0x1840);
    ck_assert_uint_eq(st.frames[2].sp, sb + 0x458);
    uint64_t v;
    ck_assert(dt_ctx_get(&st.frames[2].context, DT_AMD64_R12, &v) && v == 0x1200);
    ck_assert(dt_ctx_get(&st.frames[2].context, DT_AMD64_RBX, &v) && v == 0x1300);
    ck_assert(dt_ctx_get(&st.frames[2].context, DT_AMD64_RBP, &v) && v == 0x1500);
    ck_assert_uint_eq(st.frames[3].ip, base + 0x1C20);
    ck_assert_uint_eq(st.frames[3].sp, sb + 0x478);
    ck_assert(dt_ctx_get(&st.frames[3].context, DT_AMD64_RSI, &v) && v == 0x1600);
    for (size_t i = 1; i < 4; i++)
        ck_assert_int_eq(st.frames[i].trust, DT_TRUST_CFI);
    dt_stack_free(&st);
    dt_module_list_free(&mods);
    space_free(&s);
}
END_TEST

START_TEST(kernel_walk_stops_at_user_boundary)
{
    const uint64_t kbase = 0xFFFFF80000000000ULL, ks = 0xFFFF850000000000ULL;
    space s = { 0 };
    build_x64_synthetic(space_add(&s, kbase, SYN_SIZE));
    space_add(&s, ks, 0x1000);
    dt_addrspace as = { &s, space_read, NULL, 8 };
    dt_module_list mods = { 0 };
    add_module(&mods, kbase, SYN_SIZE, "nt");
    add_module(&mods, 0x7FF600000000ULL, 0x10000, "user.exe");
    dt_module_list_sort(&mods);
    /* Kernel F1 frame returning into the trap handler F3, whose machine
     * frame holds the user-mode rip/rsp. */
    uint64_t rsp = ks + 0x100;
    put64(&s, rsp + 0x50, kbase + 0x1420);   /* F1 returns into F3's body */
    put64(&s, rsp + 0x58, 0x7FF600001234ULL); /* machine frame: user rip */
    put64(&s, rsp + 0x58 + 24, 0x5000000);    /* user rsp */
    dt_cpu_context ctx = { .arch = DT_ARCH_AMD64 };
    dt_ctx_set(&ctx, DT_AMD64_RIP, kbase + 0x1030);
    dt_ctx_set(&ctx, DT_AMD64_RSP, rsp);
    dt_ctx_set(&ctx, DT_AMD64_RBP, rsp + 0x20);
    dt_stackwalk_input in = { .arch = DT_ARCH_AMD64, .start = &ctx, .memory = &as, .modules = &mods,
                              .stack_low = ks, .stack_high = ks + 0x1000 };
    dt_stack st;
    ck_assert_int_eq(dt_stackwalk(&in, &st, NULL), DT_OK);
    ck_assert_uint_eq(st.count, 2);
    ck_assert_str_eq(st.frames[1].module->code_file, "nt");
    ck_assert_uint_eq(st.frames[1].module_offset, 0x1420);
    ck_assert(st.has_boundary_context);
    ck_assert_str_eq(st.stop_reason, "kernel entry from user mode");
    uint64_t v;
    ck_assert(dt_ctx_get(&st.boundary_context, DT_AMD64_RIP, &v) && v == 0x7FF600001234ULL);
    ck_assert(dt_ctx_get(&st.boundary_context, DT_AMD64_RSP, &v) && v == 0x5000000);
    dt_stack_free(&st);
    dt_module_list_free(&mods);
    space_free(&s);
}
END_TEST

/* The image comes from hooks.image_file when the dump lacks it. */
static uint8_t *hook_image;
static bool file_hook(void *ctx, const dt_module *m, dt_view *out)
{
    (void)m;
    *out = dt_view_make(ctx, SYN_SIZE);
    return true;
}

START_TEST(image_from_hook_when_memory_lacks_it)
{
    const uint64_t base = 0x7FF600000000ULL, sb = 0x20000;
    hook_image = calloc(1, SYN_SIZE);
    build_x64_synthetic(hook_image);
    space s = { 0 };
    space_add(&s, sb, 0x1000);
    dt_addrspace as = { &s, space_read, NULL, 8 };
    dt_module_list mods = { 0 };
    add_module(&mods, base, SYN_SIZE, "syn.dll");
    put64(&s, sb + 0x100 + 0x18, 0); /* F5: ALLOC_LARGE 0x18 then return to 0 */
    put64(&s, sb + 0x100 + 0x18, base + 0x1C80);
    dt_cpu_context ctx = { .arch = DT_ARCH_AMD64 };
    dt_ctx_set(&ctx, DT_AMD64_RIP, base + 0x1C40);
    dt_ctx_set(&ctx, DT_AMD64_RSP, sb + 0x100);
    dt_stackwalk_hooks hooks = { .ctx = hook_image, .image_file = file_hook };
    dt_stackwalk_input in = { .arch = DT_ARCH_AMD64, .start = &ctx, .memory = &as, .modules = &mods,
                              .hooks = &hooks, .max_frames = 2 };
    dt_stack st;
    ck_assert_int_eq(dt_stackwalk(&in, &st, NULL), DT_OK);
    ck_assert_uint_eq(st.count, 2);
    ck_assert_int_eq(st.frames[1].trust, DT_TRUST_CFI);
    ck_assert_uint_eq(st.frames[1].ip, base + 0x1C80);
    dt_stack_free(&st);
    dt_module_list_free(&mods);
    space_free(&s);
    free(hook_image);
}
END_TEST

/* ---- x86: EBP chain, then scanning with the call test ------------------------------ */

START_TEST(x86_ebp_chain_and_scan)
{
    space s = { 0 };
    uint8_t *code = space_add(&s, 0x401000, 0x1000);
    space_add(&s, 0x12e000, 0x2000);
    dt_addrspace as = { &s, space_read, NULL, 4 };
    dt_module_list mods = { 0 };
    add_module(&mods, 0x400000, 0x10000, "app.exe");
    memset(code, 0xCC, 0x1000);
    /* call rel32 ending at 0x401234 and at 0x402000-? (outside captured code) */
    code[0x234 - 5] = 0xE8;
    code[0x500 - 2] = 0xFF; code[0x500 - 1] = 0xD0; /* call eax ending at 0x401500 */
    put32(&s, 0x12f010, 0x12f030);
    put32(&s, 0x12f014, 0x401234);
    put32(&s, 0x12f030, 0x12f050);
    put32(&s, 0x12f034, 0x402000);
    /* frame 3 has no frame pointer: scan finds 0x401500 past a decoy */
    put32(&s, 0x12f050, 0);
    put32(&s, 0x12f054, 0x12345);
    put32(&s, 0x12f038, 0x401100);  /* decoy: in code, no call before it */
    put32(&s, 0x12f03c, 0x99999999); /* not in a module */
    put32(&s, 0x12f040, 0x401500);
    dt_cpu_context ctx = { .arch = DT_ARCH_X86 };
    dt_ctx_set(&ctx, DT_X86_EIP, 0x401010);
    dt_ctx_set(&ctx, DT_X86_ESP, 0x12f000);
    dt_ctx_set(&ctx, DT_X86_EBP, 0x12f010);
    dt_stackwalk_input in = { .arch = DT_ARCH_X86, .start = &ctx, .memory = &as, .modules = &mods,
                              .stack_low = 0x12e000, .stack_high = 0x130000 };
    dt_stack st;
    ck_assert_int_eq(dt_stackwalk(&in, &st, NULL), DT_OK);
    ck_assert_uint_ge(st.count, 4);
    ck_assert_str_eq(dt_frame_trust_name(st.frames[1].trust), "frame_pointer");
    ck_assert_uint_eq(st.frames[1].ip, 0x401234);
    ck_assert_uint_eq(st.frames[1].sp, 0x12f018);
    ck_assert_str_eq(dt_frame_trust_name(st.frames[2].trust), "frame_pointer");
    ck_assert_uint_eq(st.frames[2].ip, 0x402000);
    ck_assert_uint_eq(st.frames[2].sp, 0x12f038);
    ck_assert_str_eq(dt_frame_trust_name(st.frames[3].trust), "scan");
    ck_assert_uint_eq(st.frames[3].ip, 0x401500);
    ck_assert_uint_eq(st.frames[3].sp, 0x12f044);
    dt_stack_free(&st);

    /* Large-address-aware user code above 2 GB calling down is not a
     * kernel → user transition: the stack is a user stack. */
    add_module(&mods, 0x90000000, 0x10000, "high.dll");
    dt_module_list_sort(&mods);
    dt_ctx_set(&ctx, DT_X86_EIP, 0x90001010);
    ck_assert_int_eq(dt_stackwalk(&in, &st, NULL), DT_OK);
    ck_assert_uint_ge(st.count, 3);
    ck_assert(!st.has_boundary_context);
    ck_assert_uint_eq(st.frames[1].ip, 0x401234);
    dt_stack_free(&st);
    dt_ctx_set(&ctx, DT_X86_EIP, 0x401010);

    /* A self-referencing EBP chain ends; the frame limit holds. */
    put32(&s, 0x12f010, 0x12f010);
    in.max_frames = 3;
    ck_assert_int_eq(dt_stackwalk(&in, &st, NULL), DT_OK);
    ck_assert_uint_le(st.count, 3);
    dt_stack_free(&st);
    dt_module_list_free(&mods);
    space_free(&s);
}
END_TEST

/* Breakpad-style hooks: frame info flows in (context frame, the previous
 * frame's parameter size, an is_code test) and trust comes back out. */
typedef struct {
    int calls;
    uint32_t seen_param_size[4];
    bool seen_context[4];
} hook_log;

static bool ex_hook(void *ctx, const dt_module *m, uint64_t rva, const dt_cpu_context *callee,
                    const dt_addrspace *as, dt_cfi_frame_info *info, dt_cpu_context *caller)
{
    hook_log *log = ctx;
    (void)m;
    (void)as;
    (void)rva;
    if (log->calls >= 2)
        return false;
    log->seen_param_size[log->calls] = info->callee_param_size;
    log->seen_context[log->calls] = info->context_frame;
    ck_assert(info->is_code(info->is_code_ctx, 0x401234));
    ck_assert(!info->is_code(info->is_code_ctx, 0x12345));
    uint64_t esp = 0;
    dt_ctx_get(callee, DT_X86_ESP, &esp);
    dt_ctx_set(caller, DT_X86_EIP, 0x401234 + 0x100 * (uint64_t)log->calls);
    dt_ctx_set(caller, DT_X86_ESP, esp + 0x20);
    info->scanned = log->calls == 1;
    info->param_size = 12;
    log->calls++;
    return true;
}

START_TEST(cfi_hooks_get_frame_info_and_set_trust)
{
    space s = { 0 };
    space_add(&s, 0x12e000, 0x2000);
    dt_addrspace as = { &s, space_read, NULL, 4 };
    dt_module_list mods = { 0 };
    add_module(&mods, 0x400000, 0x10000, "app.exe");
    dt_cpu_context ctx = { .arch = DT_ARCH_X86 };
    dt_ctx_set(&ctx, DT_X86_EIP, 0x401010);
    dt_ctx_set(&ctx, DT_X86_ESP, 0x12f000);
    hook_log log = { 0 };
    dt_stackwalk_hooks hooks = { .ctx = &log, .cfi_unwind = ex_hook };
    dt_stackwalk_input in = { .arch = DT_ARCH_X86, .start = &ctx, .memory = &as, .modules = &mods,
                              .hooks = &hooks };
    dt_stack st;
    ck_assert_int_eq(dt_stackwalk(&in, &st, NULL), DT_OK);
    ck_assert_uint_ge(st.count, 3);
    ck_assert_str_eq(dt_frame_trust_name(st.frames[1].trust), "cfi");
    ck_assert_str_eq(dt_frame_trust_name(st.frames[2].trust), "cfi_scan");
    ck_assert_uint_eq(st.frames[2].ip, 0x401334);
    ck_assert(log.seen_context[0]);
    ck_assert(!log.seen_context[1]);
    ck_assert_uint_eq(log.seen_param_size[0], 0);
    ck_assert_uint_eq(log.seen_param_size[1], 12);
    dt_stack_free(&st);
    dt_module_list_free(&mods);
    space_free(&s);
}
END_TEST

START_TEST(call_instruction_forms)
{
    const uint8_t rel32[] = { 0x90, 0x90, 0xE8, 1, 2, 3, 4 };
    const uint8_t rip_ind[] = { 0x90, 0xFF, 0x15, 1, 2, 3, 4 };
    const uint8_t reg[] = { 0, 0, 0, 0, 0, 0xFF, 0xD3 };
    const uint8_t rex_reg[] = { 0, 0, 0, 0, 0x41, 0xFF, 0xD2 };
    const uint8_t disp8[] = { 0, 0, 0, 0, 0xFF, 0x50, 0x10 };
    const uint8_t sib8[] = { 0, 0, 0, 0xFF, 0x54, 0x24, 0x08 };
    const uint8_t none[] = { 0x48, 0x89, 0xC8, 0x90, 0x90, 0x90, 0x90 };
    ck_assert(dt_scan_call_precedes(rel32, 7, true, false));
    ck_assert(dt_scan_call_precedes(rip_ind, 7, true, false));
    ck_assert(dt_scan_call_precedes(reg, 7, true, false));
    ck_assert(dt_scan_call_precedes(rex_reg, 7, true, false));
    ck_assert(dt_scan_call_precedes(disp8, 7, true, false));
    ck_assert(dt_scan_call_precedes(sib8, 7, true, false));
    ck_assert(!dt_scan_call_precedes(none, 7, true, false));
    /* ret one byte inside the file's `call [rip+disp32]`: memory held the
     * import-optimized `call rel32; nop`, so only file bytes look like this */
    const uint8_t imp_opt[] = { 0, 0, 0xFF, 0x15, 1, 2, 3 };
    ck_assert(dt_scan_call_precedes(imp_opt, 7, true, true));
    ck_assert(!dt_scan_call_precedes(imp_opt, 7, true, false));
    ck_assert(dt_scan_arm64_call_precedes(0x94000010));   /* bl */
    ck_assert(dt_scan_arm64_call_precedes(0xD63F0100));   /* blr x8 */
    ck_assert(!dt_scan_arm64_call_precedes(0xD65F03C0));  /* ret */
}
END_TEST

/* ---- ARM64 -------------------------------------------------------------------------- */

START_TEST(arm64_xdata_fp_chain_and_pac)
{
    const uint64_t base = 0xFFFFF80300000000ULL, ks = 0xFFFFE00E0E4B0000ULL;
    ck_assert_uint_eq(dt_arm64_strip_pac(0x003F000140001234ULL), 0x0000000140001234ULL);
    ck_assert_uint_eq(dt_arm64_strip_pac(0x3F8FF80300001234ULL), 0xFFFFF80300001234ULL);

    space s = { 0 };
    uint8_t *img = space_add(&s, base, SYN_SIZE);
    syn_headers(img, DT_PE_MACHINE_ARM64);
    /* G 0x1000, 0x40 bytes: stp fp,lr,[sp,#-0x20]!; mov fp,sp; ... .xdata:
     * codes set_fp, save_fplr_x(z=3), end */
    wr32(img + 0x2000, (0x40 / 4) | (1u << 27)); /* FunctionLength, CodeWords=1, no epilog scopes (E=0, count 0) */
    img[0x2004] = 0xE1;     /* unwind order: undo mov fp,sp first */
    img[0x2005] = 0x80 | 3;
    img[0x2006] = 0xE4;
    img[0x2007] = 0xE4;
    /* H 0x1100, packed: CR=3 (chained), FrameSize 0x20, RegI 0, length 0x40 */
    uint32_t packed = 1u | ((0x40 / 4) << 2) | (3u << 21) | ((0x20 / 16) << 23);
    wr32(img + 0x3000, 0x1000);
    wr32(img + 0x3004, 0x2000);
    wr32(img + 0x3008, 0x1100);
    wr32(img + 0x300C, packed);
    syn_dir(img, DT_PE_DIR_EXCEPTION, 0x3000, 16);
    for (int i = 0x1000; i < 0x2000; i += 4)
        wr32(img + i, 0xD503201F); /* nop */
    wr32(img + 0x1100 + 0x1C, 0x94000000); /* bl: H calls G from +0x1C */
    space_add(&s, ks, 0x1000);
    dt_addrspace as = { &s, space_read, NULL, 8 };
    dt_module_list mods = { 0 };
    add_module(&mods, base, SYN_SIZE, "nt");
    add_module(&mods, 0xFFFFF80310000000ULL, 0x10000, "other.sys");
    dt_module_list_sort(&mods);

    uint64_t sp = ks + 0x200;
    /* G's frame: fp/lr pair at sp (fp = sp) */
    put64(&s, sp, ks + 0x220);                           /* caller fp (H's frame) */
    put64(&s, sp + 8, 0x1AD7F80300001120ULL); /* PAC-signed lr into H+0x20 */
    /* H's frame: fp/lr pair at H's fp = ks+0x220; its caller (other.sys) via FP chain */
    put64(&s, ks + 0x220, ks + 0x300);
    put64(&s, ks + 0x228, 0xFFFFF80310001100ULL);
    put64(&s, ks + 0x300, 0);
    put64(&s, ks + 0x308, 0);
    dt_cpu_context ctx = { .arch = DT_ARCH_ARM64 };
    dt_ctx_set(&ctx, DT_ARM64_PC, base + 0x1010);
    dt_ctx_set(&ctx, DT_ARM64_SP, sp);
    dt_ctx_set(&ctx, DT_ARM64_FP, sp);
    dt_ctx_set(&ctx, DT_ARM64_LR, 0x1);
    dt_stackwalk_input in = { .arch = DT_ARCH_ARM64, .start = &ctx, .memory = &as, .modules = &mods,
                              .stack_low = ks, .stack_high = ks + 0x1000 };
    dt_stack st;
    ck_assert_int_eq(dt_stackwalk(&in, &st, NULL), DT_OK);
    ck_assert_msg(st.count >= 3, "%zu frames: %s", st.count, st.stop_reason);
    ck_assert_int_eq(st.frames[1].trust, DT_TRUST_CFI);     /* .xdata */
    ck_assert_uint_eq(st.frames[1].ip, base + 0x1120);      /* PAC stripped */
    ck_assert_uint_eq(st.frames[1].sp, sp + 0x20);
    ck_assert_int_eq(st.frames[2].trust, DT_TRUST_CFI);     /* packed, CR=3 */
    ck_assert_uint_eq(st.frames[2].ip, 0xFFFFF80310001100ULL);
    ck_assert_uint_eq(st.frames[2].sp, ks + 0x240);
    dt_stack_free(&st);

    /* Without the image: the FP/LR chain alone. */
    dt_module_list bare = { 0 };
    add_module(&bare, 0xFFFFF80200000000ULL, 0x10000, "elsewhere");
    add_module(&bare, base + 0x10000000, 0x10000, "other.sys");
    add_module(&bare, base, 0x10000, "nt-no-image");
    dt_module_list_sort(&bare);
    memset(img, 0, 0x400); /* headers gone */
    in.modules = &bare;
    ck_assert_int_eq(dt_stackwalk(&in, &st, NULL), DT_OK);
    ck_assert_uint_ge(st.count, 3);
    ck_assert_int_eq(st.frames[1].trust, DT_TRUST_FRAME_POINTER);
    ck_assert_uint_eq(st.frames[1].ip, base + 0x1120);
    ck_assert_uint_eq(st.frames[2].ip, 0xFFFFF80310001100ULL);
    dt_stack_free(&st);
    dt_module_list_free(&bare);
    dt_module_list_free(&mods);
    space_free(&s);
}
END_TEST

/* Packed .pdata words and frame layouts from llvm-readobj's packed-unwind
 * test (func10: RegI=3 CR=1 FrameSize=48; func12: RegI=2 CR=3 FrameSize=544). */
START_TEST(arm64_packed_layouts)
{
    const uint64_t base = 0x7FF700000000ULL, sb = 0x30000;
    space s = { 0 };
    uint8_t *img = space_add(&s, base, SYN_SIZE);
    syn_headers(img, DT_PE_MACHINE_ARM64);
    wr32(img + 0x3000, 0x1000);
    wr32(img + 0x3004, 0x01a30021);
    wr32(img + 0x3008, 0x1100);
    wr32(img + 0x300C, 0x11620029);
    syn_dir(img, DT_PE_DIR_EXCEPTION, 0x3000, 16);
    space_add(&s, sb, 0x1000);
    dt_addrspace as = { &s, space_read, NULL, 8 };
    dt_pe pe;
    ck_assert_int_eq(dt_pe_open_mapped(&pe, &as, base, NULL), DT_OK);
    dt_pe_arm64_function f;
    ck_assert(dt_pe_arm64_pdata_find(&pe, 0x101C, &f));
    ck_assert_uint_eq(f.length, 32);
    ck_assert(!dt_pe_arm64_pdata_find(&pe, 0x1020, &f));

    /* func10 body: stp x19,x20,[sp,#-32]!; stp x21,lr,[sp,#16]; sub sp,sp,#16 */
    uint64_t entry = sb + 0x400;
    put64(&s, entry - 32, 0x19);
    put64(&s, entry - 24, 0x20);
    put64(&s, entry - 16, 0x21);
    put64(&s, entry - 8, base + 0x2000);
    dt_cpu_context c = { .arch = DT_ARCH_ARM64 }, caller;
    dt_ctx_set(&c, DT_ARM64_PC, base + 0x1010);
    dt_ctx_set(&c, DT_ARM64_SP, entry - 48);
    bool mf;
    ck_assert(dt_unwind_arm64_pdata(&pe, base, &as, &c, true, &caller, &mf));
    uint64_t v;
    ck_assert(dt_ctx_get(&caller, DT_ARM64_PC, &v) && v == base + 0x2000);
    ck_assert(dt_ctx_get(&caller, DT_ARM64_SP, &v) && v == entry);
    ck_assert(dt_ctx_get(&caller, 19, &v) && v == 0x19);
    ck_assert(dt_ctx_get(&caller, 21, &v) && v == 0x21);

    /* func12 body: stp x19,x20,[sp,#-16]!; sub sp,sp,#528; stp x29,lr,[sp]; mov x29,sp */
    entry = sb + 0xC00;
    uint64_t fp = entry - 544;
    put64(&s, entry - 16, 0x1919);
    put64(&s, entry - 8, 0x2020);
    put64(&s, fp, sb + 0xF00);
    put64(&s, fp + 8, base + 0x2100);
    dt_ctx_set(&c, DT_ARM64_PC, base + 0x1110);
    dt_ctx_set(&c, DT_ARM64_SP, fp);
    dt_ctx_set(&c, DT_ARM64_FP, fp);
    ck_assert(dt_unwind_arm64_pdata(&pe, base, &as, &c, true, &caller, &mf));
    ck_assert(dt_ctx_get(&caller, DT_ARM64_PC, &v) && v == base + 0x2100);
    ck_assert(dt_ctx_get(&caller, DT_ARM64_SP, &v) && v == entry);
    ck_assert(dt_ctx_get(&caller, DT_ARM64_FP, &v) && v == sb + 0xF00);
    ck_assert(dt_ctx_get(&caller, 20, &v) && v == 0x2020);
    dt_pe_close(&pe);
    space_free(&s);
}
END_TEST

START_TEST(bad_input_is_refused_or_bounded)
{
    space s = { 0 };
    dt_addrspace as = { &s, space_read, NULL, 8 };
    dt_cpu_context ctx = { .arch = DT_ARCH_AMD64 };
    dt_stackwalk_input in = { .arch = DT_ARCH_AMD64, .start = &ctx, .memory = &as };
    dt_stack st;
    ck_assert_int_eq(dt_stackwalk(&in, &st, NULL), DT_ERR_ARG); /* no rip/rsp */
    dt_ctx_set(&ctx, DT_AMD64_RIP, 0x1000);
    dt_ctx_set(&ctx, DT_AMD64_RSP, 0x2000);
    ck_assert_int_eq(dt_stackwalk(&in, &st, NULL), DT_OK); /* no memory at all */
    ck_assert_uint_eq(st.count, 1);
    dt_stack_free(&st);
    in.arch = DT_ARCH_ARM;
    ck_assert_int_eq(dt_stackwalk(&in, &st, NULL), DT_ERR_UNSUPPORTED);
}
END_TEST

static Suite *stackwalk_suite(void)
{
    Suite *s = suite_create("stackwalk");
    TCase *tc = tcase_create("stackwalk");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, real_image_prologs_unwind_exactly);
    tcase_add_test(tc, real_image_epilog_and_prolog);
    tcase_add_test(tc, synthetic_machframe_chain_indirect);
    tcase_add_test(tc, kernel_walk_stops_at_user_boundary);
    tcase_add_test(tc, image_from_hook_when_memory_lacks_it);
    tcase_add_test(tc, x86_ebp_chain_and_scan);
    tcase_add_test(tc, cfi_hooks_get_frame_info_and_set_trust);
    tcase_add_test(tc, call_instruction_forms);
    tcase_add_test(tc, arm64_xdata_fp_chain_and_pac);
    tcase_add_test(tc, arm64_packed_layouts);
    tcase_add_test(tc, bad_input_is_refused_or_bounded);
    suite_add_tcase(s, tc);
    return s;
}

DT_TEST_MAIN(stackwalk_suite)
