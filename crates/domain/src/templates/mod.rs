//! Every message the bot sends: per-store templates with pt-BR defaults, rendered in a
//! sandbox (docs/templates.md).

mod context;
mod guard;
mod kinds;
mod limits;
mod sandbox;

use std::fmt;

use serde::{Deserialize, Serialize};

pub(crate) use context::join_pt;
pub use context::{
    common_context, confirmation_context, expired_context, message_too_long_context,
    missing_info_context, missing_info_context_suggesting, price_answer_context, quote_context,
    quote_ref_context, quote_replaced_context, unknown_item_context, unsupported_media_context,
    Common, MissingSlot, Noted,
};
pub use guard::STACK_BYTES;
pub use kinds::{default_source, sample_context, variables};
pub use limits::{MAX_BLOCK_DEPTH, MAX_BRACKET_DEPTH, MAX_CHAIN, MAX_EXPR_TOKENS, MAX_UNARY_OPS};
pub use sandbox::{
    FILTERS, FUEL, MAX_OUTPUT_CHARS, MAX_SOURCE_BYTES, QUOTE_MAX_TEXT_MESSAGES, RECURSION_LIMIT,
    TESTS,
};

/// Meta's limit on the body of a text message, which every kind can be sent as.
pub const TEXT_LIMIT_CHARS: usize = 4096;
/// Meta's limit on the body of a message with reply buttons (the quote's).
pub const BUTTON_BODY_LIMIT_CHARS: usize = 1024;

/// The length of a rendered message against the WhatsApp limit of the message that carries
/// it, in the words the template editor shows ("812 de 1.024 caracteres…").
pub fn length_note(kind: TemplateKind, rendered: &str) -> String {
    let n = rendered.chars().count();
    let count = crate::money::group_thousands(n as u64);
    match kind {
        TemplateKind::Quote => {
            let mut note = format!(
                "{count} de 1.024 caracteres (limite do WhatsApp para mensagem com botões)."
            );
            if n > BUTTON_BODY_LIMIT_CHARS {
                note.push_str(
                    " Acima de 1.024, o orçamento vai como texto (até 4.096 caracteres por \
                     mensagem) seguido de uma mensagem curta com os botões.",
                );
            }
            note
        }
        _ => format!("{count} de 4.096 caracteres (limite do WhatsApp para mensagem de texto)."),
    }
}

/// Which message a template is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TemplateKind {
    DataCapture,
    MissingInfo,
    Quote,
    ApprovalPending,
    Confirmation,
    Declined,
    Expired,
    UnknownItem,
    UnsupportedMedia,
    HumanHandoff,
    /// The one acknowledgement when a conversation joins the waiting-for-a-person queue.
    PersonQueued,
    PriceAnswer,
    MessageTooLong,
    /// The customer tapped a button of a quote that is no longer the current one.
    QuoteReplaced,
}

impl TemplateKind {
    /// The longest text one render of this kind may produce. A quote longer than one
    /// message goes as several texts split at line boundaries, then the buttons, so it may
    /// take up to [`QUOTE_MAX_TEXT_MESSAGES`] messages; every other kind is one message.
    pub fn max_output_chars(self) -> usize {
        match self {
            TemplateKind::Quote => QUOTE_MAX_TEXT_MESSAGES * MAX_OUTPUT_CHARS,
            _ => MAX_OUTPUT_CHARS,
        }
    }

    pub const ALL: [TemplateKind; 14] = [
        TemplateKind::DataCapture,
        TemplateKind::MissingInfo,
        TemplateKind::Quote,
        TemplateKind::ApprovalPending,
        TemplateKind::Confirmation,
        TemplateKind::Declined,
        TemplateKind::Expired,
        TemplateKind::UnknownItem,
        TemplateKind::UnsupportedMedia,
        TemplateKind::HumanHandoff,
        TemplateKind::PersonQueued,
        TemplateKind::PriceAnswer,
        TemplateKind::MessageTooLong,
        TemplateKind::QuoteReplaced,
    ];

    /// Stable code for the database and URLs.
    pub fn code(self) -> &'static str {
        match self {
            TemplateKind::DataCapture => "data_capture",
            TemplateKind::MissingInfo => "missing_info",
            TemplateKind::Quote => "quote",
            TemplateKind::ApprovalPending => "approval_pending",
            TemplateKind::Confirmation => "confirmation",
            TemplateKind::Declined => "declined",
            TemplateKind::Expired => "expired",
            TemplateKind::UnknownItem => "unknown_item",
            TemplateKind::UnsupportedMedia => "unsupported_media",
            TemplateKind::HumanHandoff => "human_handoff",
            TemplateKind::PersonQueued => "person_queued",
            TemplateKind::PriceAnswer => "price_answer",
            TemplateKind::MessageTooLong => "message_too_long",
            TemplateKind::QuoteReplaced => "quote_replaced",
        }
    }

    /// Name shown to the store owner in the template editor.
    pub fn label_pt(self) -> &'static str {
        match self {
            TemplateKind::DataCapture => "Pedido de dados (primeira resposta)",
            TemplateKind::MissingInfo => "Dados que faltam",
            TemplateKind::Quote => "Orçamento",
            TemplateKind::ApprovalPending => "Aguardando aprovação",
            TemplateKind::Confirmation => "Confirmação do pedido",
            TemplateKind::Declined => "Orçamento recusado",
            TemplateKind::Expired => "Orçamento vencido",
            TemplateKind::UnknownItem => "Produto não encontrado",
            TemplateKind::UnsupportedMedia => "Áudio, imagem ou arquivo recebido",
            TemplateKind::HumanHandoff => "Transferência para atendente",
            TemplateKind::PersonQueued => "Cliente na fila de atendimento",
            TemplateKind::PriceAnswer => "Resposta de preço",
            TemplateKind::MessageTooLong => "Mensagem longa demais",
            TemplateKind::QuoteReplaced => "Botão de um orçamento substituído",
        }
    }

    pub fn from_code(code: &str) -> Option<TemplateKind> {
        let code = code.trim();
        TemplateKind::ALL
            .into_iter()
            .find(|k| k.code().eq_ignore_ascii_case(code))
    }
}

impl fmt::Display for TemplateKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Why a template was refused or could not be rendered. `message` is pt-BR and already
/// starts with "linha N:" when the line is known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateError {
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TemplateError {}

/// Checks a template before it is saved: size, allowed syntax, only documented variables,
/// and a trial render with the kind's sample data.
pub fn validate(kind: TemplateKind, source: &str) -> Result<(), TemplateError> {
    render(kind, source, &sample_context(kind)).map(|_| ())
}

/// Renders a template (the store's or the default) with a context from the builders. The
/// same checks as `validate` run again, so a template edited behind our back cannot escape.
pub fn render(
    kind: TemplateKind,
    source: &str,
    ctx: &serde_json::Value,
) -> Result<String, TemplateError> {
    sandbox::render_checked(kind, source, ctx)
}
