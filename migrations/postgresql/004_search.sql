-- 004_search.sql (PostgreSQL) — indexed text search for the upload list.
-- SQLite's 004 builds FTS5 trigram tables; here pg_trgm's GIN indexes on
-- the same columns answer the same question — a case-insensitive substring,
-- ILIKE '%q%' — from an index, with no copy of the text and no triggers.
-- pg_trgm is a trusted extension: the database's owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX uploads_note_trgm ON uploads USING gin (note gin_trgm_ops);
CREATE INDEX uploads_case_trgm ON uploads USING gin (case_id gin_trgm_ops);
CREATE INDEX uploads_customer_trgm ON uploads USING gin (customer gin_trgm_ops);
CREATE INDEX reports_search_trgm ON reports USING gin (search_text gin_trgm_ops);
CREATE INDEX files_name_trgm ON files USING gin (name gin_trgm_ops);
