//! The Graph client against the shared mock Graph API (`whatsapp::mock`, on 127.0.0.1:0),
//! which refuses what Meta refuses and answers scripted failures with Meta's real bodies
//! from fixtures/whatsapp/.

use std::time::Duration;

use secrecy::SecretString;
use serde_json::json;
use whatsapp::graph::{
    GraphClient, GraphConfig, OutboundMessage, ReplyButton, RetryPolicy, SendError,
};
use whatsapp::mock::{self, Call};

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!("../../../fixtures/whatsapp/", $name))
    };
}

const OK: &str = fixture!("graph_send_ok_response.json");
const RATE_LIMIT: &str = fixture!("graph_error_rate_limit.json");
const PAIR_RATE_LIMIT: &str = fixture!("graph_error_pair_rate_limit.json");
const INVALID_TOKEN: &str = fixture!("graph_error_invalid_token.json");
const OUTSIDE_WINDOW: &str = fixture!("graph_error_outside_window.json");
const UNDELIVERABLE: &str = r#"{
  "error": {
    "message": "(#131026) Message Undeliverable.",
    "type": "OAuthException",
    "code": 131026,
    "error_data": {
      "messaging_product": "whatsapp",
      "details": "Message Undeliverable."
    },
    "fbtrace_id": "AbCdEfGhIjKlMnOt"
  }
}"#;

const WAMID: &str = "wamid.HBgNNTUxMTk4NzY1NDMyMRUCABEYEjQ1QzQ0RjE2QjQ3MjY5NkM2NwA=";
const CHANNEL: &str = "100000000000001";
const TOKEN: &str = "EAAG-test-token-not-real-0123456789";

#[derive(Clone)]
struct Answer {
    status: u16,
    body: &'static str,
    delay: Duration,
}

fn answer(status: u16, body: &'static str) -> Answer {
    Answer {
        status,
        body,
        delay: Duration::ZERO,
    }
}

struct MockGraph {
    mock: mock::MockGraph,
}

impl MockGraph {
    /// Answers valid requests with `script` in order, then with Meta's success body; only
    /// [`TOKEN`] is accepted.
    async fn start(script: Vec<Answer>) -> MockGraph {
        let mock = mock::MockGraph::builder().token(TOKEN).start().await;
        for a in script {
            mock.script_delayed(a.status, a.body, a.delay);
        }
        MockGraph { mock }
    }

    fn calls(&self) -> Vec<Call> {
        self.mock.calls()
    }

    fn client(&self, retry: RetryPolicy) -> GraphClient {
        self.client_with_timeout(retry, Duration::from_secs(10))
    }

    fn client_with_timeout(&self, retry: RetryPolicy, request_timeout: Duration) -> GraphClient {
        GraphClient::new(GraphConfig {
            base_url: self.mock.url.clone(),
            api_version: "v25.0".into(),
            connect_timeout: Duration::from_secs(2),
            request_timeout,
            retry,
        })
        .unwrap()
    }
}

fn tiny_retries(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
    }
}

fn token() -> SecretString {
    SecretString::from(TOKEN)
}

fn text() -> OutboundMessage {
    OutboundMessage::Text {
        to: "5511987654321".into(),
        body: "Seu orçamento: R$ 1.234,56".into(),
    }
}

#[tokio::test]
async fn text_send_success_returns_wamid_and_speaks_metas_format() {
    let mock = MockGraph::start(vec![]).await;
    let client = mock.client(tiny_retries(3));
    let sent = client
        .send(CHANNEL, &token(), &text(), Some("req-0123"))
        .await
        .unwrap();
    let calls = mock.calls();
    assert_eq!(calls.len(), 1);
    let call = &calls[0];
    assert_eq!(Some(sent.wamid.as_str()), call.wamid(), "Meta accepted it");
    assert_eq!(
        (call.version.as_str(), call.phone_number_id.as_str()),
        ("v25.0", "100000000000001")
    );
    assert_eq!(
        call.authorization.as_deref(),
        Some(&*format!("Bearer {TOKEN}"))
    );
    assert_eq!(call.request_id.as_deref(), Some("req-0123"));
    assert_eq!(call.content_type.as_deref(), Some("application/json"));
    assert_eq!(
        call.body,
        json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": "5511987654321",
            "type": "text",
            "text": { "preview_url": false, "body": "Seu orçamento: R$ 1.234,56" },
        })
    );
}

