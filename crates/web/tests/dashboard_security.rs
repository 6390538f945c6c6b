//! HTTP-level security tests of the store dashboard against a real server (port 0) on a
//! fresh database: SQLite always, PostgreSQL too when `ORCAZAP_TEST_POSTGRES_URL` is set.
//! Each test fails if the protection it names is removed.

use store::Engine;
use testkit::*;

both_engines!(
    TestApp;
    csrf_missing_or_wrong_is_403,
    cross_site_origin_is_403,
    cross_tenant_ids_are_404,
    session_of_one_store_is_useless_on_another,
    attendant_on_owner_pages_is_403,
    markup_in_contact_item_and_template_is_inert,
    security_headers_and_cookie_flags,
    lockout_after_repeated_failures,
    session_id_changes_on_login,
    logout_kills_the_session,
    rate_limit_answers_429_with_retry_after,
    approve_sends_quote_through_the_worker,
    csv_import_is_all_or_nothing,
    audit_log_records_changes,
    invite_goes_by_email_and_the_person_chooses_the_password,
    password_change_ends_other_sessions,
    owner_revokes_a_session,
    the_last_owner_cannot_be_demoted,
    invalid_template_is_refused_at_its_line,
    idle_and_expired_sessions_are_refused,
    oversized_body_is_413,
    whatsapp_test_send_goes_through_the_worker,
    password_change_guessing_ends_the_session,
    forwarded_for_is_believed_only_from_trusted_proxies,
    anonymous_floods_do_not_spend_the_stores_budget,
    under_https_the_session_cookie_is_host_prefixed,
);

const _: Engine = Engine::Sqlite;

mod public_site;

mod hosts;

async fn owner(app: &TestApp) -> String {
    app.login("demo", OWNER_EMAIL, PASSWORD)
        .await
        .expect("owner logs in")
}

async fn csrf_missing_or_wrong_is_403(app: &TestApp) {
    let owner = app.as_owner().await;
    let rules = [
        ("pix", "5"),
        ("cartao", "0"),
        ("boleto", "0"),
        ("dinheiro", "3"),
        ("min_margin", "10"),
        ("approval_above", "5.000,00"),
        ("validity", "48"),
    ];
    owner
        .post("/regras", &rules)
        .answer()
        .await
        .expect_status_because(403, "no token");
    let mut wrong = rules.to_vec();
    wrong.push((
        "csrf",
        "0000000000000000000000000000000000000000000000000000000000000000",
    ));
    owner
        .post("/regras", &wrong)
        .answer()
        .await
        .expect_status_because(403, "wrong token");
    // Header (HTMX) with the wrong token, too.
    owner
        .post("/regras", &rules)
        .header("x-csrf-token", "nope")
        .answer()
        .await
        .expect_status_because(403, "wrong header token");
    // The right token in the form or the header works.
    let mut right = rules.to_vec();
    right.push(("csrf", &owner.csrf));
    owner
        .post("/regras", &right)
        .answer()
        .await
        .expect_status_because(303, "right token");
    owner
        .post("/regras", &rules)
        .header("x-csrf-token", &owner.csrf)
        .answer()
        .await
        .expect_status_because(303, "right header token");
    // Logout needs the token too.
    owner.post("/logout", &[]).answer().await.expect_status(403);
    // Login without its double-submit token.
    app.post(
        "demo",
        "/login",
        None,
        &[("email", OWNER_EMAIL), ("password", PASSWORD)],
    )
    .answer()
    .await
    .expect_status_because(403, "login without csrf");
}

async fn cross_site_origin_is_403(app: &TestApp) {
    let owner = app.as_owner().await;
    let form = [("text", "oi"), ("csrf", owner.csrf.as_str())];
    owner
        .post("/catalogo/importar", &form)
        .header("origin", "http://evil.example")
        .answer()
        .await
        .expect_status_because(403, "foreign Origin");
    owner
        .post("/catalogo/importar", &form)
        .header("origin", format!("http://{}", app.host("outra")))
        .answer()
        .await
        .expect_status_because(403, "sibling store's Origin");
    owner
        .post("/catalogo/importar", &form)
        .header("sec-fetch-site", "cross-site")
        .answer()
        .await
        .expect_status_because(403, "Sec-Fetch-Site cross-site");
    owner
        .post("/catalogo/importar", &form)
        .header("sec-fetch-site", "same-site")
        .answer()
        .await
        .expect_status_because(403, "Sec-Fetch-Site same-site (another store)");
    owner
        .post("/catalogo/importar", &form)
        .header("origin", format!("http://{}", app.host("demo")))
        .header("sec-fetch-site", "same-origin")
        .answer()
        .await
        .expect_status_because(
            422,
            "same origin passes the check (and the empty CSV is refused)",
        );
}

