/*
 * hash_behind.h — the SHA-256 of a file being received, computed by a
 * thread of its own that reads the file (from the page cache) behind the
 * thread writing it.
 *
 * Why: hashing every byte on the receiving thread made each upload path
 * CPU-bound on one core (SHA-256 was about half of the server's time per
 * GiB, docs/performance.md "Where the server's time goes"), while the other
 * core sat idle between the client's sends.  With the hash behind, the
 * receiving thread only copies bytes socket → file, and the hash runs
 * beside it; the reply still waits for the hash (dt_hash_behind_finish), so
 * nothing is acknowledged before its content is known.
 *
 * The writer reports how far the file is written (dt_hash_behind_written);
 * it is held back when the hash falls more than DT_HASH_BEHIND_MAX_LAG
 * bytes behind, so the bytes still to hash stay in the page cache and the
 * lag cannot grow without bound.  The file is read with pread on the
 * writer's own descriptor (the writer's offset does not move).
 *
 * Ownership: start takes over md (the hash of the file's first `from`
 * bytes); finish gives it back (the caller frees it with EVP_MD_CTX_free)
 * and frees the hasher; cancel frees both.
 */
#ifndef DT_SERVER_HASH_BEHIND_H
#define DT_SERVER_HASH_BEHIND_H

#include <stdint.h>

#include "base/error.h"

#define DT_HASH_BEHIND_MAX_LAG (64u << 20)

typedef struct dt_hash_behind dt_hash_behind;

/* Starts hashing fd from byte `from`, continuing md (an EVP_MD_CTX *
 * holding the SHA-256 state of bytes [0, from)).  NULL with err set when
 * the thread cannot be started; md is then still the caller's. */
dt_hash_behind *dt_hash_behind_start(int fd, void *md, uint64_t from, dt_error *err);
/* Bytes [0, end) are in the file.  Blocks while the hash is more than
 * DT_HASH_BEHIND_MAX_LAG behind end. */
void dt_hash_behind_written(dt_hash_behind *h, uint64_t end);
/* Waits until every byte reported written is hashed, stops the thread,
 * frees h and returns the hash state (EVP_MD_CTX *, the caller's to free),
 * or NULL with err set when the file could not be read that far (it was
 * cut shorter than reported). */
void *dt_hash_behind_finish(dt_hash_behind *h, dt_error *err);
/* Stops the thread and frees h and its hash state; safe on NULL. */
void dt_hash_behind_cancel(dt_hash_behind *h);

#endif
