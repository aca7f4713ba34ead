/*
 * blob.h — content-addressed file storage under the data directory.
 *
 *   data/tmp/          files being received (removed at start: never complete)
 *   data/blobs/ab/cd…  complete files, named by their SHA-256
 *
 * A spool is one file being received: bytes are written to data/tmp while
 * they are hashed and their first bytes kept for sniffing; placing it seals
 * (fsyncs) it and hands it to the blob store, which moves it under its blob
 * name, so a blob path always names a complete, durable file.  Identical content is stored once.
 *
 * Because identical content is shared, "nobody references this blob any
 * more, unlink it" races with "this content is already stored, reference
 * it".  The blob lock (an flock on data/blobs.lock, so it also holds
 * between processes) closes that window: it is held from placing a blob
 * until the row that references it is committed, and while checking that a
 * blob is unreferenced and unlinking it (blob_gc.c).  Sealing — the hash
 * and the fsync, the slow part — happens before the lock is taken.
 *
 * dt_blob_store (at the end) is the blob store as an interface: what a
 * backend must offer for a blob's life (place, read, test, delete, list)
 * and for readiness.  blob_fs.c implements it over the functions below,
 * blob_s3.c over an S3-compatible bucket, with spools staying local files
 * (the hash and the sniffing need the bytes as they arrive).
 * docs/operations.md ("Scaling") says what a shared filesystem must
 * guarantee for the filesystem store.
 */
#ifndef DT_SERVER_BLOB_H
#define DT_SERVER_BLOB_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "formats/sniff.h"
#include "base/error.h"

#define DT_SPOOL_HEAD 512

typedef struct {
    int fd;                 /* -1 when closed */
    char tmp_path[1200];
    void *md;               /* EVP_MD_CTX; NULL while hb holds it */
    struct dt_hash_behind *hb; /* the hash, once the file is large enough
                               to hash on a thread of its own (hash_behind.h) */
    uint64_t size;
    uint8_t head[DT_SPOOL_HEAD];
    size_t head_len;
    int sealed;             /* hash final and data fsync'ed */
    char sha256[65];        /* valid once sealed */
    uint64_t min_free;      /* writes fail (DT_ERR_NOMEM) once the disk has less
                               free space than this; 0: not checked */
    uint64_t unchecked;     /* bytes written since free space was last checked */
} dt_spool;

/* Creates data_dir, data_dir/tmp and data_dir/blobs. */
dt_status dt_blob_prepare_dirs(const char *data_dir, dt_error *err);
/* Removes everything in data_dir/tmp (half-received files of a dead server). */
int dt_blob_clean_tmp(const char *data_dir);
/* Removes a directory under data_dir/tmp and what it holds (a child's work
 * directory). */
void dt_blob_remove_dir(const char *dir);
/* data_dir/blobs/ab/cdef…; 0 ok, -1 if sha is not 64 hex digits. */
int dt_blob_path(const char *data_dir, const char *sha256, char *out, size_t len);
/* 1 if the blob is present with this size. */
int dt_blob_exists(const char *data_dir, const char *sha256, uint64_t size);
/* Takes the blob lock (blocking); returns the descriptor to pass to
 * dt_blob_unlock, or -1 if the lock file cannot be opened. */
int dt_blob_lock(const char *data_dir);
void dt_blob_unlock(int lock_fd);
/* Free bytes on the data disk, or UINT64_MAX if unknown. */
uint64_t dt_blob_free_space(const char *data_dir);

/* Starts receiving a file in data_dir/tmp; sp must be released by commit or
 * abort.  min_free (bytes, 0: none) is the free space the disk must keep:
 * it is checked at the first write and then every DT_SPOOL_FREE_CHECK bytes,
 * on the bytes as written (inflated), so no path can fill the disk. */
dt_status dt_spool_open(dt_spool *sp, const char *data_dir, dt_error *err);
dt_status dt_spool_open_in(dt_spool *sp, const char *tmp_dir, uint64_t min_free, dt_error *err);
#define DT_SPOOL_FREE_CHECK (16u << 20)
/* Files up to this size are hashed as they are written; past it the hash
 * moves behind the writer, to a thread of its own (hash_behind.h). */
#define DT_SPOOL_HASH_INLINE (4u << 20)
dt_status dt_spool_write(dt_spool *sp, const void *data, size_t len, dt_error *err);
/* Writes everything read from fd until its end (the stores' put_stream).
 * On failure sp is aborted. */
dt_status dt_spool_write_from(dt_spool *sp, int fd, dt_error *err);
/* The kind sniffed from the first bytes (dumps, archives, tar by "ustar"). */
dt_file_kind dt_spool_kind(const dt_spool *sp);
/* For a gzip spool holding one dump: that dump's kind (read from the first
 * inflated bytes); DT_KIND_UNKNOWN for anything else. */
dt_file_kind dt_spool_gzip_inner_kind(const dt_spool *sp);
/* Finishes the hash and fsyncs the data (idempotent); sha256 gets the hex
 * digest.  Done before taking the blob lock, so the lock never waits on a
 * large fsync.  On failure sp is aborted. */
dt_status dt_spool_seal(dt_spool *sp, char sha256[65], dt_error *err);
/* Seals if not yet sealed, then hands the file to the blob store's put_file
 * (bs: the store it belongs in; declared below), which moves it under its
 * hash or drops it when identical content is already there.  Closes sp.
 * Callers that will reference the blob hold the blob lock across this and
 * their row insert. */
