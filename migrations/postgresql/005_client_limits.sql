-- 005_client_limits.sql (PostgreSQL) — per-client fairness of the queue,
-- server deaths during a job, a token's last use (SQLite history's 005);
-- and, PostgreSQL's own, the wake-up of idle workers: every job that
-- becomes queued (a new upload, a reanalysis, a retry, an expired lease)
-- sends NOTIFY dt_jobs when its transaction commits, so workers LISTENing
-- on other hosts lease it at once instead of at their next poll.
ALTER TABLE jobs ADD COLUMN submitter TEXT;
ALTER TABLE jobs ADD COLUMN phase TEXT;
ALTER TABLE jobs ADD COLUMN server_deaths INTEGER NOT NULL DEFAULT 0;
CREATE INDEX jobs_submitter ON jobs(submitter, state);
CREATE INDEX jobs_lease ON jobs(lease_expires) WHERE state = 'leased';
ALTER TABLE tokens ADD COLUMN last_used_at BIGINT;

CREATE FUNCTION dt_jobs_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('dt_jobs', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER jobs_queued_notify AFTER INSERT OR UPDATE OF state ON jobs
    FOR EACH ROW WHEN (NEW.state = 'queued') EXECUTE FUNCTION dt_jobs_notify();