async fn cross_tenant_ids_are_404(app: &TestApp) {
    app.customer_says(
        &app.other,
        "5511988887777",
        "Cliente da Outra",
        "10 sacos de cimento, entrega amanhã em Itaquera, pix",
    )
    .await;
    let (approval_id, quote_id) = app
        .pending_approval(&app.other)
        .await
        .expect("approval in the other store");
    let quote = store::quotes::get(&app.db, &app.other.tenant_id, &quote_id)
        .await
        .unwrap()
        .unwrap();
    let item = store::catalog::list(&app.db, &app.other.tenant_id)
        .await
        .unwrap()
        .remove(0);
    let owner = app.as_owner().await;
    for path in [
        format!("/aprovacoes/{approval_id}"),
        format!("/orcamentos/{quote_id}"),
        format!("/conversas/{}", quote.conversation_id),
        format!("/conversas/{}/mensagens", quote.conversation_id),
    ] {
        owner
            .get(&path)
            .answer()
            .await
            .expect_status_because(404, &format!("GET {path}"));
    }
    for path in [
        format!("/aprovacoes/{approval_id}/aprovar"),
        format!("/conversas/{}/assumir", quote.conversation_id),
        format!("/conversas/{}/responder", quote.conversation_id),
        format!("/catalogo/{}/ativo", item.id),
    ] {
        owner
            .post_form(&path, &[("text", "oi")])
            .await
            .expect_status_because(404, &format!("POST {path}"));
    }
    // Nothing happened in the other store.
    assert!(app.pending_approval(&app.other).await.is_some());
    let conv = store::conversations::get(&app.db, &app.other.tenant_id, &quote.conversation_id)
        .await
        .unwrap()
        .unwrap();
    assert!(conv.taken_over_by.is_none());
}

async fn session_of_one_store_is_useless_on_another(app: &TestApp) {
    let s = owner(app).await;
    app.get("demo", "/", Some(&s))
        .answer()
        .await
        .expect_status(200);
    let r = app
        .get("outra", "/", Some(&s))
        .answer()
        .await
        .expect_status_because(303, "store B sends store A's session to login");
    assert_eq!(r.headers()["location"], "/login");
}

async fn attendant_on_owner_pages_is_403(app: &TestApp) {
    let attendant = app.as_attendant().await;
    for path in [
        "/regras",
        "/frete",
        "/modelos",
        "/modelos/quote",
        "/equipe",
        "/whatsapp",
    ] {
        attendant
            .get(path)
            .answer()
            .await
            .expect_status_because(403, &format!("GET {path}"));
    }
    for path in [
        "/regras",
        "/catalogo/itens",
        "/catalogo/importar",
        "/frete",
        "/modelos/quote",
        "/equipe/convidar",
        "/whatsapp",
    ] {
        attendant
            .post_form(path, &[("sku", "X"), ("price", "1,00")])
            .await
            .expect_status_because(403, &format!("POST {path}"));
    }
    for path in ["/", "/aprovacoes", "/conversas", "/orcamentos", "/catalogo"] {
        attendant
            .get(path)
            .answer()
            .await
            .expect_status_because(200, &format!("attendant may use {path}"));
    }
    // The attendant doesn't even see the cost column.
    let html = attendant
        .get("/catalogo")
        .answer()
        .await
        .text()
        .await
        .unwrap();
    assert!(!html.contains("Custo"));
}

async fn markup_in_contact_item_and_template_is_inert(app: &TestApp) {
    let evil = "<script>alert(1)</script>\"><img src=x onerror=alert(2)>";
    app.customer_says(
        &app.demo,
        "5511977776666",
        evil,
        "oi, quanto custa o cimento?",
    )
    .await;
    let owner = app.as_owner().await;
    owner
        .post_form(
            "/catalogo/itens",
            &[
                ("sku", "EVIL-1"),
                ("name", evil),
                ("unit", "un"),
                ("price", "10,00"),
                ("cost", "5,00"),
                ("weight_kg", "1"),
                ("aliases", evil),
                ("active", "1"),
            ],
        )
        .await
        .expect_status(303);
    let tpl = format!("Olá {{{{ loja }}}} {evil}");
    owner
        .post_form("/modelos/data_capture", &[("source", &tpl)])
        .await
        .expect_status_because(303, "a template may contain any text");
    let inbox = owner.get("/conversas").answer().await.text().await.unwrap();
    let catalog = owner.get("/catalogo").answer().await.text().await.unwrap();
    let editor = owner
        .get("/modelos/data_capture")
        .answer()
        .await
        .text()
        .await
        .unwrap();
    let preview = owner
        .post("/modelos/data_capture/previa", &[("source", &tpl)])
        .header("x-csrf-token", &owner.csrf)
        .header("hx-request", "true")
        .answer()
        .await
        .text()
        .await
        .unwrap();
    for (page, html) in [
        ("inbox", &inbox),
        ("catalog", &catalog),
        ("template editor", &editor),
        ("preview", &preview),
    ] {
        assert!(!html.contains("<script>alert"), "{page}: raw script tag");
        assert!(!html.contains("<img src=x"), "{page}: raw img tag");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;")
                || html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{page}: escaped text shown"
        );
    }
}

