-- 007_tus.sql — resumable uploads (tus 1.0, docs/api.md "Resumable uploads").
--
-- One row per tus resource: a file being received into DATA/tus/<id>.
-- `offset` is the last durable offset: the file's bytes up to it were
-- fsync'ed before the row was updated, so HEAD after a crash returns it and
-- bytes beyond it (written, never acknowledged) are cut off by the next
-- PATCH.  Several files of one case upload share `grp` (scoped by
-- `owner_key`) and `group_files`; when all of them are complete one normal
-- upload is created (`upload_id`) and the rows turn `finished`.
CREATE TABLE tus_uploads (
    seq            INTEGER PRIMARY KEY,
    id             TEXT NOT NULL UNIQUE,
    owner_token_id INTEGER,
    owner_key      TEXT NOT NULL,
    length         INTEGER,            -- NULL while Upload-Defer-Length
    offset         INTEGER NOT NULL DEFAULT 0,
    metadata       TEXT NOT NULL DEFAULT '',
    name           TEXT,
    note           TEXT,
    case_id        TEXT,
    customer       TEXT,
    grp            TEXT NOT NULL,
    group_files    INTEGER NOT NULL DEFAULT 1,
    state          TEXT NOT NULL DEFAULT 'receiving'
                   CHECK (state IN ('receiving', 'complete', 'finished')),
    sha256         TEXT,
    kind           TEXT,
    role           TEXT,
    upload_id      TEXT,
    view_key       TEXT,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL
);
CREATE INDEX tus_uploads_owner ON tus_uploads(owner_key, state);
CREATE INDEX tus_uploads_group ON tus_uploads(grp);
CREATE INDEX tus_uploads_expires ON tus_uploads(expires_at);
