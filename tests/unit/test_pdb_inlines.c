/*
 * test_pdb_inlines.c — inline frames from a PDB (analyzer/formats/pdb_inlines.c)
 * on wine/bin/clang/inline_jit.pdb, clang -O2 + lld (tests/tools/dumpfactory/
 * src/inline_jit.c: df_next_batch and df_wait_batch inlined into
 * df_serve_queue, name_thread and make_generated into the thread functions
 * and main).
 *
 * Oracles, at every byte of every procedure that has inline sites:
 *  - `llvm-pdbutil dump -symbols` lists each S_INLINESITE's binary
 *    annotations decoded ("code 0x13 (+0xA) line 3 (+1)", "code end 0x65"),
 *    and `dump -il` each inlinee's start line: the ranges and lines they
 *    spell must be ours, level by level;
 *  - `llvm-symbolizer --inlines` must give the same chain of function names
 *    and the procedure's line.  Its inline levels' lines are not compared:
 *    llvm 14 reports the line of the annotation row after the one covering
 *    the address (at the return address of the WaitForSingleObject call,
 *    +0x28 in df_serve_queue, it says line 46 `g_sink += r` while the range
 *    [0x1a, 0x2b) holding the call is line 45, the call itself).
 * Without the llvm tools the committed chain at the three call sites is
 * checked and the test reports a skip (77).  Also: damaged annotations give
 * a warning and bounded, in-procedure answers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dt_test.h"
#include "formats/pdb.h"

#define PDB_REL "wine/bin/clang/inline_jit.pdb"
#define EXE_REL "wine/bin/clang/inline_jit.exe"
#define IMAGE_BASE 0x140000000ull
#define PDBUTIL "/usr/bin/llvm-pdbutil"
#define SYMBOLIZER "/usr/bin/llvm-symbolizer"

static dt_pdb *open_pdb(void)
{
    dt_pdb *p = NULL;
    ck_assert_int_eq(dt_pdb_open(&p, dt_test_data(PDB_REL), NULL), DT_OK);
    return p;
}

static const dt_pdb_function *find_function(dt_pdb *p, const char *name)
{
    size_t n;
    const dt_pdb_function *f = dt_pdb_functions(p, &n, NULL);
    for (size_t i = 0; i < n; i++)
        if (strcmp(f[i].name, name) == 0)
            return &f[i];
    return NULL;
}

/* The three calls of WaitForSingleObject, one per unrolled iteration, at
 * df_serve_queue+0x26/+0x4d/+0x76 (3 bytes each): looked up at return
 * address - 1 as the walker does. */
START_TEST(committed_call_sites)
{
    dt_pdb *p = open_pdb();
    const dt_pdb_function *f = find_function(p, "df_serve_queue");
    ck_assert_ptr_nonnull(f);
    static const uint32_t ret_off[] = { 0x29, 0x50, 0x79 };
    for (size_t i = 0; i < 3; i++) {
        uint32_t rva = f->rva + ret_off[i] - 1;
        dt_pdb_symbol s;
        ck_assert(dt_pdb_lookup(p, rva, &s));
        ck_assert_str_eq(s.function, "df_serve_queue");
        ck_assert_uint_eq(s.line, 62); /* total += df_next_batch(ev); */
        dt_pdb_inline c[8];
        size_t n = dt_pdb_inlines(p, rva, s.function_rva, c, 8);
        ck_assert_uint_eq(n, 2);
        ck_assert_str_eq(c[0].function, "df_next_batch");
        ck_assert_uint_eq(c[0].line, 53); /* DWORD r = df_wait_batch(ev, INFINITE); */
        ck_assert_str_eq(c[0].file, "C:\\build\\inline_jit.c");
        ck_assert_str_eq(c[1].function, "df_wait_batch");
        ck_assert_uint_eq(c[1].line, 45); /* DWORD r = WaitForSingleObject(ev, ms); */
        /* a chain asked for with room for one keeps the innermost */
        ck_assert_uint_eq(dt_pdb_inlines(p, rva, s.function_rva, c, 1), 1);
        ck_assert_str_eq(c[0].function, "df_wait_batch");
        /* another procedure's start: nothing */
        ck_assert_uint_eq(dt_pdb_inlines(p, rva, s.function_rva + 1, c, 8), 0);
    }
    /* the procedure's prologue is not inlined code */
    dt_pdb_inline c[8];
    ck_assert_uint_eq(dt_pdb_inlines(p, f->rva, f->rva, c, 8), 0);
    dt_pdb_close(p);
}
END_TEST

