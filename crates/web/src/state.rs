//! What every handler can reach.

use std::sync::Arc;
use std::time::Duration;

use metrics_exporter_prometheus::PrometheusHandle;
use secrecy::SecretString;
use store::crypto::TokenCipher;
use store::Db;
use tokio::sync::Notify;
use worker::tenant_ctx::ContextCache;

#[derive(Clone)]
pub struct WebConfig {
    /// BASE: `localhost`, `orcazap.com.br` (no port).
    pub base_domain: String,
    /// Under HTTPS cookies are `Secure` and HSTS is sent.
    pub https: bool,
    pub whatsapp_app_secret: Option<SecretString>,
    pub whatsapp_verify_token: Option<SecretString>,
    /// Bearer token required on `/metrics` when set.
    pub metrics_token: Option<SecretString>,
    /// Operator credential for `api.BASE/admin`; when unset the page does not exist (404).
    pub admin_token: Option<SecretString>,
    /// The operator's TOTP secret, base32 (`ORCAZAP_ADMIN_TOTP_SECRET`): when set, `/admin`
    /// asks for a code after the token (`public::admin`); production requires it.
    pub admin_totp_secret: Option<SecretString>,
    /// Peers whose `X-Forwarded-For` / `Forwarded` is believed (`ORCAZAP_TRUSTED_PROXIES`);
    /// empty: the socket peer is the client ([`crate::client_ip`]).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Largest webhook body accepted (Meta's payloads are a few kB).
    pub webhook_body_limit: usize,
    /// Largest form/JSON body of the dashboard.
    pub form_body_limit: usize,
    /// A worker heartbeat older than this makes `/ready` fail.
    pub heartbeat_max_age: Duration,
    /// `orcazap demo`: the simulator and the fake Graph endpoint are mounted.
    pub demo: bool,
    /// The phone_number_id the simulator writes to.
    pub demo_phone_number_id: String,
    /// Where the app itself listens (the simulator posts webhooks to it).
    pub self_url: String,
    /// Billing with Stripe; None: billing off (self-hosted, demo), nothing is gated.
    pub billing: Option<crate::billing::BillingConfig>,
    /// The optional language model's default monthly budget per store, in centavos; None: the
    /// model is off (Início still shows a month in which it was used).
    pub llm_budget_cents: Option<i64>,
    /// E-mail is sent (`ORCAZAP_SMTP_URL` set). Off, e-mails still queue (the worker logs
    /// them in development) and the team page shows an invitation's link to the owner once.
    pub email_on: bool,
    /// Meta's Graph API as the dashboard calls it: Embedded Signup and the WhatsApp page's
    /// connection health. None: no call is made (the health block says "não verificado").
    pub graph: Option<whatsapp::graph::GraphClient>,
    /// Embedded Signup (`ORCAZAP_META_APP_ID`, `ORCAZAP_META_CONFIG_ID`, with
    /// `ORCAZAP_WHATSAPP_APP_SECRET`); None: the button is not shown, the manual form is the
    /// only way (docs/whatsapp.md).
    pub embedded_signup: Option<crate::dashboard::whatsapp_signup::EmbeddedSignup>,
}

impl std::fmt::Debug for WebConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebConfig")
            .field("base_domain", &self.base_domain)
            .field("https", &self.https)
            .field("demo", &self.demo)
            .field("billing", &self.billing.is_some())
            .field("embedded_signup", &self.embedded_signup)
            .finish_non_exhaustive()
    }
}

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    /// Stores webhook deliveries, several per transaction under load.
    pub recorder: store::recorder::Recorder,
    pub cfg: Arc<WebConfig>,
    pub cipher: TokenCipher,
    pub contexts: ContextCache,
    /// Wakes this process's worker after a webhook commits (SQLite has no NOTIFY).
    pub wake: Arc<Notify>,
    pub metrics: Option<PrometheusHandle>,
    pub http: reqwest::Client,
}

impl AppState {
    /// The web side's state, assembled the one way both `orcazap` and the test kit use:
    /// the webhook recorder started on `db`, an empty per-tenant context cache and the
    /// outbound HTTP client (10 s timeout: it only calls the process's own URLs and Meta).
    /// `wake` is the worker's wake-up when both run in this process.
    pub fn new(
        db: Db,
        cfg: WebConfig,
        cipher: TokenCipher,
        wake: Arc<Notify>,
        metrics: Option<PrometheusHandle>,
    ) -> Result<AppState, reqwest::Error> {
        Ok(AppState {
            recorder: store::recorder::Recorder::start(db.clone()),
            db,
            cfg: Arc::new(cfg),
            cipher,
            contexts: ContextCache::default(),
            wake,
            metrics,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()?,
        })
    }
}
