/*
 * minidump_modules.c — ModuleList and UnloadedModuleList: loaded images with
 * their symbol identities, and images the process had unloaded.
 *
 * A module's identity is what symbol lookup needs (base/module.h): the
 * CodeView record gives debug_file + debug_id (RSDS: GUID + age; NB10:
 * signature + age), TimeDateStamp + SizeOfImage give code_id.  The module
 * list is handed on sorted by base; the process image is remembered apart,
 * since after sorting it is no longer first.
 */
#include "formats/minidump_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MD_MODULE_SIZE 108
#define MD_UNLOADED_MIN_ENTRY 24
#define VS_FFI_SIGNATURE 0xFEEF04BDu
/* A PDB path longer than this in a CodeView record is cut. */
#define MD_MAX_PDB_NAME 1024

static const char *basename_of(const char *path)
{
    const char *b = path;
    for (const char *p = path; *p; p++)
        if (*p == '\\' || *p == '/')
            b = p + 1;
    return b;
}

/* Fills debug_file/debug_id from the CodeView record at [rva, rva+size). */
static void parse_codeview(dt_minidump *md, dt_module *m, uint32_t size, uint32_t rva)
{
    if (size == 0 || rva == 0)
        return;
    dt_view cv;
    if (!dt_view_sub(md->file, rva, size, &cv)) {
        dt_warn(&md->warnings, "module %s: CodeView record at 0x%x (%u bytes) is outside the file",
                m->code_file ? m->code_file : "?", rva, size);
        return;
    }
    uint32_t sig;
    if (!dt_view_u32(cv, 0, &sig))
        return;
    size_t name_off;
    if (sig == 0x53445352u) { /* "RSDS" */
        const uint8_t *g = dt_view_ptr(cv, 4, 20);
        if (!g) {
            dt_warn(&md->warnings, "module %s: RSDS record too short", m->code_file ? m->code_file : "?");
            return;
        }
        snprintf(m->debug_id, sizeof m->debug_id,
                 "%08X%04X%04X%02X%02X%02X%02X%02X%02X%02X%02X%X", dt_le32(g), dt_le16(g + 4),
                 dt_le16(g + 6), g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15],
                 dt_le32(g + 16));
        name_off = 24;
    } else if (sig == 0x3031424Eu) { /* "NB10" */
        const uint8_t *p = dt_view_ptr(cv, 8, 8);
        if (!p) {
            dt_warn(&md->warnings, "module %s: NB10 record too short", m->code_file ? m->code_file : "?");
            return;
        }
        snprintf(m->debug_id, sizeof m->debug_id, "%08X%X", dt_le32(p), dt_le32(p + 4));
        name_off = 16;
    } else {
        return; /* other CodeView flavours (ELF build ids, NB09…) carry no PDB identity */
    }
    dt_view name = dt_view_tail(cv, name_off);
    size_t n = name.size < MD_MAX_PDB_NAME ? name.size : MD_MAX_PDB_NAME;
    char *full = n ? dt_md_strndup(name.data, n) : NULL;
    if (full && *full)
        m->debug_file = strdup(basename_of(full));
    free(full);
}

static void format_version(char out[48], dt_view e)
{
    uint32_t sig, ms, ls;
    out[0] = '\0';
    if (!dt_view_u32(e, 0x18, &sig) || sig != VS_FFI_SIGNATURE)
        return;
    if (!dt_view_u32(e, 0x20, &ms) || !dt_view_u32(e, 0x24, &ls))
        return;
    snprintf(out, 48, "%u.%u.%u.%u", ms >> 16, ms & 0xFFFF, ls >> 16, ls & 0xFFFF);
}

static bool ends_with_exe(const char *s)
{
    size_t n = strlen(s);
    return n >= 4 && strcasecmp(s + n - 4, ".exe") == 0;
}

