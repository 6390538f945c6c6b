//! Onboarding (issue 17 item 1): the checklist on the overview, computed from the store's
//! data ([`store::onboarding::facts`]), the store's data page (`/loja`: legal name, CNPJ,
//! address, phone, PIX key) and the typical depósito list that starts an empty catalog.

pub mod typical;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use domain::pix::{Merchant, PixKey, PixKeyKind};
use domain::sanitize::storable;
use minijinja::{context, Value};
use serde::Deserialize;
use store::onboarding::Facts;
use store::store_profile::{StorePix, StoreProfile};

use super::change::Change;
use super::security::Me;
use super::view::{self, Notice};
use crate::error::AppError;
use crate::state::AppState;

/// One step of the checklist: done or not, and the page that does it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub id: &'static str,
    pub title: &'static str,
    pub href: &'static str,
    pub done: bool,
    /// What is missing, in a few words (shown while not done).
    pub missing: String,
}

/// Whether the store's documents and PIX are complete: every field filled in and the CNPJ
/// valid (numeric or alphanumeric). What is missing, or `None`.
pub fn store_data_missing(f: &Facts) -> Option<String> {
    let mut missing = Vec::new();
    if f.legal_name.trim().is_empty() {
        missing.push("razão social");
    }
    if PixKey::parse(PixKeyKind::Cnpj, &f.profile.cnpj).is_err() {
        missing.push("CNPJ");
    }
    if f.profile.address.trim().is_empty() {
        missing.push("endereço");
    }
    if f.profile.phone.trim().is_empty() {
        missing.push("telefone");
    }
    if f.profile.pix.is_none() {
        missing.push("chave Pix");
    }
    (!missing.is_empty()).then(|| format!("Falta: {}.", missing.join(", ")))
}

/// The six steps, in the order an owner does them.
pub fn steps(f: &Facts) -> Vec<Step> {
    let store_missing = store_data_missing(f);
    vec![
        Step {
            id: "loja",
            title: "Dados da loja",
            href: "/loja",
            done: store_missing.is_none(),
            missing: store_missing.unwrap_or_default(),
        },
        Step {
            id: "catalogo",
            title: "Catálogo",
            href: "/catalogo",
            done: f.catalog_items > 0,
            missing: "Cadastre pelo menos um produto (planilha, item a item ou lista típica)."
                .into(),
        },
        Step {
            id: "regras",
            title: "Descontos e regras",
            href: "/regras",
            done: f.rules_reviewed,
            missing: if f.approval_above_cents == 0 {
                "Sem limite de aprovação: nenhum orçamento espera por valor. Defina, se quiser, o total acima do qual ele espera a sua aprovação, e os descontos por forma de pagamento.".into()
            } else {
                "Revise e salve os descontos por forma de pagamento (ou crie um desconto por volume).".into()
            },
        },
        Step {
            id: "frete",
            title: "Frete",
            href: "/frete",
            done: f.freight_rules > 0,
            missing: "Crie pelo menos uma regra de frete (bairros ou faixa de CEP).".into(),
        },
        Step {
            id: "whatsapp",
            title: "WhatsApp",
            href: "/whatsapp",
            done: f.whatsapp_connected,
            missing: "Conecte o número de WhatsApp da loja.".into(),
        },
        Step {
            id: "teste",
            title: "Primeira conversa de teste",
            href: "/simulador",
            done: f.test_quote,
            missing: "Converse com o robô no simulador até receber um orçamento.".into(),
        },
    ]
}

/// The overview's checklist (owners only; `None` for the rest of the team).
pub async fn checklist(state: &AppState, me: &Me) -> Result<Option<Value>, AppError> {
    if !me.is_owner() {
        return Ok(None);
    }
    let facts = store::onboarding::facts(&state.db, &me.tenant.id).await?;
    let steps = steps(&facts);
    let done = steps.iter().filter(|s| s.done).count();
    let list: Vec<Value> = steps
        .iter()
        .map(|s| context! { id => s.id, title => s.title, href => s.href, done => s.done, missing => s.missing.clone() })
        .collect();
    Ok(Some(context! {
        steps => list,
        done => done,
        total => steps.len(),
        all_done => done == steps.len(),
        price_review => facts.price_review,
    }))
}

// ---- /loja: the store's data ----

#[derive(Deserialize, Default, Clone)]
pub struct StoreForm {
    #[serde(default)]
    legal_name: String,
    #[serde(default)]
    cnpj: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    pix_kind: String,
    #[serde(default)]
    pix_key: String,
    #[serde(default)]
    pix_name: String,
    #[serde(default)]
    pix_city: String,
}

fn form_of(legal_name: &str, p: &StoreProfile) -> StoreForm {
    StoreForm {
        legal_name: legal_name.to_string(),
        cnpj: p.cnpj.clone(),
        address: p.address.clone(),
        phone: p.phone.clone(),
        pix_kind: p
            .pix
            .as_ref()
            .map(|x| x.key.kind().as_str().to_string())
            .unwrap_or_else(|| "cnpj".into()),
        pix_key: p
            .pix
            .as_ref()
            .map(|x| x.key.as_str().to_string())
            .unwrap_or_default(),
        pix_name: p
            .pix
            .as_ref()
            .map(|x| x.merchant.name().to_string())
            .unwrap_or_default(),
        pix_city: p
            .pix
            .as_ref()
            .map(|x| x.merchant.city().to_string())
            .unwrap_or_default(),
    }
}

