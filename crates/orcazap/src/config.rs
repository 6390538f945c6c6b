//! Configuration: defaults, then an optional `KEY=VALUE` file, then the environment — typed
//! and validated at start-up. Secrets are `SecretString`s: redacted in `Debug`, never logged.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::{bail, Context};
use secrecy::{ExposeSecret, SecretString};

mod values;
mod variables;

use values::Values;
pub use variables::{listing, readme_table, DefaultValue, Variable, RETIRED, TOOLING, VARIABLES};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Env {
    Development,
    Production,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub env: Env,
    pub database_url: String,
    pub listen: String,
    pub base_domain: String,
    pub https: bool,
    /// Current key first; older keys (for reading during rotation) after it.
    pub secret_keys: Vec<SecretString>,
    pub whatsapp_api_base: String,
    pub whatsapp_api_version: String,
    pub whatsapp_app_secret: Option<SecretString>,
    pub whatsapp_verify_token: Option<SecretString>,
    /// WhatsApp Embedded Signup: `ORCAZAP_META_APP_ID` and `ORCAZAP_META_CONFIG_ID` (both or
    /// neither; they need `ORCAZAP_WHATSAPP_APP_SECRET`).
    pub meta_signup: Option<(String, String)>,
    pub log_format: LogFormat,
    pub metrics_token: Option<SecretString>,
    pub admin_token: Option<SecretString>,
    /// `ORCAZAP_ADMIN_TOTP_SECRET` (base32): the operator's second factor.
    pub admin_totp_secret: Option<SecretString>,
    /// Header-read and keep-alive idle timeout of the HTTP server.
    pub http_header_timeout: Duration,
    /// Proxies whose forwarding headers are believed (empty: none).
    pub trusted_proxies: Vec<web::client_ip::IpNet>,
    pub db_max_connections: u32,
    pub db_acquire_timeout: Duration,
    pub db_statement_timeout: Duration,
    pub sqlite_synchronous: String,
    pub worker_concurrency: usize,
    pub job_timeout: Duration,
    pub graph_timeout: Duration,
    pub webhook_body_limit: usize,
    pub auto_migrate: bool,
    /// Scheduled backups: on when a directory is configured.
    pub backup_dir: Option<std::path::PathBuf>,
    pub backup_interval: Duration,
    pub backup_keep: usize,
    /// Raw webhook payloads older than this are deleted by the worker's housekeeping.
    pub webhook_retention: Duration,
    /// Error tracking (Sentry-compatible); None disables it.
    pub sentry_dsn: Option<SecretString>,
    /// The CEP service (ViaCEP's format); None when set to `off`.
    pub cep_api_base: Option<String>,
    /// `viacep` or `brasilapi` (`ORCAZAP_CEP_PROVIDER`): the format of that service.
    pub cep_provider: String,
    /// The optional language model (`ORCAZAP_LLM_*`): on with a base URL and a model.
    pub llm: Option<worker::assistant::LlmConfig>,
    /// Voice notes and photos (issue 16, docs/voice-notes.md).
    pub media: worker::media::MediaConfig,
    /// The transcription provider; None: voice notes go to a person.
    pub transcribe: Option<voice::HttpTranscriberConfig>,
    /// `ORCAZAP_SMTP_URL` (may carry the SMTP password); None: e-mail off.
    pub smtp_url: Option<SecretString>,
    /// `ORCAZAP_MAIL_FROM`.
    pub mail_from: String,
    /// The tracing filter (`ORCAZAP_LOG`).
    pub log_filter: String,
    /// Billing with Stripe: on with both `ORCAZAP_STRIPE_SECRET_KEY` and
    /// `ORCAZAP_STRIPE_WEBHOOK_SECRET` (docs/billing.md).
    pub billing: Option<Billing>,
    /// Found while reading, logged once logging is up: variables set but ignored, a log
    /// filter that did not parse.
    pub warnings: Vec<String>,
}

/// The `ORCAZAP_STRIPE_*` / `ORCAZAP_BILLING_*` settings.
#[derive(Debug, Clone)]
pub struct Billing {
    pub api_base: String,
    pub secret_key: SecretString,
    pub webhook_secret: SecretString,
    pub price_id: Option<String>,
    pub plan_name: String,
    pub plan_price_cents: Option<i64>,
    pub grace: Duration,
}

impl Billing {
    pub fn web(&self) -> web::billing::BillingConfig {
        let mut b = web::billing::BillingConfig::new(
            &self.api_base,
            self.secret_key.clone(),
            self.webhook_secret.clone(),
        );
        b.price_id = self.price_id.clone();
        b.plan_name = self.plan_name.clone();
        b.plan_price_cents = self.plan_price_cents;
        b.grace = self.grace;
        b
    }
}

impl Config {
    /// Reads the environment (and `file` values, which the environment overrides).
    pub fn load(file: Option<&str>) -> anyhow::Result<Config> {
        let mut vars: HashMap<String, String> = HashMap::new();
        if let Some(path) = file {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading config file {path}"))?;
            for (n, line) in text.lines().enumerate() {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                let Some((k, v)) = line.split_once('=') else {
                    bail!("{path}:{}: esperado CHAVE=VALOR", n + 1)
                };
                vars.insert(k.trim().to_string(), v.trim().trim_matches('"').to_string());
            }
        }
        for (k, v) in std::env::vars() {
            if k.starts_with("ORCAZAP_") {
                vars.insert(k, v);
            }
        }
        Self::from_map(&vars)
    }

