ALTER TABLE conversations DROP COLUMN waiting_reason;
ALTER TABLE conversations DROP COLUMN waiting_since;
