use super::*;
use crate::catalog::{parse_catalog_csv as parse, write_catalog_csv, DEMO_CATALOG_CSV};

/// A file as Excel saves it on a Brazilian Windows: Windows-1252 bytes, `;`, CRLF, reais.
fn excel_1252(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            '€' => 0x80,
            c if (c as u32) < 0x100 => c as u32 as u8,
            c => panic!("{c:?} is not in this test's Windows-1252 subset"),
        })
        .collect()
}

#[test]
fn windows_1252_semicolons_and_reais_import_exactly() {
    let bytes = excel_1252(
        "sku;nome;unidade;preço;custo;peso_kg;apelidos\r\n\
         VASO-1;Vaso sanitário com caixa acoplada;un;R$ 1.234,56;R$ 980,10;18,5;vaso|privada\r\n\
         TINTA-18;Tinta acrílica 18 L (€ importada);lata;350,00;210;20;tinta\r\n",
    );
    assert!(
        std::str::from_utf8(&bytes).is_err(),
        "the fixture is not UTF-8"
    );
    let decoded = decode_text(&bytes).unwrap();
    assert_eq!(decoded.encoding, TextEncoding::Windows1252);
    let items = parse_catalog_file(&bytes).unwrap();
    assert_eq!(items[0].name, "Vaso sanitário com caixa acoplada");
    assert_eq!(items[0].price, Centavos(123_456));
    assert_eq!(items[0].cost, Centavos(98_010));
    assert_eq!(items[0].weight_grams, 18_500);
    assert_eq!(items[1].name, "Tinta acrílica 18 L (€ importada)");
    assert_eq!(items[1].price, Centavos(35_000));
    // In a reais column a plain integer is reais.
    assert_eq!(items[1].cost, Centavos(21_000));
}

#[test]
fn utf8_with_and_without_bom_and_commas_in_centavos_columns() {
    let body = "sku,name,unit,price_cents,cost_cents,weight_kg,aliases\n\
                CIM-1,Cimento açúcar,sc,3690,\"350,00\",50,cimento\n\
                CIM-2,Cimento CP-III,sc,\"R$ 1.234,56\",3050,50,\n";
    for bytes in [
        body.as_bytes().to_vec(),
        [b"\xEF\xBB\xBF", body.as_bytes()].concat(),
    ] {
        assert_eq!(decode_text(&bytes).unwrap().encoding, TextEncoding::Utf8);
        let items = parse_catalog_file(&bytes).unwrap();
        assert_eq!(items[0].sku, "CIM-1", "BOM not left in the first header");
        assert_eq!(items[0].name, "Cimento açúcar");
        // Centavos column: a plain integer is centavos, a comma means reais.
        assert_eq!(items[0].price, Centavos(3690));
        assert_eq!(items[0].cost, Centavos(35_000));
        assert_eq!(items[1].price, Centavos(123_456));
    }
}

#[test]
fn separator_is_the_one_the_header_uses() {
    assert_eq!(separator_of("a;b;c\n1,5;2;3"), ';');
    assert_eq!(separator_of("a,b,c\n1;2;3"), ',');
    assert_eq!(separator_of("a\tb\tc\n"), '\t');
    assert_eq!(separator_of("\"a;b\",c,d\n"), ',');
    assert_eq!(separator_of("sozinho\n"), ',');
}

#[test]
fn other_encodings_are_refused_never_mangled() {
    let undefined = [b"sku;nome\r\nA;B\x81C\r\n".as_slice()].concat();
    let e = decode_text(&undefined).unwrap_err();
    assert_eq!(e.line, 2);
    assert!(e.message.contains("nem em Windows-1252"), "{e}");
    let utf16 = [0xFF, 0xFE, b's', 0, b'k', 0];
    assert!(decode_text(&utf16).unwrap_err().message.contains("UTF-16"));
}

#[test]
fn bad_rows_of_a_semicolon_file_are_each_named_with_line_and_reason() {
    let csv = "sku;nome;unidade;preco;custo;peso_kg;apelidos\n\
               A-1;Areia;m3;120,00;80;1500;areia\n\
               B-2;Brita;m3;12.5;8;1500;\n\
               C-3;Cal;sc;;8;20;\n\
               D-4;Dobradiça;un;0,001;0;0,1;\n\
               E-5;Extra;un;1;1;1;;sobra\n";
    let errs = parse(csv).unwrap_err();
    let lines: Vec<usize> = errs.iter().map(|e| e.line).collect();
    assert_eq!(lines, vec![3, 4, 5, 6]);
    assert!(
        errs[0].message.contains("preço inválido \"12.5\""),
        "{errs:?}"
    );
    assert!(errs[0].message.contains("36,90"), "says how: {errs:?}");
    assert!(errs[1].message.contains("preço inválido \"\""), "{errs:?}");
    assert!(
        errs[2].message.contains("preço inválido \"0,001\""),
        "{errs:?}"
    );
    assert!(errs[3].message.contains("colunas"), "{errs:?}");
}

