//! Table-driven tests of the whole reading of messages and conversations, with the demo
//! catalog. All examples are written for these tests (not copied from the eval set).

use super::*;
use crate::catalog::{parse_catalog_csv, DEMO_CATALOG_CSV};

fn index() -> CatalogIndex {
    let items = parse_catalog_csv(DEMO_CATALOG_CSV).expect("demo catalog");
    CatalogIndex::build(
        &items,
        &["Jardim Ângela".to_string(), "Vila Sabiá".to_string()],
    )
}

/// Final draft items of a conversation as ("SKU", "quantity") pairs, sorted.
fn items_after(turns: &[&str]) -> Vec<(String, String)> {
    let out = parse_conversation(turns, &index());
    let mut v: Vec<(String, String)> = out
        .items
        .iter()
        .map(|i| (i.sku.clone(), i.quantity.to_string()))
        .collect();
    v.sort();
    v
}

/// (turns, expected items)
type Turns<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)]);
/// (message, expected items, number of unknown products)
type WithUnknownCount<'a> = (&'a str, &'a [(&'a str, &'a str)], usize);
/// (message, expected items, unknown texts)
type WithUnknowns<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a [&'a str]);

fn pairs(want: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = want
        .iter()
        .map(|(s, q)| (s.to_string(), q.to_string()))
        .collect();
    v.sort();
    v
}

#[test]
fn quantities_before_and_after_the_product() {
    let cases: &[(&str, &[(&str, &str)])] = &[
        ("manda 7 sacos de cimento", &[("CIM-CP2-50", "7")]),
        ("cimento cp4 x 12", &[("CIM-CP4-50", "12")]),
        ("- Areia grossa: 4m³", &[("ARE-GRO-M3", "4")]),
        ("gesso 3 sacos", &[("GES-40", "3")]),
        ("Sarrafo - 9", &[("SAR-7", "9")]),
        (
            "preciso de 4 m3 de areia e 2 de brita",
            &[("ARE-MED-M3", "4"), ("BRI-1-M3", "2")],
        ),
        ("vergalhão 3/8 7 barras", &[("VER-38", "7")]),
        (
            "2 sacos de cimento de 25kg e 3 de 50",
            &[("CIM-CP2-25", "2"), ("CIM-CP2-50", "3")],
        ),
        (
            "3 tubos de esgoto 50, 2 de 40 e 1 de 100",
            &[("TUB-E50", "3"), ("TUB-E40", "2"), ("TUB-E100", "1")],
        ),
    ];
    for (msg, want) in cases {
        assert_eq!(items_after(&[msg]), pairs(want), "{msg}");
    }
}

#[test]
fn number_words_units_and_conversions() {
    let cases: &[(&str, &[(&str, &str)])] = &[
        ("quero doze sacos de cal", &[("CAL-CH3-20", "12")]),
        ("meia dúzia de escoras", &[("ESC-3", "6")]),
        ("meio metro de pedrisco", &[("BRI-0-M3", "0.5")]),
        ("um milheiro de tijolo 8 furos", &[("TIJ-8F", "1000")]),
        (
            "três milheiros e meio de tijolo baiano",
            &[("TIJ-6F", "3500")],
        ),
        ("300 tijolos maciços", &[("TIJ-MAC", "0.3")]),
        ("tijolinho 2 mil", &[("TIJ-MAC", "2")]),
        ("2.500 blocos de 9", &[("BLC-09", "2500")]),
        ("1,5 metro de areia fina", &[("ARE-FIN-M3", "1.5")]),
        ("2 lonas pretas de 5 metros", &[("LON-4", "10")]),
        (
            "8 m de fio 2,5 vermelho e 8 m de fio 2,5 azul",
            &[("CAB-25M", "16")],
        ),
        ("1 lata de 3,6 de tinta acrílica", &[("TIN-A36", "1")]),
        ("4 sacos de areia", &[("ARE-MED-SC20", "4")]),
        ("uns 6 a 8 sacos de cimento", &[("CIM-CP2-50", "8")]),
        ("uma caixa d'água de mil litros", &[("CXA-1000", "1")]),
    ];
    for (msg, want) in cases {
        assert_eq!(items_after(&[msg]), pairs(want), "{msg}");
    }
}

#[test]
fn typos_abbreviations_and_lists() {
    let cases: &[(&str, &[(&str, &str)])] = &[
        ("simento 4 sc", &[("CIM-CP2-50", "4")]),
        ("2 m3 de areia midia", &[("ARE-MED-M3", "2")]),
        ("argamasa ac3 5 sacos", &[("ARG-AC3-20", "5")]),
        ("caxa dagua 500", &[("CXA-500", "1")]),
        ("400 tijolo bahiano", &[("TIJ-6F", "400")]),
        ("10 br ferro 10mm", &[("VER-38", "10")]),
        (
            "1) 2 caixas de luz\n2) 1 rolo de veda rosca\n3) 5 m de cabo 4",
            &[("CXL-42", "2"), ("VED-ROS", "1"), ("CAB-40M", "5")],
        ),
        (
            "✅ 2 sc ac2\n✅ 3 kg rejunte cinza",
            &[("ARG-AC2-20", "2"), ("REJ-CIN-1", "3")],
        ),
        (
            "1. Cal - 4 sacos\n2. Gesso - 2 sacos",
            &[("CAL-CH3-20", "4"), ("GES-40", "2")],
        ),
        ("cimento ........ 6 sc", &[("CIM-CP2-50", "6")]),
        ("15 barras de 5/16", &[("VER-516", "15")]),
        (
            "1) cal 3 sacos 2) gesso 1 saco",
            &[("CAL-CH3-20", "3"), ("GES-40", "1")],
        ),
        (
            "• 4 un. bloco 9\n• 3 sc. cal",
            &[("BLC-09", "4"), ("CAL-CH3-20", "3")],
        ),
        (
            "- cal ... 7\n- gesso ... 2",
            &[("CAL-CH3-20", "7"), ("GES-40", "2")],
        ),
        (
            "Qtd: 6 | Produto: gesso\nQtd: 2 | Produto: cal",
            &[("GES-40", "6"), ("CAL-CH3-20", "2")],
        ),
        ("quero 12 (doze) sacos de cal", &[("CAL-CH3-20", "12")]),
        ("4x cal\n2x gesso", &[("CAL-CH3-20", "4"), ("GES-40", "2")]),
        (
            "1. 8 barras de ferro 3/8\n2. 2 kg de arame",
            &[("VER-38", "8"), ("ARA-REC", "2")],
        ),
        (
            "item 1: cal - 4 sc\nitem 2: gesso - 1 sc",
            &[("CAL-CH3-20", "4"), ("GES-40", "1")],
        ),
    ];
    for (msg, want) in cases {
        assert_eq!(items_after(&[msg]), pairs(want), "{msg}");
    }
}

#[test]
fn look_alikes_and_honest_unknowns() {
    let idx = index();
    let cases: &[(&str, &[&str], usize)] = &[
        // (message, SKUs expected, number of unknown products)
        ("5 sacos de cal virgem", &[], 1),
        ("3 sacos de areia fina", &[], 1),
        ("1 galão de tinta pva", &[], 1),
        ("2 rolos de manta asfáltica 4mm", &[], 1),
        ("400 telhas coloniais", &[], 1),
        ("quero 2 chuveiros e 4 sacos de cimento", &["CIM-CP2-50"], 1),
        ("1 torneira e 1 fechadura", &[], 2),
        ("tem piso laminado?", &[], 1),
        ("algumas barras de ferro 5/16", &[], 1),
        ("quanto custa o cimento cp5?", &[], 0),
        ("10 sacos de cimento cp 5 ari", &["CIM-CP5-40"], 0),
        ("2 latas de tinta pva", &["TIN-P18"], 0),
        ("3 galões de tinta acrílica", &["TIN-A36"], 0),
        ("20 metros de cabo 2,5", &["CAB-25M"], 0),
        ("2 rolos de cabo 2,5", &["CAB-25R"], 0),
        ("vcs tem chuveiro?", &[], 1),
        ("vcs tem telha eternit?", &[], 0),
        ("tem manta asfáltica 4 mm?", &[], 1),
        ("2 caminhões de areia", &[], 1),
        ("12 metros de fio 2,5 preto", &["CAB-25M"], 0),
        ("10 barras de ferro 6.3", &[], 1),
        ("tem bloco de concreto estrutural?", &[], 1),
        ("umas telhas de 2,44", &[], 1),
        ("uma carrada de pedra", &[], 1),
        (
            "quantos sacos de cimento preciso pra uma laje de 40 m²?",
            &[],
            0,
        ),
        (
            "6 sacos de cimento pra uma laje de 40 m²",
            &["CIM-CP2-50"],
            0,
        ),
        ("areia pra reboco 2 metros", &["ARE-FIN-M3"], 0),
        ("vê pra mim 3 sacos de cal", &["CAL-CH3-20"], 0),
        ("pode ligar no 11 98888-7777", &[], 0),
        ("é pra uma obra de 80 m²", &[], 0),
    ];
    for (msg, skus, n_unknown) in cases {
        let u = understand(msg, &idx);
        let got: Vec<&str> = u.items.iter().map(|i| i.sku.as_str()).collect();
        assert_eq!(&got, skus, "{msg}");
        assert_eq!(u.unknown.len(), *n_unknown, "{msg}: {:?}", u.unknown);
    }
}

#[test]
fn corrections_across_turns() {
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)]);
    let cases: &[Case] = &[
        (
            &[
                "quero 6 sacos de cimento e 2 m de areia",
                "na verdade são 9 sacos",
            ],
            &[("CIM-CP2-50", "9"), ("ARE-MED-M3", "2")],
        ),
        (
            &["3 m de areia média", "troca a média pela grossa"],
            &[("ARE-GRO-M3", "3")],
        ),
        (
            &["8 sacos de cimento", "muda pra cp5"],
            &[("CIM-CP5-40", "8")],
        ),
        (
            &["10 telhas de 1,83", "desculpa, são de 2,44"],
            &[("TEL-244", "10")],
        ),
        (
            &["1 carrinho e 4 escoras", "tira o carrinho"],
            &[("ESC-3", "4")],
        ),
        (
            &["20 blocos de 14", "acrescenta mais 10"],
            &[("BLC-14", "30")],
        ),
        (
            &["preciso de vergalhão 5/16", "15 barras"],
            &[("VER-516", "15")],
        ),
        (
            &["quanto tá a cal?", "manda 4 sacos"],
            &[("CAL-CH3-20", "4")],
        ),
        (
            &["4 barras de ferro 3/8", "e 6 de 1/2"],
            &[("VER-38", "4"), ("VER-12", "6")],
        ),
        (
            &["2 caixas d'água de 1000", "não, melhor a de 500"],
            &[("CXA-500", "2")],
        ),
        (
            &["5 latas de tinta acrílica", "tira uma, fico só com 4"],
            &[("TIN-A18", "4")],
        ),
        (&["10 sacos de cimento", "cancela tudo"], &[]),
        (
            &["preciso de ferro", "3/8, 20 barras", "e 5/16, 12 barras"],
            &[("VER-38", "20"), ("VER-516", "12")],
        ),
        (
            &["8 sacos de cimento e 2 de cal", "sem a cal"],
            &[("CIM-CP2-50", "8")],
        ),
        (&["3 m de areia", "troca por pedra"], &[("BRI-1-M3", "3")]),
        (
            &["2 latas de tinta acrílica", "é a pva"],
            &[("TIN-P18", "2")],
        ),
        (
            &["tem porta de madeira?", "então 2 portas e 3 sacos de cal"],
            &[("CAL-CH3-20", "3")],
        ),
    ];
    for (turns, want) in cases {
        assert_eq!(items_after(turns), pairs(want), "{turns:?}");
    }
}

