-- The portable open-conversation lookup (conversations::touch_open / open_for_contact, the
-- path SQLite runs) filters on (tenant_id, contact_id). With the partial unique index on
-- contact_id alone, PostgreSQL could cache a generic plan, made while the table was still
-- small, that walks conversations_tenant_last and reads every conversation of the store on each
-- webhook (seen in the ingest benchmark: 2 million index tuples read for 1,000 scans). An index
-- whose columns are exactly the predicate is the cheapest plan at any table size. (The
-- PostgreSQL webhook function of migration 0003 touches by contact_id alone, for the same
-- reason.)
DROP INDEX conversations_one_open;
CREATE UNIQUE INDEX conversations_one_open ON conversations (tenant_id, contact_id) WHERE state NOT IN ('WON', 'LOST');

-- Inbound messages never have a sender user and new conversations are never taken over, so
-- indexing only the rows that do keeps two index insertions off every webhook. The foreign
-- keys stay covered: deleting a user looks up `sent_by = $1` / `taken_over_by = $1`, which
-- only non-NULL rows can match.
DROP INDEX messages_sent_by;
CREATE INDEX messages_sent_by ON messages (sent_by) WHERE sent_by IS NOT NULL;
DROP INDEX conversations_taken_over_by;
CREATE INDEX conversations_taken_over_by ON conversations (taken_over_by) WHERE taken_over_by IS NOT NULL;
