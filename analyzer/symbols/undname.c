/*
 * undname.c — MSVC name undecoration (see undname.h).
 *
 * A recursive-descent reader of the decoration grammar that renders as it
 * reads.  A type is rendered as a (pre, post) pair so that declarators
 * nest the C way: "int (*)[3]", "void (__cdecl *)(int)".  All strings live
 * in one arena per call whose size bounds the work: a decoration bomb (deep
 * nesting, back-references multiplying output) runs out of arena or depth
 * and yields NULL, never unbounded time or memory.
 */
#include "symbols/undname.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_SIZE (64u * 1024u)
#define MAX_DEPTH 48
#define MAX_BACKREFS 10

typedef struct {
    const char *pre;  /* text before the declarator name */
    const char *post; /* text after it (arrays, function parameters) */
    bool is_func;     /* a function type: a pointer to it needs parentheses */
    bool is_array;
    bool is_ptr;      /* its own cv is part of its encoding (P/Q/R/S) */
} ty;

typedef struct {
    const char *names[MAX_BACKREFS];
    int nnames;
    const char *types[MAX_BACKREFS];
    int ntypes;
} backrefs;

typedef struct {
    const char *s; /* input, NUL-terminated */
    size_t len;    /* strlen(s); pos may pass it after a bad code, reads never do */
    size_t pos;
    int depth;
    bool fail;
    char *arena;
    size_t used;
    backrefs br;
} ctx;

/* ---- arena strings -------------------------------------------------------- */

static char *cat(ctx *c, int n, ...)
{
    if (c->fail)
        return NULL;
    va_list ap;
    size_t len = 0;
    va_start(ap, n);
    for (int i = 0; i < n; i++) {
        const char *p = va_arg(ap, const char *);
        len += p ? strlen(p) : 0;
    }
    va_end(ap);
    if (len >= DT_UNDNAME_MAX_OUTPUT || c->used + len + 1 > ARENA_SIZE) {
        c->fail = true;
        return NULL;
    }
    char *out = c->arena + c->used, *w = out;
    va_start(ap, n);
    for (int i = 0; i < n; i++) {
        const char *p = va_arg(ap, const char *);
        size_t l = p ? strlen(p) : 0;
        memcpy(w, p ? p : "", l);
        w += l;
    }
    va_end(ap);
    *w = '\0';
    c->used += len + 1;
    return out;
}

static char *dupn(ctx *c, const char *p, size_t n)
{
    if (c->fail || n >= DT_UNDNAME_MAX_OUTPUT || c->used + n + 1 > ARENA_SIZE) {
        c->fail = true;
        return NULL;
    }
    char *out = c->arena + c->used;
    memcpy(out, p, n);
    out[n] = '\0';
    c->used += n + 1;
    return out;
}

static char peek(const ctx *c) { return c->pos < c->len ? c->s[c->pos] : '\0'; }
static bool starts(const ctx *c, const char *p) { return c->pos < c->len && strncmp(c->s + c->pos, p, strlen(p)) == 0; }
static bool eat(ctx *c, const char *p)
{
    if (!starts(c, p))
        return false;
    c->pos += strlen(p);
    return true;
}
static void *failp(ctx *c)
{
    c->fail = true;
    return NULL;
}
static bool enter(ctx *c)
{
    if (++c->depth > MAX_DEPTH)
        c->fail = true;
    return !c->fail;
}
static void leave(ctx *c) { c->depth--; }

static bool ends_with_ptr(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n && (s[n - 1] == '*' || s[n - 1] == '&');
}

/* "type name": no space after a pointer or reference. */
static char *decl(ctx *c, ty t, const char *name)
{
    if (!name || !*name)
        return cat(c, 2, t.pre, t.post);
    return cat(c, 4, t.pre, ends_with_ptr(t.pre) ? "" : " ", name, t.post);
}
static char *type_str(ctx *c, ty t) { return cat(c, 2, t.pre, t.post); }

/* ---- numbers ------------------------------------------------------------------ */

/* 0-9 are 1-10; otherwise hex digits A-P ending in '@'; '?' negates. */
static bool number(ctx *c, bool *neg, uint64_t *v)
{
    *neg = eat(c, "?");
    char ch = peek(c);
    if (ch >= '0' && ch <= '9') {
        c->pos++;
        *v = (uint64_t)(ch - '0') + 1;
        return true;
    }
    uint64_t r = 0;
    int digits = 0;
    while ((ch = peek(c)) >= 'A' && ch <= 'P') {
        if (++digits > 16)
            return false;
        r = r * 16 + (uint64_t)(ch - 'A');
        c->pos++;
    }
    if (!eat(c, "@"))
        return false;
    *v = r;
    return true;
}

static char *number_str(ctx *c)
{
    bool neg;
    uint64_t v;
    if (!number(c, &neg, &v))
        return failp(c);
    char buf[32];
    snprintf(buf, sizeof buf, "%s%llu", neg ? "-" : "", (unsigned long long)v);
    return cat(c, 1, buf);
}

/* ---- back-references ------------------------------------------------------- */

