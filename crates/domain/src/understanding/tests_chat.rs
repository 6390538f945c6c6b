//! Messages typed the way people chat (issue 13): run-on lists, chat spelling, dictation,
//! guarded typo matching, quantities in words, conditionals. One test per rule, each with
//! sentences written for it (none copied from the eval sets).

use super::*;
use crate::catalog::{parse_catalog_csv, DEMO_CATALOG_CSV};

fn index() -> &'static CatalogIndex {
    static INDEX: std::sync::OnceLock<CatalogIndex> = std::sync::OnceLock::new();
    INDEX.get_or_init(|| {
        let items = parse_catalog_csv(DEMO_CATALOG_CSV).expect("demo catalog");
        CatalogIndex::build(&items, &["Jardim Ângela".to_string()])
    })
}

/// (final items as sorted "SKU quantity" strings, unknown texts) of a conversation.
fn read(turns: &[&str]) -> (Vec<String>, Vec<String>) {
    let out = parse_conversation(turns, index());
    let mut items: Vec<String> = out
        .items
        .iter()
        .map(|i| format!("{} {}", i.sku, i.quantity))
        .collect();
    items.sort();
    (items, out.unknown)
}

fn sorted(want: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = want.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

/// Each message must give exactly these items and no unknown.
fn assert_items(cases: &[(&str, &[&str])]) {
    for (msg, want) in cases {
        let (items, unknown) = read(&[msg]);
        assert_eq!(items, sorted(want), "{msg}");
        assert!(unknown.is_empty(), "{msg}: unknown {unknown:?}");
    }
}

#[test]
fn a_new_amount_starts_a_new_item_in_a_list_without_separators() {
    assert_items(&[
        (
            "15 saco cimento 3 metro areia 1 metro brita 500 tijolo 6 furo",
            &["ARE-MED-M3 3", "BRI-1-M3 1", "CIM-CP2-50 15", "TIJ-6F 500"],
        ),
        (
            "12 barra ferro 5/16 6 kg arame 30 bloco 14",
            &["ARA-REC 6", "BLC-14 30", "VER-516 12"],
        ),
        (
            "bom dia 4 sc cal 2 m pedrisco pix",
            &["BRI-0-M3 2", "CAL-CH3-20 4"],
        ),
    ]);
}

#[test]
fn amounts_after_the_names_end_each_item_of_a_run_on_list() {
    assert_items(&[
        (
            "gesso 5 saco cal 8 saco areia 2 metro",
            &["ARE-MED-M3 2", "CAL-CH3-20 8", "GES-40 5"],
        ),
        ("cal 6 pedra 2 metro", &["BRI-1-M3 2", "CAL-CH3-20 6"]),
    ]);
}

#[test]
fn a_size_inside_a_name_does_not_cut_the_item() {
    assert_items(&[
        ("tijolo baiano 8 furos 700", &["TIJ-8F 700"]),
        ("tinta pva 18l 3 latas", &["TIN-P18 3"]),
        (
            "fio 2,5 40 metro 6 caixinha 4x2",
            &["CAB-25M 40", "CXL-42 6"],
        ),
    ]);
}

#[test]
fn an_unknown_product_never_swallows_known_ones() {
    let (items, unknown) = read(&["2 torneira 10 sc cimento 1 chuveiro"]);
    assert_eq!(items, sorted(&["CIM-CP2-50 10"]));
    assert_eq!(unknown, ["torneira", "chuveiro"]);
    let (items, unknown) = read(&["1 pia 3 m areia grossa"]);
    assert_eq!(items, sorted(&["ARE-GRO-M3 3"]));
    assert_eq!(unknown, ["pia"]);
}

#[test]
fn chat_verbs_fillers_and_spellings_never_become_products() {
    assert_items(&[
        ("qro 5 sc cimento hj", &["CIM-CP2-50 5"]),
        ("qria 2 m areia fechou", &["ARE-MED-M3 2"]),
        ("precisando de 3 sc gesso vlw", &["GES-40 3"]),
        // A soft g sounds like j: "jesso" is gesso.
        ("jesso 3 saco", &["GES-40 3"]),
    ]);
}

#[test]
fn dictated_commas_stops_decimals_and_gauges() {
    assert_items(&[
        ("Quero três rolos de fio um vírgula cinco", &["CAB-15R 3"]),
        (
            "oito sacos de cal vírgula dois metros de areia grossa",
            &["ARE-GRO-M3 2", "CAL-CH3-20 8"],
        ),
        ("quatro telhas um vírgula oitenta e três", &["TEL-183 4"]),
        ("vinte barras de ferro cinco dezesseis", &["VER-516 20"]),
        ("doze barras de ferro três oitavos", &["VER-38 12"]),
        (
            "um milheiro de tijolo de seis furos ponto quinze sacos de cimento",
            &["CIM-CP2-50 15", "TIJ-6F 1000"],
        ),
        ("argamassa ac dois 4 sacos", &["ARG-AC2-20 4"]),
    ]);
}

#[test]
fn common_words_near_a_product_name_do_not_jump_to_it() {
    // "área" is one letter from "areia"; it is a common word, and after "pra" a purpose.
    assert_items(&[
        ("porcelanato pra area de servico 12 m2", &["POR-60 12"]),
        ("argamassa pra area externa 5 saco", &["ARG-AC2-20 5"]),
    ]);
}

#[test]
fn thousands_dozens_and_amounts_after_the_name() {
    assert_items(&[
        (
            "1 milheiro e quinhentos de tijolo 6 furos",
            &["TIJ-6F 1500"],
        ),
        (
            "queria um orçamento de um milheiro e trezentos de tijolo de oito furos",
            &["TIJ-8F 1300"],
        ),
        ("tijolo maciço 2 milheiros e meio", &["TIJ-MAC 2.5"]),
        ("uma dúzia e meia de joelho 25", &["JOE-S25 18"]),
        ("cal x 12", &["CAL-CH3-20 12"]),
        ("bloco 9 x 60 canaleta x 15", &["BLC-09 60", "CAN-14 15"]),
        ("1 lona preta 15 metros", &["LON-4 15"]),
    ]);
}

#[test]
fn more_pieces_in_colours_the_catalog_does_not_tell_apart_add_up() {
    assert_items(&[
        ("2 rolo de fio 2,5 preto e 1 azul", &["CAB-25R 3"]),
        ("10 metro fio 2,5 azul 10 metro verde", &["CAB-25M 20"]),
    ]);
}

#[test]
fn a_no_about_the_day_does_not_negate_the_items() {
    assert_items(&[("não pode ser segunda 6 sc cimento", &["CIM-CP2-50 6"])]);
    // A "não" about the items still is one.
    let (items, _) = read(&["não quero 6 sc cimento"]);
    assert!(items.is_empty(), "{items:?}");
}

#[test]
fn a_conditional_alternative_is_quoted_and_its_condition_kept_for_a_person() {
    let (items, unknown) = read(&["tem telha colonial?", "se não tiver manda 6 telhas de 2,44"]);
    assert_eq!(items, sorted(&["TEL-244 6"]));
    assert_eq!(unknown, ["telha colonial"]);

    // The product asked about stays the context of its alternative.
    let (items, unknown) = read(&["tem fio 10mm?", "se nao tiver manda 25 metro do de 4"]);
    assert_eq!(items, sorted(&["CAB-40M 25"]));
    assert_eq!(unknown, ["fio 10mm"]);
    let (items, _) = read(&["tem telha 3,66?", "se não tiver manda 6 de 1,83"]);
    assert_eq!(items, sorted(&["TEL-183 6"]));

    let u = understand("caso não tenha, 4 sc de cimento cp4", index());
    assert_eq!(u.items.len(), 1, "{u:?}");
    assert_eq!(u.items[0].sku, "CIM-CP4-50");
    assert_eq!(u.conditions.len(), 1, "{u:?}");
    assert!(u.confidence <= 60, "a person checks a conditional item");
    let mut draft = Draft::default();
    draft.apply(&u);
    assert_eq!(draft.conditions, u.conditions);
}

/// Questions typed without "?" (issue 13): a sentence opening with "tem", "vcs tem",
/// "vendem", "trabalham com" and no amount asks about the product — a price answer, not an
/// order of 1; "quanto/qnto/qto" anywhere asks too. With an amount it is an order.
#[test]
fn questions_without_a_question_mark() {
    for (msg, sku) in [
        ("boa tarde vcs tem pedrisco", "BRI-0-M3"),
        ("opa, tem cimento cp4 ai", "CIM-CP4-50"),
        ("voces vendem argamassa ac2", "ARG-AC2-20"),
        ("bom dia, ainda tem telha de 2,44", "TEL-244"),
        ("qto ta a lata de tinta pva", "TIN-P18"),
        ("qnto sai o bloco de 9", "BLC-09"),
    ] {
        let u = understand(msg, index());
        assert!(u.items.is_empty(), "{msg}: {:?}", u.items);
        assert_eq!(u.intent, Intent::Question, "{msg}");
        assert_eq!(u.price_questions, [sku], "{msg}");
    }
    // A product the store does not sell is still noted for a person.
    let u = understand("oi vcs trabalham com piso vinilico", index());
    assert!(u.items.is_empty());
    assert_eq!(u.unknown.len(), 1, "{:?}", u.unknown);
    // An amount makes it an order; "tem que" is not a question; a size is not an amount.
    assert_items(&[
        (
            "boa noite tem 6 barras de ferro 3/8 pra amanha",
            &["VER-38 6"],
        ),
        ("tem que ser cp4, 8 sacos", &["CIM-CP4-50 8"]),
        ("tem pedrisco? manda 2 metros", &["BRI-0-M3 2"]),
    ]);
}

/// "Corrigindo" opens a correction like "na verdade" (issue 13, dictated corrections): it
/// is never a product, and the amount after it replaces the last one.
#[test]
fn corrigindo_is_a_correction_not_a_product() {
    let (items, unknown) = read(&[
        "preciso de doze sacos de argamassa ac1",
        "Corrigindo quinze sacos",
    ]);
    assert_eq!(items, sorted(&["ARG-AC1-20 15"]));
    assert!(unknown.is_empty(), "{unknown:?}");
    let (items, unknown) = read(&["Quero dois metros de pedrisco ponto Entrega amanhã"]);
    assert_eq!(items, sorted(&["BRI-0-M3 2"]));
    assert!(unknown.is_empty(), "{unknown:?}");
}

/// "se tiver X manda N se não Y" (issue 13 group 8): the store has the first choice, so it is
/// quoted and the alternative is kept for a person — also when a run-on list is cut right
/// after "se não".
#[test]
fn the_first_choice_is_quoted_and_its_alternative_noted() {
    let u = understand(
        "se tiver areia grossa manda 3 metros se nao 3 metros de areia media",
        index(),
    );
    let items: Vec<(&str, String)> = u
        .items
        .iter()
        .map(|i| (i.sku.as_str(), i.quantity.to_br()))
        .collect();
    assert_eq!(items, [("ARE-GRO-M3", "3".to_string())]);
    assert!(
        u.conditions.iter().any(|c| c.contains("areia media")),
        "{:?}",
        u.conditions
    );
    // Without "se tiver" the alternative after an unknown is still what is quoted.
    let (items, _) = read(&[
        "quero 4 telhas coloniais",
        "se nao tiver manda 4 telhas de 2,44",
    ]);
    assert_eq!(items, sorted(&["TEL-244 4"]));
}

/// The place of a conversation, as `parse` writes it: a CEP's digits or a bairro's name.
fn place_of(turns: &[&str]) -> Option<String> {
    match parse_conversation(turns, index()).location? {
        crate::slots::Location::Cep(c) => Some(c.digits()),
        crate::slots::Location::Bairro(b) => Some(b),
        crate::slots::Location::Retirada => unreachable!("parse writes a pickup as no place"),
    }
}

#[test]
fn a_known_bairro_is_read_after_pro_pra_or_alone_on_its_line() {
    let cases: &[(&[&str], Option<&str>)] = &[
        (&["20 sc de cimento pro jabaquara"], Some("Jabaquara")),
        (
            &["leva pra vila andrade amanha 3 metro de areia"],
            Some("Vila Andrade"),
        ),
        (&["manda ate o grajau 10 sc"], Some("Grajaú")),
        // A name that is no everyday word needs no cue.
        (&["5 saco de cal tucuruvi pago pix"], Some("Tucuruvi")),
        // An everyday word alone on its line is the answer to "qual o bairro?".
        (&["2 metro de pedra 1", "saude"], Some("Saúde")),
        (&["📍 socorro\n💳 pix\n📦 4 sc cimento"], Some("Socorro")),
        // A slip in the name, or only its first word, after a cue.
        (&["da pra entregar no jabakuara"], Some("Jabaquara")),
        (
            &["entrega no ermelino 3 sc de cal"],
            Some("Ermelino Matarazzo"),
        ),
        // "itaim" starts two bairros (Paulista, Bibi): neither is guessed.
        (&["entrega no itaim 3 sc de cal"], None),
        // …but not inside the order.
        (&["preciso de socorro com a obra 10 sc de cimento"], None),
        (&["pra amanha 10 sc de cimento"], None),
    ];
    for (turns, want) in cases {
        assert_eq!(place_of(turns).as_deref(), *want, "{turns:?}");
    }
}

#[test]
fn a_street_address_ends_where_the_order_goes_on() {
    let cases: &[(&[&str], Option<&str>)] = &[
        (
            &["av das palmeiras 900 vl prudente entrega sexta cedo 8 sc de cal"],
            Some("Vila Prudente"),
        ),
        (
            &["rua das rosas 12 jardim das oliveiras pago no cartao 4 sc cimento"],
            Some("Jardim das Oliveiras"),
        ),
        (
            &["apto 31 rua santa rita 40 tatuape 2 sc cimento"],
            Some("Tatuapé"),
        ),
    ];
    for (turns, want) in cases {
        assert_eq!(place_of(turns).as_deref(), *want, "{turns:?}");
    }
    // The complement before the street is the address, not a product ("fundos" ≠ fundo
    // selador).
    assert_items(&[(
        "fundos rua das rosas 300 tatuape qro 5 sc de cimento",
        &["CIM-CP2-50 5"],
    )]);
}

#[test]
fn a_cep_read_out_digit_by_digit_is_a_cep() {
    assert_eq!(
        place_of(&["cep zero cinco um um dois zero três zero e 6 sc de cal"]).as_deref(),
        Some("05112030")
    );
    assert_items(&[(
        "meu cep e zero cinco um um dois zero tres zero quero 6 sc de cal",
        &["CAL-CH3-20 6"],
    )]);
}

#[test]
fn a_product_the_customer_already_has_is_not_ordered() {
    assert_items(&[
        (
            "cal eu ja tenho so preciso de 8 saco de cimento",
            &["CIM-CP2-50 8"],
        ),
        (
            "manda 6 sc de cimento brita nao precisa e 1 metro de areia",
            &["ARE-MED-M3 1", "CIM-CP2-50 6"],
        ),
    ]);
}

#[test]
fn two_products_side_by_side_are_two_items() {
    assert_items(&[(
        "quero 12 saco de cimento areia 2 metro",
        &["ARE-MED-M3 2", "CIM-CP2-50 12"],
    )]);
}

#[test]
fn a_unit_word_that_names_a_product_is_that_product_after_one_not_sold_by_it() {
    assert_items(&[(
        "3 balde de massa corrida e 2 rolo",
        &["MAS-25 3", "ROL-23 2"],
    )]);
    // A product sold by the roll keeps the amount: "2 rolos" corrects the cable.
    let (items, _) = read(&["1 rolo de fio 1,5", "na verdade 3 rolo"]);
    assert_eq!(items, sorted(&["CAB-15R 3"]));
}

#[test]
fn days_in_chat_short_forms_double_negatives_and_todays_price() {
    let day = |turns: &[&str]| parse_conversation(turns, index()).delivery;
    assert_eq!(
        day(&["qui de manha 6 sc de cal"]).as_deref(),
        Some("weekday:quinta")
    );
    assert_eq!(
        day(&["entrega sex 6 sc de cal"]).as_deref(),
        Some("weekday:sexta")
    );
    // "não é pra hoje não, pode ser sábado": the second "não" closes the first.
    assert_eq!(
        day(&["nao e pra amanha nao pode ser sexta 3 sc de cal"]).as_deref(),
        Some("weekday:sexta")
    );
    assert_eq!(day(&["nao pode ser sexta 3 sc de cal"]), None);
    // Today's price is not a delivery today.
    assert_eq!(day(&["qto ta a cal hj"]), None);
    assert_eq!(
        day(&["qto fica 5 sc de cal pra entregar hj"]).as_deref(),
        Some("hoje")
    );
}

#[test]
fn taking_some_off_a_line_and_keeping_only_some() {
    let (items, _) = read(&["12 barra de ferro 3/8", "tira 3 barra de ferro"]);
    assert_eq!(items, sorted(&["VER-38 9"]));
    for keep in ["pode tirar um, quero so 3", "tira um fico so com 3"] {
        let (items, _) = read(&["4 sc de cal", keep]);
        assert_eq!(items, sorted(&["CAL-CH3-20 3"]), "{keep}");
    }
    let (items, _) = read(&["5 sc de cal", "tira a cal"]);
    assert!(items.is_empty(), "{items:?}");
}

#[test]
fn a_count_of_holes_the_store_does_not_have_is_flagged_not_an_amount() {
    for msg in [
        "300 tijolo 4 furos",
        "tijolo 10 furo 300",
        "tem tijolo 12 furos",
    ] {
        let (items, unknown) = read(&[msg]);
        assert!(items.is_empty(), "{msg}: {items:?}");
        assert_eq!(unknown.len(), 1, "{msg}: {unknown:?}");
    }
    assert_items(&[("tijolo 8 furos 300", &["TIJ-8F 300"])]);
}

#[test]
fn an_amount_in_another_package_is_that_package_of_the_product_or_flagged() {
    assert_items(&[(
        "3 latas de tinta acrilica e 2 galao",
        &["TIN-A18 3", "TIN-A36 2"],
    )]);
    // The PVA and the selador come in latas only: the galão is flagged, never dropped.
    for msg in [
        "3 latas de tinta pva e 2 galao",
        "1 lata de selador e mais 1 galao",
    ] {
        let (items, unknown) = read(&[msg]);
        assert_eq!(items.len(), 1, "{msg}: {items:?}");
        assert_eq!(unknown.len(), 1, "{msg}: {unknown:?}");
        assert!(unknown[0].starts_with("galão de"), "{msg}: {unknown:?}");
    }
}

#[test]
fn an_alternative_after_an_order_in_the_same_sentence_is_noted_not_added() {
    for msg in [
        "quero 4 sc de cal se nao tiver pode ser cimento",
        "manda 3 lata de tinta acrilica caso nao tenha pode ser pva",
    ] {
        let u = understand(msg, index());
        assert_eq!(u.items.len(), 1, "{msg}: {:?}", u.items);
    }
    let u = understand("quero 4 sc de cal se nao tiver pode ser cimento", index());
    assert_eq!(u.conditions.len(), 1, "{:?}", u.conditions);
}

#[test]
fn a_dictated_ponto_between_words_ends_the_sentence() {
    assert_items(&[(
        "quatro sacos de cal vírgula um metro de pedra ponto entrega na sexta",
        &["BRI-1-M3 1", "CAL-CH3-20 4"],
    )]);
    // After a size said in words, before a word.
    assert_items(&[(
        "tres metros de brita dois ponto pode entregar sabado",
        &["BRI-2-M3 3"],
    )]);
}

#[test]
fn a_function_word_that_names_a_bairro_needs_a_place_word() {
    // "Sé" folds to "se": neither a capital, nor a comma after a number, nor a sentence
    // opening makes it the place.
    let cases: &[(&[&str], Option<&str>)] = &[
        (&["se tiver cal manda 20, se nao manda 10 de cimento"], None),
        (&["Se não tiver o cp2 pode ser o cp3 10 sacos"], None),
        (&["10 sc de cimento entrega na sé"], Some("Sé")),
        (&["20 sacos de cal", "sé"], Some("Sé")),
    ];
    for (turns, want) in cases {
        assert_eq!(place_of(turns).as_deref(), *want, "{turns:?}");
    }
}

#[test]
fn a_building_after_the_house_number_belongs_to_the_address() {
    let cases: &[(&[&str], Option<&str>)] = &[
        (
            &["Av Brasil 300, bloco 2 apto 41 - Vila Formosa 5 sc de cal"],
            Some("Vila Formosa"),
        ),
        (
            &["rua tres 12 torre 1 andar 3 jd miriam 2 sacos de cimento"],
            Some("Jardim Miriam"),
        ),
    ];
    for (turns, want) in cases {
        assert_eq!(place_of(turns).as_deref(), *want, "{turns:?}");
    }
    // The building's number is no amount of the product it shares a word with.
    let (items, _) = read(&["Av Brasil 300, bloco 2 apto 41 - Vila Formosa 5 sc de cal"]);
    assert_eq!(items, sorted(&["CAL-CH3-20 5"]));
}

#[test]
fn fillers_people_and_purposes_are_no_products() {
    assert_items(&[
        // A package word after its amount stays with it; the people ordering are no item.
        (
            "minha esposa mandou pedir 2 pacote de rejunte cinza de 1kg",
            &["REJ-CIN-1 2"],
        ),
        // "pra um …" is a purpose, not a new item with an amount of one.
        ("4 sacos de cal pra um servicinho", &["CAL-CH3-20 4"]),
        // Regional and slang fillers.
        ("manda 3 sacos de cimento visse", &["CIM-CP2-50 3"]),
        ("2 m de pedra 1 firmeza", &["BRI-1-M3 2"]),
        // A threshold asked about is no product.
        (
            "acima de 100 sai mais barato? manda 120 tijolo 8 furos",
            &["TIJ-8F 120"],
        ),
    ]);
}

#[test]
fn a_gauge_said_with_e_meio_is_the_half_size() {
    assert_items(&[
        (
            "quero cinquenta metros de cabo dois e meio",
            &["CAB-25M 50"],
        ),
        ("3 rolo de fio um e meio", &["CAB-15R 3"]),
    ]);
}

#[test]
fn the_amount_after_preciso_de_waits_for_the_size_named_next() {
    let (items, unknown) = read(&["precisava de 6 cano de esgoto", "o de 50"]);
    assert_eq!(items, sorted(&["TUB-E50 6"]));
    assert!(unknown.is_empty(), "{unknown:?}");
}

#[test]
fn a_thing_made_of_a_product_is_not_that_product() {
    // "placa de gesso" is drywall, not the gesso powder: flagged, never quoted as gesso.
    for msg in [
        "10 placa de gesso",
        "3 telha de vidro",
        "2 forro de gesso e 4 sc de cal",
    ] {
        let (items, unknown) = read(&[msg]);
        assert!(
            !items
                .iter()
                .any(|i| i.starts_with("GES-") || i.starts_with("TEL-")),
            "{msg}: {items:?}"
        );
        assert_eq!(unknown.len(), 1, "{msg}: {unknown:?}");
    }
    // A package or a diminutive before "de" is still the product.
    assert_items(&[
        ("5 saquinho de cimento", &["CIM-CP2-50 5"]),
        ("2 pacote de gesso", &["GES-40 2"]),
    ]);
}
#[test]
fn a_size_named_alone_in_a_later_turn_changes_the_item() {
    for turn in ["8 furos", "muda pra 8 furos", "troca pra 8 furo"] {
        let (items, unknown) = read(&["mil tijolo de 6 furos", turn]);
        assert_eq!(items, sorted(&["TIJ-8F 1000"]), "{turn}");
        assert!(unknown.is_empty(), "{turn}: {unknown:?}");
    }
}

#[test]
fn la_the_adverb_is_no_paint_roller() {
    assert_items(&[
        ("10 sacos de cimento. entrega lá", &["CIM-CP2-50 10"]),
        ("deixa la em casa 3 sc de cal", &["CAL-CH3-20 3"]),
        ("5 sc cimento retiro na loja amanha", &["CIM-CP2-50 5"]),
        ("2 rolo de lã", &["ROL-23 2"]),
    ]);
}

#[test]
fn another_package_of_the_same_product_replaces_the_line() {
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["1 rolo de fio 2,5", "troca por 40 metros"],
            &["CAB-25M 40"],
        ),
        (
            &["2 sacos de areia media", "melhor 1 metro"],
            &["ARE-MED-M3 1"],
        ),
        (
            &["3 latas de tinta acrilica", "na vdd quero o galão"],
            &["TIN-A36 1"],
        ),
        (
            &["3 latas de tinta acrilica", "prefiro os galões"],
            &["TIN-A36 3"],
        ),
        // Asking about the other package changes nothing.
        (
            &["3 latas de tinta acrilica", "e o galão quanto fica?"],
            &["TIN-A18 3"],
        ),
    ];
    for (turns, want) in cases {
        let (items, unknown) = read(turns);
        assert_eq!(items, sorted(want), "{turns:?}");
        assert!(unknown.is_empty(), "{turns:?}: {unknown:?}");
    }
}