/* ---- the llvm oracles --------------------------------------------------- */

static char **run(const char *cmd, size_t *n)
{
    FILE *f = popen(cmd, "r");
    if (!f)
        return NULL;
    size_t cap = 256;
    char **lines = malloc(cap * sizeof *lines);
    char *line = NULL;
    size_t lcap = 0;
    ssize_t len;
    *n = 0;
    while ((len = getline(&line, &lcap, f)) >= 0) {
        if (len && line[len - 1] == '\n')
            line[len - 1] = 0;
        if (*n + 1 >= cap)
            lines = realloc(lines, (cap *= 2) * sizeof *lines);
        lines[(*n)++] = strdup(line);
    }
    free(line);
    lines[*n] = NULL;
    pclose(f);
    return lines;
}

static void free_lines(char **l, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(l[i]);
    free(l);
}

typedef struct {
    uint32_t start, end, line; /* offsets in the procedure, absolute line */
} o_range;

typedef struct {
    long sym_off, parent_off;
    unsigned inlinee;
    char name[128];
    o_range r[64];
    size_t nr;
    int depth;
} o_site;

typedef struct {
    long sym_off;
    char name[128];
    uint32_t seg_off, size;
    o_site site[16];
    size_t nsite;
} o_proc;

static unsigned start_line_of(char **il, size_t nil, unsigned inlinee)
{
    /* the inline_jit.o module's table: "  0x1002 |    50 | C:\build\inline_jit.c (MD5: …)" */
    bool in = false;
    for (size_t i = 0; i < nil; i++) {
        if (strncmp(il[i], "Mod ", 4) == 0) {
            in = strstr(il[i], "inline_jit.o") != NULL;
            continue;
        }
        unsigned id, line;
        if (in && sscanf(il[i], " 0x%x | %u |", &id, &line) == 2 && id == inlinee)
            return line;
    }
    return 0;
}

/* Reads the procedures with inline sites from `dump -symbols` of the
 * inline_jit.o module and turns each site's decoded annotations into
 * ranges: a "code X" row starts a range at X (ending the open one), "line
 * N" rows set the line for the next range, "code end X" ends the open
 * range. */
static size_t oracle_procs(char **sy, size_t nsy, char **il, size_t nil, o_proc *procs, size_t max)
{
    size_t np = 0;
    bool in_mod = false;
    o_proc *cur = NULL;
    o_site *site = NULL;
    bool open = false;
    int line = 0;
    unsigned base = 0;
    for (size_t i = 0; i < nsy; i++) {
        const char *l = sy[i];
        if (strncmp(l, "Mod ", 4) == 0) {
            in_mod = strstr(l, "inline_jit.o") != NULL;
            continue;
        }
        if (!in_mod)
            continue;
        long off;
        char kind[32];
        if (sscanf(l, " %ld | %31s", &off, kind) == 2) {
            if (site && open)
                site->r[site->nr - 1].end = cur->size; /* unterminated: to the end */
            open = false;
            site = NULL;
            if ((strcmp(kind, "S_GPROC32") == 0 || strcmp(kind, "S_LPROC32") == 0) && np < max) {
                cur = &procs[np++];
                memset(cur, 0, sizeof *cur);
                cur->sym_off = off;
                const char *q = strchr(l, '`');
                if (q)
                    sscanf(q + 1, "%127[^`]", cur->name);
                unsigned seg, so, sz;
                if (i + 1 < nsy && sscanf(strstr(sy[i + 1], "addr = ") ? strstr(sy[i + 1], "addr = ") : "",
                                          "addr = %x:%u, code size = %u", &seg, &so, &sz) == 3) {
                    cur->seg_off = so;
                    cur->size = sz;
                }
            } else if (strcmp(kind, "S_INLINESITE") == 0 && cur && cur->nsite < 16) {
                site = &cur->site[cur->nsite++];
                memset(site, 0, sizeof *site);
                site->sym_off = off;
                const char *q = i + 1 < nsy ? strstr(sy[i + 1], "inlinee = ") : NULL;
                ck_assert(q && sscanf(q, "inlinee = 0x%x (%127[^)]), parent = %ld", &site->inlinee, site->name,
                                      &site->parent_off) == 3);
                base = start_line_of(il, nil, site->inlinee);
                ck_assert_uint_gt(base, 0);
                line = 0;
                i++;
            }
            continue;
        }
        if (!site)
            continue;
        unsigned x;
        int ln;
        const char *c = strstr(l, "code end 0x");
        if (c && sscanf(c, "code end 0x%x", &x) == 1) {
            if (open)
                site->r[site->nr - 1].end = x;
            open = false;
            continue;
        }
        const char *lp = strstr(l, "line ");
        if (lp && sscanf(lp, "line %d", &ln) == 1)
            line = ln;
        c = strstr(l, "code 0x");
        if (c && sscanf(c, "code 0x%x", &x) == 1) {
            if (open)
                site->r[site->nr - 1].end = x;
            ck_assert_uint_lt(site->nr, 64);
            site->r[site->nr++] = (o_range){ x, 0, base + (unsigned)line };
            open = true;
        }
    }
    if (site && open)
        site->r[site->nr - 1].end = cur->size;
    /* depths from the parent links */
    for (size_t k = 0; k < np; k++)
        for (size_t s = 0; s < procs[k].nsite; s++) {
            o_site *t = &procs[k].site[s];
            long parent = t->parent_off;
            t->depth = 0;
            for (int hop = 0; hop < 16 && parent != procs[k].sym_off; hop++) {
                size_t j = 0;
                while (j < procs[k].nsite && procs[k].site[j].sym_off != parent)
                    j++;
                ck_assert_uint_lt(j, procs[k].nsite);
                parent = procs[k].site[j].parent_off;
                t->depth++;
            }
        }
    return np;
}