async fn security_headers_and_cookie_flags(app: &TestApp) {
    let (_, _) = app.login_form("demo").await;
    let r = app.get("demo", "/login", None).answer().await;
    let login_cookie = set_cookie_line(r.headers(), "oz_login_csrf").unwrap();
    assert!(login_cookie.contains("HttpOnly") && login_cookie.contains("SameSite=Lax"));
    let (csrf, lc) = app.login_form("demo").await;
    let r = app
        .http
        .post(app.url("/login"))
        .header("host", app.host("demo"))
        .header("cookie", format!("oz_login_csrf={lc}"))
        .form(&[
            ("email", OWNER_EMAIL),
            ("password", PASSWORD),
            ("csrf", &csrf),
        ])
        .answer()
        .await;
    let line = set_cookie_line(r.headers(), "oz_session").unwrap();
    assert!(line.contains("HttpOnly"), "{line}");
    assert!(line.contains("SameSite=Lax"), "{line}");
    assert!(line.contains("Path=/"), "{line}");
    assert!(
        !line.to_lowercase().contains("domain="),
        "host-only cookie: {line}"
    );
    assert!(!line.contains("Secure"), "plain HTTP in tests: {line}");
    let s = session_cookie(r.headers()).unwrap();
    for path in [
        "/",
        "/login",
        "/aprovacoes",
        "/conversas",
        "/orcamentos",
        "/catalogo",
        "/regras",
        "/frete",
        "/modelos",
        "/modelos/quote",
        "/equipe",
        "/whatsapp",
        "/conta/senha",
        "/nao-existe",
    ] {
        let r = app
            .get("demo", path, Some(&s))
            .header("accept", "text/html")
            .answer()
            .await;
        let h = r.headers();
        let csp = h
            .get("content-security-policy")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        assert!(
            csp.contains("script-src 'self'")
                && !csp.contains("unsafe-inline")
                && csp.contains("frame-ancestors 'none'"),
            "{path}: CSP {csp}"
        );
        assert_eq!(
            h.get("x-frame-options").map(|v| v.to_str().unwrap()),
            Some("DENY"),
            "{path}"
        );
        assert_eq!(
            h.get("x-content-type-options").map(|v| v.to_str().unwrap()),
            Some("nosniff"),
            "{path}"
        );
        assert!(h.get("referrer-policy").is_some(), "{path}");
        assert!(h.get("x-request-id").is_some(), "{path}");
        let body = r.text().await.unwrap();
        assert!(
            !body.contains("<script>") && !body.contains("onclick=") && !body.contains(" style=\""),
            "{path}: inline script or style"
        );
    }
}

async fn lockout_after_repeated_failures(app: &TestApp) {
    for i in 0..5 {
        let r = app
            .login("demo", OWNER_EMAIL, "senha errada demais")
            .await
            .unwrap_err();
        let expected = if i < 4 { 401 } else { 429 };
        assert_eq!(r.status(), expected, "attempt {}", i + 1);
    }
    // Now even the right password is refused, with a pt-BR message and Retry-After.
    let r = app.login("demo", OWNER_EMAIL, PASSWORD).await.unwrap_err();
    assert_eq!(r.status(), 429);
    assert!(r.headers().get("retry-after").is_some());
    let html = r.text().await.unwrap();
    assert!(html.contains("bloqueado"), "{html}");
    // Another account of the store is not locked by this one's failures.
    assert!(app.login("demo", ATTENDANT_EMAIL, PASSWORD).await.is_ok());
}

async fn session_id_changes_on_login(app: &TestApp) {
    // A token planted before login (fixation) is never promoted.
    let planted = "a".repeat(64);
    let (csrf, lc) = app.login_form("demo").await;
    let r = app
        .http
        .post(app.url("/login"))
        .header("host", app.host("demo"))
        .header(
            "cookie",
            format!("oz_login_csrf={lc}; oz_session={planted}"),
        )
        .form(&[
            ("email", OWNER_EMAIL),
            ("password", PASSWORD),
            ("csrf", &csrf),
        ])
        .answer()
        .await;
    let first = session_cookie(r.headers()).unwrap();
    assert_ne!(first, planted);
    app.get("demo", "/", Some(&planted))
        .answer()
        .await
        .expect_status(303);
    // Signing in again from a live session rotates it: the old one stops working.
    let (csrf, lc) = app.login_form("demo").await;
    let r = app
        .http
        .post(app.url("/login"))
        .header("host", app.host("demo"))
        .header("cookie", format!("oz_login_csrf={lc}; oz_session={first}"))
        .form(&[
            ("email", OWNER_EMAIL),
            ("password", PASSWORD),
            ("csrf", &csrf),
        ])
        .answer()
        .await;
    let second = session_cookie(r.headers()).unwrap();
    assert_ne!(first, second);
    app.get("demo", "/", Some(&first))
        .answer()
        .await
        .expect_status(303);
    app.get("demo", "/", Some(&second))
        .answer()
        .await
        .expect_status(200);
    // Only the hash is stored.
    let rows = store::sessions::list_for_tenant(&app.db, &app.demo.tenant_id)
        .await
        .unwrap();
    assert!(rows.iter().all(|r| r.id_hash != second));
}

