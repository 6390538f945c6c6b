DROP INDEX conversations_taken_over_by;
CREATE INDEX conversations_taken_over_by ON conversations (taken_over_by);
DROP INDEX messages_sent_by;
CREATE INDEX messages_sent_by ON messages (sent_by);
DROP INDEX conversations_one_open;
CREATE UNIQUE INDEX conversations_one_open ON conversations (contact_id) WHERE state NOT IN ('WON', 'LOST');
