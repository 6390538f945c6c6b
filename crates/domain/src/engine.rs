//! The conversation engine: given a conversation (state + draft) and one customer message,
//! decide the new state, the new draft and what the bot answers — like a good attendant.
//!
//! Pure: the worker loads everything, calls [`advance`], and persists the [`Step`] it
//! returns in one transaction (state, draft, outbound messages, quote, approval, jobs).
//! A quote's text needs its number, which only the database can give, so a step that
//! quotes returns a [`QuotePlan`] and the worker renders it with [`quote_message`].

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::catalog::CatalogItem;
use crate::conversation::{transition, Event, IllegalTransition, State};
use crate::handoff;
use crate::pricing::{price_quote, PricedQuote, QuoteRequest, StoreRules, Suggestion};
use crate::slots::{Delivery, Location};
use crate::templates::{self, Common, TemplateKind};
use crate::understanding::{
    understand_in, CatalogIndex, Draft, Intent, MissingSlot, StoreQuestion, Understanding,
    MAX_MESSAGE_CHARS,
};

/// Reply-button ids of the quote message. Meta sends the id back when the customer taps.
/// Sent as `quote_accept:ORC-2026-000007` (the action, then the quote it belongs to, see
/// [`quote_button_id`]); the bare words are what buttons sent before issue 18 carry, and
/// are still read (the quote is then found through Meta's `context.id`).
pub const BUTTON_ACCEPT: &str = "quote_accept";
pub const BUTTON_CHANGE: &str = "quote_change";
pub const BUTTON_HUMAN: &str = "quote_human";

/// Meta's limit on a reply button's id.
pub const MAX_BUTTON_ID_CHARS: usize = 256;

/// What a quote's reply button asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuoteAction {
    Accept,
    Change,
    Human,
}

impl QuoteAction {
    fn word(self) -> &'static str {
        match self {
            QuoteAction::Accept => BUTTON_ACCEPT,
            QuoteAction::Change => BUTTON_CHANGE,
            QuoteAction::Human => BUTTON_HUMAN,
        }
    }
}

/// The id of a quote's button: the action and the quote's number, so a tap says which
/// price the customer saw. A number that would pass Meta's 256 characters (never, with
/// `ORC-YYYY-NNNNNN`) falls back to the bare action word.
pub fn quote_button_id(action: QuoteAction, number: &str) -> String {
    let id = format!("{}:{number}", action.word());
    if number.is_empty() || id.chars().count() > MAX_BUTTON_ID_CHARS {
        return action.word().to_string();
    }
    id
}

/// Reads a quote button's id: the action, and the quote's number when the id carries one
/// (buttons sent before issue 18 do not). None for any other id.
pub fn parse_quote_button(id: &str) -> Option<(QuoteAction, Option<&str>)> {
    let (word, number) = match id.split_once(':') {
        Some((w, n)) => (w, Some(n.trim()).filter(|n| !n.is_empty())),
        None => (id, None),
    };
    let action = match word.trim() {
        BUTTON_ACCEPT => QuoteAction::Accept,
        BUTTON_CHANGE => QuoteAction::Change,
        BUTTON_HUMAN => QuoteAction::Human,
        _ => return None,
    };
    Some((action, number))
}

/// Reply-button ids of the delivery-day question (issue 12 item 4). They name no quote: a
/// day tapped late is still the customer's day.
pub const BUTTON_DAY_TODAY: &str = "day:today";
pub const BUTTON_DAY_TOMORROW: &str = "day:tomorrow";
pub const BUTTON_DAY_OTHER: &str = "day:other";

/// The day buttons, (id, title) (titles ≤ 20 characters, Meta's limit).
pub fn day_buttons() -> Vec<(String, String)> {
    [
        (BUTTON_DAY_TODAY, "Hoje"),
        (BUTTON_DAY_TOMORROW, "Amanhã"),
        (BUTTON_DAY_OTHER, "Outro dia"),
    ]
    .into_iter()
    .map(|(id, title)| (id.to_string(), title.to_string()))
    .collect()
}

/// After "Outro dia": the day asked in words.
pub const ASK_OTHER_DAY: &str =
    "Para qual dia você precisa? Pode escrever, por exemplo: *dia 12*, *15/12* ou *sexta*.";

/// The short button message after a day question too long for a button message (Meta's
/// 1,024 characters), so the customer can still tap.
pub const DAY_BUTTONS_PROMPT: &str =
    "Para quando você precisa? Toque em Hoje, Amanhã ou Outro dia.";

/// The same question is asked at most this many times in a row; the next time a person
/// takes the conversation instead.
pub const MAX_SAME_QUESTION: u8 = 2;

/// Below this understanding confidence (0..=100) the engine asks the optional assistant.
pub const ASSIST_BELOW_CONFIDENCE: u8 = 50;

