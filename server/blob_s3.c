/*
 * blob_s3.c — the S3-compatible object store behind blob.h's dt_blob_ops:
 * each blob is the object "blobs/ab/<sha256>" in one bucket, reached over
 * libcurl with SigV4 (path-style URLs, so any endpoint works without DNS
 * tricks).  It owns the requests, their signing details, the XML answers
 * (libxml2, never parsed by hand) and a local cache directory: the analyzer
 * maps files, so local_path/open_read fetch a verified copy there.
 *
 * Why the details are as they are: radosgw (what it was tested against)
 * refuses SigV4 without x-amz-content-sha256 and libcurl 7.88 does not add
 * it, so every request carries it — the blob's own SHA-256 for a PUT, so
 * the server refuses bytes that are not the blob; libcurl signs the query
 * string as written, so queries are built canonical (keys sorted, values
 * percent-encoded).  Objects past part_size go up in parts (multipart
 * upload), each part with its own SHA-256, since one PUT stops at 5 GiB.
 * A placed file is moved into the cache rather than deleted: the analysis
 * that follows an upload then needs no download.
 */
#include "blob.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define S3_EMPTY_SHA "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define S3_DEFAULT_PART (64ull << 20)
#define S3_MIN_PART (5ull << 20)

typedef struct {
    dt_blob_store base;
    char *endpoint, *region, *bucket, *access_key, *secret_key, *cache_dir;
    char sigv4[160], userpwd[512];
    uint64_t part_size;
    unsigned list_page;
} s3_store;

typedef struct {
    char *p;
    size_t len, cap;
} membuf;

typedef struct {
    const char *method;     /* GET PUT HEAD DELETE POST */
    const char *key;        /* object key, or NULL for the bucket */
    const char *query;      /* canonical query, or NULL */
    int in_fd;              /* body from this file (pread), or -1 */
    uint64_t in_off, in_len;
    const char *in_mem;     /* or from memory (POST) */
    size_t in_mem_len;
    const char *payload_sha; /* hex; NULL: the empty body's */
    int out_fd;             /* response body to this file, or -1: to memory */
    EVP_MD_CTX *out_md;     /* hashes what goes to out_fd */
    /* results */
    long status;
    curl_off_t length;
    char etag[128];
    membuf body;
    int write_err;
    CURL *curl;
} s3_req;

static s3_store *S(dt_blob_store *bs)
{
    return (s3_store *)bs;
}

static int buf_add(membuf *b, const void *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        if (cap > (64u << 20))
            return -1; /* no answer we parse is that large */
        char *q = realloc(b->p, cap);
        if (!q)
            return -1;
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = 0;
    return 0;
}

static size_t on_write(char *ptr, size_t size, size_t n, void *arg)
{
    s3_req *r = arg;
    size_t len = size * n;
    long code = 0;
    curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &code);
    if (r->out_fd >= 0 && code / 100 == 2) {
        size_t done = 0;
        while (done < len) {
            ssize_t w = write(r->out_fd, ptr + done, len - done);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                r->write_err = w < 0 ? errno : ENOSPC;
                return 0;
            }
            done += (size_t)w;
        }
        if (r->out_md)
            EVP_DigestUpdate(r->out_md, ptr, len);
        return len;
    }
    return buf_add(&r->body, ptr, len) == 0 ? len : 0;
}

static size_t on_read(char *ptr, size_t size, size_t n, void *arg)
{
    s3_req *r = arg;
    size_t want = size * n;
    if (r->in_mem) {
        if (want > r->in_mem_len)
            want = r->in_mem_len;
        memcpy(ptr, r->in_mem, want);
        r->in_mem += want;
        r->in_mem_len -= want;
        return want;
    }
    if (want > r->in_len)
        want = (size_t)r->in_len;
    if (want == 0)
        return 0;
    ssize_t got;
    do
        got = pread(r->in_fd, ptr, want, (off_t)r->in_off);
    while (got < 0 && errno == EINTR);
    if (got <= 0) {
        r->write_err = got < 0 ? errno : EIO; /* the file shrank */
        return CURL_READFUNC_ABORT;
    }
    r->in_off += (uint64_t)got;
    r->in_len -= (uint64_t)got;
    return (size_t)got;
}

