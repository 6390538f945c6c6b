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

impl From<store::StoreError> for AppError {
    fn from(e: store::StoreError) -> AppError {
        match e {
            store::StoreError::NotFound => AppError::NotFound,
            store::StoreError::Conflict(m) => AppError::Conflict(m),
            e if e.is_transient() => {
                tracing::warn!(error = %e, "database unavailable");
                AppError::Unavailable
            }
            other => AppError::Internal(anyhow::Error::new(other)),
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
            AppError::Forbidden => StatusCode::FORBIDDEN,
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