/// What the conversation remembers besides the draft (persisted with it as JSON).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Memo {
    #[serde(default)]
    pub draft: Draft,
    /// Unknown product texts the bot already asked the customer to confirm: asked once, then
    /// a person takes over.
    #[serde(default)]
    pub asked_unknown: Vec<String>,
    /// The slots the bot last asked for, so it does not repeat the same question.
    #[serde(default)]
    pub asked_missing: Vec<MissingSlot>,
    /// How many times in a row the bot asked for exactly `asked_missing` without the
    /// customer giving any of it; past [`MAX_SAME_QUESTION`] a person takes over.
    #[serde(default)]
    pub asked_times: u8,
    /// An optional assistant (LLM) helped read this conversation: its quote needs approval.
    #[serde(default)]
    pub llm_assisted: bool,
    /// Customer messages in a row the bot could not use; at [`handoff::MAX_STALLED`] a person
    /// takes over.
    #[serde(default)]
    pub stalled: u8,
    /// The bot has answered in this conversation: an impatient "??" after that goes to a person.
    #[serde(default)]
    pub spoke: bool,
    /// Waiting for a person: the state the bot resumes in after the hand-back.
    #[serde(default)]
    pub resume: Option<State>,
    /// The products the bot offered for unknown ones in its last question ("Não encontrei
    /// 'selador em galão' — você quis dizer *Selador acrílico 18L*?"): a "sim" / "pode ser"
    /// takes them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suggested: Vec<Offered>,
}

/// A catalog item offered in place of an unknown product.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Offered {
    pub unknown: String,
    pub sku: String,
}

impl Memo {
    /// Reads the stored JSON; an empty or unreadable value starts a fresh memo rather than
    /// failing the conversation (the raw messages are still stored).
    pub fn from_json(json: &str) -> Memo {
        serde_json::from_str(json).unwrap_or_default()
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }
}

/// One inbound message as the engine sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum Inbound {
    Text(String),
    /// A reply button or list row: the id decides, the title is for display.
    Button {
        id: String,
        title: String,
    },
    /// Shared location: its address text is read like a message.
    Location {
        address: String,
    },
    /// Voice note, video, sticker…: "um áudio".
    Media {
        described: String,
    },
    /// Emoji reaction (or sticker, or Meta's system notice): a signal, never answered.
    Reaction,
    /// A document or a contact card: read by a person, so it goes the way of a request for
    /// one (the "Falar com atendente" path).
    ForAPerson {
        described: String,
    },
}

/// An optional helper (an LLM, a later issue) for messages the rules read with low
/// confidence. Whatever it returns marks the conversation as assisted, so its quote goes
/// to a person before it is sent.
pub trait Assistant: Send + Sync {
    fn assist(&self, text: &str, draft: &Draft) -> Option<Understanding>;
}

/// A store's customised templates (kind → source). Missing kinds use the defaults.
pub type TemplateSet = HashMap<TemplateKind, String>;

pub struct Context<'a> {
    pub index: &'a CatalogIndex,
    pub catalog: &'a [CatalogItem],
    pub rules: &'a StoreRules,
    pub templates: &'a TemplateSet,
    pub store_name: &'a str,
    pub customer_name: Option<&'a str>,
    /// Today in the store's time zone.
    pub today: NaiveDate,
    /// A person has the conversation: the bot reads but stays silent.
    pub taken_over: bool,
    /// Billing: without an active subscription no automatic quote is sent.
    pub auto_quotes_enabled: bool,
    pub assistant: Option<&'a (dyn Assistant + Sync)>,
}

/// What a message to the customer is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Text(String),
    /// Text with the quote's reply buttons (Confirmar / Alterar / Falar com atendente).
    QuoteButtons(String),
    /// A question that includes the delivery day, with the day buttons ([`day_buttons`]:
    /// Hoje / Amanhã / Outro dia).
    DayButtons(String),
    /// One targeted question about a product the store has in several kinds, sent as a
    /// WhatsApp list whose rows are the kinds (issue 13; [`crate::ask`]).
    Choice(crate::ask::ChoiceQuestion),
    /// "Your quote is being checked by a person" ([`TemplateKind::ApprovalPending`]). Left for
    /// the worker to render: it names the quote, whose number exists only once the worker has
    /// stored it.
    ApprovalPending,
}

/// A quote the worker must number, store and (unless it needs approval) send.
#[derive(Debug, Clone, PartialEq)]
pub struct QuotePlan {
    pub priced: PricedQuote,
    pub delivery: Option<Delivery>,
}

/// What happens to the current quote of the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuoteOutcome {
    Accepted,
    Declined,
    /// The customer asked for changes: the old quote is superseded.
    Superseded,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub state: State,
    pub memo: Memo,
    pub events: Vec<Event>,
    /// Sent in order, before a quote message if there is one.
    pub replies: Vec<Reply>,
    pub quote: Option<QuotePlan>,
    pub quote_outcome: Option<QuoteOutcome>,
    /// A person should look at the conversation (shown in the dashboard).
    pub needs_attention: Option<String>,
    /// The conversation joined the waiting-for-a-person queue with this step: why (pt-BR,
    /// shown to staff beside the waiting time).
    pub to_person: Option<String>,
    pub closed_reason: Option<String>,
}

impl Step {
    fn new(state: State, memo: Memo) -> Step {
        Step {
            state,
            memo,
            events: Vec::new(),
            replies: Vec::new(),
            quote: None,
            quote_outcome: None,
            needs_attention: None,
            to_person: None,
            closed_reason: None,
        }
    }

