//! Every inbound fixture in fixtures/whatsapp/ (Meta's real format) parsed, field by field.

use whatsapp::signature::{sign, verify_signature};
use whatsapp::webhook::{
    build_button_reply_webhook, build_list_reply_webhook, build_status_webhook, build_text_webhook,
    parse_delivery, parse_webhook, DeliveryStatus, GraphErrorInfo, InboundMessage, MessageContent,
    SharedContact, StatusUpdate, Unreadable, WebhookEvent, WebhookParseError,
};

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!("../../../fixtures/whatsapp/", $name))
    };
}

const CHANNEL: &str = "100000000000001";
const DISPLAY: &str = "5511933334444";

fn only_message(raw: &str) -> InboundMessage {
    let events = parse_webhook(raw.as_bytes()).expect("fixture parses");
    match events.as_slice() {
        [WebhookEvent::Message(m)] => m.clone(),
        other => panic!("expected one message, got {other:?}"),
    }
}

#[test]
fn text_message() {
    let m = only_message(fixture!("text_message.json"));
    assert_eq!(
        m,
        InboundMessage {
            phone_number_id: CHANNEL.into(),
            display_phone_number: DISPLAY.into(),
            wamid: "wamid.HBgNNTUxMTk4NzY1NDMyMRUCABIYIEE1QjI3RjQ0QzQ1MDAwMDAxAA==".into(),
            from: "5511987654321".into(),
            contact_name: Some("Maria Souza".into()),
            timestamp: 1_764_316_800,
            content: MessageContent::Text {
                body: "Bom dia! Preciso de 10 sacos de cimento e 2 metros de areia média, entrega amanhã no Centro, pago no pix".into()
            },
            context_wamid: None,
            from_user_id: None,
            username: None,
        }
    );
    assert_eq!(m.content.kind(), "text");
    assert!(m
        .content
        .text_for_understanding()
        .unwrap()
        .starts_with("Bom dia! Preciso de 10 sacos"));
}

#[test]
fn brazilian_8_digit_wa_id_is_kept_exactly() {
    let m = only_message(fixture!("text_message_brazil_8digit_wa_id.json"));
    assert_eq!(m.from, "551187654321");
    assert_eq!(m.from.len(), 12);
    assert_eq!(m.contact_name.as_deref(), Some("José"));
    assert_eq!(
        m.content,
        MessageContent::Text {
            body: "oi, vcs tem tijolo 8 furos?".into()
        }
    );
    assert_eq!(m.timestamp, 1_764_316_805);
}

#[test]
fn two_messages_in_payload_order() {
    let events = parse_webhook(fixture!("two_messages_one_payload.json").as_bytes()).unwrap();
    let messages: Vec<&InboundMessage> = events
        .iter()
        .map(|e| match e {
            WebhookEvent::Message(m) => m,
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0].wamid, "wamid.TWO-A-0000000000000000000001");
    assert_eq!(messages[1].wamid, "wamid.TWO-B-0000000000000000000002");
    assert_eq!(messages[0].timestamp, 1_764_316_810);
    assert_eq!(messages[1].timestamp, 1_764_316_811);
    for m in &messages {
        assert_eq!(m.from, "5521998887777");
        assert_eq!(m.contact_name.as_deref(), Some("Carlos"));
    }
    assert_eq!(
        messages[1].content.text_for_understanding().as_deref(),
        Some("quero 5 sacos de cal")
    );
}

#[test]
fn interactive_button_reply() {
    let m = only_message(fixture!("interactive_button_reply.json"));
    assert_eq!(
        m.content,
        MessageContent::Button {
            id: "quote_accept".into(),
            title: "Confirmar".into()
        }
    );
    assert_eq!(
        m.context_wamid.as_deref(),
        Some("wamid.OUTBOUND-QUOTE-000000000000001")
    );
    assert_eq!(m.wamid, "wamid.BUTTON-REPLY-000000000000001");
    assert_eq!(m.from, "5511987654321");
    assert_eq!(m.content.kind(), "button");
    assert_eq!(
        m.content.text_for_understanding().as_deref(),
        Some("Confirmar")
    );
}

