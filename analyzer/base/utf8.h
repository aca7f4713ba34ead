/*
 * utf8.h — making text valid UTF-8: client text before it is stored, and
 * every string a dump contributes to the report (base/json.h).
 *
 * Notes, customer names and the module names inside uploaded Breakpad files
 * come from clients and end up in JSON replies and HTML pages; cJSON copies
 * bytes as they are, so invalid UTF-8 stored once would make every later
 * reply that carries it invalid JSON.  Text is therefore sanitized on the way
 * in: each invalid sequence becomes U+FFFD, the rest is kept byte for byte.
 */
#ifndef DT_BASE_UTF8_H
#define DT_BASE_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* True if the len bytes at s are valid UTF-8 (no overlongs, no surrogates,
 * nothing above U+10FFFF). */
bool dt_utf8_valid(const char *s, size_t len);

/* Copies the NUL-terminated in to out (cap bytes, cap > 0), replacing each
 * maximal invalid subpart (the WHATWG / Unicode "substitution of maximal
 * subparts" rule) by U+FFFD, and truncating at a character boundary so out
 * is always valid and NUL-terminated.  in and out may be the same buffer
 * only if no replacement grows it: use a separate buffer.  Returns the
 * number of replacements made. */
size_t dt_utf8_sanitize(const char *in, char *out, size_t cap);

/* The same in place for a buffer of capacity cap holding a NUL-terminated
 * string: what does not fit after the replacements is cut off at a
 * character boundary.  Returns the number of replacements. */
size_t dt_utf8_sanitize_inplace(char *s, size_t cap);

/* A malloc'd sanitized copy of s (caller frees); NULL on OOM. */
char *dt_utf8_sanitize_dup(const char *s);

#endif
