//! Form bodies made storable before any handler reads them: a NUL (`%00` or a raw 0 byte)
//! becomes U+FFFD, the rule of `domain::sanitize` for every text that reaches the database.
//!
//! Every HTML form of the product (dashboard, sign-up, operator) posts
//! `application/x-www-form-urlencoded`; rewriting the body once here covers catalog items,
//! templates, replies, team names, freight labels… without each handler remembering it.
//! PostgreSQL refuses NUL in text (the request would fail with a 500 there and succeed on
//! SQLite); after this layer both engines store the same text.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;

use crate::state::AppState;

/// `%00` → `%EF%BF%BD` and a raw 0 byte → the UTF-8 bytes of U+FFFD.
pub fn replace_nul(body: &[u8]) -> Option<Vec<u8>> {
    if !body.contains(&0) && !body.windows(3).any(|w| w == b"%00") {
        return None;
    }
    let mut out = Vec::with_capacity(body.len() + 16);
    let mut i = 0;
    while i < body.len() {
        if body[i] == 0 {
            out.extend_from_slice("\u{FFFD}".as_bytes());
            i += 1;
        } else if body[i..].starts_with(b"%00") {
            out.extend_from_slice(b"%EF%BF%BD");
            i += 3;
        } else {
            out.push(body[i]);
            i += 1;
        }
    }
    Some(out)
}

pub async fn form_nul(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let length = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    // Only bodies of a known size within the form limit: anything else goes on untouched, so
    // the route's own limit still answers 413 exactly as before.
    let limit = state.cfg.form_body_limit;
    if !is_form || length.is_none_or(|n| n > limit) {
        return next.run(req).await;
    }
    let (mut parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, limit).await {
        Ok(b) => b,
        Err(_) => return next.run(Request::from_parts(parts, Body::empty())).await,
    };
    let body = match replace_nul(&bytes) {
        Some(clean) => {
            parts
                .headers
                .insert(header::CONTENT_LENGTH, clean.len().into());
            Body::from(clean)
        }
        None => Body::from(bytes),
    };
    next.run(Request::from_parts(parts, body)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_in_forms_becomes_replacement() {
        assert_eq!(replace_nul(b"a=1&b=2%2500"), None);
        assert_eq!(
            replace_nul(b"name=a%00b&x=\0").unwrap(),
            "name=a%EF%BF%BDb&x=\u{FFFD}".as_bytes()
        );
    }
}
