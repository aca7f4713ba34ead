/*
 * test_signature.c — the hang signature with and without symbols (#19):
 * the same real Wine dumps analysed without their PDBs and with them give a
 * coarse and a rich signature, the rich one refines the coarse one part by
 * part (dt_signature_refines, which the server uses to label bucket merges),
 * and an application frame named only by the nearest export contributes
 * its module, never a name the PDB would replace; signature_needs_symbols
 * names the modules whose symbols would refine it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"
#include "dt_test.h"
#include "triage/rules.h"
#include "triage/triage.h"

static const char *str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* signature_needs_symbols as "a,b" (malloc'd; "" for an empty array). */
static char *needs_of(const cJSON *tri)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(tri, "signature_needs_symbols");
    ck_assert_msg(cJSON_IsArray(arr), "signature_needs_symbols is an array");
    char buf[512] = "";
    const cJSON *v;
    cJSON_ArrayForEach(v, arr)
    {
        size_t n = strlen(buf);
        snprintf(buf + n, sizeof buf - n, "%s%s", n ? "," : "", v->valuestring);
    }
    return strdup(buf);
}

/* The signature of (user[, kernel]) analysed in-process, with the Wine
 * build's PDBs or with no symbols at all (malloc'd); *needs: the modules
 * whose symbols would refine it. */
static char *signature_of(const char *user, const char *kernel, bool with_pdb, char **needs)
{
    /* only what the request names: no symbol path from the environment */
    unsetenv("DUMPTRIAGE_SYMBOL_PATH");
    unsetenv("_NT_SYMBOL_PATH");
    setenv("DUMPTRIAGE_SYMBOL_OFFLINE", "1", 1);
    char *u = strdup(dt_test_data(user));
    char *k = kernel ? strdup(dt_test_data(kernel)) : NULL;
    char *syms = strdup(dt_test_data("wine/bin/clang"));
    const char *paths[] = { syms };
    dt_analysis_request req = { .user_path = u, .kernel_path = k, .route_by_content = true,
                                .symbol_paths = with_pdb ? paths : NULL, .nsymbol_paths = with_pdb ? 1 : 0 };
    cJSON *doc = NULL;
    dt_error e = { 0 };
    ck_assert_msg(dt_analyze(&req, &doc, &e) == DT_OK, "%s: %s", user, e.message);
    char *sig = strdup(str(cJSON_GetObjectItemCaseSensitive(doc, "triage"), "signature"));
    *needs = needs_of(cJSON_GetObjectItemCaseSensitive(doc, "triage"));
    cJSON_Delete(doc);
    free(u);
    free(k);
    free(syms);
    return sig;
}

