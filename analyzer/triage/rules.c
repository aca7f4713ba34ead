/*
 * rules.c — parsing and matching triage rules (see rules.h, triage.rules).
 */
#include "triage/rules.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/module.h"
#include "triage/triage_rules_default.h" /* generated: DT_TRIAGE_RULES_DEFAULT */

static const struct {
    const char *name;
    dt_rule_kind kind;
} kinds[] = {
    { "module_alias", DT_RULE_MODULE_ALIAS },       { "alias", DT_RULE_ALIAS },
    { "system_module", DT_RULE_SYSTEM_MODULE },     { "blocking", DT_RULE_BLOCKING },
    { "idle", DT_RULE_IDLE },                       { "snapshot", DT_RULE_SNAPSHOT },
    { "syscall_entry", DT_RULE_SYSCALL_ENTRY },     { "kernel_internal", DT_RULE_KERNEL_INTERNAL },
    { "kernel_module", DT_RULE_KERNEL_MODULE },     { "io_driver", DT_RULE_IO_DRIVER },
    { "idle_thread", DT_RULE_IDLE_THREAD },
};

static void lower(char *s)
{
    for (; *s; s++)
        *s = (char)tolower((unsigned char)*s);
}

static dt_status add_rule(dt_rules *r, dt_rule_kind kind, const char *category, const char *text,
                          const char *pattern, unsigned line, dt_error *err)
{
    if (r->count == r->cap) {
        size_t ncap = r->cap ? r->cap * 2 : 64;
        dt_rule *n = realloc(r->items, ncap * sizeof *n);
        if (!n)
            return dt_error_set(err, DT_ERR_NOMEM, "out of memory");
        r->items = n;
        r->cap = ncap;
    }
    dt_rule *x = &r->items[r->count];
    memset(x, 0, sizeof *x);
    x->kind = kind;
    x->line = line;
    x->category = category ? strdup(category) : NULL;
    x->text = text ? strdup(text) : NULL;
    x->pattern = strdup(pattern);
    if (!x->pattern || (category && !x->category) || (text && !x->text)) {
        free(x->category);
        free(x->text);
        free(x->pattern);
        return dt_error_set(err, DT_ERR_NOMEM, "out of memory");
    }
    lower(x->pattern);
    r->count++;
    return DT_OK;
}

/* Splits one line into tokens; a token in double quotes may hold spaces.
 * Returns the number of tokens or -1 for an unterminated quote. */
static int tokenize(char *line, char **tok, int max)
{
    int n = 0;
    char *p = line;
    while (*p && n < max) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p || *p == '#')
            break;
        if (*p == '"') {
            char *end = strchr(p + 1, '"');
            if (!end)
                return -1;
            *end = '\0';
            tok[n++] = p + 1;
            p = end + 1;
            continue;
        }
        tok[n++] = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        if (*p)
            *p++ = '\0';
    }
    return n;
}

dt_status dt_rules_parse(const char *text, dt_rules *out, dt_error *err)
{
    memset(out, 0, sizeof *out);
    char *copy = strdup(text ? text : "");
    if (!copy)
        return dt_error_set(err, DT_ERR_NOMEM, "out of memory");
    unsigned lineno = 0;
    dt_status st = DT_OK;
    char *save = NULL;
    for (char *line = copy; line && st == DT_OK; line = save) {
        save = strchr(line, '\n');
        if (save)
            *save++ = '\0';
        lineno++;
        char *tok[128];
        int n = tokenize(line, tok, 128);
        if (n < 0) {
            st = dt_error_set(err, DT_ERR_FORMAT, "rules line %u: unterminated quote", lineno);
            break;
        }
        if (n == 0)
            continue;
        int k = -1;
        for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
            if (strcmp(tok[0], kinds[i].name) == 0)
                k = (int)i;
        if (k < 0) {
            st = dt_error_set(err, DT_ERR_FORMAT, "rules line %u: unknown rule '%s'", lineno, tok[0]);
            break;
        }
        dt_rule_kind kind = kinds[k].kind;
        switch (kind) {
        case DT_RULE_MODULE_ALIAS:
        case DT_RULE_ALIAS:
            if (n != 3) {
                st = dt_error_set(err, DT_ERR_FORMAT, "rules line %u: %s takes FROM TO", lineno, tok[0]);
                break;
            }
            {
                char target[256];
                snprintf(target, sizeof target, "%s", tok[2]);
                lower(target);
                st = add_rule(out, kind, NULL, target, tok[1], lineno, err);
            }
            break;
        case DT_RULE_BLOCKING:
        case DT_RULE_IO_DRIVER:
            if (n < 4) {
                st = dt_error_set(err, DT_ERR_FORMAT, "rules line %u: %s takes CATEGORY \"TEXT\" PATTERN…",
                                  lineno, tok[0]);
                break;
            }
            for (int i = 3; i < n && st == DT_OK; i++)
                st = add_rule(out, kind, tok[1], tok[2], tok[i], lineno, err);
            break;
        case DT_RULE_IDLE:
        case DT_RULE_IDLE_THREAD:
            if (n < 3) {
                st = dt_error_set(err, DT_ERR_FORMAT, "rules line %u: idle takes \"TEXT\" PATTERN…", lineno);
                break;
            }
            for (int i = 2; i < n && st == DT_OK; i++)
                st = add_rule(out, kind, NULL, tok[1], tok[i], lineno, err);
            break;
        default:
            if (n < 2) {
                st = dt_error_set(err, DT_ERR_FORMAT, "rules line %u: %s needs at least one pattern", lineno,
                                  tok[0]);
                break;
            }
            for (int i = 1; i < n && st == DT_OK; i++)
                st = add_rule(out, kind, NULL, NULL, tok[i], lineno, err);
            break;
        }
    }
    free(copy);
    if (st != DT_OK)
        dt_rules_free(out);
    return st;
}

