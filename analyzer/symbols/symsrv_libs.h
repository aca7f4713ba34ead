/*
 * symsrv_libs.h — libcurl and libarchive for the symbol-server client,
 * loaded with dlopen on first use.
 *
 * Most analyses never download a symbol file, yet linking libcurl (TLS, LDAP,
 * Kerberos, …) and libarchive into `dumptriage` made every run pay for
 * loading some forty shared libraries.  So the analyzer binary links neither;
 * the first download loads them.  The tables below are typed from the real
 * headers (__typeof__ of each function), so a call through them is checked by
 * the compiler exactly like a direct call.  A missing library is an error
 * like any other (dt_error), reported per module as a symbol-server failure.
 */
#ifndef DT_SYMBOLS_SYMSRV_LIBS_H
#define DT_SYMBOLS_SYMSRV_LIBS_H

#include <archive.h>
#include <archive_entry.h>
#include <curl/curl.h>

#include "base/error.h"

/* The sonames loaded (Debian 12: packages libcurl4 and libarchive13). */
#define DT_LIBCURL_SONAME "libcurl.so.4"
#define DT_LIBARCHIVE_SONAME "libarchive.so.13"

typedef struct {
    __typeof__(curl_easy_init) *easy_init;
    __typeof__(curl_easy_setopt) *easy_setopt;
    __typeof__(curl_easy_perform) *easy_perform;
    __typeof__(curl_easy_getinfo) *easy_getinfo;
    __typeof__(curl_easy_cleanup) *easy_cleanup;
    __typeof__(curl_easy_strerror) *easy_strerror;
} dt_curl_api;

typedef struct {
    __typeof__(archive_read_new) *read_new;
    __typeof__(archive_read_support_format_cab) *read_support_format_cab;
    __typeof__(archive_read_support_format_zip) *read_support_format_zip;
    __typeof__(archive_read_support_filter_all) *read_support_filter_all;
    __typeof__(archive_read_open_filename) *read_open_filename;
    __typeof__(archive_read_next_header) *read_next_header;
    __typeof__(archive_read_data) *read_data;
    __typeof__(archive_error_string) *error_string;
    __typeof__(archive_read_free) *read_free;
} dt_archive_api;

/* libcurl's functions, curl_global_init already done; NULL (err set) when
 * libcurl cannot be loaded.  Thread-safe; loads at most once per process. */
const dt_curl_api *dt_symsrv_curl(dt_error *err);

/* libarchive's functions; NULL (err set) when it cannot be loaded.
 * Thread-safe; loads at most once per process. */
const dt_archive_api *dt_symsrv_archive(dt_error *err);

#endif