    pub fn from_map(vars: &HashMap<String, String>) -> anyhow::Result<Config> {
        let v = Values::new(vars);
        let env = match v.required_text("ORCAZAP_ENV").as_str() {
            "development" | "dev" => Env::Development,
            "production" | "prod" => Env::Production,
            other => bail!("ORCAZAP_ENV deve ser development ou production, não {other:?}"),
        };
        let prod = env == Env::Production;
        let v = v.in_production(prod);
        let mut warnings = v.ignored();
        let database_url = v.required_text("ORCAZAP_DATABASE_URL");
        store::Engine::from_url(&database_url)
            .map_err(|e| anyhow::anyhow!("ORCAZAP_DATABASE_URL: {e}"))?;
        check_database_url(&database_url)?;
        let base_domain = v.required_text("ORCAZAP_BASE_DOMAIN").to_lowercase();
        if base_domain.contains(':') || base_domain.contains('/') {
            bail!(
                "ORCAZAP_BASE_DOMAIN é um nome de host sem porta nem esquema, ex.: orcazap.com.br"
            );
        }
        let mut secret_keys = Vec::new();
        match v.set("ORCAZAP_SECRET_KEY") {
            Some(k) => {
                if prod && k.len() < 32 {
                    bail!("ORCAZAP_SECRET_KEY precisa de pelo menos 32 caracteres em produção");
                }
                secret_keys.push(SecretString::from(k));
            }
            None if prod => bail!("ORCAZAP_ENV=production exige ORCAZAP_SECRET_KEY"),
            None => secret_keys.push(SecretString::from(dev_secret_key()?)),
        }
        for old in v
            .set("ORCAZAP_SECRET_KEY_OLD")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            secret_keys.push(SecretString::from(old.to_string()));
        }
        let app_secret = v.set("ORCAZAP_WHATSAPP_APP_SECRET").map(SecretString::from);
        let verify_token = v
            .set("ORCAZAP_WHATSAPP_VERIFY_TOKEN")
            .map(SecretString::from);
        if prod && app_secret.is_none() {
            bail!("ORCAZAP_ENV=production exige ORCAZAP_WHATSAPP_APP_SECRET (sem ele as assinaturas dos webhooks não podem ser conferidas)");
        }
        if prod && verify_token.is_none() {
            bail!("ORCAZAP_ENV=production exige ORCAZAP_WHATSAPP_VERIFY_TOKEN");
        }
        if prod
            && database_url.starts_with("sqlite:")
            && !v.flag("ORCAZAP_ALLOW_SQLITE_IN_PRODUCTION")?
        {
            bail!("ORCAZAP_ENV=production com banco sqlite://: use PostgreSQL, ou defina ORCAZAP_ALLOW_SQLITE_IN_PRODUCTION=true para uma instalação em uma só máquina");
        }
        let meta_signup = match (v.set("ORCAZAP_META_APP_ID"), v.set("ORCAZAP_META_CONFIG_ID")) {
            (None, None) => None,
            (Some(app), Some(config)) => {
                let digits = |s: &str| !s.is_empty() && s.len() <= 32 && s.bytes().all(|b| b.is_ascii_digit());
                if !digits(&app) || !digits(&config) {
                    bail!("ORCAZAP_META_APP_ID e ORCAZAP_META_CONFIG_ID são números (o ID do app e o ID da configuração do Login do Facebook para Empresas)");
                }
                if app_secret.is_none() {
                    bail!("ORCAZAP_META_APP_ID exige ORCAZAP_WHATSAPP_APP_SECRET (a chave secreta do mesmo app, usada para trocar o código do Facebook pelo token)");
                }
                Some((app, config))
            }
            _ => bail!("Embedded Signup: defina ORCAZAP_META_APP_ID e ORCAZAP_META_CONFIG_ID juntas (ou nenhuma, para só o formulário manual)"),
        };
        let admin_token = v.set("ORCAZAP_ADMIN_TOKEN");
        let admin_totp_secret = v.set("ORCAZAP_ADMIN_TOTP_SECRET");
        if let Some(s) = &admin_totp_secret {
            match web::auth::totp::base32_decode(s) {
                Some(b) if b.len() >= 16 => {}
                _ => bail!("ORCAZAP_ADMIN_TOTP_SECRET deve ser base32 (RFC 4648) com pelo menos 128 bits, ex.: python3 -c 'import base64,os;print(base64.b32encode(os.urandom(20)).decode())'"),
            }
        }
        if prod {
            if let Some(t) = &admin_token {
                check_admin_token(t)?;
                if admin_totp_secret.is_none() {
                    bail!("ORCAZAP_ENV=production com ORCAZAP_ADMIN_TOKEN exige ORCAZAP_ADMIN_TOTP_SECRET: a página do operador pede um código do autenticador além do token (docs/security.md)");
                }
            }
        }
        let trusted_proxies =
            web::client_ip::parse_trusted(&v.set("ORCAZAP_TRUSTED_PROXIES").unwrap_or_default())
                .map_err(|e| anyhow::anyhow!("ORCAZAP_TRUSTED_PROXIES: {e}"))?;
        let log_format = match v.required_text("ORCAZAP_LOG_FORMAT").as_str() {
            "pretty" => LogFormat::Pretty,
            "json" => LogFormat::Json,
            o => bail!("ORCAZAP_LOG_FORMAT deve ser pretty ou json, não {o:?}"),
        };
        let cep_provider = v.required_text("ORCAZAP_CEP_PROVIDER").to_ascii_lowercase();
        if !matches!(cep_provider.as_str(), "viacep" | "brasilapi") {
            bail!("ORCAZAP_CEP_PROVIDER deve ser viacep ou brasilapi, não {cep_provider:?}");
        }
        let log_filter = match v.set("ORCAZAP_LOG") {
            Some(f) if tracing_subscriber::EnvFilter::try_new(&f).is_err() => {
                warnings.push(format!(
                    "ORCAZAP_LOG {f:?} is not a valid log filter and is ignored; using the default"
                ));
                v.default_text("ORCAZAP_LOG")
            }
            _ => v.required_text("ORCAZAP_LOG"),
        };
        let api_version = v.required_text("ORCAZAP_WHATSAPP_API_VERSION");
        if !api_version.starts_with('v') {
            bail!("ORCAZAP_WHATSAPP_API_VERSION tem a forma v25.0, recebido {api_version:?}");
        }
        let sqlite_synchronous = v.required_text("ORCAZAP_SQLITE_SYNCHRONOUS").to_uppercase();
        if !["OFF", "NORMAL", "FULL", "EXTRA"].contains(&sqlite_synchronous.as_str()) {
            bail!("ORCAZAP_SQLITE_SYNCHRONOUS deve ser OFF, NORMAL, FULL ou EXTRA");
        }
        let ms = |name: &str| v.num(name).map(Duration::from_millis);
        let billing = match (
            v.set("ORCAZAP_STRIPE_SECRET_KEY"),
            v.set("ORCAZAP_STRIPE_WEBHOOK_SECRET"),
        ) {
            (Some(key), Some(whsec)) => Some(Billing {
                api_base: v.required_text("ORCAZAP_STRIPE_API_BASE"),
                secret_key: SecretString::from(key),
                webhook_secret: SecretString::from(whsec),
                price_id: v.set("ORCAZAP_STRIPE_PRICE_ID"),
                plan_name: v.required_text("ORCAZAP_BILLING_PLAN_NAME"),
                plan_price_cents: v
                    .set("ORCAZAP_BILLING_PLAN_PRICE_CENTS")
                    .map(|c| {
                        c.parse::<i64>().ok().filter(|c| *c >= 0).with_context(|| {
                            format!("ORCAZAP_BILLING_PLAN_PRICE_CENTS é um valor em centavos, recebido {c:?}")
                        })
                    })
                    .transpose()?,
                grace: Duration::from_secs(
                    v.num("ORCAZAP_BILLING_GRACE_DAYS")?.clamp(0, 90) * 86_400,
                ),
            }),
            (None, None) => None,
            _ => bail!("cobrança: defina ORCAZAP_STRIPE_SECRET_KEY e ORCAZAP_STRIPE_WEBHOOK_SECRET juntas (ou nenhuma, para cobrança desligada)"),
        };
        let job_timeout = ms("ORCAZAP_JOB_TIMEOUT_MS")?;
        let llm = llm_config(&v, job_timeout, &mut warnings)?;
        let media = worker::media::MediaConfig {
            max_audio_bytes: v
                .num("ORCAZAP_MEDIA_MAX_AUDIO_BYTES")?
                .clamp(1024, 100 * 1024 * 1024) as usize,
            max_image_bytes: v
                .num("ORCAZAP_MEDIA_MAX_IMAGE_BYTES")?
                .clamp(1024, 100 * 1024 * 1024) as usize,
            max_voice_seconds: v.num("ORCAZAP_TRANSCRIBE_MAX_SECONDS")?.clamp(1, 3600),
            retention: Duration::from_secs(
                v.num("ORCAZAP_MEDIA_RETENTION_DAYS")?.clamp(1, 3650) * 86_400,
            ),
            transcribe_timeout: Duration::from_millis(
                v.num("ORCAZAP_TRANSCRIBE_TIMEOUT_MS")?.clamp(1000, 600_000),
            ),
        };
        let transcribe = match v.set("ORCAZAP_TRANSCRIBE_BASE_URL") {
            Some(base) => {
                let t = voice::HttpTranscriberConfig {
                    base_url: base,
                    api_key: v.set("ORCAZAP_TRANSCRIBE_API_KEY").map(SecretString::from),
                    model: v.required_text("ORCAZAP_TRANSCRIBE_MODEL"),
                    language: v.required_text("ORCAZAP_TRANSCRIBE_LANGUAGE"),
                    timeout: media.transcribe_timeout,
                };
                // Refused now, with the reason, rather than at the first voice note.
                voice::HttpTranscriber::new(t.clone())
                    .map_err(|e| anyhow::anyhow!("ORCAZAP_TRANSCRIBE_BASE_URL: {e}"))?;
                Some(t)
            }
            None => None,
        };
        Ok(Config {
            env,
            listen: v.required_text("ORCAZAP_LISTEN"),
            database_url,
            base_domain,
            https: v.flag("ORCAZAP_HTTPS")?,
            secret_keys,
            whatsapp_api_base: v.required_text("ORCAZAP_WHATSAPP_API_BASE"),
            whatsapp_api_version: api_version,
            whatsapp_app_secret: app_secret,
            whatsapp_verify_token: verify_token,
            meta_signup,
            log_format,
            metrics_token: v.set("ORCAZAP_METRICS_TOKEN").map(SecretString::from),
            admin_token: admin_token.map(SecretString::from),
            admin_totp_secret: admin_totp_secret.map(SecretString::from),
            trusted_proxies,
            http_header_timeout: Duration::from_millis(
                v.num("ORCAZAP_HTTP_HEADER_TIMEOUT_MS")?.clamp(100, 600_000),
            ),
            db_max_connections: v.num("ORCAZAP_DB_MAX_CONNECTIONS")?.clamp(1, 500) as u32,
            db_acquire_timeout: ms("ORCAZAP_DB_ACQUIRE_TIMEOUT_MS")?,
            db_statement_timeout: ms("ORCAZAP_DB_STATEMENT_TIMEOUT_MS")?,
            sqlite_synchronous,
            worker_concurrency: v.num("ORCAZAP_WORKER_CONCURRENCY")?.clamp(1, 256) as usize,
            job_timeout,
            graph_timeout: ms("ORCAZAP_GRAPH_TIMEOUT_MS")?,
            webhook_body_limit: v
                .num("ORCAZAP_WEBHOOK_BODY_LIMIT")?
                .clamp(1024, 16 * 1024 * 1024) as usize,
            auto_migrate: v.flag("ORCAZAP_AUTO_MIGRATE")?,
            backup_dir: v.set("ORCAZAP_BACKUP_DIR").map(std::path::PathBuf::from),
            backup_interval: Duration::from_secs(
                v.num("ORCAZAP_BACKUP_INTERVAL_HOURS")?.clamp(1, 24 * 365) * 3600,
            ),
            backup_keep: v.num("ORCAZAP_BACKUP_KEEP")?.clamp(1, 10_000) as usize,
            webhook_retention: Duration::from_secs(
                v.num("ORCAZAP_WEBHOOK_RETENTION_DAYS")?.clamp(1, 3650) * 86_400,
            ),
            sentry_dsn: v.set("ORCAZAP_SENTRY_DSN").map(SecretString::from),
            cep_api_base: Some(v.required_text("ORCAZAP_CEP_API_BASE"))
                .filter(|b| !b.eq_ignore_ascii_case("off")),
            cep_provider,
            smtp_url: v.set("ORCAZAP_SMTP_URL").map(SecretString::from),
            mail_from: v.required_text("ORCAZAP_MAIL_FROM"),
            log_filter,
            llm,
            billing,
            media,
            transcribe,
            warnings,
        })
    }

    pub fn db_config(&self) -> store::DbConfig {
        let mut c = store::DbConfig::new(&self.database_url);
        c.max_connections = self.db_max_connections;
        c.acquire_timeout = self.db_acquire_timeout;
        c.statement_timeout = self.db_statement_timeout;
        c.sqlite_synchronous = self.sqlite_synchronous.clone();
        c
    }

    /// The token cipher: the current key encrypts; the old ones (rotation in progress) only
    /// decrypt. Keys are told apart by their fingerprint, not by their place in this list.
    pub fn cipher(&self) -> store::crypto::TokenCipher {
        let (current, old) = self
            .secret_keys
            .split_first()
            .expect("from_map always sets the current secret key");
        let old: Vec<&[u8]> = old.iter().map(|k| k.expose_secret().as_bytes()).collect();
        store::crypto::TokenCipher::new(current.expose_secret().as_bytes(), &old)
    }
}

