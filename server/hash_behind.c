/*
 * hash_behind.c — see hash_behind.h.  One mutex guards the two positions
 * (written by the writer, hashed by the thread); the hash state itself is
 * touched only by the thread while it runs, and by the caller after join.
 */
#include "hash_behind.h"

#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Large enough that a read and a digest update per chunk cost little next
 * to the bytes; small enough to stay a fixed, small part of the server's
 * memory per upload. */
#define CHUNK (512u << 10)

struct dt_hash_behind {
    int fd;
    EVP_MD_CTX *md;
    uint8_t *buf;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t work;     /* the thread waits: more written, or stop */
    pthread_cond_t progress; /* writer and finish wait: more hashed, or a failure */
    uint64_t written, hashed;
    bool stop;
    int failed;              /* errno of a failed read; EIO for a short file */
};

static void *run(void *arg)
{
    dt_hash_behind *h = arg;
    pthread_setname_np(pthread_self(), "dt-hash-behind"); /* apart from MHD's in top/perf */
    pthread_mutex_lock(&h->mu);
    for (;;) {
        while (!h->stop && h->hashed >= h->written)
            pthread_cond_wait(&h->work, &h->mu);
        if (h->stop)
            break;
        uint64_t at = h->hashed, end = h->written;
        pthread_mutex_unlock(&h->mu);
        size_t want = end - at < CHUNK ? (size_t)(end - at) : CHUNK;
        ssize_t n = pread(h->fd, h->buf, want, (off_t)at);
        int e = n < 0 ? errno : n == 0 ? EIO : 0;
        if (e == EINTR) {
            pthread_mutex_lock(&h->mu);
            continue;
        }
        if (n > 0)
            EVP_DigestUpdate(h->md, h->buf, (size_t)n);
        pthread_mutex_lock(&h->mu);
        if (e) {
            h->failed = e;
            pthread_cond_broadcast(&h->progress);
            break;
        }
        h->hashed += (uint64_t)n;
        pthread_cond_broadcast(&h->progress);
    }
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

dt_hash_behind *dt_hash_behind_start(int fd, void *md, uint64_t from, dt_error *err)
{
    dt_hash_behind *h = calloc(1, sizeof *h);
    uint8_t *buf = malloc(CHUNK);
    if (!h || !buf) {
        free(h);
        free(buf);
        dt_error_set(err, DT_ERR_NOMEM, "out of memory");
        return NULL;
    }
    h->fd = fd;
    h->md = md;
    h->buf = buf;
    h->written = h->hashed = from;
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->work, NULL);
    pthread_cond_init(&h->progress, NULL);
    int rc = pthread_create(&h->thread, NULL, run, h);
    if (rc != 0) {
        pthread_cond_destroy(&h->progress);
        pthread_cond_destroy(&h->work);
        pthread_mutex_destroy(&h->mu);
        free(buf);
        free(h);
        dt_error_set(err, DT_ERR_IO, "cannot start the hashing thread: %s", strerror(rc));
        return NULL;
    }
    return h;
}

void dt_hash_behind_written(dt_hash_behind *h, uint64_t end)
{
    pthread_mutex_lock(&h->mu);
    if (end > h->written) {
        h->written = end;
        pthread_cond_signal(&h->work);
    }
    while (!h->failed && h->written - h->hashed > DT_HASH_BEHIND_MAX_LAG)
        pthread_cond_wait(&h->progress, &h->mu);
    pthread_mutex_unlock(&h->mu);
}

static void stop_and_join(dt_hash_behind *h)
{
    pthread_mutex_lock(&h->mu);
    h->stop = true;
    pthread_cond_signal(&h->work);
    pthread_mutex_unlock(&h->mu);
    pthread_join(h->thread, NULL);
    pthread_cond_destroy(&h->progress);
    pthread_cond_destroy(&h->work);
    pthread_mutex_destroy(&h->mu);
    free(h->buf);
}

void *dt_hash_behind_finish(dt_hash_behind *h, dt_error *err)
{
    pthread_mutex_lock(&h->mu);
    while (!h->failed && h->hashed < h->written)
        pthread_cond_wait(&h->progress, &h->mu);
    int failed = h->failed;
    pthread_mutex_unlock(&h->mu);
    stop_and_join(h);
    EVP_MD_CTX *md = h->md;
    free(h);
    if (failed) {
        EVP_MD_CTX_free(md);
        dt_error_set(err, DT_ERR_IO, "cannot read back the upload to hash it: %s", strerror(failed));
        return NULL;
    }
    return md;
}

void dt_hash_behind_cancel(dt_hash_behind *h)
{
    if (!h)
        return;
    stop_and_join(h);
    EVP_MD_CTX_free(h->md);
    free(h);
}