static size_t on_header(char *ptr, size_t size, size_t n, void *arg)
{
    s3_req *r = arg;
    size_t len = size * n;
    if (len > 5 && strncasecmp(ptr, "etag:", 5) == 0) {
        const char *v = ptr + 5;
        while (*v == ' ')
            v++;
        size_t vl = len - (size_t)(v - ptr);
        while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
            vl--;
        if (vl < sizeof r->etag) {
            memcpy(r->etag, v, vl);
            r->etag[vl] = 0;
        }
    }
    return len;
}

/* RFC 3986 unreserved kept, the rest %XX: what SigV4's canonical query wants. */
static void pct(const char *in, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p && o + 4 < cap; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
            *p == '_' || *p == '.' || *p == '~') {
            out[o++] = (char)*p;
        } else {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    out[o] = 0;
}

static xmlNode *child(xmlNode *n, const char *name)
{
    for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, name) == 0)
            return c;
    return NULL;
}

/* The text of n's child called name, copied into out ("" when absent). */
static void child_text(xmlNode *n, const char *name, char *out, size_t cap)
{
    out[0] = 0;
    xmlNode *c = child(n, name);
    if (!c)
        return;
    xmlChar *t = xmlNodeGetContent(c);
    if (t) {
        snprintf(out, cap, "%s", (const char *)t);
        xmlFree(t);
    }
}

static xmlDoc *parse(const membuf *b)
{
    if (!b->p || b->len == 0)
        return NULL;
    return xmlReadMemory(b->p, (int)b->len, "s3.xml", NULL, XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOERROR |
                                                              XML_PARSE_NOWARNING);
}

/* Sets err from a failed answer: the status and S3's <Code>/<Message>. */
static dt_status req_error(dt_error *err, const s3_req *r, const char *what)
{
    char code[128] = "", msg[160] = "";
    xmlDoc *d = parse(&r->body);
    xmlNode *root = d ? xmlDocGetRootElement(d) : NULL;
    if (root && strcmp((const char *)root->name, "Error") == 0) {
        child_text(root, "Code", code, sizeof code);
        child_text(root, "Message", msg, sizeof msg);
    }
    if (d)
        xmlFreeDoc(d);
    return dt_error_set(err, r->status == 404 ? DT_ERR_NOT_FOUND : DT_ERR_IO, "S3 %s %.80s: HTTP %ld %s%s%s", r->method,
                        what, r->status, code[0] ? code : "(no S3 error code)", msg[0] ? ": " : "", msg);
}

/* Runs one signed request; DT_OK when an answer came (any status: the
 * caller decides), else err says what the transfer lacked. */
static dt_status run(s3_store *s, s3_req *r, dt_error *err)
{
    char url[2048], key_enc[600] = "";
    if (r->key) {
        /* Keys are ours (blobs/ab/hex, probe names): '/' stays literal. */
        snprintf(key_enc, sizeof key_enc, "/%s", r->key);
    }
    snprintf(url, sizeof url, "%s/%s%s%s%s", s->endpoint, s->bucket, key_enc, r->query ? "?" : "",
             r->query ? r->query : "");
    CURL *c = curl_easy_init();
    if (!c)
        return dt_error_set(err, DT_ERR_NOMEM, "S3: curl_easy_init failed");
    r->curl = c;
    char hdr[128];
    snprintf(hdr, sizeof hdr, "x-amz-content-sha256: %s", r->payload_sha ? r->payload_sha : S3_EMPTY_SHA);
    struct curl_slist *h = curl_slist_append(NULL, hdr);
    /* No "Expect:" to drop 100-continue: libcurl 7.88 would sign the
     * removed header, and the server would not see it. */
    if (strcmp(r->method, "POST") == 0)
        h = curl_slist_append(h, "Content-Type: application/xml");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_AWS_SIGV4, s->sigv4);
    curl_easy_setopt(c, CURLOPT_USERPWD, s->userpwd);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    /* No total timeout (a 5 GiB part takes what it takes); a stalled
     * transfer is one moving under 1 KiB/s for 60 s. */
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    if (strcmp(r->method, "HEAD") == 0) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (strcmp(r->method, "PUT") == 0) {
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(c, CURLOPT_READDATA, r);
        curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)(r->in_mem ? r->in_mem_len : r->in_len));
    } else if (strcmp(r->method, "POST") == 0) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(c, CURLOPT_READDATA, r);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(r->in_mem ? r->in_mem_len : 0));
    } else if (strcmp(r->method, "GET") != 0) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, r->method);
    }
    CURLcode rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_easy_getinfo(c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &r->length);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    r->curl = NULL;
    if (r->write_err)
        return dt_error_set(err, DT_ERR_IO, "S3 %s %.80s: local file: %s", r->method, r->key ? r->key : s->bucket,
                            strerror(r->write_err));
    if (rc != CURLE_OK)
        return dt_error_set(err, DT_ERR_IO, "S3 %s %.80s: %s", r->method, r->key ? r->key : s->bucket,
                            curl_easy_strerror(rc));
    return DT_OK;
}

