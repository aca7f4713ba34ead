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

const char *dt_file_shown_name(const dt_file_rec *f)
{
    if (f->name[0])
        return f->name;
    return strcmp(f->role, "kernel") == 0 ? "the kernel dump" : strcmp(f->role, "user") == 0 ? "the user dump"
                                                                                            : "the archive";
}

char *dt_report_names_for_reuse(dt_store *st, int64_t first_seq, int64_t seq, char *text)
{
    static const char *roles[] = { "user", "kernel" };
    dt_file_rec first[2], mine[2];
    dt_report_name map[2];
    int n = 0;
    for (int i = 0; i < 2; i++) {
        memset(&first[i], 0, sizeof first[i]);
        memset(&mine[i], 0, sizeof mine[i]);
        if (dt_store_file_get(st, first_seq, roles[i], &first[i]) && dt_store_file_get(st, seq, roles[i], &mine[i]) &&
            strcmp(dt_file_shown_name(&first[i]), dt_file_shown_name(&mine[i])) != 0)
            map[n++] = (dt_report_name){ dt_file_shown_name(&first[i]), dt_file_shown_name(&mine[i]), true };
    }
    if (!n || !text)
        return text;
    cJSON *root = cJSON_Parse(text);
    if (!root)
        return text; /* not ours to fix: sent as stored */
    int changed = dt_report_public_names(root, map, n);
    char *again = changed > 0 ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (changed < 0 || (changed > 0 && !again)) {
        free(text);
        return NULL;
    }
    if (!again)
        return text;
    free(text);
    return again;
}
