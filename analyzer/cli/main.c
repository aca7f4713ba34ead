/*
 * main.c — the `dumptriage` command: dispatches to its subcommands.
 *
 *   dumptriage analyze …   analyze dump files (cli/analyze.c)
 *   dumptriage serve …     run the triage server: execs the dumptriage-server
 *                          binary installed beside this one
 *   dumptriage worker …    run analyses only (no HTTP): execs dumptriage-server
 *   dumptriage upload …    send dumps to a server: execs dumptriage-upload
 *                          (libcurl lives there, not here)
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
#define UPLOAD_BINARY "dumptriage-upload"

static void usage(FILE *to)
{
    fprintf(to,
            "usage: dumptriage <command> [options]\n"
            "\n"
            "commands:\n"
            "  analyze FILE…   analyze user-mode and kernel dumps, print a report\n"
            "  serve           run the triage server (web pages, upload API, workers);\n"
            "                  runs " SERVER_BINARY " from this binary's directory\n"
            "  worker          run analyses only, beside `serve --workers 0` (no HTTP)\n"
            "  upload FILE…    send a user dump (and kernel dump) to a server, resumable;\n"
            "                  runs " UPLOAD_BINARY " from this binary's directory\n"
            "  version         print the version\n"
            "\n"
            "`dumptriage <command> --help` describes each command.\n");
}

/* Replaces this process with `<dir of /proc/self/exe>/<binary> <command>
 * …` (dumptriage-server serve, dumptriage-upload upload): the same process
 * (pid, signals, PID 1 in a container), so
 * supervisors and scripts see no difference.  Returns only on failure. */
static int exec_sibling(const char *binary, char **argv)
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
    if (dir_len + strlen(binary) + 1 > sizeof path) {
        fprintf(stderr, "dumptriage: path of my own binary too long\n");
        return DT_EXIT_UNUSABLE;
    }
    memcpy(path + dir_len, binary, strlen(binary) + 1);
    /* argv[0] becomes the server's path; argv[1] ("serve") and the rest
     * are passed unchanged, NULL-terminated as main received them. */
    argv[0] = path;
    execv(path, argv);
    fprintf(stderr, "dumptriage: %s needs %s: %s\n", argv[1], path, strerror(errno));
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
    if (strcmp(cmd, "serve") == 0 || strcmp(cmd, "worker") == 0)
        return exec_sibling(SERVER_BINARY, argv);
    if (strcmp(cmd, "upload") == 0)
        return exec_sibling(UPLOAD_BINARY, argv);
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
