-- 006_workflow.sql — the support team's workflow per upload (docs/api.md,
-- "Workflow"): a triage state, an assignee, a ticket reference, and a
-- comment thread.  An upload without a workflow row is in state 'new'.
-- Rows go with their upload (ON DELETE CASCADE); a comment keeps its text
-- when its author's token is deleted (author becomes NULL).
CREATE TABLE workflow (
    upload_seq  INTEGER PRIMARY KEY REFERENCES uploads(seq) ON DELETE CASCADE,
    state       TEXT NOT NULL DEFAULT 'new'
                CHECK (state IN ('new', 'investigating', 'waiting_for_customer', 'resolved')),
    assignee    TEXT,
    ticket      TEXT,
    updated_at  INTEGER NOT NULL,
    updated_by  INTEGER REFERENCES tokens(id) ON DELETE SET NULL
);
CREATE INDEX workflow_state ON workflow(state);
CREATE INDEX workflow_assignee ON workflow(assignee COLLATE NOCASE);

CREATE TABLE comments (
    id          INTEGER PRIMARY KEY,
    upload_seq  INTEGER NOT NULL REFERENCES uploads(seq) ON DELETE CASCADE,
    author_id   INTEGER REFERENCES tokens(id) ON DELETE SET NULL,
    text        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX comments_upload ON comments(upload_seq, id);
