//! `/pedidos` (issue 15 item 4): the won quotes as orders, newest first — number, customer,
//! total, delivery day, the address the customer gave (or "endereço pendente"), and the
//! payment state (aguardando → pago → entregue) with who moved it and when. Owners and
//! attendants both mark an order paid or delivered; each move is audited.

use axum::extract::{Path, Query, State};
use axum::response::{Html, Response};
use domain::engine::delivery_words;
use domain::pricing::PricedQuote;
use domain::slots::Delivery;
use minijinja::{context, Value};
use store::orders::{self, PaymentState};

use super::change::{saved, Change};
use super::security::Me;
use super::view::{self, brl, Notice};
use crate::error::AppError;
use crate::state::AppState;

pub async fn list(
    State(state): State<AppState>,
    me: Me,
    Query(n): Query<Notice>,
) -> Result<Html<String>, AppError> {
    let clock = view::clock(&me);
    let rows: Vec<Value> = orders::list(&state.db, &me.tenant.id, 200)
        .await?
        .into_iter()
        .map(|r| {
            let o = &r.order;
            let pickup = serde_json::from_str::<PricedQuote>(&r.snapshot_json)
                .map(|p| p.pickup)
                .unwrap_or(false);
            let delivery = r
                .delivery
                .as_deref()
                .and_then(|d| serde_json::from_str::<Delivery>(d).ok())
                .map(|d| delivery_words(d, clock.date_of(o.created_at)))
                .unwrap_or_else(|| "a combinar".into());
            let address = (!o.address_pending()).then(|| o.address.one_line());
            let map = o.latitude.as_ref().zip(o.longitude.as_ref()).map(|(lat, lng)| {
                format!("https://www.google.com/maps?q={lat},{lng}")
            });
            let customer = if r.customer_name.is_empty() {
                domain::ids::mask_phone(&r.customer_wa_id)
            } else {
                r.customer_name.clone()
            };
            // Whoever delivers needs to reach the customer: the number, and the conversation.
            let phone = view::phone_of(&r.customer_wa_id)
                .map(|(shown, digits)| context! { shown => shown, digits => digits });
            context! {
                id => o.id.clone(), number => r.quote_number.clone(), quote_id => o.quote_id.clone(),
                customer => customer, phone => phone, conversation_id => r.conversation_id.clone(), total => brl(r.total_cents), delivery => delivery,
                pickup => pickup,
                address => address.filter(|a| !a.is_empty()),
                // What the customer wrote so far, while it is still incomplete.
                partial => o.address_pending().then(|| o.address.one_line()).filter(|a| !a.is_empty()),
                map => map, freight_note => o.freight_note.clone(),
                state => o.payment_state.label_pt(), state_code => o.payment_state.code(),
                changed_by => o.state_changed_by.clone(),
                changed_at => o.state_changed_at.map(|t| clock.datetime_br(t)),
                can_pay => o.payment_state == PaymentState::Aguardando,
                can_deliver => o.payment_state != PaymentState::Entregue,
                created => clock.datetime_br(o.created_at),
                tax_id => o.tax_id.as_deref().and_then(domain::tax_id::TaxId::from_stored).map(|t| format!("{} {}", t.kind_pt(), t.formatted())),
                tax_id_pending => o.tax_id.is_none() && o.tax_id_asked_at.is_some(),
            }
        })
        .collect();
    view::page(
        &me,
        "dashboard/orders.html",
        "pedidos",
        context! { rows => rows, notice => view::notice(n.ok.as_deref()) },
    )
}

pub async fn mark_paid(
    State(state): State<AppState>,
    me: Me,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    mark(&state, &me, id, PaymentState::Pago).await?;
    state.wake.notify_one();
    saved("/pedidos?ok=pedido-pago")
}

pub async fn mark_delivered(
    State(state): State<AppState>,
    me: Me,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    mark(&state, &me, id, PaymentState::Entregue).await?;
    state.wake.notify_one();
    saved("/pedidos?ok=pedido-entregue")
}

/// Moves the order forward (aguardando → pago → entregue; delivered before paid is allowed:
/// cash on delivery). Never backwards: a second click on an old page changes nothing and
/// says why.
async fn mark(state: &AppState, me: &Me, id: String, to: PaymentState) -> Result<(), AppError> {
    let before = {
        let mut c = super::change::read_conn(state).await?;
        orders::get_conn(&mut c, &me.tenant.id, &id)
            .await?
            .ok_or(AppError::NotFound)?
            .payment_state
    };
    let rank = |s: PaymentState| PaymentState::ALL.iter().position(|x| *x == s);
    if rank(to) <= rank(before) {
        return Err(AppError::Conflict(format!(
            "O pedido já está como «{}».",
            before.label_pt()
        )));
    }
    let by = me.user.email.clone();
    let engine = state.db.engine();
    let request_id = me.request_id.clone();
    Change::new("order.payment_state", "order")
        .of(&id)
        .before(serde_json::json!({ "payment_state": before.code() }))
        .after(serde_json::json!({ "payment_state": to.code() }))
        .save_with(state, me, move |c, t| {
            Box::pin(async move {
                // Checked again inside the transaction: two people clicking at once move it once.
                if orders::set_payment_state(c, &t, &id, to, &by, before).await? {
                    // An order sent as Meta's `order_details` follows on the customer's
                    // WhatsApp (`order_status`).
                    worker::payment::order_status_changed(
                        c,
                        engine,
                        &t,
                        &id,
                        to,
                        Some(&request_id),
                    )
                    .await?;
                    Ok(())
                } else {
                    Err(AppError::Conflict(
                        "O pedido mudou enquanto você olhava: recarregue a página.".into(),
                    ))
                }
            })
        })
        .await
}
