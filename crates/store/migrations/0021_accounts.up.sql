-- Accounts (issue 17 items 4 and 5; docs/email.md, docs/security.md). E-mail verification and
-- two-factor sign-in per user; a store-wide "two-factor required" switch; single-use links
-- (password reset, invitation, e-mail verification, the second sign-in step) kept as the
-- SHA-256 of their token only; recovery codes kept hashed, each usable once.
ALTER TABLE users ADD COLUMN email_verified_at BIGINT;
ALTER TABLE users ADD COLUMN totp_secret_enc TEXT;
ALTER TABLE users ADD COLUMN totp_enabled_at BIGINT;
ALTER TABLE users ADD COLUMN totp_last_step BIGINT;
-- People who existed before this version were created by an operator (`store create`, seed)
-- or signed up before verification existed: they are not asked again.
UPDATE users SET email_verified_at = created_at;
ALTER TABLE tenants ADD COLUMN require_2fa BIGINT NOT NULL DEFAULT 0;
CREATE TABLE account_tokens (
    id_hash TEXT NOT NULL PRIMARY KEY,
    purpose TEXT NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    user_id TEXT REFERENCES users(id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    role TEXT,
    created_by TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX account_tokens_tenant ON account_tokens (tenant_id, purpose);
CREATE INDEX account_tokens_user ON account_tokens (user_id);
CREATE TABLE recovery_codes (
    id TEXT NOT NULL PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX recovery_codes_user ON recovery_codes (user_id);
