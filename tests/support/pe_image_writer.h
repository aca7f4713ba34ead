/*
 * pe_image_writer.h — TEST-ONLY: the first page of a mapped PE32+ image
 * (headers, one section, an export directory), so a synthetic dump can carry
 * a module whose functions the export provider can name.
 */
#ifndef DT_TEST_PE_IMAGE_WRITER_H
#define DT_TEST_PE_IMAGE_WRITER_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *name;
    uint32_t rva;
} dt_pw_export;

/* A malloc'd mapped image of *size bytes (headers + export data; code pages
 * are not included) for an image of size_of_image bytes named dll_name.
 * Exports need not be sorted.  NULL on OOM. */
uint8_t *dt_pw_build(const char *dll_name, uint32_t size_of_image, uint32_t time_date_stamp,
                     const dt_pw_export *exports, size_t nexports, size_t *size);

#endif
