/*
 * paired_case.h — TEST-ONLY: the kernel half of the paired test case, a
 * `procdump -mk` style live kernel triage dump of the Wine hello_block
 * process (tests/data/wine/hello_block.dmp.gz: pid 32, thread 36 blocked in
 * ReadFile).  No real procdump -mk file is public; this one is synthesized
 * from the documented structures (kdump_writer.c) with ntoskrnl and driver
 * export tables (pe_image_writer.c) so kernel frames have names.
 *
 * Thread 36 waits in nt!NtReadFile under the live-dump snapshot APC frames,
 * with the CONTEXT the snapshot routine captured and its pending console
 * read (IRP_MJ_READ on condrv's \Input file object), as the kernel's -mk
 * writer saves them (docs/formats.md D); thread 40 (absent from the user
 * dump) waits in a plain KiSwapContext wait.
 */
#ifndef DT_TEST_PAIRED_CASE_H
#define DT_TEST_PAIRED_CASE_H

#include <stddef.h>
#include <stdint.h>

/* The user dump's TimeDateStamp: the kernel dump is written 20 s later. */
#define DT_PAIRED_USER_TIME UINT64_C(1795995298)

typedef struct {
    uint32_t pid;          /* 32 for the matching case */
    const char *image;     /* "hello_block.ex" (ImageFileName keeps 14 chars) */
    uint8_t wait_reason;   /* KWAIT_REASON of thread 36: 6 UserRequest, 0 Executive */
    uint32_t waited_ticks; /* how long thread 36 has waited, 15.625 ms ticks */
} dt_paired_options;

/* A malloc'd dump (*size bytes); NULL on OOM. */
uint8_t *dt_paired_kernel_dump(const dt_paired_options *o, size_t *size);
/* Writes it to path; 0 on success. */
int dt_paired_write_kernel_dump(const dt_paired_options *o, const char *path);

/* Adds the synthetic ntoskrnl.exe and hello.sys images (export tables with
 * the functions below) to a triage dump as data blocks; frees dump and
 * returns NULL on OOM. */
uint8_t *dt_paired_add_images(uint8_t *dump, size_t *size);

/* ntoskrnl function RVAs of the synthetic kernel. */
enum {
    DT_PAIRED_RVA_SNAP = 0x100000,
    DT_PAIRED_RVA_DELIVER_APC = 0x101000,
    DT_PAIRED_RVA_SWAP_CONTEXT = 0x102000,
    DT_PAIRED_RVA_SWAP_THREAD = 0x103000,
    DT_PAIRED_RVA_COMMIT_WAIT = 0x104000,
    DT_PAIRED_RVA_WAIT_SINGLE = 0x105000,
    DT_PAIRED_RVA_CALL_DRIVER = 0x106000,
    DT_PAIRED_RVA_NT_READ = 0x107000,
    DT_PAIRED_RVA_SYSCALL_END = 0x108000,
    DT_PAIRED_RVA_SYNC_TAIL = 0x109000,
    DT_PAIRED_RVA_NT_IOCTL = 0x10a000,
    DT_PAIRED_RVA_DRV_READ = 0x2000,
    DT_PAIRED_RVA_DRV_IOCTL = 0x3000,
};

#endif
