/*
 * main.c — the `dumptriage` command: dispatches to its subcommands.
 *
 *   dumptriage analyze …   analyze dump files (cli/analyze.c)
 *   dumptriage serve …     run the triage server: execs the dumptriage-server
 *                          binary installed beside this one
 *
 * This binary is the lean analyzer: it links the analyzer library and no
 * more, because the server runs it once per analysis and its start-up cost
 * is paid by every job.  The server (HTTP, SQLite, OpenSSL…) lives in its own
 * binary; `serve` stays here only so that one command name keeps working.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

#define SERVER_BINARY "dumptriage-server"

static void usage(FILE *to)
{
    fprintf(to,
            "usage: dumptriage <command> [options]\n"
            "\n"
            "commands:\n"
            "  analyze FILE…   analyze user-mode and kernel dumps, print a report\n"
            "  serve           run the triage server (web pages, upload API, workers);\n"
            "                  runs " SERVER_BINARY " from this binary's directory\n"
            "  version         print the version\n"
            "\n"
            "`dumptriage <command> --help` describes each command.\n");
}

/* Replaces this process with `<dir of /proc/self/exe>/dumptriage-server
 * serve …`: the same process (pid, signals, PID 1 in a container), so
 * supervisors and scripts see no difference.  Returns only on failure. */
static int exec_server(char **argv)
{
    char path[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
    if (n <= 0) {
        fprintf(stderr, "dumptriage: cannot find my own binary: %s\n", strerror(errno));
        return DT_EXIT_UNUSABLE;
    }
    path[n] = '\0';
    char *slash = strrchr(path, '/');
    size_t dir_len = slash ? (size_t)(slash - path) + 1 : 0;
    if (dir_len + sizeof SERVER_BINARY > sizeof path) {
        fprintf(stderr, "dumptriage: path of my own binary too long\n");
        return DT_EXIT_UNUSABLE;
    }
    memcpy(path + dir_len, SERVER_BINARY, sizeof SERVER_BINARY);
    /* argv[0] becomes the server's path; argv[1] ("serve") and the rest
     * are passed unchanged, NULL-terminated as main received them. */
    argv[0] = path;
    execv(path, argv);
    fprintf(stderr, "dumptriage: serve needs %s: %s\n", path, strerror(errno));
    return DT_EXIT_UNUSABLE;
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
        return exec_server(argv);
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
