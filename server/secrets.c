/*
 * secrets.c — owns random identifiers, SHA-256 of secrets and their
 * constant-time comparison (see secrets.h).
 */
#include "secrets.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>
#include <time.h>

static void to_hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = 0;
}

dt_status dt_random_hex(char *out, size_t outlen, size_t nbytes)
{
    unsigned char buf[64];
    if (nbytes > sizeof buf || outlen < 2 * nbytes + 1)
        return DT_ERR_ARG;
    if (RAND_bytes(buf, (int)nbytes) != 1)
        return DT_ERR_IO;
    to_hex(buf, nbytes, out);
    OPENSSL_cleanse(buf, sizeof buf);
    return DT_OK;
}

void dt_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
    to_hex(md, 32, out);
}

bool dt_secret_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la != lb)
        return false;
    return CRYPTO_memcmp(a, b, la) == 0;
}

int64_t dt_now(void)
{
    return (int64_t)time(NULL);
}
