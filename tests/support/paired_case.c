/*
 * paired_case.c — see paired_case.h.
 */
#include "paired_case.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kdump_writer.h"
#include "pe_image_writer.h"
#include "triage_blocks.h"

#define NT(rva, off) (DT_KW_NT_BASE + (rva) + (off))

static const dt_pw_export nt_exports[] = {
    { "DbgkpLkmdSnapThreadInContext", DT_PAIRED_RVA_SNAP }, { "KiDeliverApc", DT_PAIRED_RVA_DELIVER_APC },
    { "KiSwapContext", DT_PAIRED_RVA_SWAP_CONTEXT },        { "KiSwapThread", DT_PAIRED_RVA_SWAP_THREAD },
    { "KiCommitThreadWait", DT_PAIRED_RVA_COMMIT_WAIT },    { "KeWaitForSingleObject", DT_PAIRED_RVA_WAIT_SINGLE },
    { "IofCallDriver", DT_PAIRED_RVA_CALL_DRIVER },         { "NtReadFile", DT_PAIRED_RVA_NT_READ },
    { "KiSystemServiceCopyEnd", DT_PAIRED_RVA_SYSCALL_END }, { "IopSynchronousServiceTail", DT_PAIRED_RVA_SYNC_TAIL },
    { "NtDeviceIoControlFile", DT_PAIRED_RVA_NT_IOCTL },
};

static const dt_pw_export drv_exports[] = { { "HelloDispatchRead", DT_PAIRED_RVA_DRV_READ },
                                            { "HelloDispatchIoctl", DT_PAIRED_RVA_DRV_IOCTL } };

uint8_t *dt_paired_add_images(uint8_t *dump, size_t *size)
{
    size_t isz;
    uint8_t *nt = dt_pw_build("ntoskrnl.exe", DT_KW_NT_SIZE, 0x0d8333e6, nt_exports,
                              sizeof nt_exports / sizeof nt_exports[0], &isz);
    if (!nt) {
        free(dump);
        return NULL;
    }
    dump = dt_tb_add_block(dump, size, DT_KW_NT_BASE, nt, (uint32_t)isz);
    free(nt);
    uint8_t *drv = dump ? dt_pw_build("hello.sys", DT_KW_DRV_SIZE, 0x5f000001, drv_exports,
                                      sizeof drv_exports / sizeof drv_exports[0], &isz)
                        : NULL;
    if (!drv) {
        free(dump);
        return NULL;
    }
    dump = dt_tb_add_block(dump, size, DT_KW_DRV_BASE, drv, (uint32_t)isz);
    free(drv);
    return dump;
}

uint8_t *dt_paired_kernel_dump(const dt_paired_options *o, size_t *size)
{
    /* Thread 36 is snapped in its own context (docs/formats.md D): the
     * snapshot routine on top with the CONTEXT it captured, the APC
     * delivery, then the real wait of a synchronous NtReadFile whose IRP
     * the console driver keeps pending. */
    static const uint64_t read_frames[] = {
        NT(DT_PAIRED_RVA_SNAP, 0x4d),         NT(DT_PAIRED_RVA_DELIVER_APC, 0x1a1),
        NT(DT_PAIRED_RVA_SWAP_CONTEXT, 0x76), NT(DT_PAIRED_RVA_SWAP_THREAD, 0x5bb),
        NT(DT_PAIRED_RVA_COMMIT_WAIT, 0x14f), NT(DT_PAIRED_RVA_WAIT_SINGLE, 0x233),
        NT(DT_PAIRED_RVA_SYNC_TAIL, 0x52),    NT(DT_PAIRED_RVA_NT_READ, 0x5e3),
        NT(DT_PAIRED_RVA_SYSCALL_END, 0x28),
    };
    static const uint64_t other_frames[] = {
        NT(DT_PAIRED_RVA_SWAP_CONTEXT, 0x76), NT(DT_PAIRED_RVA_SWAP_THREAD, 0x5bb),
        NT(DT_PAIRED_RVA_COMMIT_WAIT, 0x14f), NT(DT_PAIRED_RVA_WAIT_SINGLE, 0x233),
        NT(DT_PAIRED_RVA_SYSCALL_END, 0x28),
    };
    /* ReadFile on the console's input handle: IRP_MJ_READ on the condrv
     * file object "\Input" (device type FILE_DEVICE_CONSOLE). */
    static const dt_kw_irp console_read[] = { { .major = 0x03, .length = 4096, .file_name = "\\Input",
                                                .device_type = 0x50, .driver_name = "\\Driver\\condrv" } };
    dt_kw_thread threads[2];
    memset(threads, 0, sizeof threads);
    threads[0].tid = 36;
    threads[0].state = 5;
    threads[0].wait_reason = o->wait_reason;
    threads[0].wait_mode = 0;
    threads[0].alertable = false;
    threads[0].wait_time = DT_KW_TICK_COUNT - o->waited_ticks;
    threads[0].frames = read_frames;
    threads[0].frame_count = sizeof read_frames / sizeof read_frames[0];
    threads[0].running_cpu = -1;
    threads[1] = threads[0];
    threads[0].captured_context = true;
    threads[0].irps = console_read;
    threads[0].irp_count = 1;
    threads[1].tid = 40;
    threads[1].wait_reason = 13; /* WrUserRequest */
    threads[1].frames = other_frames;
    threads[1].frame_count = sizeof other_frames / sizeof other_frames[0];
    dt_kw_process proc = { .pid = o->pid, .image = o->image, .threads = threads, .thread_count = 2 };
    dt_kw_system sys = { .build = 19041, .processors = 2, .attributes = 0x10, .processes = &proc,
                         .process_count = 1 };
    uint8_t *dump = dt_kw_build_triage(&sys, size);
    if (!dump)
        return NULL;
    /* The kernel dump was written 20 s after the user dump, as procdump
     * -ma -mk does: SystemTime (FILETIME) at 0xFA8. */
    uint64_t ft = (DT_PAIRED_USER_TIME + 20 + UINT64_C(11644473600)) * 10000000u;
    for (int i = 0; i < 8; i++)
        dump[0xfa8 + i] = (uint8_t)(ft >> (8 * i));
    return dt_paired_add_images(dump, size);
}

int dt_paired_write_kernel_dump(const dt_paired_options *o, const char *path)
{
    size_t size = 0;
    uint8_t *dump = dt_paired_kernel_dump(o, &size);
    if (!dump)
        return -1;
    FILE *f = fopen(path, "wb");
    int rc = f && fwrite(dump, 1, size, f) == size ? 0 : -1;
    if (f && fclose(f) != 0)
        rc = -1;
    free(dump);
    return rc;
}
