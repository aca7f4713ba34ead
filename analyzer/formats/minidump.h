/*
 * minidump.h — the user-mode minidump (MDMP) as a parsed model.
 *
 * dt_minidump_parse reads the header, the stream directory and every small
 * stream eagerly into plain structs (threads, modules, exception, system and
 * misc info, handles, memory regions, …); process memory stays in the file
 * and is reached lazily through an address space (base/user_memory.h) that
 * maps the memory lists without copying.  Every count, size, RVA and string
 * length comes from an untrusted file: they are clamped against the bytes
 * that could hold them, and what cannot be read becomes a warning in
 * md->warnings rather than a failure.  Only an unusable file (not MDMP, no
 * header, no readable stream directory) fails the parse.
 *
 * Layouts: docs/formats.md part A.  Stream-specific decoding lives in
 * minidump_modules.c, minidump_memory.c and minidump_streams.c.
 */
#ifndef DT_FORMATS_MINIDUMP_H
#define DT_FORMATS_MINIDUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/cpu_context.h"
#include "base/view.h"
#include "base/addrspace.h"
#include "base/user_memory.h"
#include "base/module.h"
#include "base/error.h"

#define DT_MDMP_SIGNATURE 0x504D444Du
#define DT_MDMP_VERSION   0xA793u

/* Stream types (MINIDUMP_STREAM_TYPE and the Breakpad/Crashpad additions). */
enum {
    DT_MD_UNUSED = 0,
    DT_MD_THREAD_LIST = 3,
    DT_MD_MODULE_LIST = 4,
    DT_MD_MEMORY_LIST = 5,
    DT_MD_EXCEPTION = 6,
    DT_MD_SYSTEM_INFO = 7,
    DT_MD_THREAD_EX_LIST = 8,
    DT_MD_MEMORY64_LIST = 9,
    DT_MD_COMMENT_A = 10,
    DT_MD_COMMENT_W = 11,
    DT_MD_HANDLE_DATA = 12,
    DT_MD_FUNCTION_TABLE = 13,
    DT_MD_UNLOADED_MODULE_LIST = 14,
    DT_MD_MISC_INFO = 15,
    DT_MD_MEMORY_INFO_LIST = 16,
    DT_MD_THREAD_INFO_LIST = 17,
    DT_MD_HANDLE_OPERATION_LIST = 18,
    DT_MD_TOKEN = 19,
    DT_MD_JAVASCRIPT_DATA = 20,
    DT_MD_SYSTEM_MEMORY_INFO = 21,
    DT_MD_PROCESS_VM_COUNTERS = 22,
    DT_MD_IPT_TRACE = 23,
    DT_MD_THREAD_NAMES = 24,
    DT_MD_BREAKPAD_INFO = 0x47670001,
    DT_MD_BREAKPAD_ASSERTION_INFO = 0x47670002,
    DT_MD_CRASHPAD_INFO = 0x43500001,
};

/* Upper bound on the directory entries we look at; real dumps have < 40. */
#define DT_MD_MAX_STREAMS 4096

typedef struct {
    uint32_t type;
    uint32_t size;
    uint32_t rva;
    bool in_file;        /* [rva, rva+size) lies inside the file */
} dt_md_stream;

typedef struct {
    uint32_t thread_id;
    uint32_t suspend_count;
    uint32_t priority_class;
    uint32_t priority;
    uint64_t teb;
    uint64_t stack_start;
    uint64_t stack_size;
    uint32_t stack_rva;
    bool stack_in_file;          /* the stack bytes are present in the file */
    bool has_context;
    dt_cpu_context context;      /* from ThreadList (exception context is in dt_md_exception) */
    char *name;                  /* ThreadNames stream; NULL when none (owned) */
    bool is_dump_thread;         /* Breakpad's own dumping thread (BreakpadInfo) */
    /* ThreadInfoList (17), when present for this thread. */
    bool has_info;
    uint32_t dump_flags, dump_error, exit_status;
    uint64_t create_time, exit_time, kernel_time, user_time; /* FILETIME units */
    uint64_t start_address, affinity;
} dt_md_thread;

