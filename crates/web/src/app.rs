//! Building the router and serving it.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{MatchedPath, Path, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tokio::net::TcpListener;
use tower::ServiceExt;

use crate::error::AppError;
use crate::host::{classify, Site};
use crate::server::ServerTimeouts;
use crate::state::AppState;
use crate::{health, layers, simulator, webhook};

/// One router per kind of host; [`dispatch`] picks it from the Host header.
struct Sites {
    base: String,
    apex: Router,
    api: Router,
    store: Router,
    /// A bare IP address (and, in demo mode, a loopback one for the fake Graph API).
    address: Router,
    address_demo: Router,
    other: Router,
}

/// Records HTTP metrics by route template (after routing, so the template is known).
async fn route_metrics(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().as_str().to_string();
    let started = std::time::Instant::now();
    let resp = next.run(req).await;
    metrics::counter!("orcazap_http_requests_total", "route" => route.clone(), "method" => method.clone(), "status" => resp.status().as_u16().to_string())
        .increment(1);
    metrics::histogram!("orcazap_http_request_duration_seconds", "route" => route, "method" => method).record(started.elapsed().as_secs_f64());
    resp
}

/// `/health` and `/ready` answer on every host (SPEC §1): the proxy's and the container's
/// health checks address the process by IP, or by whatever name they were given.
fn probes(router: Router<AppState>) -> Router<AppState> {
    router
        .route("/health", get(health::health))
        .route("/ready", get(health::ready))
}

/// `/metrics`: only on `api.BASE` and on a bare IP address (Prometheus scrapes each process
/// on its private address, and the Host it sends is that address). Never on the public
/// site, a store's host or an unknown name.
fn with_metrics(router: Router<AppState>) -> Router<AppState> {
    router.route("/metrics", get(health::metrics))
}

/// The pages' CSS and scripts, on the hosts that serve pages.
fn with_static(router: Router<AppState>) -> Router<AppState> {
    router.route("/static/{file}", get(static_file))
}

fn api_routes(state: &AppState) -> Router<AppState> {
    let r = Router::new()
        .route(
            "/webhooks/whatsapp",
            get(webhook::verify).post(webhook::receive),
        )
        .route("/webhooks/stripe", post(crate::billing::webhook))
        .merge(crate::public::admin::routes(state));
    if state.cfg.demo {
        fake_graph(r)
    } else {
        r
    }
}

/// Demo only: the fake Graph API, on `api.BASE` and on the loopback address the demo's own
/// Graph client calls.
fn fake_graph(r: Router<AppState>) -> Router<AppState> {
    r.route(
        "/_fake_graph/{version}/{pnid}/messages",
        post(simulator::fake_graph),
    )
    // Issue 16: the customer media the simulator sent (Meta's look-up, then the download).
    .route(
        "/_fake_graph/{version}/{media_id}",
        get(simulator::fake_graph_media_info),
    )
    .route(
        "/_fake_graph/download/{media_id}",
        get(simulator::fake_graph_download),
    )
    .route(
        "/_fake_graph/{version}/{waba_id}/message_templates",
        get(simulator::fake_graph_template_list).post(simulator::fake_graph_template_submit),
    )
    .route(
        "/_fake_graph/{version}/{pnid}/media",
        post(simulator::fake_graph_media).layer(axum::extract::DefaultBodyLimit::max(
            whatsapp::mock::rules::DOCUMENT_BYTES_MAX,
        )),
    )
}

fn apex_routes(state: &AppState) -> Router<AppState> {
    let mut r = Router::new()
        .route("/", get(landing))
        .merge(crate::public::routes(state))
        .merge(crate::public::quote_routes());
    if state.cfg.demo {
        let simulator = Router::new()
            .route("/simulator", get(simulator::page))
            .route("/simulator/send", post(simulator::send))
            .route("/simulator/messages", get(simulator::messages))
            .route("/simulator/conversa", get(simulator::conversation))
            .route_layer(middleware::from_fn_with_state(
                state.clone(),
                bare_base_only,
            ));
        r = r.merge(simulator);
    }
    r
}

/// The simulator lives on `BASE` itself (`http://localhost:8080/simulator`), not on
/// `www.BASE`, which shares the apex router.
async fn bare_base_only(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match classify(request_host(&req), &state.cfg.base_domain) {
        Site::Apex { www: false } => next.run(req).await,
        _ => AppError::NotFound.into_response(),
    }
}

fn finish(r: Router<AppState>, state: &AppState) -> Router {
    r.route_layer(middleware::from_fn(route_metrics))
        .fallback(not_found)
        .with_state(state.clone())
}

/// What a worker-only process serves: `/health`, `/ready` and `/metrics` (its queue gauges
/// live in its own metrics registry), nothing else. Its listener is private (never behind
/// the public proxy), so these answer on any host.
pub fn ops_router(state: AppState) -> Router {
    finish(with_metrics(probes(Router::new())), &state)
        .layer(middleware::from_fn(layers::no_store_by_default))
        .layer(middleware::from_fn_with_state(
            state,
            layers::security_headers,
        ))
        .layer(middleware::from_fn(layers::request_context))
}