/// Issue 18: the button's id names the quote, and `context.id` the message that showed it.
#[test]
fn interactive_button_reply_naming_its_quote() {
    let m = only_message(fixture!("interactive_button_reply_quote.json"));
    assert_eq!(
        m.content,
        MessageContent::Button {
            id: "quote_accept:ORC-2026-000007".into(),
            title: "Confirmar".into()
        }
    );
    assert_eq!(
        m.context_wamid.as_deref(),
        Some("wamid.OUTBOUND-QUOTE-000000000000007")
    );
    assert_eq!(m.timestamp, 1_764_317_000);
}

#[test]
fn interactive_list_reply() {
    let m = only_message(fixture!("interactive_list_reply.json"));
    assert_eq!(
        m.content,
        MessageContent::ListReply {
            id: "pay_pix".into(),
            title: "PIX".into(),
            description: Some("5% de desconto".into())
        }
    );
    assert_eq!(
        m.context_wamid.as_deref(),
        Some("wamid.OUTBOUND-LIST-0000000000000001")
    );
    assert_eq!(m.timestamp, 1_764_317_001);
    assert_eq!(m.content.kind(), "list_reply");
}

#[test]
fn image_with_caption() {
    let m = only_message(fixture!("image_with_caption.json"));
    assert_eq!(
        m.content,
        MessageContent::Image {
            media_id: "1234567890123456".into(),
            caption: Some("preciso de 20 desse bloco aqui".into()),
            mime_type: "image/jpeg".into()
        }
    );
    assert_eq!(
        m.content.text_for_understanding().as_deref(),
        Some("preciso de 20 desse bloco aqui")
    );
    assert_eq!(m.contact_name.as_deref(), Some("Ana"));
}

#[test]
fn audio_voice_note() {
    let m = only_message(fixture!("audio_voice_note.json"));
    assert_eq!(
        m.content,
        MessageContent::Audio {
            media_id: "2234567890123456".into(),
            voice: true
        }
    );
    assert_eq!(m.content.text_for_understanding(), None);
    assert_eq!(m.wamid, "wamid.AUDIO-0000000000000000000001");
    assert_eq!(m.from, "5531977776666");
}

#[test]
fn location_keeps_coordinates_as_sent() {
    let m = only_message(fixture!("location.json"));
    assert_eq!(
        m.content,
        MessageContent::Location {
            latitude: "-23.561414".into(),
            longitude: "-46.655881".into(),
            name: Some("Obra".into()),
            address: Some("Av. Paulista, 1578 - Bela Vista, São Paulo - SP, 01310-200".into()),
        }
    );
    // The address carries the CEP the understanding step needs.
    assert!(m
        .content
        .text_for_understanding()
        .unwrap()
        .contains("01310-200"));
}

#[test]
fn reaction() {
    let m = only_message(fixture!("reaction.json"));
    assert_eq!(
        m.content,
        MessageContent::Reaction {
            emoji: "👍".into(),
            message_id: "wamid.OUTBOUND-QUOTE-000000000000001".into()
        }
    );
    assert_eq!(m.content.text_for_understanding(), None);
    assert_eq!(m.content.kind(), "reaction");
}

#[test]
fn unsupported_type_keeps_metas_error_code() {
    let m = only_message(fixture!("unsupported_type.json"));
    assert_eq!(
        m.content,
        MessageContent::Unsupported {
            kind: "unsupported".into(),
            error_code: Some(131051)
        }
    );
    assert_eq!(m.wamid, "wamid.UNSUPPORTED-00000000000000001");
    assert_eq!(m.content.text_for_understanding(), None);
}

