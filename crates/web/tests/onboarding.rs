//! Onboarding (issue 17 item 1) through the real HTTP server, on SQLite and, when configured,
//! PostgreSQL: a store created as the sign-up creates it follows its checklist (each step
//! computed from its data), starts its catalog with the typical list, asks the freight
//! preview, and has a test conversation on its own test channel that ends in a quote —
//! through the real webhook and worker, answered by the built-in fake Graph API inside the
//! worker's Graph client (the mock Meta never sees a test message). Stores stay isolated.

use domain::money::Centavos;
use serde_json::{json, Value};
use testkit::*;

both_engines!(
    TestApp;
    a_new_store_follows_its_checklist_to_a_test_quote,
    the_store_form_refuses_a_bad_cnpj_and_loses_nothing,
    test_chats_are_isolated_between_stores,
);

const SLUG: &str = "casa-da-telha";
const EMAIL: &str = "telha@casadatelha.com.br";

/// A store as `BASE/signup` creates it (tenant, owner, default pricing), signed in.
async fn new_store(app: &TestApp) -> Session<'_> {
    let hash = web::auth::password::hash(PASSWORD).unwrap();
    app.db
        .tx(move |c| {
            Box::pin(async move {
                store::signup::create_store(
                    c,
                    &store::signup::NewStore {
                        slug: SLUG,
                        name: "Casa da Telha",
                        owner_email: EMAIL,
                        password_hash: &hash,
                        ip: "127.0.0.1",
                        request_id: None,
                    },
                )
                .await
                .map(|_| ())
            })
        })
        .await
        .unwrap();
    app.signed_in(SLUG, EMAIL, PASSWORD).await
}

/// The page as a browser reads it: minijinja escapes `/` in values as `&#x2f;`.
fn unescaped(html: &str) -> String {
    html.replace("&#x2f;", "/")
}

fn progress(html: &str) -> String {
    between(html, "id=\"onboarding-progress\">", "</small>")
        .unwrap_or_else(|| panic!("no checklist progress in {html}"))
        .to_string()
}

/// POSTs a JSON body as the simulator's script does (CSRF header, same origin).
async fn sim_send(
    app: &TestApp,
    s: &Session<'_>,
    body: Value,
    view: Option<&str>,
) -> reqwest::Response {
    let mut cookie = format!("oz_session={}", s.cookie);
    if let Some(v) = view {
        cookie.push_str(&format!("; oz_sim={v}"));
    }
    app.http
        .post(app.url("/simulador/send"))
        .header("host", app.host(&s.slug))
        .header("origin", format!("http://{}", app.host(&s.slug)))
        .header("cookie", cookie)
        .header("x-csrf-token", &s.csrf)
        .json(&body)
        .answer()
        .await
}

async fn sim_get(app: &TestApp, s: &Session<'_>, path: &str, view: &str) -> Value {
    app.http
        .get(app.url(path))
        .header("host", app.host(&s.slug))
        .header("cookie", format!("oz_session={}; oz_sim={view}", s.cookie))
        .answer()
        .await
        .expect_status(200)
        .json()
        .await
        .unwrap()
}

