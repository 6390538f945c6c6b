//! Quoting steps shared by the bot (`advance`) and the dashboard's actions (approve): a
//! quote numbered, snapshotted and stored; its message sent; its expiry scheduled.

use domain::engine::{self, QuotePlan};
use domain::pricing::PricedQuote;
use domain::status::QuoteStatus;
use domain::templates::Common;
use sqlx::AnyConnection;
use store::conversations::Conversation;
use store::jobs::{self, NewJob};
use store::{quotes, StoreError};

use crate::outbound::{self, Payload, Target};
use crate::tenant_ctx::TenantContext;

const HOUR_MS: i64 = 60 * 60 * 1000;

/// When a quote sent now stops holding: validity counts from the moment the customer
/// receives it.
pub(crate) fn expiry_from_now(ctx: &TenantContext) -> i64 {
    store::now_ms() + i64::from(ctx.rules.quote_validity_hours) * HOUR_MS
}

/// Numbers, snapshots and stores a quote the engine decided; sends it (with buttons and its
/// expiry job) unless it needs approval, in which case the approval is recorded with every
/// reason and nothing is sent.
pub(crate) async fn create_quote(
    c: &mut AnyConnection,
    t: &Target<'_>,
    ctx: &TenantContext,
    conv: &Conversation,
    plan: &QuotePlan,
    today: chrono::NaiveDate,
) -> Result<String, StoreError> {
    use chrono::Datelike;
    let number = quotes::next_number(c, t.tenant_id, today.year()).await?;
    let snapshot =
        serde_json::to_string(&plan.priced).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let valid_until = expiry_from_now(ctx);
    let needs_approval = plan.priced.needs_approval();
    let delivery_json = plan
        .delivery
        .map(|d| serde_json::to_string(&d).unwrap_or_default());
    let quote_id = quotes::insert(
        c,
        &quotes::NewQuote {
            tenant_id: t.tenant_id,
            conversation_id: t.conversation_id,
            number: &number,
            status: if needs_approval {
                QuoteStatus::PendingApproval
            } else {
                QuoteStatus::Sent
            },
            snapshot_json: &snapshot,
            total_cents: plan.priced.total.0,
            valid_until,
            delivery: delivery_json.as_deref(),
        },
    )
    .await?;
    if needs_approval {
        let reasons: Vec<&str> = plan
            .priced
            .approval_reasons
            .iter()
            .map(|r| r.code())
            .collect();
        let reasons_json =
            serde_json::to_string(&reasons).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        quotes::insert_approval(c, t.tenant_id, &quote_id, &reasons_json).await?;
        metrics::counter!("orcazap_quotes_total", "outcome" => "approval").increment(1);
        for r in &plan.priced.approval_reasons {
            metrics::counter!("orcazap_quote_approval_reasons_total", "reason" => r.code())
                .increment(1);
        }
    } else {
        send_quote_message(
            c,
            t,
            ctx,
            conv,
            &plan.priced,
            &number,
            valid_until,
            plan.delivery,
            today,
        )
        .await?;
        schedule_expiry(c, t, ctx, &quote_id, valid_until).await?;
        metrics::counter!("orcazap_quotes_total", "outcome" => "auto_sent").increment(1);
    }
    Ok(quote_id)
}

/// The quote's message with its reply buttons, to the customer.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn send_quote_message(
    c: &mut AnyConnection,
    t: &Target<'_>,
    ctx: &TenantContext,
    conv: &Conversation,
    priced: &PricedQuote,
    number: &str,
    valid_until_ms: i64,
    delivery: Option<domain::slots::Delivery>,
    today: chrono::NaiveDate,
) -> Result<(), StoreError> {
    let common = Common {
        store_name: &ctx.tenant.name,
        customer_name: (!conv.contact_name.is_empty()).then_some(conv.contact_name.as_str()),
    };
    let body = engine::quote_message(
        &ctx.templates,
        &common,
        priced,
        number,
        ctx.date_of(valid_until_ms),
        delivery,
        today,
    );
    let payload = Payload::Buttons {
        to: conv.contact_wa_id.clone(),
        body,
        buttons: outbound::quote_buttons(number),
    };
    outbound::queue_quote(c, t, &payload, number).await?;
    // The switches come with the tenant row the job read (`ctx.tenant`), not a read each.
    if ctx.tenant.quote_pdf {
        let pdf = Payload::QuoteDocument {
            to: conv.contact_wa_id.clone(),
            number: number.to_string(),
            filename: quote_pdf::file_name(number),
            media_id: None,
        };
        outbound::queue(c, t, &pdf, None).await?;
    }
    if ctx.tenant.quote_link {
        let link = Payload::QuoteLink {
            to: conv.contact_wa_id.clone(),
            number: number.to_string(),
            body: crate::quote_link::link_body(
                number,
                priced.payment_method == domain::slots::PaymentMethod::Pix,
            ),
            url: None,
        };
        outbound::queue(c, t, &link, None).await?;
    }
    Ok(())
}

/// The `quote.expire` job, due when the quote stops holding.
pub(crate) async fn schedule_expiry(
    c: &mut AnyConnection,
    t: &Target<'_>,
    ctx: &TenantContext,
    quote_id: &str,
    valid_until: i64,
) -> Result<(), StoreError> {
    let mut job = NewJob::new(
        crate::QUOTE_EXPIRE_JOB,
        serde_json::json!({ "quote_id": quote_id }),
    );
    job.tenant_id = Some(t.tenant_id.to_string());
    job.run_at = Some(valid_until);
    jobs::enqueue(c, &job).await?;
    // The store's follow-ups on it, when it set them (`worker::followup`).
    crate::followup::schedule(c, t, ctx.tenant.follow_ups, quote_id, valid_until).await
}
