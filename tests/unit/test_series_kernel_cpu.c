/*
 * test_series_kernel_cpu.c — a series whose CPU and wait times come from the
 * kernel dumps (docs/report.md "series": CPU time is ThreadInfoList's, else
 * the kernel dump's KTHREAD KernelTime + UserTime; the kernel's wait time
 * per snapshot and its growth).
 *
 * User dumps: the real Wine series (tests/data/wine/series, one live run of
 * series_hang.exe dumped at +0, +10 and +24 s) with the ThreadInfoList
 * stream's directory entry turned into UnusedStream (type 0) — the only
 * bytes changed — so the user dumps hold no CPU times, as `procdump -ma`
 * dumps without thread info do.  Kernel dumps: one synthesized live kernel
 * dump per snapshot (tests/support/kdump_writer.c, 19041 x64 layouts,
 * written 1 s after its user dump) whose KTHREADs carry chosen KernelTime,
 * UserTime and WaitTime: the spinner (264) ran 9 s of the 10 s and 12.5 s of
 * the 14 s between the dumps; the reader (248) and main (36) have waited
 * 10/20/34 s and 100/110/124 s.  A second set of kernel dumps gives the
 * spinner no CPU between the dumps: the same moving instruction pointer is
 * then not a busy loop, so the verdict rests on the kernel's CPU times.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "analysis/series.h"
#include "base/json.h"
#include "report/series_report.h"
#include "dt_test.h"
#include "kdump_writer.h"
#include "paired_case.h"

#define NT(rva, off) (DT_KW_NT_BASE + (rva) + (off))
#define TICK_MS 15.625 /* the writer's KUSER_SHARED_DATA.TickCountMultiplier */
#define FILETIME_OF(unix_s) (((uint64_t)(unix_s) + UINT64_C(11644473600)) * 10000000u)

static char g_dir[256];
static uint32_t g_time[3]; /* the user dumps' TimeDateStamps */

static const char *p(const char *name)
{
    static char buf[8][512];
    static int i;
    i = (i + 1) % 8;
    snprintf(buf[i], sizeof buf[i], "%s/%s", g_dir, name);
    return buf[i];
}

static uint32_t le32(const unsigned char *b) { return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24; }

/* series_hang.K.dmp.gz inflated to sK.dmp with its ThreadInfoList entry
 * (type 17) made UnusedStream; returns its TimeDateStamp. */
static uint32_t write_user(int k)
{
    char src[64];
    snprintf(src, sizeof src, "wine/series/series_hang.%d.dmp.gz", k);
    gzFile g = gzopen(dt_test_data(src), "rb");
    ck_assert_ptr_nonnull(g);
    char name[16];
    snprintf(name, sizeof name, "s%d.dmp", k);
    FILE *out = fopen(p(name), "wb");
    ck_assert_ptr_nonnull(out);
    static unsigned char buf[1 << 16];
    int n;
    bool first = true;
    uint32_t ts = 0;
    while ((n = gzread(g, buf, sizeof buf)) > 0) {
        if (first) {
            ck_assert_int_ge(n, 4096);
            uint32_t count = le32(buf + 8), rva = le32(buf + 12);
            ts = le32(buf + 20);
            ck_assert_uint_le(rva + 12u * count, 4096u);
            int cleared = 0;
            for (uint32_t i = 0; i < count; i++) {
                if (le32(buf + rva + 12 * i) == 17) {
                    memset(buf + rva + 12 * i, 0, 4);
                    cleared++;
                }
            }
            ck_assert_int_eq(cleared, 1);
            first = false;
        }
        ck_assert_int_eq((int)fwrite(buf, 1, (size_t)n, out), n);
    }
    gzclose(g);
    ck_assert_int_eq(fclose(out), 0);
    return ts;
}

typedef struct {
    uint32_t spin_user, spin_kernel; /* ticks */
    uint32_t reader_waited, main_waited;
} kernel_facts;