typedef struct {
    bool present;
    uint32_t thread_id;
    uint32_t code;
    uint32_t flags;
    uint64_t record;
    uint64_t address;            /* instruction address of the exception */
    uint32_t nparams;            /* claimed; params[] holds min(nparams, 15) */
    uint64_t params[15];
    bool has_context;
    dt_cpu_context context;
} dt_md_exception;

typedef struct {
    bool present;
    uint16_t processor_architecture; /* raw value */
    dt_cpu_arch arch;
    uint16_t processor_level;
    uint16_t processor_revision;
    uint8_t cpu_count;
    uint8_t product_type;
    uint32_t major, minor, build;
    uint32_t platform_id;
    char *csd_version;               /* owned, may be NULL */
    uint16_t suite_mask;
    char vendor_id[13];              /* x86 only, "" otherwise */
    uint32_t cpu_version, cpu_features, amd_features;
    uint64_t processor_features[2];  /* non-x86 */
} dt_md_system_info;

typedef struct {
    bool present;
    uint32_t size_of_info;
    uint32_t flags1;
    bool has_pid;
    uint32_t pid;
    bool has_times;
    uint32_t create_time;            /* time_t */
    uint32_t user_time, kernel_time; /* seconds */
    bool has_power;
    uint32_t max_mhz, current_mhz, mhz_limit, max_idle_state, current_idle_state;
    bool has_integrity;
    uint32_t integrity_level;
    bool has_execute_flags;
    uint32_t execute_flags;
    bool has_protected;
    uint32_t protected_process;
    bool has_timezone;
    uint32_t time_zone_id;
    int32_t tz_bias;
    char *tz_standard_name;          /* owned, may be NULL */
    char *tz_daylight_name;
    char *build_string;              /* MISC_INFO_4 */
    char *dbg_build_string;
    bool has_cookie;
    uint32_t process_cookie;
} dt_md_misc_info;

typedef struct {
    uint64_t base;
    uint32_t size;
    uint32_t checksum;
    uint32_t time_date_stamp;
    char *name;                      /* owned, may be NULL */
} dt_md_unloaded_module;

typedef struct {
    uint64_t handle;
    char *type_name;                 /* owned, may be NULL */
    char *object_name;               /* owned, may be NULL */
    uint32_t attributes;
    uint32_t granted_access;
    uint32_t handle_count;
    uint32_t pointer_count;
    /* MINIDUMP_HANDLE_DESCRIPTOR_2 object information (minidump_handles.c);
     * each has_* says the record was present and well-sized. */
    bool has_thread_id, has_process_id, has_mutant_owner, has_mutant_count, has_event, has_semaphore;
    uint32_t thread_id;              /* a thread handle's thread (THREAD_BASIC_INFORMATION) */
    uint32_t process_id;             /* a process handle's pid (PROCESS_BASIC_INFORMATION) */
    uint32_t mutant_owner_tid;       /* MUTANT_OWNER_INFORMATION ClientId.UniqueThread, 0 = none */
    int32_t mutant_count;            /* MUTANT_BASIC_INFORMATION CurrentCount (<= 0: owned) */
    bool mutant_abandoned;
    uint32_t event_type;             /* 0 NotificationEvent (manual reset), 1 SynchronizationEvent */
    int32_t event_state;             /* non-zero: signalled */
    int32_t semaphore_count, semaphore_maximum;
} dt_md_handle;

typedef struct {
    uint64_t base;
    uint64_t allocation_base;
    uint32_t allocation_protect;
    uint64_t region_size;
    uint32_t state, protect, type;
} dt_md_memory_region;

typedef struct {
    bool present;
    uint32_t validity;
    uint32_t dump_thread_id;         /* valid when validity & 1 */
    uint32_t requesting_thread_id;   /* valid when validity & 2 */
} dt_md_breakpad_info;

/* Breakpad's MDRawAssertionInfo: an invalid-parameter or pure-call report. */
typedef struct {
    bool present;
    char *expression;                /* owned, may be NULL */
    char *function;
    char *file;
    uint32_t line;
    uint32_t type;                   /* 1 invalid parameter, 2 pure virtual call */
} dt_md_assertion_info;

