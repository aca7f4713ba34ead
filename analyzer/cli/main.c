/*
 * main.c — the `dumptriage` command: dispatches to its subcommands.
 *
 *   dumptriage analyze …   analyze dump files (cli/analyze.c)
 *   dumptriage serve …     run the triage server (server/)
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static void usage(FILE *to)
{
    fprintf(to,
            "usage: dumptriage <command> [options]\n"
            "\n"
            "commands:\n"
            "  analyze FILE…   analyze user-mode and kernel dumps, print a report\n"
            "  serve           run the triage server (web pages, upload API, workers)\n"
            "  version         print the version\n"
            "\n"
            "`dumptriage <command> --help` describes each command.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return DT_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "analyze") == 0)
        return dt_cli_analyze(argc - 1, argv + 1);
    if (strcmp(cmd, "serve") == 0)
        return dt_cli_serve(argc - 1, argv + 1);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("dumptriage %s\n", DT_VERSION);
        return 0;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "dumptriage: unknown command '%s'\n", cmd);
    usage(stderr);
    return DT_EXIT_USAGE;
}
