//! The delivery address and the order (issue 15 item 4): after "Confirmar" the bot asks for
//! the address; the answer (words or a shared location) lands on the order; a CEP is looked
//! up at a mock CEP service speaking ViaCEP's wire format, and a service that is down never
//! blocks the order. Webhook → worker → mock Graph API, on SQLite and PostgreSQL.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use common::{fixture_sent_now, text_webhook, TestApp};
use sqlx::Row;
use store::testing::Fixture;
use store::Engine;

testkit::both_engines!(
    OrdersApp;
    confirmation_asks_the_address_and_the_answer_lands_on_the_order,
    a_number_asked_for_completes_the_address,
    shared_location_is_the_address_and_its_cep_is_looked_up,
    cep_fills_the_street_and_notes_a_freight_rule_that_may_change,
    cep_service_down_still_confirms_the_order,
    pickup_is_not_asked_and_an_unanswered_address_stays_pending,
    pedidos_page_marks_paid_and_delivered_with_audit,
    invoice_data_asks_cpf_or_cnpj_after_the_address,
    the_address_exchange_stays_in_the_orders_conversation,
    meta_payments_send_the_order_with_pix_and_its_status_updates,
    brasilapi_provider_fills_the_street_from_the_cep,
    a_message_about_the_order_goes_to_a_person_and_a_new_order_is_quoted,
);

const CUSTOMER: &str = "5511922220000";
const ORDER: &str = "bom dia, preciso de 10 sacos de cimento e 2 metros de areia média, entrega amanhã no Grajaú, pago no pix";

/// A CEP service on a real socket, answering as ViaCEP does; counts look-ups; `down` makes
/// it answer 503.
#[derive(Clone, Default)]
struct MockCep {
    known: Arc<HashMap<String, serde_json::Value>>,
    hits: Arc<AtomicUsize>,
    down: Arc<AtomicBool>,
}

async fn viacep(State(m): State<MockCep>, Path(cep): Path<String>) -> impl IntoResponse {
    m.hits.fetch_add(1, Ordering::SeqCst);
    if m.down.load(Ordering::SeqCst) {
        return (StatusCode::SERVICE_UNAVAILABLE, "indisponível".to_string());
    }
    if cep.len() != 8 || !cep.chars().all(|c| c.is_ascii_digit()) {
        return (
            StatusCode::BAD_REQUEST,
            "<html>Bad Request</html>".to_string(),
        );
    }
    let body = m
        .known
        .get(&cep)
        .cloned()
        .unwrap_or_else(|| serde_json::json!({ "erro": "true" }));
    (StatusCode::OK, body.to_string())
}

fn viacep_answer(cep: &str, street: &str, bairro: &str) -> serde_json::Value {
    serde_json::json!({
        "cep": format!("{}-{}", &cep[..5], &cep[5..]),
        "logradouro": street,
        "complemento": "",
        "unidade": "",
        "bairro": bairro,
        "localidade": "São Paulo",
        "uf": "SP",
        "estado": "São Paulo",
        "regiao": "Sudeste",
        "ibge": "3550308",
        "gia": "1004",
        "ddd": "11",
        "siafi": "7107"
    })
}

/// The same service as BrasilAPI answers (`/api/cep/v1/{cep}`): 404 for an unknown CEP.
async fn brasilapi(State(m): State<MockCep>, Path(cep): Path<String>) -> impl IntoResponse {
    m.hits.fetch_add(1, Ordering::SeqCst);
    match m.known.get(&cep) {
        Some(v) => (
            StatusCode::OK,
            serde_json::json!({
                "cep": cep, "state": v["uf"], "city": v["localidade"],
                "neighborhood": v["bairro"], "street": v["logradouro"], "service": "viacep",
            })
            .to_string(),
        ),
        None => (
            StatusCode::NOT_FOUND,
            serde_json::json!({
                "name": "CepPromiseError", "message": "Todos os serviços de CEP retornaram erro.",
                "type": "service_error", "errors": [],
            })
            .to_string(),
        ),
    }
}

struct OrdersApp {
    app: TestApp,
    cep: MockCep,
    cep_url: String,
}

impl std::ops::Deref for OrdersApp {
    type Target = TestApp;
    fn deref(&self) -> &TestApp {
        &self.app
    }
}

