//! Reference vectors from the Central Bank's manuals, an independent parser crate as an
//! oracle (pix-brcode-parser), and a round trip through a parser written here (proptest).

use super::*;
use proptest::prelude::*;

/// Manual do BR Code / Manual de Padrões para Iniciação do Pix: the static example
/// (random key, no amount, txid `***`), CRC `1D3D`.
const MANUAL_STATIC: &str = "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***63041D3D";

/// Manual do BR Code, the full example (several account templates, amount, CEP), CRC `AD38`.
const MANUAL_FULL: &str = "00020104141234567890123426580014BR.GOV.BCB.PIX0136123e4567-e12b-12d1-a456-42665544000027300012BR.COM.OUTRO011001234567895204000053039865406123.455802BR5917NOME DO RECEBEDOR6008BRASILIA61087007490062190515RP12345678-201980390012BR.COM.OUTRO01190123.ABCD.3456.WXYZ6304AD38";

fn crc_of(code: &str) -> String {
    let (body, _) = code.split_at(code.len() - 4);
    format!("{:04X}", crc16_ccitt_false(body.as_bytes()))
}

#[test]
fn crc_matches_both_manual_examples() {
    assert_eq!(crc_of(MANUAL_STATIC), "1D3D");
    assert_eq!(crc_of(MANUAL_FULL), "AD38");
}

#[test]
fn writer_reproduces_the_manual_static_example_byte_for_byte() {
    let mut w = emv::Writer::new();
    w.field(0, "01")
        .template(26, |t| {
            t.field(0, PIX_GUI)
                .field(1, "123e4567-e12b-12d1-a456-426655440000");
        })
        .field(52, "0000")
        .field(53, "986")
        .field(58, "BR")
        .field(59, "Fulano de Tal")
        .field(60, "BRASILIA")
        .template(62, |t| {
            t.field(5, Txid::NONE);
        });
    assert_eq!(w.finish_with_crc(), MANUAL_STATIC);
}

fn random_key() -> PixKey {
    PixKey::parse(PixKeyKind::Random, "123e4567-e12b-12d1-a456-426655440000").unwrap()
}

#[test]
fn quote_code_is_the_manual_layout_with_amount_name_city_and_txid() {
    let merchant = Merchant::new("Depósito São José", "São José dos Campos").unwrap();
    let txid = Txid::from_quote_number("ORC-2026-000123");
    let code = copia_e_cola(&random_key(), &merchant, Centavos(123_456), &txid).unwrap();
    let body = "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-426655440000\
                52040000530398654071234.565802BR5917DEPOSITO SAO JOSE6015SAO JOSE DOS CA\
                62170513ORC20260001236304";
    assert_eq!(&code[..code.len() - 4], body);
    assert_eq!(crc_of(&code), &code[code.len() - 4..]);
}

#[test]
fn amount_is_reais_dot_two_decimals() {
    assert_eq!(amount_field(Centavos(1)).unwrap(), "0.01");
    assert_eq!(amount_field(Centavos(100)).unwrap(), "1.00");
    assert_eq!(amount_field(Centavos(12_345)).unwrap(), "123.45");
    assert_eq!(
        amount_field(Centavos(999_999_999_999)).unwrap(),
        "9999999999.99"
    );
    assert_eq!(
        amount_field(Centavos(1_000_000_000_000)),
        Err(PixError::Amount)
    );
    assert_eq!(amount_field(Centavos(0)), Err(PixError::Amount));
    assert_eq!(amount_field(Centavos(-5)), Err(PixError::Amount));
}

#[test]
fn merchant_needs_a_readable_name_and_city() {
    assert_eq!(Merchant::new("  ", "Recife"), Err(PixError::MerchantName));
    assert_eq!(Merchant::new("Loja", "😀"), Err(PixError::MerchantCity));
    let m = Merchant::new("Materiais de Construção Ribeirão Preto", "Ribeirão Preto").unwrap();
    assert_eq!(m.name(), "MATERIAIS DE CONSTRUCAO R");
    assert_eq!(m.city(), "RIBEIRAO PRETO");
}

