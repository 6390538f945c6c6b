-- Issue 18 item 4: since 2026 Meta may identify a WhatsApp user by a business-scoped user id
-- (BSUID, `from_user_id` / `contacts[].user_id`, e.g. BR.1502576394655843) instead of, or
-- besides, the phone number (`wa_id`). A contact is found by either. `wa_id` stays the
-- address replies go to: the phone when Meta gave one, else the user id (a contact first
-- seen by user id only), replaced by the phone once Meta sends it.
ALTER TABLE contacts ADD COLUMN user_id TEXT;
-- The user's WhatsApp username, for display only (users may change it).
ALTER TABLE contacts ADD COLUMN username TEXT;
CREATE UNIQUE INDEX contacts_tenant_user_id ON contacts (tenant_id, user_id);

-- Issue 18 item 6: a delivery receipt (`statuses[]`) can arrive before the send that got
-- Meta's id has committed it (Meta answers the send, then the webhook races our COMMIT). It
-- used to find no message and be dropped while Meta got 200; a `failed` was lost that way.
-- It waits here, one row per Meta id holding the furthest status (failed wins), and is
-- applied when the send records the id (store::messages::mark_sent). Rows for ids we never
-- record (messages sent by another app on the same number) are purged after a week.
CREATE TABLE early_receipts (
    provider_message_id TEXT NOT NULL PRIMARY KEY,
    status TEXT NOT NULL,
    error_code BIGINT,
    error_message TEXT,
    received_at BIGINT NOT NULL
);
CREATE INDEX early_receipts_received ON early_receipts (received_at);
