/*
 * test_pe.c — the PE reader on the real images in tests/data: headers and
 * CodeView identity, exports and .pdata/UNWIND_INFO checked entry by entry
 * against llvm-readobj (the oracle, when installed), and the same image read
 * back through a mapped address space.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dt_test.h"
#include "formats/pe.h"
#include "base/mapped_file.h"

#define LLVM_READOBJ "/usr/bin/llvm-readobj"

static const char *const x64_images[] = {
    "symbols/breakpad__dump_syms_regtest64.exe",
    "symbols/symbolic__CrashWithException.exe",
    "symbols/syzygy__test_types_x64.dll",
    "symstore-kernel/Wdf01000.sys/a9a9d36ed1000/Wdf01000.sys",
    "symstore-kernel/amdppm.sys/c9c030003b000/amdppm.sys",
    "wine/bin/clang/crash_av.exe",
    "wine/bin/clang/hello_block.exe",
    "wine/bin/clang/multi_hang.exe",
    "wine/bin/clang/dfpipe.dll",
    "wine/bin/gcc/dfpipe.dll",
    "wine/bin/gcc/multi_hang_gcc.exe",
};

static const char *const reg_names[16] = {
    "RAX", "RCX", "RDX", "RBX", "RSP", "RBP", "RSI", "RDI",
    "R8", "R9", "R10", "R11", "R12", "R13", "R14", "R15",
};

typedef struct {
    dt_mapped_file file;
    dt_pe pe;
} opened_pe;

static void open_pe(opened_pe *o, const char *rel)
{
    dt_error err = { 0 };
    ck_assert_msg(dt_mapped_file_open(&o->file, dt_test_data(rel), &err) == DT_OK, "%s: %s", rel,
                  err.message);
    ck_assert_msg(dt_pe_open_file(&o->pe, o->file.view, &err) == DT_OK, "%s: %s", rel, err.message);
}

static void close_pe(opened_pe *o)
{
    dt_pe_close(&o->pe);
    dt_mapped_file_close(&o->file);
}

/* ---- a growable text of lines ------------------------------------------------- */

typedef struct {
    char *s;
    size_t len, cap;
} text;