#[test]
fn plans_names_and_places_around_the_order_are_no_products() {
    assert_items(&[
        (
            "vou rebocar a casa toda 12 sacos de cal",
            &["CAL-CH3-20 12"],
        ),
        ("aqui é a dona cida 5 sacos de cimento", &["CIM-CP2-50 5"]),
        ("telha pra area do fundo 8 telha 2,44", &["TEL-244 8"]),
    ]);
    let (items, unknown) = read(&["vou fazer uma laje", "20 sc de cimento"]);
    assert_eq!(items, sorted(&["CIM-CP2-50 20"]));
    assert!(unknown.is_empty(), "{unknown:?}");
    // A product the store lacks is still asked about.
    let (_, unknown) = read(&["queria saber se vcs tem fechadura"]);
    assert_eq!(unknown, vec!["fechadura".to_string()]);
}

#[test]
fn a_later_turn_names_the_line_it_changes() {
    let cases: &[(&[&str], &[&str])] = &[
        // "do mesmo fio" after another product: the fio's line.
        (
            &[
                "30 metro de cabo 2,5",
                "e 4 caixinha 4x2",
                "mais 10 metros do mesmo fio",
            ],
            &["CAB-25M 40", "CXL-42 4"],
        ),
        // "tira 2 barra de ferro" when the order has one ferro.
        (
            &[
                "12 barra de ferro 5/16",
                "e 3 kg de arame",
                "tira 2 barra de ferro",
            ],
            &["ARA-REC 3", "VER-516 10"],
        ),
    ];
    for (turns, want) in cases {
        let (items, unknown) = read(turns);
        assert_eq!(items, sorted(want), "{turns:?}");
        assert!(unknown.is_empty(), "{turns:?}: {unknown:?}");
    }
}