pub fn build_router(state: AppState) -> Router {
    let sites = Arc::new(Sites {
        base: state.cfg.base_domain.clone(),
        apex: finish(with_static(probes(apex_routes(&state))), &state),
        api: finish(
            with_static(with_metrics(probes(api_routes(&state)))),
            &state,
        ),
        store: finish(with_static(probes(crate::store_routes(&state))), &state),
        address: finish(with_metrics(probes(Router::new())), &state),
        // `orcazap demo` points the real Graph client at this process's own address.
        address_demo: finish(fake_graph(with_metrics(probes(Router::new()))), &state),
        other: finish(probes(Router::new()), &state),
    });
    let demo = state.cfg.demo;
    Router::new()
        .fallback(move |req: Request| {
            let sites = sites.clone();
            async move { dispatch(sites, demo, req).await }
        })
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::storable_forms::form_nul,
        ))
        .layer(middleware::from_fn(layers::error_pages))
        .layer(middleware::from_fn(layers::no_store_by_default))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            layers::security_headers,
        ))
        .layer(middleware::from_fn(layers::request_context))
}

/// The Host header (HTTP/1.1), or the authority of an absolute request URI.
fn request_host(req: &Request) -> &str {
    req.headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| req.uri().host())
        .unwrap_or("")
}

async fn dispatch(sites: Arc<Sites>, demo: bool, req: Request) -> Response {
    let router = match classify(request_host(&req), &sites.base) {
        Site::Apex { .. } => sites.apex.clone(),
        Site::Api => sites.api.clone(),
        Site::Store(_) => sites.store.clone(),
        Site::Address(ip) if demo && (ip.is_loopback() || ip.is_unspecified()) => {
            sites.address_demo.clone()
        }
        Site::Address(_) => sites.address.clone(),
        Site::Other => sites.other.clone(),
    };
    match router.oneshot(req).await {
        Ok(r) => r,
        Err(never) => match never {},
    }
}

async fn not_found() -> AppError {
    AppError::NotFound
}

async fn landing(State(state): State<AppState>) -> Result<Html<String>, AppError> {
    let port = state
        .cfg
        .self_url
        .rsplit(':')
        .next()
        .unwrap_or("8080")
        .to_string();
    crate::render::page(
        "landing.html",
        minijinja::context! { demo => state.cfg.demo, demo_dashboard => format!("http://demo.{}:{}/", state.cfg.base_domain, port) },
    )
}

/// Static assets embedded in the binary (htmx, CSS, the simulator script).
pub const STATIC: &[(&str, &str, &str)] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("../static/app.css"),
    ),
    (
        "simulator.js",
        "text/javascript; charset=utf-8",
        include_str!("../static/simulator.js"),
    ),
    (
        "htmx.min.js",
        "text/javascript; charset=utf-8",
        include_str!("../static/htmx.min.js"),
    ),
    (
        "dashboard.js",
        "text/javascript; charset=utf-8",
        include_str!("../static/dashboard.js"),
    ),
    (
        "whatsapp_signup.js",
        "text/javascript; charset=utf-8",
        include_str!("../static/whatsapp_signup.js"),
    ),
    (
        "quote.js",
        "text/javascript; charset=utf-8",
        include_str!("../static/quote.js"),
    ),
    (
        "quote.css",
        "text/css; charset=utf-8",
        include_str!("../static/quote.css"),
    ),
    (
        "dashboard.css",
        "text/css; charset=utf-8",
        include_str!("../static/dashboard.css"),
    ),
];

async fn static_file(Path(file): Path<String>) -> Response {
    match STATIC.iter().find(|(name, _, _)| *name == file) {
        Some((_, ctype, body)) => (
            [
                (header::CONTENT_TYPE, *ctype),
                (header::CACHE_CONTROL, "public, max-age=3600"),
            ],
            *body,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

/// A bound listener and the router: `main` and the tests start the app the same way.
pub struct Application {
    listener: TcpListener,
    timeouts: ServerTimeouts,
}

impl Application {
    /// Binds (port 0 picks a free port).
    pub async fn bind(addr: &str) -> std::io::Result<Application> {
        Ok(Application {
            listener: TcpListener::bind(addr).await?,
            timeouts: ServerTimeouts::default(),
        })
    }

    /// Connection timeouts (`ORCAZAP_HTTP_HEADER_TIMEOUT_MS`).
    pub fn with_timeouts(mut self, timeouts: ServerTimeouts) -> Application {
        self.timeouts = timeouts;
        self
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests.
    pub async fn serve(
        self,
        state: AppState,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        crate::server::serve(self.listener, build_router(state), self.timeouts, shutdown).await
    }

    /// Serves the operations endpoints only (worker-only processes).
    pub async fn serve_ops(
        self,
        state: AppState,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        crate::server::serve(self.listener, ops_router(state), self.timeouts, shutdown).await
    }
}
