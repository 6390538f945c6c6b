//! What people do in the dashboard, on the same code paths the bot uses: approve or reject
//! a quote, reply by hand, take a conversation over and hand it back. The web layer calls
//! these; each runs in one transaction with its audit entry.

use domain::conversation::{transition, Event, State};
use domain::engine::{Memo, QuotePlan};
use domain::money::{Centavos, Quantity};
use domain::pricing::{price_quote, PricedQuote, QuoteRequest};
use domain::slots::{Location, PaymentMethod};
use domain::status::{ApprovalStatus, QuoteStatus};
use domain::understanding::DraftItem;
use sqlx::AnyConnection;
use store::audit::{self, Entry};
use store::conversations::{self, Conversation};
use store::{quotes, Db, Engine, StoreError};

use crate::outbound::{self, Payload, Target};
use crate::quoting::{expiry_from_now, schedule_expiry, send_quote_message};
use crate::tenant_ctx::ContextCache;

/// Why an action did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error("não encontrado")]
    NotFound,
    /// A business rule said no; the message is for the person who clicked.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// The store failed (or a unique constraint refused the write).
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for ActionError {
    fn from(e: StoreError) -> ActionError {
        match e {
            StoreError::NotFound => ActionError::NotFound,
            other => ActionError::Store(other),
        }
    }
}

impl ActionError {
    /// Says what was being done when the store failed, for the log.
    fn doing(self, what: &str) -> ActionError {
        match self {
            ActionError::Store(e) => ActionError::Store(e.doing(what)),
            other => other,
        }
    }
}

/// The business rules that refuse an action, each with the pt-BR message the dashboard shows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Someone else approved or rejected it first.
    #[error("essa aprovação já foi decidida")]
    AlreadyDecided,
    /// The conversation moved on (the customer gave up, the quote expired…).
    #[error("a conversa não está aguardando aprovação ({0})")]
    NotAwaitingApproval(String),
    #[error("a mensagem está vazia")]
    EmptyMessage,
    #[error("a mensagem passa de 4.096 caracteres, o limite do WhatsApp")]
    MessageTooLong,
    /// The customer has not written in the last 24 h: Meta refuses free messages (131047)
    /// until they do, so nothing is queued that could only fail (issue 18 item 5).
    #[error("a janela de 24 h do WhatsApp está fechada: o cliente não escreve há mais de 24 horas, e o WhatsApp não permite mensagens livres agora, só mensagens modelo aprovadas. Quando o cliente escrever de novo, a janela reabre e você pode {0}.")]
    WindowClosed(&'static str),
    /// No freight rule matched and nobody set the freight: the customer would receive a total
    /// without it (issue 12 item 5).
    #[error("defina o frete antes de aprovar: informe o valor do frete ou marque \"retirada na loja\" em \"Editar itens e recalcular\"")]
    FreightUnresolved,
    /// An attendant tried to approve more than the owner allows them to.
    #[error("o total deste orçamento ({total}) passa do limite de aprovação de atendentes da loja ({limit}); peça a quem é dono(a) da loja para aprovar")]
    AboveApprovalLimit { total: String, limit: String },
    /// A hand-built quote without any item.
    #[error("escolha pelo menos um produto do catálogo com a quantidade")]
    NoItems,
    /// A hand-built quote names a product that is not (or no longer) in the active catalog.
    #[error("o produto {0} não está no catálogo ativo da loja")]
    UnknownProduct(String),
    /// The domain refused to price the quote (its message, pt-BR).
    #[error("{0}")]
    Pricing(String),
    /// The template picked in the reply box is not (or no longer) approved by Meta.
    #[error("esse modelo de mensagem do WhatsApp não está aprovado pela Meta (ou não existe mais); escolha um modelo aprovado — a lista está em Modelos do WhatsApp")]
    TemplateUnavailable,
    /// A template variable left empty or with what Meta refuses in one (132018).
    #[error("preencha a variável {{{{{0}}}}} do modelo: não pode ficar vazia nem ter quebra de linha, tabulação ou mais de 4 espaços seguidos")]
    TemplateParameter(usize),
    /// The customer asked not to receive the store's messages ("parar"): nothing the store
    /// starts is sent, a template by hand included.
    #[error("o cliente pediu para não receber mensagens da loja: nenhuma mensagem modelo é enviada a ele. Se ele pedir para voltar a receber, use “Reativar mensagens” na conversa")]
    OptedOut,
    /// The conversation ended (won or lost): a new message from the customer opens a new one.
    #[error("a conversa já foi encerrada ({0}); quando o cliente escrever de novo, monte o orçamento na conversa nova")]
    ConversationClosed(&'static str),
}

impl Refusal {
    /// The request itself was wrong (an empty or too long message), as opposed to the state
    /// having changed under it: the web answers 400 for the first, 409 for the second.
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            Refusal::EmptyMessage
                | Refusal::MessageTooLong
                | Refusal::NoItems
                | Refusal::UnknownProduct(_)
                | Refusal::Pricing(_)
                | Refusal::TemplateParameter(_)
        )
    }

    /// The person may not do this (an attendant above the approval limit): the web answers 403.
    pub fn is_forbidden(&self) -> bool {
        matches!(self, Refusal::AboveApprovalLimit { .. })
    }
}

