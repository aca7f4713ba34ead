/*
 * pe_image_writer.c — see pe_image_writer.h.  Layout (RVAs):
 *   0x000 DOS header (e_lfanew = 0x40), 0x40 "PE\0\0" + COFF header,
 *   0x58 PE32+ optional header (16 data directories), then one section
 *   header (.text covering the whole image), 0x400 the export directory,
 *   its three arrays and the name strings.
 */
#include "pe_image_writer.h"

#include <stdlib.h>
#include <string.h>

static void w16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void w32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static void w64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i)); }

uint8_t *dt_pw_build(const char *dll_name, uint32_t size_of_image, uint32_t time_date_stamp,
                     const dt_pw_export *exports, size_t nexports, size_t *size)
{
    size_t strings = strlen(dll_name) + 1;
    for (size_t i = 0; i < nexports; i++)
        strings += strlen(exports[i].name) + 1;
    size_t total = 0x400 + 40 + nexports * 10 + strings;
    total = (total + 0xfff) & ~(size_t)0xfff;
    uint8_t *img = calloc(1, total);
    if (!img)
        return NULL;
    img[0] = 'M';
    img[1] = 'Z';
    w32(img + 0x3c, 0x40);
    memcpy(img + 0x40, "PE\0\0", 4);
    uint8_t *coff = img + 0x44;
    w16(coff + 0, 0x8664);
    w16(coff + 2, 1);
    w32(coff + 4, time_date_stamp);
    w16(coff + 16, 0xf0);
    w16(coff + 18, 0x2022);
    uint8_t *opt = img + 0x58;
    w16(opt + 0, 0x20b);
    w64(opt + 24, 0);                 /* ImageBase: irrelevant when mapped */
    w32(opt + 32, 0x1000);            /* SectionAlignment */
    w32(opt + 36, 0x200);             /* FileAlignment */
    w32(opt + 56, size_of_image);
    w32(opt + 60, 0x400);             /* SizeOfHeaders */
    w32(opt + 108, 16);               /* NumberOfRvaAndSizes */
    uint8_t *dirs = opt + 112;
    uint32_t export_size = (uint32_t)(40 + nexports * 10 + strings);
    w32(dirs + 0, 0x400);
    w32(dirs + 4, export_size);
    uint8_t *sec = opt + 0xf0;
    memcpy(sec, ".text\0\0\0", 8);
    w32(sec + 8, size_of_image - 0x1000);
    w32(sec + 12, 0x1000);
    w32(sec + 16, size_of_image - 0x1000);
    w32(sec + 20, 0x1000);
    w32(sec + 36, 0x60000020);        /* code | execute | read */

    /* Export directory: names must be sorted for binary search by loaders. */
    size_t *order = malloc((nexports ? nexports : 1) * sizeof *order);
    if (!order) {
        free(img);
        return NULL;
    }
    for (size_t i = 0; i < nexports; i++)
        order[i] = i;
    for (size_t i = 1; i < nexports; i++)
        for (size_t j = i; j > 0 && strcmp(exports[order[j - 1]].name, exports[order[j]].name) > 0; j--) {
            size_t t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    uint8_t *ed = img + 0x400;
    uint32_t funcs = 0x400 + 40, names = funcs + (uint32_t)nexports * 4, ords = names + (uint32_t)nexports * 4;
    uint32_t str = ords + (uint32_t)nexports * 2;
    w32(ed + 12, str);                /* Name */
    memcpy(img + str, dll_name, strlen(dll_name) + 1);
    str += (uint32_t)strlen(dll_name) + 1;
    w32(ed + 16, 1);                  /* Base */
    w32(ed + 20, (uint32_t)nexports);
    w32(ed + 24, (uint32_t)nexports);
    w32(ed + 28, funcs);
    w32(ed + 32, names);
    w32(ed + 36, ords);
    for (size_t k = 0; k < nexports; k++) {
        size_t i = order[k];
        w32(img + funcs + 4 * k, exports[i].rva);
        w32(img + names + 4 * k, str);
        w16(img + ords + 2 * k, (uint16_t)k);
        memcpy(img + str, exports[i].name, strlen(exports[i].name) + 1);
        str += (uint32_t)strlen(exports[i].name) + 1;
    }
    free(order);
    *size = total;
    return img;
}