/* The kernel dump of snapshot k (0-based) of process 32. */
static void write_kernel(const char *name, int k, const kernel_facts *f)
{
    static const uint64_t wait_frames[] = {
        NT(DT_PAIRED_RVA_SWAP_CONTEXT, 0x76), NT(DT_PAIRED_RVA_SWAP_THREAD, 0x5bb),
        NT(DT_PAIRED_RVA_COMMIT_WAIT, 0x14f), NT(DT_PAIRED_RVA_WAIT_SINGLE, 0x233),
        NT(DT_PAIRED_RVA_SYSCALL_END, 0x28),
    };
    static const uint64_t ready_frames[] = {
        NT(DT_PAIRED_RVA_SWAP_CONTEXT, 0x76), NT(DT_PAIRED_RVA_SWAP_THREAD, 0x5bb),
    };
    dt_kw_thread th[3];
    memset(th, 0, sizeof th);
    /* main (36): WaitForMultipleObjects; reader (248): ReadFile on a pipe. */
    th[0].tid = 36;
    th[0].state = 5;
    th[0].wait_reason = 6; /* UserRequest */
    th[0].wait_mode = 1;
    th[0].wait_time = DT_KW_TICK_COUNT - f->main_waited;
    th[0].frames = wait_frames;
    th[0].frame_count = sizeof wait_frames / sizeof wait_frames[0];
    th[0].running_cpu = -1;
    th[0].wait_object_type = 1;
    th[1] = th[0];
    th[1].tid = 248;
    th[1].wait_reason = 0; /* Executive */
    th[1].wait_mode = 0;
    th[1].wait_time = DT_KW_TICK_COUNT - f->reader_waited;
    /* spinner (264): preempted in its loop (Ready), its CPU in ticks. */
    th[2].tid = 264;
    th[2].state = 1; /* Ready */
    th[2].frames = ready_frames;
    th[2].frame_count = sizeof ready_frames / sizeof ready_frames[0];
    th[2].running_cpu = -1;
    const dt_kw_thread_times times = { .process = 0, .thread = 2, .kernel_time = f->spin_kernel,
                                       .user_time = f->spin_user };
    dt_kw_process proc = { .pid = 32, .image = "series_hang.ex", .threads = th, .thread_count = 3 };
    dt_kw_system sys = { .build = 19041, .processors = 2, .attributes = 0x10, .processes = &proc,
                         .process_count = 1, .system_time = FILETIME_OF(g_time[k] + 1), .times = &times,
                         .times_count = 1 };
    size_t size = 0;
    uint8_t *dump = dt_kw_build_triage(&sys, &size);
    ck_assert_ptr_nonnull(dump);
    dump = dt_paired_add_images(dump, &size);
    ck_assert_ptr_nonnull(dump);
    FILE *out = fopen(p(name), "wb");
    ck_assert_ptr_nonnull(out);
    ck_assert_uint_eq(fwrite(dump, 1, size, out), size);
    ck_assert_int_eq(fclose(out), 0);
    free(dump);
}

/* Spinner: 101 ticks at +0, 677 at +10 (9 s used in 10 s), 1478 at +24
 * (12.515625 s in 14 s). */
static const kernel_facts busy[3] = {
    { .spin_user = 100, .spin_kernel = 1, .reader_waited = 640, .main_waited = 6400 },
    { .spin_user = 676, .spin_kernel = 1, .reader_waited = 1280, .main_waited = 7040 },
    { .spin_user = 1476, .spin_kernel = 2, .reader_waited = 2176, .main_waited = 7936 },
};
/* The same, but the spinner used no CPU after the first dump. */
static const kernel_facts still[3] = {
    { .spin_user = 100, .spin_kernel = 1, .reader_waited = 640, .main_waited = 6400 },
    { .spin_user = 100, .spin_kernel = 1, .reader_waited = 1280, .main_waited = 7040 },
    { .spin_user = 100, .spin_kernel = 1, .reader_waited = 2176, .main_waited = 7936 },
};

