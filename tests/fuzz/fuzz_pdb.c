/*
 * fuzz_pdb.c — the PDB reader on arbitrary bytes: open, then every lazily
 * loaded part (publics, procedures, lines, inline sites with their binary
 * annotations and IPI names, lookups, TPI field offsets).
 */
#include <stddef.h>
#include <stdint.h>

#include "formats/pdb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dt_pdb *p = NULL;
    if (dt_pdb_open_view(&p, dt_view_make(data, size), NULL) != DT_OK)
        return 0;
    size_t n;
    const dt_pdb_public *pub = dt_pdb_publics(p, &n, NULL);
    const dt_pdb_function *f = dt_pdb_functions(p, &n, NULL);
    dt_pdb_symbol s;
    if (n)
        dt_pdb_lookup(p, f[0].rva + 1, &s);
    /* inline chains at a few points of each procedure (the reader bounds
     * every range by its procedure) */
    dt_pdb_inline chain[16];
    for (size_t i = 0; i < n && i < 1024; i++)
        for (uint32_t q = 0; q < 4; q++) {
            uint32_t o = (uint32_t)((uint64_t)f[i].size * q / 4);
            size_t k = dt_pdb_inlines(p, f[i].rva + o, f[i].rva, chain, 16);
            for (size_t j = 0; j < k; j++)
                if (!chain[j].function)
                    __builtin_trap();
        }
    if (pub)
        dt_pdb_lookup(p, pub[0].rva, &s);
    dt_pdb_lookup(p, 0x1010, &s);
    dt_pdb_lines(p, &n, NULL);
    uint64_t off;
    dt_pdb_field_offset(p, "_TP_CALLBACK_ENVIRON_V1", "u.Flags", &off, NULL);
    dt_pdb_type_size(p, "testing::TestBitfields", &off, NULL);
    dt_pdb_close(p);
    return 0;
}
