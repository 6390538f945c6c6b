//! The quote PDF read back as text (poppler's `pdftotext`): every figure of the snapshot is
//! in it, with the store, the customer, the validity and the PIX code.
use domain::catalog::Unit;
use domain::money::{BasisPoints, Centavos, Quantity};
use domain::pix::{copia_e_cola, Merchant, PixKey, PixKeyKind, Txid};
use domain::pricing::{PricedLine, PricedQuote};
use domain::slots::PaymentMethod;
use quote_pdf::{file_name, quote_pdf, QuoteDocument, StoreHeader};

fn line(
    name: &str,
    unit: Unit,
    qty_thousandths: i64,
    list: i64,
    vol_bp: i64,
    unit_price: i64,
) -> PricedLine {
    PricedLine {
        sku: name.to_uppercase(),
        name: name.into(),
        unit,
        quantity: Quantity::from_thousandths(qty_thousandths),
        list_price: Centavos(list),
        volume_discount_bp: BasisPoints(vol_bp),
        unit_price: Centavos(unit_price),
        line_total: Centavos((unit_price * qty_thousandths + 500) / 1000),
        cost_total: Centavos(0),
        weight_grams: 0,
    }
}

fn snapshot(lines: Vec<PricedLine>) -> PricedQuote {
    let subtotal = Centavos(lines.iter().map(|l| l.line_total.0).sum());
    let payment_discount = Centavos((subtotal.0 * 500 + 5_000) / 10_000);
    let freight = Centavos(3_500);
    PricedQuote {
        lines,
        subtotal,
        payment_method: PaymentMethod::Pix,
        payment_discount_bp: BasisPoints(500),
        payment_discount,
        freight: Some(freight),
        freight_rule: Some("Grajaú".into()),
        total: Centavos(subtotal.0 - payment_discount.0 + freight.0),
        pickup: false,
        margin_bp: None,
        approval_reasons: vec![],
        unknown: vec![],
        suggestions: vec![],
    }
}

fn store() -> StoreHeader {
    StoreHeader {
        name: "Depósito Exemplo Materiais de Construção".into(),
        cnpj: "12.345.678/0001-95".into(),
        address: "Av. Dona Belmira Marin, 1000 — Grajaú, São Paulo/SP".into(),
        phone: "+55 11 93333-4444".into(),
    }
}

#[test]
fn every_figure_of_the_snapshot_is_in_the_pdf() {
    let q = snapshot(vec![
        line("Cimento CP II 50 kg", Unit::Sc, 60_000, 3_890, 400, 3_734),
        line("Areia média lavada", Unit::M3, 2_500, 15_000, 0, 15_000),
        line(
            "Tijolo baiano 6 furos",
            Unit::Milheiro,
            500,
            89_000,
            0,
            89_000,
        ),
    ]);
    let key = PixKey::parse(PixKeyKind::Cnpj, "12.345.678/0001-95").unwrap();
    let merchant = Merchant::new("Depósito Exemplo", "São Paulo").unwrap();
    let pix = copia_e_cola(
        &key,
        &merchant,
        q.total,
        &Txid::from_quote_number("ORC-2026-000123"),
    )
    .unwrap();
    let s = store();
    let doc = QuoteDocument {
        number: "ORC-2026-000123",
        issued_on: "03/12/2026",
        valid_until: "05/12/2026 18:00",
        store: &s,
        customer_name: "João da Silva",
        customer_phone: "+55 11 98765-4321",
        quote: &q,
        pix: Some(&pix),
    };
    let pdf = quote_pdf(&doc);
    assert!(pdf.starts_with(b"%PDF-"));
    let Some(text) = store::testing::pdf_text(&pdf) else {
        return;
    };

    let mut expected: Vec<String> = vec![
        s.name.clone(),
        "CNPJ 12.345.678/0001-95".into(),
        s.address.clone(),
        s.phone.clone(),
        "João da Silva".into(),
        "+55 11 98765-4321".into(),
        "ORC-2026-000123".into(),
        "Válido até 05/12/2026 18:00".into(),
    ];
    for l in &q.lines {
        expected.push(l.name.clone());
        expected.push(format!("{} {}", l.quantity.to_br(), l.unit.label()));
        expected.push(l.unit_price.to_brl());
        expected.push(l.line_total.to_brl());
    }
    // The volume discount of the cement line: list price and percentage.
    expected.push(Centavos(3_890).to_brl());
    expected.push(BasisPoints(400).to_percent_br());
    expected.push(q.subtotal.to_brl());
    expected.push(format!("-{}", q.payment_discount.to_brl()));
    expected.push(BasisPoints(500).to_percent_br());
    expected.push(q.freight.unwrap().to_brl());
    expected.push(q.total.to_brl());
    for e in &expected {
        // pdftotext reads the non-breaking space of "R$ 1,00" back as a plain space.
        let e = e.replace('\u{a0}', " ");
        assert!(
            text.contains(e.as_str()),
            "{e:?} missing from the PDF text:\n{text}"
        );
    }
    // The copia-e-cola is wrapped over lines; joined again it is exactly the code.
    let joined: String = text.split_whitespace().collect();
    let code: String = pix.split_whitespace().collect();
    assert!(joined.contains(&code), "PIX code missing:\n{text}");
}

#[test]
fn a_long_quote_spills_onto_more_pages_and_keeps_every_line() {
    let lines: Vec<PricedLine> = (1..=45)
        .map(|i| {
            line(
                &format!("Produto número {i:02}"),
                Unit::Un,
                i * 1_000,
                1_000 + i,
                0,
                1_000 + i,
            )
        })
        .collect();
    let q = snapshot(lines);
    let s = store();
    let doc = QuoteDocument {
        number: "ORC-2026-000124",
        issued_on: "03/12/2026",
        valid_until: "05/12/2026 18:00",
        store: &s,
        customer_name: "",
        customer_phone: "+55 11 98765-4321",
        quote: &q,
        pix: None,
    };
    let pdf = quote_pdf(&doc);
    let Some(text) = store::testing::pdf_text(&pdf) else {
        return;
    };
    assert!(text.matches('\u{c}').count() >= 1, "expected a page break");
    for l in &q.lines {
        assert!(text.contains(&l.name), "{} missing", l.name);
        assert!(
            text.contains(&l.line_total.to_brl().replace('\u{a0}', " ")),
            "{} missing",
            l.line_total
        );
    }
    assert!(text.contains(&q.total.to_brl().replace('\u{a0}', " ")));
    assert!(!text.contains("PIX copia e cola"), "no key, no PIX section");
}

#[test]
fn file_name_is_the_quote_number() {
    assert_eq!(
        file_name("ORC-2026-000123"),
        "Orcamento-ORC-2026-000123.pdf"
    );
    assert_eq!(file_name("ORC/../x"), "Orcamento-ORCx.pdf");
}
