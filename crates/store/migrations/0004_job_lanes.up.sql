-- Claims whose cost does not grow with the backlog (issue 14). The claim reads, per store in
-- turn, only the due head of that store's ready jobs, and checks a job's lane (its serial key:
-- one contact) among that lane's live jobs only:
--
-- - jobs_due: ready jobs per store in run order. A store's due jobs are one index range
--   (tenant_id = $t AND run_at <= now); jobs scheduled for later (quote and window expiries,
--   retries) lie after it and are never read by a claim.
-- - jobs_leased: running jobs by lease end, so a crashed worker's job is found without reading
--   the queue.
-- - jobs_lane: the live jobs of one serial key in creation order. Replaces jobs_serial
--   (serial_key, status), which also held every finished job of the contact.
--
-- Partial indexes, on both engines; the predicates are written out the same way in the claim
-- (store::jobs::claim) so both planners use them.
CREATE INDEX jobs_due ON jobs (tenant_id, run_at, id) WHERE status = 'ready';
CREATE INDEX jobs_leased ON jobs (lease_until) WHERE status = 'running';
DROP INDEX jobs_serial;
CREATE INDEX jobs_lane ON jobs (serial_key, id) WHERE status IN ('ready', 'running');