/// Who approves, for the store's approval limit: an owner can always approve; an attendant
/// only up to the limit the owner set (none set = no limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Approver {
    Owner,
    Attendant,
}

/// Who did it, for the audit log.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: String,
    pub label: String,
    pub request_id: Option<String>,
}

/// Whether WhatsApp lets the store send a free (non-template) message in the conversation
/// now: the customer wrote in the last 24 h.
pub fn window_open(conv: &Conversation, now_ms: i64) -> bool {
    conv.window_expires_at.is_some_and(|w| w > now_ms)
}

/// Approves a pending quote as an owner (no approval limit): see [`approve_quote_as`].
pub async fn approve_quote(
    db: &Db,
    cache: &ContextCache,
    tenant_id: &str,
    approval_id: &str,
    actor: &Actor,
) -> Result<(), ActionError> {
    approve_quote_as(db, cache, tenant_id, approval_id, actor, Approver::Owner).await
}

/// Approves a pending quote: the quote is sent exactly like an automatic one. Outside the
/// customer's window it is refused and stays pending: the quote could not reach the customer,
/// who was told it was coming (issue 18 item 5). A quote whose freight is unknown is refused
/// until a person sets it or marks a pickup, and an attendant cannot approve a total above the
/// store's limit (issue 12 item 5); both leave the approval pending.
pub async fn approve_quote_as(
    db: &Db,
    cache: &ContextCache,
    tenant_id: &str,
    approval_id: &str,
    actor: &Actor,
    approver: Approver,
) -> Result<(), ActionError> {
    let ctx = cache
        .load(db, tenant_id)
        .await
        .map_err(|e| ActionError::from(e).doing("loading the store for an approval"))?;
    let (tenant_id, approval_id, actor) = (
        tenant_id.to_string(),
        approval_id.to_string(),
        actor.clone(),
    );
    let engine_kind = db.engine();
    db.tx_with(move |c| {
        Box::pin(async move {
            let (quote, conv, next) = decide(
                c,
                engine_kind,
                &tenant_id,
                &approval_id,
                &actor,
                Event::AdminApproved,
                None,
            )
            .await?;
            let priced: PricedQuote = serde_json::from_str(&quote.snapshot_json)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            if priced.freight.is_none() {
                return Err(Refusal::FreightUnresolved.into());
            }
            if approver == Approver::Attendant {
                let limit = store::tenants::attendant_approval_limit(c, &tenant_id).await?;
                if let Some(limit) = limit.filter(|l| quote.total_cents > *l) {
                    return Err(Refusal::AboveApprovalLimit {
                        total: Centavos(quote.total_cents).to_brl(),
                        limit: Centavos(limit).to_brl(),
                    }
                    .into());
                }
            }
            if !window_open(&conv, store::now_ms()) {
                return Err(Refusal::WindowClosed("aprovar e enviar o orçamento").into());
            }
            quotes::set_status(c, &tenant_id, &quote.id, QuoteStatus::Sent, None).await?;
            let delivery = quote
                .delivery
                .as_deref()
                .and_then(|d| serde_json::from_str(d).ok());
            let t = Target {
                engine: engine_kind,
                tenant_id: &tenant_id,
                conversation_id: &conv.id,
                contact_id: &conv.contact_id,
                request_id: actor.request_id.as_deref(),
                due_at: None,
            };
            let valid_until = expiry_from_now(&ctx);
            send_quote_message(
                c,
                &t,
                &ctx,
                &conv,
                &priced,
                &quote.number,
                valid_until,
                delivery,
                ctx.today(),
            )
            .await?;
            schedule_expiry(c, &t, &ctx, &quote.id, valid_until).await?;
            quotes::set_valid_until(c, &tenant_id, &quote.id, valid_until).await?;
            conversations::save_state(c, &tenant_id, &conv.id, next, &conv.draft_json, None)
                .await?;
            audit::record(
                c,
                &Entry {
                    tenant_id: Some(&tenant_id),
                    actor_user_id: Some(&actor.user_id),
                    actor_label: &actor.label,
                    action: "quote.approve",
                    entity: "quote",
                    entity_id: Some(&quote.id),
                    before: Some(serde_json::json!({ "status": QuoteStatus::PendingApproval })),
                    after: Some(
                        serde_json::json!({ "status": QuoteStatus::Sent, "number": quote.number }),
                    ),
                    request_id: actor.request_id.as_deref(),
                },
            )
            .await?;
            Ok(())
        })
    })
    .await
    .map_err(|e: ActionError| e.doing("approving a quote"))
}

