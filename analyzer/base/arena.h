/*
 * arena.h — strings copied into chunks that never move, freed all at once.
 *
 * Symbol parsers (PDB, Breakpad .sym) return names that live as long as the
 * parsed file: copying each into its own malloc block would cost a header
 * per name and a free per name for files holding hundreds of thousands.
 * Zero-initialise a dt_arena; release it with dt_arena_free.
 */
#ifndef DT_BASE_ARENA_H
#define DT_BASE_ARENA_H

#include <stddef.h>

typedef struct dt_arena_chunk dt_arena_chunk;

typedef struct {
    dt_arena_chunk *head;
} dt_arena;

/* A NUL-terminated copy of len bytes at p, owned by the arena; NULL on OOM. */
const char *dt_arena_strn(dt_arena *a, const char *p, size_t len);
void dt_arena_free(dt_arena *a);

#endif
