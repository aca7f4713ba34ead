-- 008_signature_merges.sql — hang buckets merged when a re-analysis changes
-- an upload's signature (docs/triage.md, "How a signature changes when
-- symbols arrive").  A bucket is not a row: it is every upload whose report
-- has that signature (the view `signatures`), so moving the upload to its
-- new report moves it, its count and its workflow (state, assignee,
-- comments — all per upload) to the new bucket in the same transaction.
-- What this table adds is the record: one row per upload that moved, from
-- which signature into which, when, and whose upload it was (so an
-- uploader sees only the merges of their own uploads).  The old bucket's
-- URL then says where its uploads went (GET /api/signatures/detail,
-- docs/api.md).  Rows outlive their upload (upload_seq NULL) as a record.
--
-- Written by a trigger rather than by the worker's code: every path that
-- gives an upload a new report (the worker finishing a re-analysis after a
-- symbol upload, a staff reanalyze, a series snapshot) passes through this
-- one UPDATE, and the old report still exists while it runs.
CREATE TABLE signature_merges (
    id              INTEGER PRIMARY KEY,
    from_signature  TEXT NOT NULL,
    into_signature  TEXT NOT NULL,
    upload_seq      INTEGER REFERENCES uploads(seq) ON DELETE SET NULL,
    upload_id       TEXT NOT NULL,
    owner_token_id  INTEGER,
    merged_at       INTEGER NOT NULL
);
CREATE INDEX signature_merges_from ON signature_merges(from_signature, merged_at);
CREATE INDEX signature_merges_into ON signature_merges(into_signature, merged_at);
CREATE INDEX reports_signature ON reports(signature);

CREATE TRIGGER uploads_signature_merge AFTER UPDATE OF report_id ON uploads
WHEN old.report_id IS NOT NULL AND new.report_id IS NOT NULL AND old.report_id <> new.report_id
BEGIN
    INSERT INTO signature_merges(from_signature, into_signature, upload_seq, upload_id, owner_token_id, merged_at)
    SELECT o.signature, n.signature, new.seq, new.id, new.owner_token_id, new.updated_at
    FROM reports o, reports n
    WHERE o.id = old.report_id AND n.id = new.report_id
      AND o.signature IS NOT NULL AND o.signature <> ''
      AND n.signature IS NOT NULL AND n.signature <> ''
      AND o.signature <> n.signature;
END;
