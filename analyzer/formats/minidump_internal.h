/*
 * minidump_internal.h — helpers shared by the minidump parser's files
 * (minidump.c, minidump_modules.c, minidump_memory.c, minidump_streams.c).
 * Not for use outside analyzer/formats/minidump*.c.
 *
 * Each stream decoder takes the stream's bytes as a view (already clipped to
 * the file, with a warning when the directory claimed more) and fills its
 * part of dt_minidump.  Decoders never fail: damage becomes md->warnings.
 */
#ifndef DT_FORMATS_MINIDUMP_INTERNAL_H
#define DT_FORMATS_MINIDUMP_INTERNAL_H

#include "formats/minidump.h"

/* Longest MINIDUMP_STRING we decode (bytes of UTF-16); longer ones are cut. */
#define DT_MD_MAX_STRING_BYTES 65536u

/* The MINIDUMP_STRING at file offset rva as malloc'd UTF-8, or NULL when it
 * is absent or out of the file (a warning names `what`). */
char *dt_md_read_string(dt_minidump *md, uint64_t rva, const char *what);
/* Decodes up to nbytes of UTF-16LE, stopping at a NUL, into malloc'd UTF-8
 * (never NULL unless OOM).  Unpaired surrogates become U+FFFD. */
char *dt_md_utf16_to_utf8(const uint8_t *p, size_t nbytes);
/* malloc'd copy of at most n bytes of p, stopping at NUL; non-printable
 * bytes other than UTF-8 are kept as-is (the report escapes them). */
char *dt_md_strndup(const uint8_t *p, size_t n);
/* GUID (16 bytes, first three fields little-endian) as
 * "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx". */
void dt_md_format_guid(const uint8_t *g, char out[37]);

/* Stream decoders. */
void dt_md_parse_module_list(dt_minidump *md, dt_view s);
void dt_md_parse_unloaded_module_list(dt_minidump *md, dt_view s);
void dt_md_parse_memory_list(dt_minidump *md, dt_view s);
void dt_md_parse_memory64_list(dt_minidump *md, dt_view s);
void dt_md_parse_handle_data(dt_minidump *md, dt_view s);
/* minidump_handles.c: the ObjectInfoRva chain of one HandleData descriptor. */
void dt_md_parse_handle_object_info(dt_minidump *md, dt_md_handle *h, uint32_t rva);
void dt_md_parse_memory_info_list(dt_minidump *md, dt_view s);
void dt_md_parse_thread_info_list(dt_minidump *md, dt_view s);
void dt_md_parse_thread_names(dt_minidump *md, dt_view s);
void dt_md_parse_token(dt_minidump *md, dt_view s);
void dt_md_parse_vm_counters(dt_minidump *md, dt_view s);
void dt_md_parse_system_memory_info(dt_minidump *md, dt_view s);
void dt_md_parse_comment_a(dt_minidump *md, dt_view s);
void dt_md_parse_comment_w(dt_minidump *md, dt_view s);
void dt_md_parse_breakpad_info(dt_minidump *md, dt_view s);
void dt_md_parse_crashpad_info(dt_minidump *md, dt_view s);
void dt_md_parse_assertion_info(dt_minidump *md, dt_view s);

/* Returns the thread with this id (mutable), or NULL. */
dt_md_thread *dt_md_thread_by_id(dt_minidump *md, uint32_t tid);

#endif