impl Fixture for OrdersApp {
    async fn start(engine: Engine) -> Option<OrdersApp> {
        let known: HashMap<String, serde_json::Value> = [
            // Grajaú is in the demo store's "Zona Sul" rule, like the quote.
            viacep_answer("04812010", "Rua Jaceguava", "Grajaú"),
            // Bela Vista is under no rule of the demo store.
            viacep_answer("01310200", "Avenida Paulista", "Bela Vista"),
        ]
        .into_iter()
        .map(|v| (v["cep"].as_str().unwrap().replace('-', ""), v))
        .collect();
        let cep = MockCep {
            known: Arc::new(known),
            ..MockCep::default()
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let router = axum::Router::new()
            .route("/ws/{cep}/json/", axum::routing::get(viacep))
            .route("/api/cep/v1/{cep}", axum::routing::get(brasilapi))
            .with_state(cep.clone());
        tokio::spawn(async move {
            axum::serve(listener, router).await.ok();
        });
        let cep_url = url.clone();
        let app = TestApp::start_with(engine, |wc| wc.cep_api_base = Some(url)).await?;
        Some(OrdersApp { app, cep, cep_url })
    }

    async fn finish(self) {
        self.app.stop().await;
    }
}

fn now_s() -> i64 {
    store::now_ms() / 1000
}

/// The text messages sent to `to` from call `from` on.
fn texts_to(app: &TestApp, to: &str, from: usize) -> Vec<String> {
    app.graph.calls()[from..]
        .iter()
        .filter(|c| c.to() == to && !c.text().is_empty())
        .map(|c| c.text())
        .collect()
}

/// Orders the demo store's usual request and taps "Confirmar" on its quote.
async fn order_and_confirm(app: &TestApp, customer: &str, n: &str) -> String {
    app.webhook(&text_webhook(customer, &format!("wamid.{n}1"), ORDER))
        .await;
    app.drain().await;
    let number: String = sqlx::query(
        "SELECT q.number FROM quotes q JOIN conversations c ON c.id = q.conversation_id
         JOIN contacts k ON k.id = c.contact_id WHERE k.wa_id = $1",
    )
    .bind(customer)
    .fetch_one(app.db.read())
    .await
    .unwrap()
    .get(0);
    tap_confirm(app, customer, n, &number).await;
    number
}

async fn tap_confirm(app: &TestApp, customer: &str, n: &str, number: &str) {
    let tap = whatsapp::webhook::build_button_reply_webhook(
        "100000000000001",
        "5511933334444",
        customer,
        None,
        &format!("wamid.{n}2"),
        None,
        &format!("quote_accept:{number}"),
        "Confirmar",
        now_s(),
    );
    app.webhook(&tap).await;
    app.drain().await;
}

/// (address_status, street, number, complement, reference, bairro, cep, freight_note).
type OrderAddress = (
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

async fn order_of(app: &TestApp, number: &str) -> OrderAddress {
    let r = sqlx::query(
        "SELECT o.address_status, o.street, o.number, o.complement, o.reference, o.bairro, o.cep, o.freight_note
         FROM orders o JOIN quotes q ON q.id = o.quote_id WHERE q.number = $1",
    )
    .bind(number)
    .fetch_one(app.db.read())
    .await
    .unwrap();
    (
        r.get(0),
        r.get(1),
        r.get(2),
        r.get(3),
        r.get(4),
        r.get(5),
        r.get(6),
        r.get(7),
    )
}

fn s(v: &str) -> Option<String> {
    Some(v.to_string())
}

async fn confirmation_asks_the_address_and_the_answer_lands_on_the_order(app: &OrdersApp) {
    let before = app.graph.calls().len();
    let number = order_and_confirm(app, CUSTOMER, "A").await;
    let sent = texts_to(app, CUSTOMER, before);
    let confirmed = sent
        .iter()
        .position(|t| t.contains("confirmado") && t.contains(&number))
        .unwrap_or_else(|| panic!("confirmation sent: {sent:?}"));
    // Confirmation, PIX code, then the one address question naming what is known.
    let question = sent.last().unwrap();
    assert!(sent.len() >= confirmed + 2, "{sent:?}");
    for word in [
        "rua",
        "número",
        "complemento",
        "ponto de referência",
        "Grajaú",
        "localização",
    ] {
        assert!(question.contains(word), "{word} in {question}");
    }
    let pending = order_of(app, &number).await;
    assert_eq!(pending.0, "pending");
    assert_eq!(pending.5, s("Grajaú"), "the conversation's bairro is kept");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM conversations WHERE state = 'WON'")
            .await,
        1,
        "the order is confirmed before any address"
    );

    let before = app.graph.calls().len();
    app.webhook(&text_webhook(
        CUSTOMER,
        "wamid.A3",
        "rua das flores 123 casa 2 perto do mercado",
    ))
    .await;
    app.drain().await;
    let o = order_of(app, &number).await;
    assert_eq!(o.0, "given");
    assert_eq!(o.1, s("rua das flores"));
    assert_eq!(o.2, s("123"));
    assert_eq!(o.3, s("casa 2"));
    assert_eq!(o.4, s("perto do mercado"));
    assert_eq!(o.5, s("Grajaú"));
    let answer = texts_to(app, CUSTOMER, before);
    assert_eq!(answer.len(), 1, "one answer: {answer:?}");
    assert!(
        answer[0].contains(&number) && answer[0].contains("rua das flores, 123"),
        "{}",
        answer[0]
    );
    // The address was not read as a new order.
    assert_eq!(app.count("SELECT COUNT(*) FROM quotes").await, 1);
    assert_eq!(app.cep.hits.load(Ordering::SeqCst), 0, "no CEP, no look-up");
}

async fn a_number_asked_for_completes_the_address(app: &OrdersApp) {
    let number = order_and_confirm(app, CUSTOMER, "B").await;
    let before = app.graph.calls().len();
    app.webhook(&text_webhook(CUSTOMER, "wamid.B3", "Av. Brasil, apto 12"))
        .await;
    app.drain().await;
    let asked = texts_to(app, CUSTOMER, before);
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert!(asked[0].contains("Qual é o número"), "{}", asked[0]);
    assert_eq!(order_of(app, &number).await.0, "pending");

    app.webhook(&text_webhook(CUSTOMER, "wamid.B4", "1500"))
        .await;
    app.drain().await;
    let o = order_of(app, &number).await;
    assert_eq!(o.0, "given");
    assert_eq!(o.1, s("Av. Brasil"));
    assert_eq!(o.2, s("1500"));
    assert_eq!(o.3, s("apto 12"), "the first message's complement is kept");
}

async fn shared_location_is_the_address_and_its_cep_is_looked_up(app: &OrdersApp) {
    // The fixture's customer.
    let ana = "5531977776666";
    let number = order_and_confirm(app, ana, "C").await;
    let before = app.graph.calls().len();
    app.webhook(&fixture_sent_now("location.json")).await;
    app.drain().await;
    let r = sqlx::query(
        "SELECT o.address_status, o.street, o.number, o.bairro, o.cep, o.latitude, o.longitude, o.freight_note
         FROM orders o JOIN quotes q ON q.id = o.quote_id WHERE q.number = $1",
    )
    .bind(&number)
    .fetch_one(app.db.read())
    .await
    .unwrap();
    assert_eq!(r.get::<String, _>(0), "given");
    assert_eq!(r.get::<Option<String>, _>(1), s("Av. Paulista"));
    assert_eq!(r.get::<Option<String>, _>(2), s("1578"));
    assert_eq!(r.get::<Option<String>, _>(3), s("Bela Vista"));
    assert_eq!(r.get::<Option<String>, _>(4), s("01310200"));
    assert_eq!(r.get::<Option<String>, _>(5), s("-23.561414"));
    assert_eq!(r.get::<Option<String>, _>(6), s("-46.655881"));
    // Bela Vista is under no freight rule of the store; the quote used Zona Sul's.
    assert_eq!(
        r.get::<Option<String>, _>(7),
        s("frete pode mudar: CEP em Bela Vista")
    );
    assert_eq!(app.cep.hits.load(Ordering::SeqCst), 1);
    let answer = texts_to(app, ana, before);
    assert_eq!(answer.len(), 1, "{answer:?}");
    assert!(answer[0].contains("localização"), "{}", answer[0]);
    assert_eq!(app.count("SELECT COUNT(*) FROM quotes").await, 1);
}

async fn cep_fills_the_street_and_notes_a_freight_rule_that_may_change(app: &OrdersApp) {
    let number = order_and_confirm(app, CUSTOMER, "D").await;
    app.webhook(&text_webhook(
        CUSTOMER,
        "wamid.D3",
        "meu cep é 04812-010, número 45, casa 3",
    ))
    .await;
    app.drain().await;
    let o = order_of(app, &number).await;
    assert_eq!(o.0, "given", "CEP and number are enough: {o:?}");
    assert_eq!(o.1, s("Rua Jaceguava"), "street from the CEP service");
    assert_eq!(o.2, s("45"));
    assert_eq!(o.3, s("casa 3"));
    assert_eq!(o.6, s("04812010"));
    assert_eq!(o.7, None, "Grajaú is the quote's own freight rule: no note");
    assert_eq!(app.cep.hits.load(Ordering::SeqCst), 1);

    // Another customer with the same CEP: answered from the cache.
    let other = "5511955550000";
    let second = order_and_confirm(app, other, "E").await;
    app.webhook(&text_webhook(other, "wamid.E3", "cep 04812010 nº 99"))
        .await;
    app.drain().await;
    let o = order_of(app, &second).await;
    assert_eq!((o.1, o.2), (s("Rua Jaceguava"), s("99")));
    assert_eq!(
        app.cep.hits.load(Ordering::SeqCst),
        1,
        "the second look-up of the CEP came from the cache"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM cep_cache WHERE cep = '04812010' AND found = 1")
            .await,
        1
    );
}

async fn cep_service_down_still_confirms_the_order(app: &OrdersApp) {
    app.cep.down.store(true, Ordering::SeqCst);
    let number = order_and_confirm(app, CUSTOMER, "F").await;
    let before = app.graph.calls().len();
    app.webhook(&text_webhook(
        CUSTOMER,
        "wamid.F3",
        "Rua Domingos de Morais, 2187 - CEP 04035-000",
    ))
    .await;
    let done = app.drain().await;
    assert!(
        app.cep.hits.load(Ordering::SeqCst) >= 1,
        "the service was asked"
    );
    let lookup = done
        .iter()
        .find(|(j, _)| j.kind == worker::CEP_LOOKUP_JOB)
        .expect("the look-up ran");
    assert_eq!(
        lookup.1,
        worker::Outcome::Done,
        "a failure is not retried forever"
    );
    let o = order_of(app, &number).await;
    assert_eq!(o.0, "given");
    assert_eq!(o.1, s("Rua Domingos de Morais"), "as the customer wrote it");
    assert_eq!(o.5, s("Grajaú"), "nothing filled from the service");
    assert_eq!(o.7, None);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM quotes WHERE status = 'accepted'")
            .await,
        1
    );
    let answer = texts_to(app, CUSTOMER, before);
    assert!(
        answer.len() == 1 && answer[0].contains("Endereço anotado"),
        "{answer:?}"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM cep_cache").await,
        0,
        "a failure is not cached"
    );
}

