/*
 * store.h — the store: every SQL statement of the server lives behind this
 * interface (store*.c), over a SQLite file (the embedded default) or a
 * PostgreSQL database (several API servers and worker hosts), both through
 * the SQL layer of db.h, so the callers never know which.
 *
 * A dt_store is one connection; it is not shared between threads: the HTTP
 * handlers open one per request and each worker keeps its own.  On SQLite,
 * WAL mode and a busy timeout let them run side by side and writes use
 * BEGIN IMMEDIATE; on PostgreSQL jobs are claimed with FOR UPDATE SKIP
 * LOCKED (store_jobs.c).
 */
#ifndef DT_SERVER_STORE_H
#define DT_SERVER_STORE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

typedef struct dt_store dt_store;

typedef enum { DT_ROLE_ANONYMOUS = 0, DT_ROLE_UPLOADER, DT_ROLE_STAFF } dt_role;
const char *dt_role_name(dt_role role);

/* Opens the store: target is a SQLite file path (created if missing) or a
 * postgresql:// URL.  When migrations_dir is non-NULL the files
 * NNN_name.sql found there (PostgreSQL: in its postgresql/ subdirectory)
 * are applied in order, each once, recorded in schema_migrations.  Returns
 * NULL with err set on failure.  Close with dt_store_close. */
dt_store *dt_store_open(const char *target, const char *migrations_dir, dt_error *err);
/* True if the store is PostgreSQL (several processes may share it). */
bool dt_store_is_shared(dt_store *s);
/* The same, from the target dt_store_open would be given (no connection). */
bool dt_store_target_is_shared(const char *target);
void dt_store_close(dt_store *s);
/* Number of migrations recorded as applied (tests). */
int dt_store_migration_count(dt_store *s);

/* ---- tokens and sessions (store_auth.c) ---- */

/* Creates a token of the given role.  If token is non-NULL it is the secret
 * to record (from --admin-token); otherwise one is generated.  The secret is
 * written to out (>= 80 bytes) and never stored in clear. */
dt_status dt_store_token_create(dt_store *s, dt_role role, const char *name, const char *token,
                                char *out, size_t outlen, int64_t *out_id, dt_error *err);
bool dt_store_has_staff(dt_store *s);
/* Role of a token secret (DT_ROLE_ANONYMOUS if unknown or revoked). */
dt_role dt_store_token_lookup(dt_store *s, const char *token, int64_t *token_id);
/* A new session for token_id, valid ttl seconds; its secret goes to out[65]. */
dt_status dt_store_session_create(dt_store *s, int64_t token_id, int64_t ttl, char out[65], dt_error *err);
dt_role dt_store_session_lookup(dt_store *s, const char *session, int64_t *token_id);
void dt_store_session_delete(dt_store *s, const char *session);
/* {"items":[{"id","name","role","created_at","last_used_at","revoked"}]},
 * never a secret or its hash; NULL with err set on failure. */
cJSON *dt_store_token_list(dt_store *s, dt_error *err);
/* Revokes a token and ends its sessions; DT_ERR_NOT_FOUND for no such id. */
dt_status dt_store_token_revoke(dt_store *s, int64_t token_id, dt_error *err);

/* ---- uploads, files, reports (store_uploads.c) ---- */

typedef struct {
    char role[8];     /* user | kernel | archive */
    char sha256[65];
    uint64_t size;
    char kind[16];    /* dt_file_kind_name() */
    char name[256];   /* client's file name, sanitized; may be empty */
    int purged;       /* read from the store: the blob was deleted by retention */
} dt_file_rec;

/* A series of up to 8 user dumps, each with its kernel dump (docs/api.md:
 * repeated parts, or snapshots added later); an archive upload records the
 * archive and the first user and kernel dump found in it. */
#define DT_MAX_UPLOAD_FILES 16

typedef struct {
    int64_t owner_token_id;           /* 0: anonymous */
    const char *note, *case_id, *customer; /* may be NULL */
    dt_file_rec files[DT_MAX_UPLOAD_FILES];
    int nfiles;
    /* filled by dt_store_upload_create: */
    char id[33];
    char view_key[65];
    int reused;                       /* 1: an identical pair's analysis was reused */
} dt_upload_new;

/* In one transaction: the upload row, its files and (unless an identical,
 * analyzed pair exists) its job. */
dt_status dt_store_upload_create(dt_store *s, dt_upload_new *u, dt_error *err);

typedef struct {
    int64_t seq;
    char id[33];
    char view_key[65];
    int64_t owner_token_id;
    char status[16];
    int64_t report_id; /* 0 if none */
} dt_upload_ref;