START_TEST(refinement_is_names_arriving_only)
{
    static const struct {
        const char *from, *to;
        bool refines;
    } cases[] = {
        { "hang|kernelbase!readfile|hello_block|-|-", "hang|kernelbase!readfile|hello_block!df_read_stdin|-|-", true },
        { "hang|kernelbase!readfile|hello_block|-|-", "hang|kernelbase!readfile|hello_block|nt!kewaitforsingleobject|-",
          true },
        { "hang|-|multi_hang|-|-", "hang|kernelbase!waitforsingleobject|multi_hang!df_lock|-|condrv", true },
        { "hang|kernelbase!readfile|hello_block|-|-", "hang|kernelbase!readfile|hello_block|-|-", true },
        /* names never go away, and one name never becomes another */
        { "hang|kernelbase!readfile|hello_block!df_read_stdin|-|-", "hang|kernelbase!readfile|hello_block|-|-", false },
        { "hang|kernelbase!readfile|hello_block!a|-|-", "hang|kernelbase!readfile|hello_block!b|-|-", false },
        { "hang|kernelbase!readfile|app!exported|-|-", "hang|kernelbase!readfile|app!internal|-|-", false },
        /* a module is not a prefix of another module */
        { "hang|kernelbase!readfile|hello|-|-", "hang|kernelbase!readfile|hello_block!df_read_stdin|-|-", false },
        { "hang|kernelbase!readfile|hello_block|-|-", "hang|kernelbase!readfile|hello_blockx!f|-|-", false },
        /* other frames, kinds, shapes */
        { "hang|kernelbase!readfile|hello_block|-|-", "hang|kernelbase!writefile|hello_block!f|-|-", false },
        { "hang|kernelbase!readfile|hello_block|-|-", "crash|kernelbase!readfile|hello_block!f", false },
        { "hang|kernelbase!readfile|hello_block|-|-", "hang|kernelbase!readfile|hello_block!f|-", false },
        { "hang|kernelbase!readfile|hello_block|nt!kewaitforsingleobject|-", "hang|kernelbase!readfile|hello_block|-|-",
          false },
        /* deadlock members are a set: one module may become several functions */
        { "deadlock|critical_section|multi_hang", "deadlock|critical_section|multi_hang!df_lock_second", true },
        { "deadlock|critical_section|multi_hang",
          "deadlock|critical_section|multi_hang!df_lock_first|multi_hang!df_lock_second", true },
        { "deadlock|critical_section|a|b", "deadlock|critical_section|a!f|b!g", true },
        { "deadlock|critical_section|a|b", "deadlock|critical_section|a!f", false },
        { "deadlock|critical_section|a", "deadlock|critical_section|a!f|b!g", false },
        { "deadlock|critical_section|a", "deadlock|wait_graph|a!f", false },
        { "crash|EXCEPTION_ACCESS_VIOLATION_WRITE|crash_av", "crash|EXCEPTION_ACCESS_VIOLATION_WRITE|crash_av!df_store_value",
          true },
        { "", "hang|-|-|-|-", false },
        { "hang|-|-|-|-", "", false },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        ck_assert_msg(dt_signature_refines(cases[i].from, cases[i].to) == cases[i].refines, "%s -> %s: expected %s",
                      cases[i].from, cases[i].to, cases[i].refines ? "a refinement" : "no refinement");
    ck_assert(!dt_signature_refines(NULL, "hang|-|-|-|-"));
    /* more parts than any signature has: refused, not overrun */
    char many[1024] = "deadlock|critical_section";
    for (int i = 0; i < 100; i++)
        strcat(many, "|m");
    ck_assert(!dt_signature_refines(many, many));
}
END_TEST

/* Real dumps: without the PDB each application part is the module, with it
 * the function; the second refines the first, never the other way round. */
START_TEST(wine_dumps_without_and_with_their_pdbs)
{
    static const struct {
        const char *user, *kernel, *coarse, *rich, *needs;
    } cases[] = {
        { "wine/hello_block.dmp.gz", NULL, "hang|kernelbase!readfile|hello_block|-|-",
          "hang|kernelbase!readfile|hello_block!df_read_stdin|-|-", "hello_block.exe" },
        { "wine/multi_hang.dmp.gz", NULL, "deadlock|critical_section|multi_hang",
          "deadlock|critical_section|multi_hang!df_lock_second", "multi_hang.exe" },
        { "wine/crash_av.dmp.gz", NULL, "crash|EXCEPTION_ACCESS_VIOLATION_WRITE|crash_av",
          "crash|EXCEPTION_ACCESS_VIOLATION_WRITE|crash_av!df_store_value", "crash_av.exe" },
        { "wine/lock_wait.dmp.gz", NULL, "hang|kernelbase!waitforsingleobject|dfslow|-|-",
          "hang|kernelbase!waitforsingleobject|dfslow!dllmain|-|-", "dfslow.dll" },
        /* the paired case: the kernel part is named from nt's exports in
         * the dump, with or without the application's PDB */
        { "paired/hello_block.dmp.gz", "paired/hello_block.Kernel.dmp",
          "hang|kernelbase!readfile|hello_block|nt!kewaitforsingleobject|condrv",
          "hang|kernelbase!readfile|hello_block!df_read_stdin|nt!kewaitforsingleobject|condrv", "hello_block.exe" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *na, *nb;
        char *a = signature_of(cases[i].user, cases[i].kernel, false, &na);
        char *b = signature_of(cases[i].user, cases[i].kernel, true, &nb);
        ck_assert_str_eq(a, cases[i].coarse);
        ck_assert_str_eq(b, cases[i].rich);
        ck_assert_msg(dt_signature_refines(a, b), "%s does not refine %s", b, a);
        ck_assert_msg(!dt_signature_refines(b, a), "%s refines %s", a, b);
        /* the report says which symbols would refine it, and nothing once they did */
        ck_assert_str_eq(na, cases[i].needs);
        ck_assert_str_eq(nb, "");
        free(a);
        free(b);
        free(na);
        free(nb);
    }
    /* A kernel dump whose nt has no names: the kernel wait part is "-" and
     * the report asks for the kernel's symbols (rizin's ARM64 triage dump). */
    char *nk;
    char *k = signature_of("kernel/rizin__triage_arm64.dmp", NULL, false, &nk);
    ck_assert_str_eq(k, "hang|-|-|-|win32kbase");
    ck_assert_str_eq(nk, "ntoskrnl.exe,win32kbase.sys");
    free(k);
    free(nk);
}
END_TEST

/* A thread blocked in ReadFile whose application frame is named `name`
 * (export_only or not); returns "<signature> <signature_needs_symbols>"
 * (malloc'd). */
static char *signature_with_app_frame(const char *name, bool export_only)
{
    const char *texts[][3] = {
        { "ntdll.dll", "NtReadFile", "0x14" },
        { "KERNELBASE.dll", "ReadFile", "0x148" },
        { "app.exe", name, "0x7a0" },
        { "kernel32.dll", "BaseThreadInitThunk", "0x14" },
        { "ntdll.dll", "RtlUserThreadStart", "0x21" },
    };
    cJSON *user = cJSON_CreateObject();
    cJSON_AddNumberToObject(user, "pid", 32);
    cJSON *proc = cJSON_AddObjectToObject(user, "process");
    cJSON_AddNumberToObject(proc, "pid", 32);
    cJSON_AddStringToObject(proc, "image", "app.exe");
    cJSON *t = cJSON_CreateObject();
    cJSON_AddNumberToObject(t, "thread_id", 36);
    cJSON *frames = cJSON_AddArrayToObject(t, "frames");
    for (int i = 0; i < 5; i++) {
        cJSON *f = cJSON_CreateObject();
        cJSON_AddNumberToObject(f, "frame", i);
        cJSON_AddStringToObject(f, "module", texts[i][0]);
        if (texts[i][1]) {
            cJSON_AddStringToObject(f, "function", texts[i][1]);
            cJSON_AddStringToObject(f, "function_offset", texts[i][2]);
            cJSON_AddStringToObject(f, "symbol_provider", "exports");
            /* the system modules' names come from exports too: they stay */
            cJSON_AddBoolToObject(f, "export_only", i != 2 || export_only);
        } else {
            cJSON_AddStringToObject(f, "module_offset", texts[i][2]);
            cJSON_AddBoolToObject(f, "missing_symbols", 1);
        }
        cJSON_AddStringToObject(f, "trust", i ? "cfi" : "context");
        cJSON_AddItemToArray(frames, f);
    }
    cJSON_AddItemToArray(cJSON_AddArrayToObject(user, "threads"), t);
    dt_rules rules;
    dt_error err = { 0 };
    ck_assert_int_eq(dt_rules_default(&rules, &err), DT_OK);
    dt_triage_options opt = { .rules = &rules };
    cJSON *tri = NULL;
    ck_assert_int_eq(dt_triage_build(user, NULL, &opt, &tri, &err), DT_OK);
    char *sig = strdup(str(tri, "signature"));
    char *needs = needs_of(tri);
    size_t len = strlen(sig) + strlen(needs) + 2;
    char *both = malloc(len);
    snprintf(both, len, "%s %s", sig, needs); /* "signature needs" */
    free(sig);
    free(needs);
    cJSON_Delete(tri);
    cJSON_Delete(user);
    dt_rules_free(&rules);
    return both;
}

START_TEST(export_only_application_name_is_its_module)
{
    char *exp = signature_with_app_frame("AppExportedEntry", true);
    char *pdb = signature_with_app_frame("app_internal_helper", false);
    char *none = signature_with_app_frame(NULL, false);
    /* the nearest export is not the function: only the module is certain,
     * and app.exe's symbols would name it; the system frames' export names
     * stay and ask for nothing */
    ck_assert_str_eq(exp, "hang|kernelbase!readfile|app|-|- app.exe");
    ck_assert_str_eq(none, "hang|kernelbase!readfile|app|-|- app.exe");
    ck_assert_str_eq(pdb, "hang|kernelbase!readfile|app!app_internal_helper|-|- ");
    *strchr(exp, ' ') = '\0';
    *strchr(pdb, ' ') = '\0';
    ck_assert(dt_signature_refines(exp, pdb));
    free(exp);
    free(pdb);
    free(none);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("signature");
    TCase *tc = tcase_create("signature");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, refinement_is_names_arriving_only);
    tcase_add_test(tc, wine_dumps_without_and_with_their_pdbs);
    tcase_add_test(tc, export_only_application_name_is_its_module);
    suite_add_tcase(s, tc);
    return s;
}

DT_TEST_MAIN(suite)
