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

typedef struct {
    uint8_t *p;
    size_t n, cap;
} buf;

static void put(buf *b, const void *d, size_t n)
{
    if (b->n + n > b->cap) {
        size_t nc = (b->n + n) * 2;
        uint8_t *x = realloc(b->p, nc);
        if (!x)
            abort();
        b->p = x;
        b->cap = nc;
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}

static void put32(buf *b, uint32_t v) { put(b, &v, 4); }
static void put64(buf *b, uint64_t v) { put(b, &v, 8); }
static void set32(buf *b, size_t at, uint32_t v) { memcpy(b->p + at, &v, 4); }

/* MINIDUMP_STRING: byte length, UTF-16LE (ASCII input), NUL. */
static uint32_t put_string(buf *b, const char *s)
{
    uint32_t rva = (uint32_t)b->n;
    size_t l = strlen(s);
    put32(b, (uint32_t)(l * 2));
    for (size_t i = 0; i <= l; i++) {
        uint16_t c = (uint8_t)s[i];
        put(b, &c, 2);
    }
    return rva;
}

/* One object-information record; returns its RVA. */
static uint32_t put_info(buf *b, uint32_t type, const void *data, uint32_t size)
{
    uint32_t rva = (uint32_t)b->n;
    put32(b, 0);
    put32(b, type);
    put32(b, size);
    put(b, data, size);
    return rva;
}

uint8_t *dt_test_add_handle_stream(const uint8_t *dump, size_t size, const dt_test_handle *h, size_t n,
                                   const dt_test_handle_faults *faults, size_t *out_size)
{
    static const dt_test_handle_faults none;
    if (!faults)
        faults = &none;
    if (size < 32 || memcmp(dump, "MDMP", 4) != 0)
        return NULL;
    uint32_t nstreams, dir;
    memcpy(&nstreams, dump + 8, 4);
    memcpy(&dir, dump + 12, 4);
    if ((uint64_t)dir + (uint64_t)nstreams * 12 > size)
        return NULL;
    buf b = { 0 };
    put(&b, dump, size);
    while (b.n % 8)
        put(&b, "", 1);

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
                set32(&b, prev, r_);                \
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
            set32(&b, prev, first);
        if (i == 0 && first && faults->huge_info_size)
            set32(&b, first + 8, 0x7fffffffu);
        info_rva[i] = first;
        if (i == 0 && faults->object_info_past_eof)
            info_rva[i] = 0xfffffff0u;
    }
    while (b.n % 8)
        put(&b, "", 1);
    uint32_t stream_rva = (uint32_t)b.n;
    uint32_t desc = faults->descriptor_size ? faults->descriptor_size : 40;
    put32(&b, 16);
    put32(&b, desc);
    put32(&b, faults->claimed_count ? faults->claimed_count : (uint32_t)n);
    put32(&b, 0);
    for (size_t i = 0; i < n; i++) {
        put64(&b, h[i].handle);
        put32(&b, type_rva[i]);
        put32(&b, name_rva[i]);
        put32(&b, 0);          /* Attributes */
        put32(&b, 0x1f0003);   /* GrantedAccess */
        put32(&b, 1);          /* HandleCount */
        put32(&b, 2);          /* PointerCount */
        put32(&b, info_rva[i]);
        put32(&b, 0);
    }
    uint32_t stream_size = (uint32_t)(b.n - stream_rva);
    free(type_rva);
    free(name_rva);
    free(info_rva);

    /* The directory, one entry longer, at the end; the header points at it. */
    uint32_t new_dir = (uint32_t)b.n;
    put(&b, dump + dir, (size_t)nstreams * 12);
    put32(&b, 12); /* HandleDataStream */
    put32(&b, stream_size);
    put32(&b, stream_rva);
    set32(&b, 8, nstreams + 1);
    set32(&b, 12, new_dir);
    *out_size = b.n;
    return b.p;
}