async fn a_new_store_follows_its_checklist_to_a_test_quote(app: &TestApp) {
    let s = new_store(app).await;
    let tenant = store::tenants::by_slug(&app.db, SLUG)
        .await
        .unwrap()
        .unwrap();
    let home = unescaped(&s.page("/").await);
    assert_eq!(progress(&home), "0 de 6 passos");
    for href in [
        "/loja",
        "/catalogo",
        "/regras",
        "/frete",
        "/whatsapp",
        "/simulador",
    ] {
        assert!(home.contains(&format!("href=\"{href}\">")), "{href}");
    }

    // Catalog: the empty page offers the start options; the typical list fills it.
    let cat = s.page("/catalogo").await;
    assert!(cat.contains("id=\"catalog-start\"") && cat.contains("/catalogo/modelo.csv"));
    s.post_form("/catalogo/lista-tipica", &[])
        .await
        .expect_status(303);
    let items = store::catalog::list(&app.db, &tenant.id).await.unwrap();
    let n = items.len();
    assert!((25..=40).contains(&n), "{n}");
    let facts = store::onboarding::facts(&app.db, &tenant.id).await.unwrap();
    assert_eq!(
        facts.price_review as usize, n,
        "every typical item is marked"
    );
    let home = s.page("/").await;
    assert_eq!(progress(&home), "1 de 6 passos");
    assert!(
        home.contains(&format!("{n} produtos da lista típica")),
        "{home}"
    );
    // A second click adds nothing (no duplicate, no overwritten price).
    s.post_form("/catalogo/lista-tipica", &[])
        .await
        .expect_status(303);
    assert_eq!(
        store::catalog::list(&app.db, &tenant.id)
            .await
            .unwrap()
            .len(),
        n
    );
    // Saving an item is the owner's word on its price: its mark goes.
    s.post_form(
        "/catalogo/itens",
        &[
            ("sku", "CIMENTO-CP2-50"),
            ("name", "Cimento CP-II 50kg"),
            ("unit", "sc"),
            ("price", "39,90"),
            ("cost", "31,00"),
            ("weight_kg", "50"),
            ("aliases", "cimento, saco de cimento"),
            ("active", "1"),
        ],
    )
    .await
    .expect_status(303);
    let facts = store::onboarding::facts(&app.db, &tenant.id).await.unwrap();
    assert_eq!(facts.price_review as usize, n - 1);
    assert!(!s.page("/catalogo").await.contains("id=\"catalog-start\""));

    // Store data, with an alphanumeric CNPJ.
    s.post_form(
        "/loja",
        &[
            ("legal_name", "Casa da Telha Materiais Ltda"),
            ("cnpj", "12.ABC.345/01DE-35"),
            ("address", "Rua das Telhas, 10 — Grajaú, São Paulo/SP"),
            ("phone", "(11) 3333-4444"),
            ("pix_kind", "cnpj"),
            ("pix_key", "12.345.678/0001-95"),
            ("pix_name", "Casa da Telha"),
            ("pix_city", "São Paulo"),
        ],
    )
    .await
    .expect_status(303);
    assert_eq!(progress(&s.page("/").await), "2 de 6 passos");

    // Rules: before, the step says there is no approval limit yet.
    assert!(s.page("/").await.contains("Sem limite de aprovação"));
    s.post_form(
        "/regras",
        &[
            ("pix", "5"),
            ("cartao", "0"),
            ("boleto", "0"),
            ("dinheiro", "3"),
            ("min_margin", "5"),
            ("approval_above", "5.000,00"),
            ("validity", "48"),
        ],
    )
    .await
    .expect_status(303);
    assert_eq!(progress(&s.page("/").await), "3 de 6 passos");

    // Freight, then the preview answers with the rule and the worker's price.
    s.post_form(
        "/frete",
        &[
            ("label", "Zona Sul"),
            ("kind", "bairros"),
            ("bairros", "Grajaú, Interlagos"),
            ("base", "35,00"),
            ("per_kg", "0,10"),
            ("free_above", ""),
        ],
    )
    .await
    .expect_status(303);
    assert_eq!(progress(&s.page("/").await), "4 de 6 passos");
    let answer = s
        .get("/frete/previa?onde=grajau&sku=CIMENTO-CP2-50&quantidade=10")
        .answer()
        .await
        .page_with_status(200)
        .await;
    // 35,00 + 500 kg × 0,10 = 85,00.
    let expected_freight = Centavos(3500 + 500 * 10).to_brl();
    assert!(
        answer.contains(&format!("id=\"preview-freight\">{expected_freight}<")),
        "{answer}"
    );
    assert!(answer.contains("Zona Sul"));
    let nowhere = s
        .get("/frete/previa?onde=01310-100")
        .answer()
        .await
        .page_with_status(200)
        .await;
    assert!(
        nowhere.contains("Nenhuma regra de frete atende"),
        "{nowhere}"
    );
    let bad = s
        .get("/frete/previa?onde=0131")
        .answer()
        .await
        .page_with_status(422)
        .await;
    assert!(bad.contains("CEP inválido"));

    // The test chat: the page creates the store's test channel; WhatsApp still not connected.
    let page = s.page("/simulador").await;
    assert!(page.contains("data-sim-base=\"/simulador\""), "{page}");
    let mut c = app.db.read().acquire().await.unwrap();
    let test_ch = store::channels::test_channel(&mut c, &tenant.id)
        .await
        .unwrap()
        .expect("the test channel exists");
    drop(c);
    assert!(store::channels::is_test_pnid(&test_ch.phone_number_id));
    assert!(
        store::channels::for_tenant(&app.db, &tenant.id)
            .await
            .unwrap()
            .is_empty(),
        "the test channel is not a WhatsApp number of the store"
    );
    let r = sim_send(
        app,
        &s,
        json!({ "phone": "5511987650000", "name": "Cliente", "text": "preciso de 10 sacos de cimento entrega no Grajaú pago no pix" }),
        None,
    )
    .await
    .expect_status(200);
    let view = cookie_from(r.headers(), "oz_sim").expect("the view cookie");
    app.drain().await;
    // The bot asks the delivery day with buttons; the customer taps "Amanhã".
    let asked = sim_get(
        app,
        &s,
        "/simulador/messages?phone=5511987650000&after=0",
        &view,
    )
    .await;
    assert!(
        asked["messages"][0]["buttons"]
            .as_array()
            .is_some_and(|b| b.iter().any(|b| b[0] == "day:tomorrow")),
        "{asked}"
    );
    sim_send(
        app,
        &s,
        json!({ "phone": "5511987650000", "name": "Cliente", "button_id": "day:tomorrow", "button_title": "Amanhã" }),
        Some(&view),
    )
    .await
    .expect_status(200);
    app.drain().await;
    let quotes = store::quotes::list(&app.db, &tenant.id, None, None, None, None, 10)
        .await
        .unwrap();
    let chat = sim_get(app, &s, "/simulador/conversa", &view).await;
    let q = quotes
        .first()
        .unwrap_or_else(|| panic!("no quote; the chat: {chat}"));
    // 10 × 39,90 − 5% PIX + frete 85,00.
    let expected_total = 39900 - 1995 + 8500;
    assert_eq!(q.total_cents, expected_total);
    let msgs = sim_get(
        app,
        &s,
        "/simulador/messages?phone=5511987650000&after=0",
        &view,
    )
    .await;
    let bodies: Vec<&str> = msgs["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["body"].as_str())
        .collect();
    assert!(
        bodies
            .iter()
            .any(|b| b.contains(&Centavos(expected_total).to_brl())),
        "the quote with its total reaches the test chat: {bodies:?}"
    );
    assert_eq!(progress(&s.page("/").await), "5 de 6 passos");

    // The real number (manual form): all done, the checklist collapses into one line that
    // still asks to review the example prices.
    s.post_form(
        "/whatsapp",
        &[
            ("phone_number_id", "100000000000077"),
            ("waba_id", "200000000000077"),
            ("display", "+55 11 95555-0000"),
            ("token", "EAAG-casa-da-telha"),
        ],
    )
    .await
    .expect_status(303);
    let home = s.page("/").await;
    assert!(!home.contains("onboarding-progress"), "{home}");
    assert!(home.contains("Tudo pronto"), "{home}");
    assert!(home.contains(&format!("de {} produtos da lista típica", n - 1)));
}

async fn the_store_form_refuses_a_bad_cnpj_and_loses_nothing(app: &TestApp) {
    let s = new_store(app).await;
    let tenant = store::tenants::by_slug(&app.db, SLUG)
        .await
        .unwrap()
        .unwrap();
    let page = s
        .post_form(
            "/loja",
            &[
                ("legal_name", "Casa da Telha Materiais Ltda"),
                ("cnpj", "12.ABC.345/01DE-36"),
                ("address", "Rua das Telhas, 10"),
                ("phone", "(11) 3333-4444"),
                ("pix_kind", "cnpj"),
                ("pix_key", ""),
                ("pix_name", ""),
                ("pix_city", ""),
            ],
        )
        .await
        .page_with_status(422)
        .await;
    let page = unescaped(&page);
    assert!(page.contains("CNPJ inválido"), "{page}");
    // What was typed comes back, nothing was saved.
    assert!(page.contains("value=\"Casa da Telha Materiais Ltda\""));
    assert!(page.contains("value=\"12.ABC.345/01DE-36\""));
    assert_eq!(
        store::onboarding::legal_name(&app.db, &tenant.id)
            .await
            .unwrap(),
        ""
    );
    // Saved without a PIX key: the step stays open and says what is missing.
    s.post_form(
        "/loja",
        &[
            ("legal_name", "Casa da Telha Materiais Ltda"),
            ("cnpj", "12345678000195"),
            ("address", "Rua das Telhas, 10"),
            ("phone", "(11) 3333-4444"),
            ("pix_kind", "cnpj"),
            ("pix_key", ""),
        ],
    )
    .await
    .expect_status(303);
    let home = s.page("/").await;
    assert_eq!(progress(&home), "0 de 6 passos");
    assert!(home.contains("Falta: chave Pix."), "{home}");
    // The attendant's overview has no checklist (settings are the owner's).
    let att = app.as_attendant().await;
    assert!(!att.page("/").await.contains("id=\"onboarding\""));
    // Store pages are the owner's.
    att.get("/loja").answer().await.expect_status(403);
    att.get("/simulador").answer().await.expect_status(403);
}

async fn test_chats_are_isolated_between_stores(app: &TestApp) {
    let demo = app.as_owner().await;
    let other = app.signed_in("outra", OWNER_EMAIL, PASSWORD).await;
    demo.page("/simulador").await;
    other.page("/simulador").await;
    let r = sim_send(
        app,
        &demo,
        json!({ "phone": "5511911112222", "text": "oi, vcs tem cimento?" }),
        None,
    )
    .await
    .expect_status(200);
    let view = cookie_from(r.headers(), "oz_sim").unwrap();
    app.drain().await;
    let mine = sim_get(app, &demo, "/simulador/conversa", &view).await;
    assert!(
        mine["messages"].as_array().unwrap().len() >= 2,
        "question and answer: {mine}"
    );
    // The same view cookie on another store's host reads nothing there.
    let theirs = sim_get(app, &other, "/simulador/conversa", &view).await;
    assert_eq!(theirs["messages"], json!([]), "{theirs}");
    let theirs = sim_get(
        app,
        &other,
        "/simulador/messages?phone=5511911112222&after=0",
        &view,
    )
    .await;
    assert_eq!(theirs["messages"], json!([]));
    // Each store's test channel is its own, and neither is a real number.
    let ch = |t: String| {
        let db = app.db.clone();
        async move {
            let mut c = db.read().acquire().await.unwrap();
            store::channels::test_channel(&mut c, &t)
                .await
                .unwrap()
                .unwrap()
        }
    };
    let (a, b) = (
        ch(app.demo.tenant_id.clone()).await,
        ch(app.other.tenant_id.clone()).await,
    );
    assert_ne!(a.phone_number_id, b.phone_number_id);
    // The test messages never reached Meta (the mock Graph API plays Meta here).
    assert!(app.graph.calls().is_empty(), "{:?}", app.graph.calls());
    // The test conversation is in the store's inbox with everything else, under its own
    // number; the WhatsApp page still shows the real one.
    let wa = demo.page("/whatsapp").await;
    assert!(wa.contains(&app.demo.pnid) && !wa.contains(&a.phone_number_id));
    // A Meta id never starts with 0: the WhatsApp form refuses one (it would be a test channel).
    let refused = demo
        .post_form(
            "/whatsapp",
            &[
                ("phone_number_id", "0123456789012345"),
                ("waba_id", ""),
                ("display", ""),
                ("token", ""),
            ],
        )
        .await
        .page_with_status(422)
        .await;
    assert!(refused.contains("não começa com 0"), "{refused}");
    // A write without the CSRF header is refused.
    let r = app
        .http
        .post(app.url("/simulador/send"))
        .header("host", app.host("demo"))
        .header("cookie", format!("oz_session={}", demo.cookie))
        .json(&json!({ "phone": "5511911112222", "text": "oi" }))
        .answer()
        .await;
    assert_eq!(r.status(), 403);
}