#[test]
fn statuses_sent_delivered_read_in_order() {
    let events = parse_webhook(fixture!("status_sent_delivered_read.json").as_bytes()).unwrap();
    let expected = [
        (DeliveryStatus::Sent, 1_764_316_900),
        (DeliveryStatus::Delivered, 1_764_316_901),
        (DeliveryStatus::Read, 1_764_316_902),
    ];
    assert_eq!(events.len(), expected.len());
    for (event, (status, ts)) in events.iter().zip(expected) {
        assert_eq!(
            event,
            &WebhookEvent::Status(StatusUpdate {
                phone_number_id: CHANNEL.into(),
                wamid: "wamid.OUTBOUND-QUOTE-000000000000001".into(),
                status,
                timestamp: ts,
                recipient_id: "5511987654321".into(),
                recipient_user_id: None,
                error: None,
            })
        );
    }
}

#[test]
fn status_failed_outside_window_carries_the_error() {
    let events = parse_webhook(fixture!("status_failed_outside_window.json").as_bytes()).unwrap();
    let [WebhookEvent::Status(s)] = events.as_slice() else {
        panic!("expected one status, got {events:?}");
    };
    assert_eq!(s.status, DeliveryStatus::Failed);
    assert_eq!(s.wamid, "wamid.OUTBOUND-FOLLOWUP-00000000000001");
    assert_eq!(s.timestamp, 1_764_500_000);
    assert_eq!(
        s.error,
        Some(GraphErrorInfo {
            code: 131047,
            title: "Re-engagement message".into(),
            details: Some("Message failed to send because more than 24 hours have passed since the customer last replied to this number.".into()),
        })
    );
}

#[test]
fn unknown_phone_number_id_is_parsed_for_the_caller_to_drop() {
    let events = parse_webhook(fixture!("unknown_phone_number_id.json").as_bytes()).unwrap();
    assert_eq!(events[0].phone_number_id(), Some("999999999999999"));
    let m = only_message(fixture!("unknown_phone_number_id.json"));
    assert_eq!(m.phone_number_id, "999999999999999");
    assert_eq!(m.display_phone_number, "5511900000000");
    assert_eq!(m.wamid, "wamid.UNKNOWN-CHANNEL-0000000000001");
    assert_eq!(m.contact_name.as_deref(), Some("Alguém"));
}

#[test]
fn non_message_field_is_ignored_not_an_error() {
    let events = parse_webhook(fixture!("non_message_field.json").as_bytes()).unwrap();
    assert_eq!(
        events,
        vec![WebhookEvent::Ignored {
            phone_number_id: None,
            field: "phone_number_quality_update".into()
        }]
    );
    assert_eq!(events[0].phone_number_id(), None);
}

#[test]
fn template_reviews_are_read_with_their_business_account() {
    let events = parse_webhook(fixture!("template_status_approved.json").as_bytes()).unwrap();
    assert_eq!(
        events,
        vec![WebhookEvent::TemplateStatus(
            whatsapp::webhook::TemplateStatusUpdate {
                waba_id: "200000000000002".into(),
                template_id: "700000000000101".into(),
                name: "lembrete_orcamento".into(),
                language: "pt_BR".into(),
                event: "APPROVED".into(),
                reason: None,
            }
        )]
    );
    let events = parse_webhook(fixture!("template_status_rejected.json").as_bytes()).unwrap();
    let WebhookEvent::TemplateStatus(t) = &events[0] else {
        panic!("{events:?}");
    };
    assert_eq!(
        (t.event.as_str(), t.reason.as_deref()),
        ("REJECTED", Some("INCORRECT_CATEGORY"))
    );
    // The builder writes the same shape.
    let built = whatsapp::webhook::build_template_status_webhook(
        "200000000000002",
        "700000000000101",
        "lembrete_orcamento",
        "pt_BR",
        "APPROVED",
        None,
        1764855600,
    );
    assert_eq!(
        parse_webhook(built.as_bytes()).unwrap(),
        parse_webhook(fixture!("template_status_approved.json").as_bytes()).unwrap()
    );
    // One without a name is unreadable, not an error for the whole delivery.
    let broken = fixture!("template_status_approved.json").replace("message_template_name", "x");
    assert!(matches!(
        parse_delivery(broken.as_bytes()).unwrap()[0],
        WebhookEvent::Unreadable(_)
    ));
}

