//! `/assinatura`: the store's plan and subscription state, "Assinar" (Stripe Checkout),
//! "Gerenciar cartão e plano" (Stripe's Customer Portal) and the invoices. Owner only; 404
//! when billing is off. And the banner every dashboard page shows when the subscription stops
//! (or is about to stop) automatic quotes. docs/billing.md.

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::{context, Value};

use super::security::Me;
use super::view::{self, Notice};
use crate::billing::BillingConfig;
use crate::error::AppError;
use crate::state::AppState;

const STRIPE_DOWN: &str =
    "Não foi possível falar com a Stripe agora. Nada foi alterado: tente de novo em alguns minutos.";

/// What the banner says, or None when automatic quotes are not affected.
pub fn banner(me: &Me) -> Option<Value> {
    let t = &me.tenant;
    if t.subscription_gated() {
        return Some(context! {
            gated => true,
            title => "Assinatura inativa:",
            why => format!(
                "a assinatura está {}, então o robô não envia orçamentos automáticos — eles ficam em Aprovações para a equipe enviar. Nada foi apagado.",
                store::billing::label_pt(&t.subscription_status)
            ),
            action => "Regularizar a assinatura",
        });
    }
    if t.subscription_status == "past_due" {
        let until = t
            .subscription_grace_until
            .map(|g| view::clock(me).date_br(g))
            .unwrap_or_default();
        return Some(context! {
            gated => false,
            title => "Pagamento atrasado:",
            why => format!("regularize até {until} para o robô continuar enviando orçamentos automáticos."),
            action => "Atualizar o pagamento",
        });
    }
    None
}

fn billing(state: &AppState) -> Result<&BillingConfig, AppError> {
    state.cfg.billing.as_ref().ok_or(AppError::NotFound)
}

/// This store's dashboard address (Stripe sends the owner back here).
fn store_url(state: &AppState, headers: &HeaderMap) -> Result<String, AppError> {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .ok_or(AppError::NotFound)?;
    let scheme = if state.cfg.https { "https" } else { "http" };
    Ok(format!("{scheme}://{host}"))
}

fn amount(cents: i64, currency: &str) -> String {
    if currency.eq_ignore_ascii_case("brl") {
        view::brl(cents)
    } else {
        let sign = if cents < 0 { "-" } else { "" };
        let c = cents.unsigned_abs();
        format!(
            "{} {sign}{},{:02}",
            currency.to_uppercase(),
            c / 100,
            c % 100
        )
    }
}

fn invoice_status_pt(s: &str) -> &'static str {
    match s {
        "paid" => "paga",
        "open" => "em aberto",
        "void" => "anulada",
        "uncollectible" => "não cobrável",
        "draft" => "rascunho",
        _ => "—",
    }
}

async fn render(
    state: &AppState,
    me: &Me,
    notice: Option<&str>,
    errors: Vec<String>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let cfg = billing(state)?;
    let sub = store::billing::of_tenant(&state.db, &me.tenant.id).await?;
    let clock = view::clock(me);
    let (invoices, invoices_error) = match &sub.customer_id {
        None => (Vec::new(), None),
        Some(cus) => match crate::billing::invoices(&state.http, cfg, cus).await {
            Ok(list) => (list, None),
            Err(e) => {
                tracing::warn!(error = %e, "could not list invoices");
                (
                    Vec::new(),
                    Some("Não foi possível buscar as faturas na Stripe agora. Recarregue a página em alguns minutos."),
                )
            }
        },
    };
    let invoices: Vec<Value> = invoices
        .iter()
        .map(|i| {
            context! {
                number => i.number, date => clock.date_br(i.created.saturating_mul(1000)),
                amount => amount(i.total, &i.currency), status => invoice_status_pt(&i.status), url => i.url,
            }
        })
        .collect();
    let gated = me.tenant.subscription_gated();
    let open = matches!(sub.status.as_str(), "active" | "trialing" | "past_due");
    let html = view::page(
        me,
        "dashboard/billing.html",
        "assinatura",
        context! {
            notice => view::notice(notice), errors => errors,
            plan => context! { name => cfg.plan_name, price => cfg.plan_price_cents.map(view::brl) },
            sub => context! {
                label => store::billing::label_pt(&sub.status),
                gated => gated,
                has_customer => sub.customer_id.is_some(),
                period_end => sub.period_end.filter(|_| open).map(|p| clock.date_br(p)),
                grace_until => sub.grace_until.filter(|_| sub.status == "past_due" && !gated).map(|g| clock.date_br(g)),
            },
            can_subscribe => !open,
            invoices => invoices, invoices_error => invoices_error,
        },
    )?;
    Ok((
        status,
        [(header::CONTENT_SECURITY_POLICY, BILLING_CSP)],
        html,
    )
        .into_response())
}