#[test]
fn a_closing_nao_negates_the_product_before_it() {
    let (items, _) = read(&["6 sacos de cal", "cal nao, cimento"]);
    assert_eq!(items, sorted(&["CIM-CP2-50 6"]));
    let (items, _) = read(&["8 sacos de cimento e areia não"]);
    assert_eq!(items, sorted(&["CIM-CP2-50 8"]));
}

/// A pickup fills the place slot (the bot stops asking for it) but `parse` writes no place:
/// the evaluation format labels "retiro na loja" with a null location.
#[test]
fn a_pickup_is_the_place_of_the_draft_and_no_place_in_parse() {
    use crate::slots::Location;
    let mut d = super::Draft::default();
    d.apply(&super::understand_in(
        "5 sc cimento retiro na loja amanha",
        index(),
        &super::Draft::default(),
    ));
    assert_eq!(d.location, Some(Location::Retirada));
    assert!(!d.missing().contains(&super::MissingSlot::Location));
    assert_eq!(place_of(&["5 sc cimento retiro na loja amanha"]), None);
    assert_eq!(
        place_of(&[
            "5 sc cimento retiro na loja",
            "na verdade entrega no grajau"
        ]),
        Some("Grajaú".into())
    );
}

/// A remark on a product's price is no order of it, and the amount after the verb that
/// follows the remark goes to the product after the amount.
#[test]
fn a_price_complaint_orders_nothing_and_the_verb_after_it_opens_the_order() {
    assert_items(&[
        ("mt caro o cp5 manda 10 cp2 entao", &["CIM-CP2-50 10"]),
        ("o cp5 ta caro manda 10 cimento cp2", &["CIM-CP2-50 10"]),
        ("o cp5 ta caro", &[]),
        // "cara" opening the message is "dude".
        ("cara me ve 10 cimento", &["CIM-CP2-50 10"]),
        // With an amount in the clause the order stands.
        ("10 sc de cimento, ta caro?", &["CIM-CP2-50 10"]),
        // Nothing named after the amount: it stays with the product before the verb.
        (
            "se tiver cp5 manda 10 se nao tiver manda cp2 msm",
            &["CIM-CP5-40 10"],
        ),
    ]);
}

