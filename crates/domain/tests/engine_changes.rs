//! Changes after a quote and products the catalog lacks, through the engine (issue 12 items
//! 6 and 7, issue 13 group 4): "Alterar" asks what to change and quotes again only once the
//! change arrives; a correction is said back before the new quote; unknown products are
//! listed in the quote with the nearest catalog item.

use chrono::NaiveDate;
use domain::catalog::{parse_catalog_csv, CatalogItem, DEMO_CATALOG_CSV};
use domain::conversation::State;
use domain::engine::{
    advance, quote_button_id, quote_message, Context, Inbound, Memo, QuoteAction, QuoteOutcome,
    Reply, Step, TemplateSet, WHAT_TO_CHANGE,
};
use domain::pricing::{demo_rules, known_bairros, ApprovalReason, StoreRules};
use domain::templates::Common;
use domain::understanding::CatalogIndex;

struct World {
    catalog: Vec<CatalogItem>,
    index: CatalogIndex,
    rules: StoreRules,
    templates: TemplateSet,
}

fn world() -> World {
    let catalog = parse_catalog_csv(DEMO_CATALOG_CSV).unwrap();
    let rules = demo_rules();
    let index = CatalogIndex::build(&catalog, &known_bairros(&rules));
    World {
        catalog,
        index,
        rules,
        templates: TemplateSet::new(),
    }
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 28).unwrap()
}

fn ctx(w: &World) -> Context<'_> {
    Context {
        index: &w.index,
        catalog: &w.catalog,
        rules: &w.rules,
        templates: &w.templates,
        store_name: "Depósito Exemplo",
        customer_name: Some("Maria"),
        today: today(),
        taken_over: false,
        auto_quotes_enabled: true,
        assistant: None,
    }
}

fn send(w: &World, state: State, memo: Memo, inbound: Inbound) -> Step {
    advance(state, memo, &inbound, &ctx(w)).unwrap()
}

fn say(w: &World, state: State, memo: Memo, text: &str) -> Step {
    send(w, state, memo, Inbound::Text(text.into()))
}

fn texts(step: &Step) -> Vec<String> {
    step.replies
        .iter()
        .map(|r| match r {
            Reply::Text(t) | Reply::QuoteButtons(t) | Reply::DayButtons(t) => t.clone(),
            Reply::ApprovalPending => "[aguardando aprovação]".into(),
            Reply::Choice(q) => q.body.clone(),
        })
        .collect()
}

fn skus(step: &Step) -> Vec<String> {
    step.quote
        .as_ref()
        .map(|q| q.priced.lines.iter().map(|l| l.sku.clone()).collect())
        .unwrap_or_default()
}

fn rendered(w: &World, step: &Step) -> String {
    let plan = step.quote.as_ref().expect("a quote was planned");
    quote_message(
        &w.templates,
        &Common {
            store_name: "Depósito Exemplo",
            customer_name: Some("Maria"),
        },
        &plan.priced,
        "ORC-2026-000009",
        today(),
        plan.delivery,
        today(),
    )
}

const ORDER: &str = "10 sacos de cimento e 2 metros de areia média, entrega amanhã no Grajaú, pix";

fn quoted(w: &World) -> Step {
    let s = say(w, State::Inbound, Memo::default(), ORDER);
    assert_eq!(s.state, State::QuoteSent, "{:?}", texts(&s));
    s
}

#[test]
fn alterar_asks_what_to_change_then_quotes_the_change() {
    let w = world();
    let sent = quoted(&w);
    let tap = send(
        &w,
        sent.state,
        sent.memo.clone(),
        Inbound::Button {
            id: quote_button_id(QuoteAction::Change, "ORC-2026-000001"),
            title: "Alterar".into(),
        },
    );
    assert!(
        tap.quote.is_none(),
        "no new quote before the change arrives"
    );
    assert_eq!(tap.quote_outcome, None, "the quote still holds");
    assert_eq!(texts(&tap), vec![WHAT_TO_CHANGE.to_string()]);
    assert_eq!(tap.state, State::WaitingReply);

    let change = say(&w, tap.state, tap.memo, "tira a areia");
    assert_eq!(change.quote_outcome, Some(QuoteOutcome::Superseded));
    assert_eq!(skus(&change), vec!["CIM-CP2-50"]);
    assert_eq!(change.state, State::QuoteSent);
    let said = texts(&change);
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(
        said[0].starts_with("Certo, tirei *Areia média lavada (m³)*"),
        "{said:?}"
    );

    // Typed instead of tapped, the same question.
    let typed = say(&w, sent.state, sent.memo, "quero alterar o pedido");
    assert!(typed.quote.is_none());
    assert_eq!(texts(&typed), vec![WHAT_TO_CHANGE.to_string()]);
}

