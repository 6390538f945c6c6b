//! Catalog import of the files Brazilian stores have (issue 12 item 9), uploaded through the
//! real HTTP server as a browser sends them (multipart, bytes untouched): Excel's `;` CSV in
//! Windows-1252 with prices in reais, the model the page hands out, and the workbooks themselves
//! (`.xlsx` made by openpyxl; `.xlsx`/`.ods` written here cell by cell to place errors on chosen
//! rows).
//! SQLite always, PostgreSQL too when `ORCAZAP_TEST_POSTGRES_URL` is set. The fixtures under
//! `fixtures/catalog/` were written by other tools (Python's cp1252 codec, openpyxl), not by us.

use domain::catalog::CatalogItem;
use domain::money::Centavos;
use testkit::*;

both_engines!(
    TestApp;
    windows_1252_semicolon_file_imports_unmangled,
    excel_workbook_imports_like_its_csv,
    a_bad_row_of_a_workbook_is_named_by_its_row_in_the_sheet,
    libreoffice_workbook_imports,
    a_broken_workbook_is_refused_and_nothing_changes,
    a_bad_row_of_an_uploaded_file_is_named_and_nothing_is_applied,
    model_spreadsheet_downloads_and_imports_back,
    upload_without_the_csrf_token_is_refused,
);

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../../fixtures/catalog/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

async fn item(app: &TestApp, sku: &str) -> Option<CatalogItem> {
    store::catalog::list(&app.db, &app.demo.tenant_id)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.item)
        .find(|i| i.sku == sku)
}

async fn windows_1252_semicolon_file_imports_unmangled(app: &TestApp) {
    let bytes = fixture("catalogo-excel-1252.csv");
    assert!(
        std::str::from_utf8(&bytes).is_err(),
        "fixture is Windows-1252"
    );
    let s = app.as_owner().await;
    s.post_file(
        "/catalogo/importar",
        &[("csv", "")],
        ("arquivo", "catalogo.csv", &bytes),
    )
    .await
    .page_with_status(303)
    .await;
    let vaso = item(app, "VASO-1").await.expect("imported");
    assert_eq!(vaso.name, "Vaso sanitário com caixa acoplada");
    assert_eq!(
        (vaso.price, vaso.cost),
        (Centavos(123_456), Centavos(98_010))
    );
    assert_eq!(vaso.weight_grams, 18_500);
    let tinta = item(app, "TINTA-18").await.unwrap();
    assert_eq!(tinta.name, "Tinta acrílica fosca 18 L");
    assert_eq!(
        (tinta.price, tinta.cost),
        (Centavos(35_000), Centavos(21_030))
    );
    let prego = item(app, "PREGO-1").await.unwrap();
    assert_eq!(prego.name, "Prego 17x27 (kg) – caixa");
    assert_eq!((prego.price, prego.cost), (Centavos(10), Centavos(7)));
    let page = s.page("/catalogo?q=vaso").await;
    assert!(page.contains("Vaso sanitário"), "{page}");
    assert!(!page.contains('\u{FFFD}'), "mangled text on the page");
}

/// The owner's Excel file, as Excel wrote it (numbers as numbers, a cost computed by a formula
/// with binary noise: `0.07000000000000001`): the same products, to the centavo, as its CSV.
async fn excel_workbook_imports_like_its_csv(app: &TestApp) {
    let s = app.as_owner().await;
    s.post_file(
        "/catalogo/importar",
        &[],
        ("arquivo", "Catálogo.xlsx", &fixture("catalogo-excel.xlsx")),
    )
    .await
    .page_with_status(303)
    .await;
    let vaso = item(app, "VASO-1").await.expect("imported");
    assert_eq!(vaso.name, "Vaso sanitário com caixa acoplada");
    assert_eq!(
        (vaso.price, vaso.cost, vaso.weight_grams),
        (Centavos(123_456), Centavos(98_010), 18_500)
    );
    assert_eq!(vaso.aliases, ["vaso", "privada"]);
    let tinta = item(app, "TINTA-18").await.unwrap();
    assert_eq!(
        (tinta.price, tinta.cost, tinta.weight_grams),
        (Centavos(35_000), Centavos(21_030), 20_000)
    );
    let prego = item(app, "PREGO-1").await.unwrap();
    assert_eq!((prego.price, prego.cost), (Centavos(10), Centavos(7)));
}