struct dt_blob_store;
dt_status dt_spool_place(dt_spool *sp, struct dt_blob_store *bs, char sha256[65], dt_error *err);
/* Closes and unlinks; safe on a closed or zeroed-and-never-opened spool
 * only when fd is -1 (dt_spool_init). */
void dt_spool_abort(dt_spool *sp);
void dt_spool_init(dt_spool *sp);

/* Whether a received dump is plausibly one, before it is accepted: a
 * minidump needs its 32-byte header and a stream directory of at least one
 * entry inside the file; a kernel dump its header page (8 KiB for 64-bit, 4
 * KiB for 32-bit).  head holds the file's first bytes (>= 32 when size
 * allows), size its full size.  DT_OK, or DT_ERR_TRUNCATED / DT_ERR_FORMAT
 * with a message safe to show.  Other kinds pass. */
dt_status dt_dump_check(dt_file_kind kind, const uint8_t *head, size_t head_len, uint64_t size, dt_error *err);

/* ---- the blob store interface ---- */

typedef struct dt_blob_store dt_blob_store;
/* Called for each stored blob by list with the time (Unix seconds) its
 * bytes were last written, so a sweep can leave young blobs alone; nonzero
 * stops the listing. */
typedef int (*dt_blob_visit)(const char *sha256, int64_t written, void *arg);

typedef struct {
    const char *name; /* "fs" */
    /* Places a sealed (hashed and fsync'ed) local file under its hash,
     * atomically: readers see either no blob or all of it, and it is durable
     * when this returns.  The file is consumed (moved, or removed when the
     * content is already stored). */
    dt_status (*put_file)(dt_blob_store *bs, const char *path, const char *sha256, uint64_t size, dt_error *err);
    /* As put_file, but the file stays where it is (a resumable upload keeps
     * its file until the row naming the blob commits); the filesystem store
     * hard-links it, an object store would upload a copy. */
    dt_status (*put_copy)(dt_blob_store *bs, const char *path, const char *sha256, uint64_t size, dt_error *err);
    /* Reads fd to its end into a new blob (hashing on the way), with the same
     * guarantees; sha256 and size get what was stored. */
    dt_status (*put_stream)(dt_blob_store *bs, int fd, char sha256[65], uint64_t *size, dt_error *err);
    /* A descriptor reading the blob from its start, or -1 with err set. */
    int (*open_read)(dt_blob_store *bs, const char *sha256, dt_error *err);
    /* A path on this host that the analyzer may map (the blob itself here;
     * a fetched copy for a remote store).  0 ok, -1 with err set. */
    int (*local_path)(dt_blob_store *bs, const char *sha256, char *out, size_t len, dt_error *err);
    /* 1 if the blob is present with this size. */
    int (*exists)(dt_blob_store *bs, const char *sha256, uint64_t size);
    /* Deletes a blob; a missing one is not an error. */
    dt_status (*remove)(dt_blob_store *bs, const char *sha256, dt_error *err);
    /* Visits every stored blob (for the orphan collection). */
    dt_status (*list)(dt_blob_store *bs, dt_blob_visit visit, void *arg, dt_error *err);
    /* Readiness: a probe is written durably, renamed, read back and removed. */
    dt_status (*check)(dt_blob_store *bs, dt_error *err);
    void (*free)(dt_blob_store *bs);
} dt_blob_ops;

struct dt_blob_store {
    const dt_blob_ops *ops;
};

/* The filesystem store rooted at data_dir (blobs/, tmp/); NULL on no memory. */
dt_blob_store *dt_blob_store_fs(const char *data_dir);
/* Safe on NULL. */
void dt_blob_store_free(dt_blob_store *bs);

/* An S3-compatible object store (blob_s3.c): blobs are the objects
 * "blobs/ab/<sha256>" of one bucket; cache_dir (on this host, normally
 * under the data directory) holds the copies local_path/open_read hand out
 * and the files put_stream receives.  Objects larger than part_size (0:
 * 64 MiB; at least 5 MiB) go up as a multipart upload. */
typedef struct {
    const char *endpoint;   /* http(s)://host:port, path-style */
    const char *region;     /* NULL: us-east-1 */
    const char *bucket;
    const char *access_key;
    const char *secret_key;
    const char *cache_dir;
    uint64_t part_size;
    unsigned list_page;     /* keys per ListObjectsV2 answer; 0: the server's (1000) */
} dt_blob_s3_config;
/* NULL with err set on a bad configuration (nothing is contacted here:
 * check() is the readiness probe). */
dt_blob_store *dt_blob_store_s3(const dt_blob_s3_config *cfg, dt_error *err);

/* The store a data directory's blobs live in (blob_open.c).  Every process
 * on a data directory — API server, workers, the unpacking child, which
 * only gets the directory — opens it from the directory itself:
 * dt_blob_store_record writes DATA/blob-store.conf (which store, endpoint,
 * bucket, region; never a key) at start, dt_blob_store_at reads it (absent:
 * the filesystem store), taking the S3 keys from AWS_ACCESS_KEY_ID and
 * AWS_SECRET_ACCESS_KEY in the environment.  S3's cache is DATA/cache. */
dt_status dt_blob_store_record(const char *data_dir, const char *kind, const char *endpoint, const char *bucket,
                               const char *region, dt_error *err);
dt_blob_store *dt_blob_store_at(const char *data_dir, dt_error *err);
/* The store cfg names (--blob-store); what the sites that hold the
 * configuration call.  The same as dt_blob_store_at(cfg->data_dir) once
 * the instance has recorded cfg's choice (instance.c, at start). */
dt_blob_store *dt_blob_store_open(const dt_server_config *cfg, dt_error *err);

#endif