/// Rejects a pending quote with a reason; optionally tells the customer.
pub async fn reject_quote(
    db: &Db,
    tenant_id: &str,
    approval_id: &str,
    reason: &str,
    message_to_customer: Option<&str>,
    actor: &Actor,
) -> Result<(), ActionError> {
    let (tenant_id, approval_id, actor) = (
        tenant_id.to_string(),
        approval_id.to_string(),
        actor.clone(),
    );
    let reason = reason.to_string();
    let msg = message_to_customer
        .map(|m| m.trim().to_string())
        .filter(|m| !m.is_empty());
    if msg.as_ref().is_some_and(|m| m.chars().count() > 4096) {
        return Err(Refusal::MessageTooLong.into());
    }
    let engine_kind = db.engine();
    db.tx_with(move |c| {
        Box::pin(async move {
            let (quote, conv, next) = decide(
                c,
                engine_kind,
                &tenant_id,
                &approval_id,
                &actor,
                Event::AdminRejected,
                Some(&reason),
            )
            .await?;
            // A message for the customer could only fail outside the window: refuse before
            // anything changes, so the approver can reject without a message instead.
            if msg.is_some() && !window_open(&conv, store::now_ms()) {
                return Err(Refusal::WindowClosed("rejeitar com uma mensagem ao cliente").into());
            }
            quotes::set_status(
                c,
                &tenant_id,
                &quote.id,
                QuoteStatus::Rejected,
                Some(&reason),
            )
            .await?;
            if let Some(body) = msg {
                let t = Target {
                    engine: engine_kind,
                    tenant_id: &tenant_id,
                    conversation_id: &conv.id,
                    contact_id: &conv.contact_id,
                    request_id: actor.request_id.as_deref(),
                    due_at: None,
                };
                outbound::queue(
                    c,
                    &t,
                    &Payload::Text {
                        to: conv.contact_wa_id.clone(),
                        body,
                    },
                    Some(&actor.user_id),
                )
                .await?;
            }
            conversations::save_state(
                c,
                &tenant_id,
                &conv.id,
                next,
                &conv.draft_json,
                Some(&reason),
            )
            .await?;
            audit::record(
                c,
                &Entry {
                    tenant_id: Some(&tenant_id),
                    actor_user_id: Some(&actor.user_id),
                    actor_label: &actor.label,
                    action: "quote.reject",
                    entity: "quote",
                    entity_id: Some(&quote.id),
                    before: Some(serde_json::json!({ "status": QuoteStatus::PendingApproval })),
                    after: Some(
                        serde_json::json!({ "status": QuoteStatus::Rejected, "reason": reason }),
                    ),
                    request_id: actor.request_id.as_deref(),
                },
            )
            .await?;
            metrics::counter!("orcazap_quotes_total", "outcome" => "lost").increment(1);
            Ok(())
        })
    })
    .await
    .map_err(|e: ActionError| e.doing("rejecting a quote"))
}

