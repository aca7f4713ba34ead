-- 001_initial.sql — the first schema of the dumptriage store.
-- Uploads own their files and jobs; a report may be shared by several uploads
-- (an identical pair reuses the earlier analysis).  Tokens and sessions are
-- stored only as SHA-256 hashes, so a copy of the database grants nothing.

CREATE TABLE tokens (
    id          INTEGER PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,
    role        TEXT NOT NULL CHECK (role IN ('staff', 'uploader')),
    name        TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    revoked     INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE sessions (
    session_hash TEXT PRIMARY KEY,
    token_id     INTEGER NOT NULL REFERENCES tokens(id) ON DELETE CASCADE,
    expires_at   INTEGER NOT NULL
);

CREATE TABLE reports (
    id            INTEGER PRIMARY KEY,
    json          TEXT NOT NULL,
    process       TEXT,
    pid           INTEGER,
    bugcheck      TEXT,
    verdict       TEXT,
    signature     TEXT,
    thread_count  INTEGER,
    search_text   TEXT NOT NULL DEFAULT '',
    duration_ms   INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);

CREATE TABLE uploads (
    seq            INTEGER PRIMARY KEY,
    id             TEXT NOT NULL UNIQUE,
    view_key       TEXT NOT NULL UNIQUE,
    owner_token_id INTEGER REFERENCES tokens(id) ON DELETE SET NULL,
    status         TEXT NOT NULL CHECK (status IN ('queued', 'analyzing', 'done', 'failed')),
    error          TEXT,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    note           TEXT,
    case_id        TEXT,
    customer       TEXT,
    pair_key       TEXT NOT NULL,
    report_id      INTEGER REFERENCES reports(id) ON DELETE SET NULL,
    reused_from    TEXT,
    bytes          INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX uploads_status ON uploads(status);
CREATE INDEX uploads_pair ON uploads(pair_key);
CREATE INDEX uploads_owner ON uploads(owner_token_id);
CREATE INDEX uploads_report ON uploads(report_id);

CREATE TABLE files (
    id          INTEGER PRIMARY KEY,
    upload_seq  INTEGER NOT NULL REFERENCES uploads(seq) ON DELETE CASCADE,
    role        TEXT NOT NULL CHECK (role IN ('user', 'kernel', 'archive')),
    sha256      TEXT NOT NULL,
    size        INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    name        TEXT
);
CREATE INDEX files_upload ON files(upload_seq);
CREATE INDEX files_sha ON files(sha256);

CREATE TABLE jobs (
    id            INTEGER PRIMARY KEY,
    upload_seq    INTEGER NOT NULL REFERENCES uploads(seq) ON DELETE CASCADE,
    state         TEXT NOT NULL CHECK (state IN ('queued', 'leased', 'done', 'failed')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    lease_owner   TEXT,
    lease_expires INTEGER,
    created_at    INTEGER NOT NULL,
    started_at    INTEGER,
    finished_at   INTEGER,
    error         TEXT,
    error_class   TEXT
);
CREATE INDEX jobs_state ON jobs(state, id);

-- Per-thread rows of a report, for search and the thread endpoint.
CREATE TABLE threads (
    report_id  INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    thread_id  INTEGER NOT NULL,
    name       TEXT,
    state      TEXT,
    verdict    TEXT,
    stuck      INTEGER,
    top_frame  TEXT,
    PRIMARY KEY (report_id, thread_id)
);

-- Hang signatures: one bucket per signature, counted over uploads (a reused
-- analysis counts again: the customer saw the hang again).
CREATE VIEW signatures AS
    SELECT r.signature AS signature, COUNT(*) AS count,
           MIN(u.created_at) AS first_seen, MAX(u.created_at) AS last_seen
    FROM uploads u JOIN reports r ON r.id = u.report_id
    WHERE r.signature IS NOT NULL AND r.signature <> ''
    GROUP BY r.signature;
