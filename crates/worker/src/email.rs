//! `email.send`: one e-mail of the outbox (`store::email`) over SMTP, through `lettre`.
//!
//! - `ORCAZAP_SMTP_URL` set: sent to that server (`smtp://host:port` plain, `?tls=required` for
//!   STARTTLS, `smtps://` for implicit TLS; credentials in the URL), from `ORCAZAP_MAIL_FROM`.
//!   A 4xx answer, a refused or dropped connection or a timeout is retried with the runner's
//!   backoff; a 5xx answer (bad address, refused for good) makes the job dead, with the
//!   server's reply, for the operator.
//! - Unset, in development: the e-mail is written to the log (the links in it included) so a
//!   developer can follow them. In production nothing is sent and only the kind of e-mail is
//!   logged: a single-use link never goes to a production log.

use std::sync::Arc;
use std::time::Duration;

use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::{AsyncTransport, Message, Tokio1Executor};
use store::email::Email;

use crate::job::{JobCtx, Outcome};

/// The e-mail settings of a worker.
#[derive(Debug, Clone)]
pub struct MailConfig {
    /// `ORCAZAP_SMTP_URL`; None: e-mail off.
    pub smtp_url: Option<String>,
    /// `ORCAZAP_MAIL_FROM`, e.g. `OrçaZap <nao-responda@orcazap.com.br>`.
    pub from: String,
    /// With e-mail off, write each e-mail (links included) to the log: development only.
    pub log_when_off: bool,
    /// One SMTP conversation may take this long (under the job timeout).
    pub timeout: Duration,
}

impl Default for MailConfig {
    fn default() -> MailConfig {
        MailConfig {
            smtp_url: None,
            from: "OrçaZap <nao-responda@localhost>".into(),
            log_when_off: false,
            timeout: Duration::from_secs(20),
        }
    }
}

/// How this worker delivers e-mail.
pub enum Mailer {
    Smtp {
        transport: Box<AsyncSmtpTransport<Tokio1Executor>>,
        from: Mailbox,
    },
    /// E-mail off, development: written to the log.
    Log,
    /// E-mail off, production: dropped, the kind logged.
    Off,
}

impl Mailer {
    pub fn from_config(cfg: &MailConfig) -> Result<Arc<Mailer>, String> {
        let Some(url) = cfg.smtp_url.as_deref().filter(|u| !u.trim().is_empty()) else {
            return Ok(Arc::new(if cfg.log_when_off {
                Mailer::Log
            } else {
                Mailer::Off
            }));
        };
        let from: Mailbox = cfg
            .from
            .parse()
            .map_err(|e| format!("ORCAZAP_MAIL_FROM is not an address: {e}"))?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.trim())
            // Never echo the URL: it may carry the SMTP password.
            .map_err(|e| format!("ORCAZAP_SMTP_URL is not usable: {}", redact(&e.to_string())))?
            .timeout(Some(cfg.timeout))
            .build();
        Ok(Arc::new(Mailer::Smtp {
            transport: Box::new(transport),
            from,
        }))
    }

    pub fn is_on(&self) -> bool {
        matches!(self, Mailer::Smtp { .. })
    }
}

fn redact(s: &str) -> String {
    s.split_whitespace()
        .map(|w| if w.contains('@') { "[…]" } else { w })
        .collect::<Vec<_>>()
        .join(" ")
}

fn message(from: &Mailbox, e: &Email) -> Result<Message, String> {
    let to: Mailbox =
        e.to.parse()
            .map_err(|err| format!("recipient is not an e-mail address: {err}"))?;
    let b = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(e.subject.clone());
    let built = match &e.html {
        Some(html) => b.multipart(MultiPart::alternative_plain_html(
            e.text.clone(),
            html.clone(),
        )),
        None => b.singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .body(e.text.clone()),
        ),
    };
    built.map_err(|err| format!("building the e-mail: {err}"))
}

fn kind_label(kind: &str) -> &'static str {
    KINDS
        .iter()
        .find(|k| **k == kind)
        .copied()
        .unwrap_or("other")
}

/// Kinds of e-mail as labelled on `orcazap_emails_total`.
pub const KINDS: [&str; 5] = [
    "password_reset",
    "invite",
    "verify_email",
    "payment_failed",
    "other",
];
/// Outcomes on `orcazap_emails_total`.
pub const OUTCOMES: [&str; 5] = ["sent", "retry", "failed", "logged", "off"];

fn count(kind: &str, outcome: &'static str) {
    metrics::counter!("orcazap_emails_total", "kind" => kind_label(kind), "outcome" => outcome)
        .increment(1);
}

pub async fn handle(jc: &JobCtx<'_>, mailer: &Mailer, payload: &serde_json::Value) -> Outcome {
    let kind = payload
        .get("kind")
        .and_then(|v| v.as_str())
        .unwrap_or("other")
        .to_string();
    let email = match store::email::open(jc.cipher, payload) {
        Ok(e) => e,
        Err(e) => {
            count(&kind, "failed");
            return Outcome::Dead(e);
        }
    };
    match mailer {
        Mailer::Off => {
            count(&kind, "off");
            tracing::warn!(kind = %kind, "e-mail off (ORCAZAP_SMTP_URL unset): not sent");
            Outcome::Done
        }
        Mailer::Log => {
            count(&kind, "logged");
            tracing::info!(kind = %kind, to = %email.to, subject = %email.subject,
                "e-mail off (ORCAZAP_SMTP_URL unset), development: the e-mail follows\n{}", email.text);
            Outcome::Done
        }
        Mailer::Smtp { transport, from } => {
            let msg = match message(from, &email) {
                Ok(m) => m,
                Err(e) => {
                    count(&kind, "failed");
                    return Outcome::Dead(e);
                }
            };
            match transport.send(msg).await {
                Ok(_) => {
                    count(&kind, "sent");
                    tracing::info!(kind = %kind, "e-mail sent");
                    Outcome::Done
                }
                Err(e) if e.is_permanent() => {
                    count(&kind, "failed");
                    Outcome::Dead(format!("SMTP refused the e-mail for good: {e}"))
                }
                Err(e) => {
                    count(&kind, "retry");
                    Outcome::Retry {
                        after_ms: 0,
                        error: format!("SMTP: {e}"),
                    }
                }
            }
        }
    }
}
