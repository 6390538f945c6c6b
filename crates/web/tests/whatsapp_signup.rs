//! WhatsApp without copying ids (issue 17 item 2): Embedded Signup's server side against the
//! mock Graph API (`whatsapp::mock::signup`, Meta's wire format) and the connection's health
//! on `/whatsapp`. Real sockets; SQLite always, PostgreSQL too when
//! `ORCAZAP_TEST_POSTGRES_URL` is set.

use testkit::*;
use whatsapp::mock::{AccountStep, MockNumber};

const APP_ID: &str = "987654321012345";
const CONFIG_ID: &str = "123456789012345";
const WABA: &str = "300000000000001";
const NEW_PNID: &str = "100000000000777";

/// The test kit's app with Embedded Signup configured (the app secret is the kit's).
struct SignupApp(TestApp);

impl std::ops::Deref for SignupApp {
    type Target = TestApp;
    fn deref(&self) -> &TestApp {
        &self.0
    }
}

impl Fixture for SignupApp {
    async fn start(engine: store::Engine) -> Option<SignupApp> {
        let app = TestApp::start_with(engine, |c| {
            c.embedded_signup = Some(web::dashboard::whatsapp_signup::EmbeddedSignup {
                app_id: APP_ID.into(),
                config_id: CONFIG_ID.into(),
                sdk_version: "v25.0".into(),
            })
        })
        .await?;
        let meta = app.graph.meta();
        meta.signup_app(APP_ID, APP_SECRET);
        meta.phone_number(MockNumber {
            id: NEW_PNID.into(),
            waba_id: WABA.into(),
            display_phone_number: "+55 11 98888-7777".into(),
            verified_name: "Depósito Demo".into(),
            quality_rating: "GREEN".into(),
            pin: None,
        });
        Some(SignupApp(app))
    }
}

mod configured {
    use super::*;
    both_engines!(
        SignupApp;
        failed_steps_store_nothing_then_the_popup_connects_the_number_and_it_answers,
    );
}

mod unconfigured {
    use super::*;
    both_engines!(
        TestApp;
        without_meta_settings_only_the_manual_form_and_the_health_block_show,
    );
}

/// The store's one real channel: (phone_number_id, waba_id, display, token).
async fn channel(app: &TestApp) -> (String, String, String, Option<String>) {
    let ch = store::channels::for_tenant(&app.db, &app.demo.tenant_id)
        .await
        .unwrap();
    assert_eq!(ch.len(), 1, "{ch:?}");
    let c = &ch[0];
    let cipher = store::crypto::TokenCipher::new(b"test-secret-key-material", &[]);
    let token = c
        .access_token_enc
        .as_ref()
        .map(|e| cipher.decrypt(e).unwrap());
    (
        c.phone_number_id.clone(),
        c.waba_id.clone(),
        c.display_number.clone(),
        token,
    )
}

async fn audits(app: &TestApp, action: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(&format!(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log WHERE action = '{action}'"
    ))
    .fetch_one(app.db.read())
    .await
    .unwrap()
}

fn meta_error(code: i64, subcode: Option<i64>, message: &str) -> serde_json::Value {
    let mut e = serde_json::json!({ "message": message, "type": "OAuthException", "code": code, "fbtrace_id": "T" });
    if let Some(s) = subcode {
        e["error_subcode"] = serde_json::json!(s);
    }
    serde_json::json!({ "error": e })
}