/// A title row left empty above the header: errors name the row Excel shows at the left, and a
/// price with three decimals is refused like in a CSV, not rounded.
async fn a_bad_row_of_a_workbook_is_named_by_its_row_in_the_sheet(app: &TestApp) {
    let s = app.as_owner().await;
    let book = sheet::xlsx(&[
        &[],
        &[
            "sku", "nome", "unidade", "preco", "custo", "peso_kg", "apelidos",
        ],
        &["OK-1", "Areia média", "m3", "#120", "#80", "#1500", "areia"],
        &["RUIM-2", "Brita", "litro", "#100", "#50", "#1", ""],
        &["RUIM-3", "Cal", "sc", "#12.345", "#5", "#20", ""],
    ]);
    let body = s
        .post_file("/catalogo/importar", &[], ("arquivo", "erros.xlsx", &book))
        .await
        .page_with_status(422)
        .await;
    assert!(body.contains("linha 4: unidade desconhecida"), "{body}");
    assert!(body.contains("linha 5: preço"), "{body}");
    assert!(!body.contains("linha 3"), "the good row is fine: {body}");
    assert!(item(app, "OK-1").await.is_none(), "nothing applied");
}

/// LibreOffice Calc's own format (`.ods`), common on the shop's second-hand computer.
async fn libreoffice_workbook_imports(app: &TestApp) {
    let s = app.as_owner().await;
    let book = sheet::ods(&[
        &[
            "sku", "nome", "unidade", "preço", "custo", "peso_kg", "apelidos",
        ],
        &[
            "CAL-20",
            "Cal hidratada 20 kg",
            "sc",
            "#18.9",
            "#11",
            "#20",
            "cal",
        ],
    ]);
    s.post_file(
        "/catalogo/importar",
        &[],
        ("arquivo", "catalogo.ods", &book),
    )
    .await
    .page_with_status(303)
    .await;
    let cal = item(app, "CAL-20").await.expect("imported");
    assert_eq!(cal.name, "Cal hidratada 20 kg");
    assert_eq!((cal.price, cal.cost), (Centavos(1_890), Centavos(1_100)));
}

/// A zip that is not a workbook (or a damaged one): a sentence saying what to do, and nothing
/// changes — not a 500, not a half import.
async fn a_broken_workbook_is_refused_and_nothing_changes(app: &TestApp) {
    let s = app.as_owner().await;
    let mut broken = fixture("catalogo-excel.xlsx");
    broken.truncate(broken.len() / 2);
    let body = s
        .post_file(
            "/catalogo/importar",
            &[],
            ("arquivo", "Catálogo.xlsx", &broken),
        )
        .await
        .page_with_status(422)
        .await;
    assert!(body.contains("não foi possível ler a planilha"), "{body}");
    assert!(item(app, "VASO-1").await.is_none(), "nothing applied");
}

/// Workbooks written cell by cell: a cell starting with `#` is a number, anything else text.
mod sheet {
    use std::io::Write;
    use zip::write::SimpleFileOptions;

    fn zip(files: &[(&str, String)]) -> Vec<u8> {
        let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let stored =
            SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        for (name, text) in files {
            out.start_file(*name, stored).unwrap();
            out.write_all(text.as_bytes()).unwrap();
        }
        out.finish().unwrap().into_inner()
    }

    fn column(i: usize) -> char {
        (b'A' + i as u8) as char
    }

    pub fn xlsx(rows: &[&[&str]]) -> Vec<u8> {
        let mut data = String::new();
        for (r, row) in rows.iter().enumerate() {
            data += &format!("<row r=\"{}\">", r + 1);
            for (c, cell) in row.iter().enumerate() {
                let at = format!("{}{}", column(c), r + 1);
                data += &match cell.strip_prefix('#') {
                    Some(n) => format!("<c r=\"{at}\" t=\"n\"><v>{n}</v></c>"),
                    None => format!("<c r=\"{at}\" t=\"inlineStr\"><is><t>{cell}</t></is></c>"),
                };
            }
            data += "</row>";
        }
        let main = "http://schemas.openxmlformats.org";
        zip(&[
            (
                "[Content_Types].xml",
                format!(
                    r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="{main}/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#
                ),
            ),
            (
                "_rels/.rels",
                format!(
                    r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{main}/package/2006/relationships"><Relationship Id="rId1" Type="{main}/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#
                ),
            ),
            (
                "xl/workbook.xml",
                format!(
                    r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{main}/spreadsheetml/2006/main" xmlns:r="{main}/officeDocument/2006/relationships"><sheets><sheet name="Produtos" sheetId="1" r:id="rId1"/></sheets></workbook>"#
                ),
            ),
            (
                "xl/_rels/workbook.xml.rels",
                format!(
                    r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{main}/package/2006/relationships"><Relationship Id="rId1" Type="{main}/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#
                ),
            ),
            (
                "xl/worksheets/sheet1.xml",
                format!(
                    r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{main}/spreadsheetml/2006/main"><sheetData>{data}</sheetData></worksheet>"#
                ),
            ),
        ])
    }