#[test]
fn reais_are_exact_to_the_centavo_and_bounded() {
    let head = "sku;nome;unidade;preco;custo;peso_kg;apelidos\n";
    let items = parse(&format!(
        "{head}A;A;un;0,1;0;1;\nB;B;un;R$ 0,01;0;1;\nC;C;un;R$\u{a0}999.999,99;0;1;\n"
    ))
    .unwrap();
    let prices: Vec<i64> = items.iter().map(|i| i.price.0).collect();
    assert_eq!(prices, vec![10, 1, 99_999_999]);
    let errs = parse(&format!(
        "{head}A;A;un;1.000.000,01;0;1;\nB;B;un;99999999999999999999,00;0;1;\nC;C;un;-1,00;0;1;\n"
    ))
    .unwrap_err();
    assert!(
        errs[0].message.contains("no máximo R$\u{a0}1.000.000,00"),
        "{errs:?}"
    );
    assert!(
        errs[1].message.contains("no máximo R$\u{a0}1.000.000,00"),
        "{errs:?}"
    );
    assert!(
        errs[2].message.contains("não pode ser negativo"),
        "{errs:?}"
    );
}

#[test]
fn header_names_what_is_missing() {
    let errs = parse("sku;nome;unidade;preco\nA;B;un;1\n").unwrap_err();
    assert_eq!(errs[0].line, 1);
    assert!(
        errs[0].message.contains("faltam as colunas custo"),
        "{errs:?}"
    );
    let errs = parse("sku;nome;cor\n").unwrap_err();
    assert!(
        errs[0].message.contains("coluna desconhecida \"cor\""),
        "{errs:?}"
    );
}

#[test]
fn model_spreadsheet_imports_back_unchanged() {
    let items = parse(DEMO_CATALOG_CSV).unwrap();
    let model = write_model_csv(&items);
    assert!(model.starts_with("\u{feff}sku;nome;unidade;preco;custo;peso_kg;apelidos\r\n"));
    assert!(
        model.contains(";36,90;30,50;50;"),
        "reais with comma: {model}"
    );
    assert_eq!(parse_catalog_file(model.as_bytes()).unwrap(), items);
    // And the product's own export still reads back too.
    assert_eq!(parse(&write_catalog_csv(&items)).unwrap(), items);
}

/// The model's `peso_kg` is pt-BR ("2.600" is a milheiro of telhas: 2.600 kg, never 2,6 kg,
/// which would make per-kg freight a thousand times too cheap); the export's `weight_kg` is
/// machine text, where "1.234" is 1,234 kg, so an export still imports back unchanged.
#[test]
fn weights_read_by_the_columns_convention() {
    let model = "sku;nome;unidade;preco;custo;peso_kg;apelidos\n\
                 TEL-COL;Telha colonial (milheiro);milheiro;1.450,00;900;2.600;\n\
                 PREGO;Prego 17x27;kg;20;10;1;\n\
                 AREIA;Areia;m3;150;100;1.500,5;\n\
                 FITA;Fita;un;5;2;0,2;\n\
                 LIXA;Lixa;un;2;1;2.5;\n";
    let items = parse(model).unwrap();
    let grams: Vec<i64> = items.iter().map(|i| i.weight_grams).collect();
    assert_eq!(grams, [2_600_000, 1_000, 1_500_500, 200, 2_500]);
    let export = "sku,name,unit,price_cents,cost_cents,weight_kg,aliases\n\
                  BROCA,Broca,un,900,500,1.234,\n";
    assert_eq!(parse(export).unwrap()[0].weight_grams, 1_234);
    let bad = parse("sku;nome;unidade;preco;custo;peso_kg;apelidos\nX;X;un;1;1;1.23.4;\n");
    let errs = bad.unwrap_err();
    assert!(errs[0].message.contains("peso em kg inválido"), "{errs:?}");
}

/// An owner's spreadsheet names units the way the shop says them: "saco", "unidade", "peça",
/// "m³"… Each reads as the catalog's code; something else is still refused with the list.
#[test]
fn units_as_spreadsheets_write_them() {
    let mut file = String::from("sku;nome;unidade;preco;custo;peso_kg;apelidos\n");
    let said = [
        ("saco", "sc"),
        ("Sacos", "sc"),
        ("m³", "m3"),
        ("metro", "m"),
        ("Unidade", "un"),
        ("und.", "un"),
        ("peça", "pc"),
        ("galão", "galao"),
        ("quilo", "kg"),
        ("milheiro", "milheiro"),
    ];
    for (i, (unit, _)) in said.iter().enumerate() {
        file += &format!("P{i};Produto {i};{unit};10;5;1;\n");
    }
    let items = parse(&file).unwrap();
    let codes: Vec<&str> = items.iter().map(|i| i.unit.code()).collect();
    let want: Vec<&str> = said.iter().map(|(_, c)| *c).collect();
    assert_eq!(codes, want);
    let errs =
        parse("sku;nome;unidade;preco;custo;peso_kg;apelidos\nX;X;litro;1;1;1;\n").unwrap_err();
    assert!(errs[0].message.contains("unidade desconhecida"), "{errs:?}");
}
