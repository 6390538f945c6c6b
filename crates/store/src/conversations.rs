//! Contacts (a customer's WhatsApp number in one store) and their conversations.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use domain::conversation::State;

use crate::db::{new_id, now_ms, Db, Engine, StoreError};
use crate::text_column;

/// The 24 h customer-service window of WhatsApp.
pub const SERVICE_WINDOW_MS: i64 = 24 * 60 * 60 * 1000;

/// When the customer's message opened the window: Meta's timestamp (unix seconds), which is
/// what Meta measures the 24 h from — not when we received it, which can be hours later for
/// a redelivered webhook (issue 18 item 3). Never after our receipt (a clock ahead of ours
/// would keep the window open past Meta's), and our receipt when Meta sent no usable time.
/// The PostgreSQL webhook function (migration 0007) computes the same.
pub fn window_start(provider_timestamp_s: i64, received_at_ms: i64) -> i64 {
    // Outside 1970..5138 a timestamp is no time at all (and could overflow as milliseconds).
    if (1..=99_999_999_999).contains(&provider_timestamp_s) {
        (provider_timestamp_s * 1000).min(received_at_ms)
    } else {
        received_at_ms
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    pub id: String,
    pub tenant_id: String,
    pub contact_id: String,
    pub channel_id: String,
    pub state: State,
    pub draft_json: String,
    pub taken_over_by: Option<String>,
    pub unread: i64,
    pub closed_reason: Option<String>,
    pub last_message_at: i64,
    pub window_expires_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    /// In the waiting-for-a-person queue (`WAITING_PERSON`): since when, and why.
    pub waiting_since: Option<i64>,
    pub waiting_reason: Option<String>,
    // Joined from contacts.
    pub contact_wa_id: String,
    pub contact_name: String,
}

pub(crate) const COLS: &str = "c.id, c.tenant_id, c.contact_id, c.channel_id, c.state, c.draft_json, c.taken_over_by, c.unread, c.closed_reason,
    c.last_message_at, c.window_expires_at, c.created_at, c.updated_at, k.wa_id, k.name, c.waiting_since, c.waiting_reason";

pub(crate) fn from_row(r: &AnyRow) -> Result<Conversation, sqlx::Error> {
    Ok(Conversation {
        id: r.try_get(0)?,
        tenant_id: r.try_get(1)?,
        contact_id: r.try_get(2)?,
        channel_id: r.try_get(3)?,
        state: text_column::parse(r, 4)?,
        draft_json: r.try_get(5)?,
        taken_over_by: r.try_get(6)?,
        unread: r.try_get(7)?,
        closed_reason: r.try_get(8)?,
        last_message_at: r.try_get(9)?,
        window_expires_at: r.try_get(10)?,
        created_at: r.try_get(11)?,
        updated_at: r.try_get(12)?,
        contact_wa_id: r.try_get(13)?,
        contact_name: r.try_get(14)?,
        waiting_since: r.try_get(15)?,
        waiting_reason: r.try_get(16)?,
    })
}

/// Creates the contact or refreshes its name and last inbound time. Returns its id.
pub async fn upsert_contact(
    c: &mut AnyConnection,
    tenant_id: &str,
    wa_id: &str,
    name: &str,
    at: i64,
) -> Result<String, StoreError> {
    let row = sqlx::query(
        "INSERT INTO contacts (id, tenant_id, wa_id, name, last_inbound_at, created_at) VALUES ($1, $2, $3, $4, $5, $5)
         ON CONFLICT (tenant_id, wa_id) DO UPDATE SET
           name = CASE WHEN excluded.name <> '' THEN excluded.name ELSE contacts.name END,
           last_inbound_at = excluded.last_inbound_at
         RETURNING id",
    )
    .bind(new_id())
    .bind(tenant_id)
    .bind(wa_id)
    .bind(name)
    .bind(at)
    .fetch_one(&mut *c)
    .await?;
    Ok(row.try_get(0)?)
}

/// Who sent a message: the phone (`wa_id`, empty when Meta withheld it) and the
/// business-scoped user id Meta sends since 2026, with the username shown for it.
#[derive(Debug, Clone, Copy)]
pub struct Sender<'a> {
    pub wa_id: &'a str,
    pub user_id: Option<&'a str>,
    pub username: Option<&'a str>,
}

