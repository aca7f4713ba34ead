/*
 * kdump_writer.h — TEST-ONLY writers of synthetic Windows kernel dumps.
 *
 * No real `procdump -mk` (.Kernel.dmp) file is public, and full/bitmap
 * dumps are gigabytes, so tests build the dumps they need from the
 * documented structures (docs/formats.md B, C): a PAGEDU64 header; for
 * triage dumps (type 4, the procdump -mk / SysDbgGetTriageDump shape) a
 * TRIAGE_DUMP64 with KDBG, PRCB, EPROCESS, ETHREAD and call-stack copies,
 * a driver list with its string pool, and data blocks holding every
 * requested ETHREAD, its stack, KiProcessorBlock and the PRCBs; for full
 * (type 1) and bitmap (types 5/6) dumps the same objects in physical pages
 * behind real x64 page tables (4 KiB, optional 2 MiB and 1 GiB pages, and an
 * optional transition PTE), with process, thread and loaded-module lists.
 *
 * Structures use the Windows 10 19041 x64 layouts (docs/kernel_offsets.md),
 * or the EPROCESS/ETHREAD offsets a test gives (dt_kw_system.structs); the
 * header's build number is free, so a test can also present a layout as an
 * unknown build.  Every address the writer chooses is exposed
 * through dt_kw_thread_va / DT_KW_* so tests can assert exact values.
 */
#ifndef DT_TEST_KDUMP_WRITER_H
#define DT_TEST_KDUMP_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DT_KW_NT_BASE UINT64_C(0xfffff8047ba00000)
#define DT_KW_NT_SIZE 0x1046000u
#define DT_KW_DRV_BASE UINT64_C(0xfffff80480000000)
#define DT_KW_DRV_SIZE 0x20000u
#define DT_KW_KDBG_VA (DT_KW_NT_BASE + 0xc00b20)
#define DT_KW_SHARED_DATA UINT64_C(0xfffff78000000000)
#define DT_KW_TICK_COUNT 0x5000u  /* KUSER_SHARED_DATA.TickCount written */

/* What the -mk writer's DbgkpLkmdSnapPendingIrps saves for one pending IRP
 * (docs/formats.md D): the IRP with its stack locations, the current
 * IO_STACK_LOCATION, the FILE_OBJECT and its name buffer, the DEVICE_OBJECT,
 * and the DRIVER_OBJECT and its name buffer.  With filter_driver_name the
 * IRP has two stack locations: a filter device above (location 2, already
 * passed, its objects written to memory but not saved as blocks, as the
 * kernel's writer does) and the holder at the current location 1. */
typedef enum {
    DT_KW_IRP_OK = 0,
    DT_KW_IRP_LOOP,             /* the IRP's ThreadListEntry.Flink points back at itself */
    DT_KW_IRP_NOT_AN_IRP,       /* Type 9 where an IRP (6) belongs */
    DT_KW_IRP_FILE_MISTYPED,    /* the FILE_OBJECT has Type 7, not 5 */
    DT_KW_IRP_DRIVER_ABSENT,    /* DEVICE_OBJECT.DriverObject points at memory not in the dump */
    DT_KW_IRP_NAME_PAST_BUFFER, /* FileName.Length 0x400, past MaximumLength and the saved buffer */
} dt_kw_irp_fault;

typedef struct {
    uint8_t major, minor;          /* IRP_MJ_* of the current stack location */
    uint32_t code;                 /* IoControlCode / FsControlCode, when major is 0xd/0xe */
    uint32_t length;               /* Read/Write Length or OutputBufferLength */
    const char *file_name;         /* FILE_OBJECT.FileName */
    uint32_t device_type;          /* DEVICE_OBJECT.DeviceType */
    const char *driver_name;       /* DRIVER_OBJECT.DriverName, "\\Driver\\condrv" */
    uint64_t driver_start;         /* DRIVER_OBJECT.DriverStart, e.g. DT_KW_DRV_BASE, or 0 */
    const char *filter_driver_name;/* a filter device above the holder, or NULL */
    bool cancel;
    dt_kw_irp_fault fault;
} dt_kw_irp;

/* One KWAIT_BLOCK of a waiting thread and the dispatcher object it names
 * (docs/kernel.md "Wait objects"): KWAIT_BLOCK[i] at KTHREAD.WaitBlock
 * (+0x140, 0x30 bytes each: WaitType +0x10, WaitKey +0x12, Thread +0x18,
 * Object +0x20); the object's DISPATCHER_HEADER (Type +0, SignalState +4),
 * KMUTANT.OwnerThread +0x28, KSEMAPHORE.Limit +0x18.  A join's object is the
 * ETHREAD / EPROCESS of the dump itself, as the kernel's is. */