/// Words that mark a value copied from an example instead of generated.
const PLACEHOLDER_WORDS: &[&str] = &[
    "change",
    "troque",
    "trocar",
    "example",
    "exemplo",
    "placeholder",
    "secret",
    "senha",
    "password",
    "token",
    "admin",
    "xxxx",
    "todo",
    "orcazap",
];

/// In production the operator token guards every store's data: it must be long and random
/// (`openssl rand -hex 32`), never a word from the example file. Throttling failed attempts
/// (web::public::admin) only slows guessing; only length makes it hopeless.
/// The language-model settings alone (`orcazap parse --assistant`), from the environment and
/// an optional `KEY=VALUE` file, without the rest of the configuration.
pub fn llm_only(file: Option<&str>) -> anyhow::Result<Option<worker::assistant::LlmConfig>> {
    let mut vars: HashMap<String, String> = HashMap::new();
    if let Some(path) = file {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading config file {path}"))?;
        for line in text.lines().map(str::trim) {
            if let Some((k, v)) = line.split_once('=').filter(|_| !line.starts_with('#')) {
                vars.insert(k.trim().to_string(), v.trim().trim_matches('"').to_string());
            }
        }
    }
    for (k, v) in std::env::vars() {
        if k.starts_with("ORCAZAP_LLM_") {
            vars.insert(k, v);
        }
    }
    let mut warnings = Vec::new();
    let cfg = llm_config(&Values::new(&vars), Duration::from_secs(30), &mut warnings)?;
    for w in warnings {
        eprintln!("aviso: {w}");
    }
    Ok(cfg)
}

