/*
 * fuzz_pdb.c — the PDB reader on arbitrary bytes: open, then every lazily
 * loaded part (publics, procedures, lines, lookups, TPI field offsets).
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
