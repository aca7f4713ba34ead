/*
 * arena.c — see arena.h.
 */
#include "base/arena.h"

#include <stdlib.h>
#include <string.h>

struct dt_arena_chunk {
    dt_arena_chunk *next;
    size_t used, cap;
    char data[];
};

const char *dt_arena_strn(dt_arena *a, const char *p, size_t len)
{
    dt_arena_chunk *c = a->head;
    if (!c || c->cap - c->used < len + 1) {
        size_t cap = len + 1 > 65536 ? len + 1 : 65536;
        c = malloc(sizeof *c + cap);
        if (!c)
            return NULL;
        c->used = 0;
        c->cap = cap;
        c->next = a->head;
        a->head = c;
    }
    char *d = c->data + c->used;
    if (len)
        memcpy(d, p, len);
    d[len] = 0;
    c->used += len + 1;
    return d;
}

void dt_arena_free(dt_arena *a)
{
    while (a->head) {
        dt_arena_chunk *n = a->head->next;
        free(a->head);
        a->head = n;
    }
}
