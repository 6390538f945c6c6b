//! Wiring: logging, metrics, database, web and worker in one process (or either alone),
//! with graceful shutdown on SIGTERM / Ctrl-C.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::sync::{watch, Notify};

use crate::config::{Config, LogFormat};

pub fn init_logging(cfg: &Config) {
    use secrecy::ExposeSecret;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::{EnvFilter, Layer};
    // Config::from_map checked the filter (a bad one was replaced by the default).
    let filter = EnvFilter::new(&cfg.log_filter);
    let fmt = match cfg.log_format {
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_writer(std::io::stderr)
            .boxed(),
        LogFormat::Pretty => tracing_subscriber::fmt::layer()
            .compact()
            .with_writer(std::io::stderr)
            .boxed(),
    };
    let sentry = cfg.sentry_dsn.as_ref().and_then(|dsn| {
        let env = match cfg.env {
            crate::config::Env::Production => "production",
            crate::config::Env::Development => "development",
        };
        match crate::sentry::SentryLayer::new(dsn.expose_secret(), env) {
            Ok(l) => Some(l),
            Err(e) => {
                eprintln!("aviso: rastreamento de erros desligado: {e}");
                None
            }
        }
    });
    let installed = tracing_subscriber::registry()
        .with(filter)
        .with(fmt)
        .with(sentry.clone())
        .try_init()
        .is_ok();
    if let (true, Some(l)) = (installed, sentry) {
        l.install_panic_hook();
    }
    for w in &cfg.warnings {
        tracing::warn!("{w}");
    }
}

pub fn init_metrics() -> Option<PrometheusHandle> {
    let buckets = [
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    ];
    metrics_exporter_prometheus::PrometheusBuilder::new()
        .set_buckets(&buckets)
        .ok()?
        .set_buckets_for_metric(
            metrics_exporter_prometheus::Matcher::Full("orcazap_webhook_batch_size".into()),
            &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0],
        )
        .ok()?
        // A transcription takes seconds, up to ORCAZAP_TRANSCRIBE_TIMEOUT_MS (issue 16).
        .set_buckets_for_metric(
            metrics_exporter_prometheus::Matcher::Full(
                "orcazap_voice_transcription_seconds".into(),
            ),
            &[0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 8.0, 13.0, 20.0, 30.0, 60.0],
        )
        .ok()?
        .install_recorder()
        .ok()
}

pub async fn connect(cfg: &Config) -> anyhow::Result<store::Db> {
    let e = match store::Db::connect(&cfg.db_config()).await {
        Ok(db) => return Ok(db),
        Err(e) => e,
    };
    let shown = store::db::redact_url(&cfg.database_url);
    // sqlx retries a refused connection until the acquire timeout and then says only "pool
    // timed out": one plain TCP connection names the real problem (issue 12 item 8).
    let why = match postgres_address(&cfg.database_url) {
        Some(addr) if e.to_string().contains("timed out") => {
            let tcp = tokio::net::TcpStream::connect(&addr);
            match tokio::time::timeout(Duration::from_secs(3), tcp).await {
                Ok(Err(io)) if io.kind() == std::io::ErrorKind::ConnectionRefused => format!(
                    "o servidor {addr} recusou a conexão (o PostgreSQL está rodando nesse endereço e porta?)"
                ),
                Ok(Err(io)) => format!("não foi possível alcançar {addr}: {io}"),
                Err(_) => format!("{addr} não respondeu em 3 s (endereço ou firewall?)"),
                Ok(Ok(_)) => format!(
                    "{addr} aceita conexões, mas o banco não liberou nenhuma a tempo: {e}"
                ),
            }
        }
        _ => e.to_string(),
    };
    Err(anyhow::anyhow!(
        "não foi possível conectar ao banco {shown}: {why}"
    ))
}

