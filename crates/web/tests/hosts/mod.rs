//! Host routing and caching against a real server (port 0), both engines (issue 10 item 10
//! and the `no-store` finding): each surface answers on its own host only, unknown hosts
//! get 404 (except the health probes, which SPEC §1 puts on every host), and nothing a
//! user is shown may be stored by a cache. A module of the `dashboard_security` test binary.

use reqwest::StatusCode;
use testkit::*;

both_engines!(
    TestApp;
    each_surface_answers_only_on_its_host,
    dashboard_and_authenticated_responses_are_no_store,
);

/// Every kind of host a request can name, by label.
fn hosts(app: &TestApp) -> Vec<(&'static str, String)> {
    let p = app.addr.port();
    vec![
        ("apex", format!("localhost:{p}")),
        ("www", format!("www.localhost:{p}")),
        ("api", format!("api.localhost:{p}")),
        ("store", format!("demo.localhost:{p}")),
        ("reserved", format!("admin.localhost:{p}")),
        ("foreign", "evil.com".to_string()),
        ("address", format!("127.0.0.1:{p}")),
        ("address6", format!("[::1]:{p}")),
    ]
}

async fn get(app: &TestApp, host: &str, path: &str, auth: Option<&str>) -> reqwest::Response {
    let mut r = app.get_on(host, path);
    if let Some(a) = auth {
        r = r.header("authorization", a);
    }
    r.answer().await
}

/// Asserts `path` answers `ok` exactly on the hosts labelled in `on`, and 404 elsewhere.
async fn only_on(app: &TestApp, path: &str, auth: Option<&str>, on: &[&str], ok: StatusCode) {
    for (label, host) in hosts(app) {
        let status = get(app, &host, path, auth).await.status();
        if on.contains(&label) {
            assert_eq!(status, ok, "{path} on {label} ({host})");
        } else {
            assert_eq!(status, 404, "{path} must not answer on {label} ({host})");
        }
    }
}

async fn signed_webhook(app: &TestApp, host: &str, wamid: &str) -> reqwest::Response {
    let body = whatsapp::webhook::build_text_webhook(
        &app.demo.pnid,
        "5511933334444",
        "5511977776666",
        Some("Cliente"),
        wamid,
        "oi",
        store::now_ms() / 1000,
    );
    app.webhook_on(host, body).answer().await
}

async fn webhook_events(app: &TestApp) -> i64 {
    sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM webhook_events")
        .fetch_one(app.db.read())
        .await
        .unwrap()
}

async fn each_surface_answers_only_on_its_host(app: &TestApp) {
    let operator = format!("Bearer {ADMIN_TOKEN}");
    // The operator page: api.BASE only (a proxy's allow-list for api.BASE/admin must not be
    // walked around with another Host).
    only_on(app, "/admin", Some(&operator), &["api"], StatusCode::OK).await;
    // Central login and sign-up: the public site; the store host has its own /login.
    only_on(app, "/signup", None, &["apex", "www"], StatusCode::OK).await;
    only_on(
        app,
        "/login",
        None,
        &["apex", "www", "store"],
        StatusCode::OK,
    )
    .await;
    // The landing page and the dashboard (a redirect to its login) share "/"; other hosts
    // get neither.
    for (label, host) in hosts(app) {
        let status = get(app, &host, "/", None).await.status();
        let expected = match label {
            "apex" | "www" => 200,
            "store" => 303,
            _ => 404,
        };
        assert_eq!(status, expected, "/ on {label} ({host})");
    }
    only_on(
        app,
        "/static/app.css",
        None,
        &["apex", "www", "api", "store"],
        StatusCode::OK,
    )
    .await;
    // A store that does not exist is an unknown host for its dashboard.
    let ghost = format!("naoexiste.localhost:{}", app.addr.port());
    assert_eq!(get(app, &ghost, "/login", None).await.status(), 404);

    // Health probes answer everywhere (SPEC §1; the proxy and the container check by IP).
    for (label, host) in hosts(app).into_iter().chain([("ghost", ghost)]) {
        let h = get(app, &host, "/health", None).await;
        assert_eq!(h.status(), 200, "/health on {label}");
        let r = get(app, &host, "/ready", None).await.status();
        assert!(r == 200 || r == 503, "/ready on {label}: {r}");
    }

    // Meta's webhook: api.BASE only, and a delivery to another host stores nothing.
    let before = webhook_events(app).await;
    for (label, host) in hosts(app) {
        let r = signed_webhook(app, &host, &format!("wamid.HOST{label}")).await;
        if label == "api" {
            r.expect_status_because(200, "webhook on api");
        } else {
            r.expect_status_because(404, &format!("webhook must not answer on {label} ({host})"));
        }
    }
    assert_eq!(
        webhook_events(app).await,
        before + 1,
        "only the delivery to api.BASE is recorded"
    );
}

async fn dashboard_and_authenticated_responses_are_no_store(app: &TestApp) {
    let owner = app.as_owner().await;
    for path in [
        "/",
        "/aprovacoes",
        "/conversas",
        "/orcamentos",
        "/catalogo",
        "/catalogo/exportar.csv",
        "/regras",
        "/frete",
        "/modelos",
        "/equipe",
        "/whatsapp",
        "/conta/senha",
    ] {
        let r = owner
            .get(path)
            .answer()
            .await
            .expect_status_because(200, path);
        assert_eq!(
            r.header_text("cache-control"),
            Some("no-store"),
            "{path} must not be cached"
        );
    }
    assert!(
        owner
            .page("/catalogo/exportar.csv")
            .await
            .contains("cimento"),
        "the export itself"
    );
    // Forms with CSRF tokens and the operator page.
    let operator = format!("Bearer {ADMIN_TOKEN}");
    let api = format!("api.localhost:{}", app.addr.port());
    let apex = format!("localhost:{}", app.addr.port());
    for (host, path, auth) in [
        (app.host("demo"), "/login", None),
        (apex.clone(), "/login", None),
        (apex, "/signup", None),
        (api, "/admin", Some(operator.as_str())),
    ] {
        let r = get(app, &host, path, auth)
            .await
            .expect_status_because(200, &format!("{host}{path}"));
        assert_eq!(
            r.header_text("cache-control"),
            Some("no-store"),
            "{host}{path}"
        );
    }
    // Static assets stay cacheable.
    let css = app.get("demo", "/static/app.css", None).answer().await;
    assert_eq!(
        css.header_text("cache-control"),
        Some("public, max-age=3600")
    );
}
