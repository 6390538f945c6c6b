//! Optional error tracking: ERROR events and panics go to a Sentry-compatible endpoint as
//! envelopes, without the `sentry` crate (a few hundred lines instead of a large dependency
//! tree).
//!
//! Each event carries `request_id`, `tenant_id` and the job `kind` from the enclosing spans,
//! and is scrubbed first: fields whose names smell secret (tokens, passwords, keys, cookies,
//! sessions) or personal (message bodies, text, payloads) are replaced, and free text loses
//! bearer tokens, Graph access tokens, URL passwords and phone numbers (masked).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

pub const FILTERED: &str = "[filtrado]";

/// A parsed DSN: `{scheme}://{public_key}@{host}/{path…}{project_id}`.
#[derive(Clone)]
pub struct Dsn {
    raw: String,
    public_key: String,
    envelope_url: String,
}

impl std::fmt::Debug for Dsn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Dsn([redacted])")
    }
}

impl Dsn {
    pub fn parse(dsn: &str) -> Result<Dsn, String> {
        let bad = || "ORCAZAP_SENTRY_DSN inválido: esperado https://CHAVE@HOST/PROJETO".to_string();
        let (scheme, rest) = dsn.split_once("://").ok_or_else(bad)?;
        if scheme != "http" && scheme != "https" {
            return Err(bad());
        }
        let (key_part, host_path) = rest.rsplit_once('@').ok_or_else(bad)?;
        let public_key = key_part.split(':').next().unwrap_or("").to_string();
        let (host, path) = host_path.split_once('/').ok_or_else(bad)?;
        let path = path.trim_end_matches('/');
        let (prefix, project) = match path.rsplit_once('/') {
            Some((p, id)) => (format!("/{p}"), id),
            None => (String::new(), path),
        };
        if public_key.is_empty() || host.is_empty() || project.is_empty() {
            return Err(bad());
        }
        Ok(Dsn {
            raw: dsn.to_string(),
            public_key,
            envelope_url: format!("{scheme}://{host}{prefix}/api/{project}/envelope/"),
        })
    }

    pub fn envelope_url(&self) -> &str {
        &self.envelope_url
    }
}

/// Field names whose values never leave the process.
fn is_sensitive_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [
        "token",
        "secret",
        "password",
        "passwd",
        "senha",
        "authorization",
        "cookie",
        "session",
        "csrf",
        "api_key",
        "apikey",
        "secret_key",
        "dsn",
        "signature",
        "body",
        "text",
        "payload",
        "content",
        "draft",
    ]
    .iter()
    .any(|s| n.contains(s))
}

/// Scrubs free text: bearer tokens, Graph tokens (`EAA…`), `key=value` pairs with a
/// sensitive key, URL passwords, and phone numbers (long digit runs, masked).
pub fn scrub_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut hide_next = false;
    for (i, word) in s.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        if hide_next && !word.is_empty() {
            out.push_str(FILTERED);
            hide_next = false;
            continue;
        }
        if word.eq_ignore_ascii_case("bearer") {
            hide_next = true;
            out.push_str(word);
            continue;
        }
        out.push_str(&scrub_word(word));
    }
    out
}

fn scrub_word(word: &str) -> String {
    // key=value / key:value with a sensitive key (also inside query strings).
    for sep in ['=', ':'] {
        if let Some((k, _)) = word.split_once(sep) {
            let key = k.rsplit(['?', '&', '"', '{', ',', '(']).next().unwrap_or(k);
            if !key.is_empty() && is_sensitive_name(key) && !k.contains("//") {
                return format!("{k}{sep}{FILTERED}");
            }
        }
    }
    // URL credentials.
    if let (Some(s), Some(at)) = (word.find("://"), word.find('@')) {
        if at > s && word[s + 3..at].contains(':') {
            let user = word[s + 3..at].split(':').next().unwrap_or("");
            return format!(
                "{}://{user}:***@{}",
                &word[..s],
                mask_digit_runs(&word[at + 1..])
            );
        }
    }
    let trimmed = word.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    if trimmed.starts_with("EAA") && trimmed.len() >= 20 {
        return word.replace(trimmed, FILTERED);
    }
    mask_digit_runs(word)
}

