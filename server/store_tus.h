/*
 * store_tus.h — the rows of resumable (tus) uploads (migration 007_tus.sql):
 * every SQL statement about them lives in store_tus.c.  The HTTP side and
 * the files are tus.c's.
 */
#ifndef DT_SERVER_STORE_TUS_H
#define DT_SERVER_STORE_TUS_H

#include <stdint.h>

#include "store.h"

#define DT_TUS_META_MAX 4096
#define DT_TUS_TEXT_MAX 2048

typedef struct {
    int64_t seq;
    char id[33];
    int64_t owner_token_id;        /* 0: anonymous */
    char owner_key[80];            /* "t:<token>" or "ip:<address>": the per-client limits */
    int64_t length;                /* -1 while deferred */
    uint64_t offset;               /* last durable offset */
    char metadata[DT_TUS_META_MAX];/* Upload-Metadata as received (echoed by HEAD) */
    char name[256];
    char note[DT_TUS_TEXT_MAX], case_id[DT_TUS_TEXT_MAX], customer[DT_TUS_TEXT_MAX];
    char grp[80];                  /* case upload id, scoped by the owner token (0: anonymous) */
    int group_files;
    char state[12];                /* receiving | complete | finished */
    char sha256[65], kind[16], role[8];
    char upload_id[33], view_key[65];
    int64_t created_at, updated_at, expires_at;
} dt_tus_row;

/* Inserts a new row (row->seq is set). */
dt_status dt_store_tus_create(dt_store *s, dt_tus_row *row, dt_error *err);
/* 1 found (out filled), 0 not, -1 store error. */
int dt_store_tus_get(dt_store *s, const char *id, dt_tus_row *out);
/* Records a durable offset (and the length, once a deferred one is known:
 * length >= 0), and the new expiry. */
dt_status dt_store_tus_set_offset(dt_store *s, const char *id, uint64_t offset, int64_t length, int64_t now,
                                  int64_t expires_at, dt_error *err);
/* The file is whole: its hash, kind and role. */
dt_status dt_store_tus_complete(dt_store *s, const char *id, const char *sha256, const char *kind, const char *role,
                                dt_error *err);
/* The rows of one case upload (owner token + grp), oldest first; returns
 * how many there are (at most max written to rows), -1 on error. */
int dt_store_tus_group(dt_store *s, int64_t owner_token_id, const char *grp, dt_tus_row *rows, int max);
/* In one transaction: the upload u (dt_store_upload_create) and every
 * complete row of the group marked finished with its id and view key.
 * DT_ERR_ARG (nothing written) when the group was finished meanwhile. */
dt_status dt_store_tus_finish_group(dt_store *s, dt_upload_new *u, int64_t owner_token_id, const char *grp,
                                    int nrows, dt_error *err);
void dt_store_tus_delete(dt_store *s, const char *id);
/* Receiving or complete uploads of one owner: how many and their declared
 * bytes (offset for a deferred length). */
void dt_store_tus_usage(dt_store *s, const char *owner_key, int64_t *count, int64_t *bytes);
/* Ids of rows expired at now (up to max); the caller removes their files,
 * then the rows with dt_store_tus_delete. */
int dt_store_tus_expired(dt_store *s, int64_t now, char (*ids)[33], int max);

#endif
