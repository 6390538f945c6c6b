//! The shared mock Graph API (`whatsapp::mock`, feature `mock`) over real HTTP: every Meta
//! limit it enforces is refused with Meta's error envelope and code, the value just at the
//! limit is accepted, and a valid message gets Meta's success body.

use serde_json::{json, Value};
use whatsapp::mock::{codes, MockGraph, Outcome};

const TOKEN: &str = "EAAG-mock-test-token";

fn text(body: &str) -> Value {
    json!({
        "messaging_product": "whatsapp", "recipient_type": "individual",
        "to": "5511987654321", "type": "text",
        "text": { "preview_url": false, "body": body },
    })
}

fn button(id: &str, title: &str) -> Value {
    json!({ "type": "reply", "reply": { "id": id, "title": title } })
}

fn buttons(body: &str, buttons: Vec<Value>) -> Value {
    json!({
        "messaging_product": "whatsapp", "recipient_type": "individual",
        "to": "5511987654321", "type": "interactive",
        "interactive": { "type": "button", "body": { "text": body }, "action": { "buttons": buttons } },
    })
}

fn row(id: &str, title: &str, description: &str) -> Value {
    json!({ "id": id, "title": title, "description": description })
}

fn list(body: &str, button: &str, sections: Vec<Value>) -> Value {
    json!({
        "messaging_product": "whatsapp", "recipient_type": "individual",
        "to": "5511987654321", "type": "interactive",
        "interactive": {
            "type": "list",
            "header": { "type": "text", "text": "Formas de pagamento" },
            "body": { "text": body },
            "footer": { "text": "Depósito Demo" },
            "action": { "button": button, "sections": sections },
        },
    })
}

fn section(title: &str, rows: Vec<Value>) -> Value {
    json!({ "title": title, "rows": rows })
}

async fn post(mock: &MockGraph, token: Option<&str>, body: String) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .post(format!("{}/v25.0/100000000000001/messages", mock.url))
        .header("content-type", "application/json")
        .body(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.expect("mock answers");
    let status = r.status().as_u16();
    (status, r.json().await.expect("JSON answer"))
}

async fn send(mock: &MockGraph, msg: &Value) -> (u16, Value) {
    post(mock, Some(TOKEN), msg.to_string()).await
}

/// Refused with HTTP 400 and Meta's envelope carrying `code`.
async fn assert_refused(mock: &MockGraph, msg: Value, code: i64, why: &str) {
    let (status, body) = send(mock, &msg).await;
    assert_eq!(status, 400, "{why}: {body}");
    let e = &body["error"];
    assert_eq!(e["code"], code, "{why}: {body}");
    assert_eq!(e["type"], "OAuthException", "{why}");
    assert!(
        e["message"]
            .as_str()
            .is_some_and(|m| m.starts_with(&format!("(#{code}) "))),
        "{why}: {body}"
    );
    assert_eq!(e["error_data"]["messaging_product"], "whatsapp", "{why}");
    assert!(
        e["error_data"]["details"]
            .as_str()
            .is_some_and(|d| !d.is_empty()),
        "{why}: {body}"
    );
    assert!(e["fbtrace_id"].is_string(), "{why}");
    let last = mock.calls().pop().expect("recorded");
    assert!(
        matches!(&last.outcome, Outcome::Refused(r) if r.code == code),
        "{why}: {:?}",
        last.outcome
    );
}

async fn assert_accepted(mock: &MockGraph, msg: Value, why: &str) {
    let (status, body) = send(mock, &msg).await;
    assert_eq!(status, 200, "{why}: {body}");
    assert_eq!(body["messaging_product"], "whatsapp");
    assert_eq!(body["contacts"][0]["input"], msg["to"]);
    assert_eq!(body["contacts"][0]["wa_id"], msg["to"]);
    let wamid = body["messages"][0]["id"].as_str().expect("wamid");
    assert!(wamid.starts_with("wamid."), "{wamid}");
    assert_eq!(mock.calls().pop().unwrap().wamid(), Some(wamid), "{why}");
}

