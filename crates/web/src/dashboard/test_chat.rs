//! `/simulador`: a store's own test chat (issue 17). The owner writes as a customer; each
//! message goes through the real webhook and worker on the store's test channel
//! (`store::channels::ensure_test_channel`), so the bot answers with this store's catalog,
//! discounts and freight. The store comes from the session: one store never reads or writes
//! another's test chat.

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use minijinja::context;

use super::security::Me;
use super::view;
use crate::error::AppError;
use crate::simulator::{self, MessagesQuery, Scope, SendForm};
use crate::state::AppState;

/// The store's test channel (created on first use, with a random token that only the
/// built-in fake Graph API ever sees: `whatsapp::graph::is_test_channel`).
async fn scope(state: &AppState, me: &Me) -> Result<Scope, AppError> {
    let token = format!("teste-{}", uuid::Uuid::new_v4().simple());
    let enc = state.cipher.encrypt(&token);
    let key = state.cipher.current_key_id().as_i64();
    let tenant_id = me.tenant.id.clone();
    let ch = state
        .db
        .tx(move |c| {
            Box::pin(
                async move { store::channels::ensure_test_channel(c, &tenant_id, &enc, key).await },
            )
        })
        .await?;
    Ok(Scope {
        tenant_id: me.tenant.id.clone(),
        phone_number_id: ch.phone_number_id,
        channel_id: Some(ch.id),
        path: "/simulador",
    })
}

pub async fn page(State(state): State<AppState>, me: Me) -> Result<Response, AppError> {
    scope(&state, &me).await?;
    let rules = store::rules::load(&state.db, &me.tenant.id).await?;
    let example_place = rules
        .freight
        .iter()
        .find_map(|r| match &r.zone {
            store::rules::FreightZoneRow::Bairros(b) => b.first().cloned(),
            store::rules::FreightZoneRow::CepRange { from, .. } => {
                domain::ids::Cep::parse(&format!("{from:08}"))
                    .ok()
                    .map(|c| format!("CEP {}", c.formatted()))
            }
        })
        .unwrap_or_else(|| "seu bairro".into());
    let has_catalog = !store::catalog::list(&state.db, &me.tenant.id)
        .await?
        .is_empty();
    let html = view::page(
        &me,
        "dashboard/simulator.html",
        "simulador",
        context! {
            example_place => example_place,
            has_catalog => has_catalog,
            has_freight => !rules.freight.is_empty(),
        },
    )?;
    Ok(html.into_response())
}

pub async fn send(
    State(state): State<AppState>,
    me: Me,
    headers: HeaderMap,
    Json(form): Json<SendForm>,
) -> Result<Response, AppError> {
    let scope = scope(&state, &me).await?;
    simulator::send_as(&state, &headers, form, &scope).await
}

pub async fn messages(
    State(state): State<AppState>,
    me: Me,
    headers: HeaderMap,
    Query(q): Query<MessagesQuery>,
) -> Result<Response, AppError> {
    let scope = scope(&state, &me).await?;
    simulator::messages_as(&state, &headers, q, &scope).await
}

pub async fn conversation(
    State(state): State<AppState>,
    me: Me,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let scope = scope(&state, &me).await?;
    simulator::conversation_as(&state, &headers, &scope).await
}
