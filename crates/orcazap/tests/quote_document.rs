//! The quote's PDF as a WhatsApp document (issue 15 item 1): with the store's setting on, the
//! quote message is followed by a document — the PDF built from the quote's snapshot, uploaded
//! through Graph's media endpoint and sent by its media id. Webhook → worker → mock Graph API,
//! on SQLite and PostgreSQL; the uploaded bytes are read back as text with `pdftotext`.

mod common;

use common::{text_webhook, TestApp};

testkit::both_engines!(
    TestApp;
    the_quote_pdf_follows_the_quote_when_the_store_turned_it_on,
    no_document_while_the_setting_is_off,
);

const CUSTOMER: &str = "5511933330000";
const ORDER: &str = "bom dia, preciso de 10 sacos de cimento e 2 metros de areia média, entrega amanhã no Grajaú, pago no pix";

async fn turn_pdf_on(app: &TestApp) {
    let t = app.demo_tenant().await;
    let mut c = app.db.write().acquire().await.unwrap();
    store::store_profile::set_quote_pdf(&mut c, &t.id, true)
        .await
        .unwrap();
}

async fn the_quote_pdf_follows_the_quote_when_the_store_turned_it_on(app: &TestApp) {
    turn_pdf_on(app).await;
    app.webhook(&text_webhook(CUSTOMER, "wamid.D1", ORDER))
        .await;
    app.drain().await;
    let calls = app.graph.accepted();
    assert_eq!(calls.len(), 2, "the quote, then its PDF");
    let quote = &calls[0];
    assert!(quote.is_interactive() && quote.text().contains("R$\u{a0}661,05"));
    let number =
        quote.text()[quote.text().find("ORC-").expect("the quote's number")..][..15].to_string();
    let doc = &calls[1].body;
    assert_eq!(doc["type"], "document");
    assert_eq!(doc["to"], CUSTOMER);
    let filename = format!("Orcamento-{number}.pdf");
    assert_eq!(doc["document"]["filename"], filename.as_str());
    let uploads = app.graph.uploads();
    assert_eq!(uploads.len(), 1, "uploaded once");
    assert_eq!(doc["document"]["id"], uploads[0].id.as_str());
    assert_eq!(uploads[0].mime_type, "application/pdf");
    assert_eq!(uploads[0].filename, filename);
    // The message row keeps the media id (a retry would not upload again) and shows the file.
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM messages WHERE kind = 'document' AND body = '{filename}' AND status = 'sent' AND payload_json LIKE '%{}%'",
            uploads[0].id
        ))
        .await,
        1
    );
    // Every figure of the quote is in the document (pdftotext reads the non-breaking space
    // after "R$" back as a plain one).
    if let Some(text) = store::testing::pdf_text(&uploads[0].bytes) {
        for figure in [number.as_str(), "R$ 661,05", "R$ 369,00", "Grajaú"] {
            assert!(
                text.contains(figure),
                "{figure} missing from the PDF:\n{text}"
            );
        }
        assert!(text.contains("000201"), "the PIX copia-e-cola:\n{text}");
    }
}

async fn no_document_while_the_setting_is_off(app: &TestApp) {
    app.webhook(&text_webhook(CUSTOMER, "wamid.D2", ORDER))
        .await;
    app.drain().await;
    let calls = app.graph.accepted();
    assert_eq!(calls.len(), 1, "the quote only");
    assert!(app.graph.uploads().is_empty());
}
