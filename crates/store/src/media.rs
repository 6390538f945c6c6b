//! Inbound media files (issue 16): a customer's voice note or photo, downloaded from Meta by
//! the worker on arrival and kept encrypted (AES-256-GCM with the secret key, like channel
//! tokens) for the store's people to hear and see in the conversation. Retention empties the
//! content after the configured days, like raw webhook payloads; the row stays (type, size,
//! hash) so the conversation still says what was sent. Every read is by tenant.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::crypto::TokenCipher;
use crate::db::{new_id, now_ms, Db, StoreError};

/// One stored file, without its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaFile {
    pub id: String,
    pub message_id: String,
    pub media_id: String,
    pub mime_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub created_at: i64,
    /// When retention emptied it (None: the content is still kept).
    pub purged_at: Option<i64>,
}

const COLS: &str = "f.id, f.message_id, f.media_id, f.mime_type, f.size_bytes, f.sha256, f.created_at, f.purged_at";

fn from_row(r: &AnyRow) -> Result<MediaFile, sqlx::Error> {
    Ok(MediaFile {
        id: r.try_get(0)?,
        message_id: r.try_get(1)?,
        media_id: r.try_get(2)?,
        mime_type: r.try_get(3)?,
        size_bytes: r.try_get(4)?,
        sha256: r.try_get(5)?,
        created_at: r.try_get(6)?,
        purged_at: r.try_get(7)?,
    })
}

pub struct NewMediaFile<'a> {
    pub tenant_id: &'a str,
    pub message_id: &'a str,
    /// Meta's media id.
    pub media_id: &'a str,
    pub mime_type: &'a str,
    pub bytes: &'a [u8],
    /// Hex SHA-256 of `bytes`.
    pub sha256: &'a str,
}

/// Stores a message's file, encrypted. One file per message: a second store of the same
/// message (a retried job) keeps the first and returns its id.
pub async fn insert(
    c: &mut AnyConnection,
    cipher: &TokenCipher,
    m: &NewMediaFile<'_>,
) -> Result<String, StoreError> {
    let content = cipher.encrypt_bytes(m.bytes);
    let inserted = sqlx::query(
        "INSERT INTO media_files (id, tenant_id, message_id, media_id, mime_type, size_bytes, sha256, content, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(new_id())
    .bind(m.tenant_id)
    .bind(m.message_id)
    .bind(m.media_id)
    .bind(m.mime_type)
    .bind(m.bytes.len() as i64)
    .bind(m.sha256)
    .bind(content)
    .bind(now_ms())
    .fetch_optional(&mut *c)
    .await?;
    if let Some(row) = inserted {
        return Ok(row.try_get(0)?);
    }
    let row = sqlx::query("SELECT id FROM media_files WHERE tenant_id = $1 AND message_id = $2")
        .bind(m.tenant_id)
        .bind(m.message_id)
        .fetch_one(&mut *c)
        .await?;
    Ok(row.try_get(0)?)
}

/// The file of one message, if one was stored.
pub async fn for_message(
    c: &mut AnyConnection,
    tenant_id: &str,
    message_id: &str,
) -> Result<Option<MediaFile>, StoreError> {
    let sql =
        format!("SELECT {COLS} FROM media_files f WHERE f.tenant_id = $1 AND f.message_id = $2");
    let row = sqlx::query(&sql)
        .bind(tenant_id)
        .bind(message_id)
        .fetch_optional(&mut *c)
        .await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

/// The files of one conversation's messages (the transcript shows a player or a picture).
pub async fn for_conversation(
    db: &Db,
    tenant_id: &str,
    conversation_id: &str,
) -> Result<Vec<MediaFile>, StoreError> {
    let sql = format!(
        "SELECT {COLS} FROM media_files f JOIN messages m ON m.id = f.message_id
         WHERE f.tenant_id = $1 AND m.tenant_id = $1 AND m.conversation_id = $2"
    );
    let rows = sqlx::query(&sql)
        .bind(tenant_id)
        .bind(conversation_id)
        .fetch_all(db.read())
        .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// A file of this store with its decrypted bytes (None once retention emptied it), and the
/// conversation its message belongs to. None when the id is not this store's.
pub async fn content(
    db: &Db,
    cipher: &TokenCipher,
    tenant_id: &str,
    id: &str,
) -> Result<Option<(MediaFile, String, Option<Vec<u8>>)>, StoreError> {
    let sql = format!(
        "SELECT {COLS}, f.content, m.conversation_id FROM media_files f JOIN messages m ON m.id = f.message_id
         WHERE f.tenant_id = $1 AND m.tenant_id = $1 AND f.id = $2"
    );
    let Some(row) = sqlx::query(&sql)
        .bind(tenant_id)
        .bind(id)
        .fetch_optional(db.read())
        .await?
    else {
        return Ok(None);
    };
    let file = from_row(&row)?;
    let stored: Option<String> = row.try_get(8)?;
    let conversation_id: String = row.try_get(9)?;
    let bytes = match stored {
        Some(s) => Some(
            cipher
                .decrypt_bytes(&s)
                .map_err(|e| StoreError::Corrupt(format!("media file {id}: {e}")))?,
        ),
        None => None,
    };
    Ok(Some((file, conversation_id, bytes)))
}

/// Empties the content of files older than the retention period (the rows stay). Returns
/// how many were emptied.
pub async fn purge_older_than(db: &Db, retention_ms: i64) -> Result<u64, StoreError> {
    let now = now_ms();
    let res = sqlx::query(
        "UPDATE media_files SET content = NULL, purged_at = $2 WHERE created_at < $1 AND content IS NOT NULL",
    )
    .bind(now - retention_ms)
    .bind(now)
    .execute(db.write())
    .await?;
    Ok(res.rows_affected())
}

/// Rewrites an inbound message's extras (`payload_json`): the worker records what it heard
/// in a voice note (the transcript, or why there is none) on the message itself, so the
/// conversation engine and the dashboard read it like any other field.
pub async fn set_inbound_payload(
    c: &mut AnyConnection,
    tenant_id: &str,
    message_id: &str,
    payload_json: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE messages SET payload_json = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2 AND direction = 'in'",
    )
    .bind(tenant_id)
    .bind(message_id)
    .bind(payload_json)
    .bind(now_ms())
    .execute(&mut *c)
    .await?;
    Ok(())
}