/// The contact a message came from, found by phone or by user id (either identifies it),
/// created if neither is known; returns its id. The steps (the same in
/// `orcazap_record_deliveries`, migration 0006, on PostgreSQL):
/// - no user id: by phone, as [`upsert_contact`];
/// - the contact with that user id, learning the phone when Meta sends one (unless another
///   contact already has that phone: two records of one person are left as they are rather
///   than merged behind the store's back);
/// - else the contact with that phone, learning the user id;
/// - else a new contact whose address (`wa_id`, where replies go) is the phone, or the user
///   id when Meta withheld the phone.
pub async fn upsert_contact_identified(
    c: &mut AnyConnection,
    tenant_id: &str,
    who: Sender<'_>,
    name: &str,
    at: i64,
) -> Result<String, StoreError> {
    let Some(user_id) = who.user_id.filter(|u| !u.is_empty()) else {
        return upsert_contact(c, tenant_id, who.wa_id, name, at).await;
    };
    let known = sqlx::query("SELECT id, wa_id FROM contacts WHERE tenant_id = $1 AND user_id = $2")
        .bind(tenant_id)
        .bind(user_id)
        .fetch_optional(&mut *c)
        .await?;
    if let Some(row) = known {
        let id: String = row.try_get(0)?;
        let address: String = row.try_get(1)?;
        if !who.wa_id.is_empty() && address != who.wa_id {
            sqlx::query(
                "UPDATE contacts SET wa_id = $3 WHERE tenant_id = $1 AND id = $2
                 AND NOT EXISTS (SELECT 1 FROM contacts o WHERE o.tenant_id = $1 AND o.wa_id = $3)",
            )
            .bind(tenant_id)
            .bind(&id)
            .bind(who.wa_id)
            .execute(&mut *c)
            .await?;
        }
        sqlx::query(
            "UPDATE contacts SET name = CASE WHEN $3 <> '' THEN $3 ELSE name END,
               username = COALESCE($4, username), last_inbound_at = $5
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant_id)
        .bind(&id)
        .bind(name)
        .bind(who.username)
        .bind(at)
        .execute(&mut *c)
        .await?;
        return Ok(id);
    }
    let address = if who.wa_id.is_empty() {
        user_id
    } else {
        who.wa_id
    };
    let row = sqlx::query(
        "INSERT INTO contacts (id, tenant_id, wa_id, user_id, username, name, last_inbound_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
         ON CONFLICT (tenant_id, wa_id) DO UPDATE SET
           user_id = excluded.user_id,
           username = COALESCE(excluded.username, contacts.username),
           name = CASE WHEN excluded.name <> '' THEN excluded.name ELSE contacts.name END,
           last_inbound_at = excluded.last_inbound_at
         RETURNING id",
    )
    .bind(new_id())
    .bind(tenant_id)
    .bind(address)
    .bind(user_id)
    .bind(who.username)
    .bind(name)
    .bind(at)
    .fetch_one(&mut *c)
    .await?;
    Ok(row.try_get(0)?)
}

/// Meta said the customer changed numbers (`system` message `user_changed_number`): replies
/// go to the new `wa_id` from now on. Unchanged when another contact of the store already
/// has that number (the customer wrote from it first): the two are not merged here.
/// Returns whether the contact changed.
pub async fn change_wa_id(
    c: &mut AnyConnection,
    tenant_id: &str,
    contact_id: &str,
    new_wa_id: &str,
) -> Result<bool, StoreError> {
    let res = sqlx::query(
        "UPDATE contacts SET wa_id = $3 WHERE tenant_id = $1 AND id = $2
           AND NOT EXISTS (SELECT 1 FROM contacts o WHERE o.tenant_id = $1 AND o.wa_id = $3)",
    )
    .bind(tenant_id)
    .bind(contact_id)
    .bind(new_wa_id)
    .execute(&mut *c)
    .await?;
    Ok(res.rows_affected() == 1)
}