    fn fire(&mut self, event: Event) -> Result<(), IllegalTransition> {
        self.state = transition(self.state, event)?;
        self.events.push(event);
        Ok(())
    }
}

/// Advances a conversation by one inbound message.
pub fn advance(
    state: State,
    memo: Memo,
    inbound: &Inbound,
    ctx: &Context,
) -> Result<Step, IllegalTransition> {
    let mut step = advance_one(state, memo, inbound, ctx)?;
    if !step.replies.is_empty() {
        step.memo.spoke = true;
    }
    Ok(step)
}

fn advance_one(
    state: State,
    memo: Memo,
    inbound: &Inbound,
    ctx: &Context,
) -> Result<Step, IllegalTransition> {
    let mut step = Step::new(state, memo);
    if state.is_closed() {
        // The store opens a new conversation for a closed one; reaching here is a bug upstream.
        return Err(IllegalTransition {
            from: state,
            event: Event::UserReplied,
        });
    }
    if step.state == State::Inbound {
        step.fire(Event::FirstMessageReceived)?;
    }
    let common = Common {
        store_name: ctx.store_name,
        customer_name: ctx.customer_name,
    };

    let text = match inbound {
        Inbound::Reaction => return Ok(step),
        Inbound::Media { described } => {
            if !ctx.taken_over && step.state != State::WaitingPerson {
                let reply = render(
                    ctx,
                    TemplateKind::UnsupportedMedia,
                    &templates::unsupported_media_context(&common, described),
                );
                step.replies.push(Reply::Text(reply));
            }
            return Ok(step);
        }
        Inbound::Text(t) => t.clone(),
        Inbound::Location { address } => address.clone(),
        Inbound::ForAPerson { .. } => "quero falar com um atendente".to_string(),
        Inbound::Button { id, title } => match parse_quote_button(id) {
            Some((QuoteAction::Accept, _)) => "sim, confirmo".to_string(),
            Some((QuoteAction::Change, _)) => "quero alterar o pedido".to_string(),
            Some((QuoteAction::Human, _)) => "quero falar com um atendente".to_string(),
            None => match id.trim() {
                BUTTON_DAY_TODAY => "hoje".to_string(),
                BUTTON_DAY_TOMORROW => "amanhã".to_string(),
                _ => title.clone(),
            },
        },
    };
    let button_intent = match inbound {
        Inbound::Button { id, .. } => match parse_quote_button(id) {
            Some((QuoteAction::Accept, _)) => Some(Intent::Accept),
            Some((QuoteAction::Change, _)) => Some(Intent::ChangeRequest),
            Some((QuoteAction::Human, _)) => Some(Intent::HumanRequest),
            None => None,
        },
        Inbound::ForAPerson { .. } => Some(Intent::HumanRequest),
        _ => None,
    };

    let truncated = text.chars().count() > MAX_MESSAGE_CHARS;
    let mut u = understand_in(&text, ctx.index, &step.memo.draft);
    // Low confidence, or text the rules could not tie to the catalog: the assistant may help.
    if u.confidence < ASSIST_BELOW_CONFIDENCE || !u.unknown.is_empty() {
        if let Some(better) = ctx
            .assistant
            .and_then(|a| a.assist(&text, &step.memo.draft))
        {
            u = better;
            step.memo.llm_assisted = true;
        }
    }
    if let Some(i) = button_intent {
        u.intent = i;
    }
    // A row of the "Qual fio?" list: that item, with the amount the customer gave.
    if let Inbound::Button { id, .. } = inbound {
        if let Some(chosen) = crate::ask::tapped(id, &step.memo.draft, ctx.index, ctx.catalog) {
            u = chosen;
        }
    }

    let other_day = matches!(inbound, Inbound::Button { id, .. } if id.trim() == BUTTON_DAY_OTHER);
    if other_day && !ctx.taken_over && step.state == State::CaptureMin {
        // "Outro dia": the day in words. A new, narrower question: the count starts again.
        step.replies.push(Reply::Text(ASK_OTHER_DAY.to_string()));
        step.memo.asked_missing = step.memo.draft.missing();
        step.memo.asked_times = 1;
        return Ok(step);
    }

    if ctx.taken_over || step.state == State::WaitingPerson {
        // A person is answering, or was called and acknowledged: keep the draft current for
        // them, say nothing (the message is stored and shown in the dashboard).
        step.memo.draft.apply(&orders_only(&u));
        return Ok(step);
    }
    // Bargaining over a quote ("tem desconto? faz 35 o saco"): a person decides, and the
    // draft is left as it was (its numbers are prices, not amounts).
    let after_a_quote = matches!(
        step.state,
        State::QuoteSent | State::WaitingReply | State::HumanApproval
    );
    if after_a_quote && crate::understanding::asks_for_discount(&text) {
        let why = format!("o cliente pediu desconto: «{}»", text.trim());
        return to_person(step, why, ctx, &common);
    }
    if let Some(why) = person_needed(&step, &u, &text) {
        step.memo.draft.apply(&orders_only(&u));
        return to_person(step, why, ctx, &common);
    }
    // "qual o horário de vcs", "onde fica a loja": the rules do not know, a person answers
    // (with whatever the message also ordered kept in the draft for them).
    let asked = crate::understanding::store_questions(&text);
    if let Some(why) = store_question_for_a_person(&asked, &text) {
        step.memo.draft.apply(&orders_only(&u));
        return to_person(step, why, ctx, &common);
    }
    let freight_asked = asked.contains(&StoreQuestion::Freight);
    if truncated {
        let reply = render(
            ctx,
            TemplateKind::MessageTooLong,
            &templates::message_too_long_context(&common, MAX_MESSAGE_CHARS),
        );
        step.replies.push(Reply::Text(reply));
    }

    match step.state {
        State::CaptureMin => capture(&mut step, &u, freight_asked, ctx, &common)?,
        State::HumanApproval => {
            if asks_to_change(&u, &step.memo.draft) {
                step.replies.push(Reply::Text(WHAT_TO_CHANGE.into()));
            } else if changes_order(&u, &step.memo.draft) {
                step.fire(Event::ChangeRequested)?;
                step.quote_outcome = Some(QuoteOutcome::Superseded);
                capture(&mut step, &u, freight_asked, ctx, &common)?;
            }
            // Anything else waits with the quote, in silence: "está sendo conferido" was said
            // once, when the quote was made (issue 12 item 2). A decline or a question went to
            // a person above.
        }
        State::QuoteSent | State::WaitingReply => after_quote(&mut step, &u, &text, ctx, &common)?,
        // INBOUND was left above; QUOTE_READY never persists; WON/LOST returned early.
        // WAITING_PERSON returned above, silent.
        State::Inbound | State::QuoteReady | State::WaitingPerson | State::Won | State::Lost => {}
    }
    Ok(step)
}

