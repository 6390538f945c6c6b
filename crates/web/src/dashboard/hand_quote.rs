//! `/conversas/{id}/orcamento`: a person who took a conversation over builds a quote by hand
//! (catalog products and quantities, payment, bairro or CEP). The quote goes through the bot's
//! own path (`worker::actions::hand_built_quote`): priced by the domain, numbered, sent with its
//! buttons or held for approval. Nothing is priced here.

use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use domain::money::Quantity;
use domain::pricing::{fold, known_bairros};
use domain::slots::{Location, PaymentMethod};
use minijinja::{context, Value};
use store::conversations;
use worker::actions::{self, HandQuote, HandQuoteOutcome};

use super::action_err;
use super::security::Me;
use super::view::{self, brl};
use crate::error::AppError;
use crate::state::AppState;

/// Rows of the form: enough for a construction order; more lines can be added on the approval
/// page or by building again.
pub const ROWS: usize = 8;

/// The active catalog as the product picker's options.
pub(super) async fn catalog_options(state: &AppState, me: &Me) -> Result<Vec<Value>, AppError> {
    let mut items: Vec<_> = store::catalog::list(&state.db, &me.tenant.id)
        .await?
        .into_iter()
        .filter(|s| s.item.active)
        .collect();
    // By name, as the person looks for it ("Cimento…", "Tijolo…"); the catalog's own order is
    // by SKU, which nobody at the counter reads.
    items.sort_by_key(|s| s.item.name.to_lowercase());
    Ok(items
        .into_iter()
        .map(|s| {
            context! {
                sku => s.item.sku.clone(),
                label => format!("{} ({}/{})", s.item.name, brl(s.item.price.0), s.item.unit.label()),
            }
        })
        .collect())
}

pub async fn page(
    State(state): State<AppState>,
    me: Me,
    Path(id): Path<String>,
) -> Result<Html<String>, AppError> {
    let conv = conversations::get(&state.db, &me.tenant.id, &id)
        .await?
        .ok_or(AppError::NotFound)?;
    let memo = actions::memo_of(&conv);
    // The rows start from what the bot understood; the person changes what they need.
    let rows: Vec<Value> = (0..ROWS)
        .map(|i| {
            let item = memo.draft.items.get(i);
            context! {
                i => i,
                sku => item.map(|d| d.sku.clone()).unwrap_or_default(),
                qty => item.map(|d| d.quantity.to_br()).unwrap_or_default(),
            }
        })
        .collect();
    let payments: Vec<Value> = PaymentMethod::ALL
        .iter()
        .map(|p| context! { code => p.code(), label => p.label_pt() })
        .collect();
    view::page(
        &me,
        "dashboard/hand_quote.html",
        "conversas",
        context! {
            conv => context! {
                id => conv.id.clone(),
                contact => if conv.contact_name.trim().is_empty() { domain::ids::mask_phone(&conv.contact_wa_id) } else { conv.contact_name.clone() },
            },
            rows => rows,
            catalog => catalog_options(&state, &me).await?,
            payments => payments,
            payment => memo.draft.payment.map(|p| p.code()).unwrap_or_default(),
            location => memo.draft.location.as_ref().map(|l| match l {
                Location::Cep(c) => c.formatted(),
                Location::Bairro(b) => b.clone(),
                Location::Retirada => "retirada".into(),
            }).unwrap_or_default(),
            unknown => memo.draft.unknown.clone(),
        },
    )
}

/// What was typed in "Bairro ou CEP": a CEP when it is one, else a bairro named by the store's
/// freight rules (accents and case ignored), else the text as typed (no rule matches it: the
/// quote waits for the freight to be set).
fn location_of(text: &str, known: &[String]) -> Result<Option<Location>, AppError> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    if t.chars().any(|c| c.is_ascii_digit()) {
        return domain::ids::Cep::parse(t)
            .map(|c| Some(Location::Cep(c)))
            .map_err(|e| AppError::BadRequest(format!("{e}.")));
    }
    if t.chars().count() > 100 {
        return Err(AppError::BadRequest(
            "Bairro: no máximo 100 caracteres.".into(),
        ));
    }
    let folded = fold(t);
    // "retirada" (what this field shows for a customer's pickup) or "retirada na loja".
    if folded == "retirada" || folded == "retirada na loja" {
        return Ok(Some(Location::Retirada));
    }
    Ok(Some(Location::Bairro(
        known
            .iter()
            .find(|b| fold(b) == folded)
            .cloned()
            .unwrap_or_else(|| t.to_string()),
    )))
}

pub async fn build(
    State(state): State<AppState>,
    me: Me,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let get = |k: &str| {
        fields
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let mut lines = Vec::new();
    for i in 0..ROWS {
        let (sku, qty) = (get(&format!("sku_{i}")), get(&format!("qty_{i}")));
        match (sku.is_empty(), qty.is_empty()) {
            (true, true) => continue,
            (true, false) => {
                return Err(AppError::BadRequest(format!(
                    "Linha {}: escolha o produto da quantidade {qty}.",
                    i + 1
                )))
            }
            (false, true) => {
                return Err(AppError::BadRequest(format!(
                    "Linha {}: informe a quantidade de {sku}.",
                    i + 1
                )))
            }
            (false, false) => {
                let q = qty
                    .parse::<Quantity>()
                    .map_err(|e| AppError::BadRequest(format!("Linha {}: {e}.", i + 1)))?;
                lines.push((sku, q));
            }
        }
    }
    let payment = PaymentMethod::from_code(&get("payment")).ok_or_else(|| {
        AppError::BadRequest(
            "Escolha a forma de pagamento (PIX, cartão, boleto ou dinheiro).".into(),
        )
    })?;
    let ctx = state
        .contexts
        .load(&state.db, &me.tenant.id)
        .await
        .map_err(AppError::from)?;
    let location = location_of(&get("location"), &known_bairros(&ctx.rules))?;
    let req = HandQuote {
        lines,
        payment,
        location,
    };
    let outcome = actions::hand_built_quote(
        &state.db,
        &state.contexts,
        &me.tenant.id,
        &id,
        &req,
        &me.actor(),
    )
    .await
    .map_err(action_err)?;
    state.wake.notify_one();
    Ok(match outcome {
        HandQuoteOutcome::Sent { .. } => Redirect::to(&format!("/conversas/{id}?ok=orcamento")),
        HandQuoteOutcome::NeedsApproval { approval_id, .. } => {
            Redirect::to(&format!("/aprovacoes/{approval_id}?ok=montado"))
        }
    }
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::location_of;
    use domain::slots::Location;

    #[test]
    fn the_place_field_reads_a_cep_a_known_bairro_or_a_pickup() {
        let known = vec!["Grajaú".to_string()];
        assert_eq!(
            location_of("grajau", &known).unwrap(),
            Some(Location::Bairro("Grajaú".into()))
        );
        assert!(matches!(
            location_of("04567-000", &known).unwrap(),
            Some(Location::Cep(_))
        ));
        assert_eq!(
            location_of("Retirada na loja", &known).unwrap(),
            Some(Location::Retirada)
        );
        assert_eq!(
            location_of("retirada", &known).unwrap(),
            Some(Location::Retirada)
        );
        assert_eq!(location_of("  ", &known).unwrap(), None);
        assert!(location_of("0456", &known).is_err());
    }
}
