-- OrçaZap core schema. One file for both engines: only TEXT and BIGINT column types, ids are
-- UUIDv7 text made in Rust, timestamps are unix milliseconds, money is centavos, percentages
-- are basis points, quantities are thousandths, booleans are 0/1, JSON is TEXT.

CREATE TABLE tenants (
    id TEXT NOT NULL PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    city TEXT NOT NULL DEFAULT '',
    timezone TEXT NOT NULL DEFAULT 'America/Sao_Paulo',
    status TEXT NOT NULL DEFAULT 'active',
    subscription_status TEXT NOT NULL DEFAULT 'none',
    catalog_version BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE users (
    id TEXT NOT NULL PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    failed_logins BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (tenant_id, email)
);

CREATE TABLE channels (
    id TEXT NOT NULL PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    phone_number_id TEXT NOT NULL UNIQUE,
    waba_id TEXT NOT NULL DEFAULT '',
    display_number TEXT NOT NULL DEFAULT '',
    access_token_enc TEXT,
    key_version BIGINT NOT NULL DEFAULT 1,
    last_error_code BIGINT,
    last_error_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX channels_tenant ON channels (tenant_id);

CREATE TABLE catalog_items (
    id TEXT NOT NULL PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    sku TEXT NOT NULL,
    name TEXT NOT NULL,
    unit TEXT NOT NULL,
    price_cents BIGINT NOT NULL,
    cost_cents BIGINT NOT NULL,
    weight_grams BIGINT NOT NULL DEFAULT 0,
    active BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (tenant_id, sku)
);
CREATE INDEX catalog_items_tenant_active ON catalog_items (tenant_id, active);

CREATE TABLE catalog_aliases (
    id TEXT NOT NULL PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    item_id TEXT NOT NULL REFERENCES catalog_items(id) ON DELETE CASCADE,
    alias TEXT NOT NULL,
    position BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX catalog_aliases_item ON catalog_aliases (item_id);
CREATE INDEX catalog_aliases_tenant ON catalog_aliases (tenant_id);

-- One row per store: the numbers of SPEC §3 that are not lists.
CREATE TABLE pricing_rules (
    tenant_id TEXT NOT NULL PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
    pix_discount_bp BIGINT NOT NULL DEFAULT 0,
    cartao_discount_bp BIGINT NOT NULL DEFAULT 0,
    boleto_discount_bp BIGINT NOT NULL DEFAULT 0,
    dinheiro_discount_bp BIGINT NOT NULL DEFAULT 0,
    min_margin_bp BIGINT NOT NULL DEFAULT 0,
    approval_above_cents BIGINT NOT NULL DEFAULT 0,
    quote_validity_hours BIGINT NOT NULL DEFAULT 48,
    updated_at BIGINT NOT NULL
);

CREATE TABLE volume_discounts (
    id TEXT NOT NULL PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    sku TEXT,
    min_quantity_milli BIGINT NOT NULL,
    discount_bp BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX volume_discounts_tenant ON volume_discounts (tenant_id);

CREATE TABLE freight_rules (
    id TEXT NOT NULL PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    label TEXT NOT NULL,
    kind TEXT NOT NULL,
    bairros_json TEXT NOT NULL DEFAULT '[]',
    cep_from BIGINT,
    cep_to BIGINT,
    base_cents BIGINT NOT NULL,
    per_kg_cents BIGINT NOT NULL DEFAULT 0,
    free_above_cents BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX freight_rules_tenant_position ON freight_rules (tenant_id, position);

CREATE TABLE contacts (
    id TEXT NOT NULL PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    wa_id TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    last_inbound_at BIGINT,
    created_at BIGINT NOT NULL,
    UNIQUE (tenant_id, wa_id)
);

CREATE TABLE conversations (
    id TEXT NOT NULL PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    contact_id TEXT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    channel_id TEXT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    draft_json TEXT NOT NULL DEFAULT '{}',
    taken_over_by TEXT REFERENCES users(id) ON DELETE SET NULL,
    taken_over_at BIGINT,
    unread BIGINT NOT NULL DEFAULT 0,
    closed_reason TEXT,
    last_message_at BIGINT NOT NULL,
    window_expires_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX conversations_tenant_state ON conversations (tenant_id, state);
CREATE INDEX conversations_tenant_last ON conversations (tenant_id, last_message_at);
CREATE INDEX conversations_contact ON conversations (contact_id);
CREATE INDEX conversations_channel ON conversations (channel_id);
CREATE INDEX conversations_taken_over_by ON conversations (taken_over_by);

CREATE TABLE messages (
    id TEXT NOT NULL PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    contact_id TEXT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    direction TEXT NOT NULL,
    provider_message_id TEXT UNIQUE,
    kind TEXT NOT NULL,
    body TEXT NOT NULL DEFAULT '',
    payload_json TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL,
    error_code BIGINT,
    error_message TEXT,
    sent_by TEXT REFERENCES users(id) ON DELETE SET NULL,
    request_id TEXT,
    provider_timestamp BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX messages_tenant_conversation ON messages (tenant_id, conversation_id, created_at);
CREATE INDEX messages_contact_status ON messages (contact_id, direction, status);
CREATE INDEX messages_sent_by ON messages (sent_by);
CREATE INDEX messages_conversation ON messages (conversation_id);

CREATE TABLE quote_counters (
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    year BIGINT NOT NULL,
    last_value BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, year)
);

CREATE TABLE quotes (
    id TEXT NOT NULL PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    number TEXT NOT NULL,
    status TEXT NOT NULL,
    snapshot_json TEXT NOT NULL,
    total_cents BIGINT NOT NULL,
    valid_until BIGINT NOT NULL,
    delivery TEXT,
    lost_reason TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (tenant_id, number)
);
CREATE INDEX quotes_tenant_status ON quotes (tenant_id, status, created_at);
CREATE INDEX quotes_conversation ON quotes (conversation_id);

CREATE TABLE approvals (
    id TEXT NOT NULL PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    quote_id TEXT NOT NULL REFERENCES quotes(id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    reasons_json TEXT NOT NULL,
    decided_by TEXT REFERENCES users(id) ON DELETE SET NULL,
    decided_at BIGINT,
    decision_note TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX approvals_tenant_status ON approvals (tenant_id, status, created_at);
CREATE INDEX approvals_quote ON approvals (quote_id);
CREATE INDEX approvals_decided_by ON approvals (decided_by);

CREATE TABLE message_templates (
    id TEXT NOT NULL PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    version BIGINT NOT NULL,
    source TEXT NOT NULL,
    created_by TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (tenant_id, kind, version)
);
CREATE INDEX message_templates_created_by ON message_templates (created_by);

CREATE TABLE jobs (
    id TEXT NOT NULL PRIMARY KEY,
    kind TEXT NOT NULL,
    tenant_id TEXT REFERENCES tenants(id) ON DELETE CASCADE,
    serial_key TEXT,
    payload_json TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL,
    run_at BIGINT NOT NULL,
    lease_until BIGINT,
    locked_by TEXT,
    last_error TEXT,
    request_id TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX jobs_ready ON jobs (status, run_at);
CREATE INDEX jobs_serial ON jobs (serial_key, status);
CREATE INDEX jobs_tenant ON jobs (tenant_id);

CREATE TABLE sessions (
    id_hash TEXT NOT NULL PRIMARY KEY,
    tenant_id TEXT REFERENCES tenants(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    ip TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_tenant ON sessions (tenant_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE login_throttle (
    throttle_key TEXT NOT NULL PRIMARY KEY,
    failures BIGINT NOT NULL,
    window_start BIGINT NOT NULL,
    locked_until BIGINT
);

CREATE TABLE audit_log (
    id TEXT NOT NULL PRIMARY KEY,
    tenant_id TEXT REFERENCES tenants(id) ON DELETE CASCADE,
    actor_user_id TEXT REFERENCES users(id) ON DELETE SET NULL,
    actor_label TEXT NOT NULL,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT,
    before_json TEXT,
    after_json TEXT,
    request_id TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX audit_log_tenant_created ON audit_log (tenant_id, created_at);
CREATE INDEX audit_log_actor ON audit_log (actor_user_id);

CREATE TABLE webhook_events (
    id TEXT NOT NULL PRIMARY KEY,
    tenant_id TEXT REFERENCES tenants(id) ON DELETE CASCADE,
    channel_id TEXT REFERENCES channels(id) ON DELETE SET NULL,
    provider TEXT NOT NULL,
    phone_number_id TEXT,
    outcome TEXT NOT NULL,
    payload TEXT NOT NULL,
    request_id TEXT,
    received_at BIGINT NOT NULL
);
CREATE INDEX webhook_events_received ON webhook_events (received_at);
CREATE INDEX webhook_events_tenant ON webhook_events (tenant_id, received_at);
CREATE INDEX webhook_events_channel ON webhook_events (channel_id);
CREATE INDEX webhook_events_outcome ON webhook_events (outcome, received_at);

CREATE TABLE worker_heartbeats (
    worker_id TEXT NOT NULL PRIMARY KEY,
    hostname TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    last_beat_at BIGINT NOT NULL
);

-- At most one open conversation per contact, so two webhooks racing for a new contact
-- cannot open two.
CREATE UNIQUE INDEX conversations_one_open ON conversations (contact_id) WHERE state NOT IN ('WON', 'LOST');
