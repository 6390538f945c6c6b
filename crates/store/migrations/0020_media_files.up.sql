-- Inbound media (issue 16): the voice notes and photos customers send, downloaded from Meta on
-- arrival (Meta's media ids expire) and kept for the store's people to hear and see in the
-- conversation. `content` is the file encrypted with the secret key (AES-256-GCM, base64
-- text: one portable column type); retention empties it (`purged_at`) like raw webhook
-- payloads, while the row (type, size, hash) stays with its message. Deleting the message
-- (LGPD erase of a contact) deletes the file.
CREATE TABLE media_files (
    id TEXT NOT NULL PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    message_id TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    media_id TEXT NOT NULL,
    mime_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    content TEXT,
    created_at BIGINT NOT NULL,
    purged_at BIGINT
);
CREATE UNIQUE INDEX media_files_message ON media_files (tenant_id, message_id);
CREATE INDEX media_files_message_fk ON media_files (message_id);
-- Retention finds what to empty without a scan.
CREATE INDEX media_files_created ON media_files (created_at);
