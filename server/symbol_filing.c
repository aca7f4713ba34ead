/*
 * symbol_filing.c — see symbol_filing.h.
 *
 * Re-symbolication looks for reports that name an uploaded identity: SQL's
 * instr() narrows the candidates to reports whose text holds the id (cheap,
 * no JSON parsing), then each candidate is parsed and its modules checked
 * exactly, so a report that merely mentions the id elsewhere is not queued.
 */
#include "symbol_filing.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "formats/breakpad_sym.h"
#include "formats/pdb.h"
#include "formats/pe.h"
#include "base/mapped_file.h"
#include "secrets.h"
#include "store_internal.h"
#include "symbols/symsrv.h"
#include "base/utf8.h"

#define MAX_REQUEUE 10000

static const char pdb_magic[] = "Microsoft C/C++ MSF 7.00\r\n\x1a" "DS";

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n > m && strcasecmp(s + n - m, suffix) == 0;
}

int dt_symbol_filing_sniff(const uint8_t *head, size_t len)
{
    if (len >= sizeof pdb_magic - 1 && memcmp(head, pdb_magic, sizeof pdb_magic - 1) == 0)
        return 1;
    if (len >= 2 && head[0] == 'M' && head[1] == 'Z')
        return 1;
    return len >= 7 && memcmp(head, "MODULE ", 7) == 0;
}

static dt_status set_paths(dt_symbol_filing_entry *out, const char *dir, const char *file, dt_error *err)
{
    if (!dt_symsrv_valid_key(dir, out->ident) || !dt_symsrv_valid_key(file, out->ident))
        return dt_error_set(err, DT_ERR_ARG, "'%s' with id '%s' is not a valid symbol store key", dir, out->ident);
    snprintf(out->name, sizeof out->name, "%s", file);
    int n = snprintf(out->path, sizeof out->path, "%s/%s/%s", dir, out->ident, file);
    if (n < 0 || (size_t)n >= sizeof out->path)
        return dt_error_set(err, DT_ERR_ARG, "the symbol file name is too long");
    return DT_OK;
}

static dt_status identify_pdb(const char *path, const char *name, dt_symbol_filing_entry *out, dt_error *err)
{
    if (!name || !*name)
        return dt_error_set(err, DT_ERR_ARG, "a PDB needs its file name (?name=x.pdb or the multipart filename)");
    if (!has_suffix(name, ".pdb"))
        return dt_error_set(err, DT_ERR_ARG, "'%s' holds a PDB but is not named *.pdb", name);
    dt_pdb *pdb = NULL;
    dt_status rc = dt_pdb_open(&pdb, path, err);
    if (rc != DT_OK)
        return rc;
    const dt_pdb_info *info = dt_pdb_get_info(pdb);
    snprintf(out->kind, sizeof out->kind, "pdb");
    snprintf(out->ident, sizeof out->ident, "%s", info->debug_id);
    snprintf(out->match_file, sizeof out->match_file, "%s", name);
    dt_pdb_close(pdb);
    if (!out->ident[0])
        return dt_error_set(err, DT_ERR_FORMAT, "the PDB has no identity (no info stream)");
    return set_paths(out, name, name, err);
}

static dt_status identify_pe(const char *path, const char *name, dt_symbol_filing_entry *out, dt_error *err)
{
    if (!name || !*name)
        return dt_error_set(err, DT_ERR_ARG, "an image needs its file name (?name=x.dll or the multipart filename)");
    dt_mapped_file f;
    dt_status rc = dt_mapped_file_open(&f, path, err);
    if (rc != DT_OK)
        return rc;
    dt_pe pe;
    rc = dt_pe_open_file(&pe, f.view, err);
    if (rc == DT_OK) {
        char code_id[32];
        dt_pe_code_id(&pe, code_id);
        snprintf(out->kind, sizeof out->kind, "pe");
        snprintf(out->ident, sizeof out->ident, "%s", code_id);
        snprintf(out->match_file, sizeof out->match_file, "%s", name);
        dt_pe_close(&pe);
    }
    dt_mapped_file_close(&f);
    if (rc != DT_OK)
        return rc == DT_ERR_NOMEM ? rc : DT_ERR_FORMAT;
    return set_paths(out, name, name, err);
}

