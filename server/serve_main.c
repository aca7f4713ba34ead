/*
 * serve_main.c — `dumptriage serve`: until the server lands, says so.
 */
#include <stdio.h>

int dt_cli_serve(int argc, char **argv);

int dt_cli_serve(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "dumptriage serve: the server is not built yet\n");
    return 1;
}