static void memorize_name(ctx *c, const char *s)
{
    if (!s || c->br.nnames >= MAX_BACKREFS)
        return;
    for (int i = 0; i < c->br.nnames; i++)
        if (strcmp(c->br.names[i], s) == 0)
            return;
    c->br.names[c->br.nnames++] = s;
}

/* ---- names ------------------------------------------------------------------- */

static ty parse_type(ctx *c);
static char *parse_symbol(ctx *c, unsigned flags, bool nested);
static char *template_args(ctx *c);

static char *simple_name(ctx *c, bool memorize)
{
    if (c->pos >= c->len)
        return failp(c);
    const char *at = strchr(c->s + c->pos, '@');
    if (!at || at == c->s + c->pos)
        return failp(c);
    char *n = dupn(c, c->s + c->pos, (size_t)(at - (c->s + c->pos)));
    c->pos = (size_t)(at - c->s) + 1;
    if (memorize)
        memorize_name(c, n);
    return n;
}

typedef enum { OP_NONE, OP_CTOR, OP_DTOR, OP_CONV, OP_PLAIN } op_kind;

typedef struct {
    char *text;  /* rendered unqualified name (ctor/dtor: filled in later) */
    op_kind op;
    char *targs; /* template arguments of a ctor/dtor/conversion template */
} uname;

static const struct {
    const char *code;
    const char *text;
} operators[] = {
    { "2", "operator new" }, { "3", "operator delete" }, { "4", "operator=" }, { "5", "operator>>" },
    { "6", "operator<<" }, { "7", "operator!" }, { "8", "operator==" }, { "9", "operator!=" },
    { "A", "operator[]" }, { "C", "operator->" }, { "D", "operator*" }, { "E", "operator++" },
    { "F", "operator--" }, { "G", "operator-" }, { "H", "operator+" }, { "I", "operator&" },
    { "J", "operator->*" }, { "K", "operator/" }, { "L", "operator%" }, { "M", "operator<" },
    { "N", "operator<=" }, { "O", "operator>" }, { "P", "operator>=" }, { "Q", "operator," },
    { "R", "operator()" }, { "S", "operator~" }, { "T", "operator^" }, { "U", "operator|" },
    { "V", "operator&&" }, { "W", "operator||" }, { "X", "operator*=" }, { "Y", "operator+=" },
    { "Z", "operator-=" }, { "_0", "operator/=" }, { "_1", "operator%=" }, { "_2", "operator>>=" },
    { "_3", "operator<<=" }, { "_4", "operator&=" }, { "_5", "operator|=" }, { "_6", "operator^=" },
    { "_7", "`vftable'" }, { "_8", "`vbtable'" }, { "_9", "`vcall'" }, { "_A", "`typeof'" },
    { "_B", "`local static guard'" }, { "_D", "`vbase dtor'" }, { "_E", "`vector deleting dtor'" },
    { "_F", "`default ctor closure'" }, { "_G", "`scalar deleting dtor'" }, { "_H", "`vector ctor iterator'" },
    { "_I", "`vector dtor iterator'" }, { "_J", "`vector vbase ctor iterator'" },
    { "_K", "`virtual displacement map'" }, { "_L", "`eh vector ctor iterator'" },
    { "_M", "`eh vector dtor iterator'" }, { "_N", "`eh vector vbase ctor iterator'" },
    { "_O", "`copy ctor closure'" }, { "_R2", "`RTTI Base Class Array'" },
    { "_R3", "`RTTI Class Hierarchy Descriptor'" }, { "_R4", "`RTTI Complete Object Locator'" },
    { "_S", "`local vftable'" }, { "_T", "`local vftable ctor closure'" }, { "_U", "operator new[]" },
    { "_V", "operator delete[]" }, { "_X", "`placement delete closure'" },
    { "_Y", "`placement delete[] closure'" }, { "__A", "`managed vector ctor iterator'" },
    { "__B", "`managed vector dtor iterator'" }, { "__C", "`EH vector copy ctor iterator'" },
    { "__D", "`EH vector vbase copy ctor iterator'" }, { "__G", "`vector copy ctor iterator'" },
    { "__H", "`vector vbase copy ctor iterator'" }, { "__I", "`managed vector copy ctor iterator'" },
    { "__J", "`local static thread guard'" }, { "__L", "operator co_await" }, { "__M", "operator<=>" },
};

/* After '?': an operator or special name. */
static bool operator_name(ctx *c, uname *u)
{
    if (eat(c, "0")) {
        u->op = OP_CTOR;
        return true;
    }
    if (eat(c, "1")) {
        u->op = OP_DTOR;
        return true;
    }
    if (eat(c, "B")) {
        u->op = OP_CONV;
        return true;
    }
    if (starts(c, "_R1")) {
        c->pos += 3;
        char *a = number_str(c), *b = number_str(c), *d = number_str(c), *e = number_str(c);
        u->text = cat(c, 9, "`RTTI Base Class Descriptor at (", a, ", ", b, ", ", d, ", ", e, ")'");
        u->op = OP_PLAIN;
        return !c->fail;
    }
    size_t best = 0, idx = 0;
    for (size_t i = 0; i < sizeof operators / sizeof operators[0]; i++) {
        size_t l = strlen(operators[i].code);
        if (l > best && starts(c, operators[i].code)) {
            best = l;
            idx = i;
        }
    }
    if (!best)
        return false;
    c->pos += best;
    u->text = cat(c, 1, operators[idx].text);
    u->op = OP_PLAIN;
    return !c->fail;
}