/// What a message adds to the draft while no question is asked: "quero falar com um
/// atendente" or "alô" must not leave "falar" behind as a product to confirm after the
/// hand-back; only a message that orders keeps its unknown products.
fn orders_only(u: &Understanding) -> Understanding {
    let mut kept = u.clone();
    if kept.intent != Intent::Order {
        kept.unknown.clear();
    }
    kept
}

/// Opening hours and the store's address are not in the rules: a person answers, told
/// what was asked.
fn store_question_for_a_person(asked: &[StoreQuestion], text: &str) -> Option<String> {
    let topics: Vec<&str> = asked
        .iter()
        .filter_map(|q| match q {
            StoreQuestion::Hours => Some("o horário da loja"),
            StoreQuestion::Address => Some("o endereço da loja"),
            StoreQuestion::Freight => None,
        })
        .collect();
    (!topics.is_empty()).then(|| {
        format!(
            "o cliente perguntou {}: «{}»",
            templates::join_pt(&topics),
            text.trim()
        )
    })
}

/// Does this message call for a person? The reason is shown to staff.
fn person_needed(step: &Step, u: &Understanding, text: &str) -> Option<String> {
    if u.intent == Intent::HumanRequest {
        return Some(handoff::ASKED.into());
    }
    if step.memo.spoke && handoff::frustration(text) {
        return Some(format!("o cliente está sem resposta: «{}»", text.trim()));
    }
    if step.state == State::HumanApproval
        && !changes_order(u, &step.memo.draft)
        && matches!(u.intent, Intent::Decline | Intent::Question)
    {
        let what = if u.intent == Intent::Decline {
            "recusou"
        } else {
            "perguntou"
        };
        return Some(format!(
            "enquanto o orçamento aguardava aprovação, o cliente {what}: «{}»",
            text.trim()
        ));
    }
    None
}

/// Joins the waiting-for-a-person queue and acknowledges it, once: from then on the bot is
/// silent until a person answers or hands the conversation back.
fn to_person(
    mut step: Step,
    why: String,
    ctx: &Context,
    common: &Common,
) -> Result<Step, IllegalTransition> {
    step.state = handoff::queue_for_person(step.state, &mut step.memo)?;
    step.events.push(Event::PersonRequested);
    step.to_person = Some(why);
    let reply = render(
        ctx,
        TemplateKind::PersonQueued,
        &templates::common_context(common),
    );
    step.replies.push(Reply::Text(reply));
    Ok(step)
}

/// Does the message change what was asked (new items, corrections, an explicit change, a
/// product the catalog lacks, another place, payment or day)?
fn changes_order(u: &Understanding, draft: &Draft) -> bool {
    !u.items.is_empty()
        || !u.corrections.is_empty()
        || u.intent == Intent::ChangeRequest
        || u.intent == Intent::Order && !u.unknown.is_empty()
        || changes_slots(u, draft)
}

/// Another place, payment or day than the draft's: the price or the promise changes.
fn changes_slots(u: &Understanding, draft: &Draft) -> bool {
    u.location.is_some() && u.location != draft.location
        || u.payment.is_some() && u.payment != draft.payment
        || u.delivery.is_some() && u.delivery != draft.delivery
}

