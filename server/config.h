/*
 * config.h — everything `dumptriage serve` can be told, from flags and the
 * environment (flags win).  One struct, filled once at start, read-only after.
 */
#ifndef DT_SERVER_CONFIG_H
#define DT_SERVER_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define DT_MAX_SYMBOL_PATHS 8

typedef struct {
    char listen_host[256];       /* --listen HOST:PORT (default 127.0.0.1:8080) */
    unsigned listen_port;
    char data_dir[1024];         /* --data-dir (default ./data); after parsing, the root of the
                                    files every process shares (blobs, tmp, tus, locks): --blob-dir if given */
    char blob_dir[1024];         /* --blob-dir (default: --data-dir), the shared file root */
    char blob_store[8];          /* --blob-store fs|s3 (default fs); s3 keys from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY */
    char s3_endpoint[512];       /* --s3-endpoint http(s)://HOST:PORT (path-style) */
    char s3_bucket[64];          /* --s3-bucket */
    char s3_region[64];          /* --s3-region (default us-east-1) */
    char metrics_listen[280];    /* --metrics-listen HOST:PORT (worker): /healthz, /readyz, /metrics */
    char database[1024];         /* --database: a SQLite file path (default DATA_DIR/dumptriage.sqlite)
                                    or a postgresql:// URL */
    char web_dir[1024];          /* --web-dir (default source tree web/ or /usr/share/dumptriage/web) */
    char migrations_dir[1024];   /* --migrations-dir */
    char analyzer[1024];         /* --analyzer (default: the sibling dumptriage of /proc/self/exe) */
    int workers;                 /* --workers (serve: 0 = receive and serve only) */
    uint64_t max_part_size;      /* --max-part-size bytes, one file of an upload */
    uint64_t max_request_size;   /* --max-request-size bytes, one whole request (decompressed) */
    uint64_t max_unpacked_size;  /* --max-unpacked-size bytes, all entries of one archive */
    unsigned max_archive_entries;/* --max-archive-entries */
    unsigned max_archive_ratio;  /* --max-archive-ratio (unpacked : packed) */
    unsigned max_entry_ratio;    /* --max-entry-ratio (unpacked : compressed, one archive entry) */
    unsigned max_archive_nesting;/* --max-archive-nesting compression layers */
    uint64_t unpack_memory;      /* --unpack-memory bytes of address space for the unpacking child */
    unsigned unpack_cpu;         /* --unpack-cpu seconds (RLIMIT_CPU of the unpacking child) */
    unsigned unpack_timeout;     /* --unpack-timeout seconds (wall clock of the unpacking child) */
    uint64_t min_free_space;     /* --min-free-space bytes kept free on the data disk */
    unsigned max_queue;          /* --max-queue jobs waiting before uploads get 503 */
    unsigned analysis_timeout;   /* --analysis-timeout seconds (wall clock) */
    unsigned analysis_cpu;       /* --analysis-cpu seconds (RLIMIT_CPU) */
    uint64_t analysis_memory;    /* --analysis-memory bytes of address space, plus the inputs' size */
    unsigned connection_timeout; /* --connection-timeout seconds of idle connection */
    unsigned max_connections;    /* --max-connections */
    unsigned max_connections_per_ip; /* --max-connections-per-ip (0: no limit) */
    unsigned header_timeout;     /* --header-timeout seconds to send request line and headers (total) */
    unsigned body_timeout;       /* --body-timeout seconds to send a request body (total) */
    uint64_t min_body_rate;      /* --min-body-rate bytes/s a body must keep up (0: none) */
    unsigned upload_rate;        /* --upload-rate uploads per minute per client (0: no limit) */
    uint64_t max_client_inflight;/* --max-client-inflight bytes of uploads in progress per client */
    unsigned max_queue_per_client;/* --max-queue-per-client queued analyses per client (0: half of --max-queue) */
    unsigned auth_failures;      /* --auth-failures free failed credential guesses per client */
    unsigned auth_backoff_max;   /* --auth-backoff-max seconds, the longest backoff */
    int trust_proxy;             /* --trust-proxy: the client is the last X-Forwarded-For address of a loopback peer */
    char trust_proxy_net[64];    /* --trust-proxy-net A.B.C.D/N: peers there are proxies too (with --trust-proxy) */
    unsigned job_lease;          /* --lease seconds a job's lease lasts without a heartbeat */
    unsigned drain_grace;        /* --drain-grace seconds SIGTERM waits for running analyses */
    int upload_open;             /* --upload-auth open|token */
    char admin_token[128];       /* --admin-token (or DT_ADMIN_TOKEN) */
    char symbol_paths[DT_MAX_SYMBOL_PATHS][1024]; /* --symbols DIR, repeatable */
    int symbol_path_count;
    int cookie_secure;           /* --cookie-secure: add Secure to the session cookie */
    int test_hooks;              /* --test-hooks: honour DT_TEST_HOOK=… in an upload's note */
    unsigned retain_dumps_days;  /* --retain-dumps DAYS: purge dump files of older uploads (0: keep) */
    unsigned retain_reports_days;/* --retain-reports DAYS: delete older uploads entirely (0: keep) */
    uint64_t max_dump_bytes;     /* --max-dump-bytes: purge oldest dump files above this total (0: no limit) */
    unsigned retention_interval; /* --retention-interval seconds between sweeps */
    unsigned tus_expiry;         /* --tus-expiry seconds an unfinished resumable upload is kept after its last chunk */
    unsigned tus_max_uploads;    /* --tus-max-uploads unfinished resumable uploads per client */
    uint64_t tus_max_bytes;      /* --tus-max-bytes declared bytes of unfinished resumable uploads per client */
} dt_server_config;

/* Fills cfg with defaults, then the environment, then argv (argv[0] is
 * "serve").  Returns 0 to run, 1 after printing --help (exit 0), -1 on a
 * usage error (message in err, exit 2). */
int dt_config_parse(dt_server_config *cfg, int argc, char **argv, char *err, size_t errlen);
/* Whether an IPv4 address (host byte order) lies in "A.B.C.D/N": 1 yes,
 * 0 no, -1 if cidr is not of that form. */
int dt_config_in_net(const char *cidr, uint32_t addr);
/* The --help text (static string). */
const char *dt_config_help(void);

#endif
