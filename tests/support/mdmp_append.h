/*
 * mdmp_append.h — test-only: appending one stream to a copy of a real MDMP
 * file.  Wine writes no HandleData or FunctionTable stream, so the tests add
 * them to copies of real dumps (handle_stream_writer.c,
 * function_table_writer.c); this is the part they share: a growable byte
 * buffer, the copy of the dump, and the directory moved to the end with the
 * new entry.  Aborts on allocation failure (tests only).
 */
#ifndef DT_TEST_MDMP_APPEND_H
#define DT_TEST_MDMP_APPEND_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint8_t *p; /* malloc'd; ownership passes to the caller of dt_mdmp_append_finish */
    size_t n, cap;
    uint32_t nstreams, dir; /* of the original dump */
    const uint8_t *dump;
} dt_mdmp_append;

void dt_mdmp_put(dt_mdmp_append *b, const void *d, size_t n);
void dt_mdmp_put32(dt_mdmp_append *b, uint32_t v);
void dt_mdmp_put64(dt_mdmp_append *b, uint64_t v);
void dt_mdmp_set32(dt_mdmp_append *b, size_t at, uint32_t v);
void dt_mdmp_align(dt_mdmp_append *b, size_t to);

/* Copies DUMP into B (8-byte aligned at the end); false if DUMP is not an
 * MDMP file with its directory inside it. */
int dt_mdmp_append_begin(dt_mdmp_append *b, const uint8_t *dump, size_t size);

/* Writes the original directory plus (TYPE, SIZE, RVA) at the end, points
 * the header at it, and returns the buffer (caller frees) and its size. */
uint8_t *dt_mdmp_append_finish(dt_mdmp_append *b, uint32_t type, uint32_t stream_rva, uint32_t stream_size,
                               size_t *out_size);

#endif