async fn failed_steps_store_nothing_then_the_popup_connects_the_number_and_it_answers(
    app: &SignupApp,
) {
    let meta = app.graph.meta();
    let owner = app.as_owner().await;
    let page = owner.get("/whatsapp").answer().await;
    assert_eq!(
        page.header_text("cross-origin-opener-policy"),
        Some("same-origin-allow-popups"),
        "Meta's popup answers the page through postMessage"
    );
    let csp = page
        .header_text("content-security-policy")
        .unwrap()
        .to_string();
    assert!(csp.contains("https://connect.facebook.net"), "{csp}");
    let html = page.page_with_status(200).await;
    assert!(html.contains("id=\"fb-signup\""), "the button is shown");
    assert!(html.contains(&format!("data-config-id=\"{CONFIG_ID}\"")));
    assert!(html.contains(&format!("data-app-id=\"{APP_ID}\"")));
    assert!(html.contains("/static/whatsapp_signup.js"));
    let before = channel(app).await;
    let form = |code: &'static str, pin: &'static str| {
        [
            ("code", code),
            ("waba_id", WABA),
            ("phone_number_id", NEW_PNID),
            ("pin", pin),
        ]
    };

    // A code Meta does not know.
    let r = owner
        .post_form("/whatsapp/conectar", &form("codigo-inventado", "123456"))
        .await;
    let body = r.page_with_status(422).await;
    assert!(body.contains("não aceitou o código"), "{body}");
    assert!(body.contains("Nada foi salvo"));
    assert_eq!(channel(app).await, before);

    // The code works, but subscribing our app to the WABA fails.
    meta.signup_grant("codigo-inscricao", WABA);
    meta.fail_next(
        AccountStep::SubscribeApp,
        403,
        meta_error(200, None, "(#200) Permissions error"),
    );
    let body = owner
        .post_form("/whatsapp/conectar", &form("codigo-inscricao", "123456"))
        .await
        .page_with_status(422)
        .await;
    assert!(
        body.contains("inscrição do app") && body.contains("código 200"),
        "{body}"
    );
    assert_eq!(channel(app).await, before);
    // The same code again: Meta says it was used.
    let body = owner
        .post_form("/whatsapp/conectar", &form("codigo-inscricao", "123456"))
        .await
        .page_with_status(422)
        .await;
    assert!(body.contains("já foi usado"), "{body}");

    // Subscribed, but the number's registration fails (Meta's PIN mismatch).
    meta.signup_grant("codigo-registro", WABA);
    meta.fail_next(
        AccountStep::Register,
        400,
        meta_error(133005, None, "Two step verification PIN Mismatch"),
    );
    let body = owner
        .post_form("/whatsapp/conectar", &form("codigo-registro", "123456"))
        .await
        .page_with_status(422)
        .await;
    assert!(body.contains("PIN atual"), "{body}");
    assert_eq!(channel(app).await, before, "no half-channel");
    assert_eq!(audits(app, "whatsapp.embedded_signup").await, 0);

    // A bad PIN never reaches Meta.
    // (A refused form's page checks the current number's health: only those calls count.)
    let signup_calls = || {
        meta.account_calls()
            .into_iter()
            .filter(|c| c.step != AccountStep::PhoneNumber)
            .count()
    };
    let calls = signup_calls();
    let body = owner
        .post_form("/whatsapp/conectar", &form("codigo-qualquer", "12a456"))
        .await
        .page_with_status(422)
        .await;
    assert!(body.contains("PIN: digite os 6 números"), "{body}");
    // Without the session's CSRF token, or as an attendant: refused, nothing reaches Meta.
    let r = owner
        .post("/whatsapp/conectar", &form("codigo-qualquer", "123456"))
        .answer()
        .await;
    assert_eq!(r.status(), 403, "no CSRF token");
    let attendant = app.as_attendant().await;
    let r = attendant
        .post_form("/whatsapp/conectar", &form("codigo-qualquer", "123456"))
        .await;
    assert_eq!(r.status(), 403, "owner only");
    assert_eq!(signup_calls(), calls, "refused before any Graph call");

    // The happy path: a fresh code from the popup.
    meta.signup_grant("codigo-bom", WABA);
    let r = owner
        .post_form("/whatsapp/conectar", &form("codigo-bom", "246810"))
        .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    assert_eq!(r.header_text("location"), Some("/whatsapp?ok=conectado"));
    let issued: Vec<String> = meta
        .issued_tokens()
        .into_iter()
        .filter(|(_, w)| w == WABA)
        .map(|(t, _)| t)
        .collect();
    let (pnid, waba, display, token) = channel(app).await;
    assert_eq!(
        (pnid.as_str(), waba.as_str(), display.as_str()),
        (NEW_PNID, WABA, "+55 11 98888-7777")
    );
    let token = token.expect("the business token is stored");
    assert!(
        issued.contains(&token),
        "the token of the last exchange is stored"
    );
    assert_ne!(token, GRAPH_TOKEN);
    assert!(meta.subscriptions().contains(&WABA.to_string()));
    let reg = meta.registrations();
    assert_eq!(
        reg.last()
            .map(|r| (r.phone_number_id.as_str(), r.pin.as_str())),
        Some((NEW_PNID, "246810"))
    );
    assert_eq!(audits(app, "whatsapp.embedded_signup").await, 1);
    // The token is encrypted at rest and the audit entry never holds it.
    let leaked: i64 = sqlx::query_scalar(&format!(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log WHERE after_json LIKE '%{token}%' OR before_json LIKE '%{token}%'"
    ))
    .fetch_one(app.db.read())
    .await
    .unwrap();
    assert_eq!(leaked, 0);
    let raw: String =
        sqlx::query_scalar("SELECT access_token_enc FROM channels WHERE phone_number_id = $1")
            .bind(NEW_PNID)
            .fetch_one(app.db.read())
            .await
            .unwrap();
    assert!(!raw.contains(&token));

    let html = owner.page("/whatsapp?ok=conectado").await;
    assert!(html.contains("WhatsApp conectado pelo Facebook"), "{html}");
    assert!(html.contains("Nenhum webhook recebido"), "no webhook yet");

    // A customer writes to the new number: the webhook is accepted and the bot answers
    // from that number with the business token.
    let store = Store {
        tenant_id: app.demo.tenant_id.clone(),
        pnid: NEW_PNID.into(),
    };
    app.customer_says(
        &store,
        "5511955550042",
        "Rita",
        "preciso de 10 sacos de cimento",
    )
    .await;
    let answers: Vec<GraphCall> = app
        .graph
        .accepted()
        .into_iter()
        .filter(|c| c.phone_number_id == NEW_PNID && c.to() == "5511955550042")
        .collect();
    assert!(!answers.is_empty(), "the bot answered from the new number");
    assert!(answers
        .iter()
        .all(|c| c.authorization == format!("Bearer {token}")));

    // Health: token valid, webhook received, quality from Meta.
    let html = owner.page("/whatsapp").await;
    assert!(html.contains("id=\"health-token\">Válido<"), "{html}");
    assert!(html.contains("Último recebido"), "{html}");
    assert!(
        html.contains("id=\"health-quality\">Alta (verde)<"),
        "{html}"
    );
    meta.set_quality(NEW_PNID, "RED");
    meta.revoke_business_tokens();
    let html = owner.page("/whatsapp").await;
    assert!(html.contains("Inválido ou expirado"), "{html}");
}