static void text_add(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void text_add(text *t, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (t->len + (size_t)n + 2 > t->cap) {
        t->cap = (t->len + (size_t)n + 2) * 2;
        t->s = realloc(t->s, t->cap);
        ck_assert_ptr_nonnull(t->s);
    }
    memcpy(t->s + t->len, line, (size_t)n);
    t->len += (size_t)n;
    t->s[t->len++] = '\n';
    t->s[t->len] = '\0';
}

/* ---- our .pdata rendered the way llvm-readobj --unwind prints it -------------- */

static void render_op(text *t, const dt_unwind_info *ui, const dt_unwind_op *op)
{
    char head[16];
    snprintf(head, sizeof head, "0x%02X: ", op->code_offset);
    switch (op->op) {
    case DT_UWOP_PUSH_NONVOL:
        text_add(t, "%sPUSH_NONVOL reg=%s", head, reg_names[op->info]);
        break;
    case DT_UWOP_ALLOC_LARGE:
        text_add(t, "%sALLOC_LARGE size=%u", head, op->value);
        break;
    case DT_UWOP_ALLOC_SMALL:
        text_add(t, "%sALLOC_SMALL size=%u", head, op->value);
        break;
    case DT_UWOP_SET_FPREG:
        text_add(t, "%sSET_FPREG reg=%s, offset=0x%X", head, reg_names[ui->frame_reg], op->value);
        break;
    case DT_UWOP_SAVE_NONVOL:
        text_add(t, "%sSAVE_NONVOL reg=%s, offset=0x%X", head, reg_names[op->info], op->value);
        break;
    case DT_UWOP_SAVE_NONVOL_FAR:
        text_add(t, "%sSAVE_NONVOL_FAR reg=%s, offset=0x%X", head, reg_names[op->info], op->value);
        break;
    case DT_UWOP_SAVE_XMM128:
        text_add(t, "%sSAVE_XMM128 reg=XMM%u, offset=0x%X", head, op->info, op->value);
        break;
    case DT_UWOP_SAVE_XMM128_FAR:
        text_add(t, "%sSAVE_XMM128_FAR reg=XMM%u, offset=0x%X", head, op->info, op->value);
        break;
    case DT_UWOP_PUSH_MACHFRAME:
        text_add(t, "%sPUSH_MACHFRAME errcode=%s", head, op->info ? "yes" : "no");
        break;
    default:
        text_add(t, "%sop%u", head, op->op);
        break;
    }
}

static void render_ours(const dt_pe *pe, text *t)
{
    size_t n = dt_pe_pdata_count(pe);
    for (size_t i = 0; i < n; i++) {
        dt_pe_runtime_function rf;
        ck_assert(dt_pe_pdata_get(pe, i, &rf));
        text_add(t, "fn 0x%llX 0x%llX 0x%llX", (unsigned long long)(pe->image_base + rf.begin),
                 (unsigned long long)(pe->image_base + rf.end),
                 (unsigned long long)(pe->image_base + rf.unwind_info));
        dt_unwind_info ui;
        dt_error err = { 0 };
        ck_assert_msg(dt_pe_unwind_info(pe, rf.unwind_info, &ui, &err) == DT_OK, "%s", err.message);
        text_add(t, "v%u flags=0x%X prolog=%u", ui.version, ui.flags, ui.prolog_size);
        if (ui.frame_reg)
            text_add(t, "framereg=%s frameoff=0x%X", reg_names[ui.frame_reg], ui.frame_offset);
        else
            text_add(t, "framereg=- frameoff=-");
        text_add(t, "count=%u", ui.code_count);
        for (size_t k = 0; k < ui.op_count; k++)
            render_op(t, &ui, &ui.ops[k]);
        if (ui.has_handler)
            text_add(t, "handler 0x%llX", (unsigned long long)(pe->image_base + ui.handler));
    }
}

static const char *after(const char *line, const char *key)
{
    const char *p = strstr(line, key);
    return p ? p + strlen(key) : NULL;
}

/* The hex value in parentheses after key ("StartAddress: sym (0x...)"). */
static const char *after_paren(const char *line, const char *key)
{
    const char *p = after(line, key);
    p = p ? strchr(p, '(') : NULL;
    return p ? p + 1 : NULL;
}

/* Parses llvm-readobj --unwind output into the same lines as render_ours.
 * Returns false when the tool failed (it aborts on some v2 unwind data). */
static bool render_llvm(const char *path, text *t)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s --unwind '%s' 2>/dev/null", LLVM_READOBJ, path);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    char line[1024];
    unsigned long long s = 0, e = 0, u = 0;
    bool in_codes = false;
    const char *v;
    while (fgets(line, sizeof line, p)) {
        line[strcspn(line, "\n")] = '\0';
        char *body = line + strspn(line, " ");
        if ((v = after_paren(body, "StartAddress: "))) {
            s = strtoull(v, NULL, 16);
        } else if ((v = after_paren(body, "EndAddress: "))) {
            e = strtoull(v, NULL, 16);
        } else if ((v = after_paren(body, "UnwindInfoAddress: "))) {
            u = strtoull(v, NULL, 16);
            text_add(t, "fn 0x%llX 0x%llX 0x%llX", s, e, u);
        } else if ((v = after(body, "Version: "))) {
            text_add(t, "v%s", v);
        } else if ((v = after(body, "Flags [ ("))) {
            t->len--; /* join with the Version line */
            text_add(t, " flags=%.*s", (int)strcspn(v, ")"), v);
        } else if ((v = after(body, "PrologSize: "))) {
            t->len--;
            text_add(t, " prolog=%s", v);
        } else if ((v = after(body, "FrameRegister: "))) {
            text_add(t, "framereg=%.*s", (int)strcspn(v, " "), v);
        } else if ((v = after(body, "FrameOffset: "))) {
            t->len--;
            text_add(t, " frameoff=%s", v);
        } else if ((v = after(body, "UnwindCodeCount: "))) {
            text_add(t, "count=%s", v);
        } else if (strncmp(body, "UnwindCodes [", 13) == 0) {
            in_codes = true;
        } else if (in_codes && body[0] == ']') {
            in_codes = false;
        } else if (in_codes) {
            text_add(t, "%s", body);
        } else if ((v = after(body, "Handler: "))) {
            const char *paren = strchr(v, '(');
            if (paren)
                text_add(t, "handler %.*s", (int)strcspn(paren + 1, ")"), paren + 1);
        }
    }
    int rc = pclose(p);
    return rc == 0;
}