async fn logout_kills_the_session(app: &TestApp) {
    let owner = app.as_owner().await;
    let r = owner.post_form("/logout", &[]).await.expect_status(303);
    let line = set_cookie_line(r.headers(), "oz_session").unwrap();
    assert!(line.contains("Max-Age=0"), "{line}");
    owner
        .get("/")
        .answer()
        .await
        .expect_status_because(303, "old cookie no longer works");
    let r = owner
        .get("/aprovacoes")
        .header("hx-request", "true")
        .answer()
        .await
        .expect_status(401);
    assert_eq!(r.headers()["hx-redirect"], "/login");
}

/// Issue 10 item 3: posts without a valid form are refused (403) before any budget is
/// charged, so nobody can spend the store's login budget; attempts with a valid form are
/// charged per (address, account), with `Retry-After`.
async fn rate_limit_answers_429_with_retry_after(app: &TestApp) {
    for _ in 0..70 {
        app.post(
            "demo",
            "/login",
            None,
            &[("email", OWNER_EMAIL), ("password", "x")],
        )
        .answer()
        .await
        .expect_status_because(
            403,
            "no csrf cookie: refused before any password check or budget",
        );
    }
    assert!(
        app.login("demo", OWNER_EMAIL, PASSWORD).await.is_ok(),
        "the owner is not rate limited by forged posts"
    );
    // Ten attempts per (address, account): four wrong passwords, then the account's own
    // lockout (Retry-After: 15 min) answers without verifying, then the pair's bucket.
    let ghost = "fantasma@demo.com.br";
    for i in 0..10 {
        let r = app.login("demo", ghost, "x").await.unwrap_err();
        let expected = if i < 4 { 401 } else { 429 };
        assert_eq!(r.status(), expected, "attempt {}", i + 1);
    }
    let r = app.login("demo", ghost, "x").await.unwrap_err();
    assert_eq!(r.status(), 429, "that pair's burst is spent");
    let secs: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&secs));
    // Another account from the same address, and reads, still answer.
    assert!(app.login("demo", ATTENDANT_EMAIL, PASSWORD).await.is_ok());
    app.get("demo", "/login", None)
        .answer()
        .await
        .expect_status(200);
}

/// Wrong current passwords on the password-change form count as failed logins: at the
/// account's limit every session of the user ends and the account is locked.
async fn password_change_guessing_ends_the_session(app: &TestApp) {
    let s = owner(app).await;
    let other = owner(app).await;
    let csrf = app.csrf("demo", &s).await;
    let new_pw = "telha colonial e argamassa";
    let mut last = None;
    for i in 0..5 {
        let guess = format!("palpite numero {i}");
        let r = app
            .post(
                "demo",
                "/conta/senha",
                Some(&s),
                &[
                    ("csrf", &csrf),
                    ("current", &guess),
                    ("new", new_pw),
                    ("confirm", new_pw),
                ],
            )
            .answer()
            .await;
        if i < 4 {
            assert_eq!(r.status(), 422, "guess {}", i + 1);
        }
        last = Some(r);
    }
    let r = last.unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    assert!(set_cookie_line(r.headers(), "oz_session")
        .unwrap()
        .contains("Max-Age=0"));
    assert!(r.text().await.unwrap().contains("sessão foi encerrada"));
    for tok in [&s, &other] {
        app.get("demo", "/", Some(tok))
            .answer()
            .await
            .expect_status_because(303, "every session of the user ended");
    }
    assert_eq!(
        app.login("demo", OWNER_EMAIL, PASSWORD)
            .await
            .unwrap_err()
            .status(),
        429,
        "the account is locked for a while"
    );
    let stored = store::users::by_email(&app.db, &app.demo.tenant_id, OWNER_EMAIL)
        .await
        .unwrap()
        .unwrap();
    assert!(web::auth::password::verify(PASSWORD, &stored.password_hash));
}