static void req_init(s3_req *r, const char *method, const char *key)
{
    memset(r, 0, sizeof *r);
    r->method = method;
    r->key = key;
    r->in_fd = -1;
    r->out_fd = -1;
    r->length = -1;
}

static void req_done(s3_req *r)
{
    free(r->body.p);
    r->body.p = NULL;
}

static int is_sha(const char *s)
{
    return s && strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

static void obj_key(const char *sha, char *out, size_t cap)
{
    snprintf(out, cap, "blobs/%.2s/%.64s", sha, sha);
}

static void cache_path(s3_store *s, const char *sha, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%.2s/%.64s", s->cache_dir, sha, sha);
}

static void fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

static int hex_digest(EVP_MD_CTX *md, char out[65])
{
    unsigned char d[32];
    unsigned int n = 0;
    if (EVP_DigestFinal_ex(md, d, &n) != 1 || n != 32)
        return -1;
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
    return 0;
}

/* HEAD: *found 0 when absent, else *size is the object's Content-Length. */
static dt_status head(s3_store *s, const char *sha, int *found, uint64_t *size, dt_error *err)
{
    char key[128];
    obj_key(sha, key, sizeof key);
    s3_req r;
    req_init(&r, "HEAD", key);
    dt_status rc = run(s, &r, err);
    *found = 0;
    if (rc == DT_OK) {
        if (r.status == 200) {
            *found = 1;
            *size = r.length >= 0 ? (uint64_t)r.length : 0;
        } else if (r.status != 404) {
            rc = req_error(err, &r, key);
        }
    }
    req_done(&r);
    return rc;
}

static int s3_exists(dt_blob_store *bs, const char *sha256, uint64_t size)
{
    int found = 0;
    uint64_t got = 0;
    if (!is_sha(sha256) || head(S(bs), sha256, &found, &got, NULL) != DT_OK)
        return 0;
    return found && got == size;
}

static dt_status hash_range(int fd, uint64_t off, uint64_t len, char out[65], dt_error *err)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(md);
        return dt_error_set(err, DT_ERR_NOMEM, "S3: no SHA-256 context");
    }
    enum { BUF = 1 << 16 };
    char *buf = malloc(BUF);
    if (!buf) {
        EVP_MD_CTX_free(md);
        return dt_error_set(err, DT_ERR_NOMEM, "S3: no memory");
    }
    while (len) {
        size_t want = len < BUF ? (size_t)len : BUF;
        ssize_t n = pread(fd, buf, want, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            free(buf);
            EVP_MD_CTX_free(md);
            return dt_error_set(err, DT_ERR_IO, "S3: cannot read a part: %s", n < 0 ? strerror(errno) : "short file");
        }
        EVP_DigestUpdate(md, buf, (size_t)n);
        off += (uint64_t)n;
        len -= (uint64_t)n;
    }
    free(buf);
    int bad = hex_digest(md, out);
    EVP_MD_CTX_free(md);
    return bad ? dt_error_set(err, DT_ERR_IO, "S3: SHA-256 failed") : DT_OK;
}

static void abort_multipart(s3_store *s, const char *key, const char *upload_id_enc)
{
    char q[700];
    snprintf(q, sizeof q, "uploadId=%s", upload_id_enc);
    s3_req r;
    req_init(&r, "DELETE", key);
    r.query = q;
    run(s, &r, NULL);
    req_done(&r);
}