/// Asked after "Alterar" (or "quero mudar o pedido") with nothing said yet: the quote is
/// made again only once the change arrives (issue 12 item 7).
pub const WHAT_TO_CHANGE: &str = "O que você quer mudar? Pode mandar, por exemplo: tira a areia, \
     mais 5 sacos de cimento, entrega sexta.";

/// A request to change the order that does not say what to change.
fn asks_to_change(u: &Understanding, draft: &Draft) -> bool {
    u.intent == Intent::ChangeRequest
        && u.items.is_empty()
        && u.corrections.is_empty()
        && u.unknown.is_empty()
        && !changes_slots(u, draft)
}

/// Collecting data: update the draft, answer questions, ask once for what is missing, and
/// quote as soon as everything is there.
fn capture(
    step: &mut Step,
    u: &Understanding,
    freight_asked: bool,
    ctx: &Context,
    common: &Common,
) -> Result<(), IllegalTransition> {
    let before = step.memo.draft.clone();
    let offered = std::mem::take(&mut step.memo.suggested);
    step.memo.draft.apply(u);
    // "pode ser", "sim" to "você quis dizer X?": the offered items take the unknowns' place.
    if takes_offer(u) {
        take_offered(&mut step.memo.draft, &offered, ctx);
    }
    // A day that is past, does not exist or is too far ahead is not taken: the customer is
    // told, the day they gave before (if any) stays, and the day is asked again.
    if let Some(d) = u.delivery.filter(|d| !d.acceptable(ctx.today)) {
        step.memo.draft.delivery = before.delivery;
        step.replies.push(Reply::Text(day_refused(d, ctx.today)));
    }
    let draft = step.memo.draft.clone();
    // A correction, or any change to a quote already made, is said back before anything
    // else: "Certo, tirei *Areia média lavada (m³)*."
    if !before.items.is_empty()
        && (!u.corrections.is_empty() || step.quote_outcome == Some(QuoteOutcome::Superseded))
    {
        if let Some(note) = crate::changes::change_note(&before, &draft, u, ctx.catalog) {
            step.replies.push(Reply::Text(note));
        }
    }
    // A message that adds nothing after the bot already asked is a failed attempt; three in
    // a row and a person takes over instead of a fourth try.
    if draft == before && u.price_questions.is_empty() && !freight_asked && step.memo.spoke {
        step.memo.stalled = step.memo.stalled.saturating_add(1);
    } else {
        step.memo.stalled = 0;
    }
    if step.memo.stalled >= handoff::MAX_STALLED {
        let why = format!(
            "o robô não entendeu {} mensagens seguidas",
            handoff::MAX_STALLED
        );
        let taken = std::mem::replace(step, Step::new(State::CaptureMin, Memo::default()));
        *step = to_person(taken, why, ctx, common)?;
        return Ok(());
    }

    // A price question without a quantity: answer from the catalog.
    if !u.price_questions.is_empty() && u.items.is_empty() {
        let items: Vec<&CatalogItem> = u
            .price_questions
            .iter()
            .filter_map(|sku| ctx.catalog.iter().find(|i| &i.sku == sku && i.active))
            .collect();
        if !items.is_empty() {
            let reply = render(
                ctx,
                TemplateKind::PriceAnswer,
                &templates::price_answer_context(common, &items, ctx.rules),
            );
            step.replies.push(Reply::Text(reply));
        }
    }

    let missing = draft.missing();
    let new_unknown: Vec<String> = draft
        .unknown
        .iter()
        .filter(|x| !step.memo.asked_unknown.contains(x))
        .cloned()
        .collect();
    let only_items_missing_but_unknown =
        missing == [MissingSlot::Items] && !draft.unknown.is_empty() && new_unknown.is_empty();

    if missing.is_empty() && new_unknown.is_empty()
        || only_items_missing_but_unknown && all_but_items(&draft)
    {
        return quote(step, ctx, common);
    }

    // "qto fica o frete pra parelheiros?": answered from the freight rules before what is
    // still missing is asked (a quote made now shows the freight itself).
    if freight_asked {
        step.replies.push(Reply::Text(crate::freight_answer::answer(
            draft.location.as_ref(),
            ctx.rules,
        )));
    }

    // A product named with its amount but not its kind ("30 metros de fio"): one question
    // with the kinds to tap, before anything else is asked.
    if let Some(q) = crate::ask::question(&draft, &new_unknown, ctx.index, ctx.catalog) {
        step.memo.asked_unknown.push(q.about.clone());
        step.replies.push(Reply::Choice(q));
        return Ok(());
    }

    let nothing_new = draft_is_empty(&draft) && u.price_questions.is_empty();
    if nothing_new {
        // "bom dia", "oi?? alguém aí?": the data-capture prompt, once per topic.
        let reply = render(
            ctx,
            TemplateKind::DataCapture,
            &templates::common_context(common),
        );
        step.replies.push(Reply::Text(reply));
        step.memo.asked_missing = missing;
        return Ok(());
    }
    if !u.price_questions.is_empty() && u.items.is_empty() && missing.len() == 4 {
        // Only a price question so far: the answer above is enough.
        return Ok(());
    }
    let pickup = draft.location == Some(Location::Retirada);
    let slots: Vec<templates::MissingSlot> = missing
        .iter()
        .map(|m| match m {
            MissingSlot::Delivery if pickup => templates::MissingSlot::PickupDay,
            m => to_template_slot(*m),
        })
        .collect();
    // The same question again (nothing of it answered, nothing added to the order): at most
    // twice, then a person.
    let same_question = !missing.is_empty()
        && !freight_asked
        && step.memo.asked_missing == missing
        && u.items.is_empty()
        && u.corrections.is_empty()
        && new_unknown.is_empty();
    let times = if same_question {
        step.memo.asked_times.saturating_add(1)
    } else {
        1
    };
    if times > MAX_SAME_QUESTION {
        let labels: Vec<&str> = slots.iter().map(|s| s.label_pt()).collect();
        let why = format!(
            "o robô perguntou {} vezes e o cliente não respondeu: falta {}",
            MAX_SAME_QUESTION,
            templates::join_pt(&labels)
        );
        let taken = std::mem::replace(step, Step::new(State::CaptureMin, Memo::default()));
        *step = to_person(taken, why, ctx, common)?;
        return Ok(());
    }
    // What this message added is said back before the question; a correction was already
    // said back by its own note. Dropping an unknown text is no correction the customer made:
    // it is how an answer to "Qual fio?" ("o de 4", a tapped row) takes the place of the
    // question, and that answer is said back like any item.
    let corrected = u
        .corrections
        .iter()
        .any(|c| !matches!(c, crate::understanding::Correction::ForgetUnknown { .. }));
    let noted: Vec<templates::Noted> = if u.items.is_empty() || corrected {
        Vec::new()
    } else {
        draft
            .items
            .iter()
            .filter_map(|it| {
                let item = ctx.catalog.iter().find(|c| c.sku == it.sku)?;
                Some(templates::Noted {
                    quantity: it.quantity,
                    item,
                })
            })
            .collect()
    };
    let reply = render(
        ctx,
        TemplateKind::MissingInfo,
        &templates::missing_info_context_suggesting(common, &slots, &new_unknown, &noted, |u| {
            suggested_name(u, ctx)
        }),
    );
    // The day buttons go with a question that asks for the day — not with one that first
    // asks to confirm a product, where Hoje / Amanhã would answer the wrong question.
    if missing.contains(&MissingSlot::Delivery) && new_unknown.is_empty() {
        step.replies.push(Reply::DayButtons(reply));
    } else {
        step.replies.push(Reply::Text(reply));
    }
    step.memo.asked_missing = missing;
    step.memo.asked_times = times;
    step.memo.suggested = new_unknown
        .iter()
        .filter_map(|u| {
            suggestions(std::slice::from_ref(u), ctx)
                .pop()
                .map(|s| Offered {
                    unknown: s.unknown,
                    sku: s.sku,
                })
        })
        .collect();
    step.memo.asked_unknown.extend(new_unknown);
    Ok(())
}

