/*
 * undname.h — MSVC C++ name undecoration ("?Lookup@Cache@@QEAAPEAXH@Z" →
 * "public: void * __cdecl Cache::Lookup(int)"), for public symbols of PDBs
 * and exports, which arrive decorated.
 *
 * Debian has no C library for the Microsoft scheme (libiberty and
 * __cxa_demangle do Itanium only; LLVM's is C++ and would break the
 * analyzer's lean link), so this is written from the decoration grammar.
 * The output is llvm-undname's, character for character, which is the
 * test oracle (test_undname: every decorated public of the corpus PDBs and
 * a list of tricky names compiled by clang for the MSVC ABI).
 *
 * Input is untrusted: recursion depth, output length and back-reference
 * tables are bounded, and anything not understood gives NULL so that the
 * caller shows the raw name.
 */
#ifndef DT_SYMBOLS_UNDNAME_H
#define DT_SYMBOLS_UNDNAME_H

#include <stddef.h>

/* The whole declaration, as llvm-undname prints it. */
#define DT_UNDNAME_FULL 0u
/* Only the qualified name, as WinDbg shows a frame ("Cache::Lookup",
 * "std::vector<int, class std::allocator<int>>::push_back"); strings and
 * other special symbols keep their full form. */
#define DT_UNDNAME_NAME_ONLY 1u

/* Longest input accepted; longer names are left decorated. */
#define DT_UNDNAME_MAX_INPUT 4096
/* Longest output produced (back-references can multiply the input). */
#define DT_UNDNAME_MAX_OUTPUT 8192

/* malloc'd undecorated name (caller frees), or NULL when name is not an
 * MSVC-decorated name, is malformed, or exceeds a bound. */
char *dt_undname(const char *name, unsigned flags);

#endif