/// The contact's open conversation, opened (state INBOUND) if there is none.
pub async fn open_for_contact(
    c: &mut AnyConnection,
    tenant_id: &str,
    contact_id: &str,
    channel_id: &str,
) -> Result<String, StoreError> {
    let now = now_ms();
    // The partial unique index makes a racing second insert a no-op.
    sqlx::query(
        "INSERT INTO conversations (id, tenant_id, contact_id, channel_id, state, draft_json, last_message_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, 'INBOUND', '{}', $5, $5, $5) ON CONFLICT DO NOTHING",
    )
    .bind(new_id())
    .bind(tenant_id)
    .bind(contact_id)
    .bind(channel_id)
    .bind(now)
    .execute(&mut *c)
    .await?;
    let row = sqlx::query("SELECT id FROM conversations WHERE tenant_id = $1 AND contact_id = $2 AND state NOT IN ('WON', 'LOST')")
        .bind(tenant_id)
        .bind(contact_id)
        .fetch_one(&mut *c)
        .await?;
    Ok(row.try_get(0)?)
}

/// The webhook's fast path: counts an inbound message on the contact's open conversation
/// (unread, last activity, 24 h window) and returns its id — or None when the contact has
/// no open conversation. One statement instead of a select and an update.
///
/// `window_from` is when the customer wrote ([`window_start`]); the window only ever moves
/// forward, so a message Meta delivers late does not shorten it.
pub async fn touch_open(
    c: &mut AnyConnection,
    tenant_id: &str,
    contact_id: &str,
    at: i64,
    window_from: i64,
) -> Result<Option<String>, StoreError> {
    let row = sqlx::query(
        "UPDATE conversations SET unread = unread + 1, last_message_at = $3,
                window_expires_at = CASE WHEN window_expires_at IS NULL OR window_expires_at < $4
                                         THEN $4 ELSE window_expires_at END,
                updated_at = $3
         WHERE tenant_id = $1 AND contact_id = $2 AND state NOT IN ('WON', 'LOST') RETURNING id",
    )
    .bind(tenant_id)
    .bind(contact_id)
    .bind(at)
    .bind(window_from + SERVICE_WINDOW_MS)
    .fetch_optional(&mut *c)
    .await?;
    Ok(row.map(|r| r.try_get(0)).transpose()?)
}

