//! Accounts (issue 17 items 4-5; docs/email.md, docs/security.md): e-mail through the real SMTP
//! client to a local SMTP server (testkit `SmtpSink`), password reset, invitations, e-mail
//! verification at sign-up, and two-factor sign-in. Over HTTP with the real server and the
//! worker: SQLite always, PostgreSQL too when `ORCAZAP_TEST_POSTGRES_URL` is set.

use std::time::{Duration, Instant};

use testkit::*;

both_engines!(
    TestApp;
    email_goes_over_smtp_in_pt_br_retried_and_sealed_in_the_queue,
    password_reset_link_is_single_use_expiring_and_replaced_by_a_later_one,
    forgot_password_answers_the_same_for_any_email_and_is_rate_limited,
    central_forgot_password_sends_a_link_for_each_store,
    invitation_by_email_pending_revocable_and_single_use,
    signup_sends_a_verification_link_and_the_dashboard_works_meanwhile,
    two_factor_enrolment_sign_in_replay_and_recovery_codes,
    two_factor_wrong_codes_lock_the_account_and_the_owner_can_require_it,
    central_login_hands_off_to_the_second_factor,
    look_alike_slug_is_refused,
);

/// A form on the store's host outside a session: its page first (CSRF cookie and field), then
/// the POST with both, plus `extra_cookie`.
async fn anon_post(
    app: &TestApp,
    slug: &str,
    page: &str,
    action: &str,
    fields: &[(&str, &str)],
    extra_cookie: Option<&str>,
) -> reqwest::Response {
    let mut g = app.get(slug, page, None);
    if let Some(c) = extra_cookie {
        g = g.header("cookie", c.to_string());
    }
    let r = g.answer().await;
    let cookie = cookie_from(r.headers(), "oz_login_csrf").expect("csrf cookie");
    let html = r.body().await;
    let csrf = hidden_csrf(&html).unwrap_or_else(|| panic!("csrf field on {page}: {html}"));
    let mut form: Vec<(&str, &str)> = fields.to_vec();
    form.push(("csrf", &csrf));
    let cookies = match extra_cookie {
        Some(c) => format!("oz_login_csrf={cookie}; {c}"),
        None => format!("oz_login_csrf={cookie}"),
    };
    app.http
        .post(app.url(action))
        .header("host", app.host(slug))
        .header("cookie", cookies)
        .form(&form)
        .answer()
        .await
}

async fn forgot(app: &TestApp, slug: &str, email: &str) -> reqwest::Response {
    anon_post(
        app,
        slug,
        "/login/esqueci",
        "/login/esqueci",
        &[("email", email)],
        None,
    )
    .await
}

/// The path and query of a link in an e-mail (`http://demo.localhost:PORT/login/…?token=…`).
fn path_of(link: &str) -> String {
    let after = link.split_once("://").unwrap().1;
    after[after.find('/').unwrap()..].to_string()
}

fn token_of(link: &str) -> String {
    link.split("token=").nth(1).unwrap().to_string()
}

async fn audit_actions(app: &TestApp, tenant: &str) -> Vec<String> {
    store::audit::list(&app.db, Some(tenant), 200)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.action)
        .collect()
}