typedef struct {
    bool present;
    uint32_t version;
    char report_id[37];              /* GUID text, "" when absent */
    char client_id[37];
} dt_md_crashpad_info;

typedef struct {
    bool present;
    uint16_t revision;
    uint16_t flags;
    uint32_t page_fault_count;
    uint64_t peak_working_set_size, working_set_size;
    uint64_t quota_peak_paged_pool, quota_paged_pool;
    uint64_t quota_peak_nonpaged_pool, quota_nonpaged_pool;
    uint64_t pagefile_usage, peak_pagefile_usage;
    bool has_v2;
    uint64_t peak_virtual_size, virtual_size, private_usage;
    uint64_t private_working_set_size, shared_commit_usage;
} dt_md_vm_counters;

typedef struct {
    bool present;
    uint32_t total_size;
    uint32_t token_count;
} dt_md_token_info;

typedef struct {
    bool present;
    uint16_t revision;
    uint16_t flags;
    uint32_t size;
} dt_md_system_memory_info;

typedef struct {
    dt_view file;                    /* the whole dump; not owned */

    uint32_t version;                /* full Version field */
    uint32_t stream_count;           /* as claimed */
    uint32_t directory_rva;
    uint32_t checksum;
    uint32_t time_date_stamp;
    uint64_t flags;                  /* MINIDUMP_TYPE */

    dt_md_stream *streams;           /* directory entries read (type 0 skipped) */
    size_t nstreams;

    dt_md_system_info system;
    dt_md_misc_info misc;

    dt_md_thread *threads;           /* file order */
    size_t nthreads;
    bool threads_are_ex;             /* from ThreadExList */
    uint64_t *thread_index;          /* internal: (id << 32 | index), sorted */

    dt_module_list modules;          /* sorted by base */
    char *main_module_path;          /* the process image (owned, may be NULL) */

    dt_md_unloaded_module *unloaded;
    size_t nunloaded;

    dt_md_exception exception;

    dt_md_handle *handles;
    size_t nhandles;
    bool has_handle_stream;

    dt_md_memory_region *regions;    /* MemoryInfoList */
    size_t nregions;
    bool has_memory_info;

    dt_md_breakpad_info breakpad;
    dt_md_assertion_info assertion;
    dt_md_crashpad_info crashpad;
    dt_md_vm_counters vm_counters;
    dt_md_token_info token;
    dt_md_system_memory_info system_memory;
    char *comment_a;                 /* owned, may be NULL */
    char *comment_w;

    bool has_memory64;
    dt_user_memory memory;           /* memory lists + thread stacks */

    dt_warnings warnings;            /* everything that was wrong but survivable */

    /* internal: UTF-16 bytes dt_md_read_string may still decode.  Writers
     * store each string once, so honest dumps never reach it; only RVAs
     * that many records share or that overlap do (a few KiB claiming
     * gigabytes of names). */
    uint64_t string_budget;
    bool string_budget_spent;
} dt_minidump;

/*
 * Parses the dump in `file`, which must stay mapped for the life of *out.
 * On success *out is a heap object the caller frees with dt_minidump_free.
 * Fails (err set, *out NULL) only when the file is not a usable minidump.
 */
dt_status dt_minidump_parse(dt_view file, dt_minidump **out, dt_error *err);
void dt_minidump_free(dt_minidump *md);

/* The process's virtual memory (memory lists and stacks); owned by md. */
const dt_addrspace *dt_minidump_addrspace(const dt_minidump *md);
/* The thread with this id, or NULL. */
const dt_md_thread *dt_minidump_find_thread(const dt_minidump *md, uint32_t tid);
/* The best known context of a thread: the exception context for the
 * excepting thread, else its ThreadList context; NULL when none. */
const dt_cpu_context *dt_minidump_thread_context(const dt_minidump *md, const dt_md_thread *t);
/* Pointer size of the target (4 or 8). */
unsigned dt_minidump_pointer_size(const dt_minidump *md);

/* "ThreadList", "Memory64List", "BreakpadInfo", … or NULL for unknown types. */
const char *dt_minidump_stream_name(uint32_t type);

#endif
