-- 005_client_limits.sql — per-client fairness of the queue, accounting of
-- server deaths during a job, and when a token was last used.
--
-- jobs.submitter: who queued the job ("t:<token id>" or "ip:<address>"), so
-- one client's share of the queue can be capped and leasing can take turns
-- between clients.  jobs.phase: what the worker was doing (unpack, analyze,
-- store) — a server that dies in an in-process phase may have been killed by
-- the job itself.  jobs.server_deaths: how often that happened.
ALTER TABLE jobs ADD COLUMN submitter TEXT;
ALTER TABLE jobs ADD COLUMN phase TEXT;
ALTER TABLE jobs ADD COLUMN server_deaths INTEGER NOT NULL DEFAULT 0;
CREATE INDEX jobs_submitter ON jobs(submitter, state);
ALTER TABLE tokens ADD COLUMN last_used_at INTEGER;
