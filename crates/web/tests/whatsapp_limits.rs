//! Meta's message limits through the whole product (issue 18 items 1 and 7): a customer's
//! order goes through the signed webhook, the worker and the mock Graph API, which refuses
//! what Meta refuses (`whatsapp::mock::rules`). SQLite always, PostgreSQL too when
//! `ORCAZAP_TEST_POSTGRES_URL` is set.

use testkit::*;

both_engines!(
    TestApp;
    a_long_quote_arrives_as_text_and_buttons,
    the_template_editor_counts_against_the_kinds_limit,
    an_account_level_error_stops_the_number_until_the_owner_fixes_it,
    documents_contacts_stickers_and_number_changes,
);

/// Fourteen different products: the default quote template renders well over the 1,024
/// characters of a button message's body.
const LONG_ORDER: &str = "2 sacos de cimento cp2, 1 saco de cimento 25kg, 3 sacos de cal, \
    2 sacos de argamassa ac1, 2 sacos de argamassa ac2, 1 saco de argamassa ac3, \
    1 kg de rejunte cinza, 1 kg de rejunte branco, 2 sacos de areia ensacada, \
    100 tijolos 6 furos, 50 tijolos 8 furos, 20 blocos 14, 20 blocos 9, 10 canaletas, \
    entrega amanhã no Grajaú, pix";

async fn a_long_quote_arrives_as_text_and_buttons(app: &TestApp) {
    app.customer_says(&app.demo, "5511955550001", "Marta", LONG_ORDER)
        .await;
    let quote = store::quotes::list(&app.db, &app.demo.tenant_id, None, None, None, None, 1)
        .await
        .unwrap()
        .pop()
        .expect("the order was quoted");
    let priced: domain::pricing::PricedQuote = serde_json::from_str(&quote.snapshot_json).unwrap();
    assert!(priced.lines.len() >= 12, "{} lines", priced.lines.len());

    let to_marta: Vec<GraphCall> = app
        .graph
        .accepted()
        .into_iter()
        .filter(|c| c.to() == "5511955550001")
        .collect();
    let texts: String = to_marta
        .iter()
        .filter(|c| !c.is_interactive())
        .map(GraphCall::text)
        .collect::<Vec<_>>()
        .join("\n");
    // Every line of the quote reached the customer whole: its name, and its amount on a line
    // with the "R$" beside it.
    for line in &priced.lines {
        let amount = line.line_total.to_brl();
        assert!(
            texts.lines().any(|l| l.contains(&line.name)),
            "{} missing from {texts}",
            line.name
        );
        assert!(
            texts.lines().any(|l| l.contains(&format!("= *{amount}*"))),
            "{amount} missing from {texts}"
        );
    }
    assert!(texts.contains(&format!("*Total: {}*", priced.total.to_brl())));
    // Then the three buttons, naming the quote.
    let last = to_marta.last().expect("something was sent");
    assert!(
        last.is_interactive(),
        "the buttons come last: {:?}",
        last.body
    );
    assert!(last.text().contains(&quote.number), "{}", last.text());
    assert!(last.text().chars().count() <= 1024);
    let titles: Vec<&str> = last.body["interactive"]["action"]["buttons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["reply"]["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Confirmar", "Alterar", "Falar com atendente"]);
    // Nothing failed on the way.
    let transcript = store::messages::for_conversation(
        &app.db,
        &app.demo.tenant_id,
        &quote.conversation_id,
        100,
    )
    .await
    .unwrap();
    assert!(
        transcript
            .iter()
            .all(|m| m.status != domain::status::MessageStatus::Failed),
        "a message failed"
    );
}

/// The preview counts the rendered text against the limit of the message that carries it:
/// 1.024 for the quote (a button message, with the text fallback explained), 4.096 for a
/// text; saving refuses what no WhatsApp message can carry.
async fn the_template_editor_counts_against_the_kinds_limit(app: &TestApp) {
    let s = app.as_owner().await;
    let preview = |code: &'static str, src: String| {
        let s = &s;
        async move {
            s.post(&format!("/modelos/{code}/previa"), &[("source", &src)])
                .header("x-csrf-token", &s.csrf)
                .header("hx-request", "true")
                .answer()
                .await
                .expect_status(200)
                .body()
                .await
        }
    };
    let short = preview("quote", "Orçamento {{ numero }}: {{ total }}".into()).await;
    assert!(short.contains(" de 1.024 caracteres"), "{short}");
    assert!(!short.contains("vai como texto"), "{short}");
    let long = preview("quote", format!("{{{{ numero }}}} {}", "a".repeat(1100))).await;
    assert!(long.contains(" de 1.024 caracteres"), "{long}");
    assert!(long.contains("vai como texto"), "{long}");
    let text = preview("data_capture", "Olá, {{ loja }}!".into()).await;
    assert!(text.contains(" de 4.096 caracteres"), "{text}");
    let page = s.page("/modelos/quote").await;
    assert!(page.contains(" de 1.024 caracteres"), "{page}");
    // Saving a text that no WhatsApp text message can carry is refused, naming the limit.
    let too_long = "a".repeat(4097);
    let refused = s
        .post_form("/modelos/data_capture", &[("source", &too_long)])
        .await
        .expect_status(422)
        .body()
        .await;
    assert!(refused.contains("4.096"), "{refused}");
    // The quote alone may be longer: it goes as several texts, then the buttons.
    s.post_form("/modelos/quote", &[("source", &too_long)])
        .await
        .expect_status(303);
}