static dt_status identify_breakpad(const char *path, dt_symbol_filing_entry *out, dt_error *err)
{
    dt_breakpad_sym *sym = NULL;
    dt_status rc = dt_breakpad_sym_load(&sym, path, err);
    if (rc != DT_OK)
        return rc == DT_ERR_NOMEM ? rc : DT_ERR_FORMAT;
    const dt_breakpad_module *m = dt_breakpad_sym_module(sym);
    char file[256] = "";
    if (m && m->debug_file && m->debug_id) {
        snprintf(out->kind, sizeof out->kind, "breakpad");
        dt_utf8_sanitize(m->debug_id, out->ident, sizeof out->ident);
        /* The MODULE line is the client's text: stored and echoed as
         * valid UTF-8 (a name with invalid bytes then fails the key check). */
        dt_utf8_sanitize(m->debug_file, out->match_file, sizeof out->match_file);
        /* name.pdb/ID/name.sym: the .sym is named after the PDB's stem. */
        snprintf(file, sizeof file, "%s", out->match_file);
        char *dot = strrchr(file, '.');
        if (dot && strcasecmp(dot, ".pdb") == 0)
            *dot = 0;
        if (strlen(file) + 5 <= sizeof file)
            strcat(file, ".sym");
    }
    dt_breakpad_sym_free(sym);
    if (!file[0])
        return dt_error_set(err, DT_ERR_FORMAT, "the Breakpad file has no usable MODULE line");
    return set_paths(out, out->match_file, file, err);
}

dt_status dt_symbol_filing_identify(const char *path, const char *name, dt_symbol_filing_entry *out, dt_error *err)
{
    memset(out, 0, sizeof *out);
    uint8_t head[32];
    FILE *f = fopen(path, "rb");
    if (!f)
        return dt_error_set(err, DT_ERR_IO, "cannot open the received file");
    size_t n = fread(head, 1, sizeof head, f);
    struct stat st;
    if (fstat(fileno(f), &st) == 0)
        out->size = (uint64_t)st.st_size;
    fclose(f);
    if (n >= sizeof pdb_magic - 1 && memcmp(head, pdb_magic, sizeof pdb_magic - 1) == 0)
        return identify_pdb(path, name, out, err);
    if (n >= 2 && head[0] == 'M' && head[1] == 'Z')
        return identify_pe(path, name, out, err);
    if (n >= 7 && memcmp(head, "MODULE ", 7) == 0)
        return identify_breakpad(path, out, err);
    return dt_error_set(err, DT_ERR_FORMAT, "not a PDB, a PE image or a Breakpad .sym file");
}

void dt_symbol_filing_dir(const char *data_dir, char *out, size_t len)
{
    snprintf(out, len, "%s/symbols", data_dir);
}

