//! Per kind: the pt-BR default template, the documented variables and sample data for the
//! editor's preview and the trial render at validation.

use chrono::NaiveDate;
use serde_json::Value;

use super::context::{self, Common, MissingSlot};
use super::TemplateKind;
use crate::catalog::{parse_catalog_csv, DEMO_CATALOG_CSV};
use crate::money::Quantity;
use crate::pricing::{demo_rules, price_quote, QuoteRequest};
use crate::slots::{Location, PaymentMethod};

type Vars = &'static [(&'static str, &'static str)];

const COMMON: [(&str, &str); 2] = [
    ("loja", "nome da loja"),
    (
        "cliente",
        "nome do cliente no WhatsApp (vazio quando não se sabe)",
    ),
];

macro_rules! vars {
    ($($name:literal => $desc:literal),* $(,)?) => {
        &[COMMON[0], COMMON[1], $(($name, $desc)),*]
    };
}

const DATA_CAPTURE_VARS: Vars = vars![];
const MISSING_INFO_VARS: Vars = vars![
    "faltando" => "lista do que ainda falta, em palavras (ex.: 'o dia da entrega')",
    "faltando_texto" => "o que falta numa frase: 'o CEP ou o bairro da entrega e o dia da entrega'",
    "desconhecidos" => "lista dos produtos não encontrados, como o cliente escreveu",
    "nao_encontrados" => "os mesmos produtos; cada um tem: produto (como o cliente escreveu), sugestao (o item do catálogo mais parecido, ou vazio)",
    "anotados" => "os produtos que o cliente acabou de pedir, para confirmar o que foi entendido; cada um tem: quantidade ('20'), unidade_qtd ('sc', '3 latas' → 'latas'), descricao",
];
const QUOTE_VARS: Vars = vars![
    "numero" => "número do orçamento (ex.: ORC-2026-000123)",
    "itens" => "lista de itens; cada um tem: descricao, sku, quantidade ('2,5'), unidade ('m³'; depois do preço: '/lata'), \
                unidade_qtd (concorda com a quantidade: '1 lata', '3 latas'), preco_tabela, preco_unitario, desconto_volume ('4%' ou vazio), total, total_centavos",
    "subtotal" => "soma dos itens (R$)",
    "forma_pagamento" => "PIX, cartão, boleto ou dinheiro",
    "desconto_pagamento" => "desconto pela forma de pagamento (R$)",
    "desconto_pagamento_pct" => "percentual do desconto pela forma de pagamento (ex.: '5%')",
    "desconto_pagamento_centavos" => "o mesmo desconto em centavos (0 quando não há)",
    "frete" => "valor do frete (R$); vazio quando ainda não definido",
    "frete_gratis" => "verdadeiro quando o frete é grátis",
    "retirada" => "verdadeiro quando o cliente retira na loja (sem frete)",
    "total" => "total a pagar (R$)",
    "total_centavos" => "total em centavos",
    "validade" => "data até quando o orçamento vale (dd/mm/aaaa)",
    "entrega" => "dia da entrega por extenso; vazio se não informado",
    "desconhecidos" => "produtos pedidos que não estão no orçamento",
    "nao_incluidos" => "os mesmos produtos não incluídos; cada um tem: produto (como o cliente escreveu), sugestao (o item do catálogo mais parecido, ou vazio)",
];
const QUOTE_REF_VARS: Vars = vars!["numero" => "número do orçamento"];
const CONFIRMATION_VARS: Vars = vars![
    "numero" => "número do orçamento",
    "total" => "total a pagar (R$)",
    "forma_pagamento" => "PIX, cartão, boleto ou dinheiro",
    "entrega" => "dia da entrega por extenso (ex.: 'sexta-feira, 04/12/2026')",
    "pix" => "quem recebe o PIX, quando o código PIX copia e cola vai na mensagem seguinte; vazio quando não vai",
    "retirada" => "verdadeiro quando o cliente retira na loja (o dia é o da retirada)",
];
const EXPIRED_VARS: Vars = vars![
    "numero" => "número do orçamento",
    "validade" => "data em que o orçamento venceu (dd/mm/aaaa)",
];
const UNKNOWN_ITEM_VARS: Vars = vars![
    "produto" => "o produto como o cliente escreveu",
    "sugestoes" => "lista de nomes de produtos parecidos do catálogo (pode ser vazia)",
];
const UNSUPPORTED_MEDIA_VARS: Vars = vars![
    "tipo" => "o que chegou, com artigo: 'um áudio', 'uma imagem', 'um vídeo'",
];
const PRICE_ANSWER_VARS: Vars = vars![
    "itens" => "lista de produtos; cada um tem: descricao, sku, unidade, preco, preco_centavos",
    "descontos" => "lista dos descontos por forma de pagamento (ex.: 'PIX 5%')",
];
const QUOTE_REPLACED_VARS: Vars = vars![
    "numero_tocado" => "número do orçamento cujo botão o cliente tocou (não vale mais)",
    "numero" => "número do orçamento atual; vazio quando não há um em aberto",
    "total" => "total do orçamento atual (R$); vazio quando ele ainda não foi enviado ao cliente",
    "aguardando_aprovacao" => "verdadeiro quando o orçamento atual está sendo conferido pela loja",
];
const MESSAGE_TOO_LONG_VARS: Vars = vars![
    "limite" => "tamanho máximo de mensagem que o robô lê, em caracteres (ex.: '1.000')",
];

