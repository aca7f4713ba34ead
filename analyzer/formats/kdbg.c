/*
 * kdbg.c — reading KDDEBUGGER_DATA64 (offsets: docs/formats.md B.5, from
 * wdbgexts.h field order, checked against the two real triage copies).
 */
#include "formats/kdbg.h"

#include <string.h>

static uint64_t u64_at(dt_view v, uint32_t size, uint64_t off)
{
    uint64_t x = 0;
    if (off + 8 <= size)
        dt_view_u64(v, off, &x);
    return x;
}
static uint32_t u32_at(dt_view v, uint32_t size, uint64_t off)
{
    uint32_t x = 0;
    if (off + 4 <= size)
        dt_view_u32(v, off, &x);
    return x;
}
static uint16_t u16_at(dt_view v, uint32_t size, uint64_t off)
{
    uint16_t x = 0;
    if (off + 2 <= size)
        dt_view_u16(v, off, &x);
    return x;
}

dt_status dt_kdbg_parse(dt_view v, dt_kdbg *k, dt_error *err)
{
    memset(k, 0, sizeof *k);
    uint32_t tag = 0, size = 0;
    if (!dt_view_u32(v, 0x10, &tag) || !dt_view_u32(v, 0x14, &size))
        return dt_error_set(err, DT_ERR_TRUNCATED, "KDDEBUGGER_DATA64 header is cut off");
    if (tag != DT_KDBG_TAG)
        return dt_error_set(err, DT_ERR_FORMAT, "KDDEBUGGER_DATA64 has tag 0x%08x, not 'KDBG' (encoded?)", tag);
    /* Never read past the block's own size nor past the bytes we hold. */
    if (size > v.size)
        size = (uint32_t)v.size;
    k->size = size;
    k->kern_base = u64_at(v, size, 0x18);
    k->ps_loaded_module_list = u64_at(v, size, 0x48);
    k->ps_active_process_head = u64_at(v, size, 0x50);
    k->psp_cid_table = u64_at(v, size, 0x58);
    k->mm_pfn_database = u64_at(v, size, 0xC0);
    k->nt_build_lab = u64_at(v, size, 0x208);
    k->ki_processor_block = u64_at(v, size, 0x218);
    k->mm_unloaded_drivers = u64_at(v, size, 0x220);
    k->kthread_next_processor = u16_at(v, size, 0x298);
    k->kthread_teb = u16_at(v, size, 0x29A);
    k->kthread_kernel_stack = u16_at(v, size, 0x29C);
    k->kthread_initial_stack = u16_at(v, size, 0x29E);
    k->kthread_apc_process = u16_at(v, size, 0x2A0);
    k->kthread_state = u16_at(v, size, 0x2A2);
    k->size_eprocess = u16_at(v, size, 0x2A8);
    k->eprocess_peb = u16_at(v, size, 0x2AA);
    k->eprocess_parent_cid = u16_at(v, size, 0x2AC);
    k->eprocess_directory_table_base = u16_at(v, size, 0x2AE);
    k->size_prcb = u16_at(v, size, 0x2B0);
    k->prcb_current_thread = u16_at(v, size, 0x2B4);
    k->prcb_proc_state_context = u16_at(v, size, 0x2BC);
    k->prcb_number = u16_at(v, size, 0x2BE);
    k->size_ethread = u16_at(v, size, 0x2C0);
    k->prcb_context = u16_at(v, size, 0x338);
    k->kthread_stack_limit = u32_at(v, size, 0x340);
    k->kthread_stack_base = u32_at(v, size, 0x344);
    k->prcb_idle_thread = u16_at(v, size, 0x350);
    k->kthread_wait_reason = u16_at(v, size, 0x35C);
    k->pte_base = u64_at(v, size, 0x360);
    return DT_OK;
}

void dt_kdbg_decode(uint8_t *buf, size_t n, uint64_t wait_never, uint64_t wait_always, uint64_t block_va)
{
    unsigned rot = (unsigned)(wait_never & 0xFF) % 64;
    for (size_t i = 0; i + 8 <= n; i += 8) {
        uint64_t w = dt_le64(buf + i);
        w ^= wait_never;
        w = rot ? (w << rot) | (w >> (64 - rot)) : w;
        w ^= block_va;
        w = __builtin_bswap64(w);
        w ^= wait_always;
        for (int b = 0; b < 8; b++)
            buf[i + (size_t)b] = (uint8_t)(w >> (8 * b));
    }
}

static uint64_t rotl64(uint64_t w, unsigned r) { return r ? (w << r) | (w >> (64 - r)) : w; }

bool dt_kdbg_decode_known(uint8_t *buf, size_t n, uint64_t ps_loaded_module_list, uint64_t ps_active_process_head)
{
    if (n < 0x58 || !ps_loaded_module_list)
        return false;
    n &= ~(size_t)7;
    uint64_t known = dt_le64(buf + 0x48);
    for (unsigned r = 0; r < 64; r++) {
        uint64_t hdr = ps_loaded_module_list ^ __builtin_bswap64(rotl64(dt_le64(buf + 0x10) ^ known, r));
        uint32_t size = (uint32_t)(hdr >> 32);
        if ((uint32_t)hdr != DT_KDBG_TAG || size < 0x80 || size > 0x2000)
            continue;
        uint64_t head = ps_loaded_module_list ^ __builtin_bswap64(rotl64(dt_le64(buf + 0x50) ^ known, r));
        if (ps_active_process_head && head != ps_active_process_head)
            continue;
        for (size_t i = 0; i + 8 <= n; i += 8) {
            uint64_t w = ps_loaded_module_list ^ __builtin_bswap64(rotl64(dt_le64(buf + i) ^ known, r));
            for (int b = 0; b < 8; b++)
                buf[i + (size_t)b] = (uint8_t)(w >> (8 * b));
        }
        return true;
    }
    return false;
}