/* ?$name@args@ : a template instantiation; its arguments have their own
 * back-reference tables. */
static uname template_name(ctx *c, bool memorize)
{
    uname u = { 0 };
    backrefs outer = c->br;
    memset(&c->br, 0, sizeof c->br);
    if (eat(c, "?")) {
        if (!operator_name(c, &u))
            c->fail = true;
    } else {
        u.text = simple_name(c, true);
        u.op = OP_NONE;
    }
    char *args = c->fail ? NULL : template_args(c);
    c->br = outer;
    if (c->fail)
        return u;
    if (u.op == OP_CTOR || u.op == OP_DTOR || u.op == OP_CONV) {
        u.targs = args;
        return u;
    }
    u.text = cat(c, 4, u.text, "<", args, ">");
    if (memorize && !starts(c, "?$"))
        memorize_name(c, u.text);
    return u;
}

static char *backref_name(ctx *c)
{
    int i = peek(c) - '0';
    c->pos++;
    if (i >= c->br.nnames)
        return failp(c);
    return cat(c, 1, c->br.names[i]);
}

/* One scope piece of a qualified name. */
static char *scope_piece(ctx *c)
{
    char ch = peek(c);
    if (ch >= '0' && ch <= '9')
        return backref_name(c);
    if (eat(c, "?$")) {
        uname u = template_name(c, true);
        return u.op == OP_NONE ? u.text : failp(c);
    }
    if (eat(c, "?A")) {
        /* ?A0x<hash>@ : an anonymous namespace */
        char *id = simple_name(c, false);
        if (!id)
            return NULL;
        char *n = cat(c, 1, "`anonymous namespace'");
        memorize_name(c, cat(c, 2, "?A", id));
        return n;
    }
    if (eat(c, "?")) {
        if (eat(c, "?"))
            return failp(c);
        char *n = number_str(c);
        if (!n)
            return NULL;
        /* a locally scoped name: ?N then the enclosing symbol, with its own '?' */
        if (eat(c, "??")) {
            char *inner = parse_symbol(c, DT_UNDNAME_FULL, true);
            if (!inner)
                return NULL;
            return cat(c, 5, "`", inner, "'::`", n, "'");
        }
        return cat(c, 3, "`", n, "'");
    }
    return simple_name(c, true);
}

/* Scope pieces up to '@', innermost first in the input; returns "a::b::". */
static char *qualifiers(ctx *c, char **innermost)
{
    const char *pieces[64];
    int n = 0;
    while (!c->fail && !eat(c, "@")) {
        if (!peek(c) || n >= 64)
            return failp(c);
        if (!enter(c))
            return NULL;
        pieces[n++] = scope_piece(c);
        leave(c);
    }
    if (c->fail)
        return NULL;
    char *out = cat(c, 1, "");
    for (int i = n - 1; i >= 0 && out; i--)
        out = cat(c, 3, out, pieces[i], "::");
    if (innermost)
        *innermost = n ? (char *)pieces[0] : NULL;
    return out;
}

/* The class name a ctor/dtor takes: the innermost scope piece. */
static char *class_of(const char *innermost) { return innermost ? (char *)innermost : NULL; }

/* A type's fully qualified name: unqualified piece, then scopes. */
static char *type_name(ctx *c)
{
    char *first;
    char ch = peek(c);
    if (ch >= '0' && ch <= '9')
        first = backref_name(c);
    else if (eat(c, "?$")) {
        uname u = template_name(c, true);
        first = u.op == OP_NONE ? u.text : failp(c);
    } else
        first = simple_name(c, true);
    if (!first)
        return NULL;
    char *q = qualifiers(c, NULL);
    return q ? cat(c, 2, q, first) : NULL;
}

/* ---- types -------------------------------------------------------------------- */

static ty simple(ctx *c, const char *s)
{
    ty t = { cat(c, 1, s), "", false, false, false };
    return t;
}

static const char *primitive(char ch)
{
    switch (ch) {
    case 'C': return "signed char";
    case 'D': return "char";
    case 'E': return "unsigned char";
    case 'F': return "short";
    case 'G': return "unsigned short";
    case 'H': return "int";
    case 'I': return "unsigned int";
    case 'J': return "long";
    case 'K': return "unsigned long";
    case 'M': return "float";
    case 'N': return "double";
    case 'O': return "long double";
    case 'X': return "void";
    default: return NULL;
    }
}

static const char *primitive_ext(char ch)
{
    switch (ch) {
    case 'D': return "__int8";
    case 'E': return "unsigned __int8";
    case 'F': return "__int16";
    case 'G': return "unsigned __int16";
    case 'H': return "__int32";
    case 'I': return "unsigned __int32";
    case 'J': return "__int64";
    case 'K': return "unsigned __int64";
    case 'L': return "__int128";
    case 'M': return "unsigned __int128";
    case 'N': return "bool";
    case 'Q': return "char8_t";
    case 'S': return "char16_t";
    case 'T': return "__int128"; /* unreachable in practice */
    case 'U': return "char32_t";
    case 'W': return "wchar_t";
    default: return NULL;
    }
}

