/*
 * kernel_dump.h — the neutral model of one kernel dump: header facts,
 * drivers, processes and threads with their kernel stacks.
 *
 * dt_kernel_dump_open does everything a reader of a kernel dump needs
 * before presentation: parses the header (kdump.h), builds the kernel
 * address space (triage data blocks or page tables), resolves structure
 * offsets (kernel_offsets.h), lists drivers, processes and threads, and
 * gives every thread a starting register context and its stack bounds.
 * Walking the stacks is not the model's job: dt_kernel_walk_stacks
 * (unwind/kernel_stacks.h) fills each thread's frames from those.
 * Threads come from (docs/formats.md C.6):
 *   triage: the ETHREAD copy (current thread), every data block that is a
 *           whole ETHREAD (procdump -mk / live triage dumps), and each
 *           processor's running thread via KiProcessorBlock ("cpuN");
 *   full/bitmap: PsActiveProcessHead → ThreadListHead, plus the running
 *           thread of each processor.
 * Everything is owned by the dt_kernel_dump and freed by
 * dt_kernel_dump_close; the mapped file must outlive it.
 */
#ifndef DT_MODEL_KERNEL_DUMP_H
#define DT_MODEL_KERNEL_DUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/cpu_context.h"
#include "formats/kdbg.h"
#include "formats/kdump.h"
#include "formats/kdump_triage.h"
#include "base/addrspace.h"
#include "memory/kernel_memory.h"
#include "model/kernel_offsets.h"
#include "base/module.h"
#include "base/error.h"

typedef struct {
    uint64_t ip;
    uint64_t sp;
    const char *trust;       /* dt_frame_trust_name: "context", "cfi", "frame_pointer", "scan"… (static) */
} dt_kernel_frame;

/* One object a thread waits on (KWAIT_BLOCK.Object). */
typedef struct {
    uint64_t object;
    int type;                /* DISPATCHER_HEADER.Type, -1 unknown (object not in the dump) */
    int wait_type;           /* KWAIT_BLOCK.WaitType: 0 WaitAll, 1 WaitAny, 2 WaitNotification…; -1 unknown */
    int wait_key;            /* KWAIT_BLOCK.WaitKey, -1 unknown */
    bool has_signal_state;
    int32_t signal_state;    /* DISPATCHER_HEADER.SignalState (a semaphore's count) */
    bool has_limit;
    int32_t limit;           /* semaphore: KSEMAPHORE.Limit */
    bool has_owner;
    uint64_t owner_tid;      /* mutant: KMUTANT.OwnerThread's Cid.UniqueThread */
    uint64_t owner_ethread;
    bool has_target;
    uint64_t target_tid;     /* thread object: the awaited thread's id */
    bool has_target_pid;
    uint64_t target_pid;     /* process object: the awaited process's id */
} dt_kernel_wait_object;

#define DT_KERNEL_MAX_WAIT_OBJECTS 8

/* One device of an IRP's device stack (from its stack locations). */
typedef struct {
    uint64_t device;             /* IO_STACK_LOCATION.DeviceObject */
    uint64_t driver;             /* DEVICE_OBJECT.DriverObject, 0 when the device is not in the dump */
    char driver_name[96];        /* DRIVER_OBJECT.DriverName, "" when absent */
} dt_kernel_irp_device;

#define DT_KERNEL_IRP_MAX_DEVICES 8

/* One pending IRP of a thread (model/kernel_irp.c, docs/kernel.md
 * "Pending I/O").  Unknown numbers are -1, absent objects 0. */
