/*
 * dt_mkpair.c — TEST-ONLY: writes the paired test case's synthesized kernel
 * dump (tests/support/paired_case.h).  Regenerate the committed copy with
 *   build/dt_mkpair tests/data/paired/hello_block.Kernel.dmp
 * Usage: dt_mkpair OUT [PID [IMAGE]]
 */
#include <stdio.h>
#include <stdlib.h>

#include "paired_case.h"

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: dt_mkpair OUT [PID [IMAGE]]\n");
        return 2;
    }
    dt_paired_options o = { .pid = 32, .image = "hello_block.ex", .wait_reason = 6, .waited_ticks = 180 * 64 };
    if (argc > 2)
        o.pid = (uint32_t)strtoul(argv[2], NULL, 0);
    if (argc > 3)
        o.image = argv[3];
    if (dt_paired_write_kernel_dump(&o, argv[1]) != 0) {
        fprintf(stderr, "dt_mkpair: cannot write %s\n", argv[1]);
        return 1;
    }
    return 0;
}