async fn pickup_is_not_asked_and_an_unanswered_address_stays_pending(app: &OrdersApp) {
    // A quote a person switched to pickup ("Retirada na loja") on the approval page.
    app.webhook(&text_webhook(CUSTOMER, "wamid.G1", ORDER))
        .await;
    app.drain().await;
    sqlx::query("UPDATE quotes SET snapshot_json = REPLACE(snapshot_json, '\"pickup\":false', '\"pickup\":true')")
        .execute(app.db.write())
        .await
        .unwrap();
    let number: String = sqlx::query("SELECT number FROM quotes")
        .fetch_one(app.db.read())
        .await
        .unwrap()
        .get(0);
    let before = app.graph.calls().len();
    tap_confirm(app, CUSTOMER, "G", &number).await;
    let sent = texts_to(app, CUSTOMER, before);
    assert!(sent.iter().any(|t| t.contains("confirmado")), "{sent:?}");
    assert!(
        !sent
            .iter()
            .any(|t| t.contains("endereço") || t.contains("localização")),
        "no address asked for a pickup: {sent:?}"
    );
    assert_eq!(order_of(app, &number).await.0, "not_needed");
    // An address-looking text after a pickup order is the engine's, not the order's.
    app.webhook(&text_webhook(CUSTOMER, "wamid.G3", "rua das flores 123"))
        .await;
    app.drain().await;
    assert_eq!(order_of(app, &number).await.1, None);

    // A delivery order whose customer answers something else: the order stays confirmed,
    // its address pending, and the message goes to the bot as before.
    let other = "5511966660000";
    let second = order_and_confirm(app, other, "H").await;
    let before = app.graph.calls().len();
    app.webhook(&text_webhook(other, "wamid.H3", "obrigado!"))
        .await;
    app.drain().await;
    let o = order_of(app, &second).await;
    assert_eq!(o.0, "pending");
    assert!(
        !texts_to(app, other, before)
            .iter()
            .any(|t| t.contains("Endereço anotado")),
        "not taken as an address"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM quotes WHERE status = 'accepted'")
            .await,
        2
    );
}

