//! Writing outbound messages: a row in `pending` plus its `whatsapp.send` job, always in the
//! transaction of the state change that caused them (the transactional outbox).

use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;
use store::jobs::{self, NewJob};
use store::messages::{self, NewOutbound};
use store::{Engine, StoreError};
use whatsapp::graph::{
    split_text, ListRow, OutboundMessage, ReplyButton, MAX_INTERACTIVE_BODY_CHARS,
    MAX_TEXT_BODY_CHARS,
};

use domain::engine::{quote_button_id, QuoteAction};

/// What the send job posts, stored with the message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Payload {
    Text {
        to: String,
        body: String,
    },
    Buttons {
        to: String,
        body: String,
        buttons: Vec<(String, String)>,
    },
    /// A list message: one question whose answers are rows to tap ("Qual fio?", issue 13).
    List {
        to: String,
        body: String,
        button: String,
        #[serde(default)]
        section_title: Option<String>,
        rows: Vec<Row>,
    },
    /// The quote's PDF as a document. Built and uploaded by the send job (`worker::document`)
    /// from the quote's snapshot; `media_id` is kept once uploaded, so a retry reuses it. A
    /// re-issued quote has another number, so another document.
    QuoteDocument {
        to: String,
        number: String,
        filename: String,
        #[serde(default)]
        media_id: Option<String>,
    },
    /// The quote's public page as a CTA URL button (`worker::quote_link`): the send job signs
    /// the link and keeps it in `url`, so a retry posts the same one.
    QuoteLink {
        to: String,
        number: String,
        body: String,
        #[serde(default)]
        url: Option<String>,
    },
    /// A message the store starts (a reminder, a follow-up, a quote's expiry), not a reply:
    /// the send job decides (`worker::proactive`) — this text inside the 24-hour window, the
    /// approved WhatsApp message template the store set for `purpose` (with `params`, in
    /// order) outside it, or nothing and a note for staff; never to a contact who opted out.
    Proactive {
        to: String,
        body: String,
        /// `domain::proactive::Purpose::code`.
        purpose: String,
        params: Vec<String>,
    },
    /// One of the store's approved WhatsApp message templates, as the send job chose it for a
    /// [`Payload::Proactive`] outside the window; `body` is what the customer reads (the
    /// template with its parameters), for the transcript.
    Template {
        to: String,
        name: String,
        language: String,
        params: Vec<String>,
        body: String,
    },
    /// The confirmed order with its PIX code as Meta's `order_details` message (the store
    /// turned on payments in Brazil), instead of the copia-e-cola text.
    OrderDetails(Box<OrderPayload>),
    /// The order's new status (`order_status`), when staff mark it paid or delivered.
    OrderStatus {
        to: String,
        body: String,
        reference_id: String,
        /// Meta's status: `processing`, `shipped`, `completed`…
        status: String,
        #[serde(default)]
        description: Option<String>,
    },
}

/// An order as Meta's `order_details` message with the PIX code (payments in Brazil,
/// `worker::payment::order_details`): what [`whatsapp::graph::OrderDetails`] is built from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderPayload {
    pub to: String,
    pub body: String,
    pub reference_id: String,
    pub pix_code: String,
    pub merchant_name: String,
    pub pix_key: String,
    pub pix_key_type: String,
    /// (retailer id, name, unit amount in centavos, whole quantity).
    pub items: Vec<(String, String, i64, i64)>,
    pub subtotal_cents: i64,
    pub discount_cents: i64,
    pub discount_description: Option<String>,
    pub shipping_cents: i64,
    pub shipping_description: Option<String>,
    pub total_cents: i64,
    /// (unix seconds, what the customer reads).
    pub expiration: Option<(i64, String)>,
}

impl OrderPayload {
    fn to_graph(&self) -> whatsapp::graph::OrderDetails {
        whatsapp::graph::OrderDetails {
            to: self.to.clone(),
            body: self.body.clone(),
            reference_id: self.reference_id.clone(),
            goods_type: "physical-goods".into(),
            pix_code: self.pix_code.clone(),
            merchant_name: self.merchant_name.clone(),
            pix_key: self.pix_key.clone(),
            pix_key_type: self.pix_key_type.clone(),
            items: self
                .items
                .iter()
                .map(|(id, name, amount, quantity)| whatsapp::graph::OrderItem {
                    retailer_id: id.clone(),
                    name: name.clone(),
                    amount_cents: *amount,
                    quantity: *quantity,
                })
                .collect(),
            subtotal_cents: self.subtotal_cents,
            discount_cents: self.discount_cents,
            discount_description: self.discount_description.clone(),
            shipping_cents: self.shipping_cents,
            shipping_description: self.shipping_description.clone(),
            total_cents: self.total_cents,
            expiration: self.expiration.clone(),
        }
    }
}

