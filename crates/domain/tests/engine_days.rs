//! The delivery day in the conversation (issue 12 item 4): "entrega dia 12" is an answer,
//! the day question comes with Hoje / Amanhã / Outro dia buttons, a day too far is asked
//! again politely, and the same question is never asked a third time: a person takes over.
//! "Today" is Thursday 2026-12-03.

use chrono::NaiveDate;
use domain::catalog::{parse_catalog_csv, CatalogItem, DEMO_CATALOG_CSV};
use domain::conversation::State;
use domain::engine::{
    advance, delivery_words, Context, Inbound, Memo, Reply, Step, TemplateSet, ASK_OTHER_DAY,
    BUTTON_DAY_OTHER, BUTTON_DAY_TOMORROW,
};
use domain::pricing::{demo_rules, known_bairros, StoreRules};
use domain::slots::{Delivery, Weekday};
use domain::understanding::{CatalogIndex, MissingSlot};

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

fn thursday() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 3).unwrap()
}

fn ctx(w: &World) -> Context<'_> {
    Context {
        index: &w.index,
        catalog: &w.catalog,
        rules: &w.rules,
        templates: &w.templates,
        store_name: "Depósito Exemplo",
        customer_name: Some("Maria"),
        today: thursday(),
        taken_over: false,
        auto_quotes_enabled: true,
        assistant: None,
    }
}

fn send(w: &World, s: &Step, inbound: Inbound) -> Step {
    advance(s.state, s.memo.clone(), &inbound, &ctx(w)).unwrap()
}

fn say(w: &World, s: &Step, text: &str) -> Step {
    send(w, s, Inbound::Text(text.into()))
}

fn tap(w: &World, s: &Step, id: &str, title: &str) -> Step {
    send(
        w,
        s,
        Inbound::Button {
            id: id.into(),
            title: title.into(),
        },
    )
}

/// The first message: everything but the day.
fn all_but_the_day(w: &World) -> Step {
    let s = advance(
        State::Inbound,
        Memo::default(),
        &Inbound::Text("10 sacos de cimento, entrega no Grajaú, pago no pix".into()),
        &ctx(w),
    )
    .unwrap();
    assert_eq!(s.state, State::CaptureMin);
    assert_eq!(s.memo.draft.missing(), vec![MissingSlot::Delivery]);
    s
}

fn day_question(s: &Step) -> &str {
    match s.replies.last() {
        Some(Reply::DayButtons(body)) => body,
        other => panic!("expected the day buttons, got {other:?}"),
    }
}

#[test]
fn the_day_is_asked_with_buttons() {
    let w = world();
    let s = all_but_the_day(&w);
    assert_eq!(s.replies.len(), 1);
    assert!(
        day_question(&s).contains("o dia da entrega"),
        "{:?}",
        s.replies
    );
}

#[test]
fn entrega_dia_12_is_an_answer_and_quotes() {
    let w = world();
    let s = say(&w, &all_but_the_day(&w), "entrega dia 12");
    assert_eq!(s.state, State::QuoteSent, "{:?}", s.replies);
    let plan = s.quote.as_ref().expect("a quote");
    assert_eq!(plan.delivery, Some(Delivery::DayOfMonth(12)));
    assert_eq!(
        delivery_words(plan.delivery.unwrap(), thursday()),
        "dia 12 (12/12/2026)"
    );
    assert_eq!(plan.priced.lines.len(), 1, "only the cement");
    let yes = say(&w, &s, "sim");
    assert_eq!(yes.state, State::Won);
}

#[test]
fn cement_for_the_12th_in_one_message() {
    let w = world();
    let s = advance(
        State::Inbound,
        Memo::default(),
        &Inbound::Text("10 sc de cimento p/ dia 12, Grajaú, pix".into()),
        &ctx(&w),
    )
    .unwrap();
    assert_eq!(s.state, State::QuoteSent, "{:?}", s.replies);
    assert!(
        s.memo.draft.unknown.is_empty(),
        "{:?}",
        s.memo.draft.unknown
    );
    assert_eq!(s.memo.draft.items.len(), 1);
    assert_eq!(s.memo.draft.items[0].sku, "CIM-CP2-50");
    assert_eq!(s.memo.draft.items[0].quantity.thousandths(), 10_000);
}

#[test]
fn a_tap_on_amanha_quotes_for_tomorrow() {
    let w = world();
    let s = tap(&w, &all_but_the_day(&w), BUTTON_DAY_TOMORROW, "Amanhã");
    assert_eq!(s.state, State::QuoteSent, "{:?}", s.replies);
    let plan = s.quote.as_ref().unwrap();
    assert_eq!(plan.delivery, Some(Delivery::Amanha));
    assert_eq!(
        delivery_words(Delivery::Amanha, thursday()),
        "amanhã (04/12/2026)"
    );
}

