/*
 * report_names.h — a report the server stores names the upload's files as
 * their uploader named them, never by a path on the server.
 *
 * The analyzer is handed the server's copies of the files (blobs, inflated
 * temporaries, a series' links in DATA/tmp) and names its inputs by those
 * paths: the report's `inputs`, a series' `snapshots[].file` and
 * `kernel_file`, warnings that quote a file.  View-key holders read the
 * report, and the paths say how the server's disk is laid out, so the
 * worker replaces each path by the file's upload name before storing it.
 */
#ifndef DT_SERVER_REPORT_NAMES_H
#define DT_SERVER_REPORT_NAMES_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "store.h"

typedef struct {
    const char *path; /* as handed to the analyzer; NULL or "" entries are skipped */
    const char *name; /* what the report says instead */
    bool whole;       /* only a string that is exactly path (a symbol path the
                         admin chose may be short, e.g. "/srv") */
} dt_report_name;

/* Replaces every occurrence of each map[i].path in every string of doc by
 * map[i].name (the earliest, then the longest first, so a path that extends
 * another is replaced whole), or with whole the strings equal to it.
 * Returns how many strings changed, -1 on OOM (doc is then left partly
 * rewritten: the caller must not store it). */
int dt_report_public_names(cJSON *doc, const dt_report_name *map, int n);

/* The name a report shows for file f: its upload name, or "the user dump",
 * "the kernel dump", "the archive" when the client gave none. */
const char *dt_file_shown_name(const dt_file_rec *f);

/* A report another upload's files produced (an identical dump reused,
 * store_uploads.c) read for upload `seq`: the strings that are exactly the
 * first upload's file names (inputs.user, inputs.kernel) become this
 * upload's, so no one reads the name another uploader chose.  Takes text,
 * returns the text to send (the same when nothing changed), NULL on OOM. */
char *dt_report_names_for_reuse(dt_store *st, int64_t first_seq, int64_t seq, char *text);

#endif