/// The dashboard's policy, with Stripe's Checkout and Portal hosts as form targets: the
/// buttons' answers are redirects there, and Chromium applies `form-action` to redirects.
const BILLING_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self' https://checkout.stripe.com https://billing.stripe.com; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

pub async fn page(
    State(state): State<AppState>,
    me: Me,
    Query(n): Query<Notice>,
) -> Result<Response, AppError> {
    render(&state, &me, n.ok.as_deref(), Vec::new(), StatusCode::OK).await
}

/// "Assinar": a Checkout Session for the configured price, then Stripe's page.
pub async fn subscribe(
    State(state): State<AppState>,
    me: Me,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let cfg = billing(&state)?;
    let Some(price) = cfg.price_id.as_deref() else {
        let msg = "A assinatura ainda não está disponível nesta instalação (plano não configurado). Fale com o suporte do OrçaZap.";
        return render(&state, &me, None, vec![msg.into()], StatusCode::CONFLICT).await;
    };
    let sub = store::billing::of_tenant(&state.db, &me.tenant.id).await?;
    if matches!(sub.status.as_str(), "active" | "trialing" | "past_due") {
        let msg = "A loja já tem uma assinatura. Use \"Gerenciar cartão e plano\" para trocar o cartão ou o plano.";
        return render(&state, &me, None, vec![msg.into()], StatusCode::CONFLICT).await;
    }
    let url = store_url(&state, &headers)?;
    match crate::billing::checkout_session(
        &state.http,
        cfg,
        price,
        &me.tenant.id,
        sub.customer_id.as_deref(),
        &me.user.email,
        &url,
    )
    .await
    {
        Ok(to) => {
            tracing::info!(tenant_id = %me.tenant.id, "stripe checkout session created");
            Ok(Redirect::to(&to).into_response())
        }
        Err(e) => {
            tracing::warn!(error = %e, "could not create a checkout session");
            stripe_down(&state, &me).await
        }
    }
}

/// Stripe did not answer: the page again with the pt-BR reason, 502, nothing changed.
async fn stripe_down(state: &AppState, me: &Me) -> Result<Response, AppError> {
    render(
        state,
        me,
        None,
        vec![STRIPE_DOWN.into()],
        StatusCode::BAD_GATEWAY,
    )
    .await
}

/// "Gerenciar cartão e plano": a Customer Portal session, then Stripe's page.
pub async fn portal(
    State(state): State<AppState>,
    me: Me,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let cfg = billing(&state)?;
    let sub = store::billing::of_tenant(&state.db, &me.tenant.id).await?;
    let Some(customer) = sub.customer_id else {
        let msg = "A loja ainda não tem assinatura: clique em Assinar primeiro.";
        return render(&state, &me, None, vec![msg.into()], StatusCode::CONFLICT).await;
    };
    let url = store_url(&state, &headers)?;
    match crate::billing::portal_session(&state.http, cfg, &customer, &url).await {
        Ok(to) => Ok(Redirect::to(&to).into_response()),
        Err(e) => {
            tracing::warn!(error = %e, "could not create a portal session");
            stripe_down(&state, &me).await
        }
    }
}