/// The documented variables of a kind: (name, pt-BR description). Nothing else can be used.
pub fn variables(kind: TemplateKind) -> &'static [(&'static str, &'static str)] {
    match kind {
        TemplateKind::DataCapture | TemplateKind::HumanHandoff | TemplateKind::PersonQueued => {
            DATA_CAPTURE_VARS
        }
        TemplateKind::MissingInfo => MISSING_INFO_VARS,
        TemplateKind::Quote => QUOTE_VARS,
        TemplateKind::ApprovalPending | TemplateKind::Declined => QUOTE_REF_VARS,
        TemplateKind::Confirmation => CONFIRMATION_VARS,
        TemplateKind::Expired => EXPIRED_VARS,
        TemplateKind::UnknownItem => UNKNOWN_ITEM_VARS,
        TemplateKind::UnsupportedMedia => UNSUPPORTED_MEDIA_VARS,
        TemplateKind::PriceAnswer => PRICE_ANSWER_VARS,
        TemplateKind::MessageTooLong => MESSAGE_TOO_LONG_VARS,
        TemplateKind::QuoteReplaced => QUOTE_REPLACED_VARS,
    }
}

const DATA_CAPTURE: &str = "\
Olá{% if cliente %}, {{ cliente }}{% endif %}! 👋 Aqui é da loja *{{ loja }}*.
Para montar seu orçamento, me mande:
• *produtos e quantidades* (ex.: 10 sc de cimento, 2 m³ de areia)
• *CEP ou bairro* da entrega
• *forma de pagamento* (PIX, cartão, boleto ou dinheiro)
• *dia da entrega*
";

const MISSING_INFO: &str = "\
{% if anotados %}
Anotei:
{% for item in anotados %}
• {{ item.quantidade }} {{ item.unidade_qtd }} — {{ item.descricao }}
{% endfor %}

{% endif %}
{% for item in nao_encontrados %}
{% if item.sugestao %}
Não encontrei '{{ item.produto }}' — você quis dizer *{{ item.sugestao }}*?
{% else %}
Não encontrei '{{ item.produto }}' — pode confirmar o produto?
{% endif %}
{% endfor %}
{% if faltando %}
Para fechar o orçamento, só falta informar {{ faltando_texto }}. 🙂
{% endif %}
";

const QUOTE: &str = "\
{% if cliente %}{{ cliente }}, segue{% else %}Segue{% endif %} seu orçamento *{{ numero }}* 📋

{% for item in itens %}
• {{ item.quantidade }} {{ item.unidade_qtd }} — {{ item.descricao }}
   {{ item.preco_unitario }}/{{ item.unidade }}{% if item.desconto_volume %} (com {{ item.desconto_volume }} de desconto){% endif %} = *{{ item.total }}*
{% endfor %}
{% for item in nao_incluidos %}
• Não incluído: {{ item.produto }} — vamos verificar.
{% if item.sugestao %}
   Você quis dizer *{{ item.sugestao }}*?
{% endif %}
{% endfor %}