typedef struct {
    uint64_t irp;
    uint16_t size;               /* IRP.Size */
    uint32_t flags;              /* IRP.Flags */
    int stack_count, current_location;
    bool cancel, pending_returned;
    int requestor_mode;          /* 0 KernelMode, 1 UserMode */
    uint64_t thread;             /* IRP.Tail.Overlay.Thread */
    uint64_t stack_location;     /* the current IO_STACK_LOCATION, 0 when absent */
    int major, minor;            /* IRP_MJ_*, -1 unknown */
    bool has_code;               /* IOCTL (device control) or FSCTL (file system control) */
    uint32_t code;
    bool has_length;
    uint32_t length;             /* read/write Length, or output buffer length of a control */
    uint64_t file_object;
    bool has_file_name;
    char file_name[260];         /* UTF-8 */
    uint64_t device_object;
    int64_t device_type;         /* DEVICE_OBJECT.DeviceType, -1 unknown */
    uint64_t driver_object;
    char driver_name[96];        /* "\\Driver\\condrv", "" unknown */
    uint64_t driver_start;
    dt_kernel_irp_device devices[DT_KERNEL_IRP_MAX_DEVICES]; /* top of the device stack first */
    size_t device_count;
} dt_kernel_irp;

#define DT_KERNEL_MAX_IRPS 16

/* What an ALPC/LPC wait points at (model/kernel_alpc.c, docs/kernel.md
 * "ALPC waits"): for a client waiting for a reply (WrLpcReply) the message
 * it sent (ETHREAD.AlpcMessage) and the port it is queued on; for a server
 * waiting for requests (WrLpcReceive) the port whose WaitQueue holds the
 * thread.  Unknown numbers are 0 / false; strings "" when absent. */
typedef struct {
    const char *kind;            /* "reply", "receive"; NULL: nothing read */
    uint64_t message_id;         /* ETHREAD.AlpcMessageId */
    uint64_t message;            /* ETHREAD.AlpcMessage (reply), 0 */
    bool message_in_dump;        /* the _KALPC_MESSAGE's memory is in the dump */
    uint64_t port;               /* KALPC_MESSAGE.PortQueue / the receiving port, 0 unknown */
    uint64_t connection_port;    /* the port's CommunicationInfo->ConnectionPort, 0 unknown */
    char port_name[160];         /* "\RPC Control\…" of the port or its connection port, UTF-8 */
    uint64_t port_named;         /* which port the name belongs to, 0 none */
    uint64_t server_eprocess;    /* ALPC_PORT.OwnerProcess */
    bool has_server_pid;
    uint64_t server_pid;
    char server_image[16];
    uint64_t server_ethread;     /* KALPC_MESSAGE.ServerThread (reply), 0 none yet */
    bool has_server_tid;
    uint64_t server_tid;
    const char *source;          /* how the port was found (static) */
} dt_kernel_alpc_wait;

typedef struct {
    uint64_t ethread;        /* 0 when the ETHREAD is not in the dump */
    uint64_t eprocess;
    bool has_cid;
    uint64_t pid, tid;
    char image[16];          /* EPROCESS.ImageFileName, "" when unknown */
    char label[40];          /* "cpu5 running thread" style label, or "" */
    const char *origin;      /* "current_thread", "data_block", "processor", "process_list" */
    int cpu;                 /* processor it runs on, -1 when not running/unknown */
    bool is_current;         /* the bugchecking / dump-requesting thread */
    int state;               /* KTHREAD_STATE, -1 unknown */
    int wait_reason;         /* KWAIT_REASON, -1 unknown */
    int wait_mode;           /* 0 KernelMode, 1 UserMode, -1 unknown */
    int alertable;           /* 0/1, -1 unknown */
    int64_t wait_time;       /* KTHREAD.WaitTime tick count, -1 unknown */
    int64_t wait_ticks;      /* ticks since the wait began (TickCount - WaitTime), -1 unknown */
    int64_t kernel_time, user_time;   /* ticks, -1 unknown */
    uint64_t wait_block_list;
    dt_kernel_wait_object wait_objects[DT_KERNEL_MAX_WAIT_OBJECTS];
    size_t wait_object_count;
    dt_kernel_alpc_wait alpc;    /* kernel_alpc.c; alpc.kind NULL when not an ALPC wait */
    uint64_t create_time;    /* FILETIME, 0 unknown */
    uint64_t stack_base, stack_limit, initial_stack, kernel_stack;
    uint64_t win32_start_address, teb;
    bool has_start;
    dt_cpu_context start;    /* where unwinding begins */
    const char *start_source;/* "captured_context", "prcb_context", "switch_frame", "header_context" */
    uint64_t start_context;  /* VA of the CONTEXT the start came from (captured/prcb), 0 otherwise */
    const char *start_note;  /* why a captured CONTEXT was not used, or NULL (static) */
    dt_kernel_irp *irps;     /* owned; pending IRPs, kernel_irp.c */
    size_t irp_count;
    const char *irp_source;  /* "irp_list", "data_blocks", NULL when none was looked for */
    dt_kernel_frame *frames; /* owned; filled by dt_kernel_walk_stacks */
    size_t frame_count;
} dt_kernel_thread;