    pub fn ods(rows: &[&[&str]]) -> Vec<u8> {
        let mut data = String::new();
        for row in rows {
            data += "<table:table-row>";
            for cell in *row {
                data += &match cell.strip_prefix('#') {
                    Some(n) => format!(
                        r#"<table:table-cell office:value-type="float" office:value="{n}"><text:p>{n}</text:p></table:table-cell>"#
                    ),
                    None => format!(
                        r#"<table:table-cell office:value-type="string"><text:p>{cell}</text:p></table:table-cell>"#
                    ),
                };
            }
            data += "</table:table-row>";
        }
        let ns = "urn:oasis:names:tc:opendocument:xmlns";
        zip(&[
            (
                "mimetype",
                "application/vnd.oasis.opendocument.spreadsheet".into(),
            ),
            (
                "META-INF/manifest.xml",
                format!(
                    r#"<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="{ns}:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#
                ),
            ),
            (
                "content.xml",
                format!(
                    r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="{ns}:office:1.0" xmlns:table="{ns}:table:1.0" xmlns:text="{ns}:text:1.0" office:version="1.2"><office:body><office:spreadsheet><table:table table:name="Produtos">{data}</table:table></office:spreadsheet></office:body></office:document-content>"#
                ),
            ),
        ])
    }
}

async fn a_bad_row_of_an_uploaded_file_is_named_and_nothing_is_applied(app: &TestApp) {
    let s = app.as_owner().await;
    let file = "sku;nome;unidade;preço;custo;peso_kg;apelidos\r\n\
                OK-1;Areia média;m3;120,00;80,00;1500;areia\r\n\
                RUIM-2;Brita;litro;100,00;50,00;1;\r\n\
                RUIM-3;Cal;sc;abc;5;20;\r\n";
    let body = s
        .post_file(
            "/catalogo/importar",
            &[],
            ("arquivo", "erros.csv", file.as_bytes()),
        )
        .await
        .page_with_status(422)
        .await;
    assert!(body.contains("linha 3: unidade desconhecida"), "{body}");
    assert!(body.contains("linha 4: preço inválido"), "{body}");
    assert!(
        !body.contains("linha 2"),
        "the good row is not an error: {body}"
    );
    assert!(item(app, "OK-1").await.is_none(), "nothing applied");
}

async fn model_spreadsheet_downloads_and_imports_back(app: &TestApp) {
    let s = app.as_owner().await;
    let r = s
        .get("/catalogo/modelo.csv")
        .answer()
        .await
        .expect_status(200);
    assert!(r
        .header_text("content-disposition")
        .is_some_and(|d| d.contains("modelo-catalogo.csv")));
    let model = r.bytes().await.unwrap().to_vec();
    let text = std::str::from_utf8(&model).unwrap();
    assert!(
        text.starts_with("\u{feff}sku;nome;unidade;preco;custo;peso_kg;apelidos\r\n"),
        "{text}"
    );
    assert!(text.contains(";36,90;30,50;"), "reais with comma: {text}");
    let page = s.page("/catalogo").await;
    assert!(
        page.contains("href=\"/catalogo/modelo.csv\""),
        "page links the model"
    );
    // The model, renamed and re-priced by the owner, imports.
    let edited = text
        .replace("CIM-CP2-50", "MODELO-1")
        .replace(";36,90;", ";R$ 1.036,90;");
    s.post_file(
        "/catalogo/importar",
        &[],
        ("arquivo", "modelo-catalogo.csv", edited.as_bytes()),
    )
    .await
    .page_with_status(303)
    .await;
    assert_eq!(
        item(app, "MODELO-1").await.unwrap().price,
        Centavos(103_690)
    );
}

async fn upload_without_the_csrf_token_is_refused(app: &TestApp) {
    let mut s = app.as_owner().await;
    s.csrf = "forjado".into();
    s.post_file(
        "/catalogo/importar",
        &[],
        ("arquivo", "c.csv", &fixture("catalogo-excel-1252.csv")),
    )
    .await
    .expect_status(403);
    assert!(item(app, "VASO-1").await.is_none());
}
