//! Messages the store starts (issue 15 items 5 and 6), as opposed to replies to what the
//! customer just wrote: what each is for ([`Purpose`], which names the WhatsApp message
//! template the store set for it and the parameters that template gets), and the customer's
//! words that stop them all ([`opt_out_words`]) or bring them back ([`opt_in_words`]).

/// What a proactive message is for. Each purpose has a fixed list of parameters, in order:
/// a WhatsApp message template set for it may use `{{1}}` up to `{{n}}` of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A quote about to expire: "seu orçamento vale até…".
    QuoteReminder,
    /// A quote sent N hours ago with no answer.
    QuoteFollowUp,
    /// A quote that expired.
    QuoteExpired,
}

impl Purpose {
    pub const ALL: [Purpose; 3] = [
        Purpose::QuoteReminder,
        Purpose::QuoteFollowUp,
        Purpose::QuoteExpired,
    ];

    /// Stored in `meta_templates.purpose` and in the message's payload.
    pub fn code(self) -> &'static str {
        match self {
            Purpose::QuoteReminder => "quote_reminder",
            Purpose::QuoteFollowUp => "quote_follow_up",
            Purpose::QuoteExpired => "quote_expired",
        }
    }

    pub fn from_code(code: &str) -> Option<Purpose> {
        Purpose::ALL.into_iter().find(|p| p.code() == code)
    }

    /// What staff read (pt-BR).
    pub fn label(self) -> &'static str {
        match self {
            Purpose::QuoteReminder => "Lembrete antes do orçamento vencer",
            Purpose::QuoteFollowUp => "Orçamento sem resposta",
            Purpose::QuoteExpired => "Orçamento vencido",
        }
    }

    /// The parameters a template for this purpose gets, in order (`{{1}}`, `{{2}}`…), as
    /// staff read them.
    pub fn parameters(self) -> &'static [&'static str] {
        match self {
            Purpose::QuoteReminder => &[
                "nome do cliente",
                "número do orçamento",
                "validade (dia e hora)",
            ],
            Purpose::QuoteFollowUp => &["nome do cliente", "número do orçamento"],
            Purpose::QuoteExpired => &["nome do cliente", "número do orçamento"],
        }
    }
}

/// Lower case, no accents, words separated by one space: how the customer's short answers
/// are compared.
fn fold(text: &str) -> String {
    let mapped: String = text
        .chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'á' | 'à' | 'â' | 'ã' | 'ä' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'í' | 'ì' | 'î' | 'ï' => 'i',
            'ó' | 'ò' | 'ô' | 'õ' | 'ö' => 'o',
            'ú' | 'ù' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            c if c.is_alphanumeric() => c,
            _ => ' ',
        })
        .collect();
    mapped.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whole messages that mean "stop writing to me" (after folding).
const OPT_OUT_EXACT: &[&str] = &[
    "parar",
    "pare",
    "para",
    "sair",
    "stop",
    "cancelar",
    "descadastrar",
    "parar mensagens",
    "sair da lista",
    "chega",
];

/// Phrases that mean it anywhere in a message.
const OPT_OUT_PHRASES: &[&str] = &[
    "nao quero mais mensage",
    "nao quero mais receber",
    "nao quero receber mensage",
    "pare de mandar",
    "para de mandar",
    "parem de mandar",
    "pare de enviar",
    "para de enviar",
    "parem de enviar",
    "nao me mande mais",
    "nao mande mais",
    "nao me mandem mais",
    "nao me envie mais",
    "me tira da lista",
    "me tire da lista",
    "me remove da lista",
    "me remova da lista",
    "descadastra",
];

/// The customer asks the store to stop sending them messages: "parar", "sair", "não quero
/// mais mensagens", "pare de mandar"… A longer message counts only when it contains one of
/// the phrases; a single word counts only as the whole message ("vou sair para comprar" is
/// not an opt-out).
pub fn opt_out_words(text: &str) -> bool {
    let f = fold(text);
    if f.is_empty() {
        return false;
    }
    OPT_OUT_EXACT.contains(&f.as_str()) || OPT_OUT_PHRASES.iter().any(|p| f.contains(p))
}

/// The customer takes the opt-out back: "voltar", "quero voltar a receber"…
pub fn opt_in_words(text: &str) -> bool {
    let f = fold(text);
    matches!(
        f.as_str(),
        "voltar" | "volta" | "voltar a receber" | "quero voltar" | "quero voltar a receber"
    ) || f.contains("voltar a receber mensage")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opt_out_words_and_variants() {
        for yes in [
            "parar",
            "PARAR",
            "Pare.",
            "sair",
            "Sair!",
            "não quero mais mensagens",
            "Nao quero mais mensagem",
            "por favor, pare de mandar mensagem",
            "PAREM DE MANDAR ISSO",
            "não me mande mais nada",
            "me tira da lista",
        ] {
            assert!(opt_out_words(yes), "{yes}");
        }
        for no in [
            "",
            "vou sair para comprar",
            "quero 10 sacos de cimento",
            "para quando é a entrega?",
            "parafuso",
            "Confirmar",
            "voltar",
        ] {
            assert!(!opt_out_words(no), "{no}");
        }
    }

    #[test]
    fn opt_in_words_take_it_back() {
        assert!(opt_in_words("Voltar"));
        assert!(opt_in_words("quero voltar a receber"));
        assert!(!opt_in_words("vou voltar amanhã para pagar"));
        assert!(!opt_in_words("parar"));
    }

    #[test]
    fn purposes_round_trip_their_codes() {
        for p in Purpose::ALL {
            assert_eq!(Purpose::from_code(p.code()), Some(p));
            assert!(!p.parameters().is_empty());
        }
        assert_eq!(Purpose::from_code("x"), None);
    }
}