/// The row of order `number` on /pedidos (its `<tr>`).
fn row_of<'a>(html: &'a str, number: &str) -> &'a str {
    let start = html
        .find(&format!("id=\"pedido-{number}\""))
        .unwrap_or_else(|| panic!("{number} listed: {html}"));
    let end = html[start..]
        .find("</tr>")
        .map_or(html.len(), |e| start + e);
    &html[start..end]
}

async fn pedidos_page_marks_paid_and_delivered_with_audit(app: &OrdersApp) {
    let first = order_and_confirm(app, CUSTOMER, "P").await;
    app.webhook(&text_webhook(
        CUSTOMER,
        "wamid.P3",
        "Rua Jaceguava 45 bloco B, perto da padaria",
    ))
    .await;
    app.drain().await;
    let second = order_and_confirm(app, "5511977770000", "Q").await;

    let staff = app.dashboard_login(orcazap::seed::DEMO_ATTENDANT).await;
    let (status, html) = staff.get("/pedidos").await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("href=\"/pedidos\""), "in the top menu");
    // Newest first.
    let (a, b) = (
        html.find(&format!("pedido-{second}")).unwrap(),
        html.find(&format!("pedido-{first}")).unwrap(),
    );
    assert!(a < b, "newest first");
    let row = row_of(&html, &first);
    let total: i64 = sqlx::query("SELECT total_cents FROM quotes WHERE number = $1")
        .bind(&first)
        .fetch_one(app.db.read())
        .await
        .unwrap()
        .get(0);
    assert!(
        row.contains(&domain::money::Centavos(total).to_brl()),
        "{row}"
    );
    assert!(row.contains("Rua Jaceguava, 45"), "{row}");
    assert!(row.contains("perto da padaria"), "{row}");
    assert!(row.contains("amanhã"), "delivery day: {row}");
    assert!(row.contains("Aguardando pagamento"), "{row}");
    // Whoever delivers can call the customer and open the conversation.
    assert!(row.contains("href=\"tel:+"), "the customer's phone: {row}");
    assert!(
        row.contains("href=\"/conversas/"),
        "the conversation: {row}"
    );
    let pending = row_of(&html, &second);
    assert!(pending.contains("endereço pendente"), "{pending}");

    let id: String = sqlx::query(
        "SELECT o.id FROM orders o JOIN quotes q ON q.id = o.quote_id WHERE q.number = $1",
    )
    .bind(&first)
    .fetch_one(app.db.read())
    .await
    .unwrap()
    .get(0);
    // A POST from elsewhere (no session, no CSRF token): refused, nothing changes.
    let forged = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(app.url(&format!("/pedidos/{id}/pago")))
        .header("host", format!("demo.localhost:{}", app.addr.port()))
        .send()
        .await
        .unwrap();
    assert!(!forged.status().is_success(), "{}", forged.status());
    assert_eq!(
        app.count("SELECT COUNT(*) FROM orders WHERE payment_state = 'aguardando'")
            .await,
        2
    );

    let r = staff.post(&format!("/pedidos/{id}/pago"), &[]).await;
    assert_eq!(r.status(), 303);
    let (_, html) = staff.get("/pedidos?ok=pedido-pago").await;
    assert!(html.contains("Pedido marcado como pago."));
    let row = row_of(&html, &first);
    assert!(row.contains(">Pago<"), "{row}");
    assert!(row.contains(orcazap::seed::DEMO_ATTENDANT), "who: {row}");
    assert!(!row.contains("Marcar pago"), "{row}");
    // Paid twice (an old page): refused with the reason, nothing audited twice.
    let again = staff.post(&format!("/pedidos/{id}/pago"), &[]).await;
    assert_eq!(again.status(), 409);
    assert!(again.text().await.unwrap().contains("já está como"));

    let owner = app.dashboard_login(orcazap::seed::DEMO_OWNER).await;
    let r = owner.post(&format!("/pedidos/{id}/entregue"), &[]).await;
    assert_eq!(r.status(), 303);
    let (_, html) = owner.get("/pedidos").await;
    let row = row_of(&html, &first);
    assert!(row.contains(">Entregue<"), "{row}");
    assert!(row.contains(orcazap::seed::DEMO_OWNER), "{row}");
    assert!(!row.contains("Marcar entregue"), "{row}");

    let audit = sqlx::query(
        "SELECT actor_label, before_json, after_json FROM audit_log
         WHERE action = 'order.payment_state' AND entity_id = $1 ORDER BY created_at, id",
    )
    .bind(&id)
    .fetch_all(app.db.read())
    .await
    .unwrap();
    let audit: Vec<(String, String, String)> = audit
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(audit.len(), 2, "{audit:?}");
    assert_eq!(audit[0].0, orcazap::seed::DEMO_ATTENDANT);
    assert!(audit[0].1.contains("aguardando") && audit[0].2.contains("pago"));
    assert_eq!(audit[1].0, orcazap::seed::DEMO_OWNER);
    assert!(audit[1].2.contains("entregue"));
    // Another store's order id is not found here.
    let r = owner.post("/pedidos/nao-existe/pago", &[]).await;
    assert_eq!(r.status(), 404);
}