/// A row of a [`Payload::List`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
}

impl Payload {
    /// The list message of a product question ([`domain::ask`]).
    pub fn choice(to: &str, q: &domain::ask::ChoiceQuestion) -> Payload {
        Payload::List {
            to: to.to_string(),
            body: q.body.clone(),
            button: q.button.clone(),
            section_title: Some(q.section_title.clone()),
            rows: q
                .rows
                .iter()
                .map(|r| Row {
                    id: r.id.clone(),
                    title: r.title.clone(),
                    description: Some(r.description.clone()),
                })
                .collect(),
        }
    }

    pub fn to_graph(&self) -> OutboundMessage {
        match self {
            Payload::Text { to, body } => OutboundMessage::Text {
                to: to.clone(),
                body: body.clone(),
            },
            Payload::Buttons { to, body, buttons } => OutboundMessage::Buttons {
                to: to.clone(),
                body: body.clone(),
                buttons: buttons
                    .iter()
                    .map(|(id, title)| ReplyButton::new(id, title))
                    .collect(),
            },
            Payload::List {
                to,
                body,
                button,
                section_title,
                rows,
            } => OutboundMessage::List {
                to: to.clone(),
                body: body.clone(),
                button: button.clone(),
                section_title: section_title.clone(),
                rows: rows
                    .iter()
                    .map(|r| ListRow::new(&r.id, &r.title, r.description.clone()))
                    .collect(),
            },
            Payload::QuoteDocument {
                to,
                number,
                filename,
                media_id,
            } => OutboundMessage::Document {
                to: to.clone(),
                // Set by the send job before it calls Graph; empty fails validation there.
                media_id: media_id.clone().unwrap_or_default(),
                filename: filename.clone(),
                caption: Some(format!("Orçamento {number} em PDF")),
            },
            Payload::QuoteLink { to, body, url, .. } => OutboundMessage::CtaUrl {
                to: to.clone(),
                body: body.clone(),
                display_text: crate::quote_link::LINK_LABEL.to_string(),
                // Set by the send job before it calls Graph; empty fails validation there.
                url: url.clone().unwrap_or_default(),
            },
            Payload::Proactive { to, body, .. } => OutboundMessage::Text {
                to: to.clone(),
                body: body.clone(),
            },
            Payload::Template {
                to,
                name,
                language,
                params,
                ..
            } => OutboundMessage::Template {
                to: to.clone(),
                name: name.clone(),
                language: language.clone(),
                parameters: params.clone(),
            },
            Payload::OrderDetails(o) => OutboundMessage::OrderDetails(Box::new(o.to_graph())),
            Payload::OrderStatus {
                to,
                body,
                reference_id,
                status,
                description,
            } => OutboundMessage::OrderStatus(whatsapp::graph::OrderStatusUpdate {
                to: to.clone(),
                body: body.clone(),
                reference_id: reference_id.clone(),
                status: status.clone(),
                description: description.clone(),
            }),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Payload::Text { .. } => "text",
            Payload::Buttons { .. } => "buttons",
            Payload::List { .. } => "list",
            Payload::QuoteDocument { .. } => "document",
            Payload::QuoteLink { .. } => "cta_url",
            Payload::Proactive { .. } => "text",
            Payload::Template { .. } => "template",
            Payload::OrderDetails(_) => "order_details",
            Payload::OrderStatus { .. } => "order_status",
        }
    }

    pub fn body(&self) -> &str {
        match self {
            Payload::Text { body, .. }
            | Payload::Buttons { body, .. }
            | Payload::List { body, .. }
            | Payload::QuoteLink { body, .. }
            | Payload::Proactive { body, .. }
            | Payload::Template { body, .. }
            | Payload::OrderStatus { body, .. } => body,
            Payload::OrderDetails(o) => &o.body,
            // What the dashboard's transcript and the simulator show for it.
            Payload::QuoteDocument { filename, .. } => filename,
        }
    }
}