static const char *cv_text(char q)
{
    switch (q) {
    case 'A': return "";
    case 'B': return " const";
    case 'C': return " volatile";
    case 'D': return " const volatile";
    default: return NULL;
    }
}

static const char *calling_convention(ctx *c)
{
    char ch = peek(c);
    c->pos++;
    switch (ch) {
    case 'A': case 'B': return "__cdecl";
    case 'C': case 'D': return "__pascal";
    case 'E': case 'F': return "__thiscall";
    case 'G': case 'H': return "__stdcall";
    case 'I': case 'J': return "__fastcall";
    case 'M': case 'N': return "__clrcall";
    case 'O': case 'P': return "__eabi";
    case 'Q': return "__vectorcall";
    case 'S': return "__swift_1";
    case 'W': return "__regcall";
    default: c->fail = true; return NULL;
    }
}

/* Function parameters: "X" is (void), "Z" ends with varargs, "@" ends. */
static char *params(ctx *c)
{
    if (eat(c, "X"))
        return cat(c, 1, "void");
    char *out = cat(c, 1, "");
    bool first = true;
    while (!c->fail) {
        if (eat(c, "@"))
            break;
        if (eat(c, "Z")) {
            out = cat(c, 3, out, first ? "" : ", ", "...");
            break;
        }
        if (!peek(c))
            return failp(c);
        char ch = peek(c);
        const char *p;
        if (ch >= '0' && ch <= '9') {
            c->pos++;
            if (ch - '0' >= c->br.ntypes)
                return failp(c);
            p = c->br.types[ch - '0'];
        } else {
            size_t at = c->pos;
            ty t = parse_type(c);
            if (c->fail)
                return NULL;
            p = type_str(c, t);
            if (c->pos - at > 1 && c->br.ntypes < MAX_BACKREFS)
                c->br.types[c->br.ntypes++] = p;
        }
        out = cat(c, 3, out, first ? "" : ", ", p);
        first = false;
    }
    return c->fail ? NULL : out;
}

static const char *throw_spec(ctx *c)
{
    if (eat(c, "Z"))
        return "";
    if (eat(c, "_E"))
        return " noexcept";
    c->fail = true;
    return NULL;
}

/* Return type: '@' for none, '?X' cv-qualified. */
static ty return_type(ctx *c, bool *none)
{
    ty r = { "", "", false, false, false };
    *none = false;
    if (eat(c, "@")) {
        *none = true;
        return r;
    }
    const char *cv = "";
    if (starts(c, "?") && c->s[c->pos + 1] >= 'A' && c->s[c->pos + 1] <= 'D') {
        c->pos++;
        cv = cv_text(peek(c));
        c->pos++;
    }
    ty t = parse_type(c);
    if (c->fail)
        return r;
    t.pre = cat(c, 2, t.pre, cv);
    return t;
}

/* A function type after '6' (pointer to function) or "$$A6". */
static bool function_type(ctx *c, const char **cc, ty *ret, char **ps)
{
    *cc = calling_convention(c);
    bool none;
    *ret = return_type(c, &none);
    *ps = c->fail ? NULL : params(c);
    if (*ps)
        throw_spec(c);
    return !c->fail;
}

/* Pointer extended qualifiers: E (__ptr64, not shown), I (__restrict), F (__unaligned). */
static const char *ptr_ext(ctx *c, const char **pre_unaligned)
{
    const char *restrict_ = "";
    *pre_unaligned = "";
    for (;;) {
        if (eat(c, "E"))
            continue;
        if (eat(c, "I")) {
            restrict_ = "__restrict";
            continue;
        }
        if (eat(c, "F")) {
            *pre_unaligned = "__unaligned ";
            continue;
        }
        return restrict_;
    }
}

