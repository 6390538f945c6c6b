//! `/health`, `/ready` and `/metrics`, on every host.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use secrecy::ExposeSecret;
use subtle::ConstantTimeEq;

use crate::state::AppState;

/// The process is alive.
pub async fn health() -> impl IntoResponse {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        r#"{"status":"ok"}"#,
    )
}

/// The readiness checks, also refreshed on every `/metrics` scrape so the `orcazap_ready`
/// and heartbeat gauges are current even when nothing calls `/ready`.
async fn readiness(state: &AppState) -> (bool, serde_json::Value) {
    let db_ok = state.db.ping().await.is_ok();
    let migrations_ok = db_ok && store::migrate::is_current(&state.db).await.unwrap_or(false);
    let beat = if db_ok {
        store::jobs::last_worker_beat(&state.db)
            .await
            .ok()
            .flatten()
    } else {
        None
    };
    let age_ms = beat.map(|b| store::now_ms() - b);
    let worker_ok = age_ms.is_some_and(|a| a <= state.cfg.heartbeat_max_age.as_millis() as i64);
    // No heartbeat at all (no worker ever ran, or the database is away) is an infinitely
    // old one: the series exists from the first scrape and the stale-worker alert fires.
    let age_s = age_ms.map_or(f64::INFINITY, |a| a as f64 / 1000.0);
    metrics::gauge!("orcazap_worker_heartbeat_age_seconds").set(age_s);
    let ok = db_ok && migrations_ok && worker_ok;
    metrics::gauge!("orcazap_ready").set(if ok { 1.0 } else { 0.0 });
    let body = serde_json::json!({
        "status": if ok { "ready" } else { "not_ready" },
        "database": db_ok,
        "migrations_current": migrations_ok,
        "worker_heartbeat_age_ms": age_ms,
        "worker_alive": worker_ok,
    });
    (ok, body)
}

/// Ready to take traffic: database reachable, migrations current, a worker alive.
pub async fn ready(State(state): State<AppState>) -> Response {
    let (ok, body) = readiness(&state).await;
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// Prometheus text format. Protected by a bearer token when one is configured.
pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(expected) = &state.cfg.metrics_token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if !bool::from(given.as_bytes().ct_eq(expected.expose_secret().as_bytes())) {
            return (
                StatusCode::UNAUTHORIZED,
                "token de métricas ausente ou inválido",
            )
                .into_response();
        }
    }
    let Some(handle) = &state.metrics else {
        return (StatusCode::NOT_FOUND, "métricas desativadas").into_response();
    };
    readiness(&state).await;
    for (pool, in_use, idle, max) in state.db.pool_stats() {
        metrics::gauge!("orcazap_db_pool_connections", "pool" => pool, "state" => "in_use")
            .set(in_use as f64);
        metrics::gauge!("orcazap_db_pool_connections", "pool" => pool, "state" => "idle")
            .set(idle as f64);
        metrics::gauge!("orcazap_db_pool_connections", "pool" => pool, "state" => "max")
            .set(max as f64);
    }
    if let Some(rss) = resident_memory_bytes() {
        metrics::gauge!("orcazap_process_resident_memory_bytes").set(rss as f64);
    }
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        handle.render(),
    )
        .into_response()
}

/// RSS from /proc (Linux); None elsewhere.
fn resident_memory_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}