/// The reply buttons of quote `number` (titles ≤ 20 characters, Meta's limit). Each id
/// names the quote, so a tap on an old quote's "Confirmar" is never taken for the newest
/// (issue 18 item 2).
pub fn quote_buttons(number: &str) -> Vec<(String, String)> {
    [
        (QuoteAction::Accept, "Confirmar"),
        (QuoteAction::Change, "Alterar"),
        (QuoteAction::Human, "Falar com atendente"),
    ]
    .into_iter()
    .map(|(action, title)| (quote_button_id(action, number), title.to_string()))
    .collect()
}

pub struct Target<'a> {
    pub engine: Engine,
    pub tenant_id: &'a str,
    pub conversation_id: &'a str,
    pub contact_id: &'a str,
    pub request_id: Option<&'a str>,
    /// When the send jobs are due (unix ms); `None` = now. A conversation step passes its own
    /// job's due time: the reply to a message is then claimed before the store's jobs that
    /// arrived after that message, so during a burst each customer gets the answer as soon as
    /// it is written instead of after the whole backlog was read (issue 14 item 6).
    pub due_at: Option<i64>,
}

/// Meta's body limits applied when a message is built (docs/whatsapp.md, "Limits and
/// fallbacks"): a text longer than 4,096 characters becomes consecutive texts cut at line
/// boundaries; a button message whose body passes 1,024 characters becomes those texts
/// followed by a short button message (`buttons_prompt`) with the same buttons — so the
/// customer reads every line and can still tap. Anything else Meta would refuse (an empty
/// body, a bad recipient) is left for the send to record as a visible permanent failure.
pub fn fit(payload: Payload, buttons_prompt: &str) -> Vec<Payload> {
    let texts = |to: &str, body: &str| -> Vec<Payload> {
        split_text(body, MAX_TEXT_BODY_CHARS)
            .into_iter()
            .map(|body| Payload::Text {
                to: to.to_string(),
                body,
            })
            .collect()
    };
    let fitted = match payload {
        Payload::Text { ref to, ref body } if body.chars().count() > MAX_TEXT_BODY_CHARS => {
            texts(to, body)
        }
        Payload::Buttons {
            ref to,
            ref body,
            ref buttons,
        } if body.chars().count() > MAX_INTERACTIVE_BODY_CHARS => {
            let mut out = texts(to, body);
            out.push(Payload::Buttons {
                to: to.clone(),
                body: buttons_prompt.to_string(),
                buttons: buttons.clone(),
            });
            out
        }
        other => vec![other],
    };
    // A document gets its media id, and a link its URL, when the send job runs: nothing to
    // check before.
    let checkable = fitted.iter().filter(|p| {
        !matches!(
            p,
            Payload::QuoteDocument { media_id: None, .. } | Payload::QuoteLink { url: None, .. }
        )
    });
    for p in checkable {
        if let Err(e) = p.to_graph().validate() {
            // Still written: the send records the refusal on the message, where the store
            // sees it, instead of this transaction losing the state change that caused it.
            tracing::warn!(kind = p.kind(), error = %e, "outbound message breaks Meta's limits");
            metrics::counter!("orcazap_outbound_invalid_total", "kind" => p.kind()).increment(1);
        }
    }
    fitted
}

/// Writes one outbound message (more than one when it must be split to fit Meta's limits,
/// see [`fit`]) and their send jobs. Returns the id of the first.
pub async fn queue(
    c: &mut AnyConnection,
    t: &Target<'_>,
    payload: &Payload,
    sent_by: Option<&str>,
) -> Result<String, StoreError> {
    queue_with_prompt(
        c,
        t,
        payload,
        sent_by,
        &domain::engine::buttons_prompt(None),
    )
    .await
}

/// The quote's message: when its body is too long for a button message, the short button
/// message that follows the text names the quote.
pub async fn queue_quote(
    c: &mut AnyConnection,
    t: &Target<'_>,
    payload: &Payload,
    number: &str,
) -> Result<String, StoreError> {
    queue_with_prompt(
        c,
        t,
        payload,
        None,
        &domain::engine::buttons_prompt(Some(number)),
    )
    .await
}

/// [`queue`], with the short button message to use when the body is too long for a button
/// message.
pub async fn queue_with_prompt(
    c: &mut AnyConnection,
    t: &Target<'_>,
    payload: &Payload,
    sent_by: Option<&str>,
    buttons_prompt: &str,
) -> Result<String, StoreError> {
    let mut first = None;
    for piece in fit(payload.clone(), buttons_prompt) {
        let id = queue_one(c, t, &piece, sent_by).await?;
        first.get_or_insert(id);
    }
    first.ok_or_else(|| StoreError::Corrupt("nothing to send".into()))
}

