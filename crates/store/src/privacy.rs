//! A customer's rights under the LGPD: export everything a store holds about one contact,
//! and erase it — keeping the store's quotes (its books) in anonymised form.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Column, Row};

use crate::db::{Db, StoreError};

/// A row as JSON, whatever its columns (only TEXT and BIGINT exist in the schema).
fn row_json(r: &AnyRow) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    for (i, col) in r.columns().iter().enumerate() {
        let v = if let Ok(n) = r.try_get::<Option<i64>, _>(i) {
            n.map(serde_json::Value::from)
                .unwrap_or(serde_json::Value::Null)
        } else if let Ok(s) = r.try_get::<Option<String>, _>(i) {
            s.map(serde_json::Value::from)
                .unwrap_or(serde_json::Value::Null)
        } else {
            serde_json::Value::Null
        };
        m.insert(col.name().to_string(), v);
    }
    serde_json::Value::Object(m)
}

async fn rows(
    c: &mut AnyConnection,
    sql: &str,
    tenant_id: &str,
    contact_id: &str,
) -> Result<serde_json::Value, StoreError> {
    let rs = sqlx::query(sql)
        .bind(tenant_id)
        .bind(contact_id)
        .fetch_all(&mut *c)
        .await?;
    Ok(serde_json::Value::Array(rs.iter().map(row_json).collect()))
}