/* CreateMultipartUpload, one UploadPart per part_size (each signed with
 * its own SHA-256, so the server checks every byte), CompleteMultipartUpload
 * listing the ETags; aborted on any failure so no parts linger. */
static dt_status put_multipart(s3_store *s, int fd, const char *key, uint64_t size, dt_error *err)
{
    s3_req r;
    req_init(&r, "POST", key);
    r.query = "uploads=";
    r.in_mem = "";
    dt_status rc = run(s, &r, err);
    if (rc == DT_OK && r.status != 200)
        rc = req_error(err, &r, key);
    char upload_id[512] = "";
    if (rc == DT_OK) {
        xmlDoc *d = parse(&r.body);
        xmlNode *root = d ? xmlDocGetRootElement(d) : NULL;
        if (root)
            child_text(root, "UploadId", upload_id, sizeof upload_id);
        if (d)
            xmlFreeDoc(d);
        if (!upload_id[0])
            rc = dt_error_set(err, DT_ERR_IO, "S3 POST %.80s?uploads: no UploadId in the answer", key);
    }
    req_done(&r);
    if (rc != DT_OK)
        return rc;
    char id_enc[1600];
    pct(upload_id, id_enc, sizeof id_enc);
    uint64_t nparts = (size + s->part_size - 1) / s->part_size;
    if (nparts > 10000) {
        abort_multipart(s, key, id_enc);
        return dt_error_set(err, DT_ERR_UNSUPPORTED, "S3: %llu parts needed, at most 10000: raise the part size",
                            (unsigned long long)nparts);
    }
    membuf done = {0};
    int bad = buf_add(&done, "<CompleteMultipartUpload>", 25);
    for (uint64_t i = 0; i < nparts && !bad; i++) {
        uint64_t off = i * s->part_size, len = size - off < s->part_size ? size - off : s->part_size;
        char part_sha[65], q[1800];
        if (hash_range(fd, off, len, part_sha, err) != DT_OK) {
            bad = 1;
            break;
        }
        snprintf(q, sizeof q, "partNumber=%llu&uploadId=%s", (unsigned long long)(i + 1), id_enc);
        req_init(&r, "PUT", key);
        r.query = q;
        r.in_fd = fd;
        r.in_off = off;
        r.in_len = len;
        r.payload_sha = part_sha;
        rc = run(s, &r, err);
        if (rc == DT_OK && r.status != 200)
            rc = req_error(err, &r, key);
        if (rc == DT_OK && !r.etag[0])
            rc = dt_error_set(err, DT_ERR_IO, "S3 PUT %.80s part %llu: no ETag", key, (unsigned long long)(i + 1));
        if (rc == DT_OK) {
            char part[300];
            int n = snprintf(part, sizeof part, "<Part><PartNumber>%llu</PartNumber><ETag>%s</ETag></Part>",
                             (unsigned long long)(i + 1), r.etag);
            bad = buf_add(&done, part, (size_t)n) != 0;
            if (bad)
                dt_error_set(err, DT_ERR_NOMEM, "S3: no memory for the part list");
        } else {
            bad = 1;
        }
        req_done(&r);
    }
    if (!bad && buf_add(&done, "</CompleteMultipartUpload>", 26) != 0)
        bad = dt_error_set(err, DT_ERR_NOMEM, "S3: no memory for the part list") != DT_OK;
    if (bad) {
        free(done.p);
        abort_multipart(s, key, id_enc);
        return err && err->code ? err->code : DT_ERR_IO;
    }
    char body_sha[65];
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 || EVP_DigestUpdate(md, done.p, done.len) != 1 ||
        hex_digest(md, body_sha) != 0) {
        EVP_MD_CTX_free(md);
        free(done.p);
        abort_multipart(s, key, id_enc);
        return dt_error_set(err, DT_ERR_NOMEM, "S3: SHA-256 failed");
    }
    EVP_MD_CTX_free(md);
    char q[1700];
    snprintf(q, sizeof q, "uploadId=%s", id_enc);
    req_init(&r, "POST", key);
    r.query = q;
    r.in_mem = done.p;
    r.in_mem_len = done.len;
    r.payload_sha = body_sha;
    rc = run(s, &r, err);
    /* CompleteMultipartUpload may answer 200 with an <Error> body. */
    if (rc == DT_OK) {
        xmlDoc *d = parse(&r.body);
        xmlNode *root = d ? xmlDocGetRootElement(d) : NULL;
        int is_err = root && strcmp((const char *)root->name, "Error") == 0;
        if (d)
            xmlFreeDoc(d);
        if (r.status != 200 || is_err)
            rc = req_error(err, &r, key);
    }
    req_done(&r);
    free(done.p);
    if (rc != DT_OK)
        abort_multipart(s, key, id_enc);
    return rc;
}

