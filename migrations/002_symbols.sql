-- 002_symbols.sql — the server's own symbol store (DATA_DIR/symbols/, symstore
-- layout).  The files live on disk where the analyzer finds them; this table
-- records who uploaded what and when, for GET /api/symbols.  One row per
-- stored file: a second upload of the same name/id/kind replaces the file and
-- updates the row.

CREATE TABLE symbol_files (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,             -- basename: x.pdb, x.exe, x.sym
    ident        TEXT NOT NULL,             -- debug id (PDB, Breakpad) or code id (PE)
    kind         TEXT NOT NULL CHECK (kind IN ('pdb', 'pe', 'breakpad')),
    match_file   TEXT NOT NULL,             -- what a report's module names: debug_file or code file
    path         TEXT NOT NULL,             -- relative to DATA_DIR/symbols
    size         INTEGER NOT NULL,
    sha256       TEXT NOT NULL,
    uploaded_at  INTEGER NOT NULL,
    uploaded_by  INTEGER REFERENCES tokens(id) ON DELETE SET NULL,
    UNIQUE (name, ident, kind)
);
CREATE INDEX symbol_files_uploaded ON symbol_files(uploaded_at);