#[test]
fn slots_are_overridden_by_later_turns() {
    let out = parse_conversation(
        &[
            "cartão em 2x",
            "entrega sábado no Jd Ângela",
            "hoje não, melhor segunda",
            "troca o cartão por pix",
            "cep 04790-100",
        ],
        &index(),
    );
    assert_eq!(out.payment, Some(crate::slots::PaymentMethod::Pix));
    assert_eq!(out.delivery.as_deref(), Some("weekday:segunda"));
    let repeated = parse_conversation(&["tem porta de madeira?", "então 2 portas"], &index());
    assert_eq!(repeated.unknown.len(), 1, "{:?}", repeated.unknown);
    let forgotten = parse_conversation(&["2 portas e 1 janela", "esquece a porta"], &index());
    assert_eq!(forgotten.unknown, vec!["janela".to_string()]);
    assert_eq!(
        out.location.map(|l| l.label_pt()).as_deref(),
        Some("CEP 04790-100")
    );
}

#[test]
fn known_bairros_of_the_store_are_recognised_with_accents() {
    let u = understand("entrega aqui na vila sabia", &index());
    assert_eq!(
        u.location,
        Some(crate::slots::Location::Bairro("Vila Sabiá".into()))
    );
}

#[test]
fn intents() {
    let idx = index();
    let cases = [
        ("quote_accept", Intent::Accept),
        ("sim, pode mandar", Intent::Accept),
        ("fechado 👍", Intent::Accept),
        ("não quero mais, obrigado", Intent::Decline),
        ("achei caro, vou ver em outro lugar", Intent::Decline),
        ("não, obrigado", Intent::Decline),
        ("vou pensar e te falo", Intent::Other),
        ("quero falar com um atendente", Intent::HumanRequest),
        ("me passa pra alguem de vdd por favor", Intent::HumanRequest),
        ("alguém pode me atender", Intent::HumanRequest),
        ("chama o vendedor", Intent::HumanRequest),
        ("nao quero falar com robo", Intent::HumanRequest),
        ("qual o horario de atendimento", Intent::Question),
        ("vou pensar e falo com alguem aqui de casa", Intent::Other),
        ("boa tarde", Intent::GreetingOnly),
        ("oi?? tem alguém aí?", Intent::GreetingOnly),
        ("vocês abrem domingo?", Intent::Question),
        ("3 sacos de cal", Intent::Order),
    ];
    for (msg, want) in cases {
        assert_eq!(understand(msg, &idx).intent, want, "{msg}");
    }
    let mut draft = Draft::default();
    draft.apply(&understand("4 sacos de cimento", &idx));
    assert_eq!(
        understand_in("na verdade 5", &idx, &draft).intent,
        Intent::ChangeRequest
    );
}