static dt_status upload(s3_store *s, const char *path, const char *sha256, uint64_t size, dt_error *err)
{
    if (!is_sha(sha256))
        return dt_error_set(err, DT_ERR_ARG, "not a SHA-256: %.80s", sha256 ? sha256 : "(null)");
    int found = 0;
    uint64_t got = 0;
    if (head(s, sha256, &found, &got, err) != DT_OK)
        return err && err->code ? err->code : DT_ERR_IO;
    if (found && got == size)
        return DT_OK; /* identical content is already stored */
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return dt_error_set(err, DT_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || (uint64_t)sb.st_size != size) {
        close(fd);
        return dt_error_set(err, DT_ERR_ARG, "S3: %s is not %llu bytes", path, (unsigned long long)size);
    }
    char key[128];
    obj_key(sha256, key, sizeof key);
    dt_status rc;
    if (size > s->part_size) {
        rc = put_multipart(s, fd, key, size, err);
    } else {
        s3_req r;
        req_init(&r, "PUT", key);
        r.in_fd = fd;
        r.in_len = size;
        r.payload_sha = sha256; /* the server hashes the body and refuses a mismatch */
        rc = run(s, &r, err);
        if (rc == DT_OK && r.status != 200)
            rc = req_error(err, &r, key);
        req_done(&r);
    }
    close(fd);
    return rc;
}

static int ensure_dir(const char *p)
{
    return mkdir(p, 0750) == 0 || errno == EEXIST ? 0 : -1;
}

/* Moves a stored file into the cache (same filesystem: a rename), so the
 * analysis right after an upload reads it without a download. */
static void keep_in_cache(s3_store *s, const char *path, const char *sha256)
{
    char dir[1200], dst[1300];
    snprintf(dir, sizeof dir, "%s/%.2s", s->cache_dir, sha256);
    cache_path(s, sha256, dst, sizeof dst);
    if (ensure_dir(s->cache_dir) != 0 || ensure_dir(dir) != 0 || rename(path, dst) != 0)
        unlink(path);
}

static dt_status s3_put_file(dt_blob_store *bs, const char *path, const char *sha256, uint64_t size, dt_error *err)
{
    dt_status rc = upload(S(bs), path, sha256, size, err);
    if (rc == DT_OK)
        keep_in_cache(S(bs), path, sha256);
    return rc;
}

static dt_status s3_put_copy(dt_blob_store *bs, const char *path, const char *sha256, uint64_t size, dt_error *err)
{
    return upload(S(bs), path, sha256, size, err);
}

static dt_status s3_put_stream(dt_blob_store *bs, int fd, char sha256[65], uint64_t *size, dt_error *err)
{
    s3_store *s = S(bs);
    if (ensure_dir(s->cache_dir) != 0)
        return dt_error_set(err, DT_ERR_IO, "cannot create %s: %s", s->cache_dir, strerror(errno));
    dt_spool sp;
    if (dt_spool_open_in(&sp, s->cache_dir, 0, err) != DT_OK)
        return DT_ERR_IO;
    if (dt_spool_write_from(&sp, fd, err) != DT_OK)
        return DT_ERR_IO;
    uint64_t total = sp.size;
    if (dt_spool_place(&sp, bs, sha256, err) != DT_OK)
        return err && err->code ? err->code : DT_ERR_IO;
    if (size)
        *size = total;
    return DT_OK;
}

/* GETs the object into a temp file next to its cache name, checks its
 * SHA-256 (the name is the hash: a copy that is not it is never kept),
 * fsyncs and renames it into place. */