#[test]
fn fixtures_pass_the_signature_check_over_raw_bytes() {
    let secret = b"app-secret";
    let raw = fixture!("text_message.json").as_bytes();
    let header = sign(secret, raw);
    assert_eq!(verify_signature(secret, raw, Some(&header)), Ok(()));
    // Re-serializing changes the bytes: the check must be on the raw body, not parsed JSON.
    let reserialized =
        serde_json::to_vec(&serde_json::from_slice::<serde_json::Value>(raw).unwrap()).unwrap();
    assert!(verify_signature(secret, &reserialized, Some(&header)).is_err());
}

#[test]
fn malformed_json_is_an_error() {
    for raw in [
        &b""[..],
        b"not json",
        b"{\"object\":\"whatsapp_business_account\",\"entry\":[",
        b"\xff\xfe",
    ] {
        assert!(
            matches!(
                parse_webhook(raw),
                Err(WebhookParseError::InvalidJson { .. })
            ),
            "{raw:?}"
        );
    }
}

#[test]
fn wrong_object_is_an_error() {
    let raw = fixture!("text_message.json").replace("whatsapp_business_account", "page");
    assert_eq!(
        parse_webhook(raw.as_bytes()),
        Err(WebhookParseError::WrongObject {
            object: "page".into()
        })
    );
}

#[test]
fn broken_envelope_is_an_error() {
    for raw in [
        r#"{"object":"whatsapp_business_account"}"#,
        r#"[1,2]"#,
        r#"{"object":"whatsapp_business_account","entry":{}}"#,
        r#"{"object":"whatsapp_business_account","entry":[{"id":"1"}]}"#,
        // messages change without channel metadata: can't be routed
        r#"{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"messages":[]}}]}]}"#,
        // message without an id: can't be deduplicated
        r#"{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"1"},"messages":[{"from":"5511987654321","timestamp":"1","type":"text","text":{"body":"oi"}}]}}]}]}"#,
        // timestamp that isn't a number
        r#"{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"1"},"messages":[{"from":"5511987654321","id":"w","timestamp":"ontem","type":"text","text":{"body":"oi"}}]}}]}]}"#,
    ] {
        assert!(
            matches!(
                parse_webhook(raw.as_bytes()),
                Err(WebhookParseError::Malformed { .. })
            ),
            "{raw}: {:?}",
            parse_webhook(raw.as_bytes())
        );
    }
}

#[test]
fn malformed_error_does_not_echo_customer_data() {
    let raw = r#"{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"1"},"messages":[{"from":5511987654321,"id":"w","timestamp":"1","type":"text"}]}}]}]}"#;
    let err = parse_webhook(raw.as_bytes()).unwrap_err();
    assert!(!err.to_string().contains("5511987654321"), "{err}");
}

#[test]
fn fields_meta_may_add_are_ignored() {
    let raw = r#"{
      "object": "whatsapp_business_account",
      "new_top_level": {"x": 1},
      "entry": [{
        "id": "200000000000002", "time": 1764316800,
        "changes": [{
          "field": "messages",
          "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "5511933334444", "phone_number_id": "100000000000001", "new_meta": true},
            "contacts": [{"profile": {"name": "Maria", "username": "@maria"}, "wa_id": "5511987654321", "user_id": "BR.123"}],
            "messages": [{
              "from": "5511987654321", "id": "wamid.X", "timestamp": "1764316800", "type": "text",
              "text": {"body": "oi", "new_text_field": 1},
              "from_user_id": "BR.123",
              "referral": {"source_url": "https://example.invalid"}
            }]
          }
        }]
      }]
    }"#;
    let m = only_message(raw);
    assert_eq!(m.content, MessageContent::Text { body: "oi".into() });
    assert_eq!(m.contact_name.as_deref(), Some("Maria"));
}

