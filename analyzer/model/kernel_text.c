/*
 * kernel_text.c — the UTF-16LE → UTF-8 conversion of the kernel's
 * UNICODE_STRING buffers (file, device, driver and ALPC port names), one
 * copy for every kernel_*.c reader (declared in kernel_dump_internal.h).
 */
#include "model/kernel_dump_internal.h"

#include <string.h>

void dt_kernel_utf16_to_utf8(const uint8_t *p, size_t nbytes, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i + 1 < nbytes;) {
        uint32_t c = (uint32_t)(p[i] | p[i + 1] << 8);
        i += 2;
        if (c >= 0xd800 && c < 0xdc00 && i + 1 < nbytes) {
            uint32_t lo = (uint32_t)(p[i] | p[i + 1] << 8);
            if (lo >= 0xdc00 && lo < 0xe000) {
                c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
                i += 2;
            } else {
                c = 0xfffd;
            }
        } else if (c >= 0xd800 && c < 0xe000) {
            c = 0xfffd;
        }
        if (c == 0)
            c = 0xfffd; /* a NUL would cut the name short in every consumer */
        char u[4];
        size_t n;
        if (c < 0x80) {
            u[0] = (char)c;
            n = 1;
        } else if (c < 0x800) {
            u[0] = (char)(0xc0 | c >> 6);
            u[1] = (char)(0x80 | (c & 0x3f));
            n = 2;
        } else if (c < 0x10000) {
            u[0] = (char)(0xe0 | c >> 12);
            u[1] = (char)(0x80 | ((c >> 6) & 0x3f));
            u[2] = (char)(0x80 | (c & 0x3f));
            n = 3;
        } else {
            u[0] = (char)(0xf0 | c >> 18);
            u[1] = (char)(0x80 | ((c >> 12) & 0x3f));
            u[2] = (char)(0x80 | ((c >> 6) & 0x3f));
            u[3] = (char)(0x80 | (c & 0x3f));
            n = 4;
        }
        if (o + n >= cap)
            break;
        memcpy(out + o, u, n);
        o += n;
    }
    out[o] = '\0';
}