static int s3_local_path(dt_blob_store *bs, const char *sha256, char *out, size_t len, dt_error *err)
{
    s3_store *s = S(bs);
    if (!is_sha(sha256)) {
        dt_error_set(err, DT_ERR_ARG, "not a SHA-256");
        return -1;
    }
    int found = 0;
    uint64_t size = 0;
    if (head(s, sha256, &found, &size, err) != DT_OK)
        return -1;
    if (!found) {
        dt_error_set(err, DT_ERR_NOT_FOUND, "S3: blob %.12s… is not in the bucket", sha256);
        return -1;
    }
    char dst[1300], dir[1200], tmp[1400];
    cache_path(s, sha256, dst, sizeof dst);
    if (strlen(dst) >= len) {
        dt_error_set(err, DT_ERR_ARG, "cache path too long");
        return -1;
    }
    struct stat sb;
    if (stat(dst, &sb) == 0 && (uint64_t)sb.st_size == size) {
        snprintf(out, len, "%s", dst);
        return 0;
    }
    snprintf(dir, sizeof dir, "%s/%.2s", s->cache_dir, sha256);
    if (ensure_dir(s->cache_dir) != 0 || ensure_dir(dir) != 0) {
        dt_error_set(err, DT_ERR_IO, "cannot create %s: %s", dir, strerror(errno));
        return -1;
    }
    snprintf(tmp, sizeof tmp, "%s.get-XXXXXX", dst);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        dt_error_set(err, DT_ERR_IO, "cannot create %s: %s", tmp, strerror(errno));
        return -1;
    }
    char key[128];
    obj_key(sha256, key, sizeof key);
    s3_req r;
    req_init(&r, "GET", key);
    r.out_fd = fd;
    r.out_md = EVP_MD_CTX_new();
    dt_status rc = r.out_md && EVP_DigestInit_ex(r.out_md, EVP_sha256(), NULL) == 1
                       ? run(s, &r, err)
                       : dt_error_set(err, DT_ERR_NOMEM, "S3: no SHA-256 context");
    if (rc == DT_OK && r.status != 200)
        rc = req_error(err, &r, key);
    char got[65] = "";
    if (rc == DT_OK && (hex_digest(r.out_md, got) != 0 || strcmp(got, sha256) != 0))
        rc = dt_error_set(err, DT_ERR_CORRUPT, "S3 GET %s: the bytes hash to %.12s…", key, got);
    if (rc == DT_OK && fsync(fd) != 0)
        rc = dt_error_set(err, DT_ERR_IO, "cannot fsync %s: %s", tmp, strerror(errno));
    EVP_MD_CTX_free(r.out_md);
    req_done(&r);
    close(fd);
    if (rc == DT_OK && rename(tmp, dst) != 0)
        rc = dt_error_set(err, DT_ERR_IO, "cannot rename into %s: %s", dst, strerror(errno));
    if (rc != DT_OK) {
        unlink(tmp);
        return -1;
    }
    fsync_dir(dir);
    snprintf(out, len, "%s", dst);
    return 0;
}

static int s3_open_read(dt_blob_store *bs, const char *sha256, dt_error *err)
{
    char p[1300];
    if (s3_local_path(bs, sha256, p, sizeof p, err) != 0)
        return -1;
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        dt_error_set(err, DT_ERR_IO, "cannot open %s: %s", p, strerror(errno));
    return fd;
}

static dt_status s3_remove(dt_blob_store *bs, const char *sha256, dt_error *err)
{
    s3_store *s = S(bs);
    if (!is_sha(sha256))
        return dt_error_set(err, DT_ERR_ARG, "not a SHA-256");
    char key[128], cp[1300];
    obj_key(sha256, key, sizeof key);
    s3_req r;
    req_init(&r, "DELETE", key);
    dt_status rc = run(s, &r, err);
    if (rc == DT_OK && r.status != 204 && r.status != 200 && r.status != 404)
        rc = req_error(err, &r, key);
    req_done(&r);
    if (rc == DT_OK) {
        cache_path(s, sha256, cp, sizeof cp);
        unlink(cp);
    }
    return rc;
}

/* "2026-12-05T20:18:07.000Z" -> Unix seconds; 0 when unreadable. */
static int64_t parse_time(const char *t)
{
    struct tm tm = {0};
    if (sscanf(t, "%d-%d-%dT%d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) !=
        6)
        return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm);
}

