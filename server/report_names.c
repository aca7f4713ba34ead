/*
 * report_names.c — see report_names.h.  A walk over every string of the
 * document: the paths can be anywhere a message quotes a file, not only in
 * the members documented to hold one.
 */
#include "report_names.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* The entry of map whose path occurs first in s (the longest at a tie), or
 * -1; its position in *at. */
static int first_match(const char *s, const dt_report_name *map, int n, const char **at)
{
    int best = -1;
    *at = NULL;
    for (int i = 0; i < n; i++) {
        if (!map[i].path || !map[i].path[0])
            continue;
        const char *p = map[i].whole ? (strcmp(s, map[i].path) == 0 ? s : NULL) : strstr(s, map[i].path);
        if (!p)
            continue;
        if (best < 0 || p < *at || (p == *at && strlen(map[i].path) > strlen(map[best].path))) {
            best = i;
            *at = p;
        }
    }
    return best;
}

/* s with every path replaced, malloc'd; NULL when nothing matched (*oom
 * set when allocation failed). */
static char *rewrite(const char *s, const dt_report_name *map, int n, bool *oom)
{
    const char *at;
    if (first_match(s, map, n, &at) < 0)
        return NULL;
    size_t cap = strlen(s) + 64, len = 0;
    char *out = malloc(cap);
    if (!out) {
        *oom = true;
        return NULL;
    }
    for (;;) {
        int i = first_match(s, map, n, &at);
        size_t keep = i < 0 ? strlen(s) : (size_t)(at - s);
        const char *name = i < 0 ? "" : map[i].name ? map[i].name : "";
        size_t need = len + keep + strlen(name) + 1;
        if (need > cap) {
            cap = need * 2;
            char *grown = realloc(out, cap);
            if (!grown) {
                free(out);
                *oom = true;
                return NULL;
            }
            out = grown;
        }
        memcpy(out + len, s, keep);
        len += keep;
        if (i < 0)
            break;
        memcpy(out + len, name, strlen(name));
        len += strlen(name);
        s = at + strlen(map[i].path);
    }
    out[len] = '\0';
    return out;
}

static int walk(cJSON *node, const dt_report_name *map, int n)
{
    int changed = 0;
    for (cJSON *c = node; c; c = c->next) {
        if (cJSON_IsString(c) && c->valuestring) {
            bool oom = false;
            char *s = rewrite(c->valuestring, map, n, &oom);
            if (oom)
                return -1;
            if (s) {
                bool set = cJSON_SetValuestring(c, s) != NULL;
                free(s);
                if (!set)
                    return -1;
                changed++;
            }
        }
        if (c->child) {
            int k = walk(c->child, map, n);
            if (k < 0)
                return -1;
            changed += k;
        }
    }
    return changed;
}

int dt_report_public_names(cJSON *doc, const dt_report_name *map, int n)
{
    if (!doc || n <= 0)
        return 0;
    /* The root's siblings are not part of the document. */
    if (cJSON_IsString(doc) || !doc->child)
        return 0;
    return walk(doc->child, map, n);
}
