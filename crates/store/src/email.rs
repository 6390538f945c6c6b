//! The e-mail outbox: an e-mail is a job (`email.send`) written in the transaction of the change
//! that sends it (a reset link is never stored without its e-mail, nor an e-mail queued for a
//! change that rolled back). The worker sends it over SMTP with retries (`worker::email`); a
//! web request never waits for an SMTP server.
//!
//! The message — recipient, subject, bodies, and so the single-use links it carries — is
//! sealed with the token cipher (`store::crypto`, AES-256-GCM) in the job's payload: a
//! database dump or the operator's job list shows the kind of e-mail, never a live link.

use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;

use crate::crypto::TokenCipher;
use crate::db::StoreError;
use crate::jobs::{self, NewJob};

pub const EMAIL_JOB: &str = "email.send";
/// An SMTP server away for a while (maintenance, a full queue) is waited out: 10 attempts with
/// the runner's backoff (2 s doubling, 10 min cap) span about an hour.
pub const MAX_ATTEMPTS: i64 = 10;

/// One e-mail, as the worker sends it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub text: String,
    /// A simple HTML alternative of `text` (multipart/alternative), when there is one.
    #[serde(default)]
    pub html: Option<String>,
}

impl std::fmt::Debug for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The bodies carry single-use links.
        f.debug_struct("Email")
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// Queues `email` inside the caller's transaction. `kind` names it for the operator and the
/// metrics (`password_reset`, `invite`, `verify_email`, `payment_failed`).
pub async fn enqueue(
    c: &mut AnyConnection,
    cipher: &TokenCipher,
    tenant_id: Option<&str>,
    kind: &str,
    email: &Email,
    request_id: Option<&str>,
) -> Result<String, StoreError> {
    let sealed = cipher
        .encrypt(&serde_json::to_string(email).map_err(|e| StoreError::Corrupt(e.to_string()))?);
    let mut job = NewJob::new(
        EMAIL_JOB,
        serde_json::json!({ "kind": kind, "sealed": sealed }),
    );
    job.tenant_id = tenant_id.map(str::to_string);
    job.max_attempts = MAX_ATTEMPTS;
    job.request_id = request_id.map(str::to_string);
    jobs::enqueue(c, &job).await
}

/// The e-mail sealed in a job's payload.
pub fn open(cipher: &TokenCipher, payload: &serde_json::Value) -> Result<Email, String> {
    let sealed = payload
        .get("sealed")
        .and_then(|v| v.as_str())
        .ok_or("missing sealed message")?;
    let json = cipher
        .decrypt(sealed)
        .map_err(|e| format!("cannot open the e-mail: {e}"))?;
    serde_json::from_str(&json).map_err(|e| format!("sealed e-mail is not valid: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_payload_hides_the_link_and_opens_back() {
        let cipher = TokenCipher::new(b"k-0123456789abcdef0123456789abcd", &[]);
        let e = Email {
            to: "dona@loja.com.br".into(),
            subject: "Redefinição de senha".into(),
            text: "http://demo.localhost/senha/redefinir?token=abc123".into(),
            html: None,
        };
        let sealed = cipher.encrypt(&serde_json::to_string(&e).unwrap());
        let payload = serde_json::json!({ "kind": "password_reset", "sealed": sealed });
        assert!(!payload.to_string().contains("abc123"));
        assert!(!payload.to_string().contains("dona@"));
        assert_eq!(open(&cipher, &payload).unwrap(), e);
        let other = TokenCipher::new(b"other-key-0123456789abcdef012345", &[]);
        assert!(open(&other, &payload).is_err());
        assert!(!format!("{e:?}").contains("abc123"));
    }
}