/// `host:port` of a `postgres://` URL (port 5432 when absent), for a plain TCP probe.
fn postgres_address(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))?;
    let authority = rest.split(['/', '?']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host_port.is_empty() {
        return None;
    }
    let has_port = match host_port.rsplit_once(']') {
        Some((_, after)) => after.starts_with(':'),
        None => host_port.contains(':'),
    };
    Some(if has_port {
        host_port.to_string()
    } else {
        format!("{host_port}:5432")
    })
}

/// Applies migrations when allowed; otherwise refuses to run on an old schema.
pub async fn ensure_schema(db: &store::Db, cfg: &Config) -> anyhow::Result<()> {
    if cfg.auto_migrate {
        let ran = store::migrate::up(db)
            .await
            .context("aplicando as migrações")?;
        if !ran.is_empty() {
            tracing::info!(versions = ?ran, "migrations applied");
        }
    } else if !store::migrate::is_current(db).await.unwrap_or(false) {
        anyhow::bail!("o esquema do banco não está atualizado: rode `orcazap migrate up` antes (ORCAZAP_AUTO_MIGRATE está desligado)");
    }
    Ok(())
}

pub fn graph_client(cfg: &Config) -> anyhow::Result<whatsapp::graph::GraphClient> {
    let gc = whatsapp::graph::GraphConfig {
        base_url: cfg.whatsapp_api_base.clone(),
        api_version: cfg.whatsapp_api_version.clone(),
        connect_timeout: Duration::from_secs(5),
        request_timeout: cfg.graph_timeout,
        ..Default::default()
    };
    whatsapp::graph::GraphClient::new(gc).map_err(|e| anyhow::anyhow!("cliente da Graph API: {e}"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Roles {
    Both,
    WebOnly,
    WorkerOnly,
}

/// Extra settings for `orcazap demo`.
#[derive(Debug, Clone, Default)]
pub struct DemoOptions {
    pub enabled: bool,
}

/// Resolves when the process is asked to stop.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutdown requested");
}

/// A running instance (web and/or worker) of this process.
pub struct Running {
    /// Where the web side listens, when it runs.
    pub addr: Option<std::net::SocketAddr>,
    /// The web side's state (tests reach the database and the wake-up through it).
    pub state: Option<web::AppState>,
    stop: watch::Sender<bool>,
    web: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    worker: Option<tokio::task::JoinHandle<()>>,
    backup: Option<tokio::task::JoinHandle<()>>,
    db: store::Db,
}

impl Running {
    /// Graceful stop: the web side finishes in-flight requests, the worker finishes or
    /// releases its jobs.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        if let Some(t) = self.web {
            if let Ok(Err(e)) = t.await {
                tracing::error!(error = %e, "web server error");
            }
        }
        if let Some(t) = self.worker {
            let _ = t.await;
        }
        if let Some(t) = self.backup {
            let _ = t.await;
        }
        self.db.close().await;
    }
}

/// Production serves `/metrics` only behind a token: without one, anyone who reaches the
/// process's address (another tenant's workload on the private network, a proxy rule
/// gone wrong) reads the platform's traffic and queue figures. Checked when serving, not
/// for one-off commands such as `migrate`.
pub fn check_serving_config(cfg: &Config) -> anyhow::Result<()> {
    use secrecy::ExposeSecret;
    if cfg.env != crate::config::Env::Production {
        return Ok(());
    }
    match &cfg.metrics_token {
        None => anyhow::bail!(
            "ORCAZAP_ENV=production requires ORCAZAP_METRICS_TOKEN (the bearer token Prometheus sends to /metrics; e.g. `openssl rand -hex 32`)"
        ),
        Some(t) if t.expose_secret().len() < 32 => {
            anyhow::bail!("ORCAZAP_METRICS_TOKEN precisa de pelo menos 32 caracteres em produção")
        }
        Some(_) => Ok(()),
    }
}