/// The shared first half of approve and reject: the approval must still be pending (only the
/// first of two people clicking at once wins) and the conversation must be waiting for it.
async fn decide(
    c: &mut AnyConnection,
    engine_kind: Engine,
    tenant_id: &str,
    approval_id: &str,
    actor: &Actor,
    event: Event,
    note: Option<&str>,
) -> Result<(quotes::Quote, Conversation, State), ActionError> {
    let (quote, conv) = pending_quote(c, engine_kind, tenant_id, approval_id).await?;
    let status = if event == Event::AdminApproved {
        ApprovalStatus::Approved
    } else {
        ApprovalStatus::Rejected
    };
    if !quotes::decide_approval(
        c,
        tenant_id,
        approval_id,
        status,
        Some(&actor.user_id),
        note,
    )
    .await?
    {
        return Err(Refusal::AlreadyDecided.into());
    }
    let next =
        transition(conv.state, event).map_err(|e| Refusal::NotAwaitingApproval(e.to_string()))?;
    Ok((quote, conv, next))
}

async fn pending_quote(
    c: &mut AnyConnection,
    engine_kind: Engine,
    tenant_id: &str,
    approval_id: &str,
) -> Result<(quotes::Quote, Conversation), ActionError> {
    let approval = quotes::approval_by_id(c, tenant_id, approval_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    if approval.status != ApprovalStatus::Pending {
        return Err(Refusal::AlreadyDecided.into());
    }
    let quote = quotes::get_conn(c, tenant_id, &approval.quote_id).await?;
    let conv = conversations::lock(c, engine_kind, tenant_id, &quote.conversation_id).await?;
    Ok((quote, conv))
}

/// A person writes to the customer by hand, through the same outbound path as the bot.
pub async fn manual_reply(
    db: &Db,
    tenant_id: &str,
    conversation_id: &str,
    text: &str,
    actor: &Actor,
) -> Result<String, ActionError> {
    let text = text.trim().to_string();
    if text.is_empty() {
        return Err(Refusal::EmptyMessage.into());
    }
    if text.chars().count() > 4096 {
        return Err(Refusal::MessageTooLong.into());
    }
    let (tenant_id, conversation_id, actor) = (
        tenant_id.to_string(),
        conversation_id.to_string(),
        actor.clone(),
    );
    let engine_kind = db.engine();
    db.tx_with(move |c| {
        Box::pin(async move {
            let conv = conversations::lock(c, engine_kind, &tenant_id, &conversation_id).await?;
            if !window_open(&conv, store::now_ms()) {
                return Err(Refusal::WindowClosed("responder").into());
            }
            // Answering a conversation that waits for a person is taking it: out of the
            // queue, and the bot stays silent until it is handed back.
            if conv.state == State::WaitingPerson {
                crate::handoff::leave_queue(c, &tenant_id, &conv).await?;
                if conv.taken_over_by.is_none() {
                    conversations::set_taken_over(c, &tenant_id, &conv.id, Some(&actor.user_id))
                        .await?;
                }
            }
            let t = Target {
                engine: engine_kind,
                tenant_id: &tenant_id,
                conversation_id: &conv.id,
                contact_id: &conv.contact_id,
                request_id: actor.request_id.as_deref(),
                due_at: None,
            };
            let id = outbound::queue(
                c,
                &t,
                &Payload::Text {
                    to: conv.contact_wa_id.clone(),
                    body: text,
                },
                Some(&actor.user_id),
            )
            .await?;
            conversations::mark_read(c, &tenant_id, &conv.id).await?;
            Ok::<_, ActionError>(id)
        })
    })
    .await
    .map_err(|e: ActionError| e.doing("sending a reply by hand"))
}

/// Sends one of the store's approved WhatsApp message templates by hand, with its variables
/// filled (`params`, `{{1}}` first) — what WhatsApp allows once the customer's 24 h window is
/// closed (issue 15 item 5), where [`manual_reply`] refuses free text. Queued like any reply
/// (`Payload::Template`, sent as `type: template`), in the person's name. Refused: a template
/// that is not approved, a variable empty or with what Meta refuses, a customer who opted out.
pub async fn manual_template(
    db: &Db,
    tenant_id: &str,
    conversation_id: &str,
    template_id: &str,
    params: Vec<String>,
    actor: &Actor,
) -> Result<String, ActionError> {
    let (tenant_id, conversation_id, template_id, actor) = (
        tenant_id.to_string(),
        conversation_id.to_string(),
        template_id.to_string(),
        actor.clone(),
    );
    let engine_kind = db.engine();
    db.tx_with(move |c| {
        Box::pin(async move {
            let conv = conversations::lock(c, engine_kind, &tenant_id, &conversation_id).await?;
            let t = match store::meta_templates::get(c, &tenant_id, &template_id).await {
                Ok(t) if t.status == store::meta_templates::APPROVED => t,
                Ok(_) | Err(StoreError::NotFound) => {
                    return Err(Refusal::TemplateUnavailable.into())
                }
                Err(e) => return Err(e.into()),
            };
            let wanted = whatsapp::graph::check_template_body(&t.body)
                .map_err(|_| ActionError::Refused(Refusal::TemplateUnavailable))?;
            let params: Vec<String> = (0..wanted)
                .map(|i| {
                    params
                        .get(i)
                        .map(|p| p.trim().to_string())
                        .unwrap_or_default()
                })
                .collect();
            if let Some(i) = params
                .iter()
                .position(|p| p.is_empty() || p.contains(['\n', '\r', '\t']) || p.contains("     "))
            {
                return Err(Refusal::TemplateParameter(i + 1).into());
            }
            if store::opt_out::opted_out_at(c, &tenant_id, &conv.contact_id)
                .await?
                .is_some()
            {
                return Err(Refusal::OptedOut.into());
            }
            if conv.state == State::WaitingPerson {
                crate::handoff::leave_queue(c, &tenant_id, &conv).await?;
                if conv.taken_over_by.is_none() {
                    conversations::set_taken_over(c, &tenant_id, &conv.id, Some(&actor.user_id))
                        .await?;
                }
            }
            let target = Target {
                engine: engine_kind,
                tenant_id: &tenant_id,
                conversation_id: &conv.id,
                contact_id: &conv.contact_id,
                request_id: actor.request_id.as_deref(),
                due_at: None,
            };
            let body = whatsapp::graph::fill_template(&t.body, &params);
            let id = outbound::queue(
                c,
                &target,
                &Payload::Template {
                    to: conv.contact_wa_id.clone(),
                    name: t.name,
                    language: t.language,
                    params,
                    body,
                },
                Some(&actor.user_id),
            )
            .await?;
            conversations::mark_read(c, &tenant_id, &conv.id).await?;
            Ok::<_, ActionError>(id)
        })
    })
    .await
    .map_err(|e: ActionError| e.doing("sending a template by hand"))
}

/// Takes the conversation from the bot (`true`) or hands it back (`false`).
pub async fn set_taken_over(
    db: &Db,
    tenant_id: &str,
    conversation_id: &str,
    take: bool,
    actor: &Actor,
) -> Result<(), ActionError> {
    let (tenant_id, conversation_id, actor) = (
        tenant_id.to_string(),
        conversation_id.to_string(),
        actor.clone(),
    );
    let engine_kind = db.engine();
    db.tx(move |c| {
        Box::pin(async move {
            // Taking it or handing it back both answer the waiting-for-a-person queue.
            let conv = conversations::lock(c, engine_kind, &tenant_id, &conversation_id).await?;
            crate::handoff::leave_queue(c, &tenant_id, &conv).await?;
            conversations::set_taken_over(
                c,
                &tenant_id,
                &conversation_id,
                take.then_some(actor.user_id.as_str()),
            )
            .await?;
            audit::record(
                c,
                &Entry {
                    tenant_id: Some(&tenant_id),
                    actor_user_id: Some(&actor.user_id),
                    actor_label: &actor.label,
                    action: if take {
                        "conversation.take_over"
                    } else {
                        "conversation.hand_back"
                    },
                    entity: "conversation",
                    entity_id: Some(&conversation_id),
                    before: None,
                    after: None,
                    request_id: actor.request_id.as_deref(),
                },
            )
            .await
        })
    })
    .await
    .map_err(|e| ActionError::from(e).doing("taking over or handing back a conversation"))
}

/// For tests and the dashboard: the memo of a conversation.
pub fn memo_of(conv: &Conversation) -> Memo {
    Memo::from_json(&conv.draft_json)
}

/// A quote a person built by hand in the dashboard: catalog products and quantities, the
/// payment method and (when known) where it goes.
#[derive(Debug, Clone)]
pub struct HandQuote {
    pub lines: Vec<(String, Quantity)>,
    pub payment: PaymentMethod,
    /// `None`: no freight rule can apply, and the quote waits for approval until a person
    /// sets the freight or marks a pickup.
    pub location: Option<Location>,
}

/// Where a hand-built quote went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandQuoteOutcome {
    /// Sent to the customer, like a quote the bot sends on its own.
    Sent { quote_id: String, number: String },
    /// Held for approval with its reasons (no freight rule, low margin, high total…).
    NeedsApproval {
        quote_id: String,
        number: String,
        approval_id: String,
    },
}