static ty pointer(ctx *c, const char *sym, const char *self_cv)
{
    ty r = { 0 };
    const char *unal;
    const char *restr = ptr_ext(c, &unal);
    const char *tail = cat(c, 3, sym, self_cv, *restr ? restr : "");
    if (eat(c, "6")) {
        const char *cc;
        ty ret;
        char *ps;
        if (!function_type(c, &cc, &ret, &ps))
            return r;
        r.pre = cat(c, 5, ret.pre, " (", cc, " ", tail);
        r.post = cat(c, 4, ")(", ps, ")", ret.post);
        return r;
    }
    if (eat(c, "8")) {
        /* pointer to member function: class name, this-cv, function type */
        char *cls = type_name(c);
        if (!cls)
            return r;
        ptr_ext(c, &unal);
        const char *thiscv = cv_text(peek(c));
        if (!thiscv) {
            c->fail = true;
            return r;
        }
        c->pos++;
        const char *cc;
        ty ret;
        char *ps;
        if (!function_type(c, &cc, &ret, &ps))
            return r;
        r.pre = cat(c, 7, ret.pre, " (", cc, " ", cls, "::", tail);
        r.post = cat(c, 5, ")(", ps, ")", thiscv, ret.post);
        return r;
    }
    char q = peek(c);
    const char *cv = q >= 'Q' && q <= 'T' ? cv_text((char)(q - 'Q' + 'A')) : cv_text(q);
    if (!cv) {
        c->fail = true;
        return r;
    }
    c->pos++;
    if (q >= 'Q' && q <= 'T') {
        /* pointer to data member: the class, then the member's type */
        char *cls = type_name(c);
        if (!cls)
            return r;
        tail = cat(c, 3, cls, "::", tail);
    }
    ty t = parse_type(c);
    if (c->fail)
        return r;
    if (t.is_ptr)
        cv = ""; /* a pointer's own cv is in its letter */
    if (t.is_array || t.is_func) {
        r.pre = cat(c, 4, t.pre, cv, " (", tail);
        r.post = cat(c, 2, ")", t.post);
        return r;
    }
    r.pre = cat(c, 5, unal, t.pre, cv, ends_with_ptr(t.pre) && !*cv ? "" : " ", tail);
    r.post = t.post;
    return r;
}

static ty array_type(ctx *c)
{
    ty r = { 0 };
    bool neg;
    uint64_t n;
    if (!number(c, &neg, &n) || neg || n == 0 || n > 32) {
        c->fail = true;
        return r;
    }
    char *dims = cat(c, 1, "");
    for (uint64_t i = 0; i < n && !c->fail; i++) {
        uint64_t d;
        if (!number(c, &neg, &d) || neg) {
            c->fail = true;
            return r;
        }
        char buf[32];
        snprintf(buf, sizeof buf, "[%llu]", (unsigned long long)d);
        dims = cat(c, 2, dims, buf);
    }
    const char *cv = "";
    if (eat(c, "$$C")) {
        cv = cv_text(peek(c));
        if (!cv) {
            c->fail = true;
            return r;
        }
        c->pos++;
    }
    ty e = parse_type(c);
    if (c->fail)
        return r;
    r.pre = cat(c, 2, e.pre, cv);
    r.post = cat(c, 2, dims, e.post);
    r.is_array = true;
    return r;
}

static ty parse_type(ctx *c)
{
    ty r = { 0 };
    if (!enter(c))
        return r;
    char ch = peek(c);
    const char *p;
    if (!ch) {
        c->fail = true;
    } else if ((p = primitive(ch)) != NULL) {
        c->pos++;
        r = simple(c, p);
    } else if (ch == '_') {
        c->pos++;
        p = primitive_ext(peek(c));
        if (!p)
            c->fail = true;
        else {
            c->pos++;
            r = simple(c, p);
        }
    } else if (ch == 'T' || ch == 'U' || ch == 'V') {
        c->pos++;
        char *n = type_name(c);
        r = simple(c, "");
        r.pre = cat(c, 2, ch == 'T' ? "union " : ch == 'U' ? "struct " : "class ", n);
    } else if (ch == 'W') {
        c->pos++;
        if (peek(c) < '0' || peek(c) > '7')
            c->fail = true;
        c->pos++;
        char *n = c->fail ? NULL : type_name(c);
        r = simple(c, "");
        r.pre = cat(c, 2, "enum ", n);
    } else if (ch == 'P' || ch == 'Q' || ch == 'R' || ch == 'S') {
        c->pos++;
        r = pointer(c, "*", ch == 'Q' ? "const" : ch == 'R' ? "volatile" : ch == 'S' ? "const volatile" : "");
        r.is_ptr = true;
    } else if (ch == 'A' || ch == 'B') {
        c->pos++;
        r = pointer(c, "&", ch == 'B' ? "volatile" : "");
    } else if (eat(c, "$$Q")) {
        r = pointer(c, "&&", "");
    } else if (eat(c, "$$R")) {
        r = pointer(c, "&&", "volatile");
    } else if (eat(c, "$$T")) {
        r = simple(c, "std::nullptr_t");
    } else if (eat(c, "$$A6")) {
        const char *cc;
        ty ret;
        char *ps;
        if (function_type(c, &cc, &ret, &ps)) {
            r.pre = cat(c, 3, ret.pre, " ", cc);
            r.post = cat(c, 4, "(", ps, ")", ret.post);
            r.is_func = true;
        }
    } else if (eat(c, "$$B")) {
        if (eat(c, "Y"))
            r = array_type(c);
        else
            c->fail = true;
    } else if (eat(c, "Y")) {
        r = array_type(c);
    } else if (eat(c, "$$C")) {
        const char *cv = cv_text(peek(c));
        if (!cv)
            c->fail = true;
        else {
            c->pos++;
            ty t = parse_type(c);
            r.pre = cat(c, 2, t.pre, cv);
            r.post = t.post;
        }
    } else if (ch == '?' && c->s[c->pos + 1] == '<') {
        /* a placeholder such as "?<auto>@@" (lambdas' deduced returns) */
        c->pos++;
        char *n = simple_name(c, false);
        if (n && !eat(c, "@"))
            c->fail = true;
        r = simple(c, n ? n : "");
    } else if (ch == '?') {
        /* a cv-qualified type where one is expected (template arguments) */
        c->pos++;
        const char *cv = cv_text(peek(c));
        if (!cv)
            c->fail = true;
        else {
            c->pos++;
            ty t = parse_type(c);
            r.pre = cat(c, 2, t.pre, cv);
            r.post = t.post;
        }
    } else {
        c->fail = true;
    }
    leave(c);
    if (c->fail)
        memset(&r, 0, sizeof r);
    return r;
}