/// A bare yes ("sim", "pode ser", "isso", 👍) with nothing else to read in it.
fn takes_offer(u: &Understanding) -> bool {
    u.intent == Intent::Accept
        && u.items.is_empty()
        && u.corrections.is_empty()
        && u.unknown.is_empty()
}

/// Puts each offered item in its unknown's place, with the amount the customer gave for it
/// when that amount fits how the item is sold, else one.
fn take_offered(draft: &mut Draft, offered: &[Offered], ctx: &Context) {
    for o in offered {
        let Some(pos) = draft.unknown.iter().position(|u| u == &o.unknown) else {
            continue;
        };
        let Some(item) = ctx.catalog.iter().find(|c| c.sku == o.sku && c.active) else {
            continue;
        };
        draft.unknown.remove(pos);
        let held = draft.held.iter().position(|h| h.text == o.unknown);
        let quantity = held
            .map(|i| draft.held.remove(i))
            .filter(|h| {
                h.unit
                    .as_deref()
                    .is_none_or(|u| crate::understanding::unit_fits(u, item.unit))
            })
            .map_or(crate::money::Quantity::whole(1), |h| h.quantity);
        match draft.items.iter_mut().find(|i| i.sku == o.sku) {
            Some(line) => {
                line.quantity = line.quantity.checked_add(quantity).unwrap_or(line.quantity)
            }
            None => draft.items.push(crate::understanding::DraftItem {
                sku: o.sku.clone(),
                quantity,
            }),
        }
    }
}

/// Why a day was not taken, and what the bot can take (pt-BR).
fn day_refused(d: Delivery, today: NaiveDate) -> String {
    let last = today + chrono::Duration::days(crate::slots::MAX_DELIVERY_DAYS_AHEAD);
    let until = crate::clock::day_br(last);
    match d.resolve(today) {
        None => format!(
            "Não encontrei o dia {} no calendário. Pode conferir a data? Consigo agendar de \
             hoje até {until}.",
            d.label_pt()
        ),
        Some(date) => format!(
            "Não consigo agendar a entrega para {}: consigo de hoje até {until}. Pode \
             escolher outro dia?",
            crate::clock::day_br(date)
        ),
    }
}

fn all_but_items(d: &Draft) -> bool {
    d.location.is_some() && d.payment.is_some() && d.delivery.is_some()
}