/// Meta's error body for `code`, in its real shape.
fn graph_error(code: i64) -> serde_json::Value {
    serde_json::json!({ "error": {
        "message": format!("(#{code}) account-level error"),
        "type": "OAuthException",
        "code": code,
        "error_data": { "messaging_product": "whatsapp", "details": "see WhatsApp Manager" },
        "fbtrace_id": "AbCdEfGhIjKlMnOp"
    }})
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    use sqlx::Row;
    sqlx::query(sql)
        .fetch_one(app.db.read())
        .await
        .unwrap()
        .try_get::<i64, _>(0)
        .unwrap()
}

/// The demo store's number as the owner saves it on /whatsapp (token kept).
async fn save_channel(owner: &Session<'_>, pnid: &str) {
    owner
        .post_form(
            "/whatsapp",
            &[
                ("phone_number_id", pnid),
                ("waba_id", "200000000000002"),
                ("display", "+55 11 93333-4444"),
                ("token", ""),
            ],
        )
        .await
        .expect_status(303);
}

/// Each account-level code stops sending from the number: the refused message and the
/// next one wait (pending, jobs not dead), no further request reaches Meta, the settings
/// page says what happened and what to do, and saving the number sends what waited.
async fn an_account_level_error_stops_the_number_until_the_owner_fixes_it(app: &TestApp) {
    let page_says = [
        (10, "perdeu a permissão"),
        (200, "falta de permissão"),
        (368, "bloqueou a conta temporariamente"),
        (131031, "está bloqueada"),
        (131042, "problema de pagamento"),
        (131048, "limitou o"),
        (133010, "não está registrado"),
    ];
    // One sign-in: the login form is rate limited.
    let owner = app.as_owner().await;
    for (i, (code, words)) in page_says.into_iter().enumerate() {
        let calls_before = app.graph.calls().len();
        app.graph.script(400, graph_error(code));
        let (first, second) = (format!("55119777{i:05}"), format!("55119888{i:05}"));
        app.customer_says(&app.demo, &first, "Ana", "oi").await;
        app.customer_says(&app.demo, &second, "Bia", "oi").await;
        assert_eq!(
            app.graph.calls().len(),
            calls_before + 1,
            "code {code}: after the refusal nothing more is sent from the number"
        );
        let flagged = count(
            app,
            &format!(
                "SELECT COUNT(*) FROM channels WHERE tenant_id = '{}' AND last_error_code = {code}",
                app.demo.tenant_id
            ),
        )
        .await;
        assert_eq!(flagged, 1, "code {code}: the number is flagged");
        let waiting = format!(
            "SELECT COUNT(*) FROM messages m JOIN contacts k ON k.id = m.contact_id
             WHERE m.direction = 'out' AND m.status = 'pending' AND k.wa_id IN ('{first}', '{second}')"
        );
        assert_eq!(
            count(app, &waiting).await,
            2,
            "code {code}: both replies wait"
        );
        assert_eq!(
            count(app, "SELECT COUNT(*) FROM jobs WHERE status = 'dead'").await,
            0,
            "code {code}: no job is burned"
        );
        let page = owner.page("/whatsapp").await;
        assert!(page.contains("Envio parado"), "code {code}: {page}");
        assert!(page.contains(words), "code {code} explained: {page}");
        assert!(page.contains("O que fazer"), "{page}");

        save_channel(&owner, &app.demo.pnid).await;
        app.drain().await;
        assert_eq!(
            count(app, &waiting).await,
            0,
            "code {code}: sent after the fix"
        );
        let delivered: Vec<String> = app
            .graph
            .accepted()
            .iter()
            .map(|c| c.to().to_string())
            .collect();
        assert!(
            delivered.contains(&first) && delivered.contains(&second),
            "code {code}"
        );
        let page = owner.page("/whatsapp").await;
        assert!(!page.contains("Envio parado"), "code {code}: cleared");
    }
}

macro_rules! fixture {
    ($name:literal) => {
        testkit::sent_now(include_str!(concat!("../../../fixtures/whatsapp/", $name)))
    };
}

/// What the bot sent to one number, in order.
fn sent_to(app: &TestApp, wa_id: &str) -> Vec<String> {
    app.graph
        .accepted()
        .iter()
        .filter(|c| c.to() == wa_id)
        .map(GraphCall::text)
        .collect()
}