async fn queue_one(
    c: &mut AnyConnection,
    t: &Target<'_>,
    payload: &Payload,
    sent_by: Option<&str>,
) -> Result<String, StoreError> {
    let json = serde_json::to_string(payload).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let id = messages::insert_outbound(
        c,
        &NewOutbound {
            tenant_id: t.tenant_id,
            conversation_id: t.conversation_id,
            contact_id: t.contact_id,
            kind: payload.kind(),
            body: payload.body(),
            payload_json: &json,
            sent_by,
            request_id: t.request_id,
        },
    )
    .await?;
    let mut job = NewJob::new(crate::SEND_JOB, serde_json::json!({ "message_id": id }));
    job.tenant_id = Some(t.tenant_id.to_string());
    // Same key as the contact's other jobs: sends go out in the order they were written.
    job.serial_key = Some(t.contact_id.to_string());
    job.request_id = t.request_id.map(str::to_string);
    job.run_at = t.due_at;
    jobs::enqueue(c, &job).await?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TO: &str = "5511987654321";

    fn quote_body(lines: usize) -> String {
        let mut b = String::from("Segue seu orçamento *ORC-2026-000042* 📋\n\n");
        for i in 0..lines {
            b.push_str(&format!(
                "• 2 sc — Cimento CP-II-E-32 50kg {i}\n   R$ 36,90/sc = *R$ 73,80*\n"
            ));
        }
        b.push_str("*Total: R$ 885,60* (PIX)\n");
        b
    }

    /// The product question (issue 13): stored as a list payload that reads back the same,
    /// and what it sends passes Meta's limits.
    #[test]
    fn a_product_question_is_a_list_meta_accepts() {
        let catalog =
            domain::catalog::parse_catalog_csv(domain::catalog::DEMO_CATALOG_CSV).unwrap();
        let index = domain::understanding::CatalogIndex::build(&catalog, &[]);
        let mut draft = domain::understanding::Draft::default();
        let u = domain::understanding::understand_in("quero 3 caixas d'água", &index, &draft);
        draft.apply(&u);
        let q = domain::ask::question(&draft, &draft.unknown, &index, &catalog).unwrap();
        let p = Payload::choice(TO, &q);
        assert_eq!(p.kind(), "list");
        assert_eq!(p.body(), q.body);
        let stored = serde_json::to_string(&p).unwrap();
        assert_eq!(serde_json::from_str::<Payload>(&stored).unwrap(), p);
        assert_eq!(fit(p.clone(), "prompt"), vec![p.clone()]);
        let graph = p.to_graph();
        assert_eq!(graph.validate(), Ok(()));
    }

    #[test]
    fn a_quote_that_fits_stays_one_button_message() {
        let p = Payload::Buttons {
            to: TO.into(),
            body: quote_body(3),
            buttons: quote_buttons("ORC-2026-000042"),
        };
        assert_eq!(fit(p.clone(), "prompt"), vec![p]);
    }

    #[test]
    fn a_long_quote_becomes_texts_then_buttons() {
        let body = quote_body(20);
        assert!(body.chars().count() > MAX_INTERACTIVE_BODY_CHARS);
        let out = fit(
            Payload::Buttons {
                to: TO.into(),
                body: body.clone(),
                buttons: quote_buttons("ORC-2026-000042"),
            },
            "Orçamento ORC-2026-000042: escolha uma opção.",
        );
        let (last, texts) = out.split_last().unwrap();
        assert!(matches!(last, Payload::Buttons { body, buttons, .. }
            if body.contains("ORC-2026-000042") && buttons == &quote_buttons("ORC-2026-000042")));
        let joined: Vec<&str> = texts.iter().map(Payload::body).collect();
        assert_eq!(joined.join("\n") + "\n", body);
        for p in &out {
            assert!(p.to_graph().validate().is_ok(), "{p:?}");
        }
    }

    #[test]
    fn a_long_text_is_split_at_lines() {
        let body = "linha de texto com R$ 10,00\n".repeat(400);
        let out = fit(
            Payload::Text {
                to: TO.into(),
                body: body.clone(),
            },
            "",
        );
        assert!(out.len() >= 3);
        for p in &out {
            assert!(matches!(p, Payload::Text { .. }));
            assert!(p.to_graph().validate().is_ok());
            assert!(p.body().ends_with("R$ 10,00"));
        }
    }
}
