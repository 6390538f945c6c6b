//! The inbox staff work from (issue 12, migration 0011): each conversation with its last
//! message and how many customer messages the team has not seen, search by name or phone,
//! who on the team has it (`assigned_to`), and the store's quick replies.
//!
//! "Seen" is one mark per conversation for the whole store (`staff_seen_at`), as on the
//! WhatsApp Business app shared by the counter's phones: once anyone on the team opened the
//! conversation, its customer messages up to then are read for everyone.

use sqlx::{AnyConnection, Row};

use domain::conversation::State;

use crate::conversations::{self, Conversation, COLS};
use crate::db::{new_id, now_ms, Db, StoreError};

/// One row of the inbox.
#[derive(Debug, Clone)]
pub struct InboxRow {
    pub conv: Conversation,
    /// Who on the team has it, and the name to show ("com Ana").
    pub assigned_to: Option<String>,
    pub assignee: Option<String>,
    pub last: Option<LastMessage>,
    /// Customer messages after the team last opened the conversation.
    pub unseen: i64,
}

/// The conversation's newest message, for the inbox line.
#[derive(Debug, Clone)]
pub struct LastMessage {
    pub body: String,
    pub kind: String,
    pub inbound: bool,
    /// A person of the store wrote it (not the bot).
    pub by_person: bool,
    pub at: i64,
}

/// What the inbox lists: a state filter, a search, or one conversation.
#[derive(Debug, Clone, Default)]
pub struct InboxFilter<'a> {
    pub state: Option<State>,
    /// What staff typed in the search box: a name, or a phone in any writing.
    pub search: Option<&'a str>,
    pub id: Option<&'a str>,
}