typedef struct {
    uint64_t eprocess;
    uint64_t pid, parent_pid;
    char image[16];
    uint64_t create_time;
    uint64_t directory_table_base;
    uint64_t peb;
    size_t thread_count;     /* threads of it in threads[] */
} dt_kernel_process;

typedef struct {
    /* PDB type info for structure offsets (optional; see kernel_offsets.h). */
    dt_kernel_field_offset_fn field_offset;
    void *field_offset_ctx;
    /* For the stack walk (unwind/kernel_stacks.h), kept in the model so one
     * dt_kernel_dump carries its whole configuration: a PE file for a
     * driver (e.g. from a symbol store), used when the dump lacks the
     * image's headers or code, same shape as the stack walker's image_file
     * hook (the bytes must outlive the dt_kernel_dump); and the most frames
     * per thread. */
    bool (*image_file)(void *ctx, const dt_module *m, dt_view *pe_file);
    void *image_file_ctx;
    size_t max_threads;      /* 0 = 4096 */
    size_t max_frames;       /* 0 = 256 */
} dt_kernel_options;

typedef struct {
    dt_view file;
    dt_kdump header;
    bool is_triage;
    dt_kdump_triage triage;
    bool has_kdbg;
    dt_kdbg kdbg;
    bool kdbg_encoded;       /* full dump whose in-memory KDBG is encoded */
    bool kdbg_decoded;       /* … and it was decoded (kdbg/has_kdbg hold it) */
    dt_kernel_offsets offsets;
    dt_kernel_memory memory;
    dt_addrspace as;         /* kernel virtual memory */
    dt_module_list drivers;  /* sorted by base */
    dt_unloaded_driver *unloaded;
    size_t unloaded_count;
    dt_kernel_process *processes;
    size_t process_count;
    dt_kernel_thread *threads;
    size_t thread_count;
    dt_warnings warnings;
    dt_kernel_options options; /* as given to open (image_file, max_frames for the walk) */
    int64_t tick_count;      /* KUSER_SHARED_DATA.TickCount.LowPart, -1 unknown */
    double tick_ms;          /* milliseconds per tick (TickCountMultiplier), 15.625 by default */
} dt_kernel_dump;

/* Analyzes a kernel dump held in file.  On success *kd is owned by the
 * caller (dt_kernel_dump_close).  A damaged dump still succeeds with
 * warnings; only an unreadable header fails.  opts may be NULL. */
dt_status dt_kernel_dump_open(dt_view file, const dt_kernel_options *opts, dt_kernel_dump *kd, dt_error *err);
void dt_kernel_dump_close(dt_kernel_dump *kd);

/* The thread with this pid/tid, or NULL (pairing with a user dump). */
const dt_kernel_thread *dt_kernel_dump_find_thread(const dt_kernel_dump *kd, uint64_t pid, uint64_t tid);

/* Names for KTHREAD_STATE, KWAIT_REASON and dispatcher object types, or NULL. */
const char *dt_kernel_thread_state_name(int state);
const char *dt_kernel_wait_reason_name(int reason);
const char *dt_kernel_object_type_name(int type);
/* IRP_MJ_* names ("IRP_MJ_READ"), FILE_DEVICE_* names ("FILE_DEVICE_NAMED_PIPE")
 * and the names of well-known public IOCTL/FSCTL codes, or NULL. */
const char *dt_kernel_irp_major_name(int major);
const char *dt_kernel_device_type_name(int64_t type);
const char *dt_kernel_io_code_name(uint32_t code);

#endif
