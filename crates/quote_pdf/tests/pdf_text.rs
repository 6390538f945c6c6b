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

/// The page rasterized by poppler's `pdftoppm` (greyscale PGM at `dpi`), or None (after the
/// skip notice) without poppler.
fn first_page_pixels(pdf: &[u8], dpi: u32) -> Option<(usize, usize, Vec<u8>)> {
    let dir = std::env::temp_dir();
    let path = dir.join(format!("orcazap-qr-{}.pdf", std::process::id()));
    std::fs::write(&path, pdf).unwrap();
    let out = std::process::Command::new("pdftoppm")
        .args(["-gray", "-r", &dpi.to_string(), "-f", "1", "-l", "1"])
        .arg(&path)
        .output();
    let _ = std::fs::remove_file(&path);
    let out = match out {
        Ok(o) => o,
        Err(_) => {
            store::testing::skip_notice("quote PDF QR", "install poppler-utils (pdftoppm)");
            return None;
        }
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Binary PGM: "P5", width, height, maxval, one whitespace byte, then the pixels.
    let data = out.stdout;
    let mut fields = Vec::new();
    let mut i = 0;
    while fields.len() < 4 {
        while data[i].is_ascii_whitespace() {
            i += 1;
        }
        let start = i;
        while !data[i].is_ascii_whitespace() {
            i += 1;
        }
        fields.push(String::from_utf8(data[start..i].to_vec()).unwrap());
    }
    assert_eq!(fields[0], "P5");
    let (w, h): (usize, usize) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    let pixels = data[i + 1..].to_vec();
    assert_eq!(pixels.len(), w * h);
    Some((w, h, pixels))
}

/// The QR printed on the page is the copia-e-cola: the page is rasterized as a printer or a
/// phone screen would show it, and an independent reader (`rqrr`) finds exactly one QR code
/// whose text is the code, CRC included.
#[test]
fn the_qr_on_the_page_decodes_to_the_pix_code() {
    let q = snapshot(vec![line(
        "Cimento CP II 50 kg",
        Unit::Sc,
        10_000,
        3_890,
        0,
        3_890,
    )]);
    let key = PixKey::parse(PixKeyKind::Email, "financeiro@deposito.com.br").unwrap();
    let merchant = Merchant::new("Depósito Exemplo", "São Paulo").unwrap();
    let pix = copia_e_cola(
        &key,
        &merchant,
        q.total,
        &Txid::from_quote_number("ORC-2026-000125"),
    )
    .unwrap();
    let s = store();
    let doc = QuoteDocument {
        number: "ORC-2026-000125",
        issued_on: "03/12/2026",
        valid_until: "05/12/2026 18:00",
        store: &s,
        customer_name: "Maria",
        customer_phone: "+55 11 98765-4321",
        quote: &q,
        pix: Some(&pix),
    };
    let Some((w, h, pixels)) = first_page_pixels(&quote_pdf(&doc), 150) else {
        return;
    };
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| pixels[y * w + x]);
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code on the page");
    let (_, content) = grids[0].decode().expect("the QR decodes");
    assert_eq!(content, pix);
    // The decoded text carries a valid CRC16-CCITT-FALSE over everything before it.
    let (body, crc) = content.split_at(content.len() - 4);
    assert!(body.ends_with("6304"));
    assert_eq!(
        format!("{:04X}", domain::pix::crc16_ccitt_false(body.as_bytes())),
        crc
    );
}
