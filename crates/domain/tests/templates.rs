//! Message templates: defaults, context builders, validation errors and sandbox attacks.

use chrono::NaiveDate;
use domain::catalog::{parse_catalog_csv, DEMO_CATALOG_CSV};
use domain::money::Quantity;
use domain::pricing::{demo_rules, price_quote, PricedQuote, QuoteRequest};
use domain::slots::{Location, PaymentMethod};
use domain::templates::*;
use serde_json::json;

const MARIA: Common<'static> = Common {
    store_name: "Depósito Exemplo",
    customer_name: Some("Maria"),
};

fn demo_example(payment: PaymentMethod, location: Location) -> PricedQuote {
    let cat = parse_catalog_csv(DEMO_CATALOG_CSV).unwrap();
    let find = |s: &str| cat.iter().find(|i| i.sku == s).unwrap();
    price_quote(
        &QuoteRequest {
            lines: vec![
                (find("CIM-CP2-50"), Quantity::whole(10)),
                (find("ARE-MED-M3"), Quantity::whole(2)),
            ],
            unknown: vec![],
            payment,
            location,
            llm_assisted: false,
            needs_human: false,
        },
        &demo_rules(),
    )
    .unwrap()
}

fn date(d: u32, m: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, d).unwrap()
}

fn refused(kind: TemplateKind, source: &str) -> TemplateError {
    match validate(kind, source) {
        Ok(()) => panic!("should be refused: {source}"),
        Err(e) => e,
    }
}

// ---------- kinds and defaults ----------

#[test]
fn kind_codes_round_trip() {
    for k in TemplateKind::ALL {
        assert_eq!(TemplateKind::from_code(k.code()), Some(k));
        assert_eq!(serde_json::to_value(k).unwrap(), json!(k.code()));
        assert!(!k.label_pt().is_empty());
    }
    assert_eq!(TemplateKind::from_code("QUOTE"), Some(TemplateKind::Quote));
    assert_eq!(TemplateKind::from_code("orcamento"), None);
}

#[test]
fn every_default_validates_and_renders_its_sample() {
    for k in TemplateKind::ALL {
        validate(k, default_source(k)).unwrap_or_else(|e| panic!("{}: {e}", k.code()));
        let text = render(k, default_source(k), &sample_context(k)).unwrap();
        assert!(!text.is_empty(), "{}", k.code());
        assert!(text.chars().count() <= MAX_OUTPUT_CHARS);
        assert!(!text.contains("{{") && !text.contains("{%"), "{}", k.code());
        assert_sentences_apart(&text);
        assert!(
            !text.contains("\n\n\n"),
            "{}: blank lines pile up",
            k.code()
        );
    }
}

#[test]
fn sample_contexts_hold_exactly_the_documented_variables() {
    for k in TemplateKind::ALL {
        let ctx = sample_context(k);
        let mut keys: Vec<&str> = ctx
            .as_object()
            .unwrap()
            .keys()
            .map(|s| s.as_str())
            .collect();
        let mut documented: Vec<&str> = variables(k).iter().map(|(n, _)| *n).collect();
        keys.sort();
        documented.sort();
        assert_eq!(keys, documented, "{}", k.code());
        for (_, desc) in variables(k) {
            assert!(!desc.is_empty());
        }
    }
}