/* Compares line by line so a failure names the first differing entry. */
static void assert_same_text(const char *what, const text *ours, const text *theirs)
{
    const char *a = ours->s ? ours->s : "", *b = theirs->s ? theirs->s : "";
    size_t line = 1;
    while (*a && *b) {
        size_t la = strcspn(a, "\n"), lb = strcspn(b, "\n");
        ck_assert_msg(la == lb && memcmp(a, b, la) == 0, "%s line %zu: ours '%.*s' llvm '%.*s'", what,
                      line, (int)la, a, (int)lb, b);
        a += la + (a[la] == '\n');
        b += lb + (b[lb] == '\n');
        line++;
    }
    ck_assert_msg(!*a && !*b, "%s: line counts differ at line %zu", what, line);
}

START_TEST(pdata_matches_llvm_readobj)
{
    const char *rel = x64_images[_i];
    opened_pe o;
    open_pe(&o, rel);
    ck_assert_uint_eq(o.pe.machine, DT_PE_MACHINE_AMD64);
    text ours = { 0 }, theirs = { 0 };
    render_ours(&o.pe, &ours);
    ck_assert_uint_gt(dt_pe_pdata_count(&o.pe), 0);
    if (access(LLVM_READOBJ, X_OK) != 0) {
        fprintf(stderr, "note: %s absent, .pdata of %s not compared\n", LLVM_READOBJ, rel);
    } else if (!render_llvm(dt_test_data(rel), &theirs)) {
        /* llvm-readobj 14 aborts on UNWIND_INFO version 2 (Windows kernel
         * images); the decode above still had to succeed for every entry. */
        fprintf(stderr, "note: llvm-readobj failed on %s; %zu entries decoded without oracle\n", rel,
                dt_pe_pdata_count(&o.pe));
    } else {
        assert_same_text(rel, &ours, &theirs);
    }
    free(ours.s);
    free(theirs.s);
    close_pe(&o);
}
END_TEST

/* ---- second oracle: GNU objdump -p (it also reads UNWIND_INFO version 2) ------- */

#define OBJDUMP "/usr/bin/objdump"

