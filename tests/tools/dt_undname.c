/*
 * dt_undname.c — test tool: undecorates each line of stdin with the
 * analyzer's undecorator (symbols/undname.h) and prints "name<TAB>result"
 * ("<NULL>" when it declines), the shape test_undname_oracle.sh compares with
 * llvm-undname's output.  "--name-only" selects DT_UNDNAME_NAME_ONLY.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "symbols/undname.h"

int main(int argc, char **argv)
{
    unsigned flags = argc > 1 && strcmp(argv[1], "--name-only") == 0 ? DT_UNDNAME_NAME_ONLY : DT_UNDNAME_FULL;
    static char line[DT_UNDNAME_MAX_INPUT * 2];
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\r\n")] = '\0';
        char *r = dt_undname(line, flags);
        printf("%s\t%s\n", line, r ? r : "<NULL>");
        free(r);
    }
    return 0;
}
