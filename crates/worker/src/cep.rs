//! CEP look-up (issue 15 item 4): fills the street, bairro and city of an order's address
//! from the CEP the customer gave, and tells staff when that bairro is under another freight
//! rule than the quote's. Behind a provider trait ([`CepProvider`]); the one shipped speaks
//! ViaCEP's wire format (`GET {base}/ws/{cep}/json/`), at `ORCAZAP_CEP_API_BASE`. Answers are
//! cached per CEP in the database ([`CACHE_TTL_MS`]); a slow, failing or absent service
//! never blocks the order — its address just stays as the customer wrote it.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use domain::slots::Location;
use store::orders::{self, CepInfo};

use crate::job::{JobCtx, Outcome};

/// Cached answers are used for 30 days (streets rarely change; a wrong cache only fills
/// a field staff can read against the customer's own words).
pub const CACHE_TTL_MS: i64 = 30 * 24 * 60 * 60 * 1000;

/// The whole look-up, connection included, ends within this.
pub const TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Debug, thiserror::Error)]
pub enum CepError {
    #[error("serviço de CEP indisponível: {0}")]
    Unavailable(String),
    #[error("resposta inválida do serviço de CEP: {0}")]
    Invalid(String),
}

pub type CepFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Option<CepInfo>, CepError>> + Send + 'a>>;

/// A CEP service. `Ok(None)`: the service does not know the CEP.
pub trait CepProvider: Send + Sync {
    /// `cep`: 8 digits.
    fn lookup<'a>(&'a self, cep: &'a str) -> CepFuture<'a>;
}

/// ViaCEP (`https://viacep.com.br`) or anything speaking its format: `{"cep","logradouro",
/// "complemento","bairro","localidade","uf",…}`, or `{"erro": "true"}` (also `true`) for an
/// unknown CEP.
pub struct ViaCep {
    base: String,
    http: reqwest::Client,
}

impl ViaCep {
    pub fn new(base: &str, timeout: Duration) -> Result<ViaCep, CepError> {
        Ok(ViaCep {
            base: base.trim_end_matches('/').to_string(),
            http: client(timeout)?,
        })
    }
}

/// Reads ViaCEP's JSON body.
pub fn parse_viacep(body: &str) -> Result<Option<CepInfo>, CepError> {
    let v: serde_json::Value =
        serde_json::from_str(body).map_err(|e| CepError::Invalid(e.to_string()))?;
    let erro = &v["erro"];
    if erro == &serde_json::Value::Bool(true) || erro.as_str() == Some("true") {
        return Ok(None);
    }
    if !v.is_object() {
        return Err(CepError::Invalid("não é um objeto JSON".into()));
    }
    let field = |name: &str| text_field(&v, name);
    Ok(Some(CepInfo {
        street: field("logradouro"),
        bairro: field("bairro"),
        city: field("localidade"),
        uf: field("uf"),
    }))
}

impl CepProvider for ViaCep {
    fn lookup<'a>(&'a self, cep: &'a str) -> CepFuture<'a> {
        Box::pin(async move {
            // ViaCEP answers 400 for a malformed CEP: unknown, not an outage.
            let url = format!("{}/ws/{cep}/json/", self.base);
            match fetch(&self.http, &url, &[reqwest::StatusCode::BAD_REQUEST]).await? {
                Some(body) => parse_viacep(&body),
                None => Ok(None),
            }
        })
    }
}

/// BrasilAPI (`https://brasilapi.com.br`) or anything speaking its format:
/// `GET {base}/api/cep/v1/{cep}` → `{"cep","state","city","neighborhood","street","service"}`;
/// 404 for a CEP none of its sources knows, 400 for a malformed one (both: unknown).
pub struct BrasilApi {
    base: String,
    http: reqwest::Client,
}

impl BrasilApi {
    pub fn new(base: &str, timeout: Duration) -> Result<BrasilApi, CepError> {
        Ok(BrasilApi {
            base: base.trim_end_matches('/').to_string(),
            http: client(timeout)?,
        })
    }
}

/// Reads BrasilAPI's JSON body (CEP v1).
pub fn parse_brasilapi(body: &str) -> Result<Option<CepInfo>, CepError> {
    let v: serde_json::Value =
        serde_json::from_str(body).map_err(|e| CepError::Invalid(e.to_string()))?;
    if !v.is_object() || v.get("cep").is_none() {
        return Err(CepError::Invalid("sem o campo cep".into()));
    }
    let field = |name: &str| text_field(&v, name);
    Ok(Some(CepInfo {
        street: field("street"),
        bairro: field("neighborhood"),
        city: field("city"),
        uf: field("state"),
    }))
}