static dt_status s3_list(dt_blob_store *bs, dt_blob_visit visit, void *arg, dt_error *err)
{
    s3_store *s = S(bs);
    char token[1024] = "", q[3400], page[32] = "";
    if (s->list_page)
        snprintf(page, sizeof page, "&max-keys=%u", s->list_page);
    for (;;) {
        /* keys in sorted order: continuation-token, list-type, max-keys, prefix */
        if (token[0]) {
            char enc[3100];
            pct(token, enc, sizeof enc);
            snprintf(q, sizeof q, "continuation-token=%s&list-type=2%s&prefix=blobs%%2F", enc, page);
        } else {
            snprintf(q, sizeof q, "list-type=2%s&prefix=blobs%%2F", page);
        }
        s3_req r;
        req_init(&r, "GET", NULL);
        r.query = q;
        dt_status rc = run(s, &r, err);
        if (rc == DT_OK && r.status != 200)
            rc = req_error(err, &r, s->bucket);
        xmlDoc *d = rc == DT_OK ? parse(&r.body) : NULL;
        xmlNode *root = d ? xmlDocGetRootElement(d) : NULL;
        if (rc == DT_OK && (!root || strcmp((const char *)root->name, "ListBucketResult") != 0))
            rc = dt_error_set(err, DT_ERR_FORMAT, "S3 list %.80s: not a ListBucketResult", s->bucket);
        req_done(&r);
        int stop = 0;
        for (xmlNode *c = rc == DT_OK ? root->children : NULL; c && !stop; c = c->next) {
            if (c->type != XML_ELEMENT_NODE || strcmp((const char *)c->name, "Contents") != 0)
                continue;
            char key[300], lm[64];
            child_text(c, "Key", key, sizeof key);
            child_text(c, "LastModified", lm, sizeof lm);
            /* blobs/ab/<sha>: anything else in the prefix is not ours */
            if (strlen(key) != 6 + 3 + 64 || key[8] != '/' || !is_sha(key + 9) || strncmp(key + 6, key + 9, 2) != 0)
                continue;
            stop = visit(key + 9, parse_time(lm), arg);
        }
        char trunc[16] = "";
        token[0] = 0;
        if (rc == DT_OK && !stop) {
            child_text(root, "IsTruncated", trunc, sizeof trunc);
            if (strcmp(trunc, "true") == 0)
                child_text(root, "NextContinuationToken", token, sizeof token);
        }
        if (d)
            xmlFreeDoc(d);
        if (rc != DT_OK)
            return rc;
        if (stop || !token[0])
            return DT_OK;
    }
}

/* A probe object is written (its hash checked by the server), read back
 * and deleted: credentials, bucket, and the gateway's write path all
 * answer, not just its TCP port. */
static dt_status s3_check(dt_blob_store *bs, dt_error *err)
{
    s3_store *s = S(bs);
    static const char probe[] = "dumptriage readiness probe\n";
    char key[128], sha[65];
    snprintf(key, sizeof key, "probe/ready-%ld-%ld", (long)getpid(), (long)time(NULL));
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 || EVP_DigestUpdate(md, probe, sizeof probe - 1) != 1 ||
        hex_digest(md, sha) != 0) {
        EVP_MD_CTX_free(md);
        return dt_error_set(err, DT_ERR_NOMEM, "S3: SHA-256 failed");
    }
    EVP_MD_CTX_free(md);
    s3_req r;
    req_init(&r, "PUT", key);
    r.in_mem = probe;
    r.in_mem_len = sizeof probe - 1;
    r.payload_sha = sha;
    dt_status rc = run(s, &r, err);
    if (rc == DT_OK && r.status != 200)
        rc = req_error(err, &r, key);
    req_done(&r);
    if (rc != DT_OK)
        return rc;
    req_init(&r, "GET", key);
    rc = run(s, &r, err);
    if (rc == DT_OK && r.status != 200)
        rc = req_error(err, &r, key);
    if (rc == DT_OK && (r.body.len != sizeof probe - 1 || memcmp(r.body.p, probe, sizeof probe - 1) != 0))
        rc = dt_error_set(err, DT_ERR_IO, "S3 GET %s: other bytes than were written", key);
    req_done(&r);
    s3_req del;
    req_init(&del, "DELETE", key);
    dt_status drc = run(s, &del, rc == DT_OK ? err : NULL);
    if (rc == DT_OK && drc == DT_OK && del.status != 204 && del.status != 200)
        drc = req_error(err, &del, key);
    req_done(&del);
    return rc != DT_OK ? rc : drc;
}

