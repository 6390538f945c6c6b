//! A store's WhatsApp number (Meta `phone_number_id`) and its encrypted access token.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::db::{new_id, now_ms, Db, StoreError};

#[derive(Clone)]
pub struct Channel {
    pub id: String,
    pub tenant_id: String,
    pub phone_number_id: String,
    pub waba_id: String,
    pub display_number: String,
    /// AEAD ciphertext (`crate::crypto`); never the plain token.
    pub access_token_enc: Option<String>,
    /// The id (fingerprint) of the key that encrypted the token, `crypto::KeyId::as_i64`.
    /// Rows written before key ids existed hold a list position here; nothing reads it to
    /// decrypt (the ciphertext names its key), it is kept for operators' queries.
    pub key_version: i64,
    pub last_error_code: Option<i64>,
}

impl std::fmt::Debug for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Channel")
            .field("id", &self.id)
            .field("tenant_id", &self.tenant_id)
            .field("phone_number_id", &self.phone_number_id)
            .field(
                "access_token_enc",
                &self.access_token_enc.as_ref().map(|_| "[encrypted]"),
            )
            .finish_non_exhaustive()
    }
}

const COLS: &str = "id, tenant_id, phone_number_id, waba_id, display_number, access_token_enc, key_version, last_error_code";

fn from_row(r: &AnyRow) -> Result<Channel, sqlx::Error> {
    Ok(Channel {
        id: r.try_get(0)?,
        tenant_id: r.try_get(1)?,
        phone_number_id: r.try_get(2)?,
        waba_id: r.try_get(3)?,
        display_number: r.try_get(4)?,
        access_token_enc: r.try_get(5)?,
        key_version: r.try_get(6)?,
        last_error_code: r.try_get(7)?,
    })
}

pub async fn create(
    c: &mut AnyConnection,
    tenant_id: &str,
    phone_number_id: &str,
    waba_id: &str,
    display_number: &str,
    access_token_enc: Option<&str>,
    key_version: i64,
) -> Result<Channel, StoreError> {
    let sql = format!(
        "INSERT INTO channels (id, tenant_id, phone_number_id, waba_id, display_number, access_token_enc, key_version, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING {COLS}"
    );
    let row = sqlx::query(&sql)
        .bind(new_id())
        .bind(tenant_id)
        .bind(phone_number_id)
        .bind(waba_id)
        .bind(display_number)
        .bind(access_token_enc)
        .bind(key_version)
        .bind(now_ms())
        .fetch_one(&mut *c)
        .await
        .map_err(|e| {
            StoreError::from_unique(e, "esse número de WhatsApp já está ligado a uma loja")
        })?;
    Ok(from_row(&row)?)
}