fn draft_is_empty(d: &Draft) -> bool {
    d.items.is_empty()
        && d.unknown.is_empty()
        && d.location.is_none()
        && d.payment.is_none()
        && d.delivery.is_none()
}

impl Step {
    fn fire_needs_attention(&mut self, why: &str) {
        self.needs_attention = Some(why.to_string());
    }
}

fn to_template_slot(m: MissingSlot) -> templates::MissingSlot {
    match m {
        MissingSlot::Items => templates::MissingSlot::Items,
        MissingSlot::Location => templates::MissingSlot::Location,
        MissingSlot::Payment => templates::MissingSlot::Payment,
        MissingSlot::Delivery => templates::MissingSlot::Delivery,
    }
}

/// Everything is there: price it; approval or straight to the customer.
fn quote(step: &mut Step, ctx: &Context, common: &Common) -> Result<(), IllegalTransition> {
    let draft = step.memo.draft.clone();
    let (Some(location), Some(payment)) = (draft.location.clone(), draft.payment) else {
        step.fire(Event::MinimalDataReceived)?;
        return Ok(());
    };
    let mut lines = Vec::new();
    let mut unknown = draft.unknown.clone();
    for it in &draft.items {
        match ctx.catalog.iter().find(|c| c.sku == it.sku && c.active) {
            Some(item) => lines.push((item, it.quantity)),
            // Deactivated since the customer asked: a person must decide.
            None => unknown.push(it.sku.clone()),
        }
    }
    let req = QuoteRequest {
        lines,
        unknown,
        payment,
        location: location.clone(),
        llm_assisted: step.memo.llm_assisted,
        needs_human: false,
    };
    let mut priced = match price_quote(&req, ctx.rules) {
        Ok(priced) => priced,
        Err(e) => {
            // A quantity above the limit (or amounts that do not fit): no quote is made up;
            // the conversation stays where it is and a person takes it.
            step.fire_needs_attention(&format!("orçamento não calculado: {e}"));
            let reply = render(
                ctx,
                TemplateKind::HumanHandoff,
                &templates::common_context(common),
            );
            step.replies.push(Reply::Text(reply));
            return Ok(());
        }
    };
    priced.suggestions = suggestions(&priced.unknown, ctx);
    if !ctx.auto_quotes_enabled {
        // Billing: the quote is priced and kept; a person sends it (its own reason, not
        // needs_human: the customer asked nothing unusual).
        priced
            .approval_reasons
            .push(crate::pricing::ApprovalReason::SubscriptionInactive);
    }
    step.fire(Event::MinimalDataReceived)?;
    if priced.needs_approval() {
        step.fire(Event::ApprovalRequired)?;
        step.replies.push(Reply::ApprovalPending);
        step.needs_attention = Some("orçamento aguardando aprovação".into());
    } else {
        step.fire(Event::QuoteAutoOk)?;
    }
    step.quote = Some(QuotePlan {
        priced,
        delivery: draft.delivery,
    });
    step.memo.asked_missing.clear();
    step.memo.asked_times = 0;
    Ok(())
}

/// The nearest active catalog item to each product the quote does not include.
fn suggestions(unknown: &[String], ctx: &Context) -> Vec<Suggestion> {
    unknown
        .iter()
        .filter_map(|u| {
            let sku = ctx.index.suggest(u)?;
            let item = ctx.catalog.iter().find(|c| c.sku == sku && c.active)?;
            Some(Suggestion {
                unknown: u.clone(),
                sku,
                name: item.name.clone(),
            })
        })
        .collect()
}

fn suggested_name(unknown: &str, ctx: &Context) -> Option<String> {
    let sku = ctx.index.suggest(unknown)?;
    ctx.catalog
        .iter()
        .find(|c| c.sku == sku && c.active)
        .map(|c| c.name.clone())
}

/// A quote was sent: accept, decline, change — or a person is told, and the bot doesn't
/// guess.
fn after_quote(
    step: &mut Step,
    u: &Understanding,
    text: &str,
    ctx: &Context,
    common: &Common,
) -> Result<(), IllegalTransition> {
    match u.intent {
        // "pode ser no cartão": words of consent around a new payment are a change.
        Intent::Accept if !changes_slots(u, &step.memo.draft) => {
            step.fire(Event::ScheduleConfirmed)?;
            step.quote_outcome = Some(QuoteOutcome::Accepted);
            step.closed_reason = Some("aceito".into());
        }
        Intent::Decline => {
            step.fire(Event::UserDeclined)?;
            step.quote_outcome = Some(QuoteOutcome::Declined);
            step.closed_reason = Some("recusado pelo cliente".into());
        }
        _ if asks_to_change(u, &step.memo.draft) => {
            if step.state == State::QuoteSent {
                step.fire(Event::UserReplied)?;
            }
            step.replies.push(Reply::Text(WHAT_TO_CHANGE.into()));
        }
        _ if changes_order(u, &step.memo.draft) => {
            step.fire(Event::ChangeRequested)?;
            step.quote_outcome = Some(QuoteOutcome::Superseded);
            capture(step, u, false, ctx, common)?;
        }
        // "ok", "blz manda": likely a yes, but a sale is not closed on a guess — asked once;
        // the same again goes to a person like any other answer.
        _ if step.state == State::QuoteSent && vague_consent(text) => {
            step.fire(Event::UserReplied)?;
            step.replies.push(Reply::Text(CONFIRM_WITH_SIM.into()));
        }
        _ => {
            if step.state == State::QuoteSent {
                step.fire(Event::UserReplied)?;
                let reply = render(
                    ctx,
                    TemplateKind::HumanHandoff,
                    &templates::common_context(common),
                );
                step.replies.push(Reply::Text(reply));
            }
            step.needs_attention = Some("o cliente respondeu ao orçamento com uma pergunta".into());
        }
    }
    Ok(())
}