dt_status dt_rules_load_file(const char *path, dt_rules *out, dt_error *err)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f)
        return dt_error_set(err, DT_ERR_IO, "%s: cannot open rules file", path);
    /* A rules file is small; anything past 1 MiB is not one. */
    enum { MAX = 1 << 20 };
    char *buf = malloc(MAX + 1);
    if (!buf) {
        fclose(f);
        return dt_error_set(err, DT_ERR_NOMEM, "out of memory");
    }
    size_t n = fread(buf, 1, MAX + 1, f);
    fclose(f);
    if (n > MAX) {
        free(buf);
        return dt_error_set(err, DT_ERR_FORMAT, "%s: larger than 1 MiB, not a rules file", path);
    }
    buf[n] = '\0';
    dt_status st = dt_rules_parse(buf, out, err);
    free(buf);
    return st;
}

const char *dt_rules_default_text(void)
{
    return DT_TRIAGE_RULES_DEFAULT;
}

dt_status dt_rules_default(dt_rules *out, dt_error *err)
{
    return dt_rules_parse(DT_TRIAGE_RULES_DEFAULT, out, err);
}

void dt_rules_free(dt_rules *r)
{
    for (size_t i = 0; i < r->count; i++) {
        free(r->items[i].category);
        free(r->items[i].text);
        free(r->items[i].pattern);
    }
    free(r->items);
    memset(r, 0, sizeof *r);
}

/* Glob with a trailing '*' only; both sides lower-case. */
static bool pattern_matches(const char *pattern, const char *name)
{
    size_t pl = strlen(pattern);
    if (pl && pattern[pl - 1] == '*')
        return strncmp(pattern, name, pl - 1) == 0;
    return strcmp(pattern, name) == 0;
}

void dt_rules_normalize_module(const dt_rules *r, const char *module, char *out, size_t outsz)
{
    if (!outsz)
        return;
    /* The short name every part of the report uses (base/module.h: the
     * kernel image is "nt", the HAL "hal"), lower-cased for matching; the
     * rules' own module aliases apply after it. */
    dt_module_short_name(module, out, outsz);
    lower(out);
    if (!r)
        return;
    for (size_t i = 0; i < r->count; i++)
        if (r->items[i].kind == DT_RULE_MODULE_ALIAS && strcmp(r->items[i].pattern, out) == 0) {
            snprintf(out, outsz, "%s", r->items[i].text);
            break;
        }
}

void dt_rules_normalize(const dt_rules *r, const char *module, const char *function, char *out,
                        size_t outsz)
{
    char mod[256];
    dt_rules_normalize_module(r, module, mod, sizeof mod);
    if (function && *function) {
        char fn[512];
        snprintf(fn, sizeof fn, "%s", function);
        lower(fn);
        snprintf(out, outsz, "%s!%s", mod, fn);
    } else {
        snprintf(out, outsz, "%s", mod);
    }
    if (!r)
        return;
    for (size_t i = 0; i < r->count; i++)
        if (r->items[i].kind == DT_RULE_ALIAS && pattern_matches(r->items[i].pattern, out)) {
            snprintf(out, outsz, "%s", r->items[i].text);
            break;
        }
}

const dt_rule *dt_rules_match(const dt_rules *r, dt_rule_kind kind, const char *normalized)
{
    if (!r || !normalized)
        return NULL;
    for (size_t i = 0; i < r->count; i++)
        if (r->items[i].kind == kind && pattern_matches(r->items[i].pattern, normalized))
            return &r->items[i];
    return NULL;
}

bool dt_rules_module_is(const dt_rules *r, dt_rule_kind kind, const char *normalized_module)
{
    return dt_rules_match(r, kind, normalized_module) != NULL;
}