Subtotal: {{ subtotal }}
{% if desconto_pagamento_centavos > 0 %}
Desconto {{ forma_pagamento }} ({{ desconto_pagamento_pct }}): -{{ desconto_pagamento }}
{% endif %}
{% if retirada %}
Retirada na loja (sem frete)
{% elif frete_gratis %}
Frete: *grátis*
{% elif frete %}
Frete: {{ frete }}
{% else %}
Frete: a confirmar
{% endif %}
*Total: {{ total }}* ({{ forma_pagamento }})
{% if entrega %}
{% if retirada %}
Retirada: {{ entrega }}
{% else %}
Entrega: {{ entrega }}
{% endif %}
{% endif %}
Válido até {{ validade }}.

Para fechar, é só responder *SIM*. ✅
";

const APPROVAL_PENDING: &str = "\
Obrigado{% if cliente %}, {{ cliente }}{% endif %}! 🙏
Seu orçamento{% if numero %} *{{ numero }}*{% endif %} está sendo conferido pela nossa equipe. Assim que ficar pronto, mandamos aqui mesmo.
";

const CONFIRMATION: &str = "\
Pedido confirmado! ✅
Orçamento *{{ numero }}*: *{{ total }}* ({{ forma_pagamento }}).
{% if retirada %}
Retirada na loja: *{{ entrega }}*.
{% else %}
Entrega: *{{ entrega }}*.
{% endif %}
{% if pix %}
Para pagar com PIX, toque e segure a próxima mensagem, copie o código e cole no app do seu banco em *Pix copia e cola* (recebedor: {{ pix }}).
{% endif %}
Obrigado pela preferência{% if cliente %}, {{ cliente }}{% endif %}!
";

const DECLINED: &str = "\
Tudo bem{% if cliente %}, {{ cliente }}{% endif %}! O orçamento *{{ numero }}* foi cancelado.
Quando precisar, é só mandar a lista por aqui. 👍
";

const EXPIRED: &str = "\
O orçamento *{{ numero }}* venceu em {{ validade }}.
Os preços podem ter mudado: se ainda quiser, me mande a lista de novo que eu faço outro orçamento.
";

const UNKNOWN_ITEM: &str = "\
Não encontrei '{{ produto }}' no nosso catálogo — pode confirmar o produto?
{% if sugestoes %}
Talvez seja: {{ sugestoes|join(', ') }}?
{% endif %}
";

const UNSUPPORTED_MEDIA: &str = "\
Recebi {{ tipo }}, mas por aqui eu só consigo ler *texto*. 🙏
Pode escrever o pedido? Ex.: _10 sc de cimento, entrega no Grajaú, PIX, amanhã_
";

const HUMAN_HANDOFF: &str = "\
Certo{% if cliente %}, {{ cliente }}{% endif %}! Vou passar sua mensagem para um dos nossos atendentes, que te responde por aqui em breve. 👍
";

const PERSON_QUEUED: &str = "\
Certo{% if cliente %}, {{ cliente }}{% endif %}! Já chamei alguém da equipe da loja *{{ loja }}*. Pode mandar mais detalhes por aqui enquanto isso: a pessoa vê tudo e te responde assim que puder. 👍
";

const PRICE_ANSWER: &str = "\
{% for item in itens %}
*{{ item.descricao }}*: {{ item.preco }} / {{ item.unidade }}
{% endfor %}
{% if descontos %}
Desconto no pagamento: {{ descontos|join(', ') }}.
{% endif %}
Quer um orçamento com entrega? Me diga as quantidades, o CEP ou bairro e a forma de pagamento.
";

const MESSAGE_TOO_LONG: &str = "\
Sua mensagem ficou longa demais para eu ler de uma vez (máximo de {{ limite }} caracteres). 🙏
Pode mandar em partes menores, com os produtos e as quantidades?
";

// Never confirms anything: the customer saw another price (issue 18 item 2).
const QUOTE_REPLACED: &str = "\
O orçamento *{{ numero_tocado }}* não vale mais{% if numero %}: ele foi substituído pelo *{{ numero }}*{% endif %}. Por isso não confirmei nada.
{% if total %}
O orçamento atual é o *{{ numero }}*, total *{{ total }}*. Para fechar por esse valor, toque em *Confirmar* abaixo.
{% elif aguardando_aprovacao %}
O orçamento atual está sendo conferido pela loja e chega aqui assim que estiver pronto.
{% else %}
Se ainda quiser, me mande a lista de novo que eu faço um orçamento atualizado.
{% endif %}
";