#[tokio::test]
async fn valid_messages_are_accepted_at_every_limit() {
    let mock = MockGraph::builder().token(TOKEN).start().await;
    assert_accepted(&mock, text("oi"), "short text").await;
    // Characters, not bytes: 4,096 "ç" are 8,192 bytes and still fit.
    assert_accepted(&mock, text(&"ç".repeat(4096)), "text at 4,096").await;
    let three = vec![
        button("quote_accept", "Confirmar"),
        button("quote_change", "Alterar pedido"),
        button(&"i".repeat(256), &"t".repeat(20)),
    ];
    assert_accepted(
        &mock,
        buttons(&"é".repeat(1024), three),
        "buttons at limits",
    )
    .await;
    let mut with_header = buttons("Confirma?", vec![button("a", "Sim")]);
    with_header["interactive"]["header"] = json!({ "type": "text", "text": "h".repeat(60) });
    with_header["interactive"]["footer"] = json!({ "text": "f".repeat(60) });
    with_header["context"] = json!({ "message_id": "wamid.ABC" });
    assert_accepted(&mock, with_header, "header, footer and context").await;
    let ten_rows: Vec<Value> = (0..10)
        .map(|i| row(&format!("r{i}"), &"t".repeat(24), &"d".repeat(72)))
        .collect();
    let (a, b) = ten_rows.split_at(5);
    let msg = list(
        &"x".repeat(4096),
        &"b".repeat(20),
        vec![
            section(&"s".repeat(24), a.to_vec()),
            section("Outros", b.to_vec()),
        ],
    );
    assert_accepted(&mock, msg, "list at limits").await;
    assert_eq!(mock.accepted().len(), 5);
    assert!(mock.refused().is_empty());
}

#[tokio::test]
async fn text_limits_are_refused_with_metas_codes() {
    let mock = MockGraph::start().await;
    let p = codes::PARAMETER_VALUE_NOT_VALID;
    assert_refused(&mock, text(&"a".repeat(4097)), p, "text over 4,096").await;
    assert_refused(&mock, text("  "), p, "blank text").await;
    let mut m = text("oi");
    m["to"] = json!("+5511987654321");
    assert_refused(&mock, m, p, "to with +").await;
    let mut m = text("oi");
    m["to"] = json!("5511 98765-4321");
    assert_refused(&mock, m, p, "to with spaces").await;
    let mut m = text("oi");
    m["to"] = json!("1234567890123456");
    assert_refused(&mock, m, p, "to over 15 digits").await;
    let mut m = text("oi");
    m["messaging_product"] = json!("instagram");
    assert_refused(&mock, m, p, "messaging_product").await;
    let mut m = text("oi");
    m.as_object_mut().unwrap().remove("messaging_product");
    assert_refused(&mock, m, codes::REQUIRED_PARAMETER_MISSING, "no product").await;
    let mut m = text("oi");
    m.as_object_mut().unwrap().remove("to");
    assert_refused(&mock, m, codes::REQUIRED_PARAMETER_MISSING, "no to").await;
    let mut m = text("oi");
    m["type"] = json!("interactive");
    assert_refused(&mock, m, codes::INVALID_PARAMETER, "type ≠ payload").await;
    let mut m = text("oi");
    m["type"] = json!("document");
    assert_refused(&mock, m, codes::INVALID_PARAMETER, "unmodelled type").await;
    let mut m = text("oi");
    m["priority"] = json!("high");
    assert_refused(&mock, m, codes::INVALID_PARAMETER, "unknown top field").await;
    let mut m = text("oi");
    m["text"]["bold"] = json!(true);
    assert_refused(&mock, m, codes::INVALID_PARAMETER, "unknown text field").await;
    assert!(mock.accepted().is_empty());
}

#[tokio::test]
async fn button_limits_are_refused_with_metas_codes() {
    let mock = MockGraph::start().await;
    let p = codes::PARAMETER_VALUE_NOT_VALID;
    let one = || vec![button("a", "Sim")];
    assert_refused(&mock, buttons(&"a".repeat(1025), one()), p, "body 1,025").await;
    assert_refused(&mock, buttons("Escolha", vec![]), p, "no button").await;
    let four = (0..4).map(|i| button(&format!("b{i}"), &format!("Opção {i}")));
    assert_refused(&mock, buttons("Escolha", four.collect()), p, "4 buttons").await;
    let long_title = vec![button("a", &"t".repeat(21))];
    assert_refused(&mock, buttons("Escolha", long_title), p, "title 21").await;
    let long_id = vec![button(&"i".repeat(257), "Sim")];
    assert_refused(&mock, buttons("Escolha", long_id), p, "id 257").await;
    let same_id = vec![button("a", "Sim"), button("a", "Não")];
    assert_refused(&mock, buttons("Escolha", same_id), p, "repeated id").await;
    let same_title = vec![button("a", "Sim"), button("b", "Sim")];
    assert_refused(&mock, buttons("Escolha", same_title), p, "repeated title").await;
    let mut m = buttons("Escolha", one());
    m["interactive"]["header"] = json!({ "type": "text", "text": "h".repeat(61) });
    assert_refused(&mock, m, p, "header 61").await;
    let mut m = buttons("Escolha", one());
    m["interactive"]["footer"] = json!({ "text": "f".repeat(61) });
    assert_refused(&mock, m, p, "footer 61").await;
    let mut m = buttons("Escolha", one());
    m["interactive"]["action"]["buttons"][0]["reply"]["payload"] = json!("x");
    assert_refused(&mock, m, codes::INVALID_PARAMETER, "unknown reply field").await;
    let mut m = buttons("Escolha", one());
    m["interactive"].as_object_mut().unwrap().remove("body");
    assert_refused(&mock, m, codes::REQUIRED_PARAMETER_MISSING, "no body").await;
    assert!(mock.accepted().is_empty());
}