/// Builds a quote from what a person picked, through the bot's own path: priced by
/// `domain::pricing::price_quote` with the store's rules, numbered and stored by
/// `quoting::create_quote`, sent with its buttons and expiry or held for approval. A quote
/// still open in the conversation is superseded; the conversation's draft becomes the quote's
/// items, and the conversation goes back to the bot so that the customer's Confirmar/Alterar
/// taps are answered as for any quote.
pub async fn hand_built_quote(
    db: &Db,
    cache: &ContextCache,
    tenant_id: &str,
    conversation_id: &str,
    req: &HandQuote,
    actor: &Actor,
) -> Result<HandQuoteOutcome, ActionError> {
    if req.lines.is_empty() {
        return Err(Refusal::NoItems.into());
    }
    let ctx = cache
        .load(db, tenant_id)
        .await
        .map_err(|e| ActionError::from(e).doing("loading the store for a hand-built quote"))?;
    // Priced before the transaction: a bad input never opens one.
    let mut picked = Vec::with_capacity(req.lines.len());
    for (sku, quantity) in &req.lines {
        let item = ctx
            .catalog
            .iter()
            .find(|i| i.active && i.sku == *sku)
            .ok_or_else(|| Refusal::UnknownProduct(sku.clone()))?;
        if picked
            .iter()
            .any(|(i, _): &(&domain::catalog::CatalogItem, Quantity)| i.sku == *sku)
        {
            return Err(Refusal::Pricing(format!(
                "{} aparece duas vezes: use uma linha só com a quantidade total.",
                item.name
            ))
            .into());
        }
        if quantity.is_zero() {
            return Err(Refusal::Pricing(format!(
                "{}: informe uma quantidade maior que zero.",
                item.name
            ))
            .into());
        }
        picked.push((item, *quantity));
    }
    // A location no rule knows prices with no freight: the quote then waits for a person.
    let location = req
        .location
        .clone()
        .unwrap_or_else(|| Location::Bairro(String::new()));
    let priced = price_quote(
        &QuoteRequest {
            lines: picked.clone(),
            unknown: Vec::new(),
            payment: req.payment,
            location,
            llm_assisted: false,
            needs_human: false,
        },
        &ctx.rules,
    )
    .map_err(|e| Refusal::Pricing(e.to_string()))?;
    let (tenant_id, conversation_id, actor, req) = (
        tenant_id.to_string(),
        conversation_id.to_string(),
        actor.clone(),
        req.clone(),
    );
    let engine_kind = db.engine();
    db.tx_with(move |c| {
        Box::pin(async move {
            let conv = conversations::lock(c, engine_kind, &tenant_id, &conversation_id).await?;
            if conv.state.is_closed() {
                return Err(Refusal::ConversationClosed(conv.state.label_pt()).into());
            }
            if !priced.needs_approval() && !window_open(&conv, store::now_ms()) {
                return Err(Refusal::WindowClosed("enviar o orçamento").into());
            }
            let mut memo = Memo::from_json(&conv.draft_json);
            // The quote it replaces stops holding, as when the customer changes the order.
            if let Some(old) =
                quotes::latest_for_conversation(c, &tenant_id, &conversation_id).await?
            {
                if old.status.is_open() {
                    quotes::set_status(c, &tenant_id, &old.id, QuoteStatus::Superseded, None)
                        .await?;
                    if old.status == QuoteStatus::PendingApproval {
                        if let Some(a) = quotes::approval_for_quote(c, &tenant_id, &old.id).await? {
                            quotes::decide_approval(
                                c,
                                &tenant_id,
                                &a.id,
                                ApprovalStatus::Superseded,
                                Some(&actor.user_id),
                                Some("substituído por um orçamento montado pela equipe"),
                            )
                            .await?;
                        }
                    }
                }
            }
            let t = Target {
                engine: engine_kind,
                tenant_id: &tenant_id,
                conversation_id: &conv.id,
                contact_id: &conv.contact_id,
                request_id: actor.request_id.as_deref(),
                due_at: None,
            };
            let plan = QuotePlan {
                priced: priced.clone(),
                delivery: memo.draft.delivery,
            };
            let quote_id =
                crate::quoting::create_quote(c, &t, &ctx, &conv, &plan, ctx.today()).await?;
            let quote = quotes::get_conn(c, &tenant_id, &quote_id).await?;
            // The draft is what was quoted: an "Alterar" starts from it.
            memo.draft.items = req
                .lines
                .iter()
                .map(|(sku, quantity)| DraftItem {
                    sku: sku.clone(),
                    quantity: *quantity,
                })
                .collect();
            memo.draft.unknown.clear();
            memo.draft.payment = Some(req.payment);
            if req.location.is_some() {
                memo.draft.location = req.location.clone();
            }
            memo.resume = None;
            let state = if priced.needs_approval() {
                State::HumanApproval
            } else {
                State::QuoteSent
            };
            conversations::save_state(c, &tenant_id, &conv.id, state, &memo.to_json(), None)
                .await?;
            conversations::set_taken_over(c, &tenant_id, &conv.id, None).await?;
            let approval = if priced.needs_approval() {
                quotes::approval_for_quote(c, &tenant_id, &quote_id).await?
            } else {
                None
            };
            audit::record(
                c,
                &Entry {
                    tenant_id: Some(&tenant_id),
                    actor_user_id: Some(&actor.user_id),
                    actor_label: &actor.label,
                    action: "quote.hand_built",
                    entity: "quote",
                    entity_id: Some(&quote_id),
                    before: None,
                    after: Some(serde_json::json!({
                        "number": quote.number,
                        "status": quote.status,
                        "total_cents": quote.total_cents,
                        "lines": req.lines.len(),
                    })),
                    request_id: actor.request_id.as_deref(),
                },
            )
            .await?;
            Ok(match approval {
                Some(a) => HandQuoteOutcome::NeedsApproval {
                    quote_id,
                    number: quote.number,
                    approval_id: a.id,
                },
                None => HandQuoteOutcome::Sent {
                    quote_id,
                    number: quote.number,
                },
            })
        })
    })
    .await
    .map_err(|e: ActionError| e.doing("building a quote by hand"))
}