/// The webhook's lookup: which store owns this number?
pub async fn by_phone_number_id(
    c: &mut AnyConnection,
    phone_number_id: &str,
) -> Result<Option<Channel>, StoreError> {
    let sql = format!("SELECT {COLS} FROM channels WHERE phone_number_id = $1");
    let row = sqlx::query(&sql)
        .bind(phone_number_id)
        .fetch_optional(&mut *c)
        .await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

pub async fn by_id(db: &Db, tenant_id: &str, id: &str) -> Result<Option<Channel>, StoreError> {
    let sql = format!("SELECT {COLS} FROM channels WHERE tenant_id = $1 AND id = $2");
    let row = sqlx::query(&sql)
        .bind(tenant_id)
        .bind(id)
        .fetch_optional(db.read())
        .await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

/// The channel of a conversation the bot answers (not taken over by a person, not closed),
/// in one read: the read receipt needs only this, and reading the conversation and then its
/// channel was two round trips per conversation step.
pub async fn of_bot_conversation(
    db: &Db,
    tenant_id: &str,
    conversation_id: &str,
) -> Result<Option<Channel>, StoreError> {
    use domain::conversation::State;
    // The closed states from the domain's own list (constant texts, never a request's).
    let closed = State::ALL
        .iter()
        .filter(|s| s.is_closed())
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let cols = COLS
        .split(", ")
        .map(|col| format!("ch.{col}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT {cols} FROM conversations c JOIN channels ch ON ch.id = c.channel_id AND ch.tenant_id = c.tenant_id \
         WHERE c.tenant_id = $1 AND c.id = $2 AND c.taken_over_by IS NULL AND c.state NOT IN ({closed})"
    );
    let row = sqlx::query(&sql)
        .bind(tenant_id)
        .bind(conversation_id)
        .fetch_optional(db.read())
        .await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

/// The store's WhatsApp numbers at Meta; its test channel ([`TEST_PNID_PREFIX`]) is not one.
pub async fn for_tenant(db: &Db, tenant_id: &str) -> Result<Vec<Channel>, StoreError> {
    let sql = format!(
        "SELECT {COLS} FROM channels WHERE tenant_id = $1 AND phone_number_id NOT LIKE '{TEST_PNID_PREFIX}%' ORDER BY created_at"
    );
    let rows = sqlx::query(&sql)
        .bind(tenant_id)
        .fetch_all(db.read())
        .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// The channels of a WhatsApp Business Account: how a template review (which names the
/// account, not a number) finds its store.
pub async fn by_waba_id(db: &Db, waba_id: &str) -> Result<Vec<Channel>, StoreError> {
    let sql = format!("SELECT {COLS} FROM channels WHERE waba_id = $1 ORDER BY created_at");
    let rows = sqlx::query(&sql).bind(waba_id).fetch_all(db.read()).await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// Every channel with a token (secret rotation re-encrypts them all).
pub async fn all_with_tokens(c: &mut AnyConnection) -> Result<Vec<Channel>, StoreError> {
    let sql = format!("SELECT {COLS} FROM channels WHERE access_token_enc IS NOT NULL ORDER BY id");
    let rows = sqlx::query(&sql).fetch_all(&mut *c).await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

pub async fn set_token(
    c: &mut AnyConnection,
    tenant_id: &str,
    channel_id: &str,
    access_token_enc: &str,
    key_version: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE channels SET access_token_enc = $3, key_version = $4, last_error_code = NULL, updated_at = $5 WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant_id)
    .bind(channel_id)
    .bind(access_token_enc)
    .bind(key_version)
    .bind(now_ms())
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// Remembers a permanent Graph error (e.g. 190 expired token) so the dashboard shows it.
pub async fn record_error(
    c: &mut AnyConnection,
    channel_id: &str,
    code: Option<i64>,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE channels SET last_error_code = $2, last_error_at = $3 WHERE id = $1")
        .bind(channel_id)
        .bind(code)
        .bind(now_ms())
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// The owner saved the number's settings after fixing what Meta complained about: sending
/// resumes (a new refusal flags it again).
pub async fn clear_error(
    c: &mut AnyConnection,
    tenant_id: &str,
    channel_id: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE channels SET last_error_code = NULL, updated_at = $3 WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant_id)
    .bind(channel_id)
    .bind(now_ms())
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// The number's Meta ids and display text; the token is [`set_token`]'s.
pub async fn update_ids(
    c: &mut AnyConnection,
    tenant_id: &str,
    channel_id: &str,
    phone_number_id: &str,
    waba_id: &str,
    display_number: &str,
) -> Result<(), StoreError> {
    let res = sqlx::query(
        "UPDATE channels SET phone_number_id = $3, waba_id = $4, display_number = $5, updated_at = $6 WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant_id)
    .bind(channel_id)
    .bind(phone_number_id)
    .bind(waba_id)
    .bind(display_number)
    .bind(now_ms())
    .execute(&mut *c)
    .await
    .map_err(|e| StoreError::from_unique(e, "esse phone_number_id já está ligado a outra loja"))?;
    if res.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// A store's test channel (the onboarding simulator, issue 17) has a `phone_number_id` that
/// starts with `0`: digits as Meta's are (the webhook and the Graph mock read it like any
/// other), but Meta's ids are integers and never start with a zero, so no real number is
/// ever taken for a test channel or the other way round.
pub const TEST_PNID_PREFIX: &str = "0";

pub fn is_test_pnid(phone_number_id: &str) -> bool {
    phone_number_id.starts_with(TEST_PNID_PREFIX)
}

/// The store's test channel, if it has one.
pub async fn test_channel(
    c: &mut AnyConnection,
    tenant_id: &str,
) -> Result<Option<Channel>, StoreError> {
    let sql = format!(
        "SELECT {COLS} FROM channels WHERE tenant_id = $1 AND phone_number_id LIKE '{TEST_PNID_PREFIX}%' ORDER BY created_at"
    );
    let row = sqlx::query(&sql)
        .bind(tenant_id)
        .fetch_optional(&mut *c)
        .await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

/// The store's test channel, created on first use: a fresh 16-digit id starting with
/// [`TEST_PNID_PREFIX`], no WABA, and the given (encrypted) token for the fake Graph API.
pub async fn ensure_test_channel(
    c: &mut AnyConnection,
    tenant_id: &str,
    access_token_enc: &str,
    key_version: i64,
) -> Result<Channel, StoreError> {
    if let Some(ch) = test_channel(c, tenant_id).await? {
        return Ok(ch);
    }
    let n = uuid::Uuid::new_v4().as_u128() % 1_000_000_000_000_000;
    let pnid = format!("{TEST_PNID_PREFIX}{n:015}");
    create(
        c,
        tenant_id,
        &pnid,
        "",
        "Número de teste",
        Some(access_token_enc),
        key_version,
    )
    .await
}