static int make_dir(const char *p)
{
    return mkdir(p, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

dt_status dt_symbol_filing_place(const char *data_dir, const char *src, const dt_symbol_filing_entry *e, dt_error *err)
{
    char dir[1200], full[2000];
    dt_symbol_filing_dir(data_dir, dir, sizeof dir);
    if (make_dir(dir) != 0)
        return dt_error_set(err, DT_ERR_IO, "cannot create the symbol store: %s", strerror(errno));
    /* e->path is dir/ident/name with components validated by set_paths. */
    const char *p = e->path;
    for (int level = 0; level < 2; level++) {
        const char *slash = strchr(p, '/');
        if (!slash)
            return dt_error_set(err, DT_ERR_ARG, "bad symbol path");
        p = slash + 1;
        int n = snprintf(full, sizeof full, "%s/%.*s", dir, (int)(p - 1 - e->path), e->path);
        if (n < 0 || (size_t)n >= sizeof full || make_dir(full) != 0)
            return dt_error_set(err, DT_ERR_IO, "cannot create a symbol store directory: %s", strerror(errno));
    }
    int n = snprintf(full, sizeof full, "%s/%s", dir, e->path);
    if (n < 0 || (size_t)n >= sizeof full)
        return dt_error_set(err, DT_ERR_ARG, "symbol path too long");
    if (rename(src, full) != 0)
        return dt_error_set(err, DT_ERR_IO, "cannot store %s: %s", e->name, strerror(errno));
    return DT_OK;
}

dt_status dt_store_symbol_record(dt_store *s, const dt_symbol_filing_entry *e, int64_t token_id, dt_error *err)
{
    dt_stmt *st = dt_sql_prepare(s,
        "INSERT INTO symbol_files(name, ident, kind, match_file, path, size, sha256, uploaded_at, uploaded_by)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
        " ON CONFLICT(name, ident, kind) DO UPDATE SET match_file = excluded.match_file, path = excluded.path,"
        " size = excluded.size, sha256 = excluded.sha256, uploaded_at = excluded.uploaded_at,"
        " uploaded_by = excluded.uploaded_by", err);
    if (!st)
        return DT_ERR_IO;
    dt_sql_bind_text(st, 1, e->name);
    dt_sql_bind_text(st, 2, e->ident);
    dt_sql_bind_text(st, 3, e->kind);
    dt_sql_bind_text(st, 4, e->match_file);
    dt_sql_bind_text(st, 5, e->path);
    dt_stmt_bind_int64(st, 6, (int64_t)e->size);
    dt_sql_bind_text(st, 7, e->sha256);
    dt_stmt_bind_int64(st, 8, dt_now());
    if (token_id > 0)
        dt_stmt_bind_int64(st, 9, token_id);
    else
        dt_stmt_bind_null(st, 9);
    int rc = dt_stmt_step(st);
    dt_stmt_finalize(st);
    if (rc != DT_DB_DONE)
        return dt_error_set(err, DT_ERR_IO, "cannot record the symbol file: %s", dt_db_errmsg(s->db));
    return DT_OK;
}

cJSON *dt_store_symbol_list(dt_store *s)
{
    cJSON *out = cJSON_CreateObject();
    cJSON *items = cJSON_AddArrayToObject(out, "items");
    dt_stmt *st = dt_sql_prepare(s,
        "SELECT f.name, f.ident, f.kind, f.match_file, f.size, f.sha256, f.uploaded_at, f.uploaded_by, t.name"
        " FROM symbol_files f LEFT JOIN tokens t ON t.id = f.uploaded_by"
        " ORDER BY f.uploaded_at DESC, f.id DESC", NULL);
    while (st && dt_stmt_step(st) == DT_DB_ROW) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToObject(o, "name", dt_sql_column_json(st, 0));
        cJSON_AddItemToObject(o, "id", dt_sql_column_json(st, 1));
        cJSON_AddItemToObject(o, "kind", dt_sql_column_json(st, 2));
        cJSON_AddItemToObject(o, "module", dt_sql_column_json(st, 3));
        cJSON_AddNumberToObject(o, "size", (double)dt_stmt_int64(st, 4));
        cJSON_AddItemToObject(o, "sha256", dt_sql_column_json(st, 5));
        cJSON_AddNumberToObject(o, "uploaded_at", (double)dt_stmt_int64(st, 6));
        cJSON *by = cJSON_AddObjectToObject(o, "uploaded_by");
        if (dt_stmt_is_null(st, 7)) {
            cJSON_AddNullToObject(by, "token_id");
        } else {
            cJSON_AddNumberToObject(by, "token_id", (double)dt_stmt_int64(st, 7));
        }
        cJSON_AddItemToObject(by, "name", dt_sql_column_json(st, 8));
        cJSON_AddItemToArray(items, o);
    }
    dt_stmt_finalize(st);
    return out;
}

static const char *basename_of(const char *p)
{
    const char *b = p;
    for (; *p; p++)
        if (*p == '/' || *p == '\\')
            b = p + 1;
    return b;
}

static const char *str_of(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The module lacks real symbols: nothing, or only its exports. */
static int lacks_symbols(const cJSON *m)
{
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "missing_symbols")))
        return 1;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, "symbol_source");
    /* Kernel drivers carry null until something was loaded for them. */
    if (!v || cJSON_IsNull(v))
        return !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "loaded_symbols"));
    const char *src = cJSON_IsString(v) ? v->valuestring : NULL;
    return src && (strcmp(src, "missing_symbols") == 0 || strcmp(src, "exports") == 0);
}

static int module_matches(const cJSON *m, const dt_symbol_filing_entry *e)
{
    if (!lacks_symbols(m))
        return 0;
    if (strcmp(e->kind, "pe") == 0) {
        const char *id = str_of(m, "code_id");
        const char *file = str_of(m, "filename");
        if (!file)
            file = str_of(m, "name");
        if (!file)
            file = str_of(m, "path");
        return id && file && strcasecmp(id, e->ident) == 0 && strcasecmp(basename_of(file), e->match_file) == 0;
    }
    const char *id = str_of(m, "debug_id");
    const char *file = str_of(m, "debug_file");
    return id && file && strcasecmp(id, e->ident) == 0 && strcasecmp(basename_of(file), e->match_file) == 0;
}

