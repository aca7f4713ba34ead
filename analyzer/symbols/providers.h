/*
 * providers.h — the built-in symbol providers of the symbolizer chain.
 * Each returns a filled dt_symbol_provider (no state of its own; the
 * per-module handle is the parsed file: a dt_pdb * or dt_breakpad_sym *).
 */
#ifndef DT_SYMBOLS_PROVIDERS_H
#define DT_SYMBOLS_PROVIDERS_H

#include "symbols/symbolizer.h"

/* PDB found by debug_file + debug_id; procedures with lines, else publics. */
dt_symbol_provider dt_provider_pdb(void);
/* Breakpad .sym found by debug_file + debug_id; FUNC with lines, else PUBLIC. */
dt_symbol_provider dt_provider_breakpad(void);
/* PE exports of the image in dump memory, else of its PE file from the
 * symbol directories; answers are export_only. */
dt_symbol_provider dt_provider_exports(void);

#endif
