/*
 * state_file.c — see state_file.h.
 */
#include "state_file.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void mkdirs(char *dir)
{
    for (char *p = dir + 1; *p; p++) {
        if (*p == '/') {
            *p = 0;
            mkdir(dir, 0700);
            *p = '/';
        }
    }
    mkdir(dir, 0700);
}

/* FNV-1a, 64 bits twice with different seeds: a name, not a secret. */
static void name_of(const char *key, char out[33])
{
    uint64_t h1 = 1469598103934665603ull, h2 = 0x9e3779b97f4a7c15ull;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        h1 = (h1 ^ *p) * 1099511628211ull;
        h2 = (h2 ^ *p) * 1099511628211ull;
    }
    snprintf(out, 33, "%016llx%016llx", (unsigned long long)h1, (unsigned long long)h2);
}

int dt_up_state_open(dt_up_state *s, const char *key)
{
    memset(s, 0, sizeof *s);
    char dir[900];
    const char *d = getenv("DT_UPLOAD_STATE_DIR"), *x = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
    if (d && *d)
        snprintf(dir, sizeof dir, "%s", d);
    else if (x && *x)
        snprintf(dir, sizeof dir, "%s/dumptriage", x);
    else
        snprintf(dir, sizeof dir, "%s/.local/state/dumptriage", home && *home ? home : "/tmp");
    mkdirs(dir);
    char name[33];
    name_of(key, name);
    snprintf(s->path, sizeof s->path, "%s/upload-%s.state", dir, name);
    FILE *f = fopen(s->path, "r");
    if (!f)
        return 0;
    char line[512];
    int ok = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        int idx;
        char loc[256];
        if (strncmp(line, "case_upload ", 12) == 0) {
            snprintf(s->case_upload, sizeof s->case_upload, "%.39s", line + 12);
            ok = 1;
        } else if (sscanf(line, "file %d %255s", &idx, loc) == 2 && idx >= 0 && idx < DT_UP_MAX_FILES
                   && strncmp(loc, "/api/uploads/", 13) == 0) {
            snprintf(s->location[idx], sizeof s->location[idx], "%s", loc);
        }
    }
    fclose(f);
    return ok;
}

int dt_up_state_save(const dt_up_state *s)
{
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp", s->path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    fprintf(f, "case_upload %s\n", s->case_upload);
    for (int i = 0; i < DT_UP_MAX_FILES; i++)
        if (s->location[i][0])
            fprintf(f, "file %d %s\n", i, s->location[i]);
    int bad = fflush(f) != 0 || fsync(fileno(f)) != 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, s->path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

void dt_up_state_remove(const dt_up_state *s)
{
    unlink(s->path);
}
