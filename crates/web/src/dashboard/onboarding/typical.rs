//! "Começar com uma lista típica de depósito": an empty catalog starts with the common items
//! of a construction-material store (`lista_tipica.csv`, embedded), at example prices the
//! owner is told to review. Each item is marked (`catalog_items.price_review`) until the
//! owner saves it, so the overview can say "revise os preços".

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use domain::catalog::{parse_catalog_csv, CatalogItem};

use super::super::change::Change;
use super::super::security::Me;
use crate::error::AppError;
use crate::state::AppState;

/// The list, in the import format (price in centavos).
pub const TYPICAL_CSV: &str = include_str!("lista_tipica.csv");

/// The typical list's items. The file is part of the binary and checked by a test, so a
/// parse error here is a bug in the file.
pub fn typical_items() -> Result<Vec<CatalogItem>, AppError> {
    parse_catalog_csv(TYPICAL_CSV).map_err(|errs| {
        AppError::Internal(anyhow::anyhow!(
            "lista_tipica.csv does not parse: {}",
            errs.iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("; ")
        ))
    })
}

/// `POST /catalogo/lista-tipica`: adds the typical items whose SKU the store does not have
/// (an item the owner already has is never overwritten), marked for price review.
pub async fn start(State(state): State<AppState>, me: Me) -> Result<Response, AppError> {
    let have: Vec<String> = store::catalog::list(&state.db, &me.tenant.id)
        .await?
        .into_iter()
        .map(|s| s.item.sku)
        .collect();
    let items: Vec<CatalogItem> = typical_items()?
        .into_iter()
        .filter(|i| !have.iter().any(|h| h.eq_ignore_ascii_case(&i.sku)))
        .collect();
    if items.is_empty() {
        return Ok(Redirect::to("/catalogo").into_response());
    }
    let skus: Vec<String> = items.iter().map(|i| i.sku.clone()).collect();
    Change::new("catalog.typical_list", "catalog")
        .after(serde_json::json!({ "items": items.len(), "skus": skus }))
        .save(&state, &me, move |c, t| {
            Box::pin(async move {
                for item in &items {
                    store::catalog::upsert(c, &t, item).await?;
                }
                store::onboarding::mark_price_review(c, &t, &skus).await
            })
        })
        .await?;
    Ok(Redirect::to("/catalogo?ok=lista-tipica").into_response())
}
