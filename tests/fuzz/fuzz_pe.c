/*
 * fuzz_pe.c — the PE reader in file mode on arbitrary bytes: headers,
 * CodeView identity, exports and name lookups, x64 .pdata with UNWIND_INFO
 * decoding (chains and indirect entries), ARM64 .pdata lookups.
 */
#include <stddef.h>
#include <stdint.h>

#include "formats/pe.h"

#define MAX_ENTRIES 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dt_pe pe;
    if (dt_pe_open_file(&pe, dt_view_make(data, size), NULL) != DT_OK)
        return 0;
    char code_id[32], file[128], id[48];
    dt_pe_code_id(&pe, code_id);
    (void)dt_pe_codeview(&pe, file, sizeof file, id, NULL);
    const dt_pe_export *ex;
    size_t n;
    (void)dt_pe_exports(&pe, &ex, &n, NULL);
    for (size_t i = 0; i < n && i < 64; i++) {
        const char *name;
        uint32_t off, rva;
        (void)dt_pe_export_lookup(&pe, ex[i].rva + 3, &name, &off);
        if (ex[i].name)
            (void)dt_pe_export_find(&pe, ex[i].name, &rva);
    }
    size_t np = dt_pe_pdata_count(&pe);
    for (size_t i = 0; i < np && i < MAX_ENTRIES; i++) {
        dt_pe_runtime_function rf, found;
        if (!dt_pe_pdata_get(&pe, i, &rf))
            break;
        (void)dt_pe_pdata_find(&pe, rf.begin, &found);
        if (!dt_pe_resolve_runtime_function(&pe, &rf))
            continue;
        dt_unwind_info ui;
        for (int depth = 0; depth < 8; depth++) {
            if (dt_pe_unwind_info(&pe, rf.unwind_info, &ui, NULL) != DT_OK || !ui.has_chain)
                break;
            rf = ui.chained;
            if (!dt_pe_resolve_runtime_function(&pe, &rf))
                break;
        }
    }
    size_t na = dt_pe_arm64_pdata_count(&pe);
    for (size_t i = 0; i < na && i < MAX_ENTRIES; i++) {
        dt_pe_arm64_function f, g;
        if (!dt_pe_arm64_pdata_get(&pe, i, &f))
            break;
        (void)dt_pe_arm64_pdata_find(&pe, f.begin + 4, &g);
    }
    dt_pe_close(&pe);
    return 0;
}
