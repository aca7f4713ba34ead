/*
 * test_store_signatures.c — bucket merges in the store (migration 008's
 * trigger, store_signatures.h), driven through the worker's own calls:
 * each analysis is a lease and dt_store_job_finish with the signature the
 * analyzer would have given, each re-analysis dt_store_upload_reanalyze.
 *
 *   - a signature that changes twice (A -> B when the application's PDB
 *     arrives, B -> C when the kernel's does): two moves recorded, A and B
 *     empty, both say merged_into C (the chain followed through the empty
 *     B), C lists where its upload came from;
 *   - a change back (X -> Y -> X): Y is empty and points at X, X holds the
 *     upload again and is not merged anywhere, and the chain never loops;
 *   - a re-analysis that keeps the signature records nothing;
 *   - an uploader sees only the moves of their own uploads;
 *   - a deleted upload's move stays on record (upload_seq NULL).
 *
 * On SQLite by default; with DT_TEST_PG_SOCK (tests/integration/
 * test_store_signatures_pg.sh) on a fresh PostgreSQL database, where the
 * trigger is PL/pgSQL: the same assertions hold for both engines.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "dt_test.h"
#include "store_fixture.h"
#include "store.h"
#include "store_internal.h"
#include "store_signatures.h"

static char dir[256];
static char db[600];

static dt_store *open_fresh(void) { return dt_test_store_fresh("sigm", dir, sizeof dir, db, sizeof db); }

static void remove_fresh(dt_store *s) { dt_test_store_remove(s, dir); }

/* A new upload of one user dump (its own hash: never a reuse); its seq. */
static int64_t new_upload(dt_store *s, char digit, int64_t owner)
{
    dt_upload_new u;
    memset(&u, 0, sizeof u);
    u.owner_token_id = owner;
    dt_file_rec *f = &u.files[u.nfiles++];
    strcpy(f->role, "user");
    memset(f->sha256, digit, 64);
    f->size = 1000;
    strcpy(f->kind, "minidump");
    strcpy(f->name, "app.dmp");
    ck_assert_int_eq(dt_store_upload_create(s, &u, NULL), DT_OK);
    dt_upload_ref ref;
    ck_assert_int_eq(dt_store_upload_find(s, u.id, &ref), 1);
    return ref.seq;
}

/* Leases the one queued job and finishes it with a report of `signature`. */
static void analyse(dt_store *s, int64_t seq, const char *signature)
{
    dt_job job;
    ck_assert_int_eq(dt_store_job_lease(s, "w", 60, &job), 1);
    ck_assert_int_eq(job.upload_seq, seq);
    dt_report_index idx = { .signature = (char *)signature, .thread_count = -1 };
    char json[512];
    snprintf(json, sizeof json, "{\"triage\":{\"signature\":\"%s\"}}", signature);
    dt_error err = { 0 };
    ck_assert_msg(dt_store_job_finish(s, &job, json, &idx, 1, &err) == DT_OK, "%s", err.message);
}

static void reanalyse(dt_store *s, int64_t seq, const char *signature)
{
    ck_assert_int_eq(dt_store_upload_reanalyze(s, seq, NULL), DT_OK);
    analyse(s, seq, signature);
}

/* The detail object with its merges, as GET /api/signatures/detail builds it. */
static cJSON *detail(dt_store *s, const char *signature, int64_t owner)
{
    dt_error err = { 0 };
    cJSON *o = dt_store_signature_detail(s, signature, owner, &err);
    ck_assert_msg(o != NULL, "%s", err.message);
    ck_assert_msg(dt_store_signature_merges(s, signature, owner, o, &err) == DT_OK, "%s", err.message);
    return o;
}

static int count_of(const cJSON *o)
{
    return (int)cJSON_GetObjectItemCaseSensitive(o, "count")->valuedouble;
}

static const char *merged_into(const cJSON *o)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "merged_into");
    ck_assert_ptr_nonnull(v);
    return cJSON_IsString(v) ? v->valuestring : "(null)";
}

/* "sig uploads kind;…" of a moves array. */
static void moves_text(const cJSON *o, const char *key, char *out, size_t len)
{
    out[0] = '\0';
    const cJSON *m;
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(o, key))
    {
        size_t n = strlen(out);
        snprintf(out + n, len - n, "%s%s %d %s", n ? ";" : "",
                 cJSON_GetObjectItemCaseSensitive(m, "signature")->valuestring,
                 (int)cJSON_GetObjectItemCaseSensitive(m, "uploads")->valuedouble,
                 cJSON_GetObjectItemCaseSensitive(m, "kind")->valuestring);
    }
}

static int64_t scalar(dt_store *s, const char *sql)
{
    dt_stmt *st = dt_sql_prepare(s, sql, NULL);
    ck_assert_ptr_nonnull(st);
    ck_assert_int_eq(dt_stmt_step(st), DT_DB_ROW);
    int64_t v = dt_stmt_int64(st, 0);
    dt_stmt_finalize(st);
    return v;
}

#define SA "hang|kernelbase!readfile|app|-|-"
#define SB "hang|kernelbase!readfile|app!read_config|-|-"
#define SC "hang|kernelbase!readfile|app!read_config|nt!kewaitforsingleobject|-"

