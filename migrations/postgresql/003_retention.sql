-- 003_retention.sql (PostgreSQL) — purged file rows (SQLite history's 003).
ALTER TABLE files ADD COLUMN purged_at BIGINT;
ALTER TABLE files ADD COLUMN purge_reason TEXT;
CREATE INDEX uploads_created ON uploads(created_at);