/* ---- template arguments -------------------------------------------------------- */

static char *template_args(ctx *c)
{
    char *out = cat(c, 1, "");
    bool first = true;
    while (!c->fail && !eat(c, "@")) {
        if (!peek(c))
            return failp(c);
        char *a;
        if (eat(c, "$$V") || eat(c, "$$Z") || eat(c, "$S") || eat(c, "$$$V")) {
            continue; /* an empty parameter pack */
        } else if (eat(c, "$0")) {
            a = number_str(c);
        } else if (eat(c, "$1")) {
            if (!eat(c, "?"))
                return failp(c);
            char *s = parse_symbol(c, DT_UNDNAME_FULL, true);
            a = s ? cat(c, 2, "&", s) : NULL;
        } else if (eat(c, "$E?")) {
            char *s = parse_symbol(c, DT_UNDNAME_FULL, true);
            a = s;
        } else if (starts(c, "$$Y") || starts(c, "$F") || starts(c, "$G") || starts(c, "$H") ||
                   starts(c, "$I") || starts(c, "$J") || starts(c, "$2") || starts(c, "$D") || starts(c, "$R")) {
            return failp(c);
        } else {
            ty t = parse_type(c);
            a = c->fail ? NULL : type_str(c, t);
        }
        if (!a)
            return failp(c);
        out = cat(c, 3, out, first ? "" : ", ", a);
        first = false;
    }
    return c->fail ? NULL : out;
}

/* ---- string literals --------------------------------------------------------- */

/* One character of a string literal's encoded bytes. */
static int literal_byte(ctx *c)
{
    char ch = peek(c);
    if (!ch || ch == '@')
        return -1;
    c->pos++;
    if (ch != '?')
        return (unsigned char)ch;
    ch = peek(c);
    if (ch == '$') {
        c->pos++;
        char hi = peek(c), lo = hi ? c->s[c->pos + 1] : 0;
        if (hi < 'A' || hi > 'P' || lo < 'A' || lo > 'P')
            return -2;
        c->pos += 2;
        return (hi - 'A') * 16 + (lo - 'A');
    }
    if (ch >= '0' && ch <= '9') {
        static const char special[] = ",/\\:. \n\t'-";
        c->pos++;
        return (unsigned char)special[ch - '0'];
    }
    if (ch >= 'a' && ch <= 'z') {
        c->pos++;
        return 0xE1 + (ch - 'a');
    }
    if (ch >= 'A' && ch <= 'Z') {
        c->pos++;
        return 0xC1 + (ch - 'A');
    }
    return -2;
}

static char *escape_char(ctx *c, char *out, unsigned v)
{
    const char *e = NULL;
    switch (v) {
    case '\0': e = "\\0"; break;
    case '\'': e = "\\'"; break;
    case '"': e = "\\\""; break;
    case '\\': e = "\\\\"; break;
    case '\a': e = "\\a"; break;
    case '\b': e = "\\b"; break;
    case '\f': e = "\\f"; break;
    case '\n': e = "\\n"; break;
    case '\r': e = "\\r"; break;
    case '\t': e = "\\t"; break;
    case '\v': e = "\\v"; break;
    default: break;
    }
    char buf[16];
    if (!e && v >= 0x20 && v <= 0x7e) {
        buf[0] = (char)v;
        buf[1] = '\0';
        e = buf;
    } else if (!e) {
        /* an even number of hex digits, at least two */
        int digits = 2;
        while (digits < 8 && (v >> (4 * digits)) != 0)
            digits += 2;
        snprintf(buf, sizeof buf, "\\x%0*X", digits, v);
        e = buf;
    }
    return cat(c, 2, out, e);
}

/* The character width llvm-undname guesses for a "narrow" literal from its
 * zero bytes (a char16_t/char32_t literal is mangled like a char one). */
static unsigned guess_width(const unsigned char *b, size_t n, uint64_t len)
{
    if (len % 2 == 1)
        return 1;
    if (len < 32) {
        size_t trailing = 0;
        for (size_t i = n; i > 0 && b[i - 1] == 0; i--)
            trailing++;
        if (n == 4 && trailing >= 4)
            return 4;
        return trailing >= 2 ? 2 : 1;
    }
    size_t nulls = 0;
    for (size_t i = 0; i < n; i++)
        nulls += b[i] == 0;
    if (nulls >= 2 * n / 3 && len % 4 == 0)
        return 4;
    return nulls >= n / 3 ? 2 : 1;
}

