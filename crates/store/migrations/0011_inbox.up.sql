-- The inbox staff expect (issue 12): who on the team has the conversation ("Assumir"), when the
-- team last opened it (customer messages after that are unread; one mark for the whole store,
-- as on the WhatsApp Business app shared by the counter's phones), and the store's quick replies.
ALTER TABLE conversations ADD COLUMN assigned_to TEXT REFERENCES users(id) ON DELETE SET NULL;
ALTER TABLE conversations ADD COLUMN staff_seen_at BIGINT;
CREATE INDEX conversations_assigned_to ON conversations (assigned_to);
CREATE TABLE quick_replies (
    id TEXT NOT NULL PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (tenant_id, title)
);
