/*
 * fuzz_kernel_objects.c — libFuzzer target for the kernel object readers
 * behind a thread: the wait-block reader (kernel_threads.c, KWAIT_BLOCK
 * arrays and the DISPATCHER_HEADERs they name), the IRP reader
 * (kernel_irp.c: ETHREAD.IrpList, IRP, IO_STACK_LOCATION, FILE_OBJECT,
 * DEVICE_OBJECT, DRIVER_OBJECT and their names) and the ALPC reader
 * (kernel_alpc.c: message, port, wait queue, object-header names).
 * fuzz_kdump reaches these only through a whole dump and a report (tens of
 * executions per second); here the input is kernel memory itself, so the
 * readers run alone, thousands of times faster (issue #22).
 *
 * No dump file is parsed and no stack is walked: the harness fills a
 * dt_kernel_dump by hand (as dt_kernel_dump_open would after the header,
 * address space and offsets) and calls dt_kernel_collect_threads, the
 * model-internal entry that reads each thread and then runs the IRP and
 * ALPC collectors — the same order dt_kernel_dump_open uses.
 *
 * Input: 8 bytes of control, then memory mapped at BASE.
 *   [0]    row of the built-in offset table (modulo the row count)
 *   [1]    bit 0: threads come from the process list (PsActiveProcessHead,
 *          a paged dump) instead of KiProcessorBlock; bits 1-3: processor
 *          count - 1; bit 4: KUSER_SHARED_DATA.TickCount known
 *   [2..3] u16 × 8: start of a hole in the memory (reads there fail, as
 *          for a page the dump did not capture); [4] × 8: its length
 *   [5..6] u16 × 8: where KiProcessorBlock / PsActiveProcessHead lies
 *   [7]    unused
 * Pointers inside the memory are absolute kernel addresses (BASE + offset),
 * so the readers' own kernel-address checks apply unchanged.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/kernel_dump_internal.h"

#define BASE UINT64_C(0xffffa00000000000)
#define MAX_THREADS 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
    const uint8_t *mem;
    size_t size;
    size_t hole_start, hole_end; /* [start, end) absent; empty when equal */
} memory;

/* Bytes present from va on stop at the end of the memory or at the hole. */
static size_t mem_read(void *ctx, uint64_t va, void *buf, size_t len)
{
    const memory *m = ctx;
    if (va < BASE || va - BASE >= m->size)
        return 0;
    size_t off = (size_t)(va - BASE), end = m->size;
    if (off < m->hole_end && off >= m->hole_start)
        return 0;
    if (off < m->hole_start && m->hole_start < end)
        end = m->hole_start;
    size_t n = end - off < len ? end - off : len;
    memcpy(buf, m->mem + off, n);
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 8 || size > (1u << 20))
        return 0;
    memory m = { data + 8, size - 8, 0, 0 };
    size_t hole = ((size_t)data[2] | (size_t)data[3] << 8) * 8;
    if (data[4]) {
        m.hole_start = hole;
        m.hole_end = hole + (size_t)data[4] * 8;
    }

    size_t rows = 0;
    dt_kernel_layout_info info;
    while (dt_kernel_offsets_layout_info(rows, &info))
        rows++;
    if (!rows || !dt_kernel_offsets_layout_info(data[0] % rows, &info))
        abort();

    dt_kernel_dump kd;
    memset(&kd, 0, sizeof kd);
    dt_kernel_offsets_init(&kd.offsets);
    if (!dt_kernel_offsets_from_table(info.build_min, info.arch, &kd.offsets))
        abort(); /* every row answers for its own first build */
    kd.as = (dt_addrspace){ &m, mem_read, NULL, 8 };
    kd.header.arch = info.arch;
    kd.header.processors = 1u + ((data[1] >> 1) & 7u);
    kd.tick_count = data[1] & 0x10 ? 0x10000 : -1;
    kd.tick_ms = 15.625;
    uint64_t start = BASE + ((uint64_t)data[5] | (uint64_t)data[6] << 8) * 8;
    if (data[1] & 1) {
        kd.memory.kind = DT_KMEM_PAGED;
        kd.header.ps_active_process_head = start;
    } else {
        kd.has_kdbg = true;
        kd.kdbg.ki_processor_block = start;
    }

    if (dt_kernel_collect_threads(&kd, MAX_THREADS) == DT_OK) {
        for (size_t i = 0; i < kd.thread_count; i++) {
            const dt_kernel_thread *t = &kd.threads[i];
            if (t->wait_object_count > DT_KERNEL_MAX_WAIT_OBJECTS || t->irp_count > DT_KERNEL_MAX_IRPS)
                abort();
            for (size_t k = 0; k < t->irp_count; k++) {
                const dt_kernel_irp *r = &t->irps[k];
                if (r->device_count > DT_KERNEL_IRP_MAX_DEVICES || strlen(r->file_name) >= sizeof r->file_name ||
                    strlen(r->driver_name) >= sizeof r->driver_name)
                    abort(); /* names are always terminated inside their arrays */
            }
            if (t->alpc.kind && strlen(t->alpc.port_name) >= sizeof t->alpc.port_name)
                abort();
        }
    }
    dt_kernel_dump_close(&kd); /* frees what the collectors made; the rest is zero */
    return 0;
}