#[test]
fn default_quote_shows_the_demo_example() {
    let q = demo_example(PaymentMethod::Pix, Location::Bairro("Grajaú".into()));
    let ctx = quote_context(&MARIA, &q, "ORC-2026-000123", date(30, 11), Some("amanhã"));
    let text = render(
        TemplateKind::Quote,
        default_source(TemplateKind::Quote),
        &ctx,
    )
    .unwrap();
    for expected in [
        "Maria, segue seu orçamento *ORC-2026-000123*",
        "• 10 sc — Cimento CP-II-E-32 50kg",
        "R$\u{a0}36,90/sc = *R$\u{a0}369,00*",
        "• 2 m³ — Areia média lavada (m³)",
        "Subtotal: R$\u{a0}659,00",
        "Desconto PIX (5%): -R$\u{a0}32,95",
        "Frete: R$\u{a0}35,00",
        "*Total: R$\u{a0}661,05* (PIX)",
        "Entrega: amanhã",
        "Válido até 30/11/2026.",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    // Each on its own line ("Entrega: amanhãVálido até…" was sent once).
    assert!(
        text.contains("Entrega: amanhã\nVálido até 30/11/2026."),
        "{text}"
    );
}

#[test]
fn default_quote_without_freight_discount_or_name() {
    let q = demo_example(PaymentMethod::Cartao, Location::Bairro("Tatuapé".into()));
    let c = Common {
        store_name: "Loja",
        customer_name: None,
    };
    let ctx = quote_context(&c, &q, "ORC-2026-000001", date(1, 12), None);
    let text = render(
        TemplateKind::Quote,
        default_source(TemplateKind::Quote),
        &ctx,
    )
    .unwrap();
    assert!(text.starts_with("Segue seu orçamento"), "{text}");
    assert!(text.contains("Frete: a confirmar"));
    assert!(!text.contains("Desconto"));
    assert!(!text.contains("Entrega:"));
    assert!(text.contains("*Total: R$\u{a0}659,00* (cartão)"));
}

#[test]
fn free_freight_reads_gratis() {
    let mut rules = demo_rules();
    rules.freight_rules[0].free_above = Some(domain::money::Centavos(50_000));
    let cat = parse_catalog_csv(DEMO_CATALOG_CSV).unwrap();
    let cim = cat.iter().find(|i| i.sku == "CIM-CP2-50").unwrap();
    let q = price_quote(
        &QuoteRequest {
            lines: vec![(cim, Quantity::whole(20))],
            unknown: vec![],
            payment: PaymentMethod::Pix,
            location: Location::Bairro("Grajaú".into()),
            llm_assisted: false,
            needs_human: false,
        },
        &rules,
    )
    .unwrap();
    let ctx = quote_context(&MARIA, &q, "ORC-1", date(1, 12), None);
    let text = render(
        TemplateKind::Quote,
        default_source(TemplateKind::Quote),
        &ctx,
    )
    .unwrap();
    assert!(text.contains("Frete: *grátis*"), "{text}");
}

#[test]
fn missing_info_names_unknown_products_and_asks_once() {
    let ctx = missing_info_context(
        &MARIA,
        &[MissingSlot::Payment, MissingSlot::Delivery],
        &["selador em galão".to_string()],
    );
    let src = default_source(TemplateKind::MissingInfo);
    let text = render(TemplateKind::MissingInfo, src, &ctx).unwrap();
    // Each sentence on its own line: "…o produto?Para fechar…" was shown in the demo.
    assert!(
        text.contains("Não encontrei 'selador em galão' — pode confirmar o produto?\nPara fechar"),
        "{text}"
    );
    assert!(text.contains(
        "só falta informar a forma de pagamento (PIX, cartão, boleto ou dinheiro) e o dia da entrega."
    ));
    assert_eq!(text.matches("falta").count(), 1);

    let only_missing = missing_info_context(&MARIA, &[MissingSlot::Location], &[]);
    let text = render(TemplateKind::MissingInfo, src, &only_missing).unwrap();
    assert_eq!(
        text,
        "Para fechar o orçamento, só falta informar o CEP ou o bairro da entrega (ou se vai retirar na loja). 🙂"
    );
}

#[test]
fn other_builders_fill_their_defaults() {
    let q = demo_example(PaymentMethod::Dinheiro, Location::Bairro("Grajaú".into()));
    let cases = [
        (
            TemplateKind::Confirmation,
            confirmation_context(&MARIA, &q, "ORC-9", "sexta-feira, 04/12/2026", None),
            "Entrega: *sexta-feira, 04/12/2026*",
        ),
        (
            TemplateKind::Expired,
            expired_context(&MARIA, "ORC-9", date(2, 12)),
            "venceu em 02/12/2026",
        ),
        (
            TemplateKind::ApprovalPending,
            quote_ref_context(&MARIA, "ORC-9"),
            "*ORC-9* está sendo conferido",
        ),
        (
            TemplateKind::Declined,
            quote_ref_context(&MARIA, "ORC-9"),
            "*ORC-9* foi cancelado",
        ),
        (
            TemplateKind::UnknownItem,
            unknown_item_context(&MARIA, "telha colonial", &[]),
            "Não encontrei 'telha colonial'",
        ),
        (
            TemplateKind::UnsupportedMedia,
            unsupported_media_context(&MARIA, "uma imagem"),
            "Recebi uma imagem",
        ),
        (
            TemplateKind::HumanHandoff,
            common_context(&MARIA),
            "um dos nossos atendentes",
        ),
        (
            TemplateKind::DataCapture,
            common_context(&MARIA),
            "Olá, Maria!",
        ),
        (
            TemplateKind::MessageTooLong,
            message_too_long_context(&MARIA, 2000),
            "máximo de 2.000 caracteres",
        ),
    ];
    for (kind, ctx, expected) in cases {
        let text = render(kind, default_source(kind), &ctx).unwrap();
        assert!(text.contains(expected), "{}: {text}", kind.code());
    }
    let confirmation = render(
        TemplateKind::Confirmation,
        default_source(TemplateKind::Confirmation),
        &confirmation_context(&MARIA, &q, "ORC-9", "hoje", None),
    )
    .unwrap();
    // 65900 − 1977 (3%) + 3500
    assert!(
        confirmation.contains("*R$\u{a0}674,23* (dinheiro)"),
        "{confirmation}"
    );
    assert!(
        !confirmation.contains("PIX"),
        "no PIX words when no code follows: {confirmation}"
    );
}

#[test]
fn confirmation_points_to_the_pix_code_that_follows() {
    let q = demo_example(PaymentMethod::Pix, Location::Bairro("Grajaú".into()));
    let text = render(
        TemplateKind::Confirmation,
        default_source(TemplateKind::Confirmation),
        &confirmation_context(&MARIA, &q, "ORC-9", "hoje", Some("DEPOSITO DEMO")),
    )
    .unwrap();
    assert!(
        text.contains("copie o código e cole no app do seu banco")
            && text.contains("recebedor: DEPOSITO DEMO"),
        "{text}"
    );
    assert!(
        !text.contains("\n\n"),
        "no blank line left by the condition: {text}"
    );
}

#[test]
fn price_answer_lists_catalog_prices_and_payment_discounts() {
    let cat = parse_catalog_csv(DEMO_CATALOG_CSV).unwrap();
    let items: Vec<_> = cat.iter().filter(|i| i.sku == "CIM-CP2-50").collect();
    let ctx = price_answer_context(&MARIA, &items, &demo_rules());
    let text = render(
        TemplateKind::PriceAnswer,
        default_source(TemplateKind::PriceAnswer),
        &ctx,
    )
    .unwrap();
    assert!(
        text.starts_with("*Cimento CP-II-E-32 50kg*: R$\u{a0}36,90 / sc"),
        "{text}"
    );
    assert!(text.contains("PIX 5%, dinheiro 3%"));
}

// ---------- what store owners may write ----------

#[test]
fn allowed_constructs_work() {
    let src = "{{ cliente|upper }} / {{ loja|default('x') }} / {{ itens|length }} itens\n\
               {% for item in itens %}{{ loop.index }}. {{ item.descricao|lower }}{% if not loop.last %}, {% endif %}{% endfor %}\n\
               {{ itens[0].sku }} {% if frete_gratis %}grátis{% elif frete %}{{ frete }}{% else %}?{% endif %}\n\
               {% if entrega is defined and entrega != '' %}entrega {{ entrega }}{% endif %}\n\
               {{- ' fim' -}}\n\
               {# comentário com {{ coisas }} #}{% raw %}{{ literal * 2 }}{% endraw %} {{ '}}' }}";
    let text = render(
        TemplateKind::Quote,
        src,
        &sample_context(TemplateKind::Quote),
    )
    .unwrap();
    assert!(
        text.starts_with("MARIA / Depósito Exemplo Materiais de Construção / 3 itens"),
        "{text}"
    );
    assert!(text.contains("1. cimento cp-ii-e-32 50kg, 2. areia"));
    assert!(text.contains("CIM-CP2-50 R$\u{a0}35,00"));
    assert!(text.contains("entrega amanhã (29/11/2026) fim"));
    assert!(text.ends_with("{{ literal * 2 }} }}"), "{text}");
}

#[test]
fn output_is_plain_text_never_escaped() {
    let c = Common {
        store_name: "Loja <b>&</b>",
        customer_name: Some("<script>alert(1)</script>"),
    };
    let text = render(
        TemplateKind::HumanHandoff,
        "{{ cliente }} {{ loja }}",
        &common_context(&c),
    )
    .unwrap();
    assert_eq!(text, "<script>alert(1)</script> Loja <b>&</b>");
}

// ---------- validation errors point at the line, in pt-BR ----------

#[test]
fn unknown_variable_is_refused_with_its_line() {
    let e = refused(
        TemplateKind::DataCapture,
        "Olá {{ cliente }}\ntudo bem?\n{{ clienteX }}",
    );
    assert_eq!(e.line, Some(3));
    assert!(
        e.message
            .starts_with("linha 3: variável desconhecida 'clienteX'"),
        "{}",
        e.message
    );
    assert_eq!(e.to_string(), e.message);
}

#[test]
fn unknown_variable_in_a_branch_not_taken_is_still_refused() {
    let e = refused(
        TemplateKind::Quote,
        "{% if false %}\n{{ senha_do_banco }}\n{% endif %}",
    );
    assert_eq!(e.line, Some(2));
    assert!(e.message.contains("'senha_do_banco'"));
}

#[test]
fn variables_of_another_kind_are_refused() {
    // `numero` exists for quotes, not for the first data-capture message.
    let e = refused(TemplateKind::DataCapture, "Olá\n{{ numero }}");
    assert!(
        e.message
            .starts_with("linha 2: variável desconhecida 'numero'"),
        "{}",
        e.message
    );
}

#[test]
fn unknown_field_of_a_documented_variable_is_refused() {
    let e = refused(
        TemplateKind::Quote,
        "{% for i in itens %}\n{{ i.senha }}\n{% endfor %}",
    );
    assert_eq!(e.line, Some(2), "{}", e.message);
    assert!(e.message.contains("inexistente"), "{}", e.message);
}

#[test]
fn syntax_errors_point_at_the_line() {
    let e = refused(TemplateKind::DataCapture, "Olá\n{{ cliente }\n");
    assert!(e.line.is_some(), "{}", e.message);
    assert!(e.message.starts_with("linha "), "{}", e.message);
    let e = refused(
        TemplateKind::DataCapture,
        "Olá\n\n{% if cliente %}\nsem fim",
    );
    assert!(e.message.starts_with("linha "), "{}", e.message);
    assert!(e.message.contains("sintaxe"), "{}", e.message);
}

#[test]
fn missing_variable_at_render_time_is_an_error_not_an_empty_string() {
    let e = render(
        TemplateKind::Quote,
        "Orçamento {{ numero }}",
        &json!({"loja": "x"}),
    )
    .unwrap_err();
    assert!(e.message.contains("inexistente"), "{}", e.message);
}

// ---------- attacks ----------

#[test]
fn python_style_introspection_is_refused() {
    for src in [
        "{{ ''.__class__ }}",
        "{{ cliente.__class__.__mro__ }}",
        "{{ loja._private }}",
    ] {
        let e = refused(TemplateKind::DataCapture, src);
        assert!(
            e.message.contains("atributo interno"),
            "{src}: {}",
            e.message
        );
        assert_eq!(e.line, Some(1));
    }
}

#[test]
fn huge_range_is_refused() {
    let e = refused(
        TemplateKind::DataCapture,
        "{% for i in range(999999999) %}x{% endfor %}",
    );
    assert!(
        e.message.contains("chamadas de função não são permitidas"),
        "{}",
        e.message
    );
}

#[test]
fn recursive_macros_are_refused() {
    let src = "{% macro f(n) %}{{ f(n) }}{% endmacro %}\n{{ f(1) }}";
    let e = refused(TemplateKind::DataCapture, src);
    assert!(
        e.message.contains("macros não são permitidas"),
        "{}",
        e.message
    );
    let e = refused(TemplateKind::DataCapture, "{% call f() %}x{% endcall %}");
    assert!(e.message.contains("macros"), "{}", e.message);
    let e = refused(
        TemplateKind::Quote,
        "{% for i in itens recursive %}{{ loop(i) }}{% endfor %}",
    );
    assert!(e.message.contains("recursivos"), "{}", e.message);
}

#[test]
fn a_one_megabyte_template_is_refused() {
    let src = "x".repeat(1024 * 1024);
    let e = refused(TemplateKind::DataCapture, &src);
    assert!(e.message.contains("grande demais"), "{}", e.message);
    assert!(validate(TemplateKind::DataCapture, &"x".repeat(MAX_SOURCE_BYTES + 1)).is_err());
}

#[test]
fn including_or_importing_other_templates_is_refused() {
    for src in [
        "{% include 'quote' %}",
        "{% import 'quote' as q %}",
        "{% from 'quote' import x %}",
        "{% extends 'quote' %}",
        "{%- include 'quote' -%}",
    ] {
        let e = refused(TemplateKind::DataCapture, src);
        assert!(
            e.message.contains("não é permitido incluir"),
            "{src}: {}",
            e.message
        );
    }
}

#[test]
fn string_multiplication_and_concatenation_are_refused() {
    for src in [
        "{{ 'x' * 100000000 }}",
        "{{ cliente ** 2 }}",
        "{{ cliente ~ cliente }}",
        "{{ cliente + cliente }}",
    ] {
        let e = refused(TemplateKind::DataCapture, src);
        assert!(e.message.contains("operador"), "{src}: {}", e.message);
    }
}

#[test]
fn literals_that_could_be_used_to_grow_values_are_refused() {
    for (src, word) in [
        ("{% for x in [cliente, cliente] %}{% endfor %}", "listas"),
        ("{% for x in (cliente, cliente) %}{% endfor %}", "vírgula"),
        ("{{ cliente, cliente }}", "vírgula"),
        ("{{ {'a': cliente} }}", "dicionários"),
    ] {
        let e = refused(TemplateKind::DataCapture, src);
        assert!(e.message.contains(word), "{src}: {}", e.message);
    }
}

#[test]
fn statements_other_than_if_and_for_are_refused() {
    for src in [
        "{% set x = cliente %}",
        "{% with x = 1 %}{% endwith %}",
        "{% filter upper %}x{% endfilter %}",
        "{% block b %}{% endblock %}",
        "{% autoescape true %}{% endautoescape %}",
    ] {
        let e = refused(TemplateKind::DataCapture, src);
        assert!(
            e.message.contains("não é permitido"),
            "{src}: {}",
            e.message
        );
    }
}

#[test]
fn filters_tests_and_calls_outside_the_whitelist_are_refused() {
    for (src, word) in [
        ("{{ cliente|replace('a', 'b') }}", "filtro 'replace'"),
        ("{{ cliente|attr('x') }}", "filtro 'attr'"),
        ("{{ cliente|indent(100000000) }}", "filtro 'indent'"),
        ("{{ cliente|tojson }}", "filtro 'tojson'"),
        (
            "{% if cliente is sameas loja %}{% endif %}",
            "teste 'sameas'",
        ),
        ("{{ cliente.upper() }}", "chamadas de função"),
        ("{{ namespace() }}", "chamadas de função"),
        ("{{ debug() }}", "chamadas de função"),
        ("{{ lipsum }}", "variável desconhecida"),
    ] {
        let e = refused(TemplateKind::DataCapture, src);
        assert!(e.message.contains(word), "{src}: {}", e.message);
    }
}

#[test]
fn long_loops_run_out_of_fuel() {
    // 40 characters in the sample store name: 40³ = 64.000 iterations.
    let src = "{% for a in loja %}{% for b in loja %}{% for c in loja %}{% endfor %}{% endfor %}{% endfor %}";
    let e = refused(TemplateKind::DataCapture, src);
    assert!(e.message.contains("passos demais"), "{}", e.message);
}

#[test]
fn output_longer_than_whatsapp_allows_is_stopped() {
    // Stopped while writing: 40 × 40 × 40 bytes and more.
    let src = "{% for a in loja %}{% for b in loja %}{{ loja }}{% endfor %}{% endfor %}";
    let e = refused(TemplateKind::DataCapture, src);
    assert!(e.message.contains("limite do WhatsApp"), "{}", e.message);
    // Just over the character limit, found after rendering.
    let e = refused(TemplateKind::DataCapture, &"a".repeat(MAX_OUTPUT_CHARS + 1));
    assert!(e.message.contains("4097 caracteres"), "{}", e.message);
    assert!(validate(TemplateKind::DataCapture, &"á".repeat(MAX_OUTPUT_CHARS)).is_ok());
}

#[test]
fn join_cannot_build_huge_strings() {
    let src = "{{ loja|join(loja|join(loja|join(loja))) }}";
    let e = refused(TemplateKind::DataCapture, src);
    assert!(e.message.contains("grande demais"), "{}", e.message);
}

/// Renders with the sample data of `DataCapture` (its `cliente` is a name).
fn sample(source: &str) -> Result<String, TemplateError> {
    render(
        TemplateKind::DataCapture,
        source,
        &sample_context(TemplateKind::DataCapture),
    )
}

/// Refused with a message naming the limit, at line 1.
fn refused_naming(source: &str, limit: usize, what: &str) {
    let e = sample(source).expect_err("over the limit");
    assert!(
        e.message.contains(what) && e.message.contains(&format!("máximo {limit}")),
        "{}",
        e.message
    );
    assert_eq!(e.line, Some(1), "{}", e.message);
    assert_eq!(validate(TemplateKind::DataCapture, source).unwrap_err(), e);
}

/// The reported attack: `{{ ------…1 }}` overflowed the parser's stack and aborted the
/// process (every store's web and worker). Now a pt-BR error naming the limit.
#[test]
fn thousands_of_unary_minus_are_an_error_not_a_crash() {
    for n in [MAX_SOURCE_BYTES - "{{ 1 }}".len(), 6_000] {
        let src = format!("{{{{ {}1 }}}}", "-".repeat(n));
        assert!(src.len() <= MAX_SOURCE_BYTES);
        refused_naming(&src, MAX_UNARY_OPS, "operadores '-' e 'not' demais");
    }
    let nots = format!("{{{{ {}cliente }}}}", "not ".repeat(4_000));
    refused_naming(&nots, MAX_UNARY_OPS, "operadores '-' e 'not' demais");
}

#[test]
fn deep_or_long_constructs_of_every_kind_are_errors_not_crashes() {
    let fill = |unit: &str, head: &str, tail: &str| {
        let n = (MAX_SOURCE_BYTES - head.len() - tail.len()) / unit.len();
        format!("{head}{}{tail}", unit.repeat(n))
    };
    let parens = format!("{{{{ {}cliente{} }}}}", "(".repeat(5000), ")".repeat(5000));
    let lists = format!("{{{{ {}1{} }}}}", "[".repeat(8000), "]".repeat(8000));
    let cases: Vec<(String, &str)> = vec![
        (parens, "aninhados demais"),
        (lists, "aninhados demais"),
        (
            format!("{{{{ {}1{} }}}}", "-(".repeat(4000), ")".repeat(4000)),
            "aninhados demais",
        ),
        (
            format!("{{{{ {}0{} }}}}", "cliente[".repeat(1500), "]".repeat(1500)),
            "aninhados demais",
        ),
        (
            format!(
                "{{{{ {}cliente{} }}}}",
                "cliente|default(".repeat(700),
                ")".repeat(700)
            ),
            "aninhados demais",
        ),
        (fill("|upper", "{{ cliente", " }}"), "encadeados demais"),
        (fill(".x", "{{ cliente", " }}"), "encadeados demais"),
        (fill("[0]", "{{ cliente", " }}"), "encadeados demais"),
        (
            fill(" is defined", "{{ cliente", " }}"),
            "encadeados demais",
        ),
        (fill("-1", "{{ 1", " }}"), "longa demais"),
        (fill(" and cliente", "{{ cliente", " }}"), "longa demais"),
        (fill("==1", "{{ 1", " }}"), "longa demais"),
        (
            fill(" if cliente else cliente", "{{ cliente", " }}"),
            "longa demais",
        ),
        (
            fill(" or cliente", "{% if cliente", " %}x{% endif %}"),
            "longa demais",
        ),
        (
            format!(
                "{}x{}",
                "{% if cliente %}".repeat(200),
                "{% endif %}".repeat(200)
            ),
            "blocos if/for aninhados demais",
        ),
        (
            format!(
                "{}x{}",
                "{% for c in cliente %}".repeat(200),
                "{% endfor %}".repeat(200)
            ),
            "blocos if/for aninhados demais",
        ),
        (
            fill("{% elif cliente %}", "{% if cliente %}", "{% endif %}"),
            "blocos if/for aninhados demais",
        ),
    ];
    for (src, what) in &cases {
        assert!(src.len() <= MAX_SOURCE_BYTES, "{}", src.len());
        let e = sample(src).expect_err(what);
        assert!(e.message.contains(what), "{what}: {}", e.message);
    }
}

/// Each limit: its maximum renders (and gives the same text as the plain form), one more is
/// refused with a message naming the limit.
#[test]
fn each_nesting_limit_accepts_its_maximum_and_refuses_one_more() {
    let name = sample("{{ cliente }}").unwrap();
    assert!(!name.is_empty());
    // Unary operators: an even number of `-` and of `not` changes nothing.
    let neg = |n: usize| format!("{{{{ {}1 }}}}", "-".repeat(n));
    assert_eq!(sample(&neg(MAX_UNARY_OPS)).unwrap(), "1");
    refused_naming(&neg(MAX_UNARY_OPS + 1), MAX_UNARY_OPS, "'-' e 'not'");
    let not = |n: usize| format!("{{% if {}cliente %}}sim{{% endif %}}", "not ".repeat(n));
    assert_eq!(sample(&not(MAX_UNARY_OPS)).unwrap(), "sim");
    refused_naming(&not(MAX_UNARY_OPS + 1), MAX_UNARY_OPS, "'-' e 'not'");
    // `is not` and `not in` are not unary.
    let tests = format!(
        "{{% if {}cliente is not none and 'x' not in cliente %}}sim{{% endif %}}",
        "not not ".repeat(MAX_UNARY_OPS / 2)
    );
    assert_eq!(sample(&tests).unwrap(), "sim");
    // Parentheses and brackets.
    let parens = |n: usize| format!("{{{{ {}cliente{} }}}}", "(".repeat(n), ")".repeat(n));
    assert_eq!(sample(&parens(MAX_BRACKET_DEPTH)).unwrap(), name);
    refused_naming(
        &parens(MAX_BRACKET_DEPTH + 1),
        MAX_BRACKET_DEPTH,
        "aninhados demais",
    );
    // Brackets and parentheses count together.
    let index = |n: usize| {
        format!(
            "{{{{ cliente[{}0{}] }}}}",
            "(".repeat(n - 1),
            ")".repeat(n - 1)
        )
    };
    let initial = name.chars().next().unwrap().to_string();
    assert_eq!(sample(&index(MAX_BRACKET_DEPTH)).unwrap(), initial);
    refused_naming(
        &index(MAX_BRACKET_DEPTH + 1),
        MAX_BRACKET_DEPTH,
        "aninhados demais",
    );
    // Chains of filters, fields, indexes and tests.
    let upper = |n: usize| format!("{{{{ cliente{} }}}}", "|upper".repeat(n));
    assert_eq!(sample(&upper(MAX_CHAIN)).unwrap(), name.to_uppercase());
    refused_naming(&upper(MAX_CHAIN + 1), MAX_CHAIN, "encadeados demais");
    let first = |n: usize| format!("{{{{ cliente{} }}}}", "[0]".repeat(n));
    assert_eq!(sample(&first(MAX_CHAIN)).unwrap(), initial);
    refused_naming(&first(MAX_CHAIN + 1), MAX_CHAIN, "encadeados demais");
    // Tokens of one expression: `not` + 64 names + 63 `or` = 128; 65 names + 64 `or` = 129.
    let or = |n: usize| vec!["cliente"; n].join(" or ");
    let at_max = format!("{{% if not {} %}}sim{{% endif %}}", or(64));
    assert_eq!(sample(&at_max).unwrap(), "sim");
    let over = format!("{{{{ {} }}}}", or(65));
    refused_naming(
        &over,
        MAX_EXPR_TOKENS,
        "expressão longa demais: 129 elementos",
    );
    // Blocks, with each `elif` counting one level.
    let ifs = |n: usize| {
        format!(
            "{}sim{}",
            "{% if cliente %}".repeat(n),
            "{% endif %}".repeat(n)
        )
    };
    assert_eq!(sample(&ifs(MAX_BLOCK_DEPTH)).unwrap(), "sim");
    refused_naming(&ifs(MAX_BLOCK_DEPTH + 1), MAX_BLOCK_DEPTH, "blocos if/for");
    let elifs = |n: usize| {
        format!(
            "{{% if not cliente %}}x{}{{% else %}}sim{{% endif %}}",
            "{% elif not cliente %}x".repeat(n)
        )
    };
    assert_eq!(sample(&elifs(MAX_BLOCK_DEPTH - 1)).unwrap(), "sim");
    refused_naming(&elifs(MAX_BLOCK_DEPTH), MAX_BLOCK_DEPTH, "blocos if/for");
    // Closed blocks free their levels: many blocks in a row are fine.
    let row = "{% if cliente %}a{% endif %}".repeat(MAX_BLOCK_DEPTH * 4);
    assert_eq!(sample(&row).unwrap(), "a".repeat(MAX_BLOCK_DEPTH * 4));
}

/// The worker renders stored templates; one edited behind the editor's back (straight in the
/// database) falls back to the default message instead of crashing the worker.
#[test]
fn a_malicious_stored_template_falls_back_to_the_default() {
    let mut set = domain::engine::TemplateSet::new();
    set.insert(
        TemplateKind::DataCapture,
        format!("{{{{ {}1 }}}}", "-".repeat(16_000)),
    );
    let data = sample_context(TemplateKind::DataCapture);
    let text = domain::engine::render_with(&set, TemplateKind::DataCapture, &data);
    assert_eq!(
        text,
        render(
            TemplateKind::DataCapture,
            default_source(TemplateKind::DataCapture),
            &data
        )
        .unwrap()
    );
}

#[test]
fn the_store_example_of_the_docs_validates() {
    let src = "Olá{% if cliente %} {{ cliente }}{% endif %}! Orçamento *{{ numero }}*:\n\
{% for item in itens %}\n\
{{ loop.index }}. {{ item.quantidade }} {{ item.unidade }} {{ item.descricao }}: {{ item.total }}\n\
{% endfor %}\n\
{% if frete_gratis %}Frete grátis!{% elif frete %}Frete: {{ frete }}{% endif %}\n\
\n\
*Total {{ total }}* ({{ forma_pagamento }}), válido até {{ validade }}.\n";
    validate(TemplateKind::Quote, src).unwrap();
    let text = render(
        TemplateKind::Quote,
        src,
        &sample_context(TemplateKind::Quote),
    )
    .unwrap();
    assert!(
        text.contains("1. 10 sc Cimento CP-II-E-32 50kg: R$\u{a0}369,00\n2. 2 m³"),
        "{text}"
    );
    assert!(
        text.ends_with("*Total R$\u{a0}2.276,05* (PIX), válido até 30/11/2026."),
        "{text}"
    );
}

#[test]
fn raw_blocks_are_text_even_with_unbalanced_quotes() {
    let src = "{% raw %}{{ it's * 2 }}{% endraw %} {{ cliente }}";
    let text = render(
        TemplateKind::DataCapture,
        src,
        &sample_context(TemplateKind::DataCapture),
    )
    .unwrap();
    assert_eq!(text, "{{ it's * 2 }} Maria");
    // After the raw block the checks apply again.
    let e = refused(
        TemplateKind::DataCapture,
        "{% raw %}x{% endraw %}\n{{ cliente * 2 }}",
    );
    assert_eq!(e.line, Some(2));
}

#[test]
fn a_forty_line_quote_fits_in_one_whatsapp_message() {
    let cat = parse_catalog_csv(DEMO_CATALOG_CSV).unwrap();
    let lines: Vec<_> = cat
        .iter()
        .take(40)
        .map(|i| (i, Quantity::whole(3)))
        .collect();
    let q = price_quote(
        &QuoteRequest {
            lines,
            unknown: vec![],
            payment: PaymentMethod::Pix,
            location: Location::Bairro("Grajaú".into()),
            llm_assisted: false,
            needs_human: false,
        },
        &demo_rules(),
    )
    .unwrap();
    let ctx = quote_context(&MARIA, &q, "ORC-2026-000123", date(30, 11), Some("amanhã"));
    let text = render(
        TemplateKind::Quote,
        default_source(TemplateKind::Quote),
        &ctx,
    )
    .unwrap();
    assert_eq!(text.matches("\n• ").count(), 40);
    assert!(text.chars().count() <= MAX_OUTPUT_CHARS);
}

/// A long list (every demo product, twice over with long names) is more than one WhatsApp
/// text: the quote still renders — up to four texts' worth, which the worker splits at line
/// boundaries before the buttons — instead of failing into the generic fallback.
#[test]
fn a_quote_longer_than_one_message_still_renders() {
    let mut csv = String::from("sku,name,unit,price_cents,cost_cents,weight_kg,aliases\n");
    for i in 0..140 {
        csv.push_str(&format!(
            "SKU-{i},Produto de teste com um nome bem comprido número {i},un,1990,1500,1,produto {i}\n"
        ));
    }
    let cat = parse_catalog_csv(&csv).unwrap();
    let lines: Vec<_> = cat.iter().map(|i| (i, Quantity::whole(2))).collect();
    let q = price_quote(
        &QuoteRequest {
            lines,
            unknown: vec![],
            payment: PaymentMethod::Pix,
            location: Location::Bairro("Grajaú".into()),
            llm_assisted: false,
            needs_human: false,
        },
        &demo_rules(),
    )
    .unwrap();
    let ctx = quote_context(&MARIA, &q, "ORC-2026-000124", date(30, 11), Some("amanhã"));
    let text = render(
        TemplateKind::Quote,
        default_source(TemplateKind::Quote),
        &ctx,
    )
    .unwrap();
    let chars = text.chars().count();
    assert_eq!(text.matches("\n• ").count(), 140);
    assert!(chars > MAX_OUTPUT_CHARS, "{chars}: not a long quote");
    assert!(chars <= TemplateKind::Quote.max_output_chars());
    // Every other kind is still held to one message.
    let e = refused(TemplateKind::DataCapture, &"a".repeat(MAX_OUTPUT_CHARS + 1));
    assert!(e.message.contains("máximo 4.096"), "{}", e.message);
}

/// A sentence that runs into the next ("…amanhã*.Obrigado", "…produto?Para") is what a
/// conditional at a line's end does under trim_blocks: it eats the line break.
fn assert_sentences_apart(text: &str) {
    let chars: Vec<char> = text.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if matches!(c, '.' | '?' | '!') {
            let next = chars[i + 1..].iter().find(|c| **c != '*');
            assert!(
                !next.is_some_and(|n| n.is_uppercase()),
                "two sentences run together in:\n{text}"
            );
        }
    }
}