#[tokio::test]
async fn buttons_send_uses_interactive_button_format() {
    let mock = MockGraph::start(vec![]).await;
    let client = mock.client(tiny_retries(3));
    let msg = OutboundMessage::Buttons {
        // the 8-digit Brazilian wa_id goes out exactly as received
        to: "551187654321".into(),
        body: "Confirma o pedido?".into(),
        buttons: vec![
            ReplyButton::new("quote_accept", "Confirmar"),
            ReplyButton::new("quote_decline", "Recusar"),
        ],
    };
    let sent = client.send(CHANNEL, &token(), &msg, None).await.unwrap();
    assert_eq!(
        Some(sent.wamid.as_str()),
        mock.calls().last().unwrap().wamid()
    );
    let calls = mock.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].request_id, None);
    assert_eq!(
        calls[0].body,
        json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": "551187654321",
            "type": "interactive",
            "interactive": {
                "type": "button",
                "body": { "text": "Confirma o pedido?" },
                "action": { "buttons": [
                    { "type": "reply", "reply": { "id": "quote_accept", "title": "Confirmar" } },
                    { "type": "reply", "reply": { "id": "quote_decline", "title": "Recusar" } },
                ]},
            },
        })
    );
}

#[tokio::test]
async fn metas_own_success_body_gives_the_wamid() {
    let mock = MockGraph::start(vec![answer(200, OK)]).await;
    let sent = mock
        .client(tiny_retries(1))
        .send(CHANNEL, &token(), &text(), None)
        .await
        .unwrap();
    assert_eq!(sent.wamid, WAMID);
}

#[tokio::test]
async fn single_send_makes_one_attempt_and_reports_transient() {
    let mock = MockGraph::start(vec![answer(400, RATE_LIMIT)]).await;
    let err = mock
        .client(tiny_retries(5))
        .send(CHANNEL, &token(), &text(), None)
        .await
        .unwrap_err();
    assert!(err.is_transient());
    assert_eq!(err.code(), Some(130429));
    assert_eq!(mock.calls().len(), 1);
}

#[tokio::test]
async fn throughput_limit_is_retried_then_succeeds() {
    let mock = MockGraph::start(vec![answer(400, RATE_LIMIT), answer(429, RATE_LIMIT)]).await;
    let sent = mock
        .client(tiny_retries(4))
        .send_with_retry(CHANNEL, &token(), &text(), Some("req-1"))
        .await
        .unwrap();
    assert_eq!(
        Some(sent.wamid.as_str()),
        mock.calls().last().unwrap().wamid()
    );
    let calls = mock.calls();
    assert_eq!(calls.len(), 3);
    // Every attempt carries the same request id and the same body.
    assert!(calls
        .iter()
        .all(|c| c.request_id.as_deref() == Some("req-1")));
    assert!(calls.iter().all(|c| c.body == calls[0].body));
}

#[tokio::test]
async fn server_errors_are_retried_then_succeed() {
    let mock = MockGraph::start(vec![
        answer(500, r#"{"error":{"message":"An unknown error has occurred.","type":"OAuthException","code":1,"fbtrace_id":"X"}}"#),
        answer(503, "<html>Service Unavailable</html>"),
    ])
    .await;
    let sent = mock
        .client(tiny_retries(3))
        .send_with_retry(CHANNEL, &token(), &text(), None)
        .await
        .unwrap();
    assert_eq!(
        Some(sent.wamid.as_str()),
        mock.calls().last().unwrap().wamid()
    );
    assert_eq!(mock.calls().len(), 3);
}

#[tokio::test]
async fn pair_rate_limit_is_retried() {
    let mock = MockGraph::start(vec![answer(400, PAIR_RATE_LIMIT)]).await;
    let sent = mock
        .client(tiny_retries(3))
        .send_with_retry(CHANNEL, &token(), &text(), None)
        .await
        .unwrap();
    assert_eq!(
        Some(sent.wamid.as_str()),
        mock.calls().last().unwrap().wamid()
    );
    assert_eq!(mock.calls().len(), 2);
}

#[tokio::test]
async fn transient_errors_give_up_after_max_attempts() {
    let mock = MockGraph::start(vec![answer(400, RATE_LIMIT); 5]).await;
    let err = mock
        .client(tiny_retries(3))
        .send_with_retry(CHANNEL, &token(), &text(), None)
        .await
        .unwrap_err();
    assert!(err.is_transient());
    assert_eq!(err.metric_label(), "throughput_limit");
    assert_eq!(mock.calls().len(), 3);
}

async fn assert_not_retried(status: u16, body: &'static str, code: i64, label: &str) {
    let mock = MockGraph::start(vec![answer(status, body)]).await;
    let err = mock
        .client(tiny_retries(5))
        .send_with_retry(CHANNEL, &token(), &text(), None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, SendError::Permanent { code: Some(c), .. } if c == code),
        "{err:?}"
    );
    assert_eq!(err.metric_label(), label);
    assert_eq!(mock.calls().len(), 1, "code {code} must not be retried");
    assert!(!err.to_string().contains(TOKEN));
    assert!(!format!("{err:?}").contains(TOKEN));
}