void dt_md_parse_module_list(dt_minidump *md, dt_view s)
{
    uint32_t claimed;
    if (!dt_view_u32(s, 0, &claimed)) {
        dt_warn(&md->warnings, "ModuleList is empty");
        return;
    }
    bool clamped;
    uint64_t n = dt_view_clamp_count(s, 4, MD_MODULE_SIZE, claimed, &clamped);
    if (clamped)
        dt_warn(&md->warnings, "ModuleList claims %u modules, stream holds %llu", claimed,
                (unsigned long long)n);
    bool have_exe = false;
    for (uint64_t i = 0; i < n; i++) {
        dt_view e = dt_view_make(s.data + 4 + i * MD_MODULE_SIZE, MD_MODULE_SIZE);
        dt_module m;
        memset(&m, 0, sizeof m);
        dt_view_u64(e, 0, &m.base);
        uint32_t size32 = 0, name_rva = 0, cv_size = 0, cv_rva = 0;
        dt_view_u32(e, 8, &size32);
        m.size = size32;
        dt_view_u32(e, 12, &m.checksum);
        dt_view_u32(e, 16, &m.time_date_stamp);
        dt_view_u32(e, 20, &name_rva);
        dt_view_u32(e, 0x4C, &cv_size);
        dt_view_u32(e, 0x50, &cv_rva);
        m.path = dt_md_read_string(md, name_rva, "module name");
        if (!m.path)
            m.path = strdup("");
        if (!m.path)
            continue;
        dt_module_set_code_file_from_path(&m);
        snprintf(m.code_id, sizeof m.code_id, "%08X%X", m.time_date_stamp, size32);
        format_version(m.version, e);
        parse_codeview(md, &m, cv_size, cv_rva);
        if (m.base + m.size < m.base)
            dt_warn(&md->warnings, "module %s: range 0x%llx+0x%llx wraps around", m.code_file,
                    (unsigned long long)m.base, (unsigned long long)m.size);
        dt_module *stored = dt_module_list_add(&md->modules, &m);
        if (!stored) {
            free(m.path);
            free(m.code_file);
            free(m.debug_file);
            dt_warn(&md->warnings, "out of memory after %llu modules", (unsigned long long)i);
            break;
        }
        /* Windows writers put the process image first; Wine does not, so
         * the first .exe wins over the first module. */
        if (!have_exe && stored->path[0] && (ends_with_exe(stored->path) || !md->main_module_path)) {
            char *copy = strdup(stored->path);
            if (copy) {
                free(md->main_module_path);
                md->main_module_path = copy;
                have_exe = ends_with_exe(copy);
            }
        }
    }
    dt_module_list_sort(&md->modules);
}

void dt_md_parse_unloaded_module_list(dt_minidump *md, dt_view s)
{
    uint32_t hdr, entry, claimed;
    if (!dt_view_u32(s, 0, &hdr) || !dt_view_u32(s, 4, &entry) || !dt_view_u32(s, 8, &claimed)) {
        dt_warn(&md->warnings, "UnloadedModuleList header truncated");
        return;
    }
    if (hdr < 12 || entry < MD_UNLOADED_MIN_ENTRY) {
        dt_warn(&md->warnings, "UnloadedModuleList: header %u / entry %u bytes too small", hdr, entry);
        return;
    }
    bool clamped;
    uint64_t n = dt_view_clamp_count(s, hdr, entry, claimed, &clamped);
    if (clamped)
        dt_warn(&md->warnings, "UnloadedModuleList claims %u entries, stream holds %llu", claimed,
                (unsigned long long)n);
    if (n == 0)
        return;
    md->unloaded = calloc((size_t)n, sizeof *md->unloaded);
    if (!md->unloaded)
        return;
    for (uint64_t i = 0; i < n; i++) {
        const uint8_t *p = s.data + hdr + i * entry;
        dt_md_unloaded_module *u = &md->unloaded[md->nunloaded++];
        u->base = dt_le64(p);
        u->size = dt_le32(p + 8);
        u->checksum = dt_le32(p + 12);
        u->time_date_stamp = dt_le32(p + 16);
        u->name = dt_md_read_string(md, dt_le32(p + 20), "unloaded module name");
    }
}