#[test]
fn txid_from_quote_number() {
    assert_eq!(
        Txid::from_quote_number("ORC-2026-000123").as_str(),
        "ORC2026000123"
    );
    assert_eq!(Txid::from_quote_number("—").as_str(), "***");
    let long = Txid::from_quote_number("ORC-2026-ABCDEFGHIJKLMNOPQRSTUVWXYZ-000123");
    assert_eq!(long.as_str().len(), TXID_MAX);
    assert!(long.as_str().ends_with("000123"));
}

/// The oracle: a BR Code parser from crates.io reads our code back field by field.
#[test]
fn independent_parser_reads_every_field_back() {
    let keys = [
        (PixKeyKind::Cpf, "529.982.247-25"),
        (PixKeyKind::Cnpj, "12.ABC.345/01DE-35"),
        (PixKeyKind::Email, "vendas@deposito.com.br"),
        (PixKeyKind::Phone, "(11) 98765-4321"),
        (PixKeyKind::Random, "123e4567-e12b-12d1-a456-426655440000"),
    ];
    let merchant = Merchant::new("Casa do Construtor Ltda", "Florianópolis").unwrap();
    for (kind, text) in keys {
        let key = PixKey::parse(kind, text).unwrap();
        let txid = Txid::from_quote_number("ORC-2026-000042");
        let code = copia_e_cola(&key, &merchant, Centavos(98_765), &txid).unwrap();
        let parsed = pix_brcode_parser::parse(&code).unwrap_or_else(|e| panic!("{code}: {e}"));
        assert_eq!(parsed.payload_format_indicator, "01");
        assert_eq!(parsed.merchant_account_info.gui, PIX_GUI);
        assert_eq!(parsed.merchant_account_info.pix_key, key.as_str());
        assert_eq!(parsed.merchant_category_code, "0000");
        assert_eq!(parsed.transaction_currency, "986");
        assert_eq!(parsed.transaction_amount.as_deref(), Some("987.65"));
        assert_eq!(parsed.country_code, "BR");
        assert_eq!(parsed.merchant_name, "CASA DO CONSTRUTOR LTDA");
        assert_eq!(parsed.merchant_city, "FLORIANOPOLIS");
        let extra = parsed.additional_data.expect("field 62");
        assert_eq!(extra.reference_label.as_deref(), Some("ORC2026000042"));
        assert_eq!(parsed.crc16, &code[code.len() - 4..]);
    }
    // And it accepts the manual's own example, so it is a fair judge.
    assert!(pix_brcode_parser::parse(MANUAL_STATIC).is_ok());
}

/// A TLV reader written from the manual, independent of `emv::Writer`: returns the
/// top-level fields in order, failing on any length that runs past the end.
fn read_tlv(s: &str) -> Vec<(u8, String)> {
    let mut out = Vec::new();
    let mut rest = s;
    while !rest.is_empty() {
        assert!(rest.len() >= 4, "truncated header in {s}");
        let id: u8 = rest[..2].parse().unwrap();
        let len: usize = rest[2..4].parse().unwrap();
        assert!(rest.len() >= 4 + len, "value runs past the end in {s}");
        out.push((id, rest[4..4 + len].to_string()));
        rest = &rest[4 + len..];
    }
    out
}

const CCITT_FALSE: crc::Crc<u16> = crc::Crc::<u16>::new(&crc::CRC_16_IBM_3740);