#[tokio::test]
async fn invalid_token_is_not_retried() {
    assert_not_retried(401, INVALID_TOKEN, 190, "invalid_token").await;
}

#[tokio::test]
async fn outside_window_is_not_retried() {
    assert_not_retried(400, OUTSIDE_WINDOW, 131047, "outside_window").await;
}

#[tokio::test]
async fn undeliverable_is_not_retried() {
    assert_not_retried(400, UNDELIVERABLE, 131026, "undeliverable").await;
}

#[tokio::test]
async fn timeouts_are_transient_and_retried() {
    let slow = Answer {
        status: 200,
        body: OK,
        delay: Duration::from_secs(5),
    };
    let mock = MockGraph::start(vec![slow.clone(), slow]).await;
    // Generous against a loaded machine, far below the mock's delay.
    let client = mock.client_with_timeout(tiny_retries(3), Duration::from_millis(800));
    let err = client
        .send(CHANNEL, &token(), &text(), None)
        .await
        .unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    assert_eq!(err.code(), None);
    assert!(err.message().contains("timed out"), "{}", err.message());

    // Second slow answer times out again, third (the default) succeeds.
    let sent = client
        .send_with_retry(CHANNEL, &token(), &text(), None)
        .await
        .unwrap();
    assert_eq!(
        Some(sent.wamid.as_str()),
        mock.calls().last().unwrap().wamid()
    );
    assert_eq!(mock.calls().len(), 3);
}

#[tokio::test]
async fn connection_refused_is_transient() {
    // Bind then drop: nothing listens on that port any more.
    let port = {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap().port()
    };
    let client = GraphClient::new(GraphConfig {
        base_url: format!("http://127.0.0.1:{port}"),
        retry: tiny_retries(2),
        ..GraphConfig::default()
    })
    .unwrap();
    let err = client
        .send_with_retry(CHANNEL, &token(), &text(), None)
        .await
        .unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    assert_eq!(err.metric_label(), "transient");
    assert!(!err.to_string().contains(TOKEN));
}

#[tokio::test]
async fn invalid_messages_never_reach_meta() {
    let mock = MockGraph::start(vec![]).await;
    let client = mock.client(tiny_retries(3));
    let four_buttons = OutboundMessage::Buttons {
        to: "5511987654321".into(),
        body: "Escolha".into(),
        buttons: (1..=4)
            .map(|i| ReplyButton::new(format!("b{i}"), format!("Opção {i}")))
            .collect(),
    };
    let long_title = OutboundMessage::Buttons {
        to: "5511987654321".into(),
        body: "Escolha".into(),
        buttons: vec![ReplyButton::new("b1", "Um título comprido demais")],
    };
    let long_body = OutboundMessage::Buttons {
        to: "5511987654321".into(),
        body: "x".repeat(1025),
        buttons: vec![ReplyButton::new("b1", "OK")],
    };
    let long_text = OutboundMessage::Text {
        to: "5511987654321".into(),
        body: "x".repeat(4097),
    };
    for msg in [four_buttons, long_title, long_body, long_text] {
        let err = client
            .send_with_retry(CHANNEL, &token(), &msg, None)
            .await
            .unwrap_err();
        assert!(
            matches!(err, SendError::Permanent { code: None, .. }),
            "{err:?}"
        );
        assert_eq!(err.metric_label(), "rejected");
    }
    // Bad channel id or missing token: refused before any request too.
    let err = client
        .send("../../admin", &token(), &text(), None)
        .await
        .unwrap_err();
    assert!(!err.is_transient());
    let err = client
        .send(CHANNEL, &SecretString::from(""), &text(), None)
        .await
        .unwrap_err();
    assert!(!err.is_transient());
    assert_eq!(mock.calls().len(), 0);
}

#[tokio::test]
async fn token_never_shows_in_errors_or_debug_even_when_echoed() {
    static ECHO: &str = r#"{"error":{"message":"Invalid OAuth access token - Cannot parse access token EAAG-test-token-not-real-0123456789","type":"OAuthException","code":190,"fbtrace_id":"Z"}}"#;
    let mock = MockGraph::start(vec![answer(401, ECHO)]).await;
    let client = mock.client(tiny_retries(2));
    let secret = token();
    let err = client
        .send(CHANNEL, &secret, &text(), Some("req-9"))
        .await
        .unwrap_err();
    assert!(!err.to_string().contains(TOKEN), "{err}");
    assert!(!format!("{err:?}").contains(TOKEN));
    assert!(err.message().contains("[redacted]"));
    assert!(!format!("{client:?}").contains(TOKEN));
    assert!(!format!("{secret:?}").contains(TOKEN));
}

