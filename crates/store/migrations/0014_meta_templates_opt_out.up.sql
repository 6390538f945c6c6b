-- Past the 24-hour window (issue 15 items 5 and 6). The store's WhatsApp message templates
-- ("modelos de mensagem do WhatsApp", submitted to Meta for review; not the bot's reply texts in
-- message_templates): name and language as Meta knows them, category, body with {{1}}…, what the
-- product uses it for (purpose: quote_reminder, quote_expired…), and Meta's review status with
-- its reason. And the contact's opt-out of proactive messages, with its time (LGPD).
CREATE TABLE meta_templates (
    id TEXT NOT NULL PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    language TEXT NOT NULL,
    category TEXT NOT NULL,
    purpose TEXT,
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    status_reason TEXT,
    meta_id TEXT,
    created_by TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (tenant_id, name, language)
);
CREATE INDEX meta_templates_created_by ON meta_templates (created_by);
ALTER TABLE contacts ADD COLUMN opted_out_at BIGINT;
-- Follow-ups on a sent quote (issue 15 item 6), set on /regras: a reminder N hours before it
-- expires, one after N hours without an answer (NULL = off); at most one per quote.
ALTER TABLE tenants ADD COLUMN reminder_hours_before_expiry BIGINT;
ALTER TABLE tenants ADD COLUMN follow_up_after_hours BIGINT;
ALTER TABLE quotes ADD COLUMN follow_up_sent_at BIGINT;