static int report_needs(const char *json, const dt_symbol_filing_entry *e)
{
    cJSON *root = cJSON_Parse(json);
    if (!root)
        return 0;
    static const char *const lists[][2] = { { "user", "modules" }, { "kernel", "drivers" }, { "kernel", "modules" } };
    int hit = 0;
    for (size_t i = 0; i < sizeof lists / sizeof lists[0] && !hit; i++) {
        const cJSON *side = cJSON_GetObjectItemCaseSensitive(root, lists[i][0]);
        const cJSON *mods = cJSON_GetObjectItemCaseSensitive(side, lists[i][1]);
        const cJSON *m;
        if (!cJSON_IsArray(mods))
            continue;
        cJSON_ArrayForEach(m, mods) {
            if (module_matches(m, e)) {
                hit = 1;
                break;
            }
        }
    }
    cJSON_Delete(root);
    return hit;
}

static int add_seq(int64_t **seqs, size_t *n, size_t *cap, int64_t seq)
{
    for (size_t i = 0; i < *n; i++)
        if ((*seqs)[i] == seq)
            return 0;
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        int64_t *ns = realloc(*seqs, nc * sizeof *ns);
        if (!ns)
            return -1;
        *seqs = ns;
        *cap = nc;
    }
    (*seqs)[(*n)++] = seq;
    return 0;
}

int dt_store_symbol_requeue(dt_store *s, const dt_symbol_filing_entry *e, size_t n, dt_error *err)
{
    int64_t *seqs = NULL;
    size_t nseqs = 0, cap = 0;
    for (size_t i = 0; i < n; i++) {
        char lower[sizeof e[i].ident], upper[sizeof e[i].ident];
        for (size_t j = 0; j < sizeof lower; j++) {
            lower[j] = (char)tolower((unsigned char)e[i].ident[j]);
            upper[j] = (char)toupper((unsigned char)e[i].ident[j]);
        }
        /* Not an upload whose dump the retention policy deleted: there is
         * nothing to analyse again (POST …/reanalyze answers 410 for it), and
         * the attempt would turn a done upload into a failed one.  It keeps
         * its report and its signature's bucket (docs/triage.md). */
        dt_stmt *st = dt_sql_prepare(s, DT_STORE_PG(s)
            ? "SELECT u.seq, r.json FROM uploads u JOIN reports r ON r.id = u.report_id"
              " WHERE u.status = 'done' AND (strpos(r.json, ?1) > 0 OR strpos(r.json, ?2) > 0)"
              " AND NOT EXISTS (SELECT 1 FROM files f WHERE f.upload_seq = u.seq AND f.purged_at IS NOT NULL)"
            : "SELECT u.seq, r.json FROM uploads u JOIN reports r ON r.id = u.report_id"
              " WHERE u.status = 'done' AND (instr(r.json, ?1) > 0 OR instr(r.json, ?2) > 0)"
              " AND NOT EXISTS (SELECT 1 FROM files f WHERE f.upload_seq = u.seq AND f.purged_at IS NOT NULL)", err);
        if (!st) {
            free(seqs);
            return -1;
        }
        dt_sql_bind_text(st, 1, upper);
        dt_sql_bind_text(st, 2, lower);
        while (dt_stmt_step(st) == DT_DB_ROW && nseqs < MAX_REQUEUE) {
            const char *json = (const char *)dt_stmt_text(st, 1);
            if (json && report_needs(json, &e[i]) && add_seq(&seqs, &nseqs, &cap, dt_stmt_int64(st, 0)) != 0) {
                dt_stmt_finalize(st);
                free(seqs);
                dt_error_set(err, DT_ERR_NOMEM, "out of memory");
                return -1;
            }
        }
        dt_stmt_finalize(st);
    }
    int queued = 0;
    for (size_t i = 0; i < nseqs; i++) {
        if (dt_store_upload_reanalyze(s, seqs[i], err) != DT_OK) {
            free(seqs);
            return -1;
        }
        queued++;
    }
    free(seqs);
    return queued;
}
