/*
 * fuzz_inline.c — libFuzzer target for the inline-frame reader of Breakpad
 * .sym files (INLINE / INLINE_ORIGIN in analyzer/formats/breakpad_sym.c):
 * the input follows a MODULE and a FUNC line, and the inline chain is asked
 * for at addresses the input chooses.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/breakpad_sym.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char head[] = "MODULE windows x86_64 0123456789ABCDEF0123456789ABCDEF1 a.pdb\n"
                               "FUNC 1000 1000 0 f\n";
    if (size > (1u << 20))
        return 0;
    char *buf = malloc(sizeof head + size);
    if (!buf)
        return 0;
    memcpy(buf, head, sizeof head - 1);
    memcpy(buf + sizeof head - 1, data, size);
    dt_view v = { (const uint8_t *)buf, sizeof head - 1 + size };
    dt_breakpad_sym *sym = NULL;
    if (dt_breakpad_sym_parse(&sym, v, NULL) == DT_OK) {
        dt_breakpad_inline chain[16];
        uint32_t at[] = { 0x1000, 0x1001, 0x1800, 0x1fff, 0x2000, 0 };
        if (size >= 4)
            memcpy(&at[5], data, 4);
        for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
            size_t n = dt_breakpad_sym_inlines(sym, at[i], chain, 16);
            for (size_t k = 0; k < n; k++)
                if (!chain[k].function || chain[k].depth != k)
                    abort();
        }
        dt_breakpad_sym_free(sym);
    }
    free(buf);
    return 0;
}