START_TEST(every_address_against_llvm)
{
    if (access(PDBUTIL, X_OK) != 0 || access(SYMBOLIZER, X_OK) != 0) {
        dt_test_skip("llvm-pdbutil / llvm-symbolizer not installed: only the committed call sites were checked");
        return;
    }
    char cmd[4200];
    size_t nsy, nil;
    snprintf(cmd, sizeof cmd, PDBUTIL " dump -symbols '%s' 2>/dev/null", dt_test_data(PDB_REL));
    char **sy = run(cmd, &nsy);
    snprintf(cmd, sizeof cmd, PDBUTIL " dump -il '%s' 2>/dev/null", dt_test_data(PDB_REL));
    char **il = run(cmd, &nil);
    ck_assert(sy && il && nsy > 100 && nil > 4);
    static o_proc procs[64];
    size_t np = oracle_procs(sy, nsy, il, nil, procs, 64);
    dt_pdb *p = open_pdb();
    /* every byte of every procedure with inline sites */
    char addrs[] = "/tmp/dt_pdb_inlines_XXXXXX";
    int fd = mkstemp(addrs);
    ck_assert_int_ge(fd, 0);
    FILE *af = fdopen(fd, "w");
    size_t checked = 0, inlined = 0, nsites = 0;
    for (size_t k = 0; k < np; k++) {
        if (!procs[k].nsite)
            continue;
        nsites += procs[k].nsite;
        uint32_t proc_rva;
        ck_assert(dt_pdb_rva(p, 1, procs[k].seg_off, &proc_rva));
        for (uint32_t o = 0; o < procs[k].size; o++)
            fprintf(af, "0x%llx\n", (unsigned long long)(IMAGE_BASE + proc_rva + o));
    }
    fclose(af);
    ck_assert_uint_eq(nsites, 6);
    snprintf(cmd, sizeof cmd, SYMBOLIZER " --inlines --obj='%s' < %s 2>/dev/null", dt_test_data(EXE_REL), addrs);
    size_t nsz;
    char **sz = run(cmd, &nsz);
    unlink(addrs);
    size_t at = 0; /* position in the symbolizer's output */
    for (size_t k = 0; k < np; k++) {
        const o_proc *pr = &procs[k];
        if (!pr->nsite)
            continue;
        uint32_t proc_rva;
        dt_pdb_rva(p, 1, pr->seg_off, &proc_rva);
        for (uint32_t o = 0; o < pr->size; o++) {
            uint32_t rva = proc_rva + o;
            dt_pdb_symbol s;
            ck_assert(dt_pdb_lookup(p, rva, &s));
            ck_assert_str_eq(s.function, pr->name);
            dt_pdb_inline ours[16];
            size_t n = dt_pdb_inlines(p, rva, s.function_rva, ours, 16);
            /* pdbutil: the covering range of each site, by depth */
            const o_site *want[16] = { 0 };
            uint32_t want_line[16] = { 0 };
            size_t nw = 0;
            for (size_t t = 0; t < pr->nsite; t++)
                for (size_t r = 0; r < pr->site[t].nr; r++)
                    if (o >= pr->site[t].r[r].start && o < pr->site[t].r[r].end) {
                        int d = pr->site[t].depth;
                        ck_assert_msg(!want[d], "%s+0x%x: two sites at depth %d", pr->name, o, d);
                        want[d] = &pr->site[t];
                        want_line[d] = pr->site[t].r[r].line;
                        if ((size_t)d + 1 > nw)
                            nw = (size_t)d + 1;
                    }
            ck_assert_msg(n == nw, "%s+0x%x: %zu inline levels, llvm-pdbutil's annotations give %zu", pr->name, o,
                          n, nw);
            for (size_t d = 0; d < n; d++) {
                ck_assert_msg(want[d], "%s+0x%x: no site at depth %zu", pr->name, o, d);
                ck_assert_str_eq(ours[d].function, want[d]->name);
                ck_assert_msg(ours[d].line == want_line[d], "%s+0x%x %s: line %u, annotations say %u", pr->name, o,
                              ours[d].function, ours[d].line, want_line[d]);
                ck_assert_str_eq(ours[d].file, "C:\\build\\inline_jit.c");
            }
            inlined += n > 0;
            /* llvm-symbolizer: innermost first, then the procedure, each
             * "name" then "file:line:col", a blank line after the address */
            size_t lv = 0;
            char names[18][128];
            unsigned last_line = 0;
            while (at + 1 < nsz && sz[at][0]) {
                ck_assert_uint_lt(lv, 18);
                snprintf(names[lv++], sizeof names[0], "%s", sz[at]);
                const char *colon = strrchr(sz[at + 1], ':');
                ck_assert_ptr_nonnull(colon);
                const char *c2 = colon;
                while (c2 > sz[at + 1] && c2[-1] != ':')
                    c2--;
                last_line = (unsigned)strtoul(c2, NULL, 10);
                at += 2;
            }
            at++;
            ck_assert_msg(lv == n + 1, "%s+0x%x: llvm-symbolizer gives %zu levels, we %zu", pr->name, o, lv, n + 1);
            for (size_t d = 0; d < n; d++)
                ck_assert_str_eq(names[d], ours[n - 1 - d].function);
            ck_assert_str_eq(names[n], s.function);
            ck_assert_msg(last_line == s.line, "%s+0x%x: line %u, llvm-symbolizer %u", pr->name, o, s.line,
                          last_line);
            checked++;
        }
    }
    ck_assert_uint_gt(checked, 400);
    ck_assert_uint_gt(inlined, 200);
    fprintf(stderr, "test_pdb_inlines: %zu addresses in %zu sites, %zu in inlined code, equal to llvm\n", checked,
            nsites, inlined);
    free_lines(sz, nsz);
    free_lines(sy, nsy);
    free_lines(il, nil);
    dt_pdb_close(p);
}
END_TEST

