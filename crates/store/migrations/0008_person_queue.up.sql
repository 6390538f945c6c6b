-- The waiting-for-a-person queue (state WAITING_PERSON): since when and why, so the dashboard
-- lists the oldest first with its waiting time and reason. Both NULL outside the queue.
ALTER TABLE conversations ADD COLUMN waiting_since BIGINT;
ALTER TABLE conversations ADD COLUMN waiting_reason TEXT;
