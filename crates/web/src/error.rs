//! One error type for handlers. People get friendly pt-BR pages with the request id; server
//! errors are logged with their cause chain and never shown.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("página não encontrada")]
    NotFound,
    #[error("você não tem permissão para isso")]
    Forbidden,
    /// Not allowed for this person, with the reason (an attendant above the approval limit).
    #[error("{0}")]
    Denied(String),
    #[error("faça login para continuar")]
    Unauthorized,
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Conflict(String),
    #[error("muitas tentativas; tente de novo em {retry_after_secs} s")]
    TooMany { retry_after_secs: u64 },
    #[error("serviço temporariamente indisponível")]
    Unavailable,
    #[error("erro interno")]
    Internal(#[from] anyhow::Error),
}

/// A missing row is a 404 and a unique conflict a 409 with its pt-BR message; a transient
/// fault is a 503; every other fault is a 500 whose text (what was being done, the cause) goes
/// to the log only — the user sees the generic error page.
impl From<store::StoreError> for AppError {
    fn from(e: store::StoreError) -> AppError {
        match e {
            store::StoreError::NotFound => AppError::NotFound,
            store::StoreError::Conflict(m) => AppError::Conflict(m),
            e if e.is_transient() => {
                tracing::warn!(error = %store::error::report(&e), "database unavailable");
                AppError::Unavailable
            }
            other => AppError::Internal(anyhow::Error::new(other)),
        }
    }
}

/// An action the dashboard triggered: a refusal shows its pt-BR message — 400 when the
/// request was wrong (an empty reply), 409 when the state changed under it (someone decided
/// the approval first).
impl From<worker::actions::ActionError> for AppError {
    fn from(e: worker::actions::ActionError) -> AppError {
        use worker::actions::ActionError;
        match e {
            ActionError::NotFound => AppError::NotFound,
            ActionError::Refused(r) if r.is_bad_input() => AppError::BadRequest(r.to_string()),
            ActionError::Refused(r) if r.is_forbidden() => AppError::Denied(r.to_string()),
            ActionError::Refused(r) => AppError::Conflict(r.to_string()),
            ActionError::Store(s) => AppError::from(s),
        }
    }
}

/// Put on error responses so the error-page layer can render them with the request id.
#[derive(Debug, Clone)]
pub struct ErrorInfo {
    pub message: String,
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Forbidden | AppError::Denied(_) => StatusCode::FORBIDDEN,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::TooMany { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Internal(e) = &self {
            tracing::error!(error = format!("{e:#}"), "request failed");
        }
        let status = self.status();
        let message = self.to_string();
        let mut resp = (status, message.clone()).into_response();
        if let AppError::TooMany { retry_after_secs } = self {
            if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                resp.headers_mut()
                    .insert(axum::http::header::RETRY_AFTER, v);
            }
        }
        resp.extensions_mut().insert(ErrorInfo { message });
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use worker::actions::{ActionError, Refusal};

    fn shown(e: AppError) -> (StatusCode, String) {
        let resp = e.into_response();
        let info = resp
            .extensions()
            .get::<ErrorInfo>()
            .unwrap()
            .message
            .clone();
        (resp.status(), info)
    }

    #[test]
    fn internal_faults_are_a_generic_500() {
        let fault = store::StoreError::bug("no outcome for the delivery");
        let (status, message) = shown(AppError::from(fault));
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(message, "erro interno");
        let wrapped = store::StoreError::internal(
            "encoding the webhook batch",
            std::io::Error::other("secret detail"),
        )
        .doing("recording webhook delivery");
        let (status, message) = shown(AppError::from(wrapped));
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!message.contains("secret") && !message.contains("webhook"));
        let corrupt = store::StoreError::Corrupt("unknown role \"x\"".into());
        assert_eq!(shown(AppError::from(corrupt)).1, "erro interno");
    }

    #[test]
    fn unique_conflicts_and_refusals_show_their_message() {
        let taken = store::StoreError::Conflict("já existe uma loja com esse endereço".into());
        assert_eq!(
            shown(AppError::from(taken)),
            (
                StatusCode::CONFLICT,
                "já existe uma loja com esse endereço".into()
            )
        );
        let decided = ActionError::Refused(Refusal::AlreadyDecided);
        assert_eq!(
            shown(AppError::from(decided)),
            (
                StatusCode::CONFLICT,
                "essa aprovação já foi decidida".into()
            )
        );
        let empty = ActionError::Refused(Refusal::EmptyMessage);
        assert_eq!(
            shown(AppError::from(empty)),
            (StatusCode::BAD_REQUEST, "a mensagem está vazia".into())
        );
        let fault = ActionError::from(store::StoreError::bug("x"));
        assert_eq!(
            shown(AppError::from(fault)).0,
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }

    #[test]
    fn transient_faults_are_503_even_with_context() {
        let away = store::StoreError::from(sqlx::Error::PoolTimedOut).doing("loading the page");
        assert_eq!(
            shown(AppError::from(away)).0,
            StatusCode::SERVICE_UNAVAILABLE
        );
    }
}