/* ??_C@_<width><length><crc>@<bytes>@ */
static char *string_literal(ctx *c)
{
    bool wide;
    if (eat(c, "_0"))
        wide = false;
    else if (eat(c, "_1"))
        wide = true;
    else
        return failp(c);
    bool neg;
    uint64_t len;
    if (!number(c, &neg, &len) || neg || len == 0 || (wide && len % 2))
        return failp(c);
    const char *at = c->pos < c->len ? strchr(c->s + c->pos, '@') : NULL; /* the CRC */
    if (!at)
        return failp(c);
    c->pos = (size_t)(at - c->s) + 1;
    unsigned char bytes[128];
    size_t n = 0;
    for (;;) {
        int b = literal_byte(c);
        if (b == -2)
            return failp(c);
        if (b < 0)
            break;
        if (n >= sizeof bytes)
            return failp(c);
        bytes[n++] = (unsigned char)b;
    }
    if (!eat(c, "@") || peek(c))
        return failp(c);
    char *out;
    if (wide) {
        if (n % 2)
            return failp(c);
        bool truncated = len > 64;
        uint64_t left = len;
        out = cat(c, 1, "L\"");
        for (size_t i = 0; i + 1 < n && out; i += 2, left -= left >= 2 ? 2 : left)
            if (left != 2 || truncated)
                out = escape_char(c, out, (unsigned)bytes[i] << 8 | bytes[i + 1]);
        out = cat(c, 2, out, truncated ? "\"..." : "\"");
        return out;
    }
    bool truncated = len > n;
    unsigned w = guess_width(bytes, n, len);
    out = cat(c, 1, w == 1 ? "\"" : w == 2 ? "u\"" : "U\"");
    size_t nchars = n / w;
    for (size_t i = 0; i < nchars && out; i++) {
        unsigned v = 0;
        for (unsigned k = 0; k < w; k++)
            v |= (unsigned)bytes[i * w + k] << (8 * k);
        if (i + 1 < nchars || truncated)
            out = escape_char(c, out, v);
    }
    return cat(c, 2, out, truncated ? "\"..." : "\"");
}

/* ---- symbols ----------------------------------------------------------------- */

static const char *access_of(char ch, bool *is_static, bool *is_virtual, bool *member)
{
    *is_static = *is_virtual = false;
    *member = true;
    if (ch == 'Y' || ch == 'Z') {
        *member = false;
        return "";
    }
    if (ch < 'A' || ch > 'X')
        return NULL;
    int k = ch - 'A';
    int group = k / 8, kind = (k % 8) / 2;
    static const char *acc[] = { "private: ", "protected: ", "public: " };
    if (kind == 1)
        *is_static = true;
    else if (kind == 2)
        *is_virtual = true;
    else if (kind == 3)
        return NULL; /* adjustor thunks */
    return acc[group];
}

/* After the qualified name of a function: its type and the whole rendering. */
static char *function_symbol(ctx *c, const char *name, op_kind op, const char *cls, const char *targs, unsigned flags,
                             bool nested)
{
    char ch = peek(c);
    c->pos++;
    bool is_static, is_virtual, member;
    const char *acc = access_of(ch, &is_static, &is_virtual, &member);
    if (!acc)
        return failp(c);
    const char *thiscv = "";
    if (member && !is_static) {
        const char *unal;
        const char *restr = ptr_ext(c, &unal);
        thiscv = cv_text(peek(c));
        if (!thiscv)
            return failp(c);
        c->pos++;
        if (*restr)
            thiscv = cat(c, 3, thiscv, " ", restr);
    }
    const char *cc = calling_convention(c);
    bool none;
    ty ret = return_type(c, &none);
    if (c->fail)
        return NULL;
    char *full_name;
    if (op == OP_CTOR || op == OP_DTOR) {
        if (!cls)
            return failp(c);
        full_name = cat(c, 5, name, op == OP_DTOR ? "~" : "", cls, targs ? "<" : "", targs ? cat(c, 2, targs, ">") : "");
    } else if (op == OP_CONV) {
        full_name = cat(c, 6, name, "operator ", ret.pre, ret.post, targs ? "<" : "", targs ? cat(c, 2, targs, ">") : "");
    } else {
        full_name = cat(c, 1, name);
    }
    char *ps = params(c);
    if (!ps)
        return NULL;
    const char *th = throw_spec(c);
    if (c->fail || (!nested && peek(c)))
        return failp(c);
    if (flags & DT_UNDNAME_NAME_ONLY)
        return full_name;
    return cat(c, 12, acc, is_static ? "static " : "", is_virtual ? "virtual " : "", ret.pre, none ? "" : " ", cc,
               " ", full_name, "(", ps, ")", cat(c, 3, thiscv, th, ret.post));
}

static char *variable_symbol(ctx *c, const char *name, unsigned flags)
{
    char ch = peek(c);
    c->pos++;
    static const char *acc[] = { "private: static ", "protected: static ", "public: static ", "", "" };
    ty t = parse_type(c);
    if (c->fail)
        return NULL;
    const char *unal;
    ptr_ext(c, &unal);
    const char *cv = cv_text(peek(c));
    if (!cv)
        return failp(c);
    c->pos++;
    bool is_ptr = ends_with_ptr(t.pre) || (t.post && *t.post == ')');
    if (!is_ptr && *cv)
        t.pre = cat(c, 2, t.pre, cv);
    if (flags & DT_UNDNAME_NAME_ONLY)
        return cat(c, 1, name);
    return cat(c, 2, acc[ch - '0'], decl(c, t, name));
}