/// `X-Forwarded-For` is believed only from a configured proxy, and then only its right-most
/// untrusted hop (a client-written entry on the left is ignored).
async fn forwarded_for_is_believed_only_from_trusted_proxies(app: &TestApp) {
    async fn login_ip(app: &TestApp, xff: &str) -> String {
        let (csrf, lc) = app.login_form("demo").await;
        app.http
            .post(app.url("/login"))
            .header("host", app.host("demo"))
            .header("cookie", format!("oz_login_csrf={lc}"))
            .header("x-forwarded-for", xff)
            .form(&[
                ("email", OWNER_EMAIL),
                ("password", PASSWORD),
                ("csrf", &csrf),
            ])
            .answer()
            .await
            .expect_status(303);
        let a = store::audit::list(&app.db, Some(&app.demo.tenant_id), 10)
            .await
            .unwrap()
            .into_iter()
            .find(|a| a.action == "user.login")
            .expect("login audited");
        let after: serde_json::Value = serde_json::from_str(&a.after_json.unwrap()).unwrap();
        after["ip"].as_str().unwrap().to_string()
    }
    // No trusted proxy configured (the default): the header is ignored.
    assert_eq!(login_ip(app, "203.0.113.7").await, "127.0.0.1");
    let proxied = TestApp::start_with(app.db.engine(), |c| {
        c.trusted_proxies = web::client_ip::parse_trusted("127.0.0.1").unwrap();
    })
    .await
    .unwrap();
    assert_eq!(
        login_ip(&proxied, "6.6.6.6, 203.0.113.7").await,
        "203.0.113.7"
    );
    // Budgets follow the real client: one client's failures do not slow another's.
    for i in 0..21 {
        let (csrf, lc) = proxied.login_form("demo").await;
        let r = proxied
            .http
            .post(proxied.url("/login"))
            .header("host", proxied.host("demo"))
            .header("cookie", format!("oz_login_csrf={lc}"))
            .header("x-forwarded-for", "198.51.100.1")
            .form(&[
                ("email", format!("ninguem{i}@x.com.br").as_str()),
                ("password", "errada"),
                ("csrf", &csrf),
            ])
            .answer()
            .await;
        if i == 20 {
            assert_eq!(r.status(), 429, "that client is over its failure budget");
        }
    }
    let (csrf, lc) = proxied.login_form("demo").await;
    proxied
        .http
        .post(proxied.url("/login"))
        .header("host", proxied.host("demo"))
        .header("cookie", format!("oz_login_csrf={lc}"))
        .header("x-forwarded-for", "198.51.100.2")
        .form(&[
            ("email", "ninguem@x.com.br"),
            ("password", "errada"),
            ("csrf", &csrf),
        ])
        .answer()
        .await
        .expect_status_because(401, "another client behind the same proxy");
}

/// The store's read and write budgets are spent by its signed-in users only. Before, every
/// request to `{slug}.BASE` charged them: 720 anonymous POSTs (no session, no token) or 3,600
/// GETs of the login page from twelve addresses — each within its own address budget —
/// answered the store's owner 429 on every page while the flood lasted (attack re-run).
async fn anonymous_floods_do_not_spend_the_stores_budget(app: &TestApp) {
    let proxied = TestApp::start_with(app.db.engine(), |c| {
        c.trusted_proxies = web::client_ip::parse_trusted("127.0.0.1").unwrap();
    })
    .await
    .unwrap();
    let s = proxied.login("demo", OWNER_EMAIL, PASSWORD).await.unwrap();
    let csrf = proxied.csrf("demo", &s).await;
    for a in 0..12 {
        let from = format!("198.51.100.{a}");
        for _ in 0..60 {
            let r = proxied
                .post("demo", "/aprovacoes/x/aprovar", None, &[])
                .header("x-forwarded-for", &from)
                .answer()
                .await;
            assert_eq!(
                r.status(),
                403,
                "refused for what it is, not for the store's budget"
            );
        }
    }
    proxied
        .post(
            "demo",
            "/modelos/quote/previa",
            Some(&s),
            &[("csrf", &csrf), ("source", "Total: {{ orcamento.total }}")],
        )
        .answer()
        .await
        .expect_status_because(200, "the owner still writes");
    for a in 0..12 {
        let from = format!("198.51.100.{}", 100 + a);
        for _ in 0..300 {
            let r = proxied
                .get("demo", "/login", None)
                .header("x-forwarded-for", &from)
                .answer()
                .await;
            assert_eq!(r.status(), 200, "within its address's budget");
        }
    }
    proxied
        .get("demo", "/aprovacoes", Some(&s))
        .answer()
        .await
        .expect_status_because(200, "the owner still reads");
    // One address alone is still limited.
    let mut refused = 0;
    for _ in 0..70 {
        let r = proxied
            .post("demo", "/aprovacoes/x/aprovar", None, &[])
            .header("x-forwarded-for", "203.0.113.9")
            .answer()
            .await;
        refused += usize::from(r.status() == 429);
    }
    assert!(refused > 0, "over 60 writes of one address in a minute");
}

async fn approve_sends_quote_through_the_worker(app: &TestApp) {
    app.customer_says(
        &app.demo,
        "5511955554444",
        "Carlos",
        "10 sacos de cimento, entrega amanhã em Itaquera, pix",
    )
    .await;
    let (approval_id, _) = app
        .pending_approval(&app.demo)
        .await
        .expect("no freight rule for Itaquera → approval");
    let before = app.graph_accepted().len();
    let s = app.login("demo", ATTENDANT_EMAIL, PASSWORD).await.unwrap();
    let html = app
        .get("demo", &format!("/aprovacoes/{approval_id}"), Some(&s))
        .answer()
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("sem regra de frete"), "reason in pt-BR");
    let csrf = app.csrf("demo", &s).await;
    // Set the freight (the reason) and recompute before approving.
    app.post(
        "demo",
        &format!("/aprovacoes/{approval_id}/editar"),
        Some(&s),
        &[("csrf", &csrf), ("freight", "60,00")],
    )
    .answer()
    .await
    .expect_status(303);
    app.post(
        "demo",
        &format!("/aprovacoes/{approval_id}/aprovar"),
        Some(&s),
        &[("csrf", &csrf)],
    )
    .answer()
    .await
    .expect_status(303);
    app.drain().await;
    let sent = app.graph_accepted();
    assert!(sent.len() > before, "Graph received the quote");
    let last = sent.last().unwrap().to_string();
    assert!(
        last.contains("60,00"),
        "edited freight in the quote: {last}"
    );
    app.post(
        "demo",
        &format!("/aprovacoes/{approval_id}/aprovar"),
        Some(&s),
        &[("csrf", &csrf)],
    )
    .answer()
    .await
    .expect_status_because(409, "second decision refused");
}