fn one_message_payload(message_json: &str) -> String {
    format!(
        r#"{{"object":"whatsapp_business_account","entry":[{{"id":"2","changes":[{{"field":"messages","value":{{"messaging_product":"whatsapp","metadata":{{"display_phone_number":"5511933334444","phone_number_id":"100000000000001"}},"messages":[{message_json}]}}}}]}}]}}"#
    )
}

#[test]
fn other_message_types_become_unsupported_without_failing_the_batch() {
    let cases = [
        (
            r#"{"from":"5511987654321","id":"w1","timestamp":"1","type":"video","video":{"id":"9"}}"#,
            "video",
        ),
        // (stickers are read since issue 18 item 8: `sticker_is_read` below)
        (
            r#"{"from":"5511987654321","id":"w2","timestamp":"1","type":"order","order":{"catalog_id":"9"}}"#,
            "order",
        ),
        (
            r#"{"from":"5511987654321","id":"w3","timestamp":"1","type":"interactive","interactive":{"type":"nfm_reply","nfm_reply":{}}}"#,
            "interactive/nfm_reply",
        ),
        // known type with content of the wrong shape
        (
            r#"{"from":"5511987654321","id":"w4","timestamp":"1","type":"text","text":"oi"}"#,
            "text",
        ),
        // known type without its content object
        (
            r#"{"from":"5511987654321","id":"w5","timestamp":"1","type":"image"}"#,
            "image",
        ),
    ];
    for (message, kind) in cases {
        let m = only_message(&one_message_payload(message));
        assert_eq!(
            m.content,
            MessageContent::Unsupported {
                kind: kind.into(),
                error_code: None
            },
            "{message}"
        );
        assert_eq!(m.contact_name, None);
    }
}

#[test]
fn legacy_template_quick_reply_button() {
    let m = only_message(&one_message_payload(
        r#"{"context":{"from":"5511933334444","id":"wamid.TPL"},"from":"5511987654321","id":"w","timestamp":"1764316800","type":"button","button":{"payload":"quote_accept","text":"Confirmar"}}"#,
    ));
    assert_eq!(
        m.content,
        MessageContent::Button {
            id: "quote_accept".into(),
            title: "Confirmar".into()
        }
    );
    assert_eq!(m.context_wamid.as_deref(), Some("wamid.TPL"));
}

#[test]
fn unknown_status_is_ignored_and_siblings_survive() {
    let raw = r#"{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"metadata":{"display_phone_number":"5511933334444","phone_number_id":"100000000000001"},"statuses":[{"id":"wamid.A","status":"deleted","timestamp":"1","recipient_id":"5511987654321"},{"id":"wamid.A","status":"read","timestamp":"2","recipient_id":"5511987654321"}]}}]}]}"#;
    let events = parse_webhook(raw.as_bytes()).unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(
        events[0],
        WebhookEvent::Ignored {
            phone_number_id: Some(CHANNEL.into()),
            field: "messages/status:deleted".into()
        }
    );
    assert!(matches!(&events[1], WebhookEvent::Status(s) if s.status == DeliveryStatus::Read));
}

#[test]
fn built_text_webhook_round_trips() {
    let raw = build_text_webhook(
        CHANNEL,
        DISPLAY,
        "551187654321",
        Some("José"),
        "wamid.SIM-1",
        "quanto tá o \"cimento\"?\nvalew",
        1_764_316_800,
    );
    let m = only_message(&raw);
    assert_eq!(
        m,
        InboundMessage {
            phone_number_id: CHANNEL.into(),
            display_phone_number: DISPLAY.into(),
            wamid: "wamid.SIM-1".into(),
            from: "551187654321".into(),
            contact_name: Some("José".into()),
            timestamp: 1_764_316_800,
            content: MessageContent::Text {
                body: "quanto tá o \"cimento\"?\nvalew".into()
            },
            context_wamid: None,
            from_user_id: None,
            username: None,
        }
    );
    // Same shape as Meta's: the fixture and the built payload agree on the structure.
    let built: serde_json::Value = serde_json::from_str(&raw).unwrap();
    let value = &built["entry"][0]["changes"][0]["value"];
    assert_eq!(built["object"], "whatsapp_business_account");
    assert_eq!(built["entry"][0]["changes"][0]["field"], "messages");
    assert_eq!(value["messaging_product"], "whatsapp");
    assert_eq!(value["messages"][0]["timestamp"], "1764316800");
    assert_eq!(value["contacts"][0]["wa_id"], "551187654321");
}