async fn deliver(app: &TestApp, body: String) {
    app.webhook(body)
        .answer()
        .await
        .expect_status_because(200, "webhook accepted");
    app.drain().await;
}

/// The demo conversation of a number, as the owner sees it.
async fn conversation_page(app: &TestApp, wa_id: &str) -> String {
    let id = count_text(
        app,
        &format!(
            "SELECT v.id FROM conversations v JOIN contacts k ON k.id = v.contact_id
             WHERE k.wa_id = '{wa_id}' AND v.tenant_id = '{}'",
            app.demo.tenant_id
        ),
    )
    .await;
    app.as_owner().await.page(&format!("/conversas/{id}")).await
}

async fn count_text(app: &TestApp, sql: &str) -> String {
    use sqlx::Row;
    sqlx::query(sql)
        .fetch_one(app.db.read())
        .await
        .unwrap()
        .try_get::<String, _>(0)
        .unwrap()
}

/// Documents and contact cards go to a person with their content visible; a sticker is not
/// answered; Meta's number-change notice moves the contact and is not answered; a 2 MB
/// delivery (Meta documents up to 3 MB) is accepted.
async fn documents_contacts_stickers_and_number_changes(app: &TestApp) {
    let ana = "5531977776666";
    deliver(app, fixture!("document_with_caption.json")).await;
    let replies = sent_to(app, ana);
    assert_eq!(replies.len(), 1, "{replies:?}");
    assert!(
        replies[0].contains("alguém da equipe"),
        "handed to a person: {replies:?}"
    );
    let state = count_text(
        app,
        &format!(
            "SELECT v.state FROM conversations v JOIN contacts k ON k.id = v.contact_id
             WHERE k.wa_id = '{ana}' AND v.tenant_id = '{}'",
            app.demo.tenant_id
        ),
    )
    .await;
    assert_eq!(state, "WAITING_PERSON", "in the queue for a person");
    assert!(!replies[0].contains("só consigo ler"), "{replies:?}");
    let page = conversation_page(app, ana).await;
    assert!(page.contains("lista-materiais.pdf"), "{page}");
    assert!(page.contains("lista da obra, pode orçar?"), "{page}");

    deliver(app, fixture!("contacts_shared.json")).await;
    let page = conversation_page(app, ana).await;
    assert!(page.contains("José Pedreiro: +55 11 98888-7777"), "{page}");
    assert!(
        page.contains("Depósito Central: +55 11 3333-2222"),
        "{page}"
    );

    let before = sent_to(app, ana).len();
    deliver(app, fixture!("sticker.json")).await;
    assert_eq!(sent_to(app, ana).len(), before, "a sticker is not answered");
    assert!(conversation_page(app, ana).await.contains("(figurinha)"));

    deliver(app, fixture!("system_user_changed_number.json")).await;
    assert_eq!(
        sent_to(app, ana).len(),
        before,
        "the notice is not answered"
    );
    let contacts = count(
        app,
        &format!(
            "SELECT COUNT(*) FROM contacts WHERE tenant_id = '{}' AND wa_id = '5531966665555'",
            app.demo.tenant_id
        ),
    )
    .await;
    assert_eq!(contacts, 1, "the contact follows the new number");
    // The conversation waits for a person (the document above): the person's answer goes
    // to the new number.
    let conv = count_text(
        app,
        &format!(
            "SELECT v.id FROM conversations v JOIN contacts k ON k.id = v.contact_id
             WHERE k.wa_id = '5531966665555' AND v.tenant_id = '{}'",
            app.demo.tenant_id
        ),
    )
    .await;
    app.as_owner()
        .await
        .post_form(
            &format!("/conversas/{conv}/responder"),
            &[("text", "Oi Ana, recebi a lista!")],
        )
        .await;
    app.drain().await;
    assert!(
        sent_to(app, "5531966665555")
            .iter()
            .any(|t| t.contains("recebi a lista")),
        "the reply goes to the new number"
    );
    let old = count(
        app,
        &format!(
            "SELECT COUNT(*) FROM contacts WHERE tenant_id = '{}' AND wa_id = '{ana}'",
            app.demo.tenant_id
        ),
    )
    .await;
    assert_eq!(old, 0, "one contact, not two");

    // A large delivery: 2 MB of text in one message (Meta documents payloads up to 3 MB).
    let big = whatsapp::webhook::build_text_webhook(
        &app.demo.pnid,
        "5511933334444",
        "5511955550099",
        Some("Gil"),
        "wamid.BIG0000000000000000000001",
        &"cimento ".repeat(250_000),
        store::now_ms() / 1000,
    );
    assert!(big.len() > 2_000_000);
    app.webhook(big)
        .answer()
        .await
        .expect_status_because(200, "Meta's payloads up to 3 MB are accepted");
}
