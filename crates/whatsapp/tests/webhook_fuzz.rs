//! Fuzzing of the webhook parser on stable Rust (cargo-fuzz needs nightly): proptest mutates
//! Meta's real payloads (fixtures/whatsapp/) — wrong types, missing keys, huge numbers,
//! unicode and control characters, deep nesting, giant arrays, truncation, flipped bytes —
//! and feeds arbitrary bytes. Whatever arrives after the signature check, `parse_webhook`
//! must return events or a `WebhookParseError`: never panic, never overflow the stack (which
//! would abort the web process for every store). Case counts are fixed so the suite stays
//! within seconds; `PROPTEST_CASES=100000 cargo test -p whatsapp --test webhook_fuzz` runs a
//! longer campaign.

use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{json, Value};
use whatsapp::webhook::{parse_webhook, WebhookEvent, WebhookParseError};

macro_rules! fixtures {
    ($($name:literal),* $(,)?) => {
        [$(include_str!(concat!("../../../fixtures/whatsapp/", $name))),*]
    };
}

const FIXTURES: [&str; 14] = fixtures!(
    "audio_voice_note.json",
    "image_with_caption.json",
    "interactive_button_reply.json",
    "interactive_list_reply.json",
    "location.json",
    "non_message_field.json",
    "reaction.json",
    "status_failed_outside_window.json",
    "status_sent_delivered_read.json",
    "text_message.json",
    "text_message_brazil_8digit_wa_id.json",
    "two_messages_one_payload.json",
    "unknown_phone_number_id.json",
    "unsupported_type.json",
);

/// Stands for a value spliced in as text (a `serde_json::Value` that deep would overflow
/// the test's own stack when dropped or printed).
const SPLICE: &str = "\u{1}SPLICE\u{1}";

/// What replaces one node of a payload.
#[derive(Debug, Clone)]
enum Mutation {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// Number text serde can't hold (`1e999999`, 400 digits…).
    NumberText(String),
    Text(String),
    EmptyObject,
    EmptyArray,
    Remove,
    /// `[[[[…]]]]` or `{"a":{"a":…}}` this deep.
    Deep {
        depth: usize,
        object: bool,
    },
    /// An array of this many copies of the node (or of `0` where there is none).
    Giant(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        Just(Mutation::Null),
        any::<bool>().prop_map(Mutation::Bool),
        prop_oneof![
            Just(i64::MIN),
            Just(i64::MAX),
            Just(-1i64),
            Just(0),
            any::<i64>()
        ]
        .prop_map(Mutation::Int),
        prop_oneof![Just(f64::MAX), Just(-0.0), Just(1e-300), any::<f64>()]
            .prop_map(Mutation::Float),
        prop_oneof![
            Just("1e999999".to_string()),
            Just("-1e999999".to_string()),
            Just(format!("1{}", "0".repeat(400))),
            Just("18446744073709551616".to_string()),
            Just("-9223372036854775809".to_string()),
            Just("0.0000000000000000000000001".to_string()),
        ]
        .prop_map(Mutation::NumberText),
        prop_oneof![
            any::<String>(),
            Just(String::new()),
            Just("\u{0}\u{1b}[31m\u{202e}\r\n\t".to_string()),
            Just("📍💳📅📦🇧🇷".repeat(500)),
            Just("\u{FEFF}\u{FFFD}\u{10FFFF}".to_string()),
            Just("x".repeat(20_000)),
            // Numbers where text is expected and the other way round.
            prop_oneof![
                Just("-1"),
                Just("0"),
                Just(" 1764316800 "),
                Just("1.5"),
                Just("NaN")
            ]
            .prop_map(str::to_string),
        ]
        .prop_map(Mutation::Text),
        Just(Mutation::EmptyObject),
        Just(Mutation::EmptyArray),
        Just(Mutation::Remove),
        (1usize..100_000, any::<bool>())
            .prop_map(|(depth, object)| Mutation::Deep { depth, object }),
        (0usize..1_000).prop_map(Mutation::Giant),
    ]
}

/// Every node of `v` as a JSON pointer.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                pointers(
                    child,
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                pointers(child, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
    out.push(at);
}

/// Applies `m` at the `pick`-th node of `body` (unchanged if it is not JSON any more).
fn mutate(body: &str, pick: usize, m: &Mutation) -> Vec<u8> {
    let Ok(v) = serde_json::from_str::<Value>(body) else {
        return body.as_bytes().to_vec();
    };
    let mut all = Vec::new();
    pointers(&v, String::new(), &mut all);
    mutate_at(v, &all[pick % all.len()], m)
}

/// Applies `m` at the node `at` (a JSON pointer) of `v`; returns the body as sent.
fn mutate_at(mut v: Value, at: &str, m: &Mutation) -> Vec<u8> {
    let mut spliced = None;
    let replacement = match m {
        Mutation::Null => Value::Null,
        Mutation::Bool(b) => json!(b),
        Mutation::Int(n) => json!(n),
        Mutation::Float(f) => json!(f),
        Mutation::Text(s) => json!(s),
        Mutation::EmptyObject => json!({}),
        Mutation::EmptyArray => json!([]),
        Mutation::NumberText(s) => {
            spliced = Some(s.clone());
            json!(SPLICE)
        }
        Mutation::Deep { depth, object } => {
            spliced = Some(if *object {
                format!("{}1{}", "{\"a\":".repeat(*depth), "}".repeat(*depth))
            } else {
                format!("{}1{}", "[".repeat(*depth), "]".repeat(*depth))
            });
            json!(SPLICE)
        }
        Mutation::Giant(n) => {
            let node = v.pointer(at).cloned().unwrap_or(json!(0));
            Value::Array(vec![node; *n])
        }
        Mutation::Remove => {
            if let Some((parent, key)) = at.rsplit_once('/') {
                match v.pointer_mut(parent) {
                    Some(Value::Object(o)) => {
                        o.remove(&key.replace("~1", "/").replace("~0", "~"));
                    }
                    Some(Value::Array(a)) => {
                        if let Ok(i) = key.parse::<usize>() {
                            if i < a.len() {
                                a.remove(i);
                            }
                        }
                    }
                    _ => {}
                }
            }
            return serde_json::to_vec(&v).expect("serialize");
        }
    };
    match v.pointer_mut(at) {
        Some(slot) => *slot = replacement,
        None => v = replacement,
    }
    let text = serde_json::to_string(&v).expect("serialize");
    match spliced {
        Some(s) => text.replacen(&serde_json::to_string(SPLICE).expect("json"), &s, 1),
        None => text,
    }
    .into_bytes()
}

