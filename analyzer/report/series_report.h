/*
 * series_report.h — the "series" member of the report document: several
 * dumps of one hang compared thread by thread (docs/report.md, "series").
 *
 * The model below is what analysis/series.c keeps of each snapshot once its
 * report is gone: per-thread summaries, small enough that a series of many
 * full-memory dumps costs the memory of one report plus these.  The comparing
 * is analysis/series.c's; this file only turns the finished model into JSON
 * and renders that JSON as text (so the text never shows what the JSON
 * lacks, as for the single report).
 */
#ifndef DT_REPORT_SERIES_REPORT_H
#define DT_REPORT_SERIES_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

/* Frames kept per thread and snapshot for "what changed". */
#define DT_SERIES_MAX_NAMES 32

/* One thread as one snapshot saw it. */
typedef struct {
    bool present;
    char *top_frame;            /* "ntdll!NtReadFile+0x14", NULL without frames */
    char *inner_function;       /* "ntdll!NtReadFile" (no offset), or "module+0x…" */
    char *names[DT_SERIES_MAX_NAMES]; /* frame names innermost first, no offsets */
    size_t nnames;              /* names kept */
    size_t nframes;             /* frames walked */
    uint64_t frames_hash;       /* every frame's ip and sp */
    uint64_t places_hash;       /* every frame's function (no offset) and sp */
    uint64_t callers_hash;      /* places of frames 1.. (all but the innermost) */
    uint64_t regs_hash;         /* every register value */
    uint64_t ip, sp;
    bool has_ip;
    bool has_cpu;               /* CPU time known (ThreadInfoList or kernel) */
    double cpu_ms;              /* user + kernel time so far */
    const char *cpu_source;     /* "thread_info" or "kernel" (static) */
    bool has_wait;
    double wait_seconds;        /* the kernel's wait time */
    char *state;                /* triage state */
    bool stuck, idle, in_deadlock;
    char *category, *verdict;
    char *blocking_frame, *first_app_frame, *kernel_wait_frame, *driver_frame;
    int triage_rank;            /* index in triage.threads[] (primary first) */
    bool is_primary;

    /* Filled by the comparison. */
    const char *change;         /* "first", "appeared", "same", "spinning",
                                   "changed" (static) */
    bool ip_moved;              /* "same" with an ip that moved within its function */
    bool has_cpu_delta;
    double cpu_delta_ms;        /* since the previous snapshot holding the thread */
    double wall_delta_s;
    int changed_at;             /* "changed": names agree from the outside down to here */
    const char *changed_before, *changed_after; /* borrowed from names[] */
    bool changed_sp_only;       /* the same functions, other stack pointers */
} dt_series_tsnap;

/* One thread across the series. */
typedef struct {
    uint64_t thread_id;
    char *thread_name;
    dt_series_tsnap *snaps;     /* one per snapshot, in time order */
    /* Filled by the comparison. */
    const char *presence;       /* "all", "appeared", "exited", "intermittent" (static) */
    const char *state;          /* "not_moved", "spinning", "progressing", "idle",
                                   "exited", "appeared", "single" (static) */
    bool stuck;                 /* stuck according to the series */
    int first_seen, last_seen;  /* snapshot indexes */
    double not_moved_seconds;   /* how long its stack stayed the same (not_moved) */
    bool has_cpu;
    double cpu_ms, cpu_wall_s;  /* CPU used between its first and last snapshot, over that time */
    bool has_wait_growth;
    double wait_growth_s;       /* kernel wait time, last − first */
    char *verdict;
    int rank;                   /* order in threads[]: primary first */
} dt_series_thread;

/* One dump of the series. */
typedef struct {
    char *file, *kernel_file;
    int arg_index;              /* position on the command line / in the upload */
    bool has_time;
    int64_t time;               /* dump time, Unix seconds */
    const char *status;         /* "ok", "unusable", "damaged", "duplicate" (static) */
    int duplicate_of;           /* snapshot index, -1 */
    char *error;                /* why it is unusable or damaged */
    bool has_pid;
    uint64_t pid;
    char *image, *create_time;
    uint64_t size;
    size_t thread_count;
    char *signature;            /* its own triage signature */
    bool has_primary;
    uint64_t primary_thread_id;
    char **warnings;
    size_t nwarnings;
} dt_series_snapshot;

typedef struct {
    dt_series_snapshot *snaps;  /* time order */
    size_t nsnaps;
    dt_series_thread *threads;
    size_t nthreads;
    int used;                   /* snapshots compared (status "ok") */
    int report_snapshot;        /* whose full report the document carries, -1 */
    /* verdicts */
    int primary;                /* index into threads, -1 */
    char *signature;
    char *signature_parts[8];
    size_t nsignature_parts;
    char *summary;
    char **warnings;
    size_t nwarnings;
} dt_series;

/* The "series" object (docs/report.md); NULL on OOM. */
cJSON *dt_series_report_json(const dt_series *s);

/* Renders a document's "series" object: the verdicts, then one line per
 * thread and snapshot.  Prints nothing when doc has no series. */
void dt_series_report_text(const cJSON *doc, FILE *out);

#endif