/// A dictated decimal after the unit: "três metros vírgula cinco de areia" is 3,5 m.
#[test]
fn a_dictated_decimal_after_the_unit() {
    assert_items(&[
        (
            "eu quero três metros vírgula cinco de areia grossa",
            &["ARE-GRO-M3 3.5"],
        ),
        (
            "dez sacos de cimento vírgula dois metros de areia",
            &["ARE-MED-M3 2", "CIM-CP2-50 10"],
        ),
    ]);
}

/// Soldável pipes and fittings asked for by inches ("joelho 3/4" is the 25 mm one), also
/// when the size comes from the pipe just named.
#[test]
fn water_fittings_by_inches() {
    assert_items(&[
        ("4 joelho 3/4", &["JOE-S25 4"]),
        (
            "10 joelho de 1/2 e 1 registro 3/4",
            &["JOE-S20 10", "REG-34 1"],
        ),
        ("6 barra cano de 3/4 4 joelhos", &["JOE-S25 4", "TUB-S25 6"]),
    ]);
}

/// "saquinho" is a sack said kindly: "10 saquinho de areia" is the bagged sand, never 10 m³.
#[test]
fn a_saquinho_is_a_sack() {
    assert_items(&[
        ("10 saquinho de areia", &["ARE-MED-SC20 10"]),
        ("qria 10 saquinhos de cimento", &["CIM-CP2-50 10"]),
    ]);
}