#[test]
fn each_correction_is_said_back_before_the_new_quote() {
    let w = world();
    let sent = quoted(&w);
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "esquece o cimento",
            "Certo, tirei *Cimento CP-II-E-32 50kg*.",
            &["ARE-MED-M3"],
        ),
        (
            "mais 5 sacos de cimento",
            "Certo, *Cimento CP-II-E-32 50kg* agora é 15\u{a0}sc.",
            &["CIM-CP2-50", "ARE-MED-M3"],
        ),
        (
            "troca a areia média pela grossa",
            "Certo, troquei *Areia média lavada (m³)* por 2\u{a0}m³ de *Areia grossa (m³)*.",
            &["CIM-CP2-50", "ARE-GRO-M3"],
        ),
        (
            "pode ser no cartão",
            "Certo, o pagamento agora é cartão.",
            &["CIM-CP2-50", "ARE-MED-M3"],
        ),
    ];
    for (msg, note, want) in cases {
        let s = say(&w, sent.state, sent.memo.clone(), msg);
        assert_eq!(s.quote_outcome, Some(QuoteOutcome::Superseded), "{msg}");
        assert_eq!(texts(&s).first().map(String::as_str), Some(*note), "{msg}");
        assert_eq!(skus(&s), *want, "{msg}");
    }
}

#[test]
fn unknown_products_are_listed_in_the_quote_with_the_nearest_item() {
    let w = world();
    let s1 = say(
        &w,
        State::Inbound,
        Memo::default(),
        "2 portas de madeira, 1 galão de tinta pva e 5 sacos de cimento, entrega amanhã no Grajaú, pix",
    );
    assert_eq!(s1.state, State::CaptureMin);
    let ask = texts(&s1).join("\n");
    assert!(
        ask.contains("Não encontrei 'portas de madeira' — pode confirmar"),
        "{ask}"
    );
    assert!(
        ask.contains("você quis dizer *Tinta látex PVA branco 18L*?"),
        "{ask}"
    );

    let s2 = say(&w, s1.state, s1.memo, "isso mesmo");
    assert_eq!(s2.state, State::HumanApproval);
    let plan = s2.quote.as_ref().unwrap();
    assert!(plan
        .priced
        .approval_reasons
        .contains(&ApprovalReason::UnknownItem));
    assert_eq!(
        plan.priced.suggestion_for("tinta pva"),
        Some("Tinta látex PVA branco 18L")
    );
    let text = rendered(&w, &s2);
    assert!(
        text.contains("Não incluído: portas de madeira — vamos verificar."),
        "{text}"
    );
    assert!(
        text.contains(
            "Não incluído: tinta pva — vamos verificar.\n   Você quis dizer *Tinta látex PVA branco 18L*?"
        ),
        "{text}"
    );

    // "tira a porta" leaves the unknown out of the next quote, and says so.
    let s3 = say(&w, s2.state, s2.memo, "tira a porta");
    let plan = s3.quote.as_ref().expect("re-quoted");
    assert_eq!(plan.priced.unknown, vec!["tinta pva".to_string()]);
    assert!(
        texts(&s3)[0].contains("tirei *portas de madeira*"),
        "{:?}",
        texts(&s3)
    );
}

#[test]
fn a_package_the_store_does_not_sell_is_asked_about_and_a_yes_takes_the_offer() {
    let w = world();
    let s = say(
        &w,
        State::Inbound,
        Memo::default(),
        "1 galão de selador e 5 sacos de cimento, entrega amanhã no Grajaú, pix",
    );
    assert_eq!(s.state, State::CaptureMin, "{:?}", texts(&s));
    let asked = texts(&s).join("\n");
    assert!(asked.contains("Selador acrílico 18L"), "{asked}");
    assert_eq!(s.memo.suggested.len(), 1, "{:?}", s.memo.suggested);
    // "pode ser": the offered lata takes the galão's place and the quote goes out.
    let s = say(&w, s.state, s.memo, "pode ser");
    assert_eq!(s.state, State::QuoteSent, "{:?}", texts(&s));
    let text = rendered(&w, &s);
    assert!(text.contains("1 lata — Selador acrílico 18L"), "{text}");
    assert!(
        s.memo.draft.unknown.is_empty(),
        "{:?}",
        s.memo.draft.unknown
    );
}

#[test]
fn a_no_to_the_offer_keeps_the_product_unknown() {
    let w = world();
    let s = say(
        &w,
        State::Inbound,
        Memo::default(),
        "1 galão de selador e 5 sacos de cimento, entrega amanhã no Grajaú, pix",
    );
    let s = say(&w, s.state, s.memo, "nao");
    assert!(
        !s.memo.draft.items.iter().any(|i| i.sku == "SEL-18"),
        "{:?}",
        s.memo.draft.items
    );
}

/// Two things taken out in one message are said once: "tirei *A* e *B*" (it used to be
/// "tirei *A* e tirei *B*", found walking the demo).
#[test]
fn several_removals_are_said_in_one_phrase() {
    let w = world();
    let sent = say(
        &w,
        State::Inbound,
        Memo::default(),
        "10 sacos de cimento, 2 metros de areia e 500 tijolos, entrega amanhã no grajau, pix",
    );
    assert_eq!(sent.state, State::QuoteSent, "{:?}", texts(&sent));
    let change = say(&w, sent.state, sent.memo, "tira o cimento e a areia");
    let said = texts(&change);
    assert!(
        said[0].starts_with("Certo, tirei *Cimento CP-II-E-32 50kg* e *Areia média lavada (m³)*."),
        "{said:?}"
    );
}
