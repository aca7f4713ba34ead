/*
 * sniff.c — file kinds by magic number (see sniff.h).
 */
#include "formats/sniff.h"

#include <string.h>

static int starts(const uint8_t *h, size_t len, const void *magic, size_t n)
{
    return len >= n && memcmp(h, magic, n) == 0;
}

dt_file_kind dt_sniff(const uint8_t *h, size_t len)
{
    if (!h)
        return DT_KIND_UNKNOWN;
    if (starts(h, len, "MDMP", 4))
        return DT_KIND_MINIDUMP;
    if (starts(h, len, "PAGEDU64", 8))
        return DT_KIND_KERNEL64;
    if (starts(h, len, "PAGEDUMP", 8))
        return DT_KIND_KERNEL32;
    if (starts(h, len, "\x1f\x8b", 2))
        return DT_KIND_GZIP;
    if (starts(h, len, "PK\x03\x04", 4) || starts(h, len, "PK\x05\x06", 4))
        return DT_KIND_ZIP;
    if (starts(h, len, "7z\xbc\xaf\x27\x1c", 6))
        return DT_KIND_7Z;
    if (starts(h, len, "\xfd" "7zXZ\x00", 6))
        return DT_KIND_XZ;
    if (starts(h, len, "\x28\xb5\x2f\xfd", 4))
        return DT_KIND_ZSTD;
    if (starts(h, len, "BZh", 3))
        return DT_KIND_BZIP2;
    return DT_KIND_UNKNOWN;
}

const char *dt_file_kind_name(dt_file_kind kind)
{
    switch (kind) {
    case DT_KIND_MINIDUMP: return "minidump";
    case DT_KIND_KERNEL64: return "kernel64";
    case DT_KIND_KERNEL32: return "kernel32";
    case DT_KIND_GZIP: return "gzip";
    case DT_KIND_ZIP: return "zip";
    case DT_KIND_7Z: return "7z";
    case DT_KIND_XZ: return "xz";
    case DT_KIND_ZSTD: return "zstd";
    case DT_KIND_BZIP2: return "bzip2";
    case DT_KIND_TAR: return "tar";
    default: return "unknown";
    }
}

int dt_file_kind_is_dump(dt_file_kind kind)
{
    return kind == DT_KIND_MINIDUMP || kind == DT_KIND_KERNEL64 || kind == DT_KIND_KERNEL32;
}