static void setup(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/dt_series_kcpu_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(g_dir));
    for (int k = 0; k < 3; k++)
        g_time[k] = write_user(k + 1);
    ck_assert_uint_eq(g_time[1] - g_time[0], 10);
    ck_assert_uint_eq(g_time[2] - g_time[0], 24);
    char name[32];
    for (int k = 0; k < 3; k++) {
        snprintf(name, sizeof name, "s%d.Kernel.dmp", k + 1);
        write_kernel(name, k, &busy[k]);
        snprintf(name, sizeof name, "still%d.dmp", k + 1);
        write_kernel(name, k, &still[k]);
    }
}

static void teardown(void)
{
    char name[32];
    for (int k = 1; k <= 3; k++) {
        snprintf(name, sizeof name, "s%d.dmp", k);
        unlink(p(name));
        snprintf(name, sizeof name, "s%d.Kernel.dmp", k);
        unlink(p(name));
        snprintf(name, sizeof name, "still%d.dmp", k);
        unlink(p(name));
    }
    rmdir(g_dir);
}

static const cJSON *series_thread(const cJSON *doc, uint64_t tid)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "series"), "threads")) {
        if ((uint64_t)dt_json_get_num(t, "thread_id", -1) == tid)
            return t;
    }
    return NULL;
}

static const cJSON *snap(const cJSON *t, int k)
{
    return cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(t, "snapshots"), k);
}

static cJSON *analyze(const char *k1, const char *k2, const char *k3)
{
    const char *users[] = { p("s1.dmp"), p("s2.dmp"), p("s3.dmp") };
    const char *kernels[] = { p(k1), p(k2), p(k3) };
    const char *syms[] = { dt_test_data("wine/series/bin") };
    dt_series_request req = { .paths = users, .npaths = 3, .kernel_paths = kernels, .nkernel_paths = 3,
                              .symbol_paths = syms, .nsymbol_paths = 1 };
    cJSON *doc = NULL;
    dt_error err = { 0 };
    ck_assert_msg(dt_analyze_series(&req, &doc, &err) == DT_OK, "%s", err.message);
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(doc, "series");
    ck_assert_int_eq((int)dt_json_get_num(s, "compared", -1), 3);
    /* Every snapshot was paired with its kernel dump, and no user dump
     * holds CPU times any more. */
    const cJSON *x;
    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(s, "snapshots"))
        ck_assert_str_eq(dt_json_get_str(x, "status"), "ok");
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "triage"), "paired")));
    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "user"), "threads"))
        ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(x, "user_time_ms"));
    return doc;
}

START_TEST(kernel_cpu_times_make_the_spinner_spin)
{
    cJSON *doc = analyze("s1.Kernel.dmp", "s2.Kernel.dmp", "s3.Kernel.dmp");
    const cJSON *t = series_thread(doc, 264);
    ck_assert_ptr_nonnull(t);
    ck_assert_str_eq(dt_json_get_str(t, "state"), "spinning");
    ck_assert(!dt_json_get_bool(t, "stuck"));
    /* (UserTime + KernelTime) × 15.625 ms, exactly. */
    const double cpu[3] = { 101 * TICK_MS, 677 * TICK_MS, 1478 * TICK_MS };
    for (int k = 0; k < 3; k++) {
        const cJSON *x = snap(t, k);
        ck_assert_ptr_nonnull(x);
        ck_assert_str_eq(dt_json_get_str(x, "cpu_source"), "kernel");
        ck_assert_double_eq(dt_json_get_num(x, "cpu_ms", -1), cpu[k]);
    }
    ck_assert_double_eq(dt_json_get_num(snap(t, 1), "cpu_ms_delta", -1), 9000.0);
    ck_assert_double_eq(dt_json_get_num(snap(t, 2), "cpu_ms_delta", -1), 12515.625);
    ck_assert_str_eq(dt_json_get_str(snap(t, 1), "change"), "spinning");
    ck_assert_str_eq(dt_json_get_str(snap(t, 2), "change"), "spinning");
    ck_assert_double_eq(dt_json_get_num(t, "cpu_ms", -1), 21515.625);
    ck_assert_double_eq(dt_json_get_num(t, "cpu_seconds_of", -1), 24);
    ck_assert_str_eq(dt_json_get_str(t, "verdict"), "spinning in series_hang!df_spin_step: used 22 s of CPU in 24 s");
    /* No stuck thread stays primary over it, but it is counted. */
    const cJSON *counts = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "series"), "verdicts"), "counts");
    ck_assert_int_eq((int)dt_json_get_num(counts, "spinning", -1), 1);
    cJSON_Delete(doc);
}
END_TEST