/* ---- C++ names ---------------------------------------------------------- */

/* symbols/inline_cpp.pdb (clang -O2 for x86_64-pc-windows-msvc, lld-link;
 * symbols/inline_cpp.cpp): store::probe (LF_FUNC_ID whose scope is the
 * LF_STRING_ID "store") and store::Cache::lookup (LF_MFUNC_ID of the TPI
 * class store::Cache) inlined into df_serve.  Committed: the chain at
 * df_serve+0xe; with llvm-symbolizer: the names at every byte. */
START_TEST(cpp_scoped_names)
{
    dt_pdb *p = NULL;
    ck_assert_int_eq(dt_pdb_open(&p, dt_test_data("symbols/inline_cpp.pdb"), NULL), DT_OK);
    const dt_pdb_function *f = find_function(p, "df_serve");
    ck_assert_ptr_nonnull(f);
    dt_pdb_inline c[8];
    ck_assert_uint_eq(dt_pdb_inlines(p, f->rva + 0xe, f->rva, c, 8), 2);
    ck_assert_str_eq(c[0].function, "store::probe");
    ck_assert_uint_eq(c[0].line, 11);
    ck_assert_str_eq(c[1].function, "store::Cache::lookup");
    ck_assert_uint_eq(c[1].line, 9);
    ck_assert_str_eq(c[1].file, "C:\\build\\inline_cpp.cpp");
    if (access(SYMBOLIZER, X_OK) != 0) {
        dt_pdb_close(p);
        dt_test_skip("llvm-symbolizer not installed: only the committed chain was checked");
        return;
    }
    char addrs[] = "/tmp/dt_pdb_inlines_cpp_XXXXXX";
    int fd = mkstemp(addrs);
    ck_assert_int_ge(fd, 0);
    FILE *af = fdopen(fd, "w");
    for (uint32_t o = 0; o < f->size; o++)
        fprintf(af, "0x%llx\n", (unsigned long long)(IMAGE_BASE + f->rva + o));
    fclose(af);
    char cmd[4200];
    snprintf(cmd, sizeof cmd, SYMBOLIZER " --inlines --obj='%s' < %s 2>/dev/null",
             dt_test_data("symbols/inline_cpp.exe"), addrs);
    size_t nsz;
    char **sz = run(cmd, &nsz);
    unlink(addrs);
    size_t at = 0, inlined = 0;
    for (uint32_t o = 0; o < f->size; o++) {
        dt_pdb_symbol s;
        ck_assert(dt_pdb_lookup(p, f->rva + o, &s));
        size_t n = dt_pdb_inlines(p, f->rva + o, s.function_rva, c, 8);
        size_t lv = 0;
        while (at + 1 < nsz && sz[at][0]) {
            if (lv < n)
                ck_assert_str_eq(sz[at], c[n - 1 - lv].function);
            else
                ck_assert_str_eq(sz[at], s.function);
            lv++;
            at += 2;
        }
        at++;
        ck_assert_msg(lv == n + 1, "df_serve+0x%x: llvm-symbolizer %zu levels, we %zu", o, lv, n + 1);
        inlined += n > 0;
    }
    ck_assert_uint_gt(inlined, 20);
    free_lines(sz, nsz);
    dt_pdb_close(p);
}
END_TEST