/// "troca pra ac3 e põe mais 5": the 5 add to the swapped line.
#[test]
fn more_of_what_was_just_swapped_in() {
    let (items, _) = read(&["qnto fica 20 saco de ac2", "troca pra ac3 e põe mais 5"]);
    assert_eq!(items, sorted(&["ARG-AC3-20 25"]));
    let (items, _) = read(&["20 saco de ac2", "troca pra ac3, 10 sacos"]);
    assert_eq!(items, sorted(&["ARG-AC3-20 10"]));
}

/// "e a areia?" after a price question asks its price too; after an order it is ordered.
#[test]
fn e_and_a_product_goes_on_from_a_price_question() {
    assert_eq!(
        read(&["qto ta o cimento", "e a areia media"]).0,
        sorted(&[])
    );
    assert_eq!(
        read(&["qto ta o cimento", "e 2 m de areia"]).0,
        sorted(&["ARE-MED-M3 2"])
    );
    assert_eq!(
        read(&["10 sc cimento", "e a areia media"]).0,
        sorted(&["ARE-MED-M3 1", "CIM-CP2-50 10"])
    );
}

/// A dimension the item does not have names another product: "piso 80x80" is not the store's
/// 60x60 at the 60x60 price (found walking the demo). A size and an amount joined by "x"
/// ("bloco 14 x 200") still order.
#[test]
fn a_dimension_the_item_lacks_is_another_product() {
    for msg in ["15 m2 de porcelanato 90x90", "porcelanato 120 x 120 tem?"] {
        let (items, unknown) = read(&[msg]);
        assert!(items.is_empty(), "{msg}: {items:?}");
        assert_eq!(unknown.len(), 1, "{msg}: {unknown:?}");
    }
    assert_items(&[
        ("porcelanato 60x60 12 m2", &["POR-60 12"]),
        ("bloco 14 x 200", &["BLC-14 200"]),
    ]);
}