#[test]
fn built_button_reply_round_trips() {
    let raw = build_button_reply_webhook(
        CHANNEL,
        DISPLAY,
        "5511987654321",
        None,
        "wamid.SIM-2",
        Some("wamid.OUTBOUND-QUOTE-1"),
        "quote_accept",
        "Confirmar",
        1_764_317_000,
    );
    let m = only_message(&raw);
    assert_eq!(
        m.content,
        MessageContent::Button {
            id: "quote_accept".into(),
            title: "Confirmar".into()
        }
    );
    assert_eq!(m.context_wamid.as_deref(), Some("wamid.OUTBOUND-QUOTE-1"));
    assert_eq!(m.contact_name, None);
    assert_eq!(m.timestamp, 1_764_317_000);
}

/// The product question's answer (issue 13): a row of our list, with the list message as
/// its context; the builder the simulator uses writes exactly what Meta sends.
#[test]
fn interactive_list_reply_choice_and_its_builder() {
    let raw = fixture!("interactive_list_reply_choice.json");
    let m = only_message(raw);
    let want = MessageContent::ListReply {
        id: "choice:CAB-25M".into(),
        title: "Cabo flexível 2,5mm²".into(),
        description: Some("Cabo flexível 2,5mm² (metro) — R$ 2,99/m".into()),
    };
    assert_eq!(m.content, want);
    assert_eq!(
        m.content.text_for_understanding().as_deref(),
        Some("Cabo flexível 2,5mm²")
    );
    assert_eq!(
        m.context_wamid.as_deref(),
        Some("wamid.OUTBOUND-CHOICE-000000000000001")
    );
    let built = build_list_reply_webhook(
        CHANNEL,
        DISPLAY,
        "5511987654321",
        Some("Maria Souza"),
        "wamid.LIST-REPLY-CHOICE-0000000000001",
        Some("wamid.OUTBOUND-CHOICE-000000000000001"),
        "choice:CAB-25M",
        "Cabo flexível 2,5mm²",
        Some("Cabo flexível 2,5mm² (metro) — R$ 2,99/m"),
        1_764_317_060,
    );
    // Everything but the account id (the builder's is the simulator's) is Meta's payload.
    let value = |raw: &str| {
        let v: serde_json::Value = serde_json::from_str(raw).unwrap();
        v["entry"][0]["changes"][0].clone()
    };
    assert_eq!(
        value(&built),
        value(raw),
        "the builder writes Meta's format"
    );
    assert_eq!(only_message(&built), m);
}

#[test]
fn built_status_webhook_round_trips() {
    let error = GraphErrorInfo {
        code: 131047,
        title: "Re-engagement message".into(),
        details: Some("more than 24 hours".into()),
    };
    let raw = build_status_webhook(
        CHANNEL,
        DISPLAY,
        "wamid.OUT-1",
        "5511987654321",
        DeliveryStatus::Failed,
        1_764_500_000,
        Some(&error),
    );
    assert_eq!(
        parse_webhook(raw.as_bytes()).unwrap(),
        vec![WebhookEvent::Status(StatusUpdate {
            phone_number_id: CHANNEL.into(),
            wamid: "wamid.OUT-1".into(),
            status: DeliveryStatus::Failed,
            timestamp: 1_764_500_000,
            recipient_id: "5511987654321".into(),
            recipient_user_id: None,
            error: Some(error),
        })]
    );
    let delivered = build_status_webhook(
        CHANNEL,
        DISPLAY,
        "wamid.OUT-1",
        "5511987654321",
        DeliveryStatus::Delivered,
        1,
        None,
    );
    let events = parse_webhook(delivered.as_bytes()).unwrap();
    assert!(
        matches!(&events[..], [WebhookEvent::Status(s)] if s.status == DeliveryStatus::Delivered && s.error.is_none())
    );
}