/* 1 found, 0 not found. */
int dt_store_upload_find(dt_store *s, const char *id, dt_upload_ref *out);
/* Finds an upload by its view key; 1 found, 0 not. */
int dt_store_upload_find_by_key(dt_store *s, const char *key, dt_upload_ref *out);
/* The API object of one upload (docs/api.md); caller frees with cJSON_Delete. */
cJSON *dt_store_upload_json(dt_store *s, int64_t seq);

typedef struct {
    const char *status, *q, *signature, *process; /* NULL: no filter */
    const char *triage_state, *assignee; /* workflow (store_workflow.c); NULL: no filter */
    int64_t cursor;        /* list uploads with seq < cursor; 0: from the newest */
    int limit;             /* 1..200 */
    int64_t owner_token_id;/* -1: everyone's; otherwise that owner's only */
} dt_upload_filter;
/* {"items":[…],"next_cursor":…}; caller frees. */
cJSON *dt_store_upload_list(dt_store *s, const dt_upload_filter *f);
/* The stored analyzer JSON of an upload (malloc'd, caller frees) or NULL. */
char *dt_store_report_text(dt_store *s, int64_t report_id);
/* The per-thread row of a report as JSON, or NULL. */
cJSON *dt_store_thread_row(dt_store *s, int64_t report_id, int64_t thread_id);
/* The seq of the upload whose report upload seq reuses (an identical dump
 * analysed before), or 0. */
int64_t dt_store_upload_reused_seq(dt_store *s, int64_t seq);

/* The file of the given role; 1 found, 0 not. */
int dt_store_file_get(dt_store *s, int64_t seq, const char *role, dt_file_rec *out);
/* Deletes the upload (files, jobs cascade; its report if no other upload uses
 * it).  The hashes of blobs no longer referenced by any upload are returned
 * (malloc'd array of malloc'd strings; caller frees) for the caller to unlink. */
dt_status dt_store_upload_delete(dt_store *s, int64_t seq, char ***orphans, size_t *norphans, dt_error *err);
/* Queues a fresh analysis of an upload (status queued, report detached). */
dt_status dt_store_upload_reanalyze(dt_store *s, int64_t seq, dt_error *err);
/* {"items":[{signature,count,first_seen,last_seen}]}, optionally only over
 * one owner's uploads (owner -1: all). */
cJSON *dt_store_signatures(dt_store *s, int64_t owner_token_id);
/* 1 if any file row whose blob was not purged names this blob. */
int dt_store_blob_referenced(dt_store *s, const char *sha256);

/* ---- retention (store_retention.c) ---- */

/* Seqs of uploads created before `before` (seconds), oldest first, up to max.
 * With unpurged_only, only finished (done/failed) uploads that still have a
 * file not purged — the ones whose dumps a purge would free. */
int dt_store_retention_uploads(dt_store *s, int64_t before, int unpurged_only, int64_t *seqs, int max);
/* Total size of the distinct blobs named by unpurged file rows. */
int64_t dt_store_dump_bytes(dt_store *s);

typedef struct {
    char upload_id[33];
    int files;          /* rows marked purged now */
    int64_t bytes;      /* their total size (as recorded) */
    int64_t created_at; /* the upload's */
    char **orphans;     /* blobs no unpurged row names any more: the caller
                           unlinks them, then frees with dt_store_purge_free */
    size_t norphans;
} dt_purge_result;
/* Marks every unpurged file of upload seq purged (at now, for reason). */
dt_status dt_store_upload_purge_files(dt_store *s, int64_t seq, int64_t now, const char *reason,
                                      dt_purge_result *out, dt_error *err);
void dt_store_purge_free(dt_purge_result *r);
/* Id and creation time of an upload by seq; 1 found. */
int dt_store_upload_by_seq(dt_store *s, int64_t seq, char id[33], int64_t *created_at);

/* ---- jobs (store_jobs.c) ---- */

typedef struct {
    int64_t job_id;
    int64_t upload_seq;
    int attempts;             /* including this one */
    char upload_id[33];
    char note[512];
    dt_file_rec files[DT_MAX_UPLOAD_FILES];
    int nfiles;
    char owner[64];           /* the lease's holder: finishing or failing
                                 counts only while it still holds it */
} dt_job;

typedef struct {
    int64_t thread_id;
    char *name, *state, *verdict, *top_frame; /* may be NULL */
    int stuck;                                /* -1 unknown */
} dt_thread_row;

typedef struct {
    char *process, *bugcheck, *verdict, *signature, *search_text;
    int64_t pid;
    int has_pid;
    int thread_count;
    dt_thread_row *threads;
    size_t nthreads;
} dt_report_index;

/* Leases the oldest queued job for lease_seconds.  1: leased (out filled),
 * 0: nothing queued, -1: error. */
int dt_store_job_lease(dt_store *s, const char *owner, int64_t lease_seconds, dt_job *out);
/* The lease's heartbeat: while owner still holds the job, its lease runs
 * until now + lease_seconds.  1: still held; 0: lost (it expired and was
 * requeued, or the job was finished or deleted) — the caller stops working
 * on it; -1: error (the lease is unchanged and may still be held). */