/* ---- damaged annotations --------------------------------------------------- */

/* df_next_batch's site in df_serve_queue: its annotations begin
 * 0B 49 0B 2A 06 02 03 1E (llvm-pdbutil's listing above). */
static uint8_t *find_bytes(uint8_t *d, size_t n, const uint8_t *pat, size_t pn)
{
    for (size_t i = 0; i + pn <= n; i++)
        if (memcmp(d + i, pat, pn) == 0)
            return d + i;
    return NULL;
}

static void check_damaged(void (*damage)(uint8_t *ann), bool warns)
{
    size_t n;
    uint8_t *d = dt_test_read_file(dt_test_data(PDB_REL), &n);
    ck_assert_ptr_nonnull(d);
    static const uint8_t pat[] = { 0x0B, 0x49, 0x0B, 0x2A, 0x06, 0x02, 0x03, 0x1E };
    uint8_t *ann = find_bytes(d, n, pat, sizeof pat);
    ck_assert_ptr_nonnull(ann);
    damage(ann);
    dt_pdb *p = NULL;
    ck_assert_int_eq(dt_pdb_open_view(&p, dt_view_make(d, n), NULL), DT_OK);
    const dt_pdb_function *f = find_function(p, "df_serve_queue");
    ck_assert_ptr_nonnull(f);
    for (uint32_t o = 0; o < f->size + 16; o++) {
        dt_pdb_inline c[16];
        size_t k = dt_pdb_inlines(p, f->rva + o, f->rva, c, 16);
        ck_assert_uint_le(k, 2);
        if (o >= f->size)
            ck_assert_uint_eq(k, 0); /* nothing outside the procedure */
    }
    bool warned = false;
    const dt_warnings *w = dt_pdb_warnings(p);
    for (size_t i = 0; i < w->count; i++)
        warned |= strstr(w->items[i], "binary annotations") != NULL;
    ck_assert_int_eq(warned, warns);
    dt_pdb_close(p);
    free(d);
}

static void bad_operand(uint8_t *ann) { ann[1] = 0xFF; }              /* no such compressed integer */
static void huge_length(uint8_t *ann) { ann[6] = 0x04; ann[7] = 0x7F; } /* ChangeCodeLength past the end */
static void bad_opcode(uint8_t *ann) { ann[2] = 0x0E; }               /* opcode 14 does not exist */

START_TEST(damaged_annotations)
{
    check_damaged(bad_operand, true);
    check_damaged(huge_length, true);
    check_damaged(bad_opcode, true);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("pdb_inlines");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, committed_call_sites);
    tcase_add_test(tc, every_address_against_llvm);
    tcase_add_test(tc, damaged_annotations);
    tcase_add_test(tc, cpp_scoped_names);
    suite_add_tcase(s, tc);
    return s;
}

DT_TEST_MAIN(suite)
