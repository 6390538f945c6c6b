//! Follow-ups on a sent quote (issue 15 item 6), set on /regras: a reminder N hours before the
//! quote expires and one after N hours without an answer. At most one per quote (whichever is
//! due first), stopped by any message from the customer after the quote went out, by the
//! quote being answered or replaced, by a takeover, and — like every proactive message — by
//! the contact's opt-out; outside the 24-hour window it goes as the store's approved template
//! or not at all (`worker::proactive`). Scheduled as `quote.follow_up` jobs when the quote is
//! sent, beside its `quote.expire`.

use domain::proactive::Purpose;
use domain::status::QuoteStatus;
use sqlx::AnyConnection;
use store::jobs::{self, NewJob};
use store::{conversations, follow_ups, quotes, StoreError};

use crate::job::{JobCtx, Outcome};
use crate::outbound::{self, Payload, Target};

const HOUR_MS: i64 = 3_600_000;

/// Schedules the store's follow-ups of a quote just sent (valid until `valid_until`): only
/// those still ahead and before the quote expires. `s` is the store's settings from the
/// tenant row the job read (`Tenant::follow_ups`): no read of its own per quote.
pub(crate) async fn schedule(
    c: &mut AnyConnection,
    t: &Target<'_>,
    s: follow_ups::FollowUpSettings,
    quote_id: &str,
    valid_until: i64,
) -> Result<(), StoreError> {
    let now = store::now_ms();
    let due = [
        (
            Purpose::QuoteReminder,
            s.reminder_hours_before_expiry
                .map(|h| valid_until - h * HOUR_MS),
        ),
        (
            Purpose::QuoteFollowUp,
            s.follow_up_after_hours.map(|h| now + h * HOUR_MS),
        ),
    ];
    for (purpose, at) in due {
        let Some(at) = at.filter(|at| *at > now && *at < valid_until) else {
            continue;
        };
        let mut job = NewJob::new(
            crate::FOLLOW_UP_JOB,
            serde_json::json!({ "quote_id": quote_id, "purpose": purpose.code(), "sent_at": now }),
        );
        job.tenant_id = Some(t.tenant_id.to_string());
        job.run_at = Some(at);
        jobs::enqueue(c, &job).await?;
    }
    Ok(())
}

/// `quote.follow_up`: one proactive message about the quote, if nothing stopped it.
pub async fn run(jc: &JobCtx<'_>, quote_id: &str, purpose: &str, sent_at: i64) -> Outcome {
    let Some(tenant_id) = jc.job.tenant_id.clone() else {
        return Outcome::Dead("quote.follow_up without tenant".into());
    };
    let Some(purpose) = Purpose::from_code(purpose) else {
        return Outcome::Dead(format!("unknown follow-up purpose {purpose:?}"));
    };
    let ctx = match jc.contexts.load(jc.db, &tenant_id).await {
        Ok(c) => c,
        Err(e) => return Outcome::from_store(e),
    };
    let engine = jc.db.engine();
    let quote_id = quote_id.to_string();
    let request_id = jc.job.request_id.clone();
    let res = jc
        .db
        .tx(move |c| {
            Box::pin(async move {
                let q = quotes::get_conn(c, &tenant_id, &quote_id).await?;
                let now = store::now_ms();
                if q.status != QuoteStatus::Sent || q.valid_until <= now {
                    return Ok(false);
                }
                let conv = conversations::lock(c, engine, &tenant_id, &q.conversation_id).await?;
                if conv.taken_over_by.is_some()
                    || follow_ups::customer_wrote_since(c, &tenant_id, &conv.id, sent_at).await?
                {
                    return Ok(false);
                }
                if !follow_ups::claim(c, &tenant_id, &q.id).await? {
                    return Ok(false);
                }
                let name = (!conv.contact_name.is_empty()).then_some(conv.contact_name.as_str());
                let greeting = name.map_or("Olá!".to_string(), |n| format!("Olá, {n}!"));
                let valid = ctx.clock().datetime_br(q.valid_until);
                let body = match purpose {
                    Purpose::QuoteReminder => format!(
                        "{greeting} Seu orçamento *{}* vale até {valid}. Quer confirmar? É só tocar em *Confirmar* na mensagem do orçamento ou responder aqui.",
                        q.number
                    ),
                    _ => format!(
                        "{greeting} Conseguiu ver o orçamento *{}*? Se quiser mudar alguma coisa ou confirmar, é só responder aqui.",
                        q.number
                    ),
                };
                let params = quote_params(
                    &conv.contact_name,
                    &q.number,
                    (purpose == Purpose::QuoteReminder).then_some(valid),
                );
                let t = Target {
                    engine,
                    tenant_id: &tenant_id,
                    conversation_id: &conv.id,
                    contact_id: &conv.contact_id,
                    request_id: request_id.as_deref(),
                    due_at: None,
                };
                outbound::queue(
                    c,
                    &t,
                    &Payload::Proactive {
                        to: conv.contact_wa_id.clone(),
                        body,
                        purpose: purpose.code().into(),
                        params,
                    },
                    None,
                )
                .await?;
                Ok(true)
            })
        })
        .await;
    match res {
        Ok(sent) => {
            tracing::info!(sent, purpose = purpose.code(), "quote follow-up");
            Outcome::Done
        }
        Err(StoreError::NotFound) => Outcome::Done,
        Err(e) => Outcome::from_store(e),
    }
}

/// `[nome do cliente, número do orçamento, (validade)]`. Meta refuses an empty parameter or
/// one with a line break or a run of spaces (132018), so the name is "cliente" when unknown
/// and every value is on one line.
pub fn quote_params(customer_name: &str, number: &str, valid_until: Option<String>) -> Vec<String> {
    let one_line = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let name = one_line(customer_name);
    let mut params = vec![
        if name.is_empty() {
            "cliente".to_string()
        } else {
            name
        },
        one_line(number),
    ];
    if let Some(v) = valid_until {
        params.push(one_line(&v));
    }
    params
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_never_empty_nor_multi_line() {
        assert_eq!(
            quote_params("", "ORC-1", None),
            vec!["cliente".to_string(), "ORC-1".to_string()]
        );
        assert_eq!(
            quote_params(" Ana \n  Souza", "ORC-1", Some("05/12 às 18h".into())),
            vec![
                "Ana Souza".to_string(),
                "ORC-1".into(),
                "05/12 às 18h".into()
            ]
        );
    }
}
