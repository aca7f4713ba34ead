/*
 * minidump_handles.c — the object information a MINIDUMP_HANDLE_DESCRIPTOR_2
 * carries (ObjectInfoRva): the facts a wait graph links threads with.
 *
 * `procdump -ma` (MiniDumpWithHandleData) writes, per handle, a chain of
 * MINIDUMP_HANDLE_OBJECT_INFORMATION records {NextInfoRva, InfoType,
 * SizeOfInfo, data}; the data is what NtQueryObject-style calls returned:
 * THREAD_BASIC_INFORMATION for a thread handle (its thread id), the mutant's
 * basic and owner information, EVENT_BASIC_INFORMATION, the semaphore's
 * counts, PROCESS_BASIC_INFORMATION (its pid).  The layouts differ between
 * 32- and 64-bit writers only in pointer-sized members, so each record is
 * recognised by its size.  The chain is bounded and a loop is reported, not
 * followed.
 */
#include "formats/minidump_internal.h"

#include <string.h>

/* A handle has one record per information class; more means a loop or junk. */
#define MD_OBJECT_INFO_MAX_RECORDS 8

enum {
    MINI_THREAD_INFORMATION1 = 1,
    MINI_MUTANT_INFORMATION1 = 2,
    MINI_MUTANT_INFORMATION2 = 3,
    MINI_PROCESS_INFORMATION1 = 4,
    MINI_PROCESS_INFORMATION2 = 5,
    MINI_EVENT_INFORMATION1 = 6,
    MINI_SECTION_INFORMATION1 = 7,
    MINI_SEMAPHORE_INFORMATION1 = 8,
};

/* One record's data; false (with a warning) when its size fits no layout. */
static bool decode_record(dt_minidump *md, dt_md_handle *h, uint32_t type, dt_view d)
{
    uint32_t a = 0, b = 0;
    switch (type) {
    case MINI_THREAD_INFORMATION1:
        /* THREAD_BASIC_INFORMATION: ExitStatus, TebBaseAddress, ClientId
         * {UniqueProcess, UniqueThread}, …: 48 bytes (x64), 28 (x86). */
        if (d.size >= 48 && dt_view_u32(d, 24, &a)) {
            h->thread_id = a;
            h->has_thread_id = true;
        } else if (d.size >= 28 && d.size < 48 && dt_view_u32(d, 12, &a)) {
            h->thread_id = a;
            h->has_thread_id = true;
        } else {
            break;
        }
        return true;
    case MINI_MUTANT_INFORMATION1:
        /* MUTANT_BASIC_INFORMATION: LONG CurrentCount, BOOLEAN OwnedByCaller,
         * BOOLEAN AbandonedState. */
        if (d.size < 6 || !dt_view_u32(d, 0, &a))
            break;
        h->mutant_count = (int32_t)a;
        h->mutant_abandoned = d.data[5] != 0;
        h->has_mutant_count = true;
        return true;
    case MINI_MUTANT_INFORMATION2:
        /* MUTANT_OWNER_INFORMATION: CLIENT_ID (16 bytes x64, 8 x86). */
        if (d.size >= 16 && dt_view_u32(d, 8, &a)) {
            h->mutant_owner_tid = a;
        } else if (d.size >= 8 && dt_view_u32(d, 4, &a)) {
            h->mutant_owner_tid = a;
        } else {
            break;
        }
        h->has_mutant_owner = true;
        return true;
    case MINI_PROCESS_INFORMATION1:
        /* PROCESS_BASIC_INFORMATION: UniqueProcessId at +32 (x64), +16 (x86). */
        if (d.size >= 48 && dt_view_u32(d, 32, &a)) {
            h->process_id = a;
        } else if (d.size >= 24 && d.size < 48 && dt_view_u32(d, 16, &a)) {
            h->process_id = a;
        } else {
            break;
        }
        h->has_process_id = true;
        return true;
    case MINI_EVENT_INFORMATION1:
        /* EVENT_BASIC_INFORMATION: EVENT_TYPE EventType, LONG EventState. */
        if (!dt_view_u32(d, 0, &a) || !dt_view_u32(d, 4, &b) || a > 1)
            break;
        h->event_type = a;
        h->event_state = (int32_t)b;
        h->has_event = true;
        return true;
    case MINI_SEMAPHORE_INFORMATION1:
        /* SEMAPHORE_BASIC_INFORMATION: LONG CurrentCount, LONG MaximumCount. */
        if (!dt_view_u32(d, 0, &a) || !dt_view_u32(d, 4, &b))
            break;
        h->semaphore_count = (int32_t)a;
        h->semaphore_maximum = (int32_t)b;
        h->has_semaphore = true;
        return true;
    default:
        return true; /* process 2, section, and later classes: not needed */
    }
    dt_warn(&md->warnings, "HandleData: handle 0x%llx: object information type %u has %zu bytes, "
            "which fits no known layout",
            (unsigned long long)h->handle, type, d.size);
    return false;
}

void dt_md_parse_handle_object_info(dt_minidump *md, dt_md_handle *h, uint32_t rva)
{
    uint32_t seen[MD_OBJECT_INFO_MAX_RECORDS];
    size_t nseen = 0;
    while (rva) {
        for (size_t i = 0; i < nseen; i++)
            if (seen[i] == rva) {
                dt_warn(&md->warnings, "HandleData: handle 0x%llx: object information chain loops at RVA 0x%x",
                        (unsigned long long)h->handle, rva);
                return;
            }
        if (nseen == MD_OBJECT_INFO_MAX_RECORDS) {
            dt_warn(&md->warnings, "HandleData: handle 0x%llx: more than %d object information records",
                    (unsigned long long)h->handle, MD_OBJECT_INFO_MAX_RECORDS);
            return;
        }
        seen[nseen++] = rva;
        uint32_t next, type, size;
        if (!dt_view_u32(md->file, rva, &next) || !dt_view_u32(md->file, (uint64_t)rva + 4, &type) ||
            !dt_view_u32(md->file, (uint64_t)rva + 8, &size)) {
            dt_warn(&md->warnings, "HandleData: handle 0x%llx: object information at RVA 0x%x is outside the file",
                    (unsigned long long)h->handle, rva);
            return;
        }
        dt_view d;
        if (!dt_view_sub(md->file, (uint64_t)rva + 12, size, &d)) {
            dt_warn(&md->warnings, "HandleData: handle 0x%llx: object information of %u bytes at RVA 0x%x runs "
                    "past the end of the file",
                    (unsigned long long)h->handle, size, rva);
            return;
        }
        decode_record(md, h, type, d);
        rva = next;
    }
}