impl CepProvider for BrasilApi {
    fn lookup<'a>(&'a self, cep: &'a str) -> CepFuture<'a> {
        Box::pin(async move {
            let url = format!("{}/api/cep/v1/{cep}", self.base);
            let unknown = [
                reqwest::StatusCode::NOT_FOUND,
                reqwest::StatusCode::BAD_REQUEST,
            ];
            match fetch(&self.http, &url, &unknown).await? {
                Some(body) => parse_brasilapi(&body),
                None => Ok(None),
            }
        })
    }
}

/// The HTTP client of a CEP service: the whole look-up, connection included, ends within
/// `timeout`.
fn client(timeout: Duration) -> Result<reqwest::Client, CepError> {
    reqwest::Client::builder()
        .connect_timeout(timeout)
        .timeout(timeout)
        .build()
        .map_err(|e| CepError::Unavailable(e.to_string()))
}

/// GETs `url`: the body of a success, `None` for a status that means "unknown CEP", and
/// any other status or a network failure as the service being unavailable.
async fn fetch(
    http: &reqwest::Client,
    url: &str,
    unknown: &[reqwest::StatusCode],
) -> Result<Option<String>, CepError> {
    let r = http
        .get(url)
        .send()
        .await
        .map_err(|e| CepError::Unavailable(e.without_url().to_string()))?;
    let status = r.status();
    if unknown.contains(&status) {
        return Ok(None);
    }
    if !status.is_success() {
        return Err(CepError::Unavailable(format!("HTTP {status}")));
    }
    r.text()
        .await
        .map(Some)
        .map_err(|e| CepError::Unavailable(e.without_url().to_string()))
}