typedef struct {
    uint8_t type;            /* 0 NotificationEvent, 1 SynchronizationEvent, 2 Mutant, 5 Semaphore */
    int32_t signal_state;    /* DISPATCHER_HEADER.SignalState (a semaphore's count) */
    int32_t limit;           /* KSEMAPHORE.Limit */
    uint32_t owner_tid;      /* mutant: owned by this thread of the same process, 0 none */
    size_t join_thread;      /* 1-based index of a thread of this process: the object is its ETHREAD */
    size_t join_process;     /* 1-based index of a process: the object is its EPROCESS */
    uint16_t wait_key;
} dt_kw_wait;

typedef enum {
    DT_KW_WAIT_OK = 0,
    DT_KW_WAIT_OBJECT_ABSENT,   /* every block's Object points at memory not in the dump */
    DT_KW_WAIT_COUNT_ABSURD,    /* WaitBlockCount 0xff, past the blocks written */
    DT_KW_WAIT_FOREIGN_BLOCK,   /* the second block's Thread is another thread (garbage) */
} dt_kw_wait_fault;

typedef struct {
    uint32_t tid;
    uint8_t state;           /* KTHREAD_STATE: 5 Waiting, 2 Running */
    uint8_t wait_reason;     /* KWAIT_REASON */
    uint8_t wait_mode;       /* 0 KernelMode, 1 UserMode */
    bool alertable;
    uint32_t wait_time;
    uint64_t win32_start_address;
    const uint64_t *frames;  /* return addresses, innermost first */
    size_t frame_count;
    int running_cpu;         /* >= 0: the thread runs there (context in the PRCB) */
    /* Waiting threads get one KWAIT_BLOCK on a dispatcher object of this
     * type (0 NotificationEvent, 1 SynchronizationEvent, 2 Mutant, …); a
     * mutant is owned by the thread of this process with mutant_owner_tid
     * (0: unowned). */
    uint8_t wait_object_type;
    uint32_t mutant_owner_tid;
    /* procdump -mk (docs/formats.md D): the thread was snapped in its own
     * context, so a CONTEXT captured inside DbgkpLkmdSnapThreadInContext
     * (Rip = frames[0], Rsp below it) is saved as a 0x4D0-byte data block
     * on its stack; context_lies makes that Rsp point off the stack. */
    bool captured_context;
    bool context_lies;
    const dt_kw_irp *irps;   /* ETHREAD.IrpList, most recent first; at most 4 */
    size_t irp_count;
} dt_kw_thread;

/* The wait of one waiting thread given block by block (dt_kw_system.waits):
 * these blocks (at most 4) replace its one wait_object_type block;
 * wait_type is every block's WaitType (0 WaitAll, 1 WaitAny). */
typedef struct {
    size_t process, thread;  /* indexes */
    const dt_kw_wait *waits;
    size_t wait_count;
    uint8_t wait_type;
    dt_kw_wait_fault fault;
} dt_kw_thread_waits;

/* An ALPC/LPC wait (dt_kw_system.alpc; docs/kernel.md "ALPC waits",
 * layouts docs/kernel_offsets.md "ALPC", 19041 x64).  A client in WrLpcReply
 * gets ETHREAD.AlpcMessageId (+0x528) and AlpcMessage (+0x530) → a
 * _KALPC_MESSAGE (PortQueue +0x10, WaitingThread +0x20, ServerThread +0xc8)
 * queued at the server's unnamed communication port, whose
 * CommunicationInfo (+0x10) → ConnectionPort (+0) is the named connection
 * port; both ports' OwnerProcess (+0x18) is the server process.  A server in
 * WrLpcReceive gets ETHREAD.AlpcWaitListEntry (+0x538) linked into the
 * connection port's WaitQueue (+0xe8), whose Semaphore (+0xf8) is the
 * thread's first wait object.  Named objects carry an _OBJECT_HEADER (Body
 * at +0x30, InfoMask +0x1a = 0x02) and an _OBJECT_HEADER_NAME_INFO before
 * it (Directory +0, Name +8): the port lives in \RPC Control under the
 * root directory "\". */
typedef enum {
    DT_KW_ALPC_OK = 0,
    DT_KW_ALPC_MESSAGE_ABSENT,     /* ETHREAD.AlpcMessage points at memory not in the dump */
    DT_KW_ALPC_OTHER_WAITER,       /* the message's WaitingThread is another thread */
    DT_KW_ALPC_OWNER_NOT_PROCESS,  /* ALPC_PORT.OwnerProcess points at an object of Type 5 */
    DT_KW_ALPC_LIST_BROKEN,        /* receive: the wait list's next entry does not link back */
} dt_kw_alpc_fault;

typedef struct {
    size_t process, thread;      /* the waiting thread (indexes) */
    bool receive;                /* a server in WrLpcReceive; else a client in WrLpcReply */
    size_t server_process;       /* index of the process owning the ports */
    int server_thread;           /* reply: index in server_process of KALPC_MESSAGE.ServerThread, -1 none */
    const char *port_name;       /* the connection port's name in \RPC Control, NULL unnamed */
    uint64_t message_id;
    dt_kw_alpc_fault fault;
} dt_kw_alpc;

