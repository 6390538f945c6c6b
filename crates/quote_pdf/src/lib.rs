//! The quote as a PDF document (issue 15 item 1): what the customer forwards to whoever pays.
//!
//! `quote_pdf(&QuoteDocument) -> Vec<u8>`: one or more A4 pages with the store (name, CNPJ,
//! address, phone), the customer, the lines (product, quantity with unit, unit price, total),
//! the discounts, freight, total, validity and the payment instructions with the PIX
//! copia-e-cola and its QR code. Every figure comes from the quote's immutable snapshot
//! ([`PricedQuote`]), formatted as the WhatsApp message formats it (`Centavos::to_brl`).
//!
//! A crate of its own (not the worker) because it is pure — bytes out, no I/O — and both the
//! worker (document message) and the web (public quote page, dashboard) will call it.
//! Standard Helvetica with WinAnsiEncoding: every PDF reader has it, pt-BR accents render,
//! and the file stays a few kilobytes (no embedded font). The QR is drawn as vector squares.

mod winansi;

use domain::money::Centavos;
use domain::pix::qr;
use domain::pricing::PricedQuote;
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

/// Who issues the quote, as printed in the header.
#[derive(Debug, Clone, Default)]
pub struct StoreHeader {
    pub name: String,
    pub cnpj: String,
    pub address: String,
    pub phone: String,
}

/// Everything the document shows; dates already formatted in the store's time zone.
#[derive(Debug, Clone)]
pub struct QuoteDocument<'a> {
    pub number: &'a str,
    pub issued_on: &'a str,
    pub valid_until: &'a str,
    pub store: &'a StoreHeader,
    pub customer_name: &'a str,
    pub customer_phone: &'a str,
    pub quote: &'a PricedQuote,
    /// The PIX copia-e-cola for `quote.total`, when the store has a key.
    pub pix: Option<&'a str>,
}

/// The file name WhatsApp shows: `Orcamento-ORC-2026-000123.pdf`.
pub fn file_name(number: &str) -> String {
    let safe: String = number
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    format!("Orcamento-{safe}.pdf")
}

const PAGE_W: f32 = 595.0; // A4 in points
const PAGE_H: f32 = 842.0;
const MARGIN: f32 = 42.0;
const REGULAR: Name = Name(b"F1");
const BOLD: Name = Name(b"F2");

/// Columns of the lines table: product, quantity, unit price, total (right edges for numbers).
const COL_QTY_RIGHT: f32 = 360.0;
const COL_UNIT_RIGHT: f32 = 460.0;
const COL_TOTAL_RIGHT: f32 = PAGE_W - MARGIN;
const PRODUCT_MAX_W: f32 = 255.0;

/// Pages being written: the current content stream and the finished ones.
struct Pages {
    done: Vec<Vec<u8>>,
    page: Content,
    y: f32,
}

impl Pages {
    fn new() -> Pages {
        Pages {
            done: Vec::new(),
            page: Content::new(),
            y: PAGE_H - MARGIN,
        }
    }

    /// Starts a new page when fewer than `need` points are left above the bottom margin.
    fn ensure(&mut self, need: f32) {
        if self.y - need < MARGIN {
            let full = std::mem::replace(&mut self.page, Content::new());
            self.done.push(full.finish());
            self.y = PAGE_H - MARGIN;
        }
    }

    fn text(&mut self, x: f32, font: Name, size: f32, bytes: &[u8]) {
        self.page
            .begin_text()
            .set_font(font, size)
            .next_line(x, self.y)
            .show(Str(bytes))
            .end_text();
    }

    fn left(&mut self, x: f32, font: Name, size: f32, text: &str) {
        self.text(x, font, size, &winansi::encode(text));
    }

    fn right(&mut self, right_edge: f32, font: Name, size: f32, text: &str) {
        let bytes = winansi::encode(text);
        let x = right_edge - winansi::width(&bytes, size);
        self.text(x, font, size, &bytes);
    }

    fn rule(&mut self) {
        self.page
            .set_fill_gray(0.75)
            .rect(MARGIN, self.y, PAGE_W - 2.0 * MARGIN, 0.6)
            .fill_nonzero()
            .set_fill_gray(0.0);
    }

