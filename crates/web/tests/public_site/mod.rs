//! The public site against a real server (port 0) on a fresh database: central login with
//! its hand-off to the store's host, and sign-up. SQLite always, PostgreSQL too when
//! `ORCAZAP_TEST_POSTGRES_URL` is set. A module of the `dashboard_security` test binary so
//! the shared harness is compiled once.

use crate::dashboard_support::*;
use reqwest::header::{HOST, LOCATION};
use store::users::Role;

both_engines!(
    central_login_lands_on_the_store_with_a_working_session,
    central_login_with_several_stores_offers_a_choice,
    handoff_token_is_single_use_short_lived_and_store_bound,
    central_login_wrong_password_and_csrf,
    central_login_locks_out_like_the_store_login,
    signup_creates_the_store_and_lands_in_its_dashboard,
    signup_refuses_taken_reserved_and_invalid_input,
);

const SOLO_EMAIL: &str = "solo@demo.com.br";

fn apex(app: &TestApp) -> String {
    format!("localhost:{}", app.addr.port())
}

async fn add_solo_user(app: &TestApp) {
    let hash = web::auth::password::hash(PASSWORD).unwrap();
    let tid = app.demo.tenant_id.clone();
    app.db
        .tx(move |c| {
            Box::pin(async move {
                store::users::create(c, &tid, SOLO_EMAIL, "Solo", &hash, Role::Attendant).await?;
                Ok(())
            })
        })
        .await
        .unwrap();
}

/// The apex form's CSRF field and its double-submit cookie value.
async fn apex_form(app: &TestApp, path: &str, cookie: &str) -> (String, String) {
    let r = app
        .http
        .get(app.url(path))
        .header(HOST, apex(app))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let c = cookie_from(r.headers(), cookie).expect("csrf cookie");
    let html = r.text().await.unwrap();
    (hidden_csrf(&html).expect("csrf field"), c)
}

async fn central_login(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    let (csrf, cookie) = apex_form(app, "/login", "oz_login_csrf").await;
    app.http
        .post(app.url("/login"))
        .header(HOST, apex(app))
        .header("cookie", format!("oz_login_csrf={cookie}"))
        .form(&[("email", email), ("password", password), ("csrf", &csrf)])
        .send()
        .await
        .unwrap()
}

/// Splits `http://demo.localhost:PORT/login/handoff?token=T` into (host, path+query).
fn split_url(url: &str) -> (String, String) {
    let rest = url.strip_prefix("http://").expect("http url");
    let i = rest.find('/').unwrap();
    (rest[..i].to_string(), rest[i..].to_string())
}

async fn follow_handoff(app: &TestApp, url: &str) -> reqwest::Response {
    let (host, path) = split_url(url);
    app.http
        .get(app.url(&path))
        .header(HOST, host)
        .send()
        .await
        .unwrap()
}