static void s3_free(dt_blob_store *bs)
{
    s3_store *s = S(bs);
    if (!s)
        return;
    free(s->endpoint);
    free(s->region);
    free(s->bucket);
    free(s->access_key);
    if (s->secret_key) {
        memset(s->secret_key, 0, strlen(s->secret_key));
        free(s->secret_key);
    }
    memset(s->userpwd, 0, sizeof s->userpwd);
    free(s->cache_dir);
    free(s);
    curl_global_cleanup();
}

static const dt_blob_ops s3_ops = {
    .name = "s3",
    .put_file = s3_put_file,
    .put_copy = s3_put_copy,
    .put_stream = s3_put_stream,
    .open_read = s3_open_read,
    .local_path = s3_local_path,
    .exists = s3_exists,
    .remove = s3_remove,
    .list = s3_list,
    .check = s3_check,
    .free = s3_free,
};

static char *dup_or_null(const char *v)
{
    return v ? strdup(v) : NULL;
}

dt_blob_store *dt_blob_store_s3(const dt_blob_s3_config *cfg, dt_error *err)
{
    if (!cfg || !cfg->endpoint || !cfg->bucket || !cfg->access_key || !cfg->secret_key || !cfg->cache_dir ||
        !cfg->endpoint[0] || !cfg->access_key[0] || !cfg->secret_key[0] || !cfg->cache_dir[0]) {
        dt_error_set(err, DT_ERR_ARG, "S3 store: endpoint, bucket, access key, secret key and cache directory needed");
        return NULL;
    }
    size_t bl = strlen(cfg->bucket);
    if (bl < 3 || bl > 63 || strspn(cfg->bucket, "abcdefghijklmnopqrstuvwxyz0123456789-.") != bl) {
        dt_error_set(err, DT_ERR_ARG, "S3 bucket name '%.80s': 3-63 of a-z 0-9 . -", cfg->bucket);
        return NULL;
    }
    if (strncmp(cfg->endpoint, "http://", 7) != 0 && strncmp(cfg->endpoint, "https://", 8) != 0) {
        dt_error_set(err, DT_ERR_ARG, "S3 endpoint '%.80s': an http:// or https:// URL", cfg->endpoint);
        return NULL;
    }
    if (cfg->part_size && cfg->part_size < S3_MIN_PART) {
        dt_error_set(err, DT_ERR_ARG, "S3 part size: at least 5 MiB (S3's smallest part)");
        return NULL;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        dt_error_set(err, DT_ERR_IO, "S3: curl_global_init failed");
        return NULL;
    }
    s3_store *s = calloc(1, sizeof *s);
    if (!s) {
        curl_global_cleanup();
        dt_error_set(err, DT_ERR_NOMEM, "S3 store: no memory");
        return NULL;
    }
    s->base.ops = &s3_ops;
    s->endpoint = dup_or_null(cfg->endpoint);
    s->region = dup_or_null(cfg->region && cfg->region[0] ? cfg->region : "us-east-1");
    s->bucket = dup_or_null(cfg->bucket);
    s->access_key = dup_or_null(cfg->access_key);
    s->secret_key = dup_or_null(cfg->secret_key);
    s->cache_dir = dup_or_null(cfg->cache_dir);
    s->part_size = cfg->part_size ? cfg->part_size : S3_DEFAULT_PART;
    s->list_page = cfg->list_page;
    if (!s->endpoint || !s->region || !s->bucket || !s->access_key || !s->secret_key || !s->cache_dir) {
        s3_free(&s->base);
        dt_error_set(err, DT_ERR_NOMEM, "S3 store: no memory");
        return NULL;
    }
    size_t el = strlen(s->endpoint);
    while (el > 0 && s->endpoint[el - 1] == '/')
        s->endpoint[--el] = 0;
    snprintf(s->sigv4, sizeof s->sigv4, "aws:amz:%s:s3", s->region);
    snprintf(s->userpwd, sizeof s->userpwd, "%s:%s", s->access_key, s->secret_key);
    return &s->base;
}