/// The property: a result, and a sane one.
fn check(body: &[u8]) -> Result<(), TestCaseError> {
    match parse_webhook(body) {
        Ok(events) => {
            for e in &events {
                if let WebhookEvent::Message(m) = e {
                    prop_assert!(!m.wamid.trim().is_empty());
                    prop_assert!(!m.from.trim().is_empty());
                    prop_assert!(!m.phone_number_id.trim().is_empty());
                }
            }
        }
        // The error is typed by construction; what reaches the logs stays short even for
        // a huge body.
        Err(e) => {
            let len = e.to_string().len();
            prop_assert!(len < 1_000, "error text of {} bytes", len);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(Config { cases: 1_024, ..Config::default() })]

    #[test]
    fn a_mutated_real_payload_gives_events_or_a_typed_error(
        f in 0..FIXTURES.len(),
        pick in any::<usize>(),
        m in mutation(),
    ) {
        check(&mutate(FIXTURES[f], pick, &m))?;
    }

    #[test]
    fn two_mutations_then_truncation_or_flipped_bytes(
        f in 0..FIXTURES.len(),
        picks in (any::<usize>(), any::<usize>()),
        ms in (mutation(), mutation()),
        cut in any::<prop::sample::Index>(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
    ) {
        let once = String::from_utf8_lossy(&mutate(FIXTURES[f], picks.0, &ms.0)).into_owned();
        check(once.as_bytes())?;
        let mut body = mutate(&once, picks.1, &ms.1);
        check(&body)?;
        for (at, byte) in &flips {
            let i = at.index(body.len().max(1));
            if let Some(b) = body.get_mut(i) {
                *b = *byte;
            }
        }
        check(&body)?;
        body.truncate(cut.index(body.len() + 1));
        check(&body)?;
    }

    #[test]
    fn arbitrary_bytes_give_a_typed_error(body in prop::collection::vec(any::<u8>(), 0..4_096)) {
        check(&body)?;
    }
}

proptest! {
    #![proptest_config(Config { cases: 16, ..Config::default() })]

    /// Nesting and size at the top level and in a real payload's messages array (the web
    /// server takes webhook bodies up to `ORCAZAP_WEBHOOK_BODY_LIMIT`, 3 MiB by default, as
    /// Meta documents payloads of up to 3 MB; the fixed test below goes to 1 MiB).
    #[test]
    fn deep_and_giant_bodies_are_refused_without_overflow(
        depth in 1usize..300_000,
        object in any::<bool>(),
        f in 0..FIXTURES.len(),
        giant in 0usize..5_000,
    ) {
        let deep = if object {
            format!("{}{}", "{\"a\":".repeat(depth / 5), "}".repeat(depth / 5))
        } else {
            format!("{}{}", "[".repeat(depth), "]".repeat(depth))
        };
        check(deep.as_bytes())?;
        check(&deep.as_bytes()[..deep.len() / 2])?;
        // A real payload whose messages array holds `giant` copies of its first entry.
        let mut v: Value = serde_json::from_str(FIXTURES[f]).expect("fixture is JSON");
        if let Some(Value::Array(a)) = v.pointer_mut("/entry/0/changes/0/value/messages") {
            let first = a[0].clone();
            a.resize(giant.max(1), first);
        }
        check(&serde_json::to_vec(&v).expect("serialize"))?;
    }
}

/// Deep bodies at fixed sizes, independent of what proptest happens to draw: refused as a
/// whole at the top level or in the envelope; inside one message's content, that message
/// is kept as unsupported (lenient on content, as documented in parse.rs).
#[test]
fn the_deepest_bodies_are_typed_errors_or_unsupported_content() {
    let text: Value = serde_json::from_str(FIXTURES[9]).expect("text fixture");
    for depth in [129, 10_000, 1 << 19] {
        let deep = Mutation::Deep {
            depth,
            object: depth % 2 == 0,
        };
        let arrays = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        assert!(matches!(
            parse_webhook(arrays.as_bytes()),
            Err(WebhookParseError::InvalidJson { .. } | WebhookParseError::Malformed { .. })
        ));
        let envelope = mutate_at(text.clone(), "/entry/0/changes/0/value/metadata", &deep);
        assert!(matches!(
            parse_webhook(&envelope),
            Err(WebhookParseError::InvalidJson { .. } | WebhookParseError::Malformed { .. })
        ));
        let content = mutate_at(
            text.clone(),
            "/entry/0/changes/0/value/messages/0/text",
            &deep,
        );
        match parse_webhook(&content)
            .expect("the message is kept")
            .as_slice()
        {
            [WebhookEvent::Message(m)] => assert!(
                matches!(
                    m.content,
                    whatsapp::webhook::MessageContent::Unsupported { .. }
                ),
                "{:?}",
                m.content
            ),
            other => panic!("{other:?}"),
        }
    }
}