/// Unix milliseconds as an RFC 3339 UTC time, for a reader of the export.
fn utc(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// The contact's id in a store, if the store knows this number.
pub async fn contact_id(
    c: &mut AnyConnection,
    tenant_id: &str,
    wa_id: &str,
) -> Result<Option<String>, StoreError> {
    let row = sqlx::query("SELECT id FROM contacts WHERE tenant_id = $1 AND wa_id = $2")
        .bind(tenant_id)
        .bind(wa_id)
        .fetch_optional(&mut *c)
        .await?;
    Ok(row.map(|r| r.try_get(0)).transpose()?)
}

/// Everything about one contact of a store: the contact, its conversations, messages,
/// quotes and their approvals. None when the store does not know the number.
pub async fn export_contact(
    db: &Db,
    tenant_id: &str,
    wa_id: &str,
) -> Result<Option<serde_json::Value>, StoreError> {
    let mut c = db.read().acquire().await?;
    let Some(cid) = contact_id(&mut c, tenant_id, wa_id).await? else {
        return Ok(None);
    };
    let contact = rows(
        &mut c,
        "SELECT id, wa_id, name, last_inbound_at, opted_out_at, created_at FROM contacts WHERE tenant_id = $1 AND id = $2",
        tenant_id,
        &cid,
    )
    .await?;
    let conversations = rows(
        &mut c,
        "SELECT id, state, draft_json, closed_reason, last_message_at, created_at, updated_at FROM conversations
         WHERE tenant_id = $1 AND contact_id = $2 ORDER BY created_at",
        tenant_id,
        &cid,
    )
    .await?;
    let messages = rows(
        &mut c,
        "SELECT id, conversation_id, direction, kind, body, status, provider_message_id, provider_timestamp, created_at FROM messages
         WHERE tenant_id = $1 AND contact_id = $2 ORDER BY created_at, id",
        tenant_id,
        &cid,
    )
    .await?;
    let quotes = rows(
        &mut c,
        "SELECT q.id, q.conversation_id, q.number, q.status, q.snapshot_json, q.total_cents, q.valid_until, q.delivery, q.lost_reason, q.created_at
         FROM quotes q JOIN conversations v ON v.id = q.conversation_id
         WHERE q.tenant_id = $1 AND v.contact_id = $2 ORDER BY q.created_at",
        tenant_id,
        &cid,
    )
    .await?;
    let approvals = rows(
        &mut c,
        "SELECT a.id, a.quote_id, a.status, a.reasons_json, a.decided_at, a.decision_note, a.created_at
         FROM approvals a JOIN quotes q ON q.id = a.quote_id JOIN conversations v ON v.id = q.conversation_id
         WHERE a.tenant_id = $1 AND v.contact_id = $2 ORDER BY a.created_at",
        tenant_id,
        &cid,
    )
    .await?;
    // The delivery addresses the customer gave (issue 15 item 4).
    let orders = rows(
        &mut c,
        "SELECT o.id, o.quote_id, o.address_status, o.street, o.number, o.complement, o.reference, o.bairro, o.city, o.uf, o.cep,
           o.latitude, o.longitude, o.tax_id, o.payment_state, o.created_at
         FROM orders o WHERE o.tenant_id = $1 AND o.contact_id = $2 ORDER BY o.created_at",
        tenant_id,
        &cid,
    )
    .await?;
    // The opt-out of the store's messages ("parar", issue 15 item 6): whether it stands and
    // since when, and every change — the customer's ("parar", "voltar") and staff's
    // ("Reativar mensagens") — from the audit log.
    let opted_out_at = crate::opt_out::opted_out_at(&mut c, tenant_id, &cid).await?;
    let history = sqlx::query(
        "SELECT action, actor_label, created_at FROM audit_log
         WHERE tenant_id = $1 AND entity = 'contact' AND entity_id = $2
           AND action IN ('contact.opt_out', 'contact.opt_in')
         ORDER BY created_at, id",
    )
    .bind(tenant_id)
    .bind(&cid)
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(|r| {
        let action: String = r.try_get(0)?;
        let at: i64 = r.try_get(2)?;
        Ok(serde_json::json!({
            "change": if action == "contact.opt_out" { "opt_out" } else { "opt_in" },
            "by": r.try_get::<String, _>(1)?,
            "at": at,
            "at_utc": utc(at),
        }))
    })
    .collect::<Result<Vec<_>, StoreError>>()?;
    let opt_out = serde_json::json!({
        "opted_out": opted_out_at.is_some(),
        "opted_out_at": opted_out_at,
        "opted_out_at_utc": opted_out_at.map(utc),
        "history": history,
    });
    Ok(Some(serde_json::json!({
        "contact": contact.get(0).cloned().unwrap_or(serde_json::Value::Null),
        "opt_out": opt_out,
        "conversations": conversations,
        "messages": messages,
        "quotes": quotes,
        "approvals": approvals,
        "orders": orders,
    })))
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Erasure {
    pub contact_id: String,
    pub messages_deleted: u64,
    pub conversations_deleted: u64,
    pub quotes_anonymised: u64,
    pub webhook_events_deleted: u64,
}

/// Erases one contact inside the caller's transaction: messages and raw webhook payloads
/// that carry the number are deleted, conversations without quotes are deleted, and the
/// rest is anonymised — the contact keeps its row only as the anchor of the store's quotes
/// (name emptied, number replaced), conversations lose their draft, quotes lose the
/// delivery address but keep the priced snapshot (no personal data in it).
pub async fn erase_contact(
    c: &mut AnyConnection,
    tenant_id: &str,
    wa_id: &str,
) -> Result<Option<Erasure>, StoreError> {
    let Some(cid) = contact_id(c, tenant_id, wa_id).await? else {
        return Ok(None);
    };
    let mut e = Erasure {
        contact_id: cid.clone(),
        ..Default::default()
    };
    e.messages_deleted =
        sqlx::query("DELETE FROM messages WHERE tenant_id = $1 AND contact_id = $2")
            .bind(tenant_id)
            .bind(&cid)
            .execute(&mut *c)
            .await?
            .rows_affected();
    e.conversations_deleted = sqlx::query(
        "DELETE FROM conversations WHERE tenant_id = $1 AND contact_id = $2
         AND NOT EXISTS (SELECT 1 FROM quotes q WHERE q.conversation_id = conversations.id)",
    )
    .bind(tenant_id)
    .bind(&cid)
    .execute(&mut *c)
    .await?
    .rows_affected();
    e.quotes_anonymised = sqlx::query(
        "UPDATE quotes SET delivery = NULL WHERE tenant_id = $1
         AND conversation_id IN (SELECT id FROM conversations WHERE contact_id = $2)",
    )
    .bind(tenant_id)
    .bind(&cid)
    .execute(&mut *c)
    .await?
    .rows_affected();
    // The orders stay (the store's sales) without where the customer lives.
    sqlx::query(
        "UPDATE orders SET street = NULL, number = NULL, complement = NULL, reference = NULL,
           bairro = NULL, city = NULL, uf = NULL, cep = NULL, latitude = NULL, longitude = NULL,
           freight_note = NULL, tax_id = NULL
         WHERE tenant_id = $1 AND contact_id = $2",
    )
    .bind(tenant_id)
    .bind(&cid)
    .execute(&mut *c)
    .await?;
    // Kept conversations are closed: nobody may keep talking to an erased customer.
    sqlx::query(
        "UPDATE conversations SET draft_json = '{}',
           state = CASE WHEN state IN ('WON', 'LOST') THEN state ELSE 'LOST' END,
           closed_reason = CASE WHEN state IN ('WON', 'LOST') THEN closed_reason ELSE 'erased' END
         WHERE tenant_id = $1 AND contact_id = $2",
    )
    .bind(tenant_id)
    .bind(&cid)
    .execute(&mut *c)
    .await?;
    let remaining: i64 = sqlx::query(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM conversations WHERE tenant_id = $1 AND contact_id = $2",
    )
    .bind(tenant_id)
    .bind(&cid)
    .fetch_one(&mut *c)
    .await?
    .try_get(0)?;
    if remaining == 0 {
        sqlx::query("DELETE FROM contacts WHERE tenant_id = $1 AND id = $2")
            .bind(tenant_id)
            .bind(&cid)
            .execute(&mut *c)
            .await?;
    } else {
        sqlx::query(
            "UPDATE contacts SET wa_id = $3, user_id = NULL, username = NULL, name = '', last_inbound_at = NULL WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant_id)
        .bind(&cid)
        .bind(format!("apagado-{cid}"))
        .execute(&mut *c)
        .await?;
    }
    // Raw deliveries carry the number in `from` / `wa_id`; the number is digits only
    // (checked by the caller), so it cannot act as a LIKE pattern.
    e.webhook_events_deleted = sqlx::query(
        "DELETE FROM webhook_events WHERE (tenant_id = $1 OR tenant_id IS NULL) AND payload LIKE $2",
    )
    .bind(tenant_id)
    .bind(format!("%\"{wa_id}\"%"))
    .execute(&mut *c)
    .await?
    .rows_affected();
    Ok(Some(e))
}