async fn csv_import_is_all_or_nothing(app: &TestApp) {
    let owner = app.as_owner().await;
    let before = store::catalog::list(&app.db, &app.demo.tenant_id)
        .await
        .unwrap();
    let csv = "sku,name,unit,price_cents,cost_cents,weight_kg,aliases\nNOVO-1,Produto novo,un,1000,500,1,\nNOVO-2,Produto ruim,xyz,abc,500,1,\n";
    let r = owner
        .post_form("/catalogo/importar", &[("csv", csv)])
        .await
        .expect_status(422);
    let html = r.text().await.unwrap();
    assert!(html.contains("linha 3"), "row error shown: {html}");
    assert_eq!(
        store::catalog::list(&app.db, &app.demo.tenant_id)
            .await
            .unwrap(),
        before,
        "nothing applied"
    );
    let good = "sku,name,unit,price_cents,cost_cents,weight_kg,aliases\nNOVO-1,Produto novo,un,1000,500,1,\n";
    owner
        .post_form("/catalogo/importar", &[("csv", good)])
        .await
        .expect_status(303);
    assert_eq!(
        store::catalog::list(&app.db, &app.demo.tenant_id)
            .await
            .unwrap()
            .len(),
        before.len() + 1
    );
    let export = owner
        .get("/catalogo/exportar.csv")
        .answer()
        .await
        .text()
        .await
        .unwrap();
    assert!(export.contains("NOVO-1"));
}

async fn audit_log_records_changes(app: &TestApp) {
    let owner = app.as_owner().await;
    let rules = [
        ("pix", "7"),
        ("cartao", "0"),
        ("boleto", "0"),
        ("dinheiro", "3"),
        ("min_margin", "10"),
        ("approval_above", "5.000,00"),
        ("validity", "24"),
        ("csrf", owner.csrf.as_str()),
    ];
    owner
        .post("/regras", &rules)
        .answer()
        .await
        .expect_status(303);
    owner
        .post_form(
            "/whatsapp",
            &[
                ("phone_number_id", "100000000000001"),
                ("waba_id", "1"),
                ("display", "x"),
                ("token", "EAAG-novo-token-secreto"),
            ],
        )
        .await
        .expect_status(303);
    let log = store::audit::list(&app.db, Some(&app.demo.tenant_id), 50)
        .await
        .unwrap();
    let rules_entry = log
        .iter()
        .find(|e| e.action == "rules.update")
        .expect("rules change audited");
    assert_eq!(rules_entry.actor_label, OWNER_EMAIL);
    assert!(rules_entry
        .before_json
        .as_deref()
        .unwrap()
        .contains("\"pix_discount_bp\":500"));
    assert!(rules_entry
        .after_json
        .as_deref()
        .unwrap()
        .contains("\"pix_discount_bp\":700"));
    assert!(log.iter().any(|e| e.action == "whatsapp.update"));
    assert!(
        log.iter().all(|e| !e
            .after_json
            .clone()
            .unwrap_or_default()
            .contains("novo-token")),
        "token never in the audit log"
    );
    let page = owner.get("/whatsapp").answer().await.text().await.unwrap();
    assert!(!page.contains("novo-token"), "token never shown again");
    let ch = store::channels::for_tenant(&app.db, &app.demo.tenant_id)
        .await
        .unwrap()
        .remove(0);
    assert!(
        !ch.access_token_enc.unwrap().contains("novo-token"),
        "stored encrypted"
    );
}

/// Invitations go by e-mail now (crates/web/tests/accounts.rs has the whole flow): the owner's
/// page never shows a password, the invited person chooses one through the link.
async fn invite_goes_by_email_and_the_person_chooses_the_password(app: &TestApp) {
    let owner = app.as_owner().await;
    let html = owner
        .post_form(
            "/equipe/convidar",
            &[
                ("name", "Pedro"),
                ("email", "pedro@demo.com.br"),
                ("role", "attendant"),
            ],
        )
        .await
        .expect_status(200)
        .text()
        .await
        .unwrap();
    assert!(html.contains("Convite enviado"), "{html}");
    assert!(!html.contains("Senha provisória"));
    let mail = app.mail_to("pedro@demo.com.br", 1).await;
    let link = mail[0].link("/login/convite?token=").expect("invite link");
    let path = &link[link.find("/login/").unwrap()..];
    let token = link.split("token=").nth(1).unwrap();
    let page = app.get("demo", path, None).answer().await;
    let cookie = cookie_from(page.headers(), "oz_login_csrf").unwrap();
    let csrf = hidden_csrf(&page.text().await.unwrap()).unwrap();
    let pw = "martelo verde pula cerca";
    let r = app
        .http
        .post(app.url("/login/convite"))
        .header("host", app.host("demo"))
        .header("cookie", format!("oz_login_csrf={cookie}"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("token", token),
            ("name", "Pedro"),
            ("new", pw),
            ("confirm", pw),
        ])
        .answer()
        .await
        .expect_status(303);
    assert!(session_cookie(r.headers()).is_some());
    let pedro = app
        .login("demo", "pedro@demo.com.br", pw)
        .await
        .expect("new attendant signs in");
    app.get("demo", "/regras", Some(&pedro))
        .answer()
        .await
        .expect_status_because(403, "invited as attendant");
    // The same email again is refused with a pt-BR message.
    let r = owner
        .post_form(
            "/equipe/convidar",
            &[
                ("name", "Pedro"),
                ("email", "PEDRO@demo.com.br"),
                ("role", "attendant"),
            ],
        )
        .await
        .expect_status(409);
    assert!(r.text().await.unwrap().contains("já existe"));
}