    /// A long line (the copia-e-cola) broken into pieces that fit the width.
    fn wrapped(&mut self, font: Name, size: f32, text: &str, leading: f32) {
        let mut bytes = winansi::encode(text);
        while !bytes.is_empty() {
            let mut n = bytes.len();
            while n > 1 && winansi::width(&bytes[..n], size) > PAGE_W - 2.0 * MARGIN {
                n -= 1;
            }
            self.ensure(leading);
            self.text(MARGIN, font, size, &bytes[..n]);
            self.y -= leading;
            bytes.drain(..n);
        }
    }

    fn finish(mut self) -> Vec<Vec<u8>> {
        self.done.push(self.page.finish());
        self.done
    }
}

fn money(c: Centavos) -> String {
    c.to_brl()
}

/// The freight as the document (and the public quote page) writes it.
pub fn freight_text(q: &PricedQuote) -> String {
    match q.freight {
        _ if q.pickup => "retirada na loja".to_string(),
        Some(f) if f.0 == 0 => "grátis".to_string(),
        Some(f) => money(f),
        None => "a combinar".to_string(),
    }
}

/// The payment discount's label: `Desconto PIX (5%)`.
pub fn payment_discount_label(q: &PricedQuote) -> String {
    format!(
        "Desconto {} ({})",
        q.payment_method.label_pt(),
        q.payment_discount_bp.to_percent_br()
    )
}

/// The note under a line with a volume discount: `de R$ 38,90 com 4% de desconto por volume`.
pub fn volume_note(line: &domain::pricing::PricedLine) -> Option<String> {
    (line.volume_discount_bp.0 > 0).then(|| {
        format!(
            "de {} com {} de desconto por volume",
            money(line.list_price),
            line.volume_discount_bp.to_percent_br()
        )
    })
}