async fn central_login_lands_on_the_store_with_a_working_session(app: &TestApp) {
    add_solo_user(app).await;
    let r = central_login(app, SOLO_EMAIL, PASSWORD).await;
    assert_eq!(r.status(), 303);
    let loc = r.headers()[LOCATION].to_str().unwrap().to_string();
    assert!(
        loc.starts_with(&format!("http://{}/login/handoff?token=", app.host("demo"))),
        "{loc}"
    );
    assert!(
        session_cookie(r.headers()).is_none(),
        "the apex sets no session"
    );
    let h = follow_handoff(app, &loc).await;
    assert_eq!(h.status(), 303);
    assert_eq!(h.headers()[LOCATION], "/");
    let line = set_cookie_line(h.headers(), "oz_session").expect("session cookie");
    assert!(!line.contains("Domain="), "host-only: {line}");
    let tok = session_cookie(h.headers()).unwrap();
    assert!(
        !loc.contains(&tok),
        "the session id is new, not the hand-off token"
    );
    let page = app.get("demo", "/", Some(&tok)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Depósito Demo"));
    // The session works for writes too (its CSRF token is in the page).
    let csrf = app.csrf("demo", &tok).await;
    assert_eq!(csrf.len(), 64);
}

async fn central_login_with_several_stores_offers_a_choice(app: &TestApp) {
    let r = central_login(app, OWNER_EMAIL, PASSWORD).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    // Autoescaping writes `/` as `&#x2f;` in attributes; a browser decodes it back.
    let html = r
        .text()
        .await
        .unwrap()
        .replace("&#x2f;", "/")
        .replace("&#x3d;", "=");
    assert!(html.contains("Escolha a loja"));
    assert!(html.contains("Depósito Demo") && html.contains("Outra Loja"));
    let prefix = format!("href=\"http://{}/login/handoff?token=", app.host("outra"));
    let i = html.find(&prefix).expect("link to outra") + 6;
    let j = html[i..].find('"').unwrap() + i;
    let h = follow_handoff(app, &html[i..j]).await;
    assert_eq!(h.status(), 303);
    let tok = session_cookie(h.headers()).unwrap();
    let page = app.get("outra", "/", Some(&tok)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(
        app.get("demo", "/", Some(&tok))
            .send()
            .await
            .unwrap()
            .status(),
        303,
        "a session of outra is nothing on demo"
    );
}

async fn handoff_url_for(app: &TestApp) -> String {
    let r = central_login(app, SOLO_EMAIL, PASSWORD).await;
    assert_eq!(r.status(), 303);
    r.headers()[LOCATION].to_str().unwrap().to_string()
}

async fn handoff_token_is_single_use_short_lived_and_store_bound(app: &TestApp) {
    add_solo_user(app).await;
    // Reuse.
    let url = handoff_url_for(app).await;
    assert_eq!(follow_handoff(app, &url).await.status(), 303);
    let again = follow_handoff(app, &url).await;
    assert_eq!(again.status(), 400, "second use refused");
    assert!(session_cookie(again.headers()).is_none());
    assert!(again
        .text()
        .await
        .unwrap()
        .contains("inválido ou já expirou"));
    // Another store: refused there, and burnt for its own store too.
    let url = handoff_url_for(app).await;
    let (_, path) = split_url(&url);
    let wrong = app.get("outra", &path, None).send().await.unwrap();
    assert_eq!(wrong.status(), 400);
    assert!(session_cookie(wrong.headers()).is_none());
    assert_eq!(follow_handoff(app, &url).await.status(), 400, "burnt");
    // Expired.
    let url = handoff_url_for(app).await;
    sqlx::query("UPDATE sessions SET expires_at = $1 WHERE user_agent = 'handoff'")
        .bind(store::now_ms() - 1)
        .execute(app.db.write())
        .await
        .unwrap();
    assert_eq!(follow_handoff(app, &url).await.status(), 400, "expired");
    // A hand-off token is not a session cookie.
    let url = handoff_url_for(app).await;
    let token = url.rsplit_once("token=").unwrap().1.to_string();
    assert_eq!(
        app.get("demo", "/", Some(&token))
            .send()
            .await
            .unwrap()
            .status(),
        303
    );
    assert_eq!(
        app.get("demo", "/", Some(&format!("handoff:{token}")))
            .send()
            .await
            .unwrap()
            .status(),
        303
    );
    // Garbage.
    let r = app
        .get("demo", "/login/handoff?token=abc", None)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

async fn central_login_wrong_password_and_csrf(app: &TestApp) {
    add_solo_user(app).await;
    let r = central_login(app, SOLO_EMAIL, "senha errada de propósito").await;
    assert_eq!(r.status(), 401);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("E-mail ou senha incorretos."));
    let r = central_login(app, "ninguem@lugar.com.br", PASSWORD).await;
    assert_eq!(r.status(), 401, "unknown email answers the same");
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("E-mail ou senha incorretos."));
    // No CSRF cookie / wrong token.
    let (csrf, _) = apex_form(app, "/login", "oz_login_csrf").await;
    let r = app
        .http
        .post(app.url("/login"))
        .header(HOST, apex(app))
        .form(&[
            ("email", SOLO_EMAIL),
            ("password", PASSWORD),
            ("csrf", &csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let (_, cookie) = apex_form(app, "/login", "oz_login_csrf").await;
    let r = app
        .http
        .post(app.url("/login"))
        .header(HOST, apex(app))
        .header("cookie", format!("oz_login_csrf={cookie}"))
        .header("origin", "http://evil.example")
        .form(&[
            ("email", SOLO_EMAIL),
            ("password", PASSWORD),
            ("csrf", &cookie),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "cross-site origin");
}

async fn central_login_locks_out_like_the_store_login(app: &TestApp) {
    add_solo_user(app).await;
    let mut last = 0;
    for _ in 0..5 {
        last = central_login(app, SOLO_EMAIL, "senha errada de novo")
            .await
            .status()
            .as_u16();
    }
    assert_eq!(last, 429, "fifth failure locks the account");
    let r = central_login(app, SOLO_EMAIL, PASSWORD).await;
    assert_eq!(r.status(), 429, "right password while locked");
    assert!(r.headers().contains_key("retry-after"));
    assert!(r.text().await.unwrap().contains("bloqueado"));
    // The same account is locked on the store's own login form.
    let s = app.login("demo", SOLO_EMAIL, PASSWORD).await;
    assert_eq!(s.unwrap_err().status(), 429);
    // Other accounts are not.
    assert_eq!(
        central_login(app, OWNER_EMAIL, PASSWORD).await.status(),
        200
    );
}

async fn signup(app: &TestApp, fields: &[(&str, &str)]) -> reqwest::Response {
    let (csrf, cookie) = apex_form(app, "/signup", "oz_signup_csrf").await;
    let mut form = fields.to_vec();
    form.push(("csrf", &csrf));
    app.http
        .post(app.url("/signup"))
        .header(HOST, apex(app))
        .header("cookie", format!("oz_signup_csrf={cookie}"))
        .form(&form)
        .send()
        .await
        .unwrap()
}

async fn signup_creates_the_store_and_lands_in_its_dashboard(app: &TestApp) {
    let r = signup(
        app,
        &[
            ("name", "Casa do Construtor <Zé>"),
            ("slug", "casa-do-ze"),
            ("email", "ze@casadoze.com.br"),
            ("password", "areia fina 2026 ok"),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    let loc = r.headers()[LOCATION].to_str().unwrap().to_string();
    assert!(loc.starts_with(&format!(
        "http://{}/login/handoff?token=",
        app.host("casa-do-ze")
    )));
    let h = follow_handoff(app, &loc).await;
    assert_eq!(h.status(), 303);
    let tok = session_cookie(h.headers()).unwrap();
    let page = app.get("casa-do-ze", "/", Some(&tok)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Casa do Construtor &lt;Zé&gt;"),
        "escaped name"
    );
    // Owner: the owner-only pages open; the default pricing row exists.
    assert_eq!(
        app.get("casa-do-ze", "/regras", Some(&tok))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let t = store::tenants::by_slug(&app.db, "casa-do-ze")
        .await
        .unwrap()
        .unwrap();
    let rules = store::rules::load(&app.db, &t.id).await.unwrap();
    assert_eq!(rules.pricing.quote_validity_hours, 48);
    let audit = store::audit::list(&app.db, Some(&t.id), 10).await.unwrap();
    assert!(audit.iter().any(|a| a.action == "store.signup"), "audited");
    // The new owner can also use the central login.
    let r = central_login(app, "ze@casadoze.com.br", "areia fina 2026 ok").await;
    assert_eq!(r.status(), 303);
}

async fn signup_refuses_taken_reserved_and_invalid_input(app: &TestApp) {
    let taken = signup(
        app,
        &[
            ("name", "Outra Demo"),
            ("slug", "demo"),
            ("email", "x@y.com.br"),
            ("password", "areia fina 2026 ok"),
        ],
    )
    .await;
    assert_eq!(taken.status(), 422);
    let html = taken.text().await.unwrap();
    assert!(html.contains("já está em uso"), "{html}");
    assert!(
        html.contains("value=\"Outra Demo\""),
        "the form keeps what was typed"
    );
    let reserved = signup(
        app,
        &[
            ("name", "Admin"),
            ("slug", "admin"),
            ("email", "x@y.com.br"),
            ("password", "areia fina 2026 ok"),
        ],
    )
    .await;
    assert_eq!(reserved.status(), 422);
    assert!(reserved.text().await.unwrap().contains("reservado"));
    let weak = signup(
        app,
        &[
            ("name", "Loja"),
            ("slug", "loja-nova"),
            ("email", "semarroba"),
            ("password", "123"),
        ],
    )
    .await;
    assert_eq!(weak.status(), 422);
    let html = weak.text().await.unwrap();
    assert!(html.contains("e-mail válido") && html.contains("Senha fraca"));
    assert!(store::tenants::by_slug(&app.db, "loja-nova")
        .await
        .unwrap()
        .is_none());
    assert!(store::tenants::by_slug(&app.db, "admin")
        .await
        .unwrap()
        .is_none());
    // Without the CSRF cookie nothing is created.
    let r = app
        .http
        .post(app.url("/signup"))
        .header(HOST, apex(app))
        .form(&[
            ("name", "Sem Token"),
            ("slug", "sem-token"),
            ("email", "a@b.com.br"),
            ("password", "areia fina 2026 ok"),
            ("csrf", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(store::tenants::by_slug(&app.db, "sem-token")
        .await
        .unwrap()
        .is_none());
}

mod admin {
    use super::*;

    both_engines!(
        admin_requires_the_operator_token,
        admin_lists_tenants_queues_and_webhook_failures,
        admin_requeues_a_dead_job_with_csrf,
    );

    fn api(app: &TestApp) -> String {
        format!("api.localhost:{}", app.addr.port())
    }

    async fn admin_get(app: &TestApp, auth: Option<&str>) -> reqwest::Response {
        let mut r = app.http.get(app.url("/admin")).header(HOST, api(app));
        if let Some(a) = auth {
            r = r.header("authorization", a);
        }
        r.send().await.unwrap()
    }

    fn bearer() -> String {
        format!("Bearer {ADMIN_TOKEN}")
    }

    async fn admin_requires_the_operator_token(app: &TestApp) {
        let r = admin_get(app, None).await;
        assert_eq!(r.status(), 401);
        assert!(r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic"));
        assert_eq!(admin_get(app, Some("Bearer errado")).await.status(), 401);
        use base64::Engine as _;
        let wrong = base64::engine::general_purpose::STANDARD.encode("op:errado");
        assert_eq!(
            admin_get(app, Some(&format!("Basic {wrong}")))
                .await
                .status(),
            401
        );
        assert_eq!(admin_get(app, Some(&bearer())).await.status(), 200);
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("op:{ADMIN_TOKEN}"));
        let r = admin_get(app, Some(&format!("Basic {basic}"))).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["cache-control"], "no-store");
        // Not on a store's host.
        let r = app
            .get("demo", "/admin", None)
            .header("authorization", bearer())
            .send()
            .await
            .unwrap();
        assert_ne!(r.status(), 200);
    }

    async fn admin_lists_tenants_queues_and_webhook_failures(app: &TestApp) {
        // A delivery for a number no store has.
        let body = whatsapp::webhook::build_text_webhook(
            "999999999999999",
            "5511933334444",
            "5511988887777",
            Some("Cliente"),
            "wamid.UNKNOWNCHANNEL1",
            "oi",
            store::now_ms() / 1000,
        );
        let sig = whatsapp::signature::sign(APP_SECRET.as_bytes(), body.as_bytes());
        let r = app
            .http
            .post(app.url("/webhooks/whatsapp"))
            .header(HOST, api(app))
            .header("content-type", "application/json")
            .header(whatsapp::signature::SIGNATURE_HEADER, sig)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let html = admin_get(app, Some(&bearer())).await.text().await.unwrap();
        assert!(html.contains("Depósito Demo") && html.contains("Outra Loja"));
        assert!(html.contains("unknown_channel: 1"), "{html}");
        assert!(html.contains("999999999999999"), "failure listed");
        assert!(!html.contains("wamid.UNKNOWNCHANNEL1"), "payloads stay out");
    }

    async fn admin_requeues_a_dead_job_with_csrf(app: &TestApp) {
        let job = store::jobs::NewJob::new("test.kind", serde_json::json!({}));
        let engine = app.db.engine();
        let id = app
            .db
            .tx(move |c| Box::pin(async move { store::jobs::enqueue(c, engine, &job).await }))
            .await
            .unwrap();
        sqlx::query("UPDATE jobs SET status = 'dead', last_error = 'boom <b>' WHERE id = $1")
            .bind(&id)
            .execute(app.db.write())
            .await
            .unwrap();
        let html = admin_get(app, Some(&bearer())).await.text().await.unwrap();
        assert!(html.contains("boom &lt;b&gt;"), "dead job listed, escaped");
        let csrf = hidden_csrf(&html).expect("requeue form");
        let path = format!("/admin/jobs/{id}/requeue");
        let post = |csrf: String, auth: Option<String>| {
            let mut r = app
                .http
                .post(app.url(&path))
                .header(HOST, api(app))
                .form(&[("csrf", csrf)]);
            if let Some(a) = auth {
                r = r.header("authorization", a);
            }
            r.send()
        };
        assert_eq!(post(csrf.clone(), None).await.unwrap().status(), 401);
        assert_eq!(
            post("0".repeat(64), Some(bearer())).await.unwrap().status(),
            403
        );
        let cross = app
            .http
            .post(app.url(&path))
            .header(HOST, api(app))
            .header("authorization", bearer())
            .header("origin", "http://evil.example")
            .form(&[("csrf", &csrf)])
            .send()
            .await
            .unwrap();
        assert_eq!(cross.status(), 403);
        assert_eq!(
            store::jobs::get(&app.db, &id)
                .await
                .unwrap()
                .unwrap()
                .status,
            "dead"
        );
        assert_eq!(
            post(csrf.clone(), Some(bearer())).await.unwrap().status(),
            303
        );
        assert_eq!(
            store::jobs::get(&app.db, &id)
                .await
                .unwrap()
                .unwrap()
                .status,
            "ready"
        );
        let audit = store::audit::list(&app.db, None, 10).await.unwrap();
        assert!(audit.iter().any(|a| a.action == "job.requeue"));
        assert_eq!(
            post(csrf, Some(bearer())).await.unwrap().status(),
            404,
            "only dead jobs"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn admin_is_404_without_a_token_configured() {
        let app = TestApp::start_with_admin(store::Engine::Sqlite, None)
            .await
            .expect("sqlite");
        assert_eq!(admin_get(&app, Some(&bearer())).await.status(), 404);
        assert_eq!(admin_get(&app, Some("Bearer ")).await.status(), 404);
    }
}