#[test]
fn outro_dia_asks_the_day_in_words() {
    let w = world();
    let other = tap(&w, &all_but_the_day(&w), BUTTON_DAY_OTHER, "Outro dia");
    assert_eq!(other.state, State::CaptureMin);
    assert_eq!(other.replies, vec![Reply::Text(ASK_OTHER_DAY.to_string())]);
    assert!(other.quote.is_none());
    let s = say(&w, &other, "quinta que vem");
    assert_eq!(s.state, State::QuoteSent);
    let d = s.quote.as_ref().unwrap().delivery.unwrap();
    assert_eq!(d, Delivery::NextWeekday(Weekday::Quinta));
    // Said on a Thursday: a week later, never today.
    assert_eq!(
        delivery_words(d, thursday()),
        "quinta-feira que vem (10/12/2026)"
    );
}

#[test]
fn the_same_question_twice_then_a_person() {
    let w = world();
    let first = all_but_the_day(&w);
    let second = say(&w, &first, "vou ver aqui");
    assert_eq!(second.state, State::CaptureMin);
    day_question(&second);
    let third = say(&w, &second, "certo");
    assert_eq!(third.state, State::WaitingPerson, "{:?}", third.replies);
    let why = third.to_person.as_deref().expect("a reason for staff");
    assert!(why.contains("o dia da entrega"), "{why}");
    assert!(
        !third
            .replies
            .iter()
            .any(|r| matches!(r, Reply::DayButtons(_))),
        "not asked a third time"
    );
}

#[test]
fn answering_other_things_is_not_the_same_question() {
    let w = world();
    let s1 = advance(
        State::Inbound,
        Memo::default(),
        &Inbound::Text("10 sacos de cimento".into()),
        &ctx(&w),
    )
    .unwrap();
    let s2 = say(&w, &s1, "no Grajaú");
    let s3 = say(&w, &s2, "pix");
    assert_eq!(s3.state, State::CaptureMin);
    day_question(&s3);
    let s4 = say(&w, &s3, "sábado");
    assert_eq!(s4.state, State::QuoteSent);
}

#[test]
fn a_day_too_far_or_impossible_is_asked_again_politely() {
    let w = world();
    // On 3 December, "12/11" is next November: too far (a slip, most likely).
    let s = say(&w, &all_but_the_day(&w), "dia 12/11");
    assert_eq!(s.state, State::CaptureMin);
    assert_eq!(s.memo.draft.delivery, None);
    let Reply::Text(refusal) = &s.replies[0] else {
        panic!("{:?}", s.replies)
    };
    assert!(refusal.contains("12/11/2027"), "{refusal}");
    assert!(refusal.contains("01/02/2027"), "{refusal}");
    day_question(&s);

    let s = say(&w, &all_but_the_day(&w), "31/02");
    let Reply::Text(refusal) = &s.replies[0] else {
        panic!("{:?}", s.replies)
    };
    assert!(refusal.contains("calendário"), "{refusal}");

    // A good day given before stays when a bad one follows.
    let first = advance(
        State::Inbound,
        Memo::default(),
        &Inbound::Text("10 sacos de cimento pra dia 10".into()),
        &ctx(&w),
    )
    .unwrap();
    assert_eq!(first.memo.draft.delivery, Some(Delivery::DayOfMonth(10)));
    let s = say(&w, &first, "no Grajaú, pix, ah e pode ser 12/11");
    assert_eq!(s.state, State::QuoteSent, "{:?}", s.replies);
    assert_eq!(s.quote.unwrap().delivery, Some(Delivery::DayOfMonth(10)));
}

#[test]
fn a_product_question_goes_without_the_day_buttons() {
    let w = world();
    let s = advance(
        State::Inbound,
        Memo::default(),
        &Inbound::Text("2 portas de madeira e 10 sacos de cimento no Grajaú, pix".into()),
        &ctx(&w),
    )
    .unwrap();
    assert_eq!(s.state, State::CaptureMin);
    let Some(Reply::Text(ask)) = s.replies.last() else {
        panic!("a text question: {:?}", s.replies)
    };
    assert!(ask.contains("porta"), "{ask}");
    // Confirmed: now the day is what is asked, with the buttons.
    let s = say(&w, &s, "isso");
    assert_eq!(s.state, State::CaptureMin);
    assert!(day_question(&s).contains("o dia da entrega"));
    assert!(
        !day_question(&s).contains("porta"),
        "asked once about the product"
    );
}