#[tokio::test]
async fn success_without_a_wamid_is_not_retried() {
    let mock = MockGraph::start(vec![answer(200, r#"{"messaging_product":"whatsapp"}"#)]).await;
    let err = mock
        .client(tiny_retries(4))
        .send_with_retry(CHANNEL, &token(), &text(), None)
        .await
        .unwrap_err();
    assert!(!err.is_transient());
    assert_eq!(mock.calls().len(), 1);
}

/// The Graph API version is a setting (default v25.0, `DEFAULT_API_VERSION`); Meta's current
/// v26.0 works the same way (issue 18 item 8): the version is the path's first segment.
#[tokio::test]
async fn client_speaks_v25_and_v26() {
    assert_eq!(whatsapp::graph::DEFAULT_API_VERSION, "v25.0");
    let mock = MockGraph::start(vec![]).await;
    for version in ["v25.0", "v26.0"] {
        let client = GraphClient::new(GraphConfig {
            base_url: mock.mock.url.clone(),
            api_version: version.into(),
            connect_timeout: Duration::from_secs(2),
            request_timeout: Duration::from_secs(10),
            retry: tiny_retries(1),
        })
        .unwrap();
        let sent = client.send(CHANNEL, &token(), &text(), None).await.unwrap();
        let calls = mock.calls();
        let call = calls.last().unwrap();
        assert_eq!(call.version, version);
        assert_eq!(call.wamid(), Some(sent.wamid.as_str()), "{version}");
    }
}

/// The quote PDF's path: upload through `/media` (multipart, as Meta documents it), then a
/// document message naming the returned id. The mock keeps the bytes exactly as sent, refuses
/// a document whose id was never uploaded to the number, a caption over 1,024 characters and
/// a file that is not what its type says.
#[tokio::test]
async fn a_document_is_uploaded_then_sent_by_its_media_id() {
    use whatsapp::graph::MediaUpload;
    let mock = MockGraph::start(vec![]).await;
    let client = mock.client(tiny_retries(1));
    // Bytes that include CR LF and the start of a boundary, as a real PDF can.
    let pdf = b"%PDF-1.7\r\n--orcazap\r\n\x00\xffbinary\r\n%%EOF".to_vec();
    let upload = MediaUpload {
        bytes: &pdf,
        mime_type: "application/pdf",
        filename: "Orcamento-ORC-2026-000123.pdf",
    };
    let media_id = client
        .upload_media(CHANNEL, &token(), &upload)
        .await
        .unwrap();
    let uploads = mock.mock.uploads();
    assert_eq!(uploads.len(), 1);
    assert_eq!(uploads[0].id, media_id);
    assert_eq!(uploads[0].bytes, pdf, "the file arrives byte for byte");
    assert_eq!(uploads[0].mime_type, "application/pdf");
    assert_eq!(uploads[0].filename, "Orcamento-ORC-2026-000123.pdf");

    let doc = |media_id: &str, caption: Option<String>| OutboundMessage::Document {
        to: "5511987654321".into(),
        media_id: media_id.into(),
        filename: "Orcamento-ORC-2026-000123.pdf".into(),
        caption,
    };
    client
        .send(
            CHANNEL,
            &token(),
            &doc(&media_id, Some("Orçamento ORC-2026-000123".into())),
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        mock.calls().last().unwrap().body,
        json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": "5511987654321",
            "type": "document",
            "document": {
                "id": media_id,
                "filename": "Orcamento-ORC-2026-000123.pdf",
                "caption": "Orçamento ORC-2026-000123",
            },
        })
    );
    // Never uploaded: Meta (and the mock) refuse it.
    let err = client
        .send(CHANNEL, &token(), &doc("123456", None), None)
        .await
        .unwrap_err();
    assert!(!err.is_transient(), "{err:?}");
    // Our own check stops a caption Meta would refuse before any request.
    let calls_before = mock.calls().len();
    assert!(client
        .send(
            CHANNEL,
            &token(),
            &doc(&media_id, Some("a".repeat(1025))),
            None
        )
        .await
        .is_err());
    assert_eq!(mock.calls().len(), calls_before);
    // A "PDF" that is not one is refused by the upload.
    let fake = MediaUpload {
        bytes: b"<html>not a pdf</html>",
        mime_type: "application/pdf",
        filename: "x.pdf",
    };
    assert!(client.upload_media(CHANNEL, &token(), &fake).await.is_err());
    assert_eq!(mock.mock.uploads().len(), 1);
}

/// A WhatsApp message template, end to end against the mock: submitted (PENDING), refused in
/// a send until Meta approves it, listed with its status, then sent with its parameters; a
/// wrong parameter count and a paused template are refused with Meta's codes.
#[tokio::test]
async fn a_template_is_submitted_reviewed_listed_and_sent() {
    use whatsapp::graph::TemplateSubmission;
    const WABA: &str = "200000000000002";
    let mock = MockGraph::start(vec![]).await;
    let client = mock.client(tiny_retries(1));
    let submission = TemplateSubmission {
        name: "lembrete_orcamento".into(),
        language: "pt_BR".into(),
        category: "UTILITY".into(),
        body: "Olá {{1}}, seu orçamento {{2}} vale até {{3}}. Podemos ajudar?".into(),
        examples: vec!["Ana".into(), "ORC-2026-000001".into(), "05/12".into()],
    };
    let submitted = client
        .submit_template(WABA, &token(), &submission)
        .await
        .unwrap();
    assert_eq!(submitted.status, "PENDING");
    assert_eq!(submitted.category, "UTILITY");
    // The same name and language again: Meta refuses.
    assert!(client
        .submit_template(WABA, &token(), &submission)
        .await
        .is_err());
    // Examples missing: refused before any request.
    let calls_before = mock.calls().len();
    let mut no_examples = submission.clone();
    no_examples.examples.clear();
    assert!(client
        .submit_template(WABA, &token(), &no_examples)
        .await
        .is_err());
    assert_eq!(mock.calls().len(), calls_before);

    let send = |params: Vec<&str>| OutboundMessage::Template {
        to: "5511987654321".into(),
        name: "lembrete_orcamento".into(),
        language: "pt_BR".into(),
        parameters: params.into_iter().map(String::from).collect(),
    };
    let params = vec!["Ana", "ORC-2026-000001", "05/12"];
    let pending = client
        .send(CHANNEL, &token(), &send(params.clone()), None)
        .await
        .unwrap_err();
    assert_eq!(
        pending.code(),
        Some(132001),
        "not approved yet: {pending:?}"
    );

    mock.mock
        .review_template("lembrete_orcamento", "pt_BR", "APPROVED", "NONE")
        .unwrap();
    let listed = client.list_templates(WABA, &token()).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].id.as_str(), listed[0].status.as_str()),
        (submitted.id.as_str(), "APPROVED")
    );

    client
        .send(CHANNEL, &token(), &send(params.clone()), None)
        .await
        .unwrap();
    assert_eq!(
        mock.calls().last().unwrap().body,
        json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": "5511987654321",
            "type": "template",
            "template": {
                "name": "lembrete_orcamento",
                "language": { "code": "pt_BR" },
                "components": [{ "type": "body", "parameters": [
                    { "type": "text", "text": "Ana" },
                    { "type": "text", "text": "ORC-2026-000001" },
                    { "type": "text", "text": "05/12" },
                ]}],
            },
        })
    );
    let short = client
        .send(CHANNEL, &token(), &send(vec!["Ana"]), None)
        .await
        .unwrap_err();
    assert_eq!(short.code(), Some(132000));
    mock.mock
        .review_template("lembrete_orcamento", "pt_BR", "PAUSED", "LOW_QUALITY")
        .unwrap();
    let paused = client
        .send(CHANNEL, &token(), &send(params), None)
        .await
        .unwrap_err();
    assert_eq!(paused.code(), Some(132015));
}

#[tokio::test]
async fn a_read_receipt_with_typing_indicator_is_metas_format() {
    let mock = MockGraph::start(vec![]).await;
    let client = mock.client(tiny_retries(1));
    client
        .mark_read_typing(CHANNEL, &token(), "wamid.CUSTOMER-1")
        .await
        .unwrap();
    let marks = mock.mock.read_marks();
    assert_eq!(marks.len(), 1);
    assert!(marks[0].accepted && marks[0].typing);
    assert_eq!(marks[0].message_id, "wamid.CUSTOMER-1");
    // Not a message: nothing a customer reads was recorded.
    assert!(mock.calls().is_empty());
    // A read receipt with anything else in it is refused, as at Meta.
    assert!(client
        .mark_read_typing(CHANNEL, &SecretString::from("wrong"), "wamid.X")
        .await
        .is_err());
    assert!(!mock.mock.read_marks()[1].accepted);
}