#[test]
fn confidence_drops_for_typos_and_unknowns() {
    let idx = index();
    let exact = understand("10 sacos de cimento", &idx);
    let typo = understand("10 sacos de simento", &idx);
    let unknown = understand("10 sacos de cimento e 1 porta", &idx);
    assert!(
        exact.confidence > typo.confidence,
        "{} vs {}",
        exact.confidence,
        typo.confidence
    );
    assert!(unknown.confidence <= 60);
    assert!(exact.items[0].confidence >= 90);
}

#[test]
fn long_messages_are_truncated_and_flagged() {
    let idx = index();
    let long = format!("10 sacos de cimento. {}", "bla ".repeat(2000));
    let u = understand(&long, &idx);
    assert!(u.truncated);
    assert_eq!(u.items.len(), 1);
    assert!(!understand("oi", &idx).truncated);
}

#[test]
fn draft_missing_slots_and_json_round_trip() {
    let idx = index();
    let mut d = Draft::default();
    assert_eq!(
        d.missing(),
        vec![
            MissingSlot::Items,
            MissingSlot::Location,
            MissingSlot::Payment,
            MissingSlot::Delivery
        ]
    );
    d.apply(&understand("6 sacos de cal, pix, entrega amanhã", &idx));
    assert_eq!(d.missing(), vec![MissingSlot::Location]);
    let json = serde_json::to_string(&d).expect("serialize");
    let back: Draft = serde_json::from_str(&json).expect("deserialize");
    assert_eq!(back, d);
    // Older rows without the newer fields still load.
    let old: Draft = serde_json::from_str(r#"{"items":[{"sku":"CAL-CH3-20","quantity":6000}]}"#)
        .expect("old draft");
    assert_eq!(old.items.len(), 1);
}

#[test]
fn parse_line_contract() {
    let idx = index();
    let line = r#"{"id":"x-1","turns":["2,5 m³ de areia média, cep 04790-100, pix, sexta","e 1 torneira"]}"#;
    let out = parse_jsonl_line(line, &idx).expect("valid line");
    assert_eq!(
        out,
        r#"{"id":"x-1","items":[{"sku":"ARE-MED-M3","quantity":2.5}],"location":{"cep":"04790100"},"payment":"PIX","delivery":"weekday:sexta","unknown":["torneira"]}"#
    );
    let out =
        parse_jsonl_line(r#"{"id":"x-2","turns":["no Jd Ângela"]}"#, &idx).expect("valid line");
    assert!(
        out.contains(r#""location":{"bairro":"Jardim Ângela"}"#),
        "{out}"
    );
    assert!(out.contains(r#""payment":null,"delivery":null"#), "{out}");
    for bad in [
        "",
        "[1,2]",
        r#"{"turns":["a"]}"#,
        r#"{"id":"a"}"#,
        r#"{"id":"a","turns":[1]}"#,
        "{",
    ] {
        assert!(parse_jsonl_line(bad, &idx).is_err(), "{bad}");
    }
}

#[test]
fn a_half_with_its_own_unit_is_a_new_amount() {
    let cases: &[(&str, &[(&str, &str)])] = &[
        (
            "quero 4 sacos de cimento 50kg e meia dúzia de escoras",
            &[("CIM-CP2-50", "4"), ("ESC-3", "6")],
        ),
        (
            "2 sacos de argamassa ac3 20kg e meio metro de pedrisco",
            &[("ARG-AC3-20", "2"), ("BRI-0-M3", "0.5")],
        ),
        (
            "10 kg de arame e meio metro de brita 1",
            &[("ARA-REC", "10"), ("BRI-1-M3", "0.5")],
        ),
        // Still a half of the same amount.
        ("2 metros e meio de areia grossa", &[("ARE-GRO-M3", "2.5")]),
        ("gesso, 3 sacos e meio", &[("GES-40", "3.5")]),
    ];
    for (msg, want) in cases {
        assert_eq!(items_after(&[msg]), pairs(want), "{msg}");
    }
}

#[test]
fn phone_numbers_are_never_quantities() {
    let cases: &[(&str, &[(&str, &str)])] = &[
        (
            "3 kg de prego 17x27. meu whats 21 98877-6655",
            &[("PRG-1727", "3")],
        ),
        (
            "gesso 2 sacos, qualquer coisa liga (11) 3344-5566",
            &[("GES-40", "2")],
        ),
        ("arame 5 kg\ncel: 97766-5544", &[("ARA-REC", "5")]),
        (
            "10 sacos de cal, fone 11 91234 5678",
            &[("CAL-CH3-20", "10")],
        ),
        (
            "6 sacos de gesso\nmeu cel é 21 99887-1122, entrega amanhã",
            &[("GES-40", "6")],
        ),
    ];
    for (msg, want) in cases {
        assert_eq!(items_after(&[msg]), pairs(want), "{msg}");
    }
}

#[test]
fn numbered_lists_are_not_quantities() {
    let cases: &[(&str, &[(&str, &str)])] = &[
        (
            "1 - 6 barras de tubo esgoto 50\n2 - 10 joelho 25\n3 - adesivo pvc",
            &[("TUB-E50", "6"), ("JOE-S25", "10"), ("ADS-PVC", "1")],
        ),
        (
            "1- fita veda rosca\n2- 4 joelho 20\n3- 2 barra tubo soldável 20",
            &[("VED-ROS", "1"), ("JOE-S20", "4"), ("TUB-S20", "2")],
        ),
        (
            "1: 5 sacos cimento\n2: 2 m3 areia média",
            &[("CIM-CP2-50", "5"), ("ARE-MED-M3", "2")],
        ),
        // Not counting up from 1: the numbers are amounts.
        (
            "5 - sacos de gesso\n3 - escoras",
            &[("GES-40", "5"), ("ESC-3", "3")],
        ),
    ];
    for (msg, want) in cases {
        assert_eq!(items_after(&[msg]), pairs(want), "{msg}");
    }
}

#[test]
fn another_piece_of_the_same_product_adds_up() {
    let cases: &[Turns] = &[
        (
            &["2 lonas pretas de 5 metros e 1 de 3 metros"],
            &[("LON-4", "13")],
        ),
        (
            &["uma lona preta de 10 metros e outra de 4 metros"],
            &[("LON-4", "14")],
        ),
        (
            &["1 lona de 6 metros e mais uma de 6 metros"],
            &[("LON-4", "12")],
        ),
        (&["1 lona de 4 metros e outra de 2"], &[("LON-4", "6")]),
        (
            &["1 lona de 7 metros", "e 1 de 2 metros"],
            &[("LON-4", "9")],
        ),
        // A plain correction still replaces.
        (
            &["1 lona de 7 metros", "na verdade 5 metros"],
            &[("LON-4", "5")],
        ),
    ];
    for (turns, want) in cases {
        assert_eq!(items_after(turns), pairs(want), "{turns:?}");
    }
}

#[test]
fn replacing_with_a_bare_variant_word() {
    let cases: &[Turns] = &[
        (
            &["6 sacos de cimento cp5", "não, pode ser o comum"],
            &[("CIM-CP2-50", "6")],
        ),
        (
            &["2 latas de tinta pva", "troca a tinta pva por acrílica"],
            &[("TIN-A18", "2")],
        ),
        (
            &["3 latas de tinta pva", "muda pra acrílica"],
            &[("TIN-A18", "3")],
        ),
        (
            &["1 m3 de areia média", "troca a areia por grossa"],
            &[("ARE-GRO-M3", "1")],
        ),
        (
            &["3 sacos de argamassa ac1", "muda pra ac3"],
            &[("ARG-AC3-20", "3")],
        ),
        (
            &["2 latas de tinta pva", "não, melhor acrílica"],
            &[("TIN-A18", "2")],
        ),
    ];
    for (turns, want) in cases {
        assert_eq!(items_after(turns), pairs(want), "{turns:?}");
    }
}

#[test]
fn negated_variants_are_excluded() {
    let idx = index();
    let cases: &[WithUnknownCount] = &[
        (
            "5 sacos de cimento, não é cp5 viu, é o normal",
            &[("CIM-CP2-50", "5")],
            0,
        ),
        (
            "4 sacos de cimento comum (não quero cp4), e 1 m3 de areia",
            &[("CIM-CP2-50", "4"), ("ARE-MED-M3", "1")],
            0,
        ),
        (
            "6 sacos de cimento, nao e o cp4, e 2 sacos de cal",
            &[("CIM-CP2-50", "6"), ("CAL-CH3-20", "2")],
            0,
        ),
    ];
    for (msg, want, n_unknown) in cases {
        assert_eq!(items_after(&[msg]), pairs(want), "{msg}");
        let u = understand(msg, &idx);
        assert_eq!(u.unknown.len(), *n_unknown, "{msg}: {:?}", u.unknown);
    }
}

#[test]
fn unknown_products_stay_separate() {
    let idx = index();
    let cases: &[WithUnknowns] = &[
        (
            "15 caixinha 4x2\n8 tomadas",
            &[("CXL-42", "15")],
            &["tomadas"],
        ),
        ("vocês tem martelo e serrote?", &[], &["martelo", "serrote"]),
        ("tem torneira? e chuveiro?", &[], &["torneira", "chuveiro"]),
        ("vende disjuntor e tomada?", &[], &["disjuntor", "tomada"]),
        // With "de" the head is left out on purpose: still the same product.
        ("3 caixas de luz e 2 de tomada", &[("CXL-42", "5")], &[]),
        // Another size asked about, not an amount.
        ("tem joelho 25? e 20?", &[], &[]),
    ];
    for (msg, want, unknown) in cases {
        assert_eq!(items_after(&[msg]), pairs(want), "{msg}");
        let u = understand(msg, &idx);
        assert_eq!(&u.unknown, unknown, "{msg}");
    }
}

#[test]
fn slash_abbreviations_are_words() {
    let cases: &[(&str, &[(&str, &str)])] = &[
        (
            "4 sc argamassa p/ porcelanato e 10 m2 de porcelanato",
            &[("ARG-AC3-20", "4"), ("POR-60", "10")],
        ),
        // A real list slash still separates products.
        (
            "cimento 3 sc / cal 2 sc",
            &[("CIM-CP2-50", "3"), ("CAL-CH3-20", "2")],
        ),
        ("12 barras de 3/8", &[("VER-38", "12")]),
    ];
    for (msg, want) in cases {
        assert_eq!(items_after(&[msg]), pairs(want), "{msg}");
    }
}

#[test]
fn purposes_are_not_products_or_sizes() {
    let idx = index();
    let cases: &[WithUnknownCount] = &[
        (
            "8 sacos de cimento pra fazer uma laje",
            &[("CIM-CP2-50", "8")],
            0,
        ),
        (
            "4 barras de ferro 3/8, é pra uma viga",
            &[("VER-38", "4")],
            0,
        ),
        ("2 sacos de cal pra um muro", &[("CAL-CH3-20", "2")], 0),
    ];
    for (msg, want, n_unknown) in cases {
        assert_eq!(items_after(&[msg]), pairs(want), "{msg}");
        let u = understand(msg, &idx);
        assert_eq!(u.unknown.len(), *n_unknown, "{msg}: {:?}", u.unknown);
    }
}

#[test]
fn a_product_no_longer_needed_is_removed() {
    let cases: &[Turns] = &[
        (
            &[
                "4 sacos de gesso e 3 de cal",
                "não precisa do gesso, só a cal",
            ],
            &[("CAL-CH3-20", "3")],
        ),
        // Replaced, not removed: the negated item gives way to the one named.
        (
            &[
                "2 m3 de areia fina",
                "não precisa ser fina, pode ser grossa",
            ],
            &[("ARE-GRO-M3", "2")],
        ),
        // A plain negation of a variant keeps the item.
        (
            &["2 sacos de cimento", "não é cp5 não"],
            &[("CIM-CP2-50", "2")],
        ),
    ];
    for (turns, want) in cases {
        assert_eq!(items_after(turns), pairs(want), "{turns:?}");
    }
}

#[test]
fn thousands_and_a_half_back_references_and_sound_typos() {
    let cases: &[(&str, &[(&str, &str)])] = &[
        ("tijolinho 2 mil e meio", &[("TIJ-MAC", "2.5")]),
        ("manda mil e meio de tijolo maciço", &[("TIJ-MAC", "1.5")]),
        ("quatro mil e meio de bloco 14", &[("BLC-14", "4500")]),
        (
            "1 lata de tinta branca e 3 galões da mesma",
            &[("TIN-A18", "1"), ("TIN-A36", "3")],
        ),
        (
            "2 galão de tinta branca e uma lata do mesmo",
            &[("TIN-A36", "2"), ("TIN-A18", "1")],
        ),
        ("600 tijolos macissos", &[("TIJ-MAC", "0.6")]),
        ("10 sacos de argamasa ac2", &[("ARG-AC2-20", "10")]),
    ];
    for (msg, want) in cases {
        assert_eq!(items_after(&[msg]), pairs(want), "{msg}");
    }
}
