/*
 * config.c — flags and environment of `dumptriage serve`.
 *
 * One table drives parsing, the environment names and --help, so the three
 * cannot drift apart: every `--some-flag` may also be given as
 * DT_SOME_FLAG in the environment; a flag on the command line wins.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef enum { OPT_STR, OPT_UINT, OPT_SIZE, OPT_LISTEN, OPT_AUTH, OPT_FLAG, OPT_SYMBOLS } opt_type;

typedef struct {
    const char *name;
    opt_type type;
    size_t offset;
    size_t size;
    const char *help;
} opt_def;

#define O(f) offsetof(dt_server_config, f), sizeof(((dt_server_config *)0)->f)

static const opt_def options[] = {
    { "listen", OPT_LISTEN, O(listen_host), "HOST:PORT to listen on (default 127.0.0.1:8080)" },
    { "data-dir", OPT_STR, O(data_dir), "directory for the SQLite file, blobs and temp files (default ./data)" },
    { "database", OPT_STR, O(database), "the store: a SQLite file (default DATA_DIR/dumptriage.sqlite) or a postgresql:// URL" },
    { "blob-dir", OPT_STR, O(blob_dir), "blobs and temp files, shared by every server and worker of one store (default: --data-dir)" },
    { "blob-store", OPT_STR, O(blob_store), "where blobs live: fs (under --blob-dir) or s3 (--s3-endpoint, --s3-bucket; keys from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, never flags) (default fs)" },
    { "s3-endpoint", OPT_STR, O(s3_endpoint), "with --blob-store s3: the S3-compatible server, http(s)://HOST:PORT (path-style requests)" },
    { "s3-bucket", OPT_STR, O(s3_bucket), "with --blob-store s3: the bucket (it must exist)" },
    { "s3-region", OPT_STR, O(s3_region), "with --blob-store s3: the SigV4 region (default us-east-1)" },
    { "metrics-listen", OPT_STR, O(metrics_listen), "worker only: HOST:PORT serving /healthz, /readyz and /metrics (staff token); default none" },
    { "web-dir", OPT_STR, O(web_dir), "static web pages (default: the source tree's web/, else /usr/share/dumptriage/web)" },
    { "migrations-dir", OPT_STR, O(migrations_dir), "SQL migrations (default: the source tree's migrations/, else /usr/share/dumptriage/migrations)" },
    { "analyzer", OPT_STR, O(analyzer), "analyzer binary run as `BIN analyze …` (default: the `dumptriage` beside `dumptriage-server`)" },
    { "workers", OPT_UINT, O(workers), "analysis workers running at once (default 2; serve --workers 0: receive and serve only, `worker` processes analyse)" },
    { "max-part-size", OPT_SIZE, O(max_part_size), "largest file in one upload, e.g. 8G (default 16G)" },
    { "max-request-size", OPT_SIZE, O(max_request_size), "largest upload request after decoding (default 32G)" },
    { "max-unpacked-size", OPT_SIZE, O(max_unpacked_size), "largest total unpacked from one archive (default 32G)" },
    { "max-archive-entries", OPT_UINT, O(max_archive_entries), "most entries read from one archive (default 64)" },
    { "max-archive-ratio", OPT_UINT, O(max_archive_ratio), "largest unpacked:packed ratio of an archive, a gzip-encoded body or a .dmp.gz (default 200)" },
    { "max-entry-ratio", OPT_UINT, O(max_entry_ratio), "largest unpacked:compressed ratio of one archive entry (default 1000)" },
    { "max-archive-nesting", OPT_UINT, O(max_archive_nesting), "most compression layers around an archive, e.g. 1 for .tar.gz (default 2)" },
    { "unpack-memory", OPT_SIZE, O(unpack_memory), "address space of the child that unpacks an archive or .dmp.gz (default 1G)" },
    { "unpack-cpu", OPT_UINT, O(unpack_cpu), "CPU seconds of one unpacking child (default 1800)" },
    { "unpack-timeout", OPT_UINT, O(unpack_timeout), "wall-clock seconds of one unpacking child (default 1800)" },
    { "min-free-space", OPT_SIZE, O(min_free_space), "free space kept on the data disk; uploads get 507 below it (default 1G)" },
    { "max-queue", OPT_UINT, O(max_queue), "queued analyses before uploads get 503 busy (default 1000)" },
    { "analysis-timeout", OPT_UINT, O(analysis_timeout), "wall-clock seconds for one analysis (default 600)" },
    { "analysis-cpu", OPT_UINT, O(analysis_cpu), "CPU seconds for one analysis, RLIMIT_CPU (default 600)" },
    { "analysis-memory", OPT_SIZE, O(analysis_memory), "address space of one analysis beyond its inputs' size, RLIMIT_AS (default 4G)" },
    { "connection-timeout", OPT_UINT, O(connection_timeout), "seconds an idle connection stays open (default 120)" },
    { "max-connections", OPT_UINT, O(max_connections), "simultaneous connections (default 512)" },
    { "max-connections-per-ip", OPT_UINT, O(max_connections_per_ip), "simultaneous connections from one address (default 32; 0: no limit)" },
    { "header-timeout", OPT_UINT, O(header_timeout), "seconds a client has to send the request line and headers, in total (default 15; 0: none)" },
    { "body-timeout", OPT_UINT, O(body_timeout), "seconds a client has to send a request body, in total (default 21600; 0: none)" },
    { "min-body-rate", OPT_SIZE, O(min_body_rate), "bytes per second a request body must average over each 20 s (default 4K; 0: none)" },
    { "upload-rate", OPT_UINT, O(upload_rate), "uploads per minute per client (token, else address); also the burst (default 600; 0: no limit)" },
    { "max-client-inflight", OPT_SIZE, O(max_client_inflight), "bytes of uploads in progress per client, beyond its first (default 64G)" },
    { "max-queue-per-client", OPT_UINT, O(max_queue_per_client), "queued analyses per client before its uploads get 429 (default: half of --max-queue; --max-queue: no share)" },
    { "auth-failures", OPT_UINT, O(auth_failures), "failed token/login/view-key guesses per client before backoff (default 20)" },
    { "auth-backoff-max", OPT_UINT, O(auth_backoff_max), "longest backoff after failed guesses, seconds (default 300)" },
    { "trust-proxy", OPT_FLAG, O(trust_proxy), "behind a reverse proxy on loopback: take the client address from X-Forwarded-For" },
    { "lease", OPT_UINT, O(job_lease), "seconds a job's lease lasts; workers renew it every third of that, so a dead worker's job is retried that long after its last renewal (default 60)" },
    { "trust-proxy-net", OPT_STR, O(trust_proxy_net), "with --trust-proxy: also believe X-Forwarded-For from peers in this IPv4 network, A.B.C.D/N (a proxy on another host or container)" },
    { "drain-grace", OPT_UINT, O(drain_grace), "seconds SIGTERM waits for running analyses before requeueing them (default 30)" },
    { "upload-auth", OPT_AUTH, O(upload_open), "open (anyone may upload) or token (uploader/staff token needed) (default open)" },
    { "admin-token", OPT_STR, O(admin_token), "staff token to create at start (otherwise one is generated and printed once)" },
    { "symbols", OPT_SYMBOLS, O(symbol_paths), "symbol directory or symbol path (A;B, srv*CACHE*URL) passed to the analyzer; repeatable" },
    { "cookie-secure", OPT_FLAG, O(cookie_secure), "mark the session cookie Secure (when served behind TLS)" },
    { "retain-dumps", OPT_UINT, O(retain_dumps_days), "days to keep uploaded dump files; older ones are deleted, reports kept (default 0: forever)" },
    { "retain-reports", OPT_UINT, O(retain_reports_days), "days to keep uploads at all; older ones are deleted with report and files (default 0: forever)" },
    { "max-dump-bytes", OPT_SIZE, O(max_dump_bytes), "total size of stored dump files; above it the oldest are deleted, reports kept (default 0: no limit)" },
    { "retention-interval", OPT_UINT, O(retention_interval), "seconds between retention sweeps; one also runs at start (default 3600)" },
    { "tus-expiry", OPT_UINT, O(tus_expiry), "seconds an unfinished resumable upload is kept after its last chunk (default 86400)" },
    { "tus-max-uploads", OPT_UINT, O(tus_max_uploads), "unfinished resumable uploads per client (default 16)" },
    { "tus-max-bytes", OPT_SIZE, O(tus_max_bytes), "declared bytes of unfinished resumable uploads per client (default 64G)" },
    { "test-hooks", OPT_FLAG, O(test_hooks), "tests only: honour DT_TEST_HOOK=crash|hang|cpu|memory in an upload's note" },
};

int dt_config_in_net(const char *cidr, uint32_t addr)
{
    unsigned a, b, c, d, n;
    char tail;
    if (sscanf(cidr, "%u.%u.%u.%u/%u%c", &a, &b, &c, &d, &n, &tail) != 5 || a > 255 || b > 255 || c > 255 || d > 255
        || n > 32)
        return -1;
    uint32_t net = (uint32_t)a << 24 | (uint32_t)b << 16 | (uint32_t)c << 8 | (uint32_t)d;
    uint32_t mask = n ? 0xffffffffu << (32 - n) : 0;
    return (addr & mask) == (net & mask);
}

static int parse_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s)
        return -1;
    uint64_t mult = 1;
    switch (toupper((unsigned char)*end)) {
    case 0: break;
    case 'K': mult = 1ull << 10; end++; break;
    case 'M': mult = 1ull << 20; end++; break;
    case 'G': mult = 1ull << 30; end++; break;
    case 'T': mult = 1ull << 40; end++; break;
    default: return -1;
    }
    if (*end == 'i' || *end == 'B')
        end++;
    if (*end == 'B')
        end++;
    if (*end)
        return -1;
    if (v > UINT64_MAX / mult)
        return -1;
    *out = v * mult;
    return 0;
}

static int set_option(dt_server_config *cfg, const opt_def *o, const char *val, char *err, size_t errlen)
{
    char *field = (char *)cfg + o->offset;
    switch (o->type) {
    case OPT_STR:
        if (strlen(val) >= o->size) {
            snprintf(err, errlen, "--%s: value too long", o->name);
            return -1;
        }
        strcpy(field, val);
        return 0;
    case OPT_UINT: {
        char *end;
        errno = 0;
        unsigned long v = strtoul(val, &end, 10);
        if (errno || end == val || *end || v > 1000000000ul) {
            snprintf(err, errlen, "--%s: not a number: %s", o->name, val);
            return -1;
        }
        if (o->size == sizeof(int))
            *(int *)field = (int)v;
        return 0;
    }
    case OPT_SIZE:
        if (parse_size(val, (uint64_t *)field) != 0) {
            snprintf(err, errlen, "--%s: not a size (like 512M, 8G): %s", o->name, val);
            return -1;
        }
        return 0;
    case OPT_LISTEN: {
        const char *colon = strrchr(val, ':');
        if (!colon || colon == val || (size_t)(colon - val) >= sizeof cfg->listen_host) {
            snprintf(err, errlen, "--listen: expected HOST:PORT, got %s", val);
            return -1;
        }
        char *end;
        unsigned long port = strtoul(colon + 1, &end, 10);
        if (*end || port > 65535 || end == colon + 1) {
            snprintf(err, errlen, "--listen: bad port in %s", val);
            return -1;
        }
        memcpy(cfg->listen_host, val, (size_t)(colon - val));
        cfg->listen_host[colon - val] = 0;
        cfg->listen_port = (unsigned)port;
        return 0;
    }
    case OPT_AUTH:
        if (strcmp(val, "open") == 0)
            cfg->upload_open = 1;
        else if (strcmp(val, "token") == 0)
            cfg->upload_open = 0;
        else {
            snprintf(err, errlen, "--upload-auth: expected open or token, got %s", val);
            return -1;
        }
        return 0;
    case OPT_FLAG:
        *(int *)field = !(strcmp(val, "0") == 0 || strcmp(val, "false") == 0 || strcmp(val, "no") == 0);
        return 0;
    case OPT_SYMBOLS:
        if (cfg->symbol_path_count >= DT_MAX_SYMBOL_PATHS || strlen(val) >= sizeof cfg->symbol_paths[0]) {
            snprintf(err, errlen, "--symbols: too many or too long");
            return -1;
        }
        strcpy(cfg->symbol_paths[cfg->symbol_path_count++], val);
        return 0;
    }
    return -1;
}

static void defaults(dt_server_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    strcpy(cfg->listen_host, "127.0.0.1");
    cfg->listen_port = 8080;
    strcpy(cfg->data_dir, "data");
    cfg->workers = 2;
    cfg->max_part_size = 16ull << 30;
    cfg->max_request_size = 32ull << 30;
    cfg->max_unpacked_size = 32ull << 30;
    cfg->max_archive_entries = 64;
    cfg->max_archive_ratio = 200;
    cfg->max_entry_ratio = 1000;
    cfg->max_archive_nesting = 2;
    cfg->unpack_memory = 1ull << 30;
    cfg->unpack_cpu = 1800;
    cfg->unpack_timeout = 1800;
    cfg->min_free_space = 1ull << 30;
    cfg->max_queue = 1000;
    cfg->analysis_timeout = 600;
    cfg->analysis_cpu = 600;
    cfg->analysis_memory = 4ull << 30;
    cfg->connection_timeout = 120;
    cfg->max_connections = 512;
    cfg->max_connections_per_ip = 32;
    cfg->header_timeout = 15;
    cfg->body_timeout = 21600;
    cfg->min_body_rate = 4096;
    cfg->upload_rate = 600;
    cfg->max_client_inflight = 64ull << 30;
    cfg->auth_failures = 20;
    cfg->auth_backoff_max = 300;
    cfg->drain_grace = 30;
    cfg->job_lease = 60;
    cfg->upload_open = 1;
    cfg->retention_interval = 3600;
    cfg->tus_expiry = 86400;
    cfg->tus_max_uploads = 16;
    cfg->tus_max_bytes = 64ull << 30;
#ifdef DT_SOURCE_DIR
    snprintf(cfg->web_dir, sizeof cfg->web_dir, "%s/web", DT_SOURCE_DIR);
    snprintf(cfg->migrations_dir, sizeof cfg->migrations_dir, "%s/migrations", DT_SOURCE_DIR);
    if (access(cfg->web_dir, R_OK) != 0)
#endif
        strcpy(cfg->web_dir, "/usr/share/dumptriage/web");
#ifdef DT_SOURCE_DIR
    if (access(cfg->migrations_dir, R_OK) != 0)
#endif
        strcpy(cfg->migrations_dir, "/usr/share/dumptriage/migrations");
}

static void env_name(const opt_def *o, char *buf, size_t len)
{
    size_t n = (size_t)snprintf(buf, len, "DT_%s", o->name);
    for (size_t i = 3; i < n && i < len; i++)
        buf[i] = buf[i] == '-' ? '_' : (char)toupper((unsigned char)buf[i]);
}

const char *dt_config_help(void)
{
    static const char head[] =
        "usage: dumptriage serve [options]\n"
        "\n"
        "Runs the triage server: web pages, the upload/JSON API, and analysis workers.\n"
        "Every option may also be set in the environment as DT_<OPTION> (upper case,\n"
        "'-' as '_', e.g. DT_DATA_DIR); the command line wins.  Sizes take K/M/G/T.\n"
        "\n"
        "options:\n";
    /* Built once into a static string: help text is constant for the process. */
    static char text[8192];
    if (!text[0]) {
        size_t off = (size_t)snprintf(text, sizeof text, "%s", head);
        for (size_t i = 0; i < sizeof options / sizeof options[0] && off < sizeof text; i++) {
            const opt_def *o = &options[i];
            const char *arg = o->type == OPT_FLAG ? "" : o->type == OPT_SIZE ? " SIZE"
                            : o->type == OPT_UINT ? " N" : o->type == OPT_LISTEN ? " HOST:PORT"
                            : o->type == OPT_AUTH ? " open|token"
                            : strcmp(o->name, "blob-store") == 0 ? " fs|s3"
                            : strcmp(o->name, "s3-endpoint") == 0 ? " URL"
                            : strncmp(o->name, "s3-", 3) == 0 ? " NAME"
                            : strstr(o->name, "dir") || o->type == OPT_SYMBOLS ? " DIR"
                            : strstr(o->name, "token") ? " TOKEN" : " PATH";
            char flag[64];
            snprintf(flag, sizeof flag, "--%s%s", o->name, arg);
            off += (size_t)snprintf(text + off, sizeof text - off, "  %-28s %s\n", flag, o->help);
        }
        if (off < sizeof text)
            snprintf(text + off, sizeof text - off,
                     "  %-28s %s\n\nSignals: SIGTERM/SIGINT stop accepting, let running analyses finish\n"
                     "within --drain-grace, requeue the rest, and exit.\n"
                     "\nHealth: GET /healthz answers 200 while the store is usable (container\n"
                     "HEALTHCHECK); GET /readyz answers 200 when the database and the blob store\n"
                     "are reachable and the server is not draining, else 503 (load balancers);\n"
                     "GET /metrics is Prometheus text (staff token).\n"
                     "\nLogs: stderr, one JSON object per line for each request, analysis job,\n"
                     "retention sweep and deletion (never tokens or view keys).\n",
                     "--help", "this text");
    }
    return text;
}