/// Issue 18 item 4: a user with a WhatsApp username may come with `from_user_id` only (no
/// phone). The message is read, and the reply address is the user id.
#[test]
fn username_only_sender_is_read_by_user_id() {
    let m = only_message(fixture!("username_only_sender.json"));
    assert_eq!(m.from, "");
    assert_eq!(m.from_user_id.as_deref(), Some("BR.1502576394655843"));
    assert_eq!(m.reply_address(), "BR.1502576394655843");
    assert_eq!(m.contact_name.as_deref(), Some("Renata"));
    assert_eq!(m.username.as_deref(), Some("renata.obras"));
    assert_eq!(m.wamid, "wamid.USER-0000000000000000000001");
    // With both, the phone is where replies go (Meta recommends it; `to` wins over
    // `recipient` anyway).
    let both = fixture!("username_only_sender.json").replace(
        r#""from_user_id": "BR.1502576394655843","#,
        r#""from_user_id": "BR.1502576394655843", "from": "5511987654321","#,
    );
    let m = only_message(&both);
    assert_eq!(m.from, "5511987654321");
    assert_eq!(m.reply_address(), "5511987654321");
}

/// Issue 18 item 4: one message Meta sent without any sender does not sink the good one
/// beside it; it comes back as unreadable, with its id, in its place.
#[test]
fn mixed_delivery_keeps_the_good_message_and_names_the_broken_one() {
    let raw = fixture!("mixed_delivery_one_broken.json");
    let events = parse_delivery(raw.as_bytes()).expect("a WhatsApp payload");
    let [WebhookEvent::Unreadable(broken), WebhookEvent::Message(good)] = events.as_slice() else {
        panic!("expected unreadable + message, got {events:?}");
    };
    assert_eq!(
        broken,
        &Unreadable {
            phone_number_id: Some(CHANNEL.into()),
            wamid: Some("wamid.MIXED-BROKEN-00000000000001".into()),
            part: "message",
            reason: "message without a sender (from or from_user_id)".into(),
        }
    );
    assert_eq!(good.wamid, "wamid.MIXED-GOOD-000000000000002");
    assert_eq!(good.from, "5521998887777");
    // The all-or-nothing form still refuses it.
    assert!(matches!(
        parse_webhook(raw.as_bytes()),
        Err(WebhookParseError::Malformed { .. })
    ));
}