async fn without_meta_settings_only_the_manual_form_and_the_health_block_show(app: &TestApp) {
    app.graph.meta().phone_number(MockNumber {
        id: app.demo.pnid.clone(),
        waba_id: "200000000000001".into(),
        display_phone_number: "+55 11 3333-4444".into(),
        verified_name: "Depósito Demo".into(),
        quality_rating: "YELLOW".into(),
        pin: None,
    });
    let owner = app.as_owner().await;
    let page = owner.get("/whatsapp").answer().await;
    assert_eq!(
        page.header_text("cross-origin-opener-policy"),
        Some("same-origin")
    );
    let html = page.page_with_status(200).await;
    assert!(
        !html.contains("fb-signup"),
        "no button without the settings"
    );
    assert!(
        !html.contains("connect.facebook.net"),
        "no Facebook script either"
    );
    assert!(
        html.contains("name=\"phone_number_id\""),
        "the manual form stays"
    );
    assert!(html.contains("id=\"health-token\">Válido<"), "{html}");
    assert!(
        html.contains("id=\"health-quality\">Média (amarela)<"),
        "{html}"
    );
    assert!(html.contains("Nenhum webhook recebido"), "{html}");
    let before = channel(app).await;
    let body = owner
        .post_form(
            "/whatsapp/conectar",
            &[
                ("code", "x"),
                ("waba_id", WABA),
                ("phone_number_id", NEW_PNID),
                ("pin", "123456"),
            ],
        )
        .await
        .page_with_status(422)
        .await;
    assert!(body.contains("não está ativada"), "{body}");
    assert_eq!(channel(app).await, before);
    assert!(app
        .graph
        .meta()
        .account_calls()
        .iter()
        .all(|c| c.step == AccountStep::PhoneNumber));
}