/// The PDF bytes of the quote.
pub fn quote_pdf(doc: &QuoteDocument) -> Vec<u8> {
    let q = doc.quote;
    let s = doc.store;
    let mut p = Pages::new();

    // Header: the store.
    p.left(MARGIN, BOLD, 16.0, &s.name);
    p.right(COL_TOTAL_RIGHT, BOLD, 12.0, "ORÇAMENTO");
    p.y -= 16.0;
    let mut who = Vec::new();
    if !s.cnpj.is_empty() {
        who.push(format!("CNPJ {}", s.cnpj));
    }
    if !s.phone.is_empty() {
        who.push(format!("Telefone/WhatsApp {}", s.phone));
    }
    p.left(MARGIN, REGULAR, 9.5, &who.join("  ·  "));
    p.right(COL_TOTAL_RIGHT, BOLD, 11.0, doc.number);
    p.y -= 13.0;
    if !s.address.is_empty() {
        p.left(MARGIN, REGULAR, 9.5, &s.address);
    }
    p.right(
        COL_TOTAL_RIGHT,
        REGULAR,
        9.5,
        &format!("Emitido em {}", doc.issued_on),
    );
    p.y -= 14.0;
    p.rule();
    p.y -= 18.0;

    // Customer and validity.
    p.left(MARGIN, BOLD, 10.0, "Cliente");
    p.left(330.0, BOLD, 10.0, "Validade");
    p.y -= 13.0;
    let customer = match (doc.customer_name.trim(), doc.customer_phone.trim()) {
        ("", phone) => phone.to_string(),
        (name, "") => name.to_string(),
        (name, phone) => format!("{name} — {phone}"),
    };
    p.left(MARGIN, REGULAR, 10.0, &customer);
    p.left(
        330.0,
        REGULAR,
        10.0,
        &format!("Válido até {}", doc.valid_until),
    );
    p.y -= 24.0;

    // Lines.
    let header = |p: &mut Pages| {
        p.left(MARGIN, BOLD, 9.5, "Produto");
        p.right(COL_QTY_RIGHT, BOLD, 9.5, "Quantidade");
        p.right(COL_UNIT_RIGHT, BOLD, 9.5, "Preço unit.");
        p.right(COL_TOTAL_RIGHT, BOLD, 9.5, "Total");
        p.y -= 6.0;
        p.rule();
        p.y -= 13.0;
    };
    header(&mut p);
    for line in &q.lines {
        let has_volume = line.volume_discount_bp.0 > 0;
        let need = if has_volume { 28.0 } else { 16.0 };
        if p.y - need < MARGIN {
            p.ensure(PAGE_H);
            header(&mut p);
        }
        let name = winansi::fit(&line.name, 10.0, PRODUCT_MAX_W);
        p.text(MARGIN, REGULAR, 10.0, &name);
        let qty = format!("{} {}", line.quantity.to_br(), line.unit.label());
        p.right(COL_QTY_RIGHT, REGULAR, 10.0, &qty);
        p.right(COL_UNIT_RIGHT, REGULAR, 10.0, &money(line.unit_price));
        p.right(COL_TOTAL_RIGHT, REGULAR, 10.0, &money(line.line_total));
        if let Some(note) = volume_note(line) {
            p.y -= 11.0;
            p.left(MARGIN + 8.0, REGULAR, 8.0, &note);
        }
        p.y -= 16.0;
    }
    p.y += 6.0;
    p.rule();
    p.y -= 16.0;

    // Totals.
    p.ensure(90.0);
    let total_row = |p: &mut Pages, label: &str, value: &str, font: Name, size: f32| {
        p.right(COL_UNIT_RIGHT, font, size, label);
        p.right(COL_TOTAL_RIGHT, font, size, value);
        p.y -= size + 5.0;
    };
    total_row(&mut p, "Subtotal", &money(q.subtotal), REGULAR, 10.0);
    if q.payment_discount.0 != 0 {
        let label = payment_discount_label(q);
        total_row(
            &mut p,
            &label,
            &format!("-{}", money(q.payment_discount)),
            REGULAR,
            10.0,
        );
    }
    total_row(&mut p, "Frete", &freight_text(q), REGULAR, 10.0);
    total_row(&mut p, "Total", &money(q.total), BOLD, 13.0);
    p.y -= 10.0;

    // Payment: PIX code and its QR.
    if let Some(code) = doc.pix {
        let qr_side = 130.0;
        p.ensure(qr_side + 80.0);
        p.left(MARGIN, BOLD, 11.0, "Pagamento por PIX");
        p.y -= 15.0;
        p.left(
            MARGIN,
            REGULAR,
            9.5,
            &format!(
                "Valor {} — aponte a câmera do app do banco para o QR code",
                money(q.total)
            ),
        );
        p.y -= 12.0;
        p.left(
            MARGIN,
            REGULAR,
            9.5,
            "ou copie o código PIX copia e cola abaixo.",
        );
        p.y -= 8.0;
        if let Some(grid) = qr::modules(code) {
            let cell = qr_side / grid.width() as f32;
            let top = p.y;
            for y in 0..grid.width() {
                for x in 0..grid.width() {
                    if grid.is_dark(x, y) {
                        p.page.rect(
                            MARGIN + x as f32 * cell,
                            top - (y as f32 + 1.0) * cell,
                            cell,
                            cell,
                        );
                    }
                }
            }
            p.page.fill_nonzero();
            p.y = top - qr_side - 16.0;
        }
        p.left(MARGIN, BOLD, 9.0, "PIX copia e cola:");
        p.y -= 12.0;
        p.wrapped(REGULAR, 8.0, code, 10.0);
    }
    p.y -= 8.0;
    p.ensure(24.0);
    p.left(
        MARGIN,
        REGULAR,
        8.0,
        "Preços e condições válidos até a data acima. Orçamento gerado pelo OrçaZap.",
    );

    write_pdf(doc, p.finish())
}

fn write_pdf(doc: &QuoteDocument, pages: Vec<Vec<u8>>) -> Vec<u8> {
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let regular = Ref::new(3);
    let bold = Ref::new(4);
    let info = Ref::new(5);
    let first = 6;
    let page_ids: Vec<Ref> = (0..pages.len())
        .map(|i| Ref::new(first + 2 * i as i32))
        .collect();

    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids(page_ids.iter().copied())
        .count(pages.len() as i32);
    for (i, content) in pages.iter().enumerate() {
        let content_id = Ref::new(first + 2 * i as i32 + 1);
        let mut page = pdf.page(page_ids[i]);
        page.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H))
            .parent(tree)
            .contents(content_id);
        page.resources()
            .fonts()
            .pair(REGULAR, regular)
            .pair(BOLD, bold);
        page.finish();
        pdf.stream(content_id, content);
    }
    pdf.type1_font(regular)
        .base_font(Name(b"Helvetica"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.type1_font(bold)
        .base_font(Name(b"Helvetica-Bold"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.document_info(info)
        .title(TextStr(&format!("Orçamento {}", doc.number)))
        .author(TextStr(&doc.store.name));
    pdf.finish()
}