int dt_store_job_heartbeat(dt_store *s, int64_t job_id, const char *owner, int64_t lease_seconds);
/* Waits up to timeout_ms for work: on PostgreSQL, for a NOTIFY of a job
 * becoming queued (migration 005's trigger; this connection LISTENs from
 * its first call).  1: woken, 0: timed out, -1: the engine cannot wait
 * (SQLite) or the connection failed — the caller polls instead. */
int dt_store_wait_for_jobs(dt_store *s, int timeout_ms);
/* Every change a worker makes to its job after the claim (below: add_files,
 * finish, fail, requeue, phase) counts only while job->owner still holds the
 * lease: a worker whose lease ran out and whose job another worker has
 * claimed since changes nothing (DT_ERR_NOT_FOUND; dt_store_job_fail
 * returns DT_OK and records nothing). */
/* Records files found inside an uploaded archive. */
dt_status dt_store_job_add_files(dt_store *s, const dt_job *job, const dt_file_rec *files, int n, dt_error *err);
/* Stores the report, its index rows, and marks job and upload done — one transaction. */
dt_status dt_store_job_finish(dt_store *s, const dt_job *job, const char *json, const dt_report_index *idx,
                              int64_t duration_ms, dt_error *err);
/* Marks the job failed with a reason class (crash, timeout, …) and message;
 * when retry is set and this was the first attempt, it is queued again instead. */
dt_status dt_store_job_fail(dt_store *s, const dt_job *job, const char *error_class, const char *message,
                            int retry, dt_error *err);
/* Puts a leased job back in the queue without counting the attempt (drain). */
dt_status dt_store_job_requeue(dt_store *s, const dt_job *job, dt_error *err);
/* Requeues leased jobs whose lease ran out (all leased jobs if all is set:
 * at start, when the data-dir lock proves no other server is alive).  Each
 * such job was interrupted by the server dying (or hanging); one
 * interrupted for the second time while the server itself worked on it
 * (phase store), or leased DT_JOB_MAX_LEASES times, is failed with
 * class "server_died" instead of being queued again.  Returns the number
 * requeued, -1 on error. */
#define DT_JOB_MAX_SERVER_DEATHS 2
#define DT_JOB_MAX_LEASES 8
int dt_store_requeue_expired(dt_store *s, int all);
int64_t dt_store_queue_depth(dt_store *s);
/* Queued jobs of one submitter ("t:<token id>" or "ip:<address>"); -1 on error. */
int64_t dt_store_queue_depth_for(dt_store *s, const char *submitter);
/* Records who queued the upload's job (for the per-client queue share and
 * for leasing in turns between clients). */
dt_status dt_store_job_set_submitter(dt_store *s, const char *upload_id, const char *submitter, dt_error *err);
/* What the worker is doing with a leased job: "unpack", "analyze" or
 * "store".  A server that dies in "store" (work done inside the server
 * process; the others run in limited children) counts against the job
 * (dt_store_requeue_expired). */
dt_status dt_store_job_phase(dt_store *s, const dt_job *job, const char *phase, dt_error *err);
/* Prometheus text for the store's counters (caller frees). */
char *dt_store_metrics(dt_store *s);


/* ---- the support workflow (store_workflow.c, migration 006) ---- */

/* new | investigating | waiting_for_customer | resolved */
bool dt_workflow_state_valid(const char *state);
typedef struct {
    const char *state;        /* NULL: keep */
    const char *assignee;     /* "" or NULL with set_assignee: clear */
    const char *ticket;
    int set_assignee, set_ticket;
} dt_workflow_change;
/* {"state","assignee","ticket","updated_at","updated_by","comments":[…]}
 * (docs/api.md); NULL with err set on failure.  Caller frees. */
cJSON *dt_store_workflow_get(dt_store *s, int64_t seq, dt_error *err);
/* Applies a change by token `by`; DT_ERR_ARG for an unknown state. */
dt_status dt_store_workflow_set(dt_store *s, int64_t seq, const dt_workflow_change *ch, int64_t by, dt_error *err);
dt_status dt_store_comment_add(dt_store *s, int64_t seq, int64_t by, const char *text, int64_t *id, dt_error *err);
/* Adds "workflow":{"state","assignee","ticket","comments"} to every upload
 * object (by its "id") of a list page. */
void dt_store_workflow_attach(dt_store *s, cJSON *items);
/* {"signature","count","first_seen","last_seen","days":[{"day","count"}]}
 * over the uploads owner_token_id may see (-1: all). */
cJSON *dt_store_signature_detail(dt_store *s, const char *signature, int64_t owner_token_id, dt_error *err);

#endif
