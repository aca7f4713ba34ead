-- 003_retention.sql — retention: a file row outlives its blob when the dump
-- was purged (age or size limit); the row keeps the hash, size and name so the
-- report still says what was analyzed, and the API answers 410 for it.
ALTER TABLE files ADD COLUMN purged_at INTEGER;
ALTER TABLE files ADD COLUMN purge_reason TEXT;
CREATE INDEX uploads_created ON uploads(created_at);