/// Starts the chosen roles and returns at once.
pub async fn start(
    cfg: Config,
    db: store::Db,
    roles: Roles,
    demo: DemoOptions,
    metrics: Option<PrometheusHandle>,
) -> anyhow::Result<Running> {
    check_serving_config(&cfg)?;
    if metrics.is_some() {
        // Every family exists from the first scrape, at zero (issue 14 item 4): the web
        // side's in every process (each serves HTTP), the worker's where jobs run.
        web::families::register();
        if roles != Roles::WebOnly {
            worker::families::register();
            if let Some(llm) = &cfg.llm {
                worker::assistant::register_metrics(llm.limits.monthly_budget_cents);
            }
        }
    }
    let wake = Arc::new(Notify::new());
    let cipher = cfg.cipher();
    let (stop_tx, stop_rx) = watch::channel(false);
    // Worker-only processes listen too, for /health, /ready and /metrics only.
    let app = Some(
        web::Application::bind(&cfg.listen)
            .await
            .with_context(|| format!("listening on {}", cfg.listen))?
            .with_timeouts(web::ServerTimeouts {
                header_read: cfg.http_header_timeout,
            }),
    );
    let self_url = match &app {
        Some(a) => format!("http://{}", a.local_addr()?),
        None => String::new(),
    };
    let mut cfg = cfg;
    if demo.enabled {
        // The real Graph client and send path, pointed at this process's fake endpoint.
        cfg.whatsapp_api_base = format!("{self_url}/_fake_graph");
    }
    let mut worker_task = None;
    if roles != Roles::WebOnly {
        let mut wc = worker::WorkerConfig::new(format!(
            "{}-{}-{}",
            hostname(),
            std::process::id(),
            &store::new_id()[24..]
        ));
        wc.concurrency = cfg.worker_concurrency;
        wc.job_timeout = cfg.job_timeout;
        // A job never runs past its timeout, so a lease a little longer is enough; a crashed
        // worker's jobs come back that much sooner.
        wc.lease = cfg.job_timeout + Duration::from_secs(10);
        wc.webhook_retention = cfg.webhook_retention;
        wc.public_url = public_url(&cfg, &self_url);
        wc.cep_api_base = cfg.cep_api_base.clone();
        wc.cep_provider = cfg.cep_provider.clone();
        wc.llm = cfg.llm.clone();
        wc.media = cfg.media;
        wc.mail = worker::email::MailConfig {
            smtp_url: cfg
                .smtp_url
                .as_ref()
                .map(|u| secrecy::ExposeSecret::expose_secret(u).to_string()),
            from: cfg.mail_from.clone(),
            // Without SMTP, development writes e-mails (and their links) to the log;
            // production never does.
            log_when_off: cfg.env != crate::config::Env::Production,
            ..Default::default()
        };
        if demo.enabled {
            wc.retry_base = Duration::from_millis(500);
        }
        let mut w = worker::Worker::new(
            db.clone(),
            graph_client(&cfg)?,
            cipher.clone(),
            wc,
            wake.clone(),
        );
        // Voice notes (issue 16): written down by the configured provider, or handed to a
        // person with "transcrição desligada" when none is.
        match &cfg.transcribe {
            Some(t) => {
                let provider = voice::HttpTranscriber::new(t.clone())
                    .context("ORCAZAP_TRANSCRIBE_BASE_URL")?;
                tracing::info!(url = provider.url(), model = %t.model, "voice notes are transcribed");
                w = w.with_transcriber(Arc::new(provider));
            }
            None => tracing::info!(
                "voice notes go to a person: no ORCAZAP_TRANSCRIBE_BASE_URL (docs/voice-notes.md)"
            ),
        }
        let w = Arc::new(w);
        worker_task = Some(tokio::spawn(w.run(stop_rx.clone())));
    }
    // Scheduled backups belong to the worker side (the web side stays request-only).
    let backup_task = match (&cfg.backup_dir, roles) {
        (Some(dir), Roles::Both | Roles::WorkerOnly) => {
            let schedule = crate::backup::Schedule {
                dir: dir.clone(),
                interval: cfg.backup_interval,
                keep: cfg.backup_keep,
            };
            tracing::info!(dir = %dir.display(), every_hours = cfg.backup_interval.as_secs() / 3600, keep = cfg.backup_keep, "scheduled backups on");
            Some(tokio::spawn(crate::backup::scheduled(
                db.clone(),
                cfg.database_url.clone(),
                schedule,
                stop_rx.clone(),
            )))
        }
        _ => None,
    };
    let mut web_task = None;
    let mut addr = None;
    let mut state_out = None;
    if let Some(app) = app {
        addr = Some(app.local_addr()?);
        let web_cfg = web::WebConfig {
            base_domain: cfg.base_domain.clone(),
            https: cfg.https,
            whatsapp_app_secret: cfg.whatsapp_app_secret.clone(),
            whatsapp_verify_token: cfg.whatsapp_verify_token.clone(),
            metrics_token: cfg.metrics_token.clone(),
            admin_token: cfg.admin_token.clone(),
            trusted_proxies: cfg.trusted_proxies.clone(),
            webhook_body_limit: cfg.webhook_body_limit,
            form_body_limit: 2 * 1024 * 1024,
            heartbeat_max_age: Duration::from_secs(60),
            demo: demo.enabled,
            demo_phone_number_id: store::seed::DEMO_PHONE_NUMBER_ID.to_string(),
            self_url: self_url.clone(),
            billing: cfg.billing.as_ref().map(|b| b.web()),
            llm_budget_cents: cfg.llm.as_ref().map(|l| l.limits.monthly_budget_cents),
            email_on: cfg.smtp_url.is_some(),
            admin_totp_secret: cfg.admin_totp_secret.clone(),
            graph: Some(graph_client(&cfg)?),
            embedded_signup: cfg.meta_signup.as_ref().map(|(app_id, config_id)| {
                web::dashboard::whatsapp_signup::EmbeddedSignup {
                    app_id: app_id.clone(),
                    config_id: config_id.clone(),
                    sdk_version: cfg.whatsapp_api_version.clone(),
                }
            }),
        };
        let state = web::AppState::new(db.clone(), web_cfg, cipher, wake.clone(), metrics)?;
        state_out = Some(state.clone());
        let mut stop = stop_rx.clone();
        let ops_only = roles == Roles::WorkerOnly;
        web_task = Some(tokio::spawn(async move {
            let shutdown = async move {
                let _ = stop.changed().await;
            };
            if ops_only {
                app.serve_ops(state, shutdown).await
            } else {
                app.serve(state, shutdown).await
            }
        }));
        tracing::info!(addr = %self_url, "listening");
    }
    Ok(Running {
        addr,
        state: state_out,
        stop: stop_tx,
        web: web_task,
        worker: worker_task,
        backup: backup_task,
        db,
    })
}

/// Runs the chosen roles until a shutdown signal. `on_listen` is told the bound address.
pub async fn serve(
    cfg: Config,
    db: store::Db,
    roles: Roles,
    demo: DemoOptions,
    metrics: Option<PrometheusHandle>,
    on_listen: impl FnOnce(std::net::SocketAddr),
) -> anyhow::Result<()> {
    let running = start(cfg, db, roles, demo, metrics).await?;
    if let Some(addr) = running.addr {
        on_listen(addr);
    }
    shutdown_signal().await;
    running.stop().await;
    Ok(())
}

fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "orcazap".into())
}

/// Where customers open public pages (the quote links the worker signs): `https://BASE`
/// behind TLS (the proxy answers on 443), `http://BASE:PORT` otherwise (development and the
/// demo serve every host on the listener's port).
pub fn public_url(cfg: &Config, self_url: &str) -> String {
    if cfg.https {
        return format!("https://{}", cfg.base_domain);
    }
    match self_url.rsplit_once(':') {
        Some((_, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => {
            format!("http://{}:{port}", cfg.base_domain)
        }
        _ => format!("http://{}", cfg.base_domain),
    }
}