async fn invoice_data_asks_cpf_or_cnpj_after_the_address(app: &OrdersApp) {
    // The owner turns on "Pedir dados para nota" on /regras.
    let owner = app.dashboard_login(orcazap::seed::DEMO_OWNER).await;
    let r = owner
        .post("/regras/dados-nota", &[("invoice_data", "on")])
        .await;
    assert_eq!(r.status(), 303);
    let (_, rules) = owner.get("/regras").await;
    assert!(rules.contains("id=\"invoice-data\" checked"), "saved");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'rules.invoice_data'")
            .await,
        1
    );

    let number = order_and_confirm(app, CUSTOMER, "I").await;
    let before = app.graph.calls().len();
    app.webhook(&text_webhook(CUSTOMER, "wamid.I3", "rua das flores 123"))
        .await;
    app.drain().await;
    let sent = texts_to(app, CUSTOMER, before);
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert!(sent[0].contains("Endereço anotado"), "{}", sent[0]);
    assert!(
        sent[1].contains("CPF") && sent[1].contains("CNPJ"),
        "then the CPF/CNPJ: {}",
        sent[1]
    );

    // A CPF whose check digits do not match: refused with the reason, nothing stored.
    let before = app.graph.calls().len();
    app.webhook(&text_webhook(
        CUSTOMER,
        "wamid.I4",
        "meu cpf é 529.982.247-24",
    ))
    .await;
    app.drain().await;
    let sent = texts_to(app, CUSTOMER, before);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(sent[0].contains("não confere"), "{}", sent[0]);
    let stored = format!(
        "SELECT COUNT(*) FROM orders o JOIN quotes q ON q.id = o.quote_id WHERE q.number = '{number}' AND o.tax_id IS NOT NULL"
    );
    assert_eq!(app.count(&stored).await, 0);

    // The alphanumeric CNPJ (valid from July 2026).
    let before = app.graph.calls().len();
    app.webhook(&text_webhook(
        CUSTOMER,
        "wamid.I5",
        "CNPJ 12.ABC.345/01DE-35",
    ))
    .await;
    app.drain().await;
    let sent = texts_to(app, CUSTOMER, before);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(sent[0].contains("12.ABC.345/01DE-35"), "{}", sent[0]);
    let tax: Option<String> = sqlx::query(
        "SELECT o.tax_id FROM orders o JOIN quotes q ON q.id = o.quote_id WHERE q.number = $1",
    )
    .bind(&number)
    .fetch_one(app.db.read())
    .await
    .unwrap()
    .get(0);
    assert_eq!(tax, s("12ABC34501DE35"));
    let (_, html) = owner.get("/pedidos").await;
    assert!(
        row_of(&html, &number)
            .replace("&#x2f;", "/")
            .contains("CNPJ 12.ABC.345/01DE-35"),
        "{html}"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM quotes").await, 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM conversations").await,
        1,
        "address and CPF/CNPJ answered in the order's conversation"
    );
}