/// Asked after a vague "ok" to a quote.
pub const CONFIRM_WITH_SIM: &str = "Para confirmar o pedido, é só responder *SIM* (ou tocar em \
    *Confirmar*). Se quiser mudar alguma coisa, me diga o quê. 🙂";

/// "ok", "blz", "beleza manda", "tá bom": words of agreement and nothing else.
fn vague_consent(text: &str) -> bool {
    let folded = crate::understanding::fold_for_compare(text);
    let words: Vec<&str> = folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let agreeing = |w: &str| {
        matches!(
            w,
            "ok" | "okay"
                | "oks"
                | "blz"
                | "blza"
                | "beleza"
                | "certo"
                | "show"
                | "top"
                | "joia"
                | "massa"
                | "legal"
                | "otimo"
                | "perfeito"
                | "bom"
        )
    };
    !words.is_empty()
        && words.len() <= 4
        && words.iter().any(|w| agreeing(w))
        && words.iter().all(|w| {
            agreeing(w) || matches!(*w, "ta" | "tá" | "manda" | "entao" | "pode" | "e" | "isso")
        })
}

/// Renders a kind with the store's template, falling back to the default when the store's
/// fails at run time (it was validated on save; this guards against data edited by hand).
pub fn render(ctx: &Context, kind: TemplateKind, data: &serde_json::Value) -> String {
    render_with(ctx.templates, kind, data)
}

pub fn render_with(set: &TemplateSet, kind: TemplateKind, data: &serde_json::Value) -> String {
    if let Some(src) = set.get(&kind) {
        if let Ok(text) = templates::render(kind, src, data) {
            return text;
        }
    }
    templates::render(kind, templates::default_source(kind), data).unwrap_or_else(|_| {
        "Recebemos sua mensagem. Um atendente vai responder em breve.".to_string()
    })
}

/// The quote message once the worker has its number and validity.
pub fn quote_message(
    set: &TemplateSet,
    common: &Common,
    q: &PricedQuote,
    number: &str,
    valid_until: NaiveDate,
    delivery: Option<Delivery>,
    today: NaiveDate,
) -> String {
    let when = delivery.map(|d| delivery_words(d, today));
    render_with(
        set,
        TemplateKind::Quote,
        &templates::quote_context(common, q, number, valid_until, when.as_deref()),
    )
}

/// The short button message that follows a quote sent as text because it did not fit a
/// button message's 1,024 characters (Meta's limit); `None` when the quote's number is not
/// known.
pub fn buttons_prompt(quote_number: Option<&str>) -> String {
    match quote_number {
        Some(n) if !n.is_empty() => format!(
            "Orçamento *{n}*: toque em Confirmar para fechar, Alterar para mudar o pedido ou \
             Falar com atendente."
        ),
        _ => "Toque em Confirmar para fechar, Alterar para mudar o pedido ou Falar com \
              atendente."
            .to_string(),
    }
}

/// "amanhã (29/11/2026)".
pub fn delivery_words(d: Delivery, today: NaiveDate) -> String {
    match d.resolve(today) {
        Some(date) => format!("{} ({})", d.label_pt(), date.format("%d/%m/%Y")),
        None => d.label_pt(),
    }
}

/// The confirmation after the customer accepted. `pix_receiver`: set when the PIX code
/// follows as its own message.
pub fn confirmation_message(
    set: &TemplateSet,
    common: &Common,
    q: &PricedQuote,
    number: &str,
    delivery: Option<Delivery>,
    today: NaiveDate,
    pix_receiver: Option<&str>,
) -> String {
    let when = delivery
        .map(|d| delivery_words(d, today))
        .unwrap_or_else(|| "a combinar".into());
    render_with(
        set,
        TemplateKind::Confirmation,
        &templates::confirmation_context(common, q, number, &when, pix_receiver),
    )
}

pub fn location_label(l: &Location) -> String {
    l.label_pt()
}

#[cfg(test)]
mod consent_tests {
    #[test]
    fn vague_consent_is_only_agreement() {
        for m in ["ok", "blz manda", "Beleza!", "tá bom", "ok pode", "show"] {
            assert!(super::vague_consent(m), "{m}");
        }
        for m in [
            "sim",
            "ok mas troca a areia",
            "bom dia",
            "ok quanto fica o frete",
            "",
        ] {
            assert!(!super::vague_consent(m), "{m}");
        }
    }
}
