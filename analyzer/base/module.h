/*
 * module.h — a loaded image (user-mode module or kernel driver), neutral to
 * the dump kind it came from, and a list of them sorted by address.
 *
 * Identity follows Breakpad/symstore conventions so one lookup serves both
 * symbol files and symbol servers:
 *   code_file + code_id   PE image: basename, `%08X` TimeDateStamp + `%X` SizeOfImage
 *   debug_file + debug_id PDB/.sym: pdb basename, 32 hex GUID digits + `%X` age
 * Strings are owned by the module (freed by dt_module_list_free).
 *
 * Module identity for display lives here too, once, so the kernel model,
 * the report, the triage rules and (through the report's frames) the web
 * page cannot disagree on which module is "nt" or how a name is shortened.
 */
#ifndef DT_BASE_MODULE_H
#define DT_BASE_MODULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t base;
    uint64_t size;
    char *path;          /* full path as the dump names it ("C:\\Windows\\System32\\ntdll.dll") */
    char *code_file;     /* basename of path ("ntdll.dll") */
    char code_id[32];    /* "" when unknown */
    char *debug_file;    /* "ntdll.pdb", NULL when unknown */
    char debug_id[48];   /* "" when unknown */
    uint32_t time_date_stamp;
    uint32_t checksum;
    char version[48];    /* "10.0.19041.1" or "" */
    /* Filled by the symbol layer: where names for this module came from
     * ("pdb:PATH", "breakpad:PATH", "exports", …) or why there are none. */
    char *symbol_source;
    bool symbols_loaded;
} dt_module;

typedef struct {
    dt_module *items;    /* sorted by base after dt_module_list_sort */
    size_t count;
    size_t cap;
    /* reach[i]: the index j <= i whose module ends highest, so a lookup that
     * misses the nearest module below an address knows at once whether any
     * lower (overlapping) module covers it.  Built by dt_module_list_sort,
     * dropped by dt_module_list_add; NULL means "scan". */
    size_t *reach;
} dt_module_list;

/* Appends a copy of the struct; string members are taken over (the list
 * frees them).  Returns the stored module or NULL on OOM. */
dt_module *dt_module_list_add(dt_module_list *list, const dt_module *m);
void dt_module_list_sort(dt_module_list *list);
/* The module containing addr, or NULL (list must be sorted). */
const dt_module *dt_module_list_find(const dt_module_list *list, uint64_t addr);
/* The first module whose base is exactly base, or NULL (list must be
 * sorted).  A binary search: a hostile dump may list many thousands. */
dt_module *dt_module_list_at_base(dt_module_list *list, uint64_t base);
void dt_module_list_free(dt_module_list *list);

/* Fills code_file from path (last component after '\\' or '/'). */
void dt_module_set_code_file_from_path(dt_module *m);

/* The file name of a module path: what follows the last '\\' or '/'
 * ("C:\\Windows\\System32\\ntdll.dll" -> "ntdll.dll").  Points into path;
 * "" for NULL. */
const char *dt_module_file_name(const char *path);

/* True when path (or a bare file name) names the kernel image under any of
 * its build names: ntoskrnl, ntkrnlmp, ntkrnlpa, ntkrpamp, ntkrla57, any
 * case, with or without an extension. */
bool dt_module_is_kernel_image(const char *path);

/* The short name WinDbg uses before '!' in module!function: the file name
 * without its extension, case kept ("KERNELBASE.dll" -> "KERNELBASE"), except
 * that the kernel image is "nt" and the HAL's build variants (halmacpi.dll,
 * halacpi.dll, …) are "hal".  Writes into buf (truncated at a UTF-8
 * character boundary) and returns it. */
const char *dt_module_short_name(const char *path, char *buf, size_t cap);

#endif
