/*
 * secrets.h — unguessable identifiers and one-way hashes of secrets.
 *
 * Upload ids, view keys, tokens and session ids all come from the OS CSPRNG
 * (through libcrypto's RAND_bytes).  Tokens and session ids are stored only as
 * their SHA-256, so reading the database does not grant access.
 */
#ifndef DT_SERVER_SECRETS_H
#define DT_SERVER_SECRETS_H

#include <stddef.h>
#include <stdint.h>

/* Writes 2*nbytes lowercase hex characters plus NUL into out (outlen must
 * hold them).  Returns 0, or -1 if the CSPRNG failed. */
int dt_random_hex(char *out, size_t outlen, size_t nbytes);
/* SHA-256 of len bytes as 64 hex characters + NUL into out[65]. */
void dt_sha256_hex(const void *data, size_t len, char out[65]);
/* Constant-time comparison of two NUL-terminated strings. */
int dt_secret_equal(const char *a, const char *b);
/* Seconds since the epoch. */
int64_t dt_now(void);

#endif