/// A search box's text as two patterns: the name (`%ana%`, case-insensitive, LIKE wildcards
/// escaped) and the phone's digits (`%11955554444%`) when it has at least 4 digits and no
/// letter. "+55 (11) 95555-4444", "11 95555-4444" and "955554444" all find 5511955554444.
pub fn search_patterns(q: &str) -> Option<(String, Option<String>)> {
    let q = q.trim();
    if q.is_empty() {
        return None;
    }
    let mut escaped = String::with_capacity(q.len() + 2);
    for ch in q.to_lowercase().chars() {
        if matches!(ch, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(ch);
    }
    let digits: String = q.chars().filter(|c| c.is_ascii_digit()).collect();
    let phone_like = !q.chars().any(char::is_alphabetic) && digits.len() >= 4;
    Some((
        format!("%{escaped}%"),
        phone_like.then(|| format!("%{digits}%")),
    ))
}

/// The inbox: newest activity first (the waiting-for-a-person queue oldest wait first), at
/// most `limit` rows.
pub async fn list(
    db: &Db,
    tenant_id: &str,
    f: &InboxFilter<'_>,
    limit: i64,
) -> Result<Vec<InboxRow>, StoreError> {
    let mut sql = format!(
        "SELECT {COLS}, c.assigned_to, u.name, u.email, lm.body, lm.kind, lm.direction, lm.sent_by, lm.created_at,
           (SELECT CAST(COUNT(*) AS BIGINT) FROM messages m WHERE m.tenant_id = c.tenant_id AND m.conversation_id = c.id
              AND m.direction = 'in' AND m.created_at > COALESCE(c.staff_seen_at, 0))
         FROM conversations c JOIN contacts k ON k.id = c.contact_id
         LEFT JOIN users u ON u.id = c.assigned_to AND u.tenant_id = c.tenant_id
         LEFT JOIN messages lm ON lm.id = (SELECT m.id FROM messages m WHERE m.tenant_id = c.tenant_id
              AND m.conversation_id = c.id ORDER BY m.created_at DESC, m.id DESC LIMIT 1)
         WHERE c.tenant_id = $1"
    );
    let mut binds: Vec<String> = vec![tenant_id.to_string()];
    let next = |v: String, binds: &mut Vec<String>| {
        binds.push(v);
        format!("${}", binds.len() + 1)
    };
    if let Some(s) = f.state {
        let p = next(s.as_str().to_string(), &mut binds);
        sql.push_str(&format!(" AND c.state = {p}"));
    }
    if let Some(id) = f.id {
        let p = next(id.to_string(), &mut binds);
        sql.push_str(&format!(" AND c.id = {p}"));
    }
    if let Some((name, digits)) = f.search.and_then(search_patterns) {
        let p = next(name, &mut binds);
        let mut cond = format!("LOWER(k.name) LIKE {p} ESCAPE '\\'");
        if let Some(d) = digits {
            let p = next(d, &mut binds);
            cond.push_str(&format!(" OR k.wa_id LIKE {p}"));
        }
        sql.push_str(&format!(" AND ({cond})"));
    }
    let order = if f.state == Some(State::WaitingPerson) {
        "c.waiting_since ASC, c.last_message_at ASC"
    } else {
        "c.last_message_at DESC"
    };
    sql.push_str(&format!(" ORDER BY {order}, c.id LIMIT $2"));
    // $1 is the store, $2 the limit, then the filters in order.
    let mut q = sqlx::query(&sql).bind(tenant_id).bind(limit);
    for b in &binds[1..] {
        q = q.bind(b.as_str());
    }
    let rows = q.fetch_all(db.read()).await?;
    let n = 17;
    rows.iter()
        .map(|r| {
            let conv = conversations::from_row(r)?;
            let name: Option<String> = r.try_get(n + 1)?;
            let email: Option<String> = r.try_get(n + 2)?;
            let assignee = match (name, email) {
                (Some(n), _) if !n.trim().is_empty() => Some(n),
                (_, Some(e)) => Some(e.split('@').next().unwrap_or_default().to_string()),
                _ => None,
            };
            let body: Option<String> = r.try_get(n + 3)?;
            let last = match body {
                Some(body) => {
                    let direction: String = r.try_get(n + 5)?;
                    let sent_by: Option<String> = r.try_get(n + 6)?;
                    Some(LastMessage {
                        body,
                        kind: r.try_get(n + 4)?,
                        inbound: direction == "in",
                        by_person: sent_by.is_some(),
                        at: r.try_get(n + 7)?,
                    })
                }
                None => None,
            };
            Ok(InboxRow {
                conv,
                assigned_to: r.try_get(n)?,
                assignee,
                last,
                unseen: r.try_get(n + 8)?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(StoreError::from)
}

/// One conversation as the inbox shows it (None when it is not this store's).
pub async fn row(db: &Db, tenant_id: &str, id: &str) -> Result<Option<InboxRow>, StoreError> {
    let f = InboxFilter {
        id: Some(id),
        ..Default::default()
    };
    Ok(list(db, tenant_id, &f, 1).await?.into_iter().next())
}

/// The team opened the conversation at `at`: its customer messages up to then are seen.
/// Never moves back (a slow request does not make newer messages unread again).
pub async fn mark_seen(db: &Db, tenant_id: &str, id: &str, at: i64) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE conversations SET staff_seen_at = $3
         WHERE tenant_id = $1 AND id = $2 AND COALESCE(staff_seen_at, 0) < $3",
    )
    .bind(tenant_id)
    .bind(id)
    .bind(at)
    .execute(db.write())
    .await?;
    Ok(())
}

/// How many conversations have customer messages the team has not seen (the overview tile).
pub async fn unseen_conversations(db: &Db, tenant_id: &str) -> Result<i64, StoreError> {
    Ok(sqlx::query(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM conversations c WHERE c.tenant_id = $1 AND EXISTS (
           SELECT 1 FROM messages m WHERE m.tenant_id = c.tenant_id AND m.conversation_id = c.id
             AND m.direction = 'in' AND m.created_at > COALESCE(c.staff_seen_at, 0))",
    )
    .bind(tenant_id)
    .fetch_one(db.read())
    .await?
    .try_get(0)?)
}

/// Gives the conversation to `user_id` (a user of this store) or to nobody. Returns who had it.
pub async fn assign(
    c: &mut AnyConnection,
    tenant_id: &str,
    id: &str,
    user_id: Option<&str>,
) -> Result<Option<String>, StoreError> {
    let before =
        sqlx::query("SELECT assigned_to FROM conversations WHERE tenant_id = $1 AND id = $2")
            .bind(tenant_id)
            .bind(id)
            .fetch_optional(&mut *c)
            .await?
            .ok_or(StoreError::NotFound)?
            .try_get::<Option<String>, _>(0)?;
    let res = sqlx::query(
        "UPDATE conversations SET assigned_to = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2
           AND ($3 IS NULL OR EXISTS (SELECT 1 FROM users u WHERE u.tenant_id = $1 AND u.id = $3))",
    )
    .bind(tenant_id)
    .bind(id)
    .bind(user_id)
    .bind(now_ms())
    .execute(&mut *c)
    .await?;
    if res.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(before)
}

/// A saved answer staff insert in the reply box with one click.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuickReply {
    pub id: String,
    pub title: String,
    pub body: String,
}

/// The store's quick replies, by title.
pub async fn quick_replies(db: &Db, tenant_id: &str) -> Result<Vec<QuickReply>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, title, body FROM quick_replies WHERE tenant_id = $1 ORDER BY LOWER(title), id",
    )
    .bind(tenant_id)
    .fetch_all(db.read())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(QuickReply {
                id: r.try_get(0)?,
                title: r.try_get(1)?,
                body: r.try_get(2)?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(StoreError::from)
}

const TITLE_TAKEN: &str = "Já existe uma resposta rápida com esse título.";

/// Saves a new quick reply; returns its id. A title the store already uses is a conflict.
pub async fn add_quick_reply(
    c: &mut AnyConnection,
    tenant_id: &str,
    title: &str,
    body: &str,
) -> Result<String, StoreError> {
    let id = new_id();
    let now = now_ms();
    sqlx::query(
        "INSERT INTO quick_replies (id, tenant_id, title, body, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)",
    )
    .bind(&id)
    .bind(tenant_id)
    .bind(title)
    .bind(body)
    .bind(now)
    .execute(&mut *c)
    .await
    .map_err(|e| StoreError::from_unique(e, TITLE_TAKEN))?;
    Ok(id)
}

pub async fn update_quick_reply(
    c: &mut AnyConnection,
    tenant_id: &str,
    id: &str,
    title: &str,
    body: &str,
) -> Result<(), StoreError> {
    let res = sqlx::query(
        "UPDATE quick_replies SET title = $3, body = $4, updated_at = $5 WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant_id)
    .bind(id)
    .bind(title)
    .bind(body)
    .bind(now_ms())
    .execute(&mut *c)
    .await
    .map_err(|e| StoreError::from_unique(e, TITLE_TAKEN))?;
    if res.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub async fn delete_quick_reply(
    c: &mut AnyConnection,
    tenant_id: &str,
    id: &str,
) -> Result<(), StoreError> {
    let res = sqlx::query("DELETE FROM quick_replies WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id)
        .bind(id)
        .execute(&mut *c)
        .await?;
    if res.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::search_patterns;

    #[test]
    fn a_phone_in_any_writing_is_its_digits() {
        for q in [
            "+55 (11) 95555-4444",
            "11 95555-4444",
            "955554444",
            "5511955554444",
        ] {
            let (_, digits) = search_patterns(q).unwrap();
            let d = digits.unwrap();
            assert!("%5511955554444%".contains(d.trim_matches('%')), "{q} → {d}");
        }
        assert_eq!(search_patterns("Ana"), Some(("%ana%".into(), None)));
        assert_eq!(search_patterns("  "), None);
        assert_eq!(
            search_patterns("ana 12345").unwrap().1,
            None,
            "a name with digits"
        );
        assert_eq!(search_patterns("50%_x").unwrap().0, "%50\\%\\_x%");
    }
}
