/*
 * main.c — the `dumptriage-server` binary: dispatches to its subcommands.
 *
 *   dumptriage-server serve …   run the triage server (serve_main.c)
 *   dumptriage-server worker …  run analyses only, no HTTP (worker_main.c)
 *
 * The server is a binary of its own so that the analyzer (`dumptriage`),
 * which the server runs once per job, links none of the server's libraries.
 * `dumptriage serve|worker …` execs this binary with the same arguments.
 */
#include <stdio.h>
#include <string.h>

/* serve_main.c: the whole `serve` command; argv[0] is "serve". */
int dt_cli_serve(int argc, char **argv);
/* worker_main.c: `worker`, analyses only (no HTTP). */
int dt_cli_worker(int argc, char **argv);

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} commands[] = {
    { "serve", dt_cli_serve, "run the triage server (web pages, upload API, workers)" },
    { "worker", dt_cli_worker, "run analyses only, beside `serve --workers 0` on the same store" },
};

static void usage(FILE *to)
{
    fprintf(to, "usage: dumptriage-server <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(to, "  %-14s %s\n", commands[i].name, commands[i].help);
    fprintf(to, "  %-14s %s\n", "version", "print the version");
    fprintf(to, "\n`dumptriage-server <command> --help` describes each command.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(cmd, commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("dumptriage-server %s\n", DT_VERSION);
        return 0;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "dumptriage-server: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}