proptest! {
    #[test]
    fn any_store_and_amount_round_trip(
        name in "[ a-zA-Z0-9áéíóúãõâêôçÁÉÍÓÚÃÕÇ&.-]{1,40}",
        city in "[ a-zA-Záéíóúãõçâ]{1,30}",
        cents in 1i64..1_000_000_000_000,
        number in "[A-Z]{3}-20[0-9]{2}-[0-9]{6,30}",
        kind_ix in 0usize..5,
    ) {
        prop_assume!(name.chars().any(|c| c.is_alphanumeric()));
        prop_assume!(city.chars().any(|c| c.is_alphabetic()));
        let key = [
            PixKey::parse(PixKeyKind::Cpf, "111.444.777-35"),
            PixKey::parse(PixKeyKind::Cnpj, "11.222.333/0001-81"),
            PixKey::parse(PixKeyKind::Email, "a@b.com.br"),
            PixKey::parse(PixKeyKind::Phone, "+55 (21) 99876-5432"),
            PixKey::parse(PixKeyKind::Random, "0a1b2c3d-0000-4000-8000-abcdefabcdef"),
        ][kind_ix].clone().unwrap();
        let merchant = Merchant::new(&name, &city).unwrap();
        let txid = Txid::from_quote_number(&number);
        let code = copia_e_cola(&key, &merchant, Centavos(cents), &txid).unwrap();

        prop_assert!(code.is_ascii());
        let (body, crc) = code.split_at(code.len() - 4);
        prop_assert_eq!(crc, format!("{:04X}", CCITT_FALSE.checksum(body.as_bytes())));

        let fields = read_tlv(&code);
        let ids: Vec<u8> = fields.iter().map(|(id, _)| *id).collect();
        prop_assert_eq!(ids, vec![0, 26, 52, 53, 54, 58, 59, 60, 62, 63]);
        let account = read_tlv(&fields[1].1);
        prop_assert_eq!(&account[0], &(0u8, PIX_GUI.to_string()));
        prop_assert_eq!(&account[1], &(1u8, key.as_str().to_string()));
        let amount = &fields[4].1;
        let (reais, frac) = amount.split_once('.').unwrap();
        prop_assert_eq!(frac.len(), 2);
        prop_assert_eq!(reais.parse::<i64>().unwrap() * 100 + frac.parse::<i64>().unwrap(), cents);
        let name_out = &fields[6].1;
        let city_out = &fields[7].1;
        prop_assert!(!name_out.is_empty() && name_out.len() <= MERCHANT_NAME_MAX);
        prop_assert!(!city_out.is_empty() && city_out.len() <= MERCHANT_CITY_MAX);
        for s in [name_out, city_out] {
            prop_assert!(s.bytes().all(|b| (0x20..0x7f).contains(&b)));
            prop_assert!(!s.bytes().any(|b| b.is_ascii_lowercase()));
        }
        let reference = read_tlv(&fields[8].1);
        prop_assert_eq!(reference.len(), 1);
        prop_assert_eq!(reference[0].0, 5);
        prop_assert!(reference[0].1.len() <= TXID_MAX);
        prop_assert!(reference[0].1.bytes().all(|b| b.is_ascii_alphanumeric()));
        prop_assert!(number.ends_with(&reference[0].1[reference[0].1.len() - 6..]));
    }
}

/// The QR image decodes (with an independent reader) to exactly the copia-e-cola.
#[test]
fn qr_modules_decode_back_to_the_code() {
    let merchant = Merchant::new("Depósito Exemplo", "Curitiba").unwrap();
    let code = copia_e_cola(
        &random_key(),
        &merchant,
        Centavos(45_990),
        &Txid::from_quote_number("ORC-2026-000007"),
    )
    .unwrap();
    let grid = qr::modules(&code).unwrap();
    // Four pixels a module, four modules of quiet zone, as a reader sees a printed code.
    let (scale, quiet) = (4, 4);
    let side = (grid.width() + 2 * quiet) * scale;
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(side, side, |x, y| {
        let (mx, my) = (x / scale, y / scale);
        let inside = (quiet..quiet + grid.width()).contains(&mx)
            && (quiet..quiet + grid.width()).contains(&my);
        if inside && grid.is_dark(mx - quiet, my - quiet) {
            0
        } else {
            255
        }
    });
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1);
    let (_, content) = grids[0].decode().unwrap();
    assert_eq!(content, code);

    let svg = qr::svg(&code, 200).unwrap();
    assert!(
        svg.starts_with("<?xml") && svg.contains("<svg"),
        "{}",
        &svg[..80]
    );
}
