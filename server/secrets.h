/*
 * secrets.h — unguessable identifiers and one-way hashes of secrets.
 *
 * Upload ids, view keys, tokens and session ids all come from the OS CSPRNG
 * (through libcrypto's RAND_bytes).  Tokens and session ids are stored only as
 * their SHA-256, so reading the database does not grant access.
 */
#ifndef DT_SERVER_SECRETS_H
#define DT_SERVER_SECRETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

/* Writes 2*nbytes lowercase hex characters plus NUL into out (outlen must
 * hold them).  DT_OK; DT_ERR_ARG if it cannot; DT_ERR_IO if the CSPRNG
 * failed. */
dt_status dt_random_hex(char *out, size_t outlen, size_t nbytes);
/* SHA-256 of len bytes as 64 hex characters + NUL into out[65]. */
void dt_sha256_hex(const void *data, size_t len, char out[65]);
/* Constant-time comparison of two NUL-terminated strings. */
bool dt_secret_equal(const char *a, const char *b);
/* Seconds since the epoch. */
int64_t dt_now(void);

#endif