fn mask_digit_runs(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.len() >= 8 {
            out.push_str(&domain::ids::mask_phone(run));
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for ch in word.chars() {
        if ch.is_ascii_digit() {
            run.push(ch);
        } else {
            flush(&mut run, &mut out);
            out.push(ch);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// Collects an event's or span's fields as text.
#[derive(Default)]
struct Fields(BTreeMap<String, String>);

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_string(), value.to_string());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0
            .insert(field.name().to_string(), format!("{value:?}"));
    }
}

/// Span fields kept in the span's extensions so events can read their context.
struct SpanFields(BTreeMap<String, String>);

struct Shared {
    dsn: Dsn,
    environment: String,
    tx: tokio::sync::mpsc::Sender<String>,
    pending: AtomicUsize,
}

/// The tracing layer; cheap to clone.
#[derive(Clone)]
pub struct SentryLayer {
    shared: Arc<Shared>,
}

impl SentryLayer {
    /// Starts the sender thread. `environment` is `production` / `development`.
    pub fn new(dsn: &str, environment: &str) -> Result<SentryLayer, String> {
        let dsn = Dsn::parse(dsn)?;
        // A bounded queue: when the endpoint is slow, events are dropped, never the app.
        let (tx, mut rx) = tokio::sync::mpsc::channel::<String>(256);
        let shared = Arc::new(Shared {
            dsn,
            environment: environment.to_string(),
            tx,
            pending: AtomicUsize::new(0),
        });
        let s2 = shared.clone();
        std::thread::Builder::new()
            .name("orcazap-sentry".into())
            .spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                rt.block_on(async move {
                    let Ok(http) = reqwest::Client::builder()
                        .timeout(Duration::from_secs(5))
                        .build()
                    else {
                        return;
                    };
                    let auth = format!(
                        "Sentry sentry_version=7, sentry_key={}, sentry_client=orcazap/{}",
                        s2.dsn.public_key,
                        env!("CARGO_PKG_VERSION")
                    );
                    while let Some(envelope) = rx.recv().await {
                        // Failures are not logged through tracing: that would loop back here.
                        let _ = http
                            .post(s2.dsn.envelope_url())
                            .header("content-type", "application/x-sentry-envelope")
                            .header("x-sentry-auth", &auth)
                            .body(envelope)
                            .send()
                            .await;
                        s2.pending.fetch_sub(1, Ordering::SeqCst);
                    }
                });
            })
            .map_err(|e| e.to_string())?;
        Ok(SentryLayer { shared })
    }

    /// Waits (bounded) until queued events are sent: used before the process exits.
    pub fn flush(&self, timeout: Duration) {
        let until = std::time::Instant::now() + timeout;
        while self.shared.pending.load(Ordering::SeqCst) > 0 && std::time::Instant::now() < until {
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Panics become ERROR events (through this layer) before the default hook runs.
    pub fn install_panic_hook(&self) {
        let layer = self.clone();
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let msg = if let Some(s) = info.payload().downcast_ref::<&str>() {
                (*s).to_string()
            } else if let Some(s) = info.payload().downcast_ref::<String>() {
                s.clone()
            } else {
                "panic".to_string()
            };
            let location = info
                .location()
                .map(|l| format!("{}:{}", l.file(), l.line()))
                .unwrap_or_default();
            tracing::error!(panic = true, location = %location, "panic: {msg}");
            layer.flush(Duration::from_secs(2));
            previous(info);
        }));
    }

    fn envelope(
        &self,
        level: &str,
        target: &str,
        event: Fields,
        ctx: BTreeMap<String, String>,
    ) -> String {
        let event_id = uuid_hex();
        let mut tags = serde_json::Map::new();
        for (tag, keys) in [
            ("request_id", &["request_id"][..]),
            ("tenant_id", &["tenant_id"][..]),
            ("job_kind", &["kind", "job_kind"][..]),
        ] {
            if let Some(v) = keys
                .iter()
                .find_map(|k| event.0.get(*k).or_else(|| ctx.get(*k)))
                .filter(|v| !v.is_empty())
            {
                tags.insert(tag.into(), scrub_text(v).into());
            }
        }
        if event.0.get("panic").map(|v| v == "true").unwrap_or(false) {
            tags.insert("panic".into(), "true".into());
        }
        let message = event
            .0
            .get("message")
            .map(|m| scrub_text(m))
            .unwrap_or_default();
        let mut extra = serde_json::Map::new();
        for (k, v) in event.0.iter().chain(ctx.iter()) {
            if k == "message" || extra.contains_key(k) {
                continue;
            }
            let v = if is_sensitive_name(k) {
                FILTERED.to_string()
            } else {
                scrub_text(v)
            };
            extra.insert(k.clone(), v.into());
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        let body = serde_json::json!({
            "event_id": event_id,
            "timestamp": now,
            "platform": "other",
            "level": level,
            "logger": target,
            "message": { "formatted": message },
            "environment": self.shared.environment,
            "release": concat!("orcazap@", env!("CARGO_PKG_VERSION")),
            "tags": tags,
            "extra": extra,
        })
        .to_string();
        let header = serde_json::json!({ "event_id": event_id, "dsn": self.shared.dsn.raw });
        let item = serde_json::json!({ "type": "event", "length": body.len() });
        format!("{header}\n{item}\n{body}\n")
    }
}