/// `ORCAZAP_LLM_*`: None (off) without a base URL and a model; one without the other is an
/// error, as are prices that are not centavos with at most three decimals.
fn llm_config(
    v: &Values,
    job_timeout: Duration,
    warnings: &mut Vec<String>,
) -> anyhow::Result<Option<worker::assistant::LlmConfig>> {
    let (base, model) = match (v.set("ORCAZAP_LLM_BASE_URL"), v.set("ORCAZAP_LLM_MODEL")) {
        (None, None) => return Ok(None),
        (Some(b), Some(m)) => (b, m),
        _ => bail!("modelo de linguagem: defina ORCAZAP_LLM_BASE_URL e ORCAZAP_LLM_MODEL juntas (ou nenhuma, para desligado)"),
    };
    if !(base.starts_with("http://") || base.starts_with("https://")) {
        bail!("ORCAZAP_LLM_BASE_URL é uma URL http(s) com o caminho da versão, ex.: https://api.openai.com/v1 — recebido {base:?}");
    }
    let price = |name: &str| {
        let text = v.required_text(name);
        parse_millicents(&text).with_context(|| {
            format!("{name} é um valor em centavos com até 3 casas decimais (ex.: 0.08), recebido {text:?}")
        })
    };
    let limits = worker::assistant::LlmLimits {
        input_millicents_per_1k: price("ORCAZAP_LLM_PRICE_INPUT_PER_1K")?,
        output_millicents_per_1k: price("ORCAZAP_LLM_PRICE_OUTPUT_PER_1K")?,
        monthly_budget_cents: v
            .num("ORCAZAP_LLM_MONTHLY_BUDGET_CENTS")?
            .min(i64::MAX as u64 / 1000) as i64,
        per_minute: v.num("ORCAZAP_LLM_RATE_PER_MINUTE")?.clamp(1, 10_000) as i64,
        max_tokens: v.num("ORCAZAP_LLM_MAX_TOKENS")?.clamp(50, 8000) as u32,
    };
    let timeout = Duration::from_millis(v.num("ORCAZAP_LLM_TIMEOUT_MS")?.clamp(100, 120_000));
    // All attempts of one call end within the deadline, and a job's calls (a second one starts
    // only before the first call's deadline has passed) within twice it, well inside the job.
    let deadline = (timeout * 2)
        .min(job_timeout.saturating_sub(Duration::from_secs(5)) / 2)
        .max(Duration::from_millis(100));
    if limits.input_millicents_per_1k == 0 && limits.output_millicents_per_1k == 0 {
        warnings.push("ORCAZAP_LLM_PRICE_INPUT_PER_1K and ORCAZAP_LLM_PRICE_OUTPUT_PER_1K are 0: calls cost nothing and the monthly budget never runs out (right for a local model; set the provider's prices for a hosted one)".into());
    }
    Ok(Some(worker::assistant::LlmConfig {
        provider: worker::assistant::OpenAiConfig {
            base_url: base,
            api_key: v.set("ORCAZAP_LLM_API_KEY").map(SecretString::from),
            model,
            request_timeout: timeout,
            retries: 2,
            deadline,
        },
        limits,
    }))
}

