/*
 * report_text.h — the report document (docs/report.md) as text for a
 * terminal.  Every renderer here reads the JSON document, never the parsers,
 * so the text, the JSON and the server's pages cannot disagree; each writes
 * to a FILE * (open_memstream gives a string when one is needed).
 */
#ifndef DT_REPORT_REPORT_TEXT_H
#define DT_REPORT_REPORT_TEXT_H

#include <stdio.h>

#include <cjson/cJSON.h>

/* The whole document: a header line, then the user part, the kernel part
 * and the triage part, each when present. */
void dt_report_text(const cJSON *doc, FILE *out);

/* The triage part alone (report/triage_text.c). */
void dt_triage_text(const cJSON *triage, FILE *out);

#endif
