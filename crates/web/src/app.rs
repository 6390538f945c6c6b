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
use crate::state::AppState;
use crate::{health, layers, simulator, webhook};

struct Sites {
    base: String,
    apex: Router,
    api: Router,
    store: Router,
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

fn common(router: Router<AppState>) -> Router<AppState> {
    router
        .route("/health", get(health::health))
        .route("/ready", get(health::ready))
        .route("/metrics", get(health::metrics))
        .route("/static/{file}", get(static_file))
}

fn api_routes(state: &AppState) -> Router<AppState> {
    let mut r = Router::new()
        .route(
            "/webhooks/whatsapp",
            get(webhook::verify).post(webhook::receive),
        )
        .merge(crate::public::admin::routes(state));
    if state.cfg.demo {
        r = r.route(
            "/_fake_graph/{version}/{pnid}/messages",
            post(simulator::fake_graph),
        );
    }
    r
}

fn apex_routes(state: &AppState) -> Router<AppState> {
    let mut r = Router::new()
        .route("/", get(landing))
        .merge(crate::public::routes(state));
    if state.cfg.demo {
        r = r
            .route("/simulator", get(simulator::page))
            .route("/simulator/send", post(simulator::send))
            .route("/simulator/messages", get(simulator::messages));
    }
    r
}

fn finish(r: Router<AppState>, state: &AppState) -> Router {
    common(r)
        .route_layer(middleware::from_fn(route_metrics))
        .fallback(not_found)
        .with_state(state.clone())
}

/// What a worker-only process serves: `/health`, `/ready` and `/metrics` (its queue gauges
/// live in its own metrics registry), nothing else.
pub fn ops_router(state: AppState) -> Router {
    common(Router::new())
        .route_layer(middleware::from_fn(route_metrics))
        .fallback(not_found)
        .with_state(state.clone())
        .layer(middleware::from_fn_with_state(
            state,
            layers::security_headers,
        ))
        .layer(middleware::from_fn(layers::request_context))
}

pub fn build_router(state: AppState) -> Router {
    let sites = Arc::new(Sites {
        base: state.cfg.base_domain.clone(),
        apex: finish(apex_routes(&state), &state),
        api: finish(api_routes(&state), &state),
        store: finish(crate::store_routes(&state), &state),
        other: finish(apex_routes(&state).merge(api_routes(&state)), &state),
    });
    Router::new()
        .fallback(move |req: Request| {
            let sites = sites.clone();
            async move { dispatch(sites, req).await }
        })
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::storable_forms::form_nul,
        ))
        .layer(middleware::from_fn(layers::error_pages))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            layers::security_headers,
        ))
        .layer(middleware::from_fn(layers::request_context))
}

async fn dispatch(sites: Arc<Sites>, req: Request) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| req.uri().host())
        .unwrap_or("")
        .to_string();
    let router = match classify(&host, &sites.base) {
        Site::Apex => sites.apex.clone(),
        Site::Api => sites.api.clone(),
        Site::Store(_) => sites.store.clone(),
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
}

impl Application {
    /// Binds (port 0 picks a free port).
    pub async fn bind(addr: &str) -> std::io::Result<Application> {
        Ok(Application {
            listener: TcpListener::bind(addr).await?,
        })
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
        self.serve_router(build_router(state), shutdown).await
    }

    /// Serves the operations endpoints only (worker-only processes).
    pub async fn serve_ops(
        self,
        state: AppState,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        self.serve_router(ops_router(state), shutdown).await
    }

    async fn serve_router(
        self,
        router: Router,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(
            self.listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await
    }
}