fn uuid_hex() -> String {
    let mut b = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut b);
    hex::encode(b)
}

impl<S> Layer<S> for SentryLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: Context<'_, S>,
    ) {
        let mut f = Fields::default();
        attrs.record(&mut f);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(SpanFields(f.0));
        }
    }

    fn on_record(
        &self,
        id: &tracing::span::Id,
        values: &tracing::span::Record<'_>,
        ctx: Context<'_, S>,
    ) {
        if let Some(span) = ctx.span(id) {
            let mut f = Fields::default();
            values.record(&mut f);
            let mut ext = span.extensions_mut();
            if let Some(sf) = ext.get_mut::<SpanFields>() {
                sf.0.extend(f.0);
            }
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if *event.metadata().level() != Level::ERROR {
            return;
        }
        let mut f = Fields::default();
        event.record(&mut f);
        // Span context, innermost span winning.
        let mut span_fields = BTreeMap::new();
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                if let Some(sf) = span.extensions().get::<SpanFields>() {
                    span_fields.extend(sf.0.clone());
                }
            }
        }
        let envelope = self.envelope("error", event.metadata().target(), f, span_fields);
        self.shared.pending.fetch_add(1, Ordering::SeqCst);
        if self.shared.tx.try_send(envelope).is_err() {
            self.shared.pending.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dsn_forms() {
        let d = Dsn::parse("https://abc123@o1.ingest.sentry.io/42").unwrap();
        assert_eq!(
            d.envelope_url(),
            "https://o1.ingest.sentry.io/api/42/envelope/"
        );
        assert_eq!(d.public_key, "abc123");
        let d = Dsn::parse("http://k:s@127.0.0.1:9000/sub/path/7").unwrap();
        assert_eq!(
            d.envelope_url(),
            "http://127.0.0.1:9000/sub/path/api/7/envelope/"
        );
        assert!(Dsn::parse("abc").is_err());
        assert!(Dsn::parse("https://host/42").is_err());
        assert!(!format!("{d:?}").contains('k'));
    }

    #[test]
    fn text_is_scrubbed() {
        let s = scrub_text("falha com Bearer EAAGabc123 para 5511987654321 em postgres://u:pw@h/db access_token=xyz&x=1 token EAAGm0PBZCsomeverylongtoken123");
        assert!(!s.contains("EAAGabc123"), "{s}");
        assert!(!s.contains("5511987654321"), "{s}");
        assert!(s.contains("5511*******21"), "{s}");
        assert!(!s.contains(":pw@"), "{s}");
        assert!(!s.contains("xyz"), "{s}");
        assert!(!s.contains("EAAGm0PBZCsomeverylongtoken123"), "{s}");
        assert!(s.contains("falha com Bearer"), "{s}");
        assert_eq!(
            scrub_text("job 42 falhou: timeout"),
            "job 42 falhou: timeout"
        );
    }
}