/// The conversation of message `wamid`.
async fn conversation_of_message(app: &TestApp, wamid: &str) -> String {
    sqlx::query("SELECT conversation_id FROM messages WHERE provider_message_id = $1")
        .bind(wamid)
        .fetch_one(app.db.read())
        .await
        .unwrap()
        .get(0)
}

async fn the_address_exchange_stays_in_the_orders_conversation(app: &OrdersApp) {
    let number = order_and_confirm(app, CUSTOMER, "J").await;
    let home: String = sqlx::query("SELECT conversation_id FROM quotes WHERE number = $1")
        .bind(&number)
        .fetch_one(app.db.read())
        .await
        .unwrap()
        .get(0);
    app.webhook(&text_webhook(
        CUSTOMER,
        "wamid.J3",
        "rua das flores 123 casa 2 perto do mercado",
    ))
    .await;
    app.drain().await;
    assert_eq!(order_of(app, &number).await.0, "given");
    // The customer's answer and the bot's are in the order's conversation; no other one.
    assert_eq!(app.count("SELECT COUNT(*) FROM conversations").await, 1);
    assert_eq!(conversation_of_message(app, "wamid.J3").await, home);
    let reply_home: String = sqlx::query(
        "SELECT conversation_id FROM messages WHERE direction = 'out' AND body LIKE 'Endereço anotado%'",
    )
    .fetch_one(app.db.read())
    .await
    .unwrap()
    .get(0);
    assert_eq!(reply_home, home);
    let state: String = sqlx::query("SELECT state FROM conversations WHERE id = $1")
        .bind(&home)
        .fetch_one(app.db.read())
        .await
        .unwrap()
        .get(0);
    assert_eq!(state, "WON", "the order's conversation stays won");
    let owner = app.dashboard_login(orcazap::seed::DEMO_OWNER).await;
    let (_, inbox) = owner.get("/conversas").await;
    assert_eq!(
        inbox.matches("class=\"card row-link conv").count(),
        1,
        "one conversation in the inbox: {inbox}"
    );
    assert!(
        inbox.contains(">Ganha</span>") && !inbox.contains(">Nova</span>"),
        "the won one, no spurious new one: {inbox}"
    );
    let (_, transcript) = owner.get(&format!("/conversas/{home}")).await;
    assert!(
        transcript.contains("rua das flores 123") && transcript.contains("Endereço anotado"),
        "the exchange is in the order's transcript"
    );

    // A message that is not about the order still opens a new conversation.
    app.webhook(&text_webhook(
        CUSTOMER,
        "wamid.J4",
        "preciso também de 5 sacos de cimento",
    ))
    .await;
    app.drain().await;
    assert_eq!(app.count("SELECT COUNT(*) FROM conversations").await, 2);
    assert_ne!(conversation_of_message(app, "wamid.J4").await, home);
}