/* The input after the leading '?'.  nested: inside another name (a template
 * argument or a local scope), where the symbol may be followed by more. */
static char *parse_symbol(ctx *c, unsigned flags, bool nested)
{
    if (!enter(c))
        return NULL;
    char *result = NULL;
    uname u = { 0 };
    bool rtti0 = false;
    if (starts(c, "?_C@")) {
        c->pos += 4;
        result = nested ? failp(c) : string_literal(c);
        leave(c);
        return result;
    }
    if (eat(c, "?__E") || eat(c, "?__F")) {
        bool init = c->s[c->pos - 1] == 'E';
        char *inner;
        if (eat(c, "?")) {
            inner = parse_symbol(c, DT_UNDNAME_FULL, true);
            /* the variable's symbol ends in '@' before the function type */
            if (inner && !eat(c, "@"))
                inner = failp(c);
        } else {
            inner = simple_name(c, false);
        }
        if (!inner || !eat(c, "@")) {
            leave(c);
            return failp(c);
        }
        u.text = cat(c, 3, init ? "`dynamic initializer for '" : "`dynamic atexit destructor for '", inner, "''");
        u.op = OP_PLAIN;
        char *fn = function_symbol(c, u.text, OP_PLAIN, NULL, NULL, flags, nested);
        leave(c);
        return fn;
    }
    if (eat(c, "?_R0")) {
        rtti0 = true;
    } else if (eat(c, "?$")) {
        u = template_name(c, false);
    } else if (eat(c, "?")) {
        if (!operator_name(c, &u))
            c->fail = true;
    } else if (peek(c) >= '0' && peek(c) <= '9') {
        u.text = backref_name(c);
    } else {
        u.text = simple_name(c, true);
    }
    if (c->fail) {
        leave(c);
        return NULL;
    }
    if (rtti0) {
        ty t = parse_type(c);
        if (c->fail || !eat(c, "@8") || (!nested && peek(c))) {
            leave(c);
            return failp(c);
        }
        leave(c);
        return cat(c, 3, type_str(c, t), ends_with_ptr(t.pre) ? "" : " ", "`RTTI Type Descriptor'");
    }
    char *innermost = NULL;
    char *q = qualifiers(c, &innermost);
    if (!q) {
        leave(c);
        return NULL;
    }
    char *name = u.op == OP_CTOR || u.op == OP_DTOR || u.op == OP_CONV ? q : cat(c, 2, q, u.text);
    char ch = peek(c);
    if (ch >= '0' && ch <= '4') {
        result = variable_symbol(c, name, nested ? DT_UNDNAME_FULL : flags);
        if (result && !nested && peek(c))
            result = failp(c);
    } else if (ch == '6' || ch == '7') {
        c->pos++;
        const char *unal;
        ptr_ext(c, &unal);
        const char *cv = cv_text(peek(c));
        if (!cv) {
            leave(c);
            return failp(c);
        }
        c->pos++;
        char *fors = cat(c, 1, "");
        bool any = false;
        while (!c->fail && !eat(c, "@")) {
            char *t = type_name(c);
            fors = cat(c, 4, fors, any ? "{for `" : "{for `", t, "'}");
            any = true;
        }
        if (c->fail || peek(c)) {
            leave(c);
            return failp(c);
        }
        result = (flags & DT_UNDNAME_NAME_ONLY) ? name : cat(c, 4, *cv ? cv + 1 : "", *cv ? " " : "", name, fors);
    } else if (ch == '8') {
        c->pos++;
        if (!nested && peek(c)) {
            leave(c);
            return failp(c);
        }
        result = name;
    } else if (ch == '9') {
        c->pos++;
        result = (flags & DT_UNDNAME_NAME_ONLY) ? name : cat(c, 2, "extern \"C\" ", name);
    } else if ((ch >= 'A' && ch <= 'Z')) {
        result = function_symbol(c, name, u.op, class_of(innermost), u.targs, nested ? DT_UNDNAME_FULL : flags,
                                 nested);
    } else {
        c->fail = true;
    }
    leave(c);
    return c->fail ? NULL : result;
}

char *dt_undname(const char *name, unsigned flags)
{
    if (!name || name[0] != '?' || strlen(name) > DT_UNDNAME_MAX_INPUT)
        return NULL;
    if (name[1] == '?' && name[2] == '@')
        return NULL; /* an MD5 name: nothing to undecorate */
    ctx c = { 0 };
    c.s = name;
    c.len = strlen(name);
    c.pos = 1;
    c.arena = malloc(ARENA_SIZE);
    if (!c.arena)
        return NULL;
    char *r = parse_symbol(&c, flags, false);
    char *out = (!c.fail && r) ? strdup(r) : NULL;
    free(c.arena);
    return out;
}