/// A text field of a service's JSON answer, trimmed; `None` when missing or blank.
fn text_field(v: &serde_json::Value, name: &str) -> Option<String> {
    v[name]
        .as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// ViaCEP's public address: with the BrasilAPI provider and the base left at it, BrasilAPI's
/// own is used.
pub const VIACEP_BASE: &str = "https://viacep.com.br";
/// BrasilAPI's public address.
pub const BRASILAPI_BASE: &str = "https://brasilapi.com.br";

/// The provider `ORCAZAP_CEP_PROVIDER` names (`viacep`, the default, or `brasilapi`) at
/// `base` (`ORCAZAP_CEP_API_BASE`).
pub fn provider(kind: &str, base: &str) -> Result<std::sync::Arc<dyn CepProvider>, CepError> {
    match kind.trim().to_ascii_lowercase().as_str() {
        "" | "viacep" => Ok(std::sync::Arc::new(ViaCep::new(base, TIMEOUT)?)),
        "brasilapi" => {
            let base = if base.trim_end_matches('/') == VIACEP_BASE {
                BRASILAPI_BASE
            } else {
                base
            };
            Ok(std::sync::Arc::new(BrasilApi::new(base, TIMEOUT)?))
        }
        other => Err(CepError::Invalid(format!(
            "provedor de CEP desconhecido: {other} (use viacep ou brasilapi)"
        ))),
    }
}

/// The note staff see when the CEP's bairro is under another freight rule than the quote's
/// (None when it is the same rule, or the quote was a pickup).
pub fn freight_note(
    rules: &domain::pricing::StoreRules,
    quoted_rule: Option<&str>,
    pickup: bool,
    bairro: &str,
) -> Option<String> {
    if pickup {
        return None;
    }
    let by_cep = rules
        .freight_rule_for(&Location::Bairro(bairro.to_string()))
        .map(|r| r.label.as_str());
    (by_cep != quoted_rule).then(|| format!("frete pode mudar: CEP em {bairro}"))
}

/// `order.cep_lookup` (`{"order_id","cep"}`): look the CEP up (cache first), fill what the
/// customer did not write, note a freight rule that may change. Always `Done`: a failure is
/// logged and the order keeps the address it has.
pub async fn handle(jc: &JobCtx<'_>, order_id: &str, cep: &str) -> Outcome {
    let Some(tenant_id) = jc.job.tenant_id.clone() else {
        return Outcome::Dead("order.cep_lookup without tenant".into());
    };
    let cep = cep.to_string();
    let cached = {
        let cep = cep.clone();
        jc.db
            .tx(move |c| Box::pin(async move { orders::cached_cep(c, &cep, CACHE_TTL_MS).await }))
            .await
    };
    let info = match cached {
        Ok(Some(hit)) => hit,
        Ok(None) => {
            let Some(provider) = jc.cep else {
                tracing::info!("no CEP service configured: address left as written");
                return Outcome::Done;
            };
            let answer =
                tokio::time::timeout(TIMEOUT + Duration::from_secs(1), provider.lookup(&cep))
                    .await
                    .unwrap_or_else(|_| Err(CepError::Unavailable("tempo esgotado".into())));
            match answer {
                Ok(found) => {
                    let cep = cep.clone();
                    let to_cache = found.clone();
                    let stored = jc
                        .db
                        .tx(move |c| {
                            Box::pin(
                                async move { orders::cache_cep(c, &cep, to_cache.as_ref()).await },
                            )
                        })
                        .await;
                    if let Err(e) = stored {
                        tracing::warn!(error = %e, "CEP answer not cached");
                    }
                    found
                }
                Err(e) => {
                    metrics::counter!("orcazap_cep_lookups_total", "outcome" => "error")
                        .increment(1);
                    tracing::warn!(error = %e, "CEP look-up failed: address left as written");
                    return Outcome::Done;
                }
            }
        }
        Err(e) => return Outcome::from_store(e),
    };
    let Some(info) = info else {
        metrics::counter!("orcazap_cep_lookups_total", "outcome" => "unknown").increment(1);
        tracing::info!("CEP unknown to the service");
        return Outcome::Done;
    };
    metrics::counter!("orcazap_cep_lookups_total", "outcome" => "found").increment(1);
    let ctx = match jc.contexts.load(jc.db, &tenant_id).await {
        Ok(c) => c,
        Err(e) => return Outcome::from_store(e),
    };
    let order_id = order_id.to_string();
    let res = jc
        .db
        .tx(move |c| {
            Box::pin(async move {
                let Some(order) = orders::get_conn(c, &tenant_id, &order_id).await? else {
                    return Ok(());
                };
                // The CEP the order has now: an answer for a CEP the customer since corrected
                // fills nothing.
                if order.address.cep.map(|c| c.digits()).as_deref() != Some(cep.as_str()) {
                    return Ok(());
                }
                let q = store::quotes::get_conn(c, &tenant_id, &order.quote_id).await?;
                let priced: domain::pricing::PricedQuote =
                    serde_json::from_str(&q.snapshot_json)
                        .map_err(|e| store::StoreError::Corrupt(e.to_string()))?;
                let note = info.bairro.as_deref().and_then(|b| {
                    freight_note(&ctx.rules, priced.freight_rule.as_deref(), priced.pickup, b)
                });
                // Only empty fields are filled: what the customer wrote stays; the note compares
                // the CEP's own bairro with the quote's freight rule.
                orders::fill_from_cep(c, &tenant_id, &order_id, &info, note.as_deref()).await
            })
        })
        .await;
    match res {
        Ok(()) => Outcome::Done,
        Err(e) => Outcome::from_store(e),
    }
}

#[cfg(test)]
mod brasilapi_tests {
    use super::*;

    #[test]
    fn brasilapi_answer_is_read() {
        let body = r#"{"cep":"04812010","state":"SP","city":"São Paulo","neighborhood":"Grajaú","street":"Rua Jaceguava","service":"viacep"}"#;
        assert_eq!(
            parse_brasilapi(body).unwrap(),
            Some(CepInfo {
                street: Some("Rua Jaceguava".into()),
                bairro: Some("Grajaú".into()),
                city: Some("São Paulo".into()),
                uf: Some("SP".into()),
            })
        );
        // A CEP of a whole town: no street nor bairro.
        let town = r#"{"cep":"86900000","state":"PR","city":"Jandaia do Sul","neighborhood":"","street":"","service":"correios"}"#;
        let info = parse_brasilapi(town).unwrap().unwrap();
        assert_eq!((info.street, info.bairro), (None, None));
        assert!(parse_brasilapi("<html>").is_err());
        assert!(parse_brasilapi(r#"{"message":"x"}"#).is_err());
    }

    #[test]
    fn the_provider_is_chosen_by_name() {
        assert!(provider("viacep", VIACEP_BASE).is_ok());
        assert!(provider("BrasilAPI", VIACEP_BASE).is_ok());
        assert!(provider("correios", VIACEP_BASE).is_err());
    }
}
