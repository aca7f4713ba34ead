/*
 * handle_stream_writer.h — test-only: appends a HandleData stream
 * (MINIDUMP_HANDLE_DATA_STREAM with MINIDUMP_HANDLE_DESCRIPTOR_2 and
 * MINIDUMP_HANDLE_OBJECT_INFORMATION chains, as procdump -ma writes them) to
 * a copy of a real dump.  Wine's MiniDumpWriteDump writes no HandleData, so
 * the wait-graph tests add one built from the handles the program logged.
 * Written from the documented structures (minidumpapiset.h); not a writer
 * the analyzer uses.
 */
#ifndef DT_TEST_HANDLE_STREAM_WRITER_H
#define DT_TEST_HANDLE_STREAM_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t handle;
    const char *type;          /* "Thread", "Mutant", "Event", "Semaphore", "Process" */
    const char *name;          /* object name or NULL */
    bool has_thread_id;        uint32_t thread_id;        /* Thread: THREAD_BASIC_INFORMATION */
    bool has_owner;            uint32_t owner_thread_id;  /* Mutant: MUTANT_OWNER_INFORMATION */
    bool has_event;            uint32_t event_type; int32_t event_state;
    bool has_semaphore;        int32_t sem_count, sem_max;
    bool has_process_id;       uint32_t process_id;
} dt_test_handle;

/* Bad-input knobs for robustness tests. */
typedef struct {
    bool loop_object_info;     /* the last record's NextInfoRva points at the first */
    bool object_info_past_eof; /* the first handle's ObjectInfoRva points past the end */
    bool huge_info_size;       /* the first record claims 0x7fffffff bytes */
    uint32_t claimed_count;    /* non-zero: NumberOfDescriptors as written (absurd counts) */
    uint32_t descriptor_size;  /* non-zero: SizeOfDescriptor as written */
} dt_test_handle_faults;

/* Returns a malloc'ed copy of dump with the stream appended and the stream
 * directory moved to the end (one entry longer); NULL on a dump whose header
 * cannot be read. */
uint8_t *dt_test_add_handle_stream(const uint8_t *dump, size_t size, const dt_test_handle *h, size_t n,
                                   const dt_test_handle_faults *faults, size_t *out_size);

#endif