fn text_field(v: &str, max: usize, label: &str, errors: &mut Vec<String>) -> String {
    let v = storable(v.trim()).into_owned();
    if v.chars().count() > max {
        errors.push(format!("{label}: até {max} caracteres."));
    }
    v
}

/// The data a form describes (blank fields stay blank: the owner may fill them in later),
/// or every pt-BR error of the form.
pub fn check_store_form(f: &StoreForm) -> Result<(String, StoreProfile), Vec<String>> {
    let mut errors = Vec::new();
    let legal_name = text_field(&f.legal_name, 200, "Razão social", &mut errors);
    let cnpj = text_field(&f.cnpj, 20, "CNPJ", &mut errors).to_uppercase();
    if !cnpj.is_empty() {
        if let Err(e) = PixKey::parse(PixKeyKind::Cnpj, &cnpj) {
            errors.push(format!("{e}. O CNPJ alfanumérico (a partir de julho de 2026) também vale, como 12.ABC.345/01DE-35."));
        }
    }
    let address = text_field(&f.address, 300, "Endereço", &mut errors);
    let phone = text_field(&f.phone, 30, "Telefone", &mut errors);
    let digits = phone.chars().filter(char::is_ascii_digit).count();
    if !phone.is_empty()
        && (!(10..=13).contains(&digits)
            || !phone
                .chars()
                .all(|c| c.is_ascii_digit() || " ()+-.".contains(c)))
    {
        errors.push("Telefone: use DDD e número, como (11) 3333-4444.".into());
    }
    let pix_key = f.pix_key.trim();
    let pix = if pix_key.is_empty() {
        None
    } else {
        let key = f
            .pix_kind
            .parse::<PixKeyKind>()
            .and_then(|kind| PixKey::parse(kind, pix_key));
        let merchant = Merchant::new(f.pix_name.trim(), f.pix_city.trim());
        match (key, merchant) {
            (Ok(key), Ok(merchant)) => Some(StorePix { key, merchant }),
            (key, merchant) => {
                if let Err(e) = key {
                    errors.push(format!("Chave Pix: {e}."));
                }
                if let Err(e) = merchant {
                    errors.push(format!("Pix: {e}."));
                }
                None
            }
        }
    };
    if errors.is_empty() {
        Ok((
            legal_name,
            StoreProfile {
                cnpj,
                address,
                phone,
                pix,
            },
        ))
    } else {
        Err(errors)
    }
}

async fn render_store(
    me: &Me,
    form: &StoreForm,
    notice: Option<&str>,
    errors: Vec<String>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let kinds: Vec<Value> = PixKeyKind::ALL
        .iter()
        .map(|k| context! { code => k.as_str(), label => k.label() })
        .collect();
    let html = view::page(
        me,
        "dashboard/store_data.html",
        "loja",
        context! {
            f => context! {
                legal_name => form.legal_name.clone(), cnpj => form.cnpj.clone(), address => form.address.clone(),
                phone => form.phone.clone(), pix_kind => form.pix_kind.clone(), pix_key => form.pix_key.clone(),
                pix_name => form.pix_name.clone(), pix_city => form.pix_city.clone(),
            },
            kinds => kinds, notice => notice, errors => errors,
        },
    )?;
    Ok((status, html).into_response())
}

pub async fn store_page(
    State(state): State<AppState>,
    me: Me,
    Query(n): Query<Notice>,
) -> Result<Response, AppError> {
    let profile = store::store_profile::get(&state.db, &me.tenant.id).await?;
    let legal = store::onboarding::legal_name(&state.db, &me.tenant.id).await?;
    render_store(
        &me,
        &form_of(&legal, &profile),
        view::notice(n.ok.as_deref()),
        vec![],
        StatusCode::OK,
    )
    .await
}

fn profile_json(legal_name: &str, p: &StoreProfile) -> serde_json::Value {
    serde_json::json!({
        "legal_name": legal_name, "cnpj": p.cnpj, "address": p.address, "phone": p.phone,
        // The key's kind only: the key itself is the store's data, not an audit detail.
        "pix_kind": p.pix.as_ref().map(|x| x.key.kind().as_str()),
    })
}

pub async fn save_store(
    State(state): State<AppState>,
    me: Me,
    Form(f): Form<StoreForm>,
) -> Result<Response, AppError> {
    let (legal, profile) = match check_store_form(&f) {
        Ok(v) => v,
        Err(errors) => {
            return render_store(&me, &f, None, errors, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    };
    let before = store::store_profile::get(&state.db, &me.tenant.id).await?;
    let before_legal = store::onboarding::legal_name(&state.db, &me.tenant.id).await?;
    Change::new("store.profile", "tenant")
        .of(me.tenant.id.clone())
        .before(profile_json(&before_legal, &before))
        .after(profile_json(&legal, &profile))
        .save(&state, &me, move |c, t| {
            Box::pin(async move {
                store::onboarding::set_legal_name(c, &t, &legal).await?;
                store::store_profile::save(c, &t, &profile).await
            })
        })
        .await?;
    Ok(Redirect::to("/loja?ok=salvo").into_response())
}

#[cfg(test)]
mod tests;