START_TEST(kernel_wait_times_grow)
{
    cJSON *doc = analyze("s1.Kernel.dmp", "s2.Kernel.dmp", "s3.Kernel.dmp");
    const struct { uint64_t tid; double waits[3]; } want[] = {
        { 248, { 10, 20, 34 } },
        { 36, { 100, 110, 124 } },
    };
    for (size_t i = 0; i < 2; i++) {
        const cJSON *t = series_thread(doc, want[i].tid);
        ck_assert_ptr_nonnull(t);
        ck_assert_str_eq(dt_json_get_str(t, "state"), "not_moved");
        ck_assert(dt_json_get_bool(t, "stuck"));
        for (int k = 0; k < 3; k++)
            ck_assert_double_eq(dt_json_get_num(snap(t, k), "wait_seconds", -1), want[i].waits[k]);
        /* It waited 24 s longer over the 24 s of the series: one wait. */
        ck_assert_double_eq(dt_json_get_num(t, "wait_growth_seconds", -1), 24);
        ck_assert_double_eq(dt_json_get_num(t, "not_moved_seconds", -1), 24);
    }
    /* The text names the growth on the thread's line, and the wait per
     * snapshot. */
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(mem);
    dt_series_report_text(doc, mem);
    ck_assert_int_eq(fclose(mem), 0);
    ck_assert_msg(strstr(text, "thread 248 (0xf8) reader  [not_moved, all, STUCK, kernel wait +24.0 s]"), "%s", text);
    ck_assert_ptr_nonnull(strstr(text, "waited 34.0 s"));
    free(text);
    /* The spinner is not waiting: no wait time, no growth. */
    const cJSON *sp = series_thread(doc, 264);
    ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(snap(sp, 2), "wait_seconds")));
    ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(sp, "wait_growth_seconds")));
    cJSON_Delete(doc);
}
END_TEST

START_TEST(no_kernel_cpu_no_spinning)
{
    /* The same user dumps (the instruction pointer moves in df_spin_step):
     * with the kernel saying the thread used no CPU in between, it is not
     * a busy loop. */
    cJSON *doc = analyze("still1.dmp", "still2.dmp", "still3.dmp");
    const cJSON *t = series_thread(doc, 264);
    ck_assert_ptr_nonnull(t);
    ck_assert_str_ne(dt_json_get_str(t, "state"), "spinning");
    ck_assert_double_eq(dt_json_get_num(snap(t, 1), "cpu_ms_delta", -1), 0);
    ck_assert_double_eq(dt_json_get_num(snap(t, 2), "cpu_ms_delta", -1), 0);
    ck_assert_double_eq(dt_json_get_num(t, "cpu_ms", -1), 0);
    const cJSON *counts = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "series"), "verdicts"), "counts");
    ck_assert_int_eq((int)dt_json_get_num(counts, "spinning", -1), 0);
    cJSON_Delete(doc);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("series_kernel_cpu");
    TCase *tc = tcase_create("kernel_times");
    tcase_add_unchecked_fixture(tc, setup, teardown); /* the files once: 120 MB */
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, kernel_cpu_times_make_the_spinner_spin);
    tcase_add_test(tc, kernel_wait_times_grow);
    tcase_add_test(tc, no_kernel_cpu_no_spinning);
    suite_add_tcase(s, tc);
    return s;
}

DT_TEST_MAIN(suite)
