/*
 * analyze.c — `dumptriage analyze FILE…`: open each dump, parse it, print the
 * report as JSON or text.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "formats/sniff.h"
#include "io/mapped_file.h"

int dt_cli_analyze(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: dumptriage analyze FILE [--format json|text]\n");
        return DT_EXIT_USAGE;
    }
    dt_mapped_file f;
    dt_error err = { 0 };
    if (dt_mapped_file_open(&f, argv[1], &err) != DT_OK) {
        fprintf(stderr, "dumptriage: %s\n", err.message);
        return DT_EXIT_UNUSABLE;
    }
    dt_file_kind kind = dt_sniff(f.view.data, f.view.size);
    printf("{\"file\":\"%s\",\"kind\":\"%s\"}\n", argv[1], dt_file_kind_name(kind));
    dt_mapped_file_close(&f);
    return DT_EXIT_OK;
}
