//! What a customer sent, as the webhook stores it and the worker reads it back.
//!
//! One type on both sides, so a message kind is spelled once. Its stored form is the three
//! columns of `messages` — `kind` (the serde tag), `body` (the text a person reads) and
//! `payload_json` (the kind's other fields) — exactly as rows have been written so far, so
//! old rows read the same.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::engine::Inbound;

/// One inbound message's content. Every variant's readable text is serialised as `body`;
/// its other fields default when absent or of another type, so such a row still reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum InboundContent {
    Text {
        body: String,
    },
    /// A tap on one of our reply buttons (or a template quick reply).
    Button {
        #[serde(default, deserialize_with = "lenient")]
        id: String,
        #[serde(rename = "body", default)]
        title: String,
        /// Meta's id of the message whose button was tapped (`context.id`): which quote the
        /// customer saw. Empty when Meta sent none (and on rows stored before issue 18).
        #[serde(
            default,
            deserialize_with = "lenient",
            skip_serializing_if = "String::is_empty"
        )]
        context_id: String,
    },
    /// A row picked from a list message.
    ListReply {
        #[serde(default, deserialize_with = "lenient")]
        id: String,
        #[serde(rename = "body", default)]
        title: String,
    },
    Image {
        /// Empty when the image came without one.
        #[serde(rename = "body", default)]
        caption: String,
        #[serde(default, deserialize_with = "lenient")]
        media_id: String,
        #[serde(default, deserialize_with = "lenient")]
        mime_type: String,
        /// Why the worker could not download it (issue 16), for the people who look at it.
        #[serde(
            default,
            deserialize_with = "lenient",
            skip_serializing_if = "Option::is_none"
        )]
        media_error: Option<String>,
    },
    Audio {
        #[serde(default, deserialize_with = "lenient")]
        media_id: String,
        #[serde(default, deserialize_with = "lenient")]
        voice: bool,
        /// What the customer said, written down by the worker (issue 16): read as text.
        #[serde(
            default,
            deserialize_with = "lenient",
            skip_serializing_if = "Option::is_none"
        )]
        transcript: Option<String>,
        /// Why there is no transcript (pt-BR, shown to staff): the audio goes to a person.
        #[serde(
            default,
            deserialize_with = "lenient",
            skip_serializing_if = "Option::is_none"
        )]
        unheard: Option<String>,
    },
    Location {
        /// The place's name and address, joined by " - ".
        #[serde(rename = "body", default)]
        place: String,
        /// Decimal text as Meta sent it.
        #[serde(default, deserialize_with = "lenient")]
        latitude: String,
        #[serde(default, deserialize_with = "lenient")]
        longitude: String,
    },
    Reaction {
        /// Empty when the reaction was removed.
        #[serde(rename = "body", default)]
        emoji: String,
        #[serde(default, deserialize_with = "lenient")]
        message_id: String,
    },
    /// A file: the caption is what a person reads; the name says what it is.
    Document {
        /// Empty when the file came without one.
        #[serde(rename = "body", default)]
        caption: String,
        #[serde(default, deserialize_with = "lenient")]
        filename: String,
        #[serde(default, deserialize_with = "lenient")]
        media_id: String,
        #[serde(default, deserialize_with = "lenient")]
        mime_type: String,
    },
    /// Shared contact cards; `body` lists them as a person reads them ("José: +55 11 …").
    Contacts {
        #[serde(rename = "body", default)]
        summary: String,
        #[serde(default, deserialize_with = "lenient")]
        cards: Vec<ContactCard>,
    },
    Sticker {
        #[serde(default, deserialize_with = "lenient")]
        media_id: String,
        #[serde(default, deserialize_with = "lenient")]
        animated: bool,
    },
    /// Meta's notice about the sender (`user_changed_number`: the new `wa_id`), never answered.
    System {
        #[serde(rename = "body", default)]
        notice: String,
        #[serde(rename = "type", default, deserialize_with = "lenient")]
        system_type: String,
        #[serde(default, deserialize_with = "lenient")]
        new_wa_id: Option<String>,
    },
    /// Anything else (videos, orders…); also what a row of a kind this version
    /// does not know reads as.
    Unsupported {
        /// Meta's `type`.
        #[serde(rename = "type", default, deserialize_with = "lenient")]
        meta_type: String,
        #[serde(default, deserialize_with = "lenient")]
        error_code: Option<i64>,
    },
}

/// One shared contact: its name and phones as the customer's address book has them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactCard {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub phones: Vec<String>,
}