async fn password_change_ends_other_sessions(app: &TestApp) {
    let s1 = owner(app).await;
    let s2 = owner(app).await;
    let csrf = app.csrf("demo", &s1).await;
    let new_pw = "telha colonial e argamassa";
    app.post(
        "demo",
        "/conta/senha",
        Some(&s1),
        &[
            ("csrf", &csrf),
            ("current", "errada errada"),
            ("new", new_pw),
            ("confirm", new_pw),
        ],
    )
    .answer()
    .await
    .expect_status_because(422, "wrong current password");
    let r = app
        .post(
            "demo",
            "/conta/senha",
            Some(&s1),
            &[
                ("csrf", &csrf),
                ("current", PASSWORD),
                ("new", "curta"),
                ("confirm", "curta"),
            ],
        )
        .answer()
        .await
        .expect_status_because(422, "weak password");
    assert!(r.text().await.unwrap().contains("pelo menos 10 caracteres"));
    let r = app
        .post(
            "demo",
            "/conta/senha",
            Some(&s1),
            &[
                ("csrf", &csrf),
                ("current", PASSWORD),
                ("new", new_pw),
                ("confirm", new_pw),
            ],
        )
        .answer()
        .await
        .expect_status(303);
    let s3 = session_cookie(r.headers()).expect("a fresh session for this browser");
    for old in [&s1, &s2] {
        app.get("demo", "/", Some(old))
            .answer()
            .await
            .expect_status_because(303, "old sessions end");
    }
    app.get("demo", "/", Some(&s3))
        .answer()
        .await
        .expect_status(200);
    assert!(app.login("demo", OWNER_EMAIL, PASSWORD).await.is_err());
    assert!(app.login("demo", OWNER_EMAIL, new_pw).await.is_ok());
}

async fn the_last_owner_cannot_be_demoted(app: &TestApp) {
    let me = store::users::by_email(&app.db, &app.demo.tenant_id, OWNER_EMAIL)
        .await
        .unwrap()
        .expect("the demo owner");
    let owner = app.as_owner().await;
    let page = owner
        .post_form(
            &format!("/equipe/{}/papel", me.id),
            &[("role", "attendant")],
        )
        .await
        .page_with_status(409)
        .await;
    assert!(
        page.contains("a loja precisa de pelo menos um dono"),
        "{page}"
    );
    let after = store::users::by_id(&app.db, &app.demo.tenant_id, &me.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        after.role,
        store::users::Role::Owner,
        "the change rolled back"
    );
    // The refused change left no audit entry claiming it happened.
    let audit = store::audit::list(&app.db, Some(&app.demo.tenant_id), 100)
        .await
        .unwrap();
    assert!(
        !audit.iter().any(|a| a.action == "team.set_role"),
        "no audit entry for a change that did not happen"
    );
}

async fn owner_revokes_a_session(app: &TestApp) {
    let att = app.login("demo", ATTENDANT_EMAIL, PASSWORD).await.unwrap();
    let owner = app.as_owner().await;
    let page = owner.get("/equipe").answer().await.text().await.unwrap();
    let hash = store::sessions::hash_token(&att);
    assert!(page.contains(&hash), "sessions listed");
    assert!(!page.contains(&att), "never the token itself");
    owner
        .post_form(&format!("/equipe/sessoes/{hash}/encerrar"), &[])
        .await
        .expect_status(303);
    app.get("demo", "/", Some(&att))
        .answer()
        .await
        .expect_status(303);
    // Another store's session cannot be revoked from here.
    let other = app.login("outra", OWNER_EMAIL, PASSWORD).await.unwrap();
    let h = store::sessions::hash_token(&other);
    owner
        .post_form(&format!("/equipe/sessoes/{h}/encerrar"), &[])
        .await
        .expect_status(404);
    app.get("outra", "/", Some(&other))
        .answer()
        .await
        .expect_status(200);
}