static const opt_def *find_option(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof options / sizeof options[0]; i++)
        if (strlen(options[i].name) == len && strncmp(options[i].name, name, len) == 0)
            return &options[i];
    return NULL;
}

int dt_config_parse(dt_server_config *cfg, int argc, char **argv, char *err, size_t errlen)
{
    defaults(cfg);
    for (size_t i = 0; i < sizeof options / sizeof options[0]; i++) {
        char name[64];
        env_name(&options[i], name, sizeof name);
        const char *v = getenv(name);
        if (!v || !*v)
            continue;
        /* A symbol path ("A;B", "/a:/b", "srv*C*https://…") is passed whole:
         * the analyzer's one parser (symbols/symbol_path.h) splits it; a split
         * at ':' here broke every URL. */
        if (set_option(cfg, &options[i], v, err, errlen) != 0)
            return -1;
    }
    int symbols_from_env = cfg->symbol_path_count;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
            return 1;
        if (strncmp(a, "--", 2) != 0) {
            snprintf(err, errlen, "unexpected argument: %s", a);
            return -1;
        }
        const char *name = a + 2;
        const char *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        const opt_def *o = find_option(name, nlen);
        if (!o) {
            snprintf(err, errlen, "unknown option: %s", a);
            return -1;
        }
        const char *val;
        if (eq)
            val = eq + 1;
        else if (o->type == OPT_FLAG)
            val = "1";
        else if (i + 1 < argc)
            val = argv[++i];
        else {
            snprintf(err, errlen, "--%s needs a value", o->name);
            return -1;
        }
        if (o->type == OPT_SYMBOLS && symbols_from_env) {
            cfg->symbol_path_count = 0; /* flags replace the environment's list */
            symbols_from_env = 0;
        }
        if (set_option(cfg, o, val, err, errlen) != 0)
            return -1;
    }
    if (cfg->workers < 0 || cfg->workers > 64) {
        snprintf(err, errlen, "--workers must be 0..64");
        return -1;
    }
    if (cfg->retention_interval < 1) {
        snprintf(err, errlen, "--retention-interval must be at least 1");
        return -1;
    }
    if (cfg->retain_reports_days && cfg->retain_dumps_days > cfg->retain_reports_days) {
        snprintf(err, errlen, "--retain-dumps cannot exceed --retain-reports (a report outlives its dumps, not the reverse)");
        return -1;
    }
    if (cfg->analysis_timeout < 1) {
        snprintf(err, errlen, "--analysis-timeout must be at least 1");
        return -1;
    }
    if (cfg->job_lease < 3) {
        snprintf(err, errlen, "--lease must be at least 3 (seconds)");
        return -1;
    }
    if (cfg->blob_store[0] && strcmp(cfg->blob_store, "fs") != 0 && strcmp(cfg->blob_store, "s3") != 0) {
        snprintf(err, errlen, "--blob-store: expected fs or s3, got %s", cfg->blob_store);
        return -1;
    }
    if (strcmp(cfg->blob_store, "s3") == 0 && (!cfg->s3_endpoint[0] || !cfg->s3_bucket[0])) {
        snprintf(err, errlen, "--blob-store s3 needs --s3-endpoint and --s3-bucket");
        return -1;
    }
    if (cfg->trust_proxy_net[0] && dt_config_in_net(cfg->trust_proxy_net, 0) < 0) {
        snprintf(err, errlen, "--trust-proxy-net: expected an IPv4 network A.B.C.D/N, got %s", cfg->trust_proxy_net);
        return -1;
    }
    /* The store defaults to the SQLite file in --data-dir; every file path
     * of the server is under data_dir, so --blob-dir (where the files live
     * when the store is elsewhere) becomes it. */
    if (!cfg->database[0] && (size_t)snprintf(cfg->database, sizeof cfg->database, "%s/dumptriage.sqlite", cfg->data_dir)
                                 >= sizeof cfg->database) {
        snprintf(err, errlen, "--data-dir: path too long");
        return -1;
    }
    if (cfg->blob_dir[0])
        snprintf(cfg->data_dir, sizeof cfg->data_dir, "%s", cfg->blob_dir);
    return 0;
}
