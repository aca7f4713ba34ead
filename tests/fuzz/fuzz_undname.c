/*
 * fuzz_undname.c — libFuzzer target for the MSVC undecorator
 * (analyzer/symbols/undname.c): any bytes as a name, both output forms.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "symbols/undname.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > DT_UNDNAME_MAX_INPUT + 16)
        return 0;
    char *s = malloc(size + 2);
    if (!s)
        return 0;
    s[0] = '?'; /* decorated names start with '?'; spend the effort there */
    memcpy(s + 1, data, size);
    s[size + 1] = '\0';
    char *a = dt_undname(s, DT_UNDNAME_FULL);
    char *b = dt_undname(s, DT_UNDNAME_NAME_ONLY);
    if (a && strlen(a) > DT_UNDNAME_MAX_OUTPUT)
        abort();
    free(a);
    free(b);
    free(s);
    return 0;
}
