/*
 * handle_stream_writer.c — see handle_stream_writer.h.  Layouts (x64):
 * MINIDUMP_HANDLE_DATA_STREAM {SizeOfHeader 16, SizeOfDescriptor 40,
 * NumberOfDescriptors, Reserved}; MINIDUMP_HANDLE_DESCRIPTOR_2 {Handle u64,
 * TypeNameRva, ObjectNameRva, Attributes, GrantedAccess, HandleCount,
 * PointerCount, ObjectInfoRva, Reserved0}; MINIDUMP_HANDLE_OBJECT_INFORMATION
 * {NextInfoRva, InfoType, SizeOfInfo} + the NT information class's struct.
 */
#include "handle_stream_writer.h"

#include <stdlib.h>
#include <string.h>

#include "mdmp_append.h"

/* MINIDUMP_STRING: byte length, UTF-16LE (ASCII input), NUL. */
static uint32_t put_string(dt_mdmp_append *b, const char *s)
{
    uint32_t rva = (uint32_t)b->n;
    size_t l = strlen(s);
    dt_mdmp_put32(b, (uint32_t)(l * 2));
    for (size_t i = 0; i <= l; i++) {
        uint16_t c = (uint8_t)s[i];
        dt_mdmp_put(b, &c, 2);
    }
    return rva;
}

/* One object-information record; returns its RVA. */
static uint32_t put_info(dt_mdmp_append *b, uint32_t type, const void *data, uint32_t size)
{
    uint32_t rva = (uint32_t)b->n;
    dt_mdmp_put32(b, 0);
    dt_mdmp_put32(b, type);
    dt_mdmp_put32(b, size);
    dt_mdmp_put(b, data, size);
    return rva;
}

uint8_t *dt_test_add_handle_stream(const uint8_t *dump, size_t size, const dt_test_handle *h, size_t n,
                                   const dt_test_handle_faults *faults, size_t *out_size)
{
    static const dt_test_handle_faults none;
    if (!faults)
        faults = &none;
    dt_mdmp_append b;
    if (!dt_mdmp_append_begin(&b, dump, size))
        return NULL;

    /* Strings and object information first, then the stream itself. */
    uint32_t *type_rva = calloc(n ? n : 1, 4), *name_rva = calloc(n ? n : 1, 4), *info_rva = calloc(n ? n : 1, 4);
    for (size_t i = 0; i < n; i++) {
        type_rva[i] = put_string(&b, h[i].type);
        name_rva[i] = h[i].name ? put_string(&b, h[i].name) : 0;
        uint32_t first = 0, prev = 0;
        uint8_t d[48];
#define CHAIN(rva)                                  \
        do {                                        \
            uint32_t r_ = (rva);                    \
            if (!first)                             \
                first = r_;                         \
            if (prev)                               \
                dt_mdmp_set32(&b, prev, r_);                \
            prev = r_;                              \
        } while (0)
        if (h[i].has_thread_id) {
            memset(d, 0, 48);
            memcpy(d + 24, &h[i].thread_id, 4); /* ClientId.UniqueThread */
            CHAIN(put_info(&b, 1, d, 48));
        }
        if (h[i].has_owner) {
            memset(d, 0, 8);
            int32_t count = h[i].owner_thread_id ? 0 : 1;
            memcpy(d, &count, 4);
            CHAIN(put_info(&b, 2, d, 8)); /* MUTANT_BASIC_INFORMATION */
            memset(d, 0, 16);
            memcpy(d + 8, &h[i].owner_thread_id, 4);
            CHAIN(put_info(&b, 3, d, 16)); /* MUTANT_OWNER_INFORMATION */
        }
        if (h[i].has_event) {
            memcpy(d, &h[i].event_type, 4);
            memcpy(d + 4, &h[i].event_state, 4);
            CHAIN(put_info(&b, 6, d, 8));
        }
        if (h[i].has_semaphore) {
            memcpy(d, &h[i].sem_count, 4);
            memcpy(d + 4, &h[i].sem_max, 4);
            CHAIN(put_info(&b, 8, d, 8));
        }
        if (h[i].has_process_id) {
            memset(d, 0, 48);
            memcpy(d + 32, &h[i].process_id, 4);
            CHAIN(put_info(&b, 4, d, 48));
        }
#undef CHAIN
        if (i == 0 && first && faults->loop_object_info)
            dt_mdmp_set32(&b, prev, first);
        if (i == 0 && first && faults->huge_info_size)
            dt_mdmp_set32(&b, first + 8, 0x7fffffffu);
        info_rva[i] = first;
        if (i == 0 && faults->object_info_past_eof)
            info_rva[i] = 0xfffffff0u;
    }
    dt_mdmp_align(&b, 8);
    uint32_t stream_rva = (uint32_t)b.n;
    uint32_t desc = faults->descriptor_size ? faults->descriptor_size : 40;
    dt_mdmp_put32(&b, 16);
    dt_mdmp_put32(&b, desc);
    dt_mdmp_put32(&b, faults->claimed_count ? faults->claimed_count : (uint32_t)n);
    dt_mdmp_put32(&b, 0);
    for (size_t i = 0; i < n; i++) {
        dt_mdmp_put64(&b, h[i].handle);
        dt_mdmp_put32(&b, type_rva[i]);
        dt_mdmp_put32(&b, name_rva[i]);
        dt_mdmp_put32(&b, 0);          /* Attributes */
        dt_mdmp_put32(&b, 0x1f0003);   /* GrantedAccess */
        dt_mdmp_put32(&b, 1);          /* HandleCount */
        dt_mdmp_put32(&b, 2);          /* PointerCount */
        dt_mdmp_put32(&b, info_rva[i]);
        dt_mdmp_put32(&b, 0);
    }
    uint32_t stream_size = (uint32_t)(b.n - stream_rva);
    free(type_rva);
    free(name_rva);
    free(info_rva);

    /* The directory, one entry longer, at the end; the header points at it. */
    return dt_mdmp_append_finish(&b, 12 /* HandleDataStream */, stream_rva, stream_size, out_size);
}