/// Centavos with up to three decimals (`0.08`, `1`, `0,125`) → millicentavos.
fn parse_millicents(text: &str) -> Option<i64> {
    let t = text.trim().replace(',', ".");
    let (int, frac) = t.split_once('.').unwrap_or((&t, ""));
    if int.is_empty() && frac.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > 3
    {
        return None;
    }
    let int: i64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let frac: i64 = format!("{frac:0<3}").parse().ok()?;
    int.checked_mul(1000)?.checked_add(frac)
}

fn check_admin_token(t: &str) -> anyhow::Result<()> {
    if t.chars().count() < 32 {
        bail!("ORCAZAP_ADMIN_TOKEN precisa de pelo menos 32 caracteres em produção (ex.: `openssl rand -hex 32`)");
    }
    let lower = t.to_lowercase();
    let distinct: std::collections::HashSet<char> = lower.chars().collect();
    if PLACEHOLDER_WORDS.iter().any(|w| lower.contains(w)) || distinct.len() < 10 {
        bail!("ORCAZAP_ADMIN_TOKEN parece um valor de exemplo; gere um aleatório (ex.: `openssl rand -hex 32`)");
    }
    Ok(())
}

/// Development only: a random key kept in `orcazap-dev-secret.key` (git-ignored) so
/// encrypted tokens stay readable across restarts. It decrypts the channel tokens, so only
/// its owner may read it: created with mode 0600, and an existing file is tightened to 0600
/// (with a warning when that fails).
fn dev_secret_key() -> anyhow::Result<String> {
    const FILE: &str = "orcazap-dev-secret.key";
    let path = std::path::Path::new(FILE);
    if let Ok(k) = std::fs::read_to_string(path) {
        if k.trim().len() >= 32 {
            owner_only(path);
            return Ok(k.trim().to_string());
        }
    }
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut bytes);
    let key = hex::encode(bytes);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("writing {FILE}"))?;
    // `mode` applies only to a file this call creates; a short key being replaced keeps
    // its old mode unless tightened before the new key goes in.
    owner_only(path);
    std::io::Write::write_all(&mut file, key.as_bytes())
        .with_context(|| format!("writing {FILE}"))?;
    Ok(key)
}

/// Mode 0600 on the key file; a warning (on stderr: logging is not set up yet) when the
/// file stays readable by others.
fn owner_only(path: &std::path::Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let loose = std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o077 != 0);
        if loose {
            if let Err(e) = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)) {
                eprintln!(
                    "aviso: {} pode ser lido por outros usuários e a permissão não pôde ser ajustada para 0600: {e}",
                    path.display()
                );
            }
        }
    }
}