/// Each broken part of a WhatsApp payload is unreadable on its own: a receipt without an
/// id, a message with a timestamp that is not a number, a `messages` change without its
/// channel; the readable parts around them are kept.
#[test]
fn broken_parts_are_unreadable_and_their_neighbours_kept() {
    let raw = r#"{"object":"whatsapp_business_account","entry":[{"changes":[
      {"field":"messages","value":{"messages":[{"from":"5511987654321","id":"w0","timestamp":"1","type":"text","text":{"body":"oi"}}]}},
      {"field":"messages","value":{"metadata":{"phone_number_id":"1"},
        "messages":[{"from":"5511987654321","id":"w1","timestamp":"ontem","type":"text","text":{"body":"oi"}},
                    {"from":"5511987654321","id":"w2","timestamp":"2","type":"text","text":{"body":"oi"}}],
        "statuses":[{"status":"read","timestamp":"3"},
                    {"id":"s1","status":"read","timestamp":"3","recipient_id":"5511987654321"}]}}]}]}"#;
    let events = parse_delivery(raw.as_bytes()).expect("a WhatsApp payload");
    let parts: Vec<(&str, Option<&str>)> = events
        .iter()
        .map(|e| match e {
            WebhookEvent::Unreadable(u) => (u.part, u.wamid.as_deref()),
            WebhookEvent::Message(m) => ("ok message", Some(m.wamid.as_str())),
            WebhookEvent::Status(s) => ("ok status", Some(s.wamid.as_str())),
            WebhookEvent::Ignored { .. } => ("ignored", None),
            WebhookEvent::TemplateStatus(_) => ("template", None),
        })
        .collect();
    assert_eq!(
        parts,
        [
            ("change", None),
            ("message", Some("w1")),
            ("ok message", Some("w2")),
            ("status", None),
            ("ok status", Some("s1")),
        ]
    );
    // Not a WhatsApp payload at all: still an error for the whole body.
    assert!(parse_delivery(br#"{"object":"page","entry":[]}"#).is_err());
    assert!(parse_delivery(br#"{"object":"whatsapp_business_account"}"#).is_err());
}

/// Receipts for a message sent to a user id carry `recipient_user_id` (and may lack
/// `recipient_id`).
#[test]
fn status_with_user_id() {
    let events = parse_webhook(fixture!("status_with_user_id.json").as_bytes()).unwrap();
    assert_eq!(
        events,
        vec![WebhookEvent::Status(StatusUpdate {
            phone_number_id: CHANNEL.into(),
            wamid: "wamid.OUT-USER-000000000000000001".into(),
            status: DeliveryStatus::Delivered,
            timestamp: 1_764_316_850,
            recipient_id: String::new(),
            recipient_user_id: Some("BR.1502576394655843".into()),
            error: None,
        })]
    );
}
#[test]
fn document_fixture_keeps_filename_and_caption() {
    let m = only_message(fixture!("document_with_caption.json"));
    assert_eq!(m.from, "5531977776666");
    assert_eq!(
        m.content,
        MessageContent::Document {
            media_id: "2345678901234567".into(),
            filename: Some("lista-materiais.pdf".into()),
            caption: Some("lista da obra, pode orçar?".into()),
            mime_type: "application/pdf".into(),
        }
    );
    assert_eq!(m.content.kind(), "document");
    // A person reads the file; the bot does not guess from its caption.
    assert_eq!(m.content.text_for_understanding(), None);
}

#[test]
fn contacts_fixture_keeps_names_and_phones() {
    let m = only_message(fixture!("contacts_shared.json"));
    assert_eq!(
        m.content,
        MessageContent::Contacts {
            cards: vec![
                SharedContact {
                    name: "José Pedreiro".into(),
                    phones: vec!["+55 11 98888-7777".into()],
                },
                SharedContact {
                    name: "Depósito Central".into(),
                    phones: vec!["+55 11 3333-2222".into()],
                },
            ]
        }
    );
    assert_eq!(m.content.kind(), "contacts");
}

#[test]
fn sticker_is_read() {
    let m = only_message(fixture!("sticker.json"));
    assert_eq!(
        m.content,
        MessageContent::Sticker {
            media_id: "3456789012345678".into(),
            animated: false,
        }
    );
}

#[test]
fn number_change_system_message_carries_the_new_wa_id() {
    let m = only_message(fixture!("system_user_changed_number.json"));
    assert_eq!(m.from, "5531977776666");
    assert_eq!(
        m.content,
        MessageContent::System {
            kind: "user_changed_number".into(),
            body: "Ana changed from 5531977776666 to 5531966665555".into(),
            new_wa_id: Some("5531966665555".into()),
        }
    );
    // Older payloads named it new_wa_id.
    let old = fixture!("system_user_changed_number.json").replace(
        "\"wa_id\": \"5531966665555\"",
        "\"new_wa_id\": \"5531966665555\"",
    );
    assert!(old.contains("new_wa_id"));
    assert!(matches!(only_message(&old).content,
        MessageContent::System { new_wa_id: Some(w), .. } if w == "5531966665555"));
}