/// The pt-BR template used when the store has not written its own.
pub fn default_source(kind: TemplateKind) -> &'static str {
    match kind {
        TemplateKind::DataCapture => DATA_CAPTURE,
        TemplateKind::MissingInfo => MISSING_INFO,
        TemplateKind::Quote => QUOTE,
        TemplateKind::ApprovalPending => APPROVAL_PENDING,
        TemplateKind::Confirmation => CONFIRMATION,
        TemplateKind::Declined => DECLINED,
        TemplateKind::Expired => EXPIRED,
        TemplateKind::UnknownItem => UNKNOWN_ITEM,
        TemplateKind::UnsupportedMedia => UNSUPPORTED_MEDIA,
        TemplateKind::HumanHandoff => HUMAN_HANDOFF,
        TemplateKind::PersonQueued => PERSON_QUEUED,
        TemplateKind::PriceAnswer => PRICE_ANSWER,
        TemplateKind::MessageTooLong => MESSAGE_TOO_LONG,
        TemplateKind::QuoteReplaced => QUOTE_REPLACED,
    }
}

const SAMPLE: Common<'static> = Common {
    store_name: "Depósito Exemplo Materiais de Construção",
    customer_name: Some("Maria"),
};
const SAMPLE_NUMBER: &str = "ORC-2026-000123";

fn sample_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 30).unwrap_or_default()
}

/// Realistic data for the editor's preview and the trial render: the demo store's example
/// quote (10 sc de cimento e 2 m³ de areia, PIX, Grajaú).
pub fn sample_context(kind: TemplateKind) -> Value {
    let catalog = parse_catalog_csv(DEMO_CATALOG_CSV).unwrap_or_default();
    let find = |sku: &str| catalog.iter().find(|i| i.sku == sku);
    let lines = [("CIM-CP2-50", 10), ("ARE-MED-M3", 2), ("TIJ-6F", 2000)]
        .iter()
        .filter_map(|(sku, n)| find(sku).map(|i| (i, Quantity::whole(*n))))
        .collect();
    let rules = demo_rules();
    let quote = price_quote(
        &QuoteRequest {
            lines,
            unknown: vec![],
            payment: PaymentMethod::Pix,
            location: Location::Bairro("Grajaú".into()),
            llm_assisted: false,
            needs_human: false,
        },
        &rules,
    )
    // The demo catalog and rules are constants well inside the limits.
    .expect("the sample quote prices");
    let c = &SAMPLE;
    match kind {
        TemplateKind::DataCapture | TemplateKind::HumanHandoff | TemplateKind::PersonQueued => {
            context::common_context(c)
        }
        TemplateKind::MissingInfo => context::missing_info_context_suggesting(
            c,
            &[MissingSlot::Location, MissingSlot::Delivery],
            &["selador em galão".to_string()],
            &[("CIM-CP2-50", 10), ("ARE-MED-M3", 2)]
                .iter()
                .filter_map(|(sku, n)| {
                    find(sku).map(|item| context::Noted {
                        quantity: Quantity::whole(*n),
                        item,
                    })
                })
                .collect::<Vec<_>>(),
            |_| None,
        ),
        TemplateKind::Quote => context::quote_context(
            c,
            &quote,
            SAMPLE_NUMBER,
            sample_date(),
            Some("amanhã (29/11/2026)"),
        ),
        TemplateKind::ApprovalPending | TemplateKind::Declined => {
            context::quote_ref_context(c, SAMPLE_NUMBER)
        }
        TemplateKind::Confirmation => context::confirmation_context(
            c,
            &quote,
            SAMPLE_NUMBER,
            "sábado, 28/11/2026",
            Some("DEPOSITO DEMO"),
        ),
        TemplateKind::Expired => context::expired_context(c, SAMPLE_NUMBER, sample_date()),
        TemplateKind::UnknownItem => context::unknown_item_context(
            c,
            "selador em galão",
            &["Selador acrílico 3,6 L", "Seladora para madeira 3,6 L"],
        ),
        TemplateKind::UnsupportedMedia => context::unsupported_media_context(c, "um áudio"),
        TemplateKind::PriceAnswer => {
            let items: Vec<_> = ["CIM-CP2-50", "CIM-CP2-25"]
                .iter()
                .filter_map(|s| find(s))
                .collect();
            context::price_answer_context(c, &items, &rules)
        }
        TemplateKind::MessageTooLong => context::message_too_long_context(c, 1000),
        TemplateKind::QuoteReplaced => context::quote_replaced_context(
            c,
            "ORC-2026-000122",
            Some((SAMPLE_NUMBER, Some(quote.total))),
        ),
    }
}
