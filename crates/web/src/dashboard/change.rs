//! The step every dashboard write shares: load what is there, validate the form, then save the
//! change and its audit entry (who, what, before and after) in one transaction. A refused
//! form comes back on its own page with the messages, under 422 (409 when the store refuses
//! a duplicate), so the person fixes it where they typed it.

use std::future::Future;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::Value;
use sqlx::pool::PoolConnection;
use sqlx::Any;
use store::audit::{self, Entry};

use super::security::Me;
use super::view::Notice;
use crate::error::AppError;
use crate::state::AppState;

/// A connection to the read pool, for the store functions that read several things at once.
pub async fn read_conn(state: &AppState) -> Result<PoolConnection<Any>, AppError> {
    Ok(state
        .db
        .read()
        .acquire()
        .await
        .map_err(store::StoreError::from)?)
}

/// A settings page that can show a refused form's messages.
pub trait FormPage {
    fn render(
        state: &AppState,
        me: &Me,
        notice: Option<&str>,
        errors: Vec<String>,
        status: StatusCode,
    ) -> impl Future<Output = Result<Response, AppError>> + Send;

    /// The page as a GET shows it, with the notice of the redirect that led there.
    fn show(
        state: &AppState,
        me: &Me,
        notice: Option<&str>,
    ) -> impl Future<Output = Result<Response, AppError>> + Send {
        Self::render(state, me, notice, Vec::new(), StatusCode::OK)
    }

    /// The form refused: the page again with what to fix.
    fn refuse(
        state: &AppState,
        me: &Me,
        errors: Vec<String>,
    ) -> impl Future<Output = Result<Response, AppError>> + Send {
        Self::render(state, me, None, errors, StatusCode::UNPROCESSABLE_ENTITY)
    }
}

/// The GET of a settings page, with the notice of the redirect that led there.
pub async fn page<P: FormPage>(
    State(state): State<AppState>,
    me: Me,
    Query(n): Query<Notice>,
) -> Result<Response, AppError> {
    P::show(&state, &me, n.ok.as_deref()).await
}

/// One audited change: the audit entry's action and entity, and the entity's state before and
/// after (`None` for a creation or a deletion).
pub struct Change {
    action: &'static str,
    entity: &'static str,
    entity_id: Option<String>,
    before: Option<Value>,
    after: Option<Value>,
}

impl Change {
    pub fn new(action: &'static str, entity: &'static str) -> Change {
        Change {
            action,
            entity,
            entity_id: None,
            before: None,
            after: None,
        }
    }

    pub fn of(mut self, entity_id: impl Into<String>) -> Change {
        self.entity_id = Some(entity_id.into());
        self
    }

    pub fn before(mut self, before: impl Into<Option<Value>>) -> Change {
        self.before = before.into();
        self
    }

    pub fn after(mut self, after: Value) -> Change {
        self.after = Some(after);
        self
    }

    /// Runs `write` (given the connection and the store's id) and records the audit entry in
    /// the same transaction: a change is never saved unaudited, nor audited unsaved.
    pub async fn save<F>(self, state: &AppState, me: &Me, write: F) -> Result<(), AppError>
    where
        F: for<'c> FnOnce(&'c mut sqlx::AnyConnection, String) -> store::db::BoxFut<'c, ()>
            + Send
            + 'static,
    {
        self.save_with::<store::StoreError, F>(state, me, write)
            .await
    }

    /// [`Change::save`] for a write that can also refuse for a business reason found inside
    /// the transaction (e.g. "the store would lose its last owner"): `write` fails with an
    /// [`AppError`] the user reads, and nothing is saved or audited.
    pub async fn save_with<E, F>(self, state: &AppState, me: &Me, write: F) -> Result<(), AppError>
    where
        E: From<store::StoreError> + Into<AppError> + Send + 'static,
        F: for<'c> FnOnce(&'c mut sqlx::AnyConnection, String) -> store::db::TxFut<'c, (), E>
            + Send
            + 'static,
    {
        let (tenant_id, actor) = (me.tenant.id.clone(), me.actor());
        state
            .db
            .tx_with(move |c| {
                Box::pin(async move {
                    write(&mut *c, tenant_id.clone()).await?;
                    audit::record(
                        c,
                        &Entry {
                            tenant_id: Some(&tenant_id),
                            actor_user_id: Some(&actor.user_id),
                            actor_label: &actor.label,
                            action: self.action,
                            entity: self.entity,
                            entity_id: self.entity_id.as_deref(),
                            before: self.before,
                            after: self.after,
                            request_id: actor.request_id.as_deref(),
                        },
                    )
                    .await?;
                    Ok::<(), E>(())
                })
            })
            .await
            .map_err(Into::into)
    }

    /// [`Change::save`], then the browser goes to `done`; a duplicate the store refuses (a
    /// number or an e-mail already taken) comes back on page `P` with 409.
    pub async fn save_then<P, F>(
        self,
        state: &AppState,
        me: &Me,
        done: &str,
        write: F,
    ) -> Result<Response, AppError>
    where
        P: FormPage,
        F: for<'c> FnOnce(&'c mut sqlx::AnyConnection, String) -> store::db::BoxFut<'c, ()>
            + Send
            + 'static,
    {
        match self.save(state, me, write).await {
            Ok(()) => Ok(Redirect::to(done).into_response()),
            Err(AppError::Conflict(m)) => {
                P::render(state, me, None, vec![m], StatusCode::CONFLICT).await
            }
            Err(e) => Err(e),
        }
    }
}

/// Where a saved form sends the browser.
pub fn saved(done: &str) -> Result<Response, AppError> {
    Ok(Redirect::to(done).into_response())
}