static void render_ours_objdump_style(const dt_pe *pe, text *t)
{
    static const char *const lower[16] = { "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                           "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15" };
    size_t n = dt_pe_pdata_count(pe);
    uint32_t prev = UINT32_MAX;
    for (size_t i = 0; i < n; i++) {
        dt_pe_runtime_function rf;
        ck_assert(dt_pe_pdata_get(pe, i, &rf));
        if (rf.unwind_info & 1)
            continue;
        if (rf.unwind_info == prev) {
            text_add(t, "also 0x%llX", (unsigned long long)(pe->image_base + rf.begin));
            continue;
        }
        prev = rf.unwind_info;
        text_add(t, "blk 0x%X 0x%llX 0x%llX", rf.unwind_info, (unsigned long long)(pe->image_base + rf.begin),
                 (unsigned long long)(pe->image_base + rf.end));
        dt_unwind_info ui;
        ck_assert_int_eq(dt_pe_unwind_info(pe, rf.unwind_info, &ui, NULL), DT_OK);
        text_add(t, "v%u codes=%u prolog=0x%X", ui.version, ui.code_count, ui.prolog_size);
        for (size_t k = 0; k < ui.op_count; k++) {
            const dt_unwind_op *op = &ui.ops[k];
            switch (op->op) {
            case DT_UWOP_PUSH_NONVOL:
                text_add(t, "op 0x%02X push %s", op->code_offset, lower[op->info]);
                break;
            case DT_UWOP_ALLOC_SMALL:
            case DT_UWOP_ALLOC_LARGE:
                text_add(t, "op 0x%02X alloc 0x%X", op->code_offset, op->value);
                break;
            case DT_UWOP_SAVE_NONVOL:
            case DT_UWOP_SAVE_NONVOL_FAR:
                text_add(t, "op 0x%02X save %s 0x%X", op->code_offset, lower[op->info], op->value);
                break;
            case DT_UWOP_EPILOG:
                if (ui.version == 2)
                    break; /* objdump prints epilog descriptors in its own form */
                /* fall through */
            default:
                text_add(t, "op 0x%02X other", op->code_offset);
                break;
            }
        }
        if (ui.has_chain)
            text_add(t, "chain 0x%X 0x%X", ui.chained.begin, ui.chained.end);
    }
}

static bool render_objdump(const char *path, text *t)
{
    char cmd[4096], line[1024];
    snprintf(cmd, sizeof cmd, "%s -p '%s' 2>/dev/null", OBJDUMP, path);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    bool in_blocks = false;
    while (fgets(line, sizeof line, p)) {
        line[strcspn(line, "\n")] = '\0';
        const char *v;
        unsigned long long a, b, r;
        if ((v = strstr(line, "(rva: ")) && sscanf(v, "(rva: %llx): %llx - %llx", &r, &a, &b) == 3) {
            in_blocks = true;
            text_add(t, "blk 0x%llX 0x%llX 0x%llX", r, a, b);
        } else if (!in_blocks) {
            continue;
        } else if ((v = strstr(line, " also used for function at "))) {
            text_add(t, "also 0x%llX", strtoull(v + 27, NULL, 16));
        } else if ((v = strstr(line, "Version: "))) {
            text_add(t, "v%lu", strtoul(v + 9, NULL, 10));
        } else if ((v = strstr(line, "Nbr codes: "))) {
            unsigned codes, prolog;
            ck_assert_int_eq(sscanf(v, "Nbr codes: %u, Prologue size: %x", &codes, &prolog), 2);
            t->len--;
            text_add(t, " codes=%u prolog=0x%X", codes, prolog);
        } else if ((v = strstr(line, "pc+0x"))) {
            unsigned off = (unsigned)strtoul(v + 3, NULL, 16);
            const char *what = strchr(v, ':');
            char reg[16];
            unsigned val;
            if (!what)
                continue;
            what += 2;
            if (sscanf(what, "push %15s", reg) == 1)
                text_add(t, "op 0x%02X push %s", off, reg);
            else if (sscanf(what, "alloc small area: rsp = rsp - %x", &val) == 1 ||
                     sscanf(what, "alloc large area: rsp = rsp - %x", &val) == 1)
                text_add(t, "op 0x%02X alloc 0x%X", off, val);
            else if (sscanf(what, "save %15s at rsp + %x", reg, &val) == 2 && reg[0] == 'r')
                text_add(t, "op 0x%02X save %s 0x%X", off, reg, val);
            else
                text_add(t, "op 0x%02X other", off);
        } else if ((v = strstr(line, "Chain: start: "))) {
            unsigned long long cs, ce;
            ck_assert_int_eq(sscanf(v, "Chain: start: %llx, end: %llx", &cs, &ce), 2);
            text_add(t, "chain 0x%llX 0x%llX", cs, ce);
        }
    }
    return pclose(p) == 0 && in_blocks;
}

START_TEST(unwind_info_matches_objdump)
{
    const char *rel = x64_images[_i];
    if (access(OBJDUMP, X_OK) != 0) {
        fprintf(stderr, "note: %s absent, UNWIND_INFO of %s not compared\n", OBJDUMP, rel);
        return;
    }
    opened_pe o;
    open_pe(&o, rel);
    text ours = { 0 }, theirs = { 0 };
    render_ours_objdump_style(&o.pe, &ours);
    ck_assert_msg(render_objdump(dt_test_data(rel), &theirs), "objdump failed on %s", rel);
    assert_same_text(rel, &ours, &theirs);
    free(ours.s);
    free(theirs.s);
    close_pe(&o);
}
END_TEST

/* Exports, rendered as "ordinal name rva" lines by both sides. */
static void exports_vs_llvm(const char *rel, size_t min_named)
{
    opened_pe o;
    open_pe(&o, rel);
    const dt_pe_export *ex;
    size_t n, named = 0;
    dt_error err = { 0 };
    ck_assert_msg(dt_pe_exports(&o.pe, &ex, &n, &err) == DT_OK, "%s", err.message);
    text ours = { 0 }, theirs = { 0 };
    for (size_t i = 0; i < n; i++) {
        text_add(&ours, "%u %s 0x%X", ex[i].ordinal, ex[i].name ? ex[i].name : "", ex[i].rva);
        named += ex[i].name != NULL;
    }
    ck_assert_uint_ge(named, min_named);
    if (access(LLVM_READOBJ, X_OK) == 0) {
        char cmd[4096], line[1024];
        snprintf(cmd, sizeof cmd, "%s --coff-exports '%s' 2>/dev/null", LLVM_READOBJ, dt_test_data(rel));
        FILE *p = popen(cmd, "r");
        ck_assert_ptr_nonnull(p);
        unsigned ord = 0;
        char name[600] = "";
        const char *v;
        while (fgets(line, sizeof line, p)) {
            line[strcspn(line, "\n")] = '\0';
            char *body = line + strspn(line, " ");
            if ((v = after(body, "Ordinal: ")))
                ord = (unsigned)strtoul(v, NULL, 10);
            else if ((v = after(body, "Name: ")))
                snprintf(name, sizeof name, "%s", v);
            else if (strncmp(body, "Name:", 5) == 0)
                name[0] = '\0';
            else if ((v = after(body, "RVA: ")))
                text_add(&theirs, "%u %s 0x%lX", ord, name, strtoul(v, NULL, 16));
        }
        ck_assert_int_eq(pclose(p), 0);
        assert_same_text(rel, &ours, &theirs);
    } else {
        fprintf(stderr, "note: %s absent, exports of %s not compared\n", LLVM_READOBJ, rel);
    }
    free(ours.s);
    free(theirs.s);
    close_pe(&o);
}

START_TEST(exports_match_llvm_readobj)
{
    exports_vs_llvm("wine/bin/clang/dfpipe.dll", 2);
    exports_vs_llvm("wine/bin/gcc/dfpipe.dll", 2);
    exports_vs_llvm("symstore-kernel/Wdf01000.sys/a9a9d36ed1000/Wdf01000.sys", 0);
    exports_vs_llvm("symbols/syzygy__test_types_x64.dll", 0);
}
END_TEST

START_TEST(headers_and_codeview_identity)
{
    opened_pe o;
    open_pe(&o, "symbols/breakpad__dump_syms_regtest64.exe");
    ck_assert_uint_eq(o.pe.machine, 0x8664);
    ck_assert(o.pe.pe32plus);
    ck_assert_uint_eq(o.pe.time_date_stamp, 0x589dfd11);
    ck_assert_uint_eq(o.pe.image_base, 0x140000000ULL);
    ck_assert_uint_eq(o.pe.size_of_image, 0x1a000);
    ck_assert_uint_eq(o.pe.section_count, 5);
    ck_assert_str_eq(o.pe.sections[3].name, ".pdata");
    char code_id[32], debug_file[256], debug_id[48];
    dt_pe_code_id(&o.pe, code_id);
    ck_assert_str_eq(code_id, "589DFD111A000");
    ck_assert_int_eq(dt_pe_codeview(&o.pe, debug_file, sizeof debug_file, debug_id, NULL), DT_OK);
    ck_assert_str_eq(debug_file, "dump_syms_regtest64.pdb");
    ck_assert_str_eq(debug_id, "72E103A85CB249078B76B2E7C06257B13");

    /* formats.md E.4: 195 entries; [3] 0x1180-0x11b9 SAVE_NONVOL RBX@0x30, ALLOC_SMALL 0x20, PUSH RDI */
    ck_assert_uint_eq(dt_pe_pdata_count(&o.pe), 195);
    dt_pe_runtime_function rf;
    ck_assert(dt_pe_pdata_find(&o.pe, 0x11a0, &rf));
    ck_assert_uint_eq(rf.begin, 0x1180);
    ck_assert_uint_eq(rf.end, 0x11b9);
    dt_unwind_info ui;
    ck_assert_int_eq(dt_pe_unwind_info(&o.pe, rf.unwind_info, &ui, NULL), DT_OK);
    ck_assert_uint_eq(ui.op_count, 3);
    ck_assert_uint_eq(ui.ops[0].op, DT_UWOP_SAVE_NONVOL);
    ck_assert_uint_eq(ui.ops[0].info, 3);
    ck_assert_uint_eq(ui.ops[0].value, 0x30);
    ck_assert_uint_eq(ui.ops[1].value, 0x20);
    ck_assert_uint_eq(ui.ops[2].op, DT_UWOP_PUSH_NONVOL);
    ck_assert(!dt_pe_pdata_find(&o.pe, 0x10a0, &rf)); /* between functions */
    ck_assert(!dt_pe_pdata_find(&o.pe, 0x500000, &rf));
    close_pe(&o);

    open_pe(&o, "wine/bin/clang/hello_block.exe");
    ck_assert_int_eq(dt_pe_codeview(&o.pe, debug_file, sizeof debug_file, debug_id, NULL), DT_OK);
    ck_assert_str_eq(debug_file, "hello_block.pdb");
    ck_assert_uint_eq(strlen(debug_id), 33);
    close_pe(&o);

    /* A PDB is not a PE. */
    dt_mapped_file f;
    dt_pe pe;
    ck_assert_int_eq(dt_mapped_file_open(&f, dt_test_data("symbols/breakpad__dump_syms_regtest64.pdb"), NULL), DT_OK);
    ck_assert_int_eq(dt_pe_open_file(&pe, f.view, NULL), DT_ERR_FORMAT);
    dt_mapped_file_close(&f);
}
END_TEST

/* ---- the same image mapped the way the loader lays it out ---------------------- */

typedef struct {
    uint64_t base;
    uint8_t *image;
    size_t size;
} flat_space;

static size_t flat_read(void *ctx, uint64_t va, void *buf, size_t len)
{
    flat_space *f = ctx;
    if (va < f->base || va - f->base >= f->size)
        return 0;
    size_t off = (size_t)(va - f->base);
    if (len > f->size - off)
        len = f->size - off;
    memcpy(buf, f->image + off, len);
    return len;
}

START_TEST(mapped_image_reads_like_the_file)
{
    opened_pe o;
    open_pe(&o, "wine/bin/clang/dfpipe.dll");
    flat_space fs = { 0x180000000ULL, calloc(1, o.pe.size_of_image), o.pe.size_of_image };
    ck_assert_ptr_nonnull(fs.image);
    memcpy(fs.image, o.file.view.data, o.pe.size_of_headers);
    for (size_t i = 0; i < o.pe.section_count; i++) {
        const dt_pe_section *s = &o.pe.sections[i];
        size_t n = s->raw_size < s->virtual_size ? s->raw_size : s->virtual_size;
        ck_assert_uint_le(s->virtual_address + n, fs.size);
        memcpy(fs.image + s->virtual_address, o.file.view.data + s->raw_offset, n);
    }
    dt_addrspace as = { &fs, flat_read, NULL, 8 };
    dt_pe m;
    dt_error err = { 0 };
    ck_assert_msg(dt_pe_open_mapped(&m, &as, fs.base, &err) == DT_OK, "%s", err.message);
    ck_assert(m.mapped);
    ck_assert_uint_eq(dt_pe_pdata_count(&m), dt_pe_pdata_count(&o.pe));
    ck_assert_uint_eq(dt_pe_pdata_count(&m), 36);
    uint32_t rva;
    ck_assert(dt_pe_export_find(&m, "DfServeNamedPipe", &rva));
    ck_assert_uint_eq(rva, 0x1350);
    const char *name;
    uint32_t off;
    ck_assert(dt_pe_export_lookup(&m, 0x1350 + 0x2a, &name, &off));
    ck_assert_str_eq(name, "DfServeNamedPipe");
    ck_assert_uint_eq(off, 0x2a);
    ck_assert(dt_pe_export_lookup(&m, 0x1400, &name, &off));
    ck_assert_str_eq(name, "DfPipeVersion");
    ck_assert_uint_eq(off, 0);
    dt_pe_runtime_function a, b;
    ck_assert(dt_pe_pdata_find(&m, 0x1360, &a));
    ck_assert(dt_pe_pdata_find(&o.pe, 0x1360, &b));
    ck_assert_uint_eq(a.begin, b.begin);
    ck_assert_uint_eq(a.unwind_info, b.unwind_info);
    char i1[48], i2[48], f1[64], f2[64];
    ck_assert_int_eq(dt_pe_codeview(&m, f1, sizeof f1, i1, NULL), DT_OK);
    ck_assert_int_eq(dt_pe_codeview(&o.pe, f2, sizeof f2, i2, NULL), DT_OK);
    ck_assert_str_eq(i1, i2);
    ck_assert_str_eq(f1, f2);

    /* Pages missing: the header alone still opens; lookups fail, not crash. */
    fs.size = 0x1000;
    dt_pe h;
    ck_assert_int_eq(dt_pe_open_mapped(&h, &as, fs.base, NULL), DT_OK);
    ck_assert(!dt_pe_pdata_find(&h, 0x1360, &a));
    ck_assert(!dt_pe_export_lookup(&h, 0x1350, &name, &off));
    dt_pe_close(&h);
    dt_pe_close(&m);
    free(fs.image);
    close_pe(&o);
}
END_TEST

START_TEST(hostile_headers_fail_cleanly)
{
    /* Every truncation of a real image either opens or fails with an error. */
    opened_pe o;
    open_pe(&o, "wine/bin/clang/dfpipe.dll");
    for (size_t cut = 0; cut < 0x400; cut += 7) {
        dt_pe pe;
        dt_view v = dt_view_make(o.file.view.data, cut);
        if (dt_pe_open_file(&pe, v, NULL) == DT_OK) {
            ck_assert_uint_eq(dt_pe_pdata_count(&pe) * 0, 0);
            dt_pe_runtime_function rf;
            (void)dt_pe_pdata_find(&pe, 0x1360, &rf);
            dt_pe_close(&pe);
        }
    }
    close_pe(&o);
}
END_TEST

static Suite *pe_suite(void)
{
    Suite *s = suite_create("pe");
    TCase *tc = tcase_create("pe");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, pdata_matches_llvm_readobj, 0, (int)(sizeof x64_images / sizeof *x64_images));
    tcase_add_loop_test(tc, unwind_info_matches_objdump, 0, (int)(sizeof x64_images / sizeof *x64_images));
    tcase_add_test(tc, exports_match_llvm_readobj);
    tcase_add_test(tc, headers_and_codeview_identity);
    tcase_add_test(tc, mapped_image_reads_like_the_file);
    tcase_add_test(tc, hostile_headers_fail_cleanly);
    suite_add_tcase(s, tc);
    return s;
}

DT_TEST_MAIN(pe_suite)
