/*
 * sniff.h — what kind of file is this, from its first bytes.
 *
 * Shared by the CLI (which routes each file to its parser, whatever order the
 * user gave them in) and the server (which checks uploads as they stream in
 * and refuses unknown content with 415).  Needs at most DT_SNIFF_BYTES.
 */
#ifndef DT_FORMATS_SNIFF_H
#define DT_FORMATS_SNIFF_H

#include <stddef.h>
#include <stdint.h>

#define DT_SNIFF_BYTES 16

typedef enum {
    DT_KIND_UNKNOWN = 0,
    DT_KIND_MINIDUMP,      /* "MDMP": user-mode minidump */
    DT_KIND_KERNEL64,      /* "PAGEDU64": 64-bit kernel dump */
    DT_KIND_KERNEL32,      /* "PAGEDUMP": 32-bit kernel dump */
    DT_KIND_GZIP,
    DT_KIND_ZIP,
    DT_KIND_7Z,
    DT_KIND_XZ,
    DT_KIND_ZSTD,
    DT_KIND_BZIP2,
    DT_KIND_TAR,
} dt_file_kind;

/* Classifies the first len bytes of a file (len may be < DT_SNIFF_BYTES). */
dt_file_kind dt_sniff(const uint8_t *head, size_t len);
/* "minidump", "kernel64", …, "unknown". */
const char *dt_file_kind_name(dt_file_kind kind);
/* True for dump kinds (as opposed to containers). */
int dt_file_kind_is_dump(dt_file_kind kind);

#endif