async fn invalid_template_is_refused_at_its_line(app: &TestApp) {
    let owner = app.as_owner().await;
    let src = "Olá {{ cliente }}!\nTotal: {{ total }\n";
    let r = owner
        .post_form("/modelos/quote", &[("source", src)])
        .await
        .expect_status(422);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"template-error\""), "error shown");
    assert!(html.contains("linha 2"), "at its line: {html}");
    assert!(
        html.contains("<li class=\"bad\" value=\"2\">"),
        "line 2 highlighted"
    );
    assert!(
        store::templates::history(&app.db, &app.demo.tenant_id, "quote")
            .await
            .unwrap()
            .is_empty()
    );
    owner
        .post_form(
            "/modelos/quote",
            &[("source", "Orçamento {{ numero }}: {{ total }}")],
        )
        .await
        .expect_status(303);
    assert_eq!(
        store::templates::history(&app.db, &app.demo.tenant_id, "quote")
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn idle_and_expired_sessions_are_refused(app: &TestApp) {
    let idle = owner(app).await;
    let expired = owner(app).await;
    let fresh = owner(app).await;
    let now = store::now_ms();
    let hour = 3_600_000i64;
    sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE id_hash = $1")
        .bind(store::sessions::hash_token(&idle))
        .bind(now - 3 * hour)
        .execute(app.db.write())
        .await
        .unwrap();
    sqlx::query("UPDATE sessions SET expires_at = $2 WHERE id_hash = $1")
        .bind(store::sessions::hash_token(&expired))
        .bind(now - 1)
        .execute(app.db.write())
        .await
        .unwrap();
    app.get("demo", "/", Some(&idle))
        .answer()
        .await
        .expect_status_because(303, "idle 3 h > 2 h timeout");
    app.get("demo", "/", Some(&expired))
        .answer()
        .await
        .expect_status_because(303, "past expiry");
    app.get("demo", "/", Some(&fresh))
        .answer()
        .await
        .expect_status(200);
}

async fn oversized_body_is_413(app: &TestApp) {
    let owner = app.as_owner().await;
    let big = "x".repeat(300 * 1024);
    owner
        .post(
            "/catalogo/importar",
            &[("csv", big.as_str()), ("csrf", owner.csrf.as_str())],
        )
        .answer()
        .await
        .expect_status(413);
    owner
        .post("/catalogo/importar", &[("csv", big.as_str())])
        .header("x-csrf-token", &owner.csrf)
        .answer()
        .await
        .expect_status_because(413, "handler's own limit");
}

async fn whatsapp_test_send_goes_through_the_worker(app: &TestApp) {
    let owner = app.as_owner().await;
    owner
        .post_form("/whatsapp/teste", &[("phone", "abc")])
        .await
        .expect_status_because(422, "bad number refused");
    let r = owner
        .post_form("/whatsapp/teste", &[("phone", "55 11 91234-5678")])
        .await
        .expect_status(303);
    assert!(r.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("/conversas/"));
    app.drain().await;
    let sent = app.graph_accepted();
    let last = sent.last().expect("Graph got the test message");
    assert_eq!(last["to"], "5511912345678");
    assert!(last.to_string().contains("Teste do OrçaZap"));
    let att = app.login("demo", ATTENDANT_EMAIL, PASSWORD).await.unwrap();
    let csrf = app.csrf("demo", &att).await;
    app.post(
        "demo",
        "/whatsapp/teste",
        Some(&att),
        &[("csrf", &csrf), ("phone", "5511912345678")],
    )
    .answer()
    .await
    .expect_status_because(403, "owner only");
}

/// Under HTTPS the session cookie is `__Host-oz_session` (Secure, Path=/, no Domain), and a
/// bare `oz_session` — what another subdomain could plant for `.BASE` — opens nothing.
async fn under_https_the_session_cookie_is_host_prefixed(app: &TestApp) {
    let https = TestApp::start_with(app.db.engine(), |c| c.https = true)
        .await
        .unwrap();
    let (csrf, lc) = https.login_form("demo").await;
    let r = https
        .http
        .post(https.url("/login"))
        .header("host", https.host("demo"))
        .header("cookie", format!("oz_login_csrf={lc}"))
        .form(&[
            ("email", OWNER_EMAIL),
            ("password", PASSWORD),
            ("csrf", &csrf),
        ])
        .answer()
        .await;
    assert_eq!(r.status(), 303);
    assert!(set_cookie_line(r.headers(), "oz_session").is_none());
    let line = set_cookie_line(r.headers(), "__Host-oz_session").expect("host-prefixed session");
    assert!(line.contains("Secure"), "{line}");
    assert!(line.contains("Path=/;"), "{line}");
    assert!(!line.to_lowercase().contains("domain="), "{line}");
    let token = cookie_from(r.headers(), "__Host-oz_session").unwrap();
    let page = |cookie: String| {
        https
            .http
            .get(https.url("/"))
            .header("host", https.host("demo"))
            .header("cookie", cookie)
            .answer()
    };
    let signed_in = page(format!("__Host-oz_session={token}")).await;
    assert_eq!(signed_in.status(), 200);
    let tossed = page(format!("oz_session={token}")).await;
    assert_eq!(
        tossed.status(),
        303,
        "a bare oz_session is not read under HTTPS"
    );
}
