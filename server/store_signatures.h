/*
 * store_signatures.h — where a hang bucket's uploads went when re-analysis
 * (after symbols arrived, or a staff reanalyze) changed their signature,
 * and where they came from: the record migrations/008_signature_merges.sql
 * keeps, read for GET /api/signatures/detail (docs/api.md).
 *
 * Apart from store_workflow.c's detail because it is its own question — a
 * history across buckets, with a chain to follow — over its own table.
 */
#ifndef DT_SERVER_STORE_SIGNATURES_H
#define DT_SERVER_STORE_SIGNATURES_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "store.h"

/* The most merge hops followed from an old bucket to the bucket its uploads
 * are in now (A -> B when the application's PDB arrived, B -> C when the
 * kernel symbols did: two; more than a few would be a loop of
 * re-analyses). */
#define DT_SIGNATURE_MERGE_HOPS 8

/*
 * Adds to `detail` (dt_store_signature_detail's object for `signature`,
 * whose "count" it reads) over the merges of uploads owner_token_id may see
 * (-1: all):
 *   "moved_to":    [{"signature","uploads","last_merged_at","kind"}] — where
 *                  uploads of this bucket went, latest first;
 *   "merged_from": the same for buckets whose uploads came here;
 *   "merged_into": when this bucket has no upload left and its uploads
 *                  went elsewhere, the bucket they are in now (the chain of
 *                  latest moves followed while a bucket is empty); else null.
 * kind is "symbols" when the new signature refines the old one
 * (dt_signature_refines: the same frames, better named), else "reanalysis".
 */
dt_status dt_store_signature_merges(dt_store *s, const char *signature, int64_t owner_token_id, cJSON *detail,
                                    dt_error *err);

#endif