/// A database URL must name what it connects to: `postgres://` alone made sqlx fall back to
/// libpq's defaults and create the schema in the server's default database (issue 12 item
/// 11). The missing part is named; the URL itself is not echoed (it may carry a password).
fn check_database_url(url: &str) -> anyhow::Result<()> {
    const EXAMPLE: &str = "ex.: postgres://usuario@localhost:5432/orcazap";
    let pg = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"));
    if let Some(rest) = pg {
        let (main, query) = rest.split_once('?').unwrap_or((rest, ""));
        let param = |key: &str| {
            query.split('&').any(|p| {
                p.split_once('=')
                    .is_some_and(|(k, v)| k == key && !v.is_empty())
            })
        };
        let (authority, path) = main.split_once('/').unwrap_or((main, ""));
        let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let host_name = if host.starts_with('[') {
            host
        } else {
            host.split(':').next().unwrap_or_default()
        };
        if host_name.is_empty() && !param("host") {
            bail!(
                "ORCAZAP_DATABASE_URL incompleta: falta o servidor (host) do PostgreSQL; {EXAMPLE}"
            );
        }
        if path.trim_matches('/').is_empty() && !param("dbname") {
            bail!(
                "ORCAZAP_DATABASE_URL incompleta: falta o nome do banco depois da barra; {EXAMPLE}"
            );
        }
    } else if let Some(rest) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        if rest.split('?').next().unwrap_or_default().is_empty() {
            bail!("ORCAZAP_DATABASE_URL incompleta: falta o caminho do arquivo, ex.: sqlite://orcazap.db");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn production_requires_secrets() {
        let err = Config::from_map(&map(&[("ORCAZAP_ENV", "production")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("ORCAZAP_SECRET_KEY"), "{err}");
        let k = "k".repeat(40);
        let err = Config::from_map(&map(&[
            ("ORCAZAP_ENV", "production"),
            ("ORCAZAP_SECRET_KEY", &k),
        ]))
        .unwrap_err()
        .to_string();
        assert!(err.contains("APP_SECRET"), "{err}");
        let base = [
            ("ORCAZAP_ENV", "production"),
            ("ORCAZAP_SECRET_KEY", k.as_str()),
            ("ORCAZAP_WHATSAPP_APP_SECRET", "s"),
            ("ORCAZAP_WHATSAPP_VERIFY_TOKEN", "t"),
        ];
        let err = Config::from_map(&map(&base)).unwrap_err().to_string();
        assert!(err.contains("sqlite"), "{err}");
        let mut ok = base.to_vec();
        ok.push(("ORCAZAP_DATABASE_URL", "postgres://u@h/db"));
        let cfg = Config::from_map(&map(&ok)).unwrap();
        assert_eq!(cfg.log_format, LogFormat::Json);
        assert!(!cfg.auto_migrate);
        let mut lite = base.to_vec();
        lite.push(("ORCAZAP_ALLOW_SQLITE_IN_PRODUCTION", "true"));
        assert!(Config::from_map(&map(&lite)).is_ok());
    }

    #[test]
    fn production_refuses_weak_or_placeholder_admin_tokens() {
        let k = "k".repeat(40);
        let base = [
            ("ORCAZAP_ENV", "production"),
            ("ORCAZAP_SECRET_KEY", k.as_str()),
            ("ORCAZAP_WHATSAPP_APP_SECRET", "s"),
            ("ORCAZAP_WHATSAPP_VERIFY_TOKEN", "t"),
            ("ORCAZAP_DATABASE_URL", "postgres://u@h/db"),
        ];
        let with = |token: &str| {
            let mut v = base.to_vec();
            v.push(("ORCAZAP_ADMIN_TOKEN", token));
            Config::from_map(&map(&v))
                .map(|_| ())
                .map_err(|e| e.to_string())
        };
        // The env example's placeholder and short tokens.
        let example = include_str!("../../../deploy/orcazap.env.example");
        let placeholder = example
            .lines()
            .find_map(|l| l.strip_prefix("ORCAZAP_ADMIN_TOKEN="))
            .or_else(|| {
                example
                    .lines()
                    .find_map(|l| l.strip_prefix("# ORCAZAP_ADMIN_TOKEN="))
            })
            .expect("the env example documents ORCAZAP_ADMIN_TOKEN");
        assert!(with(placeholder)
            .unwrap_err()
            .contains("ORCAZAP_ADMIN_TOKEN"));
        assert!(with("a").unwrap_err().contains("32 caracteres"));
        assert!(with(&"a".repeat(40))
            .unwrap_err()
            .contains("valor de exemplo"));
        assert!(with("troque-este-token-por-um-valor-aleatorio-longo")
            .unwrap_err()
            .contains("valor de exemplo"));
        // A good token still needs the operator's second factor in production.
        let good = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        assert!(with(good)
            .unwrap_err()
            .contains("ORCAZAP_ADMIN_TOTP_SECRET"));
        let with_totp = |secret: &str| {
            let mut v = base.to_vec();
            v.push(("ORCAZAP_ADMIN_TOKEN", good));
            v.push(("ORCAZAP_ADMIN_TOTP_SECRET", secret));
            Config::from_map(&map(&v))
                .map(|_| ())
                .map_err(|e| e.to_string())
        };
        assert!(with_totp("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ").is_ok());
        assert!(with_totp("CHANGE_ME_base32_secret")
            .unwrap_err()
            .contains("base32"));
        assert!(with_totp("GEZDGNBV").unwrap_err().contains("128 bits"));
        // No token: the page is off, nothing to refuse. Development accepts anything.
        assert!(Config::from_map(&map(&base)).is_ok());
        assert!(Config::from_map(&map(&[
            ("ORCAZAP_SECRET_KEY", &k),
            ("ORCAZAP_ADMIN_TOKEN", "a")
        ]))
        .is_ok());
    }

    #[test]
    fn trusted_proxies_are_parsed_and_bad_entries_named() {
        let k = "k".repeat(40);
        let cfg = Config::from_map(&map(&[
            ("ORCAZAP_SECRET_KEY", &k),
            ("ORCAZAP_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8"),
        ]))
        .unwrap();
        assert_eq!(cfg.trusted_proxies.len(), 2);
        let cfg = Config::from_map(&map(&[("ORCAZAP_SECRET_KEY", &k)])).unwrap();
        assert!(cfg.trusted_proxies.is_empty(), "default: nobody is trusted");
        let err = Config::from_map(&map(&[
            ("ORCAZAP_SECRET_KEY", &k),
            ("ORCAZAP_TRUSTED_PROXIES", "caddy"),
        ]))
        .unwrap_err()
        .to_string();
        assert!(err.contains("ORCAZAP_TRUSTED_PROXIES"), "{err}");
    }

    #[test]
    fn incomplete_database_urls_are_refused_naming_the_missing_part() {
        let k = "k".repeat(40);
        let err = |url: &str| {
            Config::from_map(&map(&[
                ("ORCAZAP_SECRET_KEY", &k),
                ("ORCAZAP_DATABASE_URL", url),
            ]))
            .err()
            .map(|e| e.to_string())
        };
        for url in [
            "postgres://",
            "postgresql://",
            "postgres:///orcazap",
            "postgres://u:senha@/orcazap",
        ] {
            let e = err(url).unwrap_or_else(|| panic!("{url} accepted"));
            assert!(e.contains("falta o servidor (host)"), "{url}: {e}");
            assert!(!e.contains("senha@"), "password echoed: {e}");
        }
        for url in [
            "postgres://u@localhost",
            "postgres://u@localhost:5432/",
            "postgres://[::1]:5432",
        ] {
            let e = err(url).unwrap_or_else(|| panic!("{url} accepted"));
            assert!(e.contains("falta o nome do banco"), "{url}: {e}");
        }
        for url in ["sqlite://", "sqlite:"] {
            assert!(
                err(url).unwrap().contains("falta o caminho do arquivo"),
                "{url}"
            );
        }
        for url in [
            "postgres://u@h/db",
            "postgres://u:p@[::1]:5432/db?sslmode=disable",
            "postgres:///db?host=/run/postgresql",
            "postgresql://u@h:5432?dbname=orcazap",
            "sqlite://orcazap.db",
            "sqlite::memory:",
        ] {
            assert_eq!(err(url), None, "{url} refused");
        }
    }

    #[test]
    fn bad_values_are_named() {
        let k = "k".repeat(40);
        assert!(Config::from_map(&map(&[
            ("ORCAZAP_SECRET_KEY", &k),
            ("ORCAZAP_DATABASE_URL", "mysql://x")
        ]))
        .unwrap_err()
        .to_string()
        .contains("DATABASE_URL"));
        assert!(Config::from_map(&map(&[
            ("ORCAZAP_SECRET_KEY", &k),
            ("ORCAZAP_DB_MAX_CONNECTIONS", "dez")
        ]))
        .unwrap_err()
        .to_string()
        .contains("ORCAZAP_DB_MAX_CONNECTIONS"));
        assert!(Config::from_map(&map(&[
            ("ORCAZAP_SECRET_KEY", &k),
            ("ORCAZAP_BASE_DOMAIN", "localhost:8080")
        ]))
        .is_err());
    }

    /// The language model is off unless both its URL and model are set; one alone, a URL
    /// without a scheme and a price with more than three decimals are refused by name; prices
    /// are read exactly into millicentavos; a call's deadline stays inside the job timeout.
    #[test]
    fn language_model_settings_are_read_and_checked() {
        let k = "k".repeat(40);
        let with = |extra: &[(&str, &str)]| {
            let mut pairs = vec![("ORCAZAP_SECRET_KEY", k.as_str())];
            pairs.extend_from_slice(extra);
            Config::from_map(&map(&pairs))
        };
        assert!(with(&[]).unwrap().llm.is_none());
        let err = |extra: &[(&str, &str)]| with(extra).unwrap_err().to_string();
        assert!(err(&[("ORCAZAP_LLM_BASE_URL", "http://127.0.0.1:8081/v1")])
            .contains("ORCAZAP_LLM_MODEL"));
        assert!(err(&[("ORCAZAP_LLM_MODEL", "m")]).contains("ORCAZAP_LLM_BASE_URL"));
        assert!(err(&[
            ("ORCAZAP_LLM_BASE_URL", "api.openai.com/v1"),
            ("ORCAZAP_LLM_MODEL", "m")
        ])
        .contains("ORCAZAP_LLM_BASE_URL"));
        assert!(err(&[
            ("ORCAZAP_LLM_BASE_URL", "https://api.openai.com/v1"),
            ("ORCAZAP_LLM_MODEL", "m"),
            ("ORCAZAP_LLM_PRICE_INPUT_PER_1K", "0.0801")
        ])
        .contains("ORCAZAP_LLM_PRICE_INPUT_PER_1K"));
        let cfg = with(&[
            ("ORCAZAP_LLM_BASE_URL", "https://api.openai.com/v1"),
            ("ORCAZAP_LLM_API_KEY", "sk-secret-value"),
            ("ORCAZAP_LLM_MODEL", "gpt-4o-mini"),
            ("ORCAZAP_LLM_PRICE_INPUT_PER_1K", "0.08"),
            ("ORCAZAP_LLM_PRICE_OUTPUT_PER_1K", "0,33"),
            ("ORCAZAP_LLM_TIMEOUT_MS", "20000"),
        ])
        .unwrap();
        let llm = cfg.llm.clone().unwrap();
        assert_eq!(llm.limits.input_millicents_per_1k, 80);
        assert_eq!(llm.limits.output_millicents_per_1k, 330);
        assert_eq!(llm.limits.monthly_budget_cents, 2000);
        // Job timeout 30 s: a call ends within (30 − 5) / 2 s, though one request may take 20.
        assert_eq!(llm.provider.deadline, Duration::from_millis(12_500));
        assert!(!format!("{cfg:?}").contains("sk-secret-value"));
        assert!(cfg.warnings.iter().all(|w| !w.contains("PRICE")));
        let free = with(&[
            ("ORCAZAP_LLM_BASE_URL", "http://127.0.0.1:11434/v1"),
            ("ORCAZAP_LLM_MODEL", "qwen2.5:7b"),
        ])
        .unwrap();
        assert!(free
            .warnings
            .iter()
            .any(|w| w.contains("ORCAZAP_LLM_PRICE_INPUT_PER_1K")));
    }

    /// Embedded Signup: both ids or neither, digits, and the app secret of the same app.
    #[test]
    fn embedded_signup_settings_come_together() {
        let k = "k".repeat(40);
        let base = [
            ("ORCAZAP_SECRET_KEY", k.as_str()),
            ("ORCAZAP_WHATSAPP_APP_SECRET", "s"),
        ];
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut pairs = base.to_vec();
            pairs.extend_from_slice(extra);
            Config::from_map(&map(&pairs))
        };
        assert_eq!(with(&[]).unwrap().meta_signup, None);
        assert_eq!(
            with(&[
                ("ORCAZAP_META_APP_ID", "123"),
                ("ORCAZAP_META_CONFIG_ID", "456")
            ])
            .unwrap()
            .meta_signup,
            Some(("123".to_string(), "456".to_string()))
        );
        let one = with(&[("ORCAZAP_META_APP_ID", "123")])
            .unwrap_err()
            .to_string();
        assert!(one.contains("ORCAZAP_META_CONFIG_ID"), "{one}");
        let bad = with(&[
            ("ORCAZAP_META_APP_ID", "abc"),
            ("ORCAZAP_META_CONFIG_ID", "456"),
        ])
        .unwrap_err()
        .to_string();
        assert!(bad.contains("são números"), "{bad}");
        let no_secret = Config::from_map(&map(&[
            ("ORCAZAP_SECRET_KEY", &k),
            ("ORCAZAP_META_APP_ID", "123"),
            ("ORCAZAP_META_CONFIG_ID", "456"),
        ]))
        .unwrap_err()
        .to_string();
        assert!(
            no_secret.contains("ORCAZAP_WHATSAPP_APP_SECRET"),
            "{no_secret}"
        );
    }

    /// Setting every variable to the table's default changes nothing: the defaults are values
    /// the parser accepts and reads the same way, in development and in production.
    #[test]
    fn defaults_are_values_the_parser_reads_the_same_way() {
        let k = "k".repeat(40);
        let dev = [("ORCAZAP_SECRET_KEY", k.as_str())];
        let prod = [
            ("ORCAZAP_ENV", "production"),
            ("ORCAZAP_SECRET_KEY", k.as_str()),
            ("ORCAZAP_WHATSAPP_APP_SECRET", "s"),
            ("ORCAZAP_WHATSAPP_VERIFY_TOKEN", "t"),
            ("ORCAZAP_ALLOW_SQLITE_IN_PRODUCTION", "true"),
        ];
        for (base, production) in [(&dev[..], false), (&prod[..], true)] {
            let implicit = Config::from_map(&map(base)).unwrap();
            let mut all = map(base);
            for v in VARIABLES {
                if let Some(d) = v.default_value(production) {
                    all.entry(v.name.to_string())
                        .or_insert_with(|| d.to_string());
                }
            }
            let explicit = Config::from_map(&all).unwrap();
            assert_eq!(format!("{implicit:?}"), format!("{explicit:?}"));
            assert!(explicit.warnings.is_empty(), "{:?}", explicit.warnings);
        }
    }

    #[test]
    fn retired_and_unknown_variables_are_named_in_warnings() {
        let k = "k".repeat(40);
        let retired = RETIRED[0].0;
        let typo = format!("ORCAZAP_{}", "WORKER_CONCURENCY");
        let mut vars = map(&[("ORCAZAP_SECRET_KEY", &k), (retired, "2")]);
        vars.insert(typo.clone(), "8".into());
        for name in TOOLING {
            vars.insert(name.to_string(), "x".into());
        }
        let cfg = Config::from_map(&vars).unwrap();
        assert_eq!(cfg.warnings.len(), 2, "{:?}", cfg.warnings);
        assert!(cfg
            .warnings
            .iter()
            .any(|w| w.starts_with(retired) && w.contains("no longer read")));
        assert!(cfg
            .warnings
            .iter()
            .any(|w| w.starts_with(&typo) && w.contains("orcazap env")));
        let quiet = Config::from_map(&map(&[("ORCAZAP_SECRET_KEY", &k)])).unwrap();
        assert!(quiet.warnings.is_empty(), "{:?}", quiet.warnings);
    }

    #[test]
    fn webhook_body_limit_takes_metas_largest_payload() {
        // Meta documents webhook payloads of up to 3 MB (issue 18 item 8).
        let k = "k".repeat(40);
        let cfg = Config::from_map(&map(&[("ORCAZAP_SECRET_KEY", &k)])).unwrap();
        assert!(
            cfg.webhook_body_limit >= 3_000_000,
            "{}",
            cfg.webhook_body_limit
        );
        assert_eq!(cfg.webhook_body_limit, 3 * 1024 * 1024);
    }

    #[test]
    fn log_filter_is_read_and_a_bad_one_replaced_by_the_default() {
        let k = "k".repeat(40);
        let cfg = Config::from_map(&map(&[("ORCAZAP_SECRET_KEY", &k)])).unwrap();
        assert_eq!(cfg.log_filter, "info,sqlx=warn,hyper=warn");
        let cfg = Config::from_map(&map(&[
            ("ORCAZAP_SECRET_KEY", &k),
            ("ORCAZAP_LOG", "debug"),
        ]))
        .unwrap();
        assert_eq!(cfg.log_filter, "debug");
        let cfg = Config::from_map(&map(&[
            ("ORCAZAP_SECRET_KEY", &k),
            ("ORCAZAP_LOG", "worker=barulhento"),
        ]))
        .unwrap();
        assert_eq!(cfg.log_filter, "info,sqlx=warn,hyper=warn");
        assert!(
            cfg.warnings[0].starts_with("ORCAZAP_LOG"),
            "{:?}",
            cfg.warnings
        );
    }

    #[test]
    fn secrets_are_redacted_in_debug() {
        let cfg = Config::from_map(&map(&[
            ("ORCAZAP_SECRET_KEY", "super-secret-key-material-0123456789"),
            ("ORCAZAP_WHATSAPP_APP_SECRET", "app-secret-xyz"),
        ]))
        .unwrap();
        let dbg = format!("{cfg:?}");
        assert!(
            !dbg.contains("super-secret-key-material") && !dbg.contains("app-secret-xyz"),
            "{dbg}"
        );
    }
}