START_TEST(two_refinements_chain_to_the_last_bucket)
{
    dt_store *s = open_fresh();
    int64_t u = new_upload(s, 'a', 0);
    analyse(s, u, SA);
    reanalyse(s, u, SB);
    reanalyse(s, u, SC);
    ck_assert_int_eq(scalar(s, "SELECT COUNT(*) FROM signature_merges"), 2);
    char buf[1024];
    cJSON *a = detail(s, SA, -1);
    ck_assert_int_eq(count_of(a), 0);
    ck_assert_str_eq(merged_into(a), SC); /* through the empty B */
    moves_text(a, "moved_to", buf, sizeof buf);
    ck_assert_str_eq(buf, SB " 1 symbols");
    cJSON *b = detail(s, SB, -1);
    ck_assert_str_eq(merged_into(b), SC);
    moves_text(b, "merged_from", buf, sizeof buf);
    ck_assert_str_eq(buf, SA " 1 symbols");
    cJSON *c = detail(s, SC, -1);
    ck_assert_int_eq(count_of(c), 1);
    ck_assert_str_eq(merged_into(c), "(null)");
    moves_text(c, "merged_from", buf, sizeof buf);
    ck_assert_str_eq(buf, SB " 1 symbols");
    moves_text(c, "moved_to", buf, sizeof buf);
    ck_assert_str_eq(buf, "");
    cJSON_Delete(a);
    cJSON_Delete(b);
    cJSON_Delete(c);
    remove_fresh(s);
}
END_TEST

START_TEST(a_change_back_does_not_loop)
{
    dt_store *s = open_fresh();
    int64_t u = new_upload(s, 'b', 0);
    analyse(s, u, "hang|x|app|-|-");
    reanalyse(s, u, "deadlock|critical_section|app!f");
    reanalyse(s, u, "hang|x|app|-|-");
    char buf[1024];
    cJSON *y = detail(s, "deadlock|critical_section|app!f", -1);
    ck_assert_int_eq(count_of(y), 0);
    ck_assert_str_eq(merged_into(y), "hang|x|app|-|-");
    moves_text(y, "moved_to", buf, sizeof buf);
    ck_assert_str_eq(buf, "hang|x|app|-|- 1 reanalysis"); /* names went away: not symbols */
    cJSON *x = detail(s, "hang|x|app|-|-", -1);
    ck_assert_int_eq(count_of(x), 1);
    ck_assert_str_eq(merged_into(x), "(null)");
    cJSON_Delete(x);
    cJSON_Delete(y);
    /* Both empty (the upload deleted): X points at Y, whose own move back
     * to X is not followed round the loop. */
    char **orphans = NULL;
    size_t norphans = 0;
    ck_assert_int_eq(dt_store_upload_delete(s, u, &orphans, &norphans, NULL), DT_OK);
    for (size_t i = 0; i < norphans; i++)
        free(orphans[i]);
    free(orphans);
    x = detail(s, "hang|x|app|-|-", -1);
    ck_assert_int_eq(count_of(x), 0);
    ck_assert_str_eq(merged_into(x), "deadlock|critical_section|app!f");
    cJSON_Delete(x);
    /* The record outlives the upload. */
    ck_assert_int_eq(scalar(s, "SELECT COUNT(*) FROM signature_merges WHERE upload_seq IS NULL"), 2);
    remove_fresh(s);
}
END_TEST

START_TEST(same_signature_records_nothing_and_owners_see_their_own)
{
    dt_store *s = open_fresh();
    int64_t tok = 0;
    char secret[128];
    ck_assert_int_eq(dt_store_token_create(s, DT_ROLE_UPLOADER, "customer", NULL, secret, sizeof secret, &tok, NULL),
                     DT_OK);
    int64_t mine = new_upload(s, 'c', tok);
    int64_t staff = new_upload(s, 'd', 0);
    analyse(s, mine, SA);
    analyse(s, staff, SA);
    reanalyse(s, mine, SA);
    ck_assert_int_eq(scalar(s, "SELECT COUNT(*) FROM signature_merges"), 0);
    reanalyse(s, mine, SB);
    ck_assert_int_eq(scalar(s, "SELECT COUNT(*) FROM signature_merges"), 1);
    char buf[1024];
    /* The uploader: their A is empty and merged into B. */
    cJSON *a = detail(s, SA, tok);
    ck_assert_int_eq(count_of(a), 0);
    ck_assert_str_eq(merged_into(a), SB);
    cJSON_Delete(a);
    /* Staff: A still holds the other upload. */
    a = detail(s, SA, -1);
    ck_assert_int_eq(count_of(a), 1);
    ck_assert_str_eq(merged_into(a), "(null)");
    moves_text(a, "moved_to", buf, sizeof buf);
    ck_assert_str_eq(buf, SB " 1 symbols");
    cJSON_Delete(a);
    /* Another uploader sees no move at all. */
    a = detail(s, SA, tok + 1000);
    moves_text(a, "moved_to", buf, sizeof buf);
    ck_assert_str_eq(buf, "");
    ck_assert_str_eq(merged_into(a), "(null)");
    cJSON_Delete(a);
    remove_fresh(s);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("store_signatures");
    TCase *tc = tcase_create("merges");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, two_refinements_chain_to_the_last_bucket);
    tcase_add_test(tc, a_change_back_does_not_loop);
    tcase_add_test(tc, same_signature_records_nothing_and_owners_see_their_own);
    suite_add_tcase(s, tc);
    return s;
}

DT_TEST_MAIN(suite)