/// The interactive bodies of `kind` sent to `to` from call `from` on.
fn interactive_to(app: &TestApp, to: &str, from: usize, kind: &str) -> Vec<serde_json::Value> {
    app.graph.calls()[from..]
        .iter()
        .filter(|c| c.to() == to && c.body["interactive"]["type"] == kind)
        .map(|c| c.body.clone())
        .collect()
}

async fn meta_payments_send_the_order_with_pix_and_its_status_updates(app: &OrdersApp) {
    let owner = app.dashboard_login(orcazap::seed::DEMO_OWNER).await;
    let r = owner
        .post("/regras/pagamentos-meta", &[("meta_payments", "on")])
        .await;
    assert_eq!(r.status(), 303);
    let (_, rules) = owner.get("/regras").await;
    assert!(rules.contains("id=\"meta-payments\" checked"), "saved");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'rules.meta_payments'")
            .await,
        1
    );

    let before = app.graph.calls().len();
    let number = order_and_confirm(app, CUSTOMER, "M").await;
    let orders = interactive_to(app, CUSTOMER, before, "order_details");
    assert_eq!(orders.len(), 1, "one order_details message");
    let p = &orders[0]["interactive"]["action"]["parameters"];
    assert_eq!(orders[0]["interactive"]["action"]["name"], "review_and_pay");
    assert_eq!(p["reference_id"], number.as_str());
    assert_eq!(p["payment_type"], "br");
    assert_eq!(p["currency"], "BRL");
    let (total, snapshot): (i64, String) = {
        let r = sqlx::query("SELECT total_cents, snapshot_json FROM quotes WHERE number = $1")
            .bind(&number)
            .fetch_one(app.db.read())
            .await
            .unwrap();
        (r.get(0), r.get(1))
    };
    assert_eq!(p["total_amount"]["value"], total);
    assert_eq!(p["total_amount"]["offset"], 100);
    let priced: domain::pricing::PricedQuote = serde_json::from_str(&snapshot).unwrap();
    let items = p["order"]["items"].as_array().unwrap();
    assert_eq!(items.len(), priced.lines.len());
    let sum: i64 = items
        .iter()
        .map(|i| i["amount"]["value"].as_i64().unwrap() * i["quantity"].as_i64().unwrap())
        .sum();
    assert_eq!(sum, priced.subtotal.0, "items add up to the subtotal");
    assert_eq!(p["order"]["subtotal"]["value"], priced.subtotal.0);
    assert_eq!(
        p["order"]["shipping"]["value"].as_i64().unwrap_or(0),
        priced.freight.unwrap().0
    );
    assert_eq!(
        p["order"]["discount"]["value"].as_i64().unwrap_or(0),
        priced.payment_discount.0
    );
    assert!(p["order"]["expiration"]["timestamp"].is_string());
    let pix = &p["payment_settings"][0];
    assert_eq!(pix["type"], "pix_dynamic_code");
    let code = pix["pix_dynamic_code"]["code"].as_str().unwrap();
    assert!(code.starts_with("000201"), "{code}");
    assert!(pix["pix_dynamic_code"]["key_type"].is_string());
    // Instead of the plain copia-e-cola text, not beside it.
    assert!(
        !texts_to(app, CUSTOMER, before)
            .iter()
            .any(|t| t.starts_with("000201")),
        "no plain PIX text"
    );
    let reference: Option<String> = sqlx::query(
        "SELECT o.meta_reference FROM orders o JOIN quotes q ON q.id = o.quote_id WHERE q.number = $1",
    )
    .bind(&number)
    .fetch_one(app.db.read())
    .await
    .unwrap()
    .get(0);
    assert_eq!(reference.as_deref(), Some(number.as_str()));

    // Staff mark it paid, then delivered: the customer's WhatsApp order follows.
    let id: String = sqlx::query(
        "SELECT o.id FROM orders o JOIN quotes q ON q.id = o.quote_id WHERE q.number = $1",
    )
    .bind(&number)
    .fetch_one(app.db.read())
    .await
    .unwrap()
    .get(0);
    for (path, status) in [("pago", "processing"), ("entregue", "completed")] {
        let before = app.graph.calls().len();
        let r = owner.post(&format!("/pedidos/{id}/{path}"), &[]).await;
        assert_eq!(r.status(), 303);
        app.drain().await;
        let updates = interactive_to(app, CUSTOMER, before, "order_status");
        assert_eq!(updates.len(), 1, "{path}");
        let a = &updates[0]["interactive"]["action"];
        assert_eq!(a["name"], "review_order");
        assert_eq!(a["parameters"]["reference_id"], number.as_str());
        assert_eq!(a["parameters"]["order"]["status"], status);
    }
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM messages WHERE kind = 'order_status' AND status <> 'failed'"
        )
        .await,
        2
    );
}