/* KTHREAD KernelTime (+0x28c) and UserTime (+0x2dc) of one thread
 * (dt_kw_system.times), in clock ticks (15.625 ms: the writer's
 * KUSER_SHARED_DATA.TickCountMultiplier).  A thread not listed gets the
 * writer's filler, 100 + tid and 7. */
typedef struct {
    size_t process, thread;  /* indexes */
    uint32_t kernel_time, user_time;
} dt_kw_thread_times;

typedef struct {
    uint32_t pid;
    const char *image;       /* ImageFileName, at most 14 chars */
    const dt_kw_thread *threads;
    size_t thread_count;     /* at most 8 are written */
} dt_kw_process;

/* Where the EPROCESS/ETHREAD members the writer fills live, for a test
 * that presents another build's layout (the KTHREAD members, object sizes
 * and ALPC objects stay as in 19041 x64).  The test states the offsets
 * from its own public source, not from the analyzer's table, so a wrong
 * table value fails it. */
typedef struct {
    uint32_t ep_pid, ep_links, ep_image, ep_threads, ep_create, ep_peb;
    uint32_t et_cid, et_link, et_start, et_create, et_irp_list, et_alpc_id, et_alpc_msg, et_alpc_wait;
} dt_kw_structs;

typedef struct {
    uint32_t build;          /* header MinorVersion, e.g. 19041 */
    const dt_kw_structs *structs; /* optional; NULL: the 19041 x64 offsets */
    uint32_t processors;     /* 1..16 */
    uint32_t bugcheck_code;
    uint64_t bugcheck_params[4];
    uint32_t attributes;     /* DUMP_FILE_ATTRIBUTES (0x10 = live dump) or 0 */
    uint64_t system_time;    /* header SystemTime (FILETIME, +0xFA8); 0: the writer's default */
    const dt_kw_thread_times *times; /* optional, per thread */
    size_t times_count;
    const dt_kw_process *processes;
    size_t process_count;
    /* triage: whose ETHREAD/EPROCESS is the header copy (the current thread) */
    size_t current_process, current_thread;
    const dt_kw_thread_waits *waits; /* optional, per waiting thread */
    size_t wait_count;
    const dt_kw_alpc *alpc;  /* optional ALPC waits, at most 8 */
    size_t alpc_count;
} dt_kw_system;

typedef enum { DT_KW_FULL = 1, DT_KW_BITMAP_FULL = 5, DT_KW_BITMAP_KERNEL = 6 } dt_kw_layout;

typedef struct {
    dt_kw_layout layout;
    bool large_pages;        /* stacks via a 2 MiB page, pool objects via a 1 GiB page */
    bool transition_pte;     /* the list-heads page is reached through a transition PTE */
    uint64_t extra_pages;    /* bitmap: this many more present (zero) pages, sparse in the file */
} dt_kw_physical;

/* VA of thread t of process p (as the writer lays them out). */
uint64_t dt_kw_thread_va(size_t process_index, size_t thread_index);
uint64_t dt_kw_process_va(size_t process_index);
uint64_t dt_kw_stack_base(size_t process_index, size_t thread_index);
/* VA of the object thread t of process p waits on. */
uint64_t dt_kw_wait_object_va(size_t process_index, size_t thread_index);

/* VAs of what write_alpc lays out for dt_kw_system.alpc[i]: the message,
 * the server's communication port (PortQueue) and the named connection port. */
uint64_t dt_kw_alpc_message_va(size_t alpc_index);
uint64_t dt_kw_alpc_port_va(size_t alpc_index);
uint64_t dt_kw_alpc_connection_port_va(size_t alpc_index);

/* VAs of what write_irps lays out for IRP i of thread t of process p. */
uint64_t dt_kw_irp_va(size_t process_index, size_t thread_index, size_t irp_index);
uint64_t dt_kw_irp_file_va(size_t process_index, size_t thread_index, size_t irp_index);
uint64_t dt_kw_irp_device_va(size_t process_index, size_t thread_index, size_t irp_index);
uint64_t dt_kw_irp_driver_va(size_t process_index, size_t thread_index, size_t irp_index);
/* VA of the captured CONTEXT block and the Rsp it records. */
uint64_t dt_kw_captured_context_va(size_t process_index, size_t thread_index);
uint64_t dt_kw_captured_rsp(size_t process_index, size_t thread_index);

/* A triage dump (DumpType 4) in a malloc'd buffer (*size bytes); NULL on OOM. */
uint8_t *dt_kw_build_triage(const dt_kw_system *s, size_t *size);

/* A full or bitmap dump written (sparsely) to path; 0 on success. */
int dt_kw_write_physical(const dt_kw_system *s, const dt_kw_physical *o, const char *path);
/* The same, with the KDBG in memory encoded as Win8+ x64 keeps it
 * (KdpDataBlockEncoded) with these KiWaitNever/KiWaitAlways values: the
 * inverse of dt_kdbg_decode. */
int dt_kw_write_physical_kdbg_encoded(const dt_kw_system *s, const dt_kw_physical *o, uint64_t wait_never,
                                      uint64_t wait_always, const char *path);

#endif
