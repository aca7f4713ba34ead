/*
 * cli.h — subcommands of the `dumptriage` binary and its exit statuses.
 * (`serve` is not among them: main.c hands it to the dumptriage-server
 * binary, so the analyzer never links the server.)
 *
 * Exit statuses (documented in README.md and `dumptriage analyze --help`):
 *   0  the report was produced (it may carry warnings)
 *   1  no usable input: the reason is one line on stderr
 *   2  usage error
 */
#ifndef DT_CLI_CLI_H
#define DT_CLI_CLI_H

enum {
    DT_EXIT_OK = 0,
    DT_EXIT_UNUSABLE = 1,
    DT_EXIT_USAGE = 2,
};

int dt_cli_analyze(int argc, char **argv);

#endif
