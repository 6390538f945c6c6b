DROP TABLE quick_replies;
DROP INDEX conversations_assigned_to;
ALTER TABLE conversations DROP COLUMN staff_seen_at;
ALTER TABLE conversations DROP COLUMN assigned_to;