async fn brasilapi_provider_fills_the_street_from_the_cep(app: &OrdersApp) {
    // A worker configured for BrasilAPI's format (ORCAZAP_CEP_PROVIDER=brasilapi) at the mock.
    let url = app.cep_url.clone();
    let Some(other) = TestApp::start_with(app.db.engine(), |wc| {
        wc.cep_api_base = Some(url);
        wc.cep_provider = "brasilapi".into();
    })
    .await
    else {
        return;
    };
    let number = order_and_confirm(&other, CUSTOMER, "K").await;
    other
        .webhook(&text_webhook(
            CUSTOMER,
            "wamid.K3",
            "meu cep é 04812-010, número 45, casa 3",
        ))
        .await;
    other.drain().await;
    let o = order_of(&other, &number).await;
    assert_eq!(o.0, "given", "{o:?}");
    assert_eq!(o.1, s("Rua Jaceguava"), "street from BrasilAPI's answer");
    assert_eq!(o.5, s("Grajaú"));
    assert_eq!(app.cep.hits.load(Ordering::SeqCst), 1);
    // A CEP BrasilAPI does not know (404): unknown, the order keeps what was written.
    let second = order_and_confirm(&other, "5511955550000", "L").await;
    other
        .webhook(&text_webhook(
            "5511955550000",
            "wamid.L3",
            "Rua das Acácias 10, cep 09999-999",
        ))
        .await;
    let done = other.drain().await;
    assert!(done
        .iter()
        .any(|(j, o)| j.kind == worker::CEP_LOOKUP_JOB && *o == worker::Outcome::Done));
    let o = order_of(&other, &second).await;
    assert_eq!(o.1, s("Rua das Acácias"));
    assert_eq!(app.cep.hits.load(Ordering::SeqCst), 2);
    assert_eq!(
        other
            .count("SELECT COUNT(*) FROM cep_cache WHERE cep = '09999999' AND found = 0")
            .await,
        1,
        "unknown is cached as unknown"
    );
    other.stop().await;
}

/// After the order: "ja paguei" (and "oi" before it) is about the order — one answer naming
/// it, and a person takes it with the order's number and the customer's words as the reason;
/// it used to get the welcome text and reach nobody. A new complete order is still quoted.
async fn a_message_about_the_order_goes_to_a_person_and_a_new_order_is_quoted(app: &OrdersApp) {
    let paula = "5511922229001";
    let number = order_and_confirm(app, paula, "P").await;
    app.webhook(&text_webhook(paula, "wamid.P3", "rua das flores 123"))
        .await;
    app.drain().await;
    let before = app.graph.calls().len();
    app.webhook(&text_webhook(paula, "wamid.P4", "oi")).await;
    app.drain().await;
    app.webhook(&text_webhook(
        paula,
        "wamid.P5",
        "ja paguei, segue o comprovante",
    ))
    .await;
    app.drain().await;
    let sent = texts_to(app, paula, before);
    let ack = sent.last().unwrap();
    assert!(
        ack.contains(&number) && ack.contains("Uma pessoa da equipe"),
        "{sent:?}"
    );
    let (state, why): (String, Option<String>) = {
        let r = sqlx::query(
            "SELECT c.state, c.waiting_reason FROM conversations c
             JOIN contacts k ON k.id = c.contact_id
             WHERE k.wa_id = $1 AND c.state <> 'WON' ORDER BY c.created_at DESC LIMIT 1",
        )
        .bind(paula)
        .fetch_one(app.db.read())
        .await
        .unwrap();
        (r.get(0), r.get(1))
    };
    assert_eq!(state, "WAITING_PERSON");
    let why = why.unwrap_or_default();
    assert!(
        why.contains(&number) && why.contains("ja paguei, segue o comprovante"),
        "{why}"
    );
    // Nothing more is said while the person has it.
    let before = app.graph.calls().len();
    app.webhook(&text_webhook(paula, "wamid.P6", "?")).await;
    app.drain().await;
    assert!(texts_to(app, paula, before).is_empty());

    // Another customer's new order after a confirmed one is quoted as before.
    let quim = "5511922229002";
    order_and_confirm(app, quim, "Q").await;
    app.webhook(&text_webhook(quim, "wamid.Q3", "rua azul 9"))
        .await;
    app.drain().await;
    app.webhook(&text_webhook(
        quim,
        "wamid.Q4",
        "agora 5 sacos de cimento pro grajau amanha no pix",
    ))
    .await;
    app.drain().await;
    let quotes: i64 = sqlx::query(
        "SELECT COUNT(*) FROM quotes q JOIN conversations c ON c.id = q.conversation_id
         JOIN contacts k ON k.id = c.contact_id WHERE k.wa_id = $1",
    )
    .bind(quim)
    .fetch_one(app.db.read())
    .await
    .unwrap()
    .get(0);
    assert_eq!(quotes, 2, "the new order was quoted");
}