#[tokio::test]
async fn list_limits_are_refused_with_metas_codes() {
    let mock = MockGraph::start().await;
    let p = codes::PARAMETER_VALUE_NOT_VALID;
    let ok_rows = || vec![row("pix", "PIX", "5% de desconto")];
    let ok = |rows: Vec<Value>| vec![section("Pagamento", rows)];
    assert_refused(
        &mock,
        list(&"a".repeat(4097), "Ver", ok(ok_rows())),
        p,
        "body 4,097",
    )
    .await;
    assert_refused(
        &mock,
        list("Escolha", &"b".repeat(21), ok(ok_rows())),
        p,
        "button 21",
    )
    .await;
    let eleven: Vec<Value> = (0..11).map(|i| row(&format!("r{i}"), "Item", "")).collect();
    let (a, b) = eleven.split_at(6);
    let split = vec![section("A", a.to_vec()), section("B", b.to_vec())];
    assert_refused(
        &mock,
        list("Escolha", "Ver", split),
        p,
        "11 rows in 2 sections",
    )
    .await;
    let long_row = vec![row("r", &"t".repeat(25), "")];
    assert_refused(
        &mock,
        list("Escolha", "Ver", ok(long_row)),
        p,
        "row title 25",
    )
    .await;
    let long_desc = vec![row("r", "Item", &"d".repeat(73))];
    assert_refused(
        &mock,
        list("Escolha", "Ver", ok(long_desc)),
        p,
        "description 73",
    )
    .await;
    let long_id = vec![row(&"i".repeat(201), "Item", "")];
    assert_refused(&mock, list("Escolha", "Ver", ok(long_id)), p, "row id 201").await;
    let dup = vec![row("r", "Um", ""), row("r", "Dois", "")];
    assert_refused(&mock, list("Escolha", "Ver", ok(dup)), p, "repeated row id").await;
    let long_section = vec![section(&"s".repeat(25), ok_rows())];
    assert_refused(&mock, list("Escolha", "Ver", long_section), p, "section 25").await;
    let mut m = list("Escolha", "Ver", ok(ok_rows()));
    m["interactive"]["header"] = json!({ "type": "image", "image": { "id": "1" } });
    assert_refused(&mock, m, p, "list header must be text").await;
    let untitled = vec![json!({ "rows": ok_rows() }), section("B", ok_rows())];
    assert_refused(
        &mock,
        list("Escolha", "Ver", untitled),
        codes::REQUIRED_PARAMETER_MISSING,
        "untitled section among several",
    )
    .await;
    assert!(mock.accepted().is_empty());
}

#[tokio::test]
async fn token_path_and_json_are_checked_like_meta() {
    let mock = MockGraph::builder().token(TOKEN).start().await;
    for token in [None, Some(""), Some("another-token")] {
        let (status, body) = post(&mock, token, text("oi").to_string()).await;
        assert_eq!(status, 401, "{token:?}");
        assert_eq!(body["error"]["code"], codes::INVALID_TOKEN);
        assert_eq!(body["error"]["type"], "OAuthException");
    }
    let (status, body) = post(&mock, Some(TOKEN), "{not json".into()).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], codes::INVALID_PARAMETER);
    let r = reqwest::Client::new()
        .post(format!("{}/v25.0/12ab/messages", mock.url))
        .bearer_auth(TOKEN)
        .body(text("oi").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "phone number id must be digits");
    assert_eq!(mock.calls().len(), 5);
    assert!(mock.accepted().is_empty());
}