async fn email_goes_over_smtp_in_pt_br_retried_and_sealed_in_the_queue(app: &TestApp) {
    // A slow SMTP server never slows the web: the request only queues a job.
    app.smtp.slow(Duration::from_millis(1500));
    let started = Instant::now();
    forgot(app, "demo", OWNER_EMAIL)
        .await
        .page_with_status(200)
        .await;
    assert!(
        started.elapsed() < Duration::from_millis(1200),
        "the answer did not wait for SMTP: {:?}",
        started.elapsed()
    );
    app.smtp.slow(Duration::ZERO);
    // The job holds the e-mail sealed: no recipient, no link, no token in the database.
    let mut job = None;
    for _ in 0..100 {
        let jobs = store::jobs::list(&app.db, Some(store::jobs::JobStatus::Ready), 50)
            .await
            .unwrap();
        job = jobs.into_iter().find(|j| j.kind == "email.send");
        if job.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let job = job.expect("an e-mail job was queued");
    assert!(job.payload_json.contains("\"password_reset\""));
    assert!(!job.payload_json.contains("token="), "{}", job.payload_json);
    assert!(!job.payload_json.contains(OWNER_EMAIL));
    // The first attempt meets a 451 (try later): retried, not lost.
    app.smtp.refuse_next(1);
    let (_, outcome) = app.worker.run_once().await.unwrap().unwrap();
    assert!(
        matches!(outcome, worker::Outcome::Retry { .. }),
        "{outcome:?}"
    );
    assert!(app.smtp.messages().is_empty());
    store::testing::make_job_due(&app.db, &job.id).await;
    let mails = app.mail_to(OWNER_EMAIL, 1).await;
    let m = &mails[0];
    assert_eq!(m.subject(), "Redefinição de senha — OrçaZap");
    assert_eq!(m.mail_from, "nao-responda@orcazap.test");
    assert!(
        m.header("From").unwrap().contains("OrçaZap"),
        "{:?}",
        m.header("From")
    );
    let text = m.text();
    assert!(text.contains("redefinir a senha"), "{text}");
    assert!(text.contains("Depósito Demo"), "{text}");
    assert!(text.contains("60 minutos"), "{text}");
    let link = m.link("/login/redefinir?token=").expect("reset link");
    assert!(
        link.starts_with(&format!("http://{}/", app.host("demo"))),
        "{link}"
    );
    let html = m.html().expect("an HTML alternative");
    // The HTML escapes the URL's slashes (`&#x2f;`); its token is there as is.
    assert!(
        html.contains(&token_of(&link)) && html.contains("Criar nova senha"),
        "{html}"
    );
    assert!(app.smtp.connections() >= 2, "one refused, one accepted");
}

async fn password_reset_link_is_single_use_expiring_and_replaced_by_a_later_one(app: &TestApp) {
    let before = app.as_owner().await;
    forgot(app, "demo", OWNER_EMAIL)
        .await
        .page_with_status(200)
        .await;
    let first = app.mail_to(OWNER_EMAIL, 1).await[0]
        .link("/login/redefinir")
        .unwrap();
    forgot(app, "demo", OWNER_EMAIL)
        .await
        .page_with_status(200)
        .await;
    let second = app.mail_to(OWNER_EMAIL, 2).await[1]
        .link("/login/redefinir")
        .unwrap();
    assert_ne!(first, second);
    // A later request ends the earlier link.
    let html = app.page("demo", &path_of(&first), None).await;
    assert!(html.contains("inválido, já foi usado ou expirou"), "{html}");
    // The live link: a form (GET uses nothing), a weak password refused with the link kept.
    let page = app
        .get("demo", &path_of(&second), None)
        .answer()
        .await
        .expect_status(200);
    assert_eq!(page.header_text("referrer-policy"), Some("same-origin"));
    let token = token_of(&second);
    let p = path_of(&second);
    let weak = anon_post(
        app,
        "demo",
        &p,
        "/login/redefinir",
        &[
            ("token", &token),
            ("new", "senha123456"),
            ("confirm", "senha123456"),
        ],
        None,
    )
    .await
    .page_with_status(422)
    .await;
    assert!(weak.contains("Senha fraca"), "{weak}");
    // Another store's host does not know this link.
    let foreign = app.page("outra", &p, None).await;
    assert!(foreign.contains("inválido"), "{foreign}");
    let new_pw = "telhado verde sobe escada";
    let done = anon_post(
        app,
        "demo",
        &p,
        "/login/redefinir",
        &[("token", &token), ("new", new_pw), ("confirm", new_pw)],
        None,
    )
    .await
    .page_with_status(200)
    .await;
    assert!(done.contains("Senha redefinida"), "{done}");
    // Used once: the same link again is dead, the POST too.
    let again = app.page("demo", &p, None).await;
    assert!(again.contains("inválido"), "{again}");
    let reuse = anon_post(
        app,
        "demo",
        "/login/esqueci",
        "/login/redefinir",
        &[("token", &token), ("new", new_pw), ("confirm", new_pw)],
        None,
    )
    .await;
    assert_eq!(reuse.status(), 400);
    // Sessions ended; the old password is refused, the new one signs in.
    before.get("/").answer().await.expect_status(303);
    assert!(app.login("demo", OWNER_EMAIL, PASSWORD).await.is_err());
    app.login("demo", OWNER_EMAIL, new_pw)
        .await
        .expect("new password signs in");
    let actions = audit_actions(app, &app.demo.tenant_id).await;
    assert!(actions.contains(&"user.password_reset_requested".to_string()));
    assert!(actions.contains(&"user.password_reset".to_string()));
    // Expiry: a link an hour old is dead.
    forgot(app, "demo", OWNER_EMAIL)
        .await
        .page_with_status(200)
        .await;
    let third = app.mail_to(OWNER_EMAIL, 3).await[2]
        .link("/login/redefinir")
        .unwrap();
    assert!(app
        .page("demo", &path_of(&third), None)
        .await
        .contains("Criar nova senha"));
    store::testing::age_account_tokens(&app.db, 61 * 60 * 1000).await;
    let expired = app.page("demo", &path_of(&third), None).await;
    assert!(expired.contains("inválido"), "{expired}");
}

async fn forgot_password_answers_the_same_for_any_email_and_is_rate_limited(app: &TestApp) {
    let known = forgot(app, "demo", OWNER_EMAIL)
        .await
        .page_with_status(200)
        .await;
    let unknown = forgot(app, "demo", "ninguem@demo.com.br")
        .await
        .page_with_status(200)
        .await;
    let strip = |h: &str| {
        h.lines()
            .filter(|l| !l.contains("csrf") && !l.contains("value="))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(strip(&known), strip(&unknown), "no existence oracle");
    assert!(unknown.contains("Se houver um acesso com esse e-mail"));
    app.mail_to(OWNER_EMAIL, 1).await;
    app.drain().await;
    assert!(app.smtp.to("ninguem@demo.com.br").is_empty());
    // At most 3 e-mails an hour per account, whatever is asked.
    for _ in 0..4 {
        forgot(app, "demo", OWNER_EMAIL)
            .await
            .page_with_status(200)
            .await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    app.drain().await;
    assert_eq!(app.smtp.to(OWNER_EMAIL).len(), 3, "hourly cap per account");
    // The address's budget: 10 then 2 a minute (6 spent above) → a 429 comes.
    let mut statuses = Vec::new();
    for i in 0..8 {
        statuses.push(
            forgot(app, "demo", &format!("x{i}@demo.com.br"))
                .await
                .status()
                .as_u16(),
        );
    }
    assert!(statuses.contains(&429), "{statuses:?}");
}

async fn central_forgot_password_sends_a_link_for_each_store(app: &TestApp) {
    let apex = format!("localhost:{}", app.addr.port());
    let r = app.get_on(&apex, "/login/esqueci").answer().await;
    let cookie = cookie_from(r.headers(), "oz_login_csrf").unwrap();
    let csrf = hidden_csrf(&r.body().await).unwrap();
    app.post_on(&apex, "/login/esqueci")
        .header("cookie", format!("oz_login_csrf={cookie}"))
        .form(&[("email", OWNER_EMAIL), ("csrf", &csrf)])
        .answer()
        .await
        .page_with_status(200)
        .await;
    // The owner e-mail is in both seeded stores: one e-mail per store, each for its host.
    let mails = app.mail_to(OWNER_EMAIL, 2).await;
    let mut hosts: Vec<String> = mails
        .iter()
        .map(|m| m.link("/login/redefinir").unwrap())
        .map(|l| l.split('/').nth(2).unwrap().to_string())
        .collect();
    hosts.sort();
    assert_eq!(hosts, vec![app.host("demo"), app.host("outra")]);
    // The login pages link to it.
    assert!(app
        .get_on(&apex, "/login")
        .answer()
        .await
        .body()
        .await
        .contains("/login/esqueci"));
    assert!(app
        .page("demo", "/login", None)
        .await
        .contains("/login/esqueci"));
}

async fn invitation_by_email_pending_revocable_and_single_use(app: &TestApp) {
    let owner = app.as_owner().await;
    let html = owner
        .post_form(
            "/equipe/convidar",
            &[
                ("name", "Pedro"),
                ("email", "Pedro@Demo.com.br"),
                ("role", "attendant"),
            ],
        )
        .await
        .page_with_status(200)
        .await;
    assert!(html.contains("Convite enviado para"), "{html}");
    assert!(
        !html.contains("invite-link"),
        "e-mail on: the link is not shown"
    );
    assert!(
        store::users::by_email(&app.db, &app.demo.tenant_id, "pedro@demo.com.br")
            .await
            .unwrap()
            .is_none(),
        "no account before acceptance"
    );
    let team = owner.page("/equipe").await;
    assert!(team.contains("pedro@demo.com.br") && team.contains("Convites pendentes"));
    let mails = app.mail_to("pedro@demo.com.br", 1).await;
    assert!(mails[0]
        .subject()
        .contains("Convite para a equipe de Depósito Demo"));
    assert!(
        mails[0].text().contains("como atendente"),
        "{}",
        mails[0].text()
    );
    let link = mails[0].link("/login/convite").unwrap();
    let p = path_of(&link);
    let token = token_of(&link);
    let form = app.page("demo", &p, None).await;
    assert!(form.contains("Entrar para a equipe") && form.contains("pedro@demo.com.br"));
    let pw = "parafuso azul canta forte";
    let r = anon_post(
        app,
        "demo",
        &p,
        "/login/convite",
        &[
            ("token", &token),
            ("name", "Pedro Alves"),
            ("new", pw),
            ("confirm", pw),
        ],
        None,
    )
    .await
    .expect_status(303);
    let tok = session_cookie(r.headers()).expect("signed in on acceptance");
    app.get("demo", "/regras", Some(&tok))
        .answer()
        .await
        .expect_status_because(403, "invited as attendant");
    app.get("demo", "/", Some(&tok))
        .answer()
        .await
        .expect_status(200);
    let u = store::users::by_email(&app.db, &app.demo.tenant_id, "pedro@demo.com.br")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(u.name, "Pedro Alves");
    assert!(u.email_verified_at.is_some());
    // Single use.
    assert!(app.page("demo", &p, None).await.contains("inválido"));
    // A second invitation, revoked: its link dies, the list empties.
    owner
        .post_form(
            "/equipe/convidar",
            &[
                ("name", ""),
                ("email", "ana@demo.com.br"),
                ("role", "owner"),
            ],
        )
        .await
        .expect_status(200);
    let ana = app.mail_to("ana@demo.com.br", 1).await[0]
        .link("/login/convite")
        .unwrap();
    let pending = store::accounts::pending_invites(&app.db, &app.demo.tenant_id)
        .await
        .unwrap();
    assert_eq!(pending.len(), 1);
    owner
        .post_form(
            &format!("/equipe/convites/{}/revogar", pending[0].id_hash),
            &[],
        )
        .await
        .expect_status(303);
    assert!(app
        .page("demo", &path_of(&ana), None)
        .await
        .contains("inválido"));
    assert!(!owner.page("/equipe").await.contains("ana@demo.com.br"));
    // Another store cannot revoke this store's invitation ids (404).
    owner
        .post_form(
            "/equipe/convidar",
            &[
                ("name", ""),
                ("email", "bia@demo.com.br"),
                ("role", "attendant"),
            ],
        )
        .await
        .expect_status(200);
    let bia = store::accounts::pending_invites(&app.db, &app.demo.tenant_id)
        .await
        .unwrap();
    let other_owner = app.signed_in("outra", OWNER_EMAIL, PASSWORD).await;
    other_owner
        .post_form(&format!("/equipe/convites/{}/revogar", bia[0].id_hash), &[])
        .await
        .expect_status(404);
    // Inviting an existing member: 409 in pt-BR.
    let dup = owner
        .post_form(
            "/equipe/convidar",
            &[
                ("name", ""),
                ("email", ATTENDANT_EMAIL),
                ("role", "attendant"),
            ],
        )
        .await
        .page_with_status(409)
        .await;
    assert!(dup.contains("já existe"));
    let actions = audit_actions(app, &app.demo.tenant_id).await;
    for a in ["team.invite", "team.invite_accepted", "team.invite_revoke"] {
        assert!(actions.contains(&a.to_string()), "{a}: {actions:?}");
    }
}

async fn signup_sends_a_verification_link_and_the_dashboard_works_meanwhile(app: &TestApp) {
    let apex = format!("localhost:{}", app.addr.port());
    let r = app.get_on(&apex, "/signup").answer().await;
    let cookie = cookie_from(r.headers(), "oz_signup_csrf").unwrap();
    let csrf = hidden_csrf(&r.body().await).unwrap();
    let pw = "areia fina 2026 ok";
    app.post_on(&apex, "/signup")
        .header("cookie", format!("oz_signup_csrf={cookie}"))
        .form(&[
            ("name", "Casa Nova"),
            ("slug", "casa-nova"),
            ("email", "dono@casanova.com.br"),
            ("password", pw),
            ("csrf", &csrf),
        ])
        .answer()
        .await
        .page_with_status(200)
        .await;
    let mails = app.mail_to("dono@casanova.com.br", 1).await;
    assert_eq!(mails[0].subject(), "Confirme seu e-mail — OrçaZap");
    let link = mails[0].link("/login/confirmar-email").unwrap();
    assert!(link.contains(&app.host("casa-nova")), "{link}");
    // Not confirmed yet: the dashboard works, with a banner; inviting waits.
    let owner = app.signed_in("casa-nova", "dono@casanova.com.br", pw).await;
    let home = owner.page("/").await;
    assert!(home.contains("id=\"verify-banner\""), "banner");
    owner.get("/catalogo").answer().await.expect_status(200);
    let refused = owner
        .post_form(
            "/equipe/convidar",
            &[("name", ""), ("email", "a@b.com.br"), ("role", "attendant")],
        )
        .await
        .page_with_status(422)
        .await;
    assert!(refused.contains("Confirme o seu e-mail"), "{refused}");
    // Resend: a new link, the old one dies.
    owner
        .post_form("/conta/email/reenviar", &[])
        .await
        .expect_status(303);
    let second = app.mail_to("dono@casanova.com.br", 2).await[1]
        .link("/login/confirmar-email")
        .unwrap();
    assert!(app
        .page("casa-nova", &path_of(&link), None)
        .await
        .contains("inválido"));
    // The GET only shows a button; the POST confirms.
    let p = path_of(&second);
    let page = app.page("casa-nova", &p, None).await;
    assert!(page.contains("Confirmar e-mail"));
    assert!(
        owner.page("/").await.contains("verify-banner"),
        "a GET confirms nothing"
    );
    anon_post(
        app,
        "casa-nova",
        &p,
        "/login/confirmar-email",
        &[("token", &token_of(&second))],
        None,
    )
    .await
    .page_with_status(200)
    .await;
    assert!(!owner.page("/").await.contains("verify-banner"));
    owner
        .post_form(
            "/equipe/convidar",
            &[("name", ""), ("email", "a@b.com.br"), ("role", "attendant")],
        )
        .await
        .expect_status(200);
    let t = store::tenants::by_slug(&app.db, "casa-nova")
        .await
        .unwrap()
        .unwrap();
    assert!(audit_actions(app, &t.id)
        .await
        .contains(&"user.email_verified".to_string()));
    // Seeded (operator-made) accounts are not asked to confirm.
    assert!(!app
        .as_owner()
        .await
        .page("/")
        .await
        .contains("verify-banner"));
}

fn secret_from(html: &str) -> Vec<u8> {
    let b32 = between(html, "<code id=\"totp-secret\">", "</code>").expect("secret shown");
    web::auth::totp::base32_decode(b32).unwrap()
}

fn code(secret: &[u8], offset_steps: i64) -> String {
    let now = store::now_ms() / 1000;
    web::auth::totp::code_at(secret, web::auth::totp::step_of(now) + offset_steps)
}

/// Enables two-factor for the demo owner; returns the secret and the recovery codes.
async fn enrol(app: &TestApp) -> (Vec<u8>, Vec<String>) {
    let owner = app.as_owner().await;
    owner
        .post_form("/conta/seguranca/ativar", &[])
        .await
        .expect_status(303);
    // Attributes are HTML-escaped (`/` is `&#x2f;`), as a browser reads them back.
    let page = owner.page("/conta/seguranca").await.replace("&#x2f;", "/");
    assert!(page.contains("src=\"data:image/svg+xml;base64,"), "QR code");
    let uri = page
        .split("\" id=\"totp-uri\"")
        .next()
        .and_then(|s| s.rsplit("href=\"").next())
        .unwrap();
    assert!(uri.starts_with("otpauth://totp/"), "otpauth URI");
    assert!(
        uri.contains("&amp;digits=6&amp;period=30"),
        "otpauth URI parameters"
    );
    let secret = secret_from(&page);
    // The secret is stored encrypted.
    let owner_user = store::users::by_email(&app.db, &app.demo.tenant_id, OWNER_EMAIL)
        .await
        .unwrap()
        .unwrap();
    let sec = store::accounts::security(&app.db, &owner_user.id)
        .await
        .unwrap();
    let b32 = web::auth::totp::base32(&secret);
    assert!(!sec.totp_secret_enc.unwrap().contains(&b32));
    let wrong = owner
        .post_form("/conta/seguranca/confirmar", &[("code", "000000")])
        .await
        .page_with_status(422)
        .await;
    assert!(wrong.contains("Código incorreto"));
    let ok = owner
        .post_form("/conta/seguranca/confirmar", &[("code", &code(&secret, 0))])
        .await
        .page_with_status(200)
        .await;
    let codes: Vec<String> = ok
        .split("<code class=\"secret\">")
        .skip(1)
        .map(|s| s[..s.find('<').unwrap()].to_string())
        .collect();
    assert_eq!(codes.len(), 10, "{ok}");
    assert!(
        !owner.page("/conta/seguranca").await.contains(&codes[0]),
        "shown once"
    );
    (secret, codes)
}

/// Password step: 303 to /login/2fa with the pending cookie, and no session.
async fn password_step(app: &TestApp, slug: &str) -> String {
    let r = anon_post(
        app,
        slug,
        "/login",
        "/login",
        &[("email", OWNER_EMAIL), ("password", PASSWORD)],
        None,
    )
    .await
    .expect_status(303);
    assert_eq!(r.header_text("location"), Some("/login/2fa"));
    assert!(
        session_cookie(r.headers()).is_none_or(|c| c.is_empty()),
        "no session yet"
    );
    format!(
        "oz_mfa={}",
        cookie_from(r.headers(), "oz_mfa").expect("pending cookie")
    )
}

async fn second_step(app: &TestApp, mfa: &str, code: &str) -> reqwest::Response {
    anon_post(
        app,
        "demo",
        "/login/2fa",
        "/login/2fa",
        &[("code", code)],
        Some(mfa),
    )
    .await
}

async fn two_factor_enrolment_sign_in_replay_and_recovery_codes(app: &TestApp) {
    let (secret, codes) = enrol(app).await;
    // Without the cookie the second step is not there.
    app.get("demo", "/login/2fa", None)
        .answer()
        .await
        .expect_status(303);
    let mfa = password_step(app, "demo").await;
    let bad = second_step(app, &mfa, "123456")
        .await
        .page_with_status(401)
        .await;
    assert!(bad.contains("Código incorreto"));
    // The enrolment's code was used: its step is not accepted again; the next one is.
    second_step(app, &mfa, &code(&secret, 0))
        .await
        .expect_status(401);
    let r = second_step(app, &mfa, &code(&secret, 1))
        .await
        .expect_status(303);
    let tok = session_cookie(r.headers()).expect("session after the code");
    app.get("demo", "/", Some(&tok))
        .answer()
        .await
        .expect_status(200);
    // The pending sign-in was used up.
    app.get("demo", "/login/2fa", Some("x"))
        .header("cookie", mfa.clone())
        .answer()
        .await
        .expect_status(303);
    // A recovery code signs in once.
    let mfa2 = password_step(app, "demo").await;
    second_step(app, &mfa2, &codes[3].to_uppercase())
        .await
        .expect_status(303);
    let mfa3 = password_step(app, "demo").await;
    second_step(app, &mfa3, &codes[3]).await.expect_status(401);
    let owner_user = store::users::by_email(&app.db, &app.demo.tenant_id, OWNER_EMAIL)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        store::accounts::recovery_codes_left(&app.db, &owner_user.id)
            .await
            .unwrap(),
        9
    );
    let actions = audit_actions(app, &app.demo.tenant_id).await;
    for a in [
        "user.2fa_enrolment_started",
        "user.2fa_enabled",
        "user.2fa_failed",
        "user.recovery_code_used",
        "user.login",
    ] {
        assert!(actions.contains(&a.to_string()), "{a}: {actions:?}");
    }
    // Turning it off needs the password and a code.
    let s = app.get("demo", "/", Some(&tok)).answer().await.body().await;
    let csrf = meta_csrf(&s).unwrap();
    let off = app
        .post(
            "demo",
            "/conta/seguranca/desativar",
            Some(&tok),
            &[
                ("csrf", &csrf),
                ("password", "errada errada"),
                ("code", &code(&secret, -1)),
            ],
        )
        .answer()
        .await
        .page_with_status(422)
        .await;
    assert!(off.contains("Senha ou código incorretos"));
    app.post(
        "demo",
        "/conta/seguranca/desativar",
        Some(&tok),
        &[("csrf", &csrf), ("password", PASSWORD), ("code", &codes[5])],
    )
    .answer()
    .await
    .expect_status(303);
    app.login("demo", OWNER_EMAIL, PASSWORD)
        .await
        .expect("two-factor off: the password alone signs in");
}

async fn two_factor_wrong_codes_lock_the_account_and_the_owner_can_require_it(app: &TestApp) {
    let (secret, _) = enrol(app).await;
    let mfa = password_step(app, "demo").await;
    let mut last = 0;
    for _ in 0..5 {
        last = second_step(app, &mfa, "000000").await.status().as_u16();
    }
    assert_eq!(last, 429, "five wrong codes lock the account");
    // Locked: even the right code and a fresh password step do not get in.
    let r = anon_post(
        app,
        "demo",
        "/login",
        "/login",
        &[("email", OWNER_EMAIL), ("password", PASSWORD)],
        None,
    )
    .await;
    assert_eq!(r.status(), 429);
    store::testing::clear_login_throttle(&app.db).await;
    // The owner requires two-factor of the team: the attendant is kept on the security page.
    let mfa = password_step(app, "demo").await;
    let r = second_step(app, &mfa, &code(&secret, 1))
        .await
        .expect_status(303);
    let tok = session_cookie(r.headers()).unwrap();
    let att = app.as_attendant().await;
    let s = app.get("demo", "/", Some(&tok)).answer().await.body().await;
    let csrf = meta_csrf(&s).unwrap();
    app.post(
        "demo",
        "/conta/seguranca/exigir",
        Some(&tok),
        &[("csrf", &csrf), ("on", "true")],
    )
    .answer()
    .await
    .expect_status(303);
    let r = att.get("/aprovacoes").answer().await.expect_status(303);
    assert_eq!(r.header_text("location"), Some("/conta/seguranca"));
    let page = att.page("/conta/seguranca").await;
    assert!(
        page.contains("A loja exige verificação em duas etapas"),
        "{page}"
    );
    att.post_form("/conversas/x/assumir", &[])
        .await
        .expect_status(403);
    // Once enrolled, the attendant works again.
    att.post_form("/conta/seguranca/ativar", &[])
        .await
        .expect_status(303);
    let secret2 = secret_from(&att.page("/conta/seguranca").await);
    att.post_form(
        "/conta/seguranca/confirmar",
        &[("code", &code(&secret2, 0))],
    )
    .await
    .expect_status(200);
    att.get("/aprovacoes").answer().await.expect_status(200);
    assert!(audit_actions(app, &app.demo.tenant_id)
        .await
        .contains(&"team.require_2fa".to_string()));
}

async fn central_login_hands_off_to_the_second_factor(app: &TestApp) {
    let (secret, _) = enrol(app).await;
    let apex = format!("localhost:{}", app.addr.port());
    let r = app.get_on(&apex, "/login").answer().await;
    let cookie = cookie_from(r.headers(), "oz_login_csrf").unwrap();
    let csrf = hidden_csrf(&r.body().await).unwrap();
    let page = app
        .post_on(&apex, "/login")
        .header("cookie", format!("oz_login_csrf={cookie}"))
        .form(&[
            ("email", OWNER_EMAIL),
            ("password", PASSWORD),
            ("csrf", &csrf),
        ])
        .answer()
        .await;
    let central = cookie_from(page.headers(), "oz_central").unwrap();
    let html = page
        .body()
        .await
        .replace("&#x2f;", "/")
        .replace("&amp;", "&");
    // The owner is in two stores: pick demo.
    let url = html
        .split("href=\"")
        .map(|s| &s[..s.find('"').unwrap_or(0)])
        .find(|u| u.contains(&app.host("demo")) && u.contains("/login/handoff?token="))
        .expect("demo's hand-off link")
        .replace("&amp;", "&");
    // Leg 2 on the store host, leg 3 on the apex, leg 4 back on the store host.
    let r = app
        .http
        .get(app.url(&path_of(&url)))
        .header("host", app.host("demo"))
        .answer()
        .await
        .expect_status(303);
    let store_cookie = cookie_from(r.headers(), "oz_handoff").unwrap();
    let confirm = r.header_text("location").unwrap().to_string();
    let r = app
        .http
        .get(app.url(&path_of(&confirm)))
        .header("host", apex.clone())
        .header("cookie", format!("oz_central={central}"))
        .answer()
        .await
        .expect_status(303);
    let finish = r.header_text("location").unwrap().to_string();
    let r = app
        .http
        .get(app.url(&path_of(&finish)))
        .header("host", app.host("demo"))
        .header("cookie", format!("oz_handoff={store_cookie}"))
        .answer()
        .await
        .expect_status(303);
    assert_eq!(
        r.header_text("location"),
        Some("/login/2fa"),
        "the code comes next"
    );
    assert!(session_cookie(r.headers()).is_none_or(|c| c.is_empty()));
    let mfa = format!("oz_mfa={}", cookie_from(r.headers(), "oz_mfa").unwrap());
    let r = second_step(app, &mfa, &code(&secret, 1))
        .await
        .expect_status(303);
    assert!(session_cookie(r.headers()).is_some());
}

mod operator {
    use super::*;

    /// RFC 6238's SHA-1 test secret, base32.
    const OPERATOR_SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

    struct Operated(TestApp);

    impl std::ops::Deref for Operated {
        type Target = TestApp;
        fn deref(&self) -> &TestApp {
            &self.0
        }
    }

    impl Fixture for Operated {
        async fn start(engine: store::Engine) -> Option<Operated> {
            TestApp::start_with(engine, |c| {
                c.admin_totp_secret = Some(secrecy::SecretString::from(OPERATOR_SECRET))
            })
            .await
            .map(Operated)
        }
    }

    both_engines!(
        Operated;
        the_operator_page_asks_for_a_code_after_the_token,
    );

    async fn the_operator_page_asks_for_a_code_after_the_token(app: &Operated) {
        let api = format!("api.localhost:{}", app.addr.port());
        let bearer = format!("Bearer {ADMIN_TOKEN}");
        // The token alone: the code form, not the page.
        let html = app
            .get_on(&api, "/admin")
            .header("authorization", &bearer)
            .answer()
            .await
            .page_with_status(200)
            .await;
        assert!(html.contains("código de 6 dígitos") && !html.contains("id=\"tenants\""));
        let csrf = hidden_csrf(&html).unwrap();
        // Requeue without the code: refused.
        app.post_on(&api, "/admin/jobs/x/requeue")
            .header("authorization", &bearer)
            .form(&[("csrf", csrf.as_str())])
            .answer()
            .await
            .expect_status(403);
        let secret = web::auth::totp::base32_decode(OPERATOR_SECRET).unwrap();
        let post = |code: String| {
            app.post_on(&api, "/admin/2fa")
                .header("authorization", &bearer)
                .form(&[("csrf", csrf.clone()), ("code", code)])
                .answer()
        };
        post("000000".into()).await.expect_status(401);
        let r = post(code(&secret, 0)).await.expect_status(303);
        let cookie = cookie_from(r.headers(), "oz_admin_2fa").expect("second factor cookie");
        assert!(set_cookie_line(r.headers(), "oz_admin_2fa")
            .is_some_and(|l| l.contains("Path=/admin")
                && l.contains("SameSite=Strict")
                && l.contains("HttpOnly")));
        // The same code again: refused (accepted once).
        post(code(&secret, 0)).await.expect_status(401);
        let page = app
            .get_on(&api, "/admin")
            .header("authorization", &bearer)
            .header("cookie", format!("oz_admin_2fa={cookie}"))
            .answer()
            .await
            .page_with_status(200)
            .await;
        assert!(page.contains("id=\"tenants\""), "the operator page");
        // The cookie is worth nothing without the token, nor with a forged signature.
        app.get_on(&api, "/admin")
            .header("cookie", format!("oz_admin_2fa={cookie}"))
            .answer()
            .await
            .expect_status(401);
        let (exp, _) = cookie.split_once('.').unwrap();
        let forged = app
            .get_on(&api, "/admin")
            .header("authorization", &bearer)
            .header("cookie", format!("oz_admin_2fa={exp}.{}", "00".repeat(32)))
            .answer()
            .await
            .page_with_status(200)
            .await;
        assert!(!forged.contains("id=\"tenants\""));
        let actions: Vec<String> = store::audit::list(&app.db, None, 50)
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.action)
            .collect();
        assert!(actions.contains(&"operator.2fa_login".to_string()));
        assert!(actions.contains(&"operator.2fa_failed".to_string()));
    }
}

/// Sign-up abuse: a slug that reads like an existing store's is refused (`dern0` next to `demo`).
async fn look_alike_slug_is_refused(app: &TestApp) {
    let apex = format!("localhost:{}", app.addr.port());
    for (slug, ok) in [("dern0", false), ("0utra", false), ("demo-nova", true)] {
        let r = app.get_on(&apex, "/signup").answer().await;
        let cookie = cookie_from(r.headers(), "oz_signup_csrf").unwrap();
        let csrf = hidden_csrf(&r.body().await).unwrap();
        let email = format!("dono@{slug}.com.br");
        let r = app
            .post_on(&apex, "/signup")
            .header("cookie", format!("oz_signup_csrf={cookie}"))
            .form(&[
                ("name", "Loja Parecida"),
                ("slug", slug),
                ("email", email.as_str()),
                ("password", "areia fina 2026 ok"),
                ("csrf", csrf.as_str()),
            ])
            .answer()
            .await;
        if ok {
            assert_eq!(r.status(), 200, "{slug}");
        } else {
            let html = r.page_with_status(422).await;
            assert!(html.contains("se parece demais"), "{slug}: {html}");
            assert!(store::tenants::by_slug(&app.db, slug)
                .await
                .unwrap()
                .is_none());
        }
    }
}