/// Opens a conversation (state INBOUND) already counting its first message. None when a
/// concurrent delivery opened one first (the partial unique index refuses a second).
pub async fn create_open(
    c: &mut AnyConnection,
    tenant_id: &str,
    contact_id: &str,
    channel_id: &str,
    at: i64,
    window_from: i64,
) -> Result<Option<String>, StoreError> {
    let row = sqlx::query(
        "INSERT INTO conversations (id, tenant_id, contact_id, channel_id, state, draft_json, unread, last_message_at, window_expires_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, 'INBOUND', '{}', 1, $5, $6, $5, $5) ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(new_id())
    .bind(tenant_id)
    .bind(contact_id)
    .bind(channel_id)
    .bind(at)
    .bind(window_from + SERVICE_WINDOW_MS)
    .fetch_optional(&mut *c)
    .await?;
    Ok(row.map(|r| r.try_get(0)).transpose()?)
}

/// Undoes [`touch_open`] / [`create_open`] for a message that turned out to be a duplicate.
pub async fn undo_inbound(
    c: &mut AnyConnection,
    tenant_id: &str,
    conversation_id: &str,
    created: bool,
) -> Result<(), StoreError> {
    let sql = if created {
        "DELETE FROM conversations WHERE tenant_id = $1 AND id = $2"
    } else {
        "UPDATE conversations SET unread = CASE WHEN unread > 0 THEN unread - 1 ELSE 0 END WHERE tenant_id = $1 AND id = $2"
    };
    sqlx::query(sql)
        .bind(tenant_id)
        .bind(conversation_id)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// Loads a conversation inside a transaction, locking its row on PostgreSQL so that two
/// workers can never advance the same conversation at once (SQLite has one writer already).
pub async fn lock(
    c: &mut AnyConnection,
    engine: Engine,
    tenant_id: &str,
    id: &str,
) -> Result<Conversation, StoreError> {
    let lock = match engine {
        Engine::Postgres => " FOR UPDATE OF c",
        Engine::Sqlite => "",
    };
    let sql = format!("SELECT {COLS} FROM conversations c JOIN contacts k ON k.id = c.contact_id WHERE c.tenant_id = $1 AND c.id = $2{lock}");
    let row = sqlx::query(&sql)
        .bind(tenant_id)
        .bind(id)
        .fetch_optional(&mut *c)
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok(from_row(&row)?)
}

pub async fn get(db: &Db, tenant_id: &str, id: &str) -> Result<Option<Conversation>, StoreError> {
    let sql = format!("SELECT {COLS} FROM conversations c JOIN contacts k ON k.id = c.contact_id WHERE c.tenant_id = $1 AND c.id = $2");
    let row = sqlx::query(&sql)
        .bind(tenant_id)
        .bind(id)
        .fetch_optional(db.read())
        .await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

/// The inbox: most recent first, optionally one state only. The waiting-for-a-person queue
/// lists the oldest wait first: whoever waited longest is answered first.
pub async fn list(
    db: &Db,
    tenant_id: &str,
    state: Option<State>,
    limit: i64,
) -> Result<Vec<Conversation>, StoreError> {
    let filter = if state.is_some() {
        " AND c.state = $3"
    } else {
        ""
    };
    let order = if state == Some(State::WaitingPerson) {
        "c.waiting_since ASC, c.last_message_at ASC"
    } else {
        "c.last_message_at DESC"
    };
    let sql = format!(
        "SELECT {COLS} FROM conversations c JOIN contacts k ON k.id = c.contact_id WHERE c.tenant_id = $1{filter}
         ORDER BY {order} LIMIT $2"
    );
    let mut q = sqlx::query(&sql).bind(tenant_id).bind(limit);
    if let Some(s) = state {
        q = q.bind(s.as_str());
    }
    let rows = q.fetch_all(db.read()).await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// How many conversations wait for a person (the dashboard's badge and tile).
pub async fn waiting_for_person(db: &Db, tenant_id: &str) -> Result<i64, StoreError> {
    Ok(sqlx::query(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM conversations WHERE tenant_id = $1 AND state = 'WAITING_PERSON'",
    )
    .bind(tenant_id)
    .fetch_one(db.read())
    .await?
    .try_get(0)?)
}

/// Saves the conversation's state and draft after the engine decided. Entering the
/// waiting-for-a-person queue starts its clock (kept while it stays there); leaving it clears
/// the clock and the reason.
pub async fn save_state(
    c: &mut AnyConnection,
    tenant_id: &str,
    id: &str,
    state: State,
    draft_json: &str,
    closed_reason: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE conversations SET state = $3, draft_json = $4, closed_reason = COALESCE($5, closed_reason), updated_at = $6,
           waiting_since = CASE WHEN $3 = 'WAITING_PERSON' THEN COALESCE(waiting_since, $6) ELSE NULL END,
           waiting_reason = CASE WHEN $3 = 'WAITING_PERSON' THEN waiting_reason ELSE NULL END
         WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant_id)
    .bind(id)
    .bind(state.as_str())
    .bind(draft_json)
    .bind(closed_reason)
    .bind(now_ms())
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// Why the conversation waits for a person (shown to staff). The first reason stays while it
/// waits; a later one (say, a send that failed afterwards) is added after it.
pub async fn set_waiting_reason(
    c: &mut AnyConnection,
    tenant_id: &str,
    id: &str,
    reason: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE conversations SET waiting_reason = CASE
             WHEN waiting_reason IS NULL OR waiting_reason = '' THEN $3
             WHEN waiting_reason = $3 THEN waiting_reason
             ELSE waiting_reason || '; ' || $3 END
         WHERE tenant_id = $1 AND id = $2 AND state = 'WAITING_PERSON'",
    )
    .bind(tenant_id)
    .bind(id)
    .bind(reason)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// A person takes the conversation (`Some(user)`) or hands it back to the bot (`None`).
pub async fn set_taken_over(
    c: &mut AnyConnection,
    tenant_id: &str,
    id: &str,
    user_id: Option<&str>,
) -> Result<(), StoreError> {
    let now = now_ms();
    // Taking a conversation from the bot is also taking it for the team ("com Ana" in the
    // inbox); handing it back leaves it with nobody (migration 0011).
    let res = sqlx::query("UPDATE conversations SET taken_over_by = $3, assigned_to = $3, taken_over_at = $4, updated_at = $5 WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id)
        .bind(id)
        .bind(user_id)
        .bind(user_id.map(|_| now))
        .bind(now)
        .execute(&mut *c)
        .await?;
    if res.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub async fn mark_read(c: &mut AnyConnection, tenant_id: &str, id: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE conversations SET unread = 0 WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id)
        .bind(id)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// The contact for a WhatsApp number, created (without a name or inbound time) if new: the
/// settings page's test send writes to it through the normal outbound path.
pub async fn contact_for_number(
    c: &mut AnyConnection,
    tenant_id: &str,
    wa_id: &str,
) -> Result<String, StoreError> {
    sqlx::query(
        "INSERT INTO contacts (id, tenant_id, wa_id, name, created_at) VALUES ($1, $2, $3, '', $4) ON CONFLICT (tenant_id, wa_id) DO NOTHING",
    )
    .bind(new_id())
    .bind(tenant_id)
    .bind(wa_id)
    .bind(now_ms())
    .execute(&mut *c)
    .await?;
    Ok(
        sqlx::query("SELECT id FROM contacts WHERE tenant_id = $1 AND wa_id = $2")
            .bind(tenant_id)
            .bind(wa_id)
            .fetch_one(&mut *c)
            .await?
            .try_get(0)?,
    )
}

/// Moves an inbound message into another conversation of the same contact (the delivery
/// address or CPF/CNPJ answering an order, into the order's conversation: `worker::
/// order_address`). The destination's last activity and 24 h window follow the message's
/// (they only move forward); the source's unread count drops by one.
pub async fn move_inbound(
    c: &mut AnyConnection,
    tenant_id: &str,
    message_id: &str,
    from_id: &str,
    into_id: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE messages SET conversation_id = $3 WHERE tenant_id = $1 AND id = $2 AND conversation_id = $4",
    )
    .bind(tenant_id)
    .bind(message_id)
    .bind(into_id)
    .bind(from_id)
    .execute(&mut *c)
    .await?;
    let row = sqlx::query(
        "SELECT last_message_at, window_expires_at FROM conversations WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant_id)
    .bind(from_id)
    .fetch_one(&mut *c)
    .await?;
    let (last, window): (i64, Option<i64>) = (row.try_get(0)?, row.try_get(1)?);
    sqlx::query(
        "UPDATE conversations SET
           last_message_at = CASE WHEN last_message_at < $3 THEN $3 ELSE last_message_at END,
           window_expires_at = CASE WHEN $4 IS NOT NULL AND (window_expires_at IS NULL OR window_expires_at < $4)
                                    THEN $4 ELSE window_expires_at END,
           updated_at = $5
         WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant_id)
    .bind(into_id)
    .bind(last)
    .bind(window)
    .bind(now_ms())
    .execute(&mut *c)
    .await?;
    sqlx::query(
        "UPDATE conversations SET unread = CASE WHEN unread > 0 THEN unread - 1 ELSE 0 END
         WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant_id)
    .bind(from_id)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// Deletes a conversation left with no message and no quote (every message it had moved to
/// the order's conversation); returns whether it did. The conversation's row is locked by the
/// caller, so no message can arrive in it meanwhile.
pub async fn delete_if_empty(
    c: &mut AnyConnection,
    tenant_id: &str,
    id: &str,
) -> Result<bool, StoreError> {
    let res = sqlx::query(
        "DELETE FROM conversations WHERE tenant_id = $1 AND id = $2
           AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = $2)
           AND NOT EXISTS (SELECT 1 FROM quotes q WHERE q.conversation_id = $2)",
    )
    .bind(tenant_id)
    .bind(id)
    .execute(&mut *c)
    .await?;
    Ok(res.rows_affected() == 1)
}

#[cfg(test)]
mod tests {
    use super::window_start;

    #[test]
    fn window_starts_when_meta_says_the_customer_wrote() {
        let received = 1_764_320_000_000;
        // Two hours late: the window started two hours ago.
        assert_eq!(window_start(1_764_312_800, received), 1_764_312_800_000);
        // A clock ahead of ours never stretches it past our receipt.
        assert_eq!(window_start(1_764_330_000, received), received);
        // No usable time: our receipt.
        assert_eq!(window_start(0, received), received);
        assert_eq!(window_start(-5, received), received);
        assert_eq!(window_start(i64::MAX, received), received);
    }
}