impl ContactCard {
    /// "José Pedreiro: +55 11 98888-7777, +55 11 3333-2222".
    pub fn line(&self) -> String {
        let name = if self.name.trim().is_empty() {
            "(sem nome)"
        } else {
            self.name.trim()
        };
        match self.phones.is_empty() {
            true => name.to_string(),
            false => format!("{name}: {}", self.phones.join(", ")),
        }
    }
}

/// The readable text of shared contact cards, one per line.
pub fn contacts_summary(cards: &[ContactCard]) -> String {
    cards
        .iter()
        .map(ContactCard::line)
        .collect::<Vec<_>>()
        .join("\n")
}

/// An extra of the wrong JSON type reads as its default, as it always has (the worker used
/// to pick fields out of the JSON by hand): one odd field never makes the message unreadable.
fn lenient<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned + Default,
{
    let v = Value::deserialize(d)?;
    Ok(serde_json::from_value(v).unwrap_or_default())
}

/// The `messages` columns an inbound message is stored in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredContent {
    pub kind: String,
    pub body: String,
    pub payload_json: String,
}

impl InboundContent {
    /// The stored `kind`, also the label of the inbound-message metric.
    pub fn kind(&self) -> &'static str {
        match self {
            InboundContent::Text { .. } => "text",
            InboundContent::Button { .. } => "button",
            InboundContent::ListReply { .. } => "list_reply",
            InboundContent::Image { .. } => "image",
            InboundContent::Audio { .. } => "audio",
            InboundContent::Location { .. } => "location",
            InboundContent::Reaction { .. } => "reaction",
            InboundContent::Document { .. } => "document",
            InboundContent::Contacts { .. } => "contacts",
            InboundContent::Sticker { .. } => "sticker",
            InboundContent::System { .. } => "system",
            InboundContent::Unsupported { .. } => "unsupported",
        }
    }

    /// Splits the serde form into the three columns: the tag, the text, the rest.
    pub fn to_stored(&self) -> StoredContent {
        let mut fields = match serde_json::to_value(self) {
            Ok(Value::Object(m)) => m,
            // An internally tagged enum of structs always serialises to an object.
            _ => Map::new(),
        };
        fields.remove("kind");
        let body = match fields.remove("body") {
            Some(Value::String(s)) => s,
            _ => String::new(),
        };
        StoredContent {
            kind: self.kind().to_string(),
            body,
            payload_json: Value::Object(fields).to_string(),
        }
    }

    /// Reads the three columns back. Never fails: a payload that is not a JSON object reads
    /// as empty, missing extras take their defaults, and a kind this version does not know
    /// reads as [`InboundContent::Unsupported`] with that kind.
    pub fn from_stored(kind: &str, body: &str, payload_json: &str) -> InboundContent {
        let mut fields = match serde_json::from_str(payload_json) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        };
        fields.insert("kind".into(), Value::String(kind.to_string()));
        fields.insert("body".into(), Value::String(body.to_string()));
        serde_json::from_value(Value::Object(fields)).unwrap_or_else(|_| {
            InboundContent::Unsupported {
                meta_type: kind.to_string(),
                error_code: None,
            }
        })
    }

    /// The engine's view: the id of a tapped button decides, an image's caption reads as
    /// text, media the bot cannot read is described to the customer.
    pub fn to_engine(&self) -> Inbound {
        match self {
            InboundContent::Text { body } => Inbound::Text(body.clone()),
            InboundContent::Button { id, title, .. } | InboundContent::ListReply { id, title } => {
                Inbound::Button {
                    id: id.clone(),
                    title: title.clone(),
                }
            }
            InboundContent::Location { place, .. } => Inbound::Location {
                address: place.clone(),
            },
            // A sticker is a gesture, like a reaction: answering "não consigo ler" to a
            // thumbs-up sticker is noise, so it is stored and shown, never answered.
            InboundContent::Reaction { .. } | InboundContent::Sticker { .. } => Inbound::Reaction,
            // Meta's notice (a changed number) is applied to the contact when stored.
            InboundContent::System { .. } => Inbound::Reaction,
            // A file or a contact card needs a person's eyes: it goes to the store's people,
            // who see its name, caption, phones in the conversation.
            InboundContent::Document { filename, .. } => Inbound::ForAPerson {
                described: if filename.is_empty() {
                    "um arquivo".into()
                } else {
                    format!("o arquivo {filename}")
                },
            },
            InboundContent::Contacts { .. } => Inbound::ForAPerson {
                described: "um contato".into(),
            },
            // A voice note the worker wrote down reads as the customer's words (issue 16);
            // one it could not is heard by a person. An audio never looked at (a row from
            // before issue 16) is described, as it always was.
            InboundContent::Audio {
                transcript: Some(t),
                ..
            } if !t.trim().is_empty() => Inbound::Text(t.clone()),
            InboundContent::Audio {
                unheard: Some(_), ..
            } => Inbound::ForAPerson {
                described: "um áudio".into(),
            },
            InboundContent::Audio { .. } => Inbound::Media {
                described: "um áudio".into(),
            },
            InboundContent::Image { caption, .. } if !caption.trim().is_empty() => {
                Inbound::Text(caption.clone())
            }
            // A photo without words (a list on paper, a broken pipe): a person looks at it.
            InboundContent::Image { .. } => Inbound::ForAPerson {
                described: "uma imagem sem legenda".into(),
            },
            InboundContent::Unsupported { .. } => Inbound::Media {
                described: "uma mensagem que não consigo ler".into(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(kind: &str, body: &str, payload_json: &str) -> StoredContent {
        StoredContent {
            kind: kind.into(),
            body: body.into(),
            payload_json: payload_json.into(),
        }
    }

    /// Each kind, stored exactly as the webhook has written it so far (kind, body and the
    /// extras' JSON), and read back to the same content.
    #[test]
    fn stored_form_is_todays_and_reads_back() {
        let cases = [
            (
                InboundContent::Text {
                    body: "10 sacos de cimento".into(),
                },
                stored("text", "10 sacos de cimento", "{}"),
            ),
            (
                InboundContent::Button {
                    id: "quote_accept".into(),
                    title: "Confirmar".into(),
                    context_id: String::new(),
                },
                stored("button", "Confirmar", r#"{"id":"quote_accept"}"#),
            ),
            (
                // Issue 18: the tapped message's id (Meta's `context.id`) is kept with the tap.
                InboundContent::Button {
                    id: "quote_accept:ORC-2026-000007".into(),
                    title: "Confirmar".into(),
                    context_id: "wamid.Q7".into(),
                },
                stored(
                    "button",
                    "Confirmar",
                    r#"{"context_id":"wamid.Q7","id":"quote_accept:ORC-2026-000007"}"#,
                ),
            ),
            (
                InboundContent::ListReply {
                    id: "row_2".into(),
                    title: "Tarde".into(),
                },
                stored("list_reply", "Tarde", r#"{"id":"row_2"}"#),
            ),
            (
                InboundContent::Image {
                    caption: "".into(),
                    media_id: "m1".into(),
                    mime_type: "image/jpeg".into(),
                    media_error: None,
                },
                stored("image", "", r#"{"media_id":"m1","mime_type":"image/jpeg"}"#),
            ),
            (
                InboundContent::Audio {
                    media_id: "a1".into(),
                    voice: true,
                    transcript: None,
                    unheard: None,
                },
                stored("audio", "", r#"{"media_id":"a1","voice":true}"#),
            ),
            (
                // Issue 16: what the worker heard is kept on the message.
                InboundContent::Audio {
                    media_id: "a2".into(),
                    voice: true,
                    transcript: Some("dez sacos de cimento".into()),
                    unheard: None,
                },
                stored(
                    "audio",
                    "",
                    r#"{"media_id":"a2","voice":true,"transcript":"dez sacos de cimento"}"#,
                ),
            ),
            (
                InboundContent::Location {
                    place: "Obra - Rua A, 10".into(),
                    latitude: "-23.5".into(),
                    longitude: "-46.6".into(),
                },
                stored(
                    "location",
                    "Obra - Rua A, 10",
                    r#"{"latitude":"-23.5","longitude":"-46.6"}"#,
                ),
            ),
            (
                InboundContent::Reaction {
                    emoji: "👍".into(),
                    message_id: "wamid.X".into(),
                },
                stored("reaction", "👍", r#"{"message_id":"wamid.X"}"#),
            ),
            (
                InboundContent::Unsupported {
                    meta_type: "sticker".into(),
                    error_code: Some(131051),
                },
                stored(
                    "unsupported",
                    "",
                    r#"{"error_code":131051,"type":"sticker"}"#,
                ),
            ),
            (
                InboundContent::Unsupported {
                    meta_type: "video".into(),
                    error_code: None,
                },
                stored("unsupported", "", r#"{"error_code":null,"type":"video"}"#),
            ),
            (
                InboundContent::Document {
                    caption: "lista da obra".into(),
                    filename: "lista.pdf".into(),
                    media_id: "d1".into(),
                    mime_type: "application/pdf".into(),
                },
                stored(
                    "document",
                    "lista da obra",
                    r#"{"filename":"lista.pdf","media_id":"d1","mime_type":"application/pdf"}"#,
                ),
            ),
            (
                InboundContent::Contacts {
                    summary: "José: +55 11 98888-7777".into(),
                    cards: vec![ContactCard {
                        name: "José".into(),
                        phones: vec!["+55 11 98888-7777".into()],
                    }],
                },
                stored(
                    "contacts",
                    "José: +55 11 98888-7777",
                    r#"{"cards":[{"name":"José","phones":["+55 11 98888-7777"]}]}"#,
                ),
            ),
            (
                InboundContent::Sticker {
                    media_id: "s1".into(),
                    animated: false,
                },
                stored("sticker", "", r#"{"animated":false,"media_id":"s1"}"#),
            ),
            (
                InboundContent::System {
                    notice: "Ana changed numbers".into(),
                    system_type: "user_changed_number".into(),
                    new_wa_id: Some("5531966665555".into()),
                },
                stored(
                    "system",
                    "Ana changed numbers",
                    r#"{"new_wa_id":"5531966665555","type":"user_changed_number"}"#,
                ),
            ),
        ];
        for (content, want) in cases {
            let got = content.to_stored();
            assert_eq!(got.kind, want.kind, "{content:?}");
            assert_eq!(got.body, want.body, "{content:?}");
            let (g, w): (Value, Value) = (
                serde_json::from_str(&got.payload_json).unwrap(),
                serde_json::from_str(&want.payload_json).unwrap(),
            );
            assert_eq!(g, w, "{content:?}");
            assert_eq!(
                InboundContent::from_stored(&want.kind, &want.body, &want.payload_json),
                content
            );
        }
    }

    /// What the worker made of rows before this type existed (its `inbound_of`), for every
    /// kind and the odd rows: the engine must see exactly the same.
    #[test]
    fn old_rows_reach_the_engine_unchanged() {
        let button = |id: &str, title: &str| Inbound::Button {
            id: id.into(),
            title: title.into(),
        };
        let media = |d: &str| Inbound::Media {
            described: d.into(),
        };
        let person = |d: &str| Inbound::ForAPerson {
            described: d.into(),
        };
        let cases: &[(&str, &str, &str, Inbound)] = &[
            ("text", "oi", "{}", Inbound::Text("oi".into())),
            ("text", "oi", "", Inbound::Text("oi".into())),
            (
                "button",
                "Confirmar",
                r#"{"id":"quote_accept"}"#,
                button("quote_accept", "Confirmar"),
            ),
            (
                "list_reply",
                "Tarde",
                r#"{"id":"row_2"}"#,
                button("row_2", "Tarde"),
            ),
            // A payload without an id, not an object, or not JSON: the id reads as empty.
            ("button", "Confirmar", "{}", button("", "Confirmar")),
            ("button", "Confirmar", "[1]", button("", "Confirmar")),
            ("button", "Confirmar", "not json", button("", "Confirmar")),
            (
                "button",
                "Confirmar",
                r#"{"id":7}"#,
                button("", "Confirmar"),
            ),
            (
                "location",
                "Obra - Rua A, 10",
                r#"{"latitude":"-23.5","longitude":"-46.6"}"#,
                Inbound::Location {
                    address: "Obra - Rua A, 10".into(),
                },
            ),
            (
                "reaction",
                "👍",
                r#"{"message_id":"wamid.X"}"#,
                Inbound::Reaction,
            ),
            (
                "audio",
                "",
                r#"{"media_id":"a1","voice":true}"#,
                media("um áudio"),
            ),
            (
                "image",
                "",
                r#"{"media_id":"m1","mime_type":"image/jpeg"}"#,
                person("uma imagem sem legenda"),
            ),
            ("image", "   ", "{}", person("uma imagem sem legenda")),
            (
                "image",
                "cimento assim",
                r#"{"media_id":"m1"}"#,
                Inbound::Text("cimento assim".into()),
            ),
            (
                "unsupported",
                "",
                r#"{"type":"sticker","error_code":null}"#,
                media("uma mensagem que não consigo ler"),
            ),
            // A kind this version does not know ("sticker" was one until issue 18 item 8).
            ("video", "", "{}", media("uma mensagem que não consigo ler")),
            ("", "", "", media("uma mensagem que não consigo ler")),
        ];
        for (kind, body, payload, want) in cases {
            assert_eq!(
                &before(kind, body, payload),
                want,
                "{kind} {body:?} {payload}"
            );
            assert_eq!(
                &InboundContent::from_stored(kind, body, payload).to_engine(),
                want,
                "{kind} {body:?} {payload}"
            );
        }
    }

    /// The worker's `inbound_of` as it was before [`InboundContent`], kept as the oracle.
    fn before(kind: &str, body: &str, payload_json: &str) -> Inbound {
        let payload: Value = serde_json::from_str(payload_json).unwrap_or_default();
        match kind {
            "button" | "list_reply" => Inbound::Button {
                id: payload
                    .get("id")
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string(),
                title: body.to_string(),
            },
            "location" => Inbound::Location {
                address: body.to_string(),
            },
            "reaction" => Inbound::Reaction,
            "audio" => Inbound::Media {
                described: "um áudio".into(),
            },
            "image" if !body.trim().is_empty() => Inbound::Text(body.to_string()),
            // Issue 16 changed this on purpose: a photo without a caption goes to a person
            // (it was answered "send text" before).
            "image" => Inbound::ForAPerson {
                described: "uma imagem sem legenda".into(),
            },
            "text" => Inbound::Text(body.to_string()),
            _ => Inbound::Media {
                described: "uma mensagem que não consigo ler".into(),
            },
        }
    }

    proptest::proptest! {
        /// Any row — known or unknown kind, any text, extras of any shape — reaches the engine
        /// as it did before.
        #[test]
        fn any_row_reads_as_before(
            kind in proptest::sample::select(vec![
                "text", "button", "list_reply", "image", "audio", "location", "reaction",
                "unsupported", "video", "",
            ]),
            body in "\\PC{0,12}",
            payload in proptest::sample::select(vec![
                "{}", "", "null", "[]", "not json", r#"{"id":"b1"}"#, r#"{"id":1}"#,
                r#"{"id":null,"voice":"yes"}"#, r#"{"media_id":5,"mime_type":[]}"#,
                r#"{"latitude":1.5,"longitude":"x","message_id":{}}"#,
                r#"{"type":3,"error_code":"x","kind":"text","body":"sneaky"}"#,
            ]),
        ) {
            proptest::prop_assert_eq!(
                InboundContent::from_stored(kind, &body, payload).to_engine(),
                before(kind, &body, payload)
            );
        }
    }

    /// Issue 16: a voice note with a transcript reads as text, one without goes to a person.
    #[test]
    fn heard_and_unheard_voice_notes() {
        let heard = InboundContent::from_stored(
            "audio",
            "",
            r#"{"media_id":"a","voice":true,"transcript":"10 sc de cimento"}"#,
        );
        assert_eq!(heard.to_engine(), Inbound::Text("10 sc de cimento".into()));
        let unheard = InboundContent::from_stored(
            "audio",
            "",
            r#"{"media_id":"a","voice":true,"unheard":"transcrição desligada"}"#,
        );
        assert!(matches!(unheard.to_engine(), Inbound::ForAPerson { .. }));
        // A blank transcript is no words: described as before.
        let blank =
            InboundContent::from_stored("audio", "", r#"{"media_id":"a","transcript":"  "}"#);
        assert!(matches!(blank.to_engine(), Inbound::Media { .. }));
    }

    /// A file or contact card goes to a person; a sticker and Meta's notices are never
    /// answered (issue 18 item 8).
    #[test]
    fn documents_and_contacts_go_to_a_person_stickers_are_not_answered() {
        let doc = InboundContent::Document {
            caption: String::new(),
            filename: "lista.pdf".into(),
            media_id: "d1".into(),
            mime_type: String::new(),
        };
        assert!(
            matches!(doc.to_engine(), Inbound::ForAPerson { described } if described.contains("lista.pdf"))
        );
        let cards = InboundContent::Contacts {
            summary: String::new(),
            cards: vec![],
        };
        assert!(matches!(cards.to_engine(), Inbound::ForAPerson { .. }));
        let sticker = InboundContent::Sticker {
            media_id: "s".into(),
            animated: true,
        };
        assert_eq!(sticker.to_engine(), Inbound::Reaction);
        let notice = InboundContent::System {
            notice: String::new(),
            system_type: "user_changed_number".into(),
            new_wa_id: None,
        };
        assert_eq!(notice.to_engine(), Inbound::Reaction);
        assert_eq!(
            contacts_summary(&[
                ContactCard {
                    name: "José".into(),
                    phones: vec!["+55 1".into(), "+55 2".into()]
                },
                ContactCard {
                    name: " ".into(),
                    phones: vec![]
                },
            ]),
            "José: +55 1, +55 2\n(sem nome)"
        );
    }
}