#[tokio::test]
async fn scripted_answers_follow_the_rules_check() {
    let mock = MockGraph::start().await;
    mock.script(429, r#"{"error":{"code":130429}}"#);
    // An invalid message is refused without using the script…
    assert_eq!(send(&mock, &text("")).await.0, 400);
    // …which then answers the next valid one, and success follows.
    assert_eq!(send(&mock, &text("oi")).await.0, 429);
    assert_eq!(send(&mock, &text("oi")).await.0, 200);
    let outcomes: Vec<Outcome> = mock.calls().into_iter().map(|c| c.outcome).collect();
    assert!(matches!(outcomes[0], Outcome::Refused(_)));
    assert_eq!(outcomes[1], Outcome::Scripted { status: 429 });
    assert!(matches!(&outcomes[2], Outcome::Accepted { wamid } if wamid == "wamid.MOCK-1"));
}

/// Issue 18 item 4: since 2026 a message may go to a business-scoped user id in `recipient`
/// (no `to`); Meta answers with `contacts[].user_id`. With both, `to` wins. A phone in
/// `recipient`, a malformed id, or neither field is refused.
#[tokio::test]
async fn recipient_by_user_id_is_accepted_like_meta() {
    let mock = MockGraph::builder().token(TOKEN).start().await;
    let by_user_id = |recipient: &str| {
        let mut m = text("oi");
        m.as_object_mut().unwrap().remove("to");
        m["recipient"] = json!(recipient);
        m
    };
    let (status, body) = send(&mock, &by_user_id("BR.1502576394655843")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["contacts"][0]["input"], "BR.1502576394655843");
    assert_eq!(body["contacts"][0]["user_id"], "BR.1502576394655843");
    assert!(body["contacts"][0].get("wa_id").is_none(), "{body}");
    let call = mock.calls().pop().unwrap();
    assert_eq!(call.recipient(), Some("BR.1502576394655843"));
    assert_eq!(call.to(), "");
    let (status, body) = send(&mock, &by_user_id("US.ENT.11815799212886844830")).await;
    assert_eq!(status, 200, "parent BSUID: {body}");
    let mut both = text("oi");
    both["recipient"] = json!("BR.1502576394655843");
    assert_accepted(&mock, both, "to and recipient: to wins").await;
    for bad in ["5511987654321", "BR.", "br.123", "BR.12-34", "BRA.1"] {
        assert_refused(
            &mock,
            by_user_id(bad),
            codes::PARAMETER_VALUE_NOT_VALID,
            &format!("recipient {bad}"),
        )
        .await;
    }
    let mut neither = text("oi");
    neither.as_object_mut().unwrap().remove("to");
    assert_refused(
        &mock,
        neither,
        codes::REQUIRED_PARAMETER_MISSING,
        "no addressee",
    )
    .await;
}

fn cta(body: &str, display_text: &str, url: &str) -> Value {
    json!({
        "messaging_product": "whatsapp", "recipient_type": "individual",
        "to": "5511987654321", "type": "interactive",
        "interactive": {
            "type": "cta_url",
            "body": { "text": body },
            "action": { "name": "cta_url", "parameters": { "display_text": display_text, "url": url } },
        },
    })
}

/// The quote page's link button (`cta_url`): label ≤ 20, an http(s) URL, body ≤ 1,024, and
/// the shape Meta documents (`action.name`, `action.parameters`); what we build is accepted.
#[tokio::test]
async fn cta_url_buttons_are_checked_like_meta() {
    let mock = MockGraph::start().await;
    let url = "https://orcazap.com.br/q/abc.def";
    assert_accepted(
        &mock,
        cta(&"a".repeat(1024), &"b".repeat(20), url),
        "at the limits",
    )
    .await;
    let ours = whatsapp::graph::OutboundMessage::CtaUrl {
        to: "5511987654321".into(),
        body: "Veja o orçamento ORC-2026-000001 com o código PIX.".into(),
        display_text: "Ver orçamento".into(),
        url: url.into(),
    };
    assert!(ours.validate().is_ok());
    assert_accepted(&mock, ours.to_graph_json(), "as the product builds it").await;

    let p = codes::PARAMETER_VALUE_NOT_VALID;
    assert_refused(&mock, cta(&"a".repeat(1025), "Ver", url), p, "body 1,025").await;
    assert_refused(&mock, cta("Veja", &"b".repeat(21), url), p, "label 21").await;
    assert_refused(
        &mock,
        cta("Veja", "Ver", "javascript:alert(1)"),
        p,
        "not http",
    )
    .await;
    assert_refused(&mock, cta("Veja", "Ver", "https:///q/x"), p, "no host").await;
    let mut m = cta("Veja", "Ver", url);
    m["interactive"]["action"]["name"] = json!("cta");
    assert_refused(&mock, m, p, "wrong action name").await;
    let mut m = cta("Veja", "Ver", url);
    m["interactive"]["action"] =
        json!({ "name": "cta_url", "parameters": { "display_text": "Ver" } });
    assert_refused(&mock, m, codes::REQUIRED_PARAMETER_MISSING, "no url").await;
    let mut m = cta("Veja", "Ver", url);
    m["interactive"]["action"]["buttons"] = json!([]);
    assert_refused(&mock, m, codes::INVALID_PARAMETER, "buttons on a cta_url").await;
    assert_eq!(mock.accepted().len(), 2);
}
