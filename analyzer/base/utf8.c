/*
 * utf8.c — validation and U+FFFD substitution (see utf8.h).
 *
 * The decoder follows the Unicode table of well-formed byte sequences
 * (Table 3-7): the allowed range of the second byte depends on the first,
 * which rules out overlongs, surrogates and code points above U+10FFFF
 * without decoding the value.
 */
#include "base/utf8.h"

#include <stdlib.h>
#include <string.h>

/* Length of the valid sequence at s (1..4), or 0 if the bytes at s start an
 * invalid one; *bad gets the length of the maximal invalid subpart then. */
static size_t seq_len(const unsigned char *s, size_t avail, size_t *bad)
{
    unsigned char c = s[0];
    *bad = 1;
    if (c < 0x80)
        return 1;
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else
        return 0;
    for (size_t i = 1; i < n; i++) {
        if (i >= avail)
            return 0;
        unsigned char b = s[i];
        if (b < (i == 1 ? lo : 0x80) || b > (i == 1 ? hi : 0xBF))
            return 0;
        *bad = i + 1;
    }
    return n;
}

bool dt_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, bad;
    while (i < len) {
        size_t n = seq_len(p + i, len - i, &bad);
        if (!n)
            return false;
        i += n;
    }
    return true;
}

size_t dt_utf8_sanitize(const char *in, char *out, size_t cap)
{
    const unsigned char *p = (const unsigned char *)in;
    size_t len = strlen(in), i = 0, j = 0, replaced = 0;
    while (i < len) {
        size_t bad, n = seq_len(p + i, len - i, &bad);
        const char *src = n ? (const char *)p + i : "\xEF\xBF\xBD";
        size_t w = n ? n : 3;
        if (j + w >= cap)
            break; /* cut at a character boundary */
        memcpy(out + j, src, w);
        j += w;
        if (n) {
            i += n;
        } else {
            /* One U+FFFD per maximal subpart: a truncated sequence is one
             * unit, and the byte that broke it starts the next. */
            i += bad;
            replaced++;
        }
    }
    out[j] = 0;
    return replaced;
}

size_t dt_utf8_sanitize_inplace(char *s, size_t cap)
{
    if (dt_utf8_valid(s, strlen(s)))
        return 0;
    char *tmp = malloc(cap);
    if (!tmp) {
        /* No memory for a copy: dropping every byte >= 0x80 is still valid. */
        size_t j = 0, n = 0;
        for (size_t i = 0; s[i]; i++) {
            if ((unsigned char)s[i] < 0x80)
                s[j++] = s[i];
            else
                n++;
        }
        s[j] = 0;
        return n;
    }
    size_t n = dt_utf8_sanitize(s, tmp, cap);
    memcpy(s, tmp, strlen(tmp) + 1);
    free(tmp);
    return n;
}

char *dt_utf8_sanitize_dup(const char *s)
{
    /* Worst case every byte becomes the 3-byte U+FFFD. */
    size_t cap = strlen(s) * 3 + 1;
    char *out = malloc(cap);
    if (out)
        dt_utf8_sanitize(s, out, cap);
    return out;
}