/// The defaults' conditionals keep every sentence on its line whichever branch renders:
/// a confirmation without PIX or as a pickup, several products left out of a quote, several
/// unknown products in a question (each was seen run together in the demo or by reading).
#[test]
fn conditional_lines_keep_their_line_breaks() {
    let q = demo_example(PaymentMethod::Pix, Location::Bairro("Grajaú".into()));
    for (pix, pickup) in [
        (None, false),
        (Some("DEPOSITO DEMO"), false),
        (None, true),
        (Some("X"), true),
    ] {
        let mut ctx = confirmation_context(&MARIA, &q, "ORC-9", "amanhã (04/12/2026)", pix);
        ctx["retirada"] = json!(pickup);
        let text = render(
            TemplateKind::Confirmation,
            default_source(TemplateKind::Confirmation),
            &ctx,
        )
        .unwrap();
        assert_sentences_apart(&text);
        assert!(text.contains(".\nObrigado pela preferência"), "{text}");
    }
    let mut ctx = sample_context(TemplateKind::Quote);
    ctx["nao_incluidos"] = json!([
        { "produto": "porta", "sugestao": "" },
        { "produto": "tinta pva", "sugestao": "Tinta látex PVA branco 18L" },
        { "produto": "janela", "sugestao": "" },
    ]);
    let text = render(
        TemplateKind::Quote,
        default_source(TemplateKind::Quote),
        &ctx,
    )
    .unwrap();
    assert_sentences_apart(&text);
    assert!(
        text.contains("• Não incluído: porta — vamos verificar.\n• Não incluído: tinta pva"),
        "{text}"
    );
    let mut ctx = sample_context(TemplateKind::MissingInfo);
    ctx["nao_encontrados"] = json!([
        { "produto": "porta", "sugestao": "" },
        { "produto": "tinta pva", "sugestao": "Tinta látex PVA branco 18L" },
    ]);
    let text = render(
        TemplateKind::MissingInfo,
        default_source(TemplateKind::MissingInfo),
        &ctx,
    )
    .unwrap();
    assert_sentences_apart(&text);
    assert!(
        text.contains("produto?\nNão encontrei 'tinta pva'"),
        "{text}"
    );
}

/// "Aqui é da *Depósito Demo*" guessed the article of the store's name (do Depósito, da Casa,
/// do Armazém…); the defaults never put one right before it — "da loja *{{ loja }}*" or none.
#[test]
fn no_default_guesses_the_article_of_the_store_name() {
    for kind in TemplateKind::ALL {
        let src = domain::templates::default_source(kind);
        for article in ["da ", "do ", "na ", "no ", "a ", "o "] {
            for name in ["*{{ loja }}*", "{{ loja }}"] {
                let guessed = format!(" {article}{name}");
                assert!(!src.contains(&guessed), "{kind:?} writes {guessed:?}");
            }
        }
    }
}
