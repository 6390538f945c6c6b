//! The store's catalog: what it sells, in which unit, at which price and cost.
//!
//! The CSV format (`sku,name,unit,price_cents,cost_cents,weight_kg,aliases`) is the one of
//! `eval/catalog.csv`; it is used for the demo seed, the `parse` command and the dashboard's
//! import/export. Import is all-or-nothing: any bad row refuses the whole file, with one pt-BR
//! error per row.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::money::Centavos;

mod import;
pub use import::{
    decode_text, parse_catalog_csv, parse_catalog_file, parse_catalog_rows, write_model_csv,
    ImportedText, TextEncoding, MODEL_HEADER,
};

/// The unit a catalog item is sold in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    /// saco
    Sc,
    M3,
    M2,
    /// metro linear
    M,
    Un,
    Milheiro,
    Kg,
    Barra,
    Lata,
    Galao,
    Rolo,
    /// peça
    Pc,
}

impl Unit {
    pub const ALL: [Unit; 12] = [
        Unit::Sc,
        Unit::M3,
        Unit::M2,
        Unit::M,
        Unit::Un,
        Unit::Milheiro,
        Unit::Kg,
        Unit::Barra,
        Unit::Lata,
        Unit::Galao,
        Unit::Rolo,
        Unit::Pc,
    ];

    /// The code used in CSV files and the database.
    pub fn code(self) -> &'static str {
        match self {
            Unit::Sc => "sc",
            Unit::M3 => "m3",
            Unit::M2 => "m2",
            Unit::M => "m",
            Unit::Un => "un",
            Unit::Milheiro => "milheiro",
            Unit::Kg => "kg",
            Unit::Barra => "barra",
            Unit::Lata => "lata",
            Unit::Galao => "galao",
            Unit::Rolo => "rolo",
            Unit::Pc => "pc",
        }
    }

    /// How the unit reads in a message to the customer (`10 sc`, `2,5 m³`).
    pub fn label(self) -> &'static str {
        match self {
            Unit::Sc => "sc",
            Unit::M3 => "m³",
            Unit::M2 => "m²",
            Unit::M => "m",
            Unit::Un => "un",
            Unit::Milheiro => "milheiro",
            Unit::Kg => "kg",
            Unit::Barra => "barra",
            Unit::Lata => "lata",
            Unit::Galao => "galão",
            Unit::Rolo => "rolo",
            Unit::Pc => "pç",
        }
    }

    /// The label that agrees with a quantity: "1 lata", "3 latas", "2 galões". Abbreviations
    /// (sc, m³, kg, un, pç) do not vary. Plural above one, as people say it ("1,5 latas").
    pub fn label_for(self, quantity: crate::money::Quantity) -> &'static str {
        if quantity.thousandths() <= crate::money::QUANTITY_SCALE {
            return self.label();
        }
        match self {
            Unit::Milheiro => "milheiros",
            Unit::Barra => "barras",
            Unit::Lata => "latas",
            Unit::Galao => "galões",
            Unit::Rolo => "rolos",
            other => other.label(),
        }
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Unit {
    type Err = String;

    /// The code (`sc`, `m3`) and what an owner's spreadsheet says instead: the label (`m³`,
    /// `galão`, `pç`) and the word, singular or plural (`saco`, `sacos`, `unidade`, `und`,
    /// `peça`, `metro`, `quilo`…). Importing "saco" and being told to write "sc" lost people.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let word = s.trim().trim_end_matches('.').to_lowercase();
        let named = match word.as_str() {
            "saco" | "sacos" | "sc" | "scs" => Some(Unit::Sc),
            "m³" | "metro cúbico" | "metro cubico" | "metros cúbicos" | "metros cubicos" => {
                Some(Unit::M3)
            }
            "m²" | "metro quadrado" | "metros quadrados" => Some(Unit::M2),
            "metro" | "metros" | "mt" | "mts" => Some(Unit::M),
            "unidade" | "unidades" | "und" | "unid" | "un" | "uni" => Some(Unit::Un),
            "milheiros" | "mil" | "milheiro" => Some(Unit::Milheiro),
            "quilo" | "quilos" | "kilo" | "kilos" | "kg" | "kgs" => Some(Unit::Kg),
            "barras" | "br" | "vara" | "varas" => Some(Unit::Barra),
            "latas" => Some(Unit::Lata),
            "galão" | "galões" | "galoes" | "gl" | "gal" => Some(Unit::Galao),
            "rolos" => Some(Unit::Rolo),
            "pç" | "pçs" | "pcs" | "peça" | "peças" | "peca" | "pecas" => Some(Unit::Pc),
            _ => None,
        };
        named
            .or_else(|| Unit::ALL.into_iter().find(|u| u.code() == word))
            .ok_or_else(|| {
                format!(
                    "unidade desconhecida \"{s}\" (use uma de: {})",
                    unit_codes()
                )
            })
    }
}

fn unit_codes() -> String {
    Unit::ALL
        .iter()
        .map(|u| u.code())
        .collect::<Vec<_>>()
        .join(", ")
}

/// One product of the store's catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogItem {
    pub sku: String,
    pub name: String,
    pub unit: Unit,
    pub price: Centavos,
    pub cost: Centavos,
    /// Weight of one catalog unit, in grams (integer, so freight per kg stays exact).
    pub weight_grams: i64,
    /// Other ways customers name this product; the store's defaults for unqualified names
    /// ("cimento" → CP-II 50 kg) are aliases on the default item.
    pub aliases: Vec<String>,
    pub active: bool,
}

/// A catalog CSV row that cannot be imported, with a pt-BR explanation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CsvRowError {
    /// 1-based line number in the file (the header is line 1).
    pub line: usize,
    pub message: String,
}

impl fmt::Display for CsvRowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "linha {}: {}", self.line, self.message)
    }
}

pub const CSV_HEADER: [&str; 7] = [
    "sku",
    "name",
    "unit",
    "price_cents",
    "cost_cents",
    "weight_kg",
    "aliases",
];

/// The heaviest catalog unit: 100 t (a truckload of sand is about 30 t). Keeps the freight's
/// weight arithmetic far inside its range.
pub const MAX_WEIGHT_GRAMS: i64 = 100_000_000;

/// `7.4` kg → 7400 g. Up to three decimals (grams); a comma is accepted as decimal mark.
pub fn parse_weight_grams(field: &str) -> Result<i64, String> {
    let t = field.trim().replace(',', ".");
    let err = || format!("weight_kg (peso em kg) inválido \"{}\"", field.trim());
    let (int, frac) = t.split_once('.').unwrap_or((&t, ""));
    if int.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > 3
    {
        return Err(err());
    }
    let kg: i64 = int.parse().map_err(|_| err())?;
    let g: i64 = if frac.is_empty() {
        0
    } else {
        frac.parse::<i64>().map_err(|_| err())? * 10_i64.pow(3 - frac.len() as u32)
    };
    kg.checked_mul(1000)
        .and_then(|v| v.checked_add(g))
        .filter(|g| *g <= MAX_WEIGHT_GRAMS)
        .ok_or_else(|| {
            format!(
                "weight_kg (peso em kg) inválido \"{}\": no máximo 100000 kg",
                field.trim()
            )
        })
}

/// A weight as a person in Brazil writes it — the model spreadsheet's `peso_kg`, the catalog
/// form: `2,6` kg, `0,2` kg, and `2.600` is two thousand six hundred kg (a milheiro of telhas),
/// the dot being the thousands separator there; a lone dot with one or two decimals (`2.5`)
/// is still a decimal point. The export's `weight_kg` column is machine text (dot decimal):
/// [`parse_weight_grams`].
pub fn parse_weight_grams_br(field: &str) -> Result<i64, String> {
    let t = field.trim();
    let q: crate::money::Quantity = t
        .parse()
        .map_err(|_| format!("peso em kg inválido \"{t}\" (ex.: 50, 2,6 ou 1.450)"))?;
    let grams = q.thousandths();
    if grams > MAX_WEIGHT_GRAMS {
        return Err(format!("peso em kg inválido \"{t}\": no máximo 100.000 kg"));
    }
    Ok(grams)
}

/// Formats grams back as the CSV's `weight_kg` (`7400` → `7.4`).
pub fn format_weight_kg(grams: i64) -> String {
    crate::money::Quantity::from_thousandths(grams).to_decimal_string()
}

/// Writes items as a CSV that `parse_catalog_csv` reads back unchanged.
pub fn write_catalog_csv(items: &[CatalogItem]) -> String {
    write_csv(
        &CSV_HEADER,
        items.iter().map(|it| {
            vec![
                it.sku.clone(),
                it.name.clone(),
                it.unit.code().to_string(),
                it.price.0.to_string(),
                it.cost.0.to_string(),
                format_weight_kg(it.weight_grams),
                it.aliases.join("|"),
            ]
        }),
    )
}

/// The columns of the price list: the catalog without its cost.
pub const PRICE_LIST_HEADER: [&str; 6] =
    ["sku", "name", "unit", "price_cents", "weight_kg", "aliases"];

/// The catalog as an attendant may take it to the counter: prices, no costs (the catalog page
/// hides costs from attendants, and so does its export). Not an import file: importing is the
/// owner's, with the full catalog.
pub fn write_price_list_csv(items: &[CatalogItem]) -> String {
    write_csv(
        &PRICE_LIST_HEADER,
        items.iter().map(|it| {
            vec![
                it.sku.clone(),
                it.name.clone(),
                it.unit.code().to_string(),
                it.price.0.to_string(),
                format_weight_kg(it.weight_grams),
                it.aliases.join("|"),
            ]
        }),
    )
}

/// A CSV file with every cell through [`csv_cell`]: the one writer of every CSV export.
pub fn write_csv(header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> String {
    let mut out = header.join(",");
    out.push('\n');
    for row in rows {
        let line: Vec<String> = row.iter().map(|f| csv_cell(f)).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out
}

/// What makes a spreadsheet read a cell as a formula (OWASP "CSV injection"), and the
/// apostrophe that neutralises it.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];
const GUARD: char = '\'';

/// A number as the product writes it (`3690`, `-12`, `7.4`): a spreadsheet reads it as a
/// number, never as a formula, so it stays numeric.
fn is_plain_number(field: &str) -> bool {
    let digits = field.strip_prefix('-').unwrap_or(field);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, "0"));
    !int.is_empty()
        && !frac.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
}

/// One CSV cell, safe to open in a spreadsheet: a text starting with `=`, `+`, `-`, `@`, tab
/// or CR is prefixed with `'` (and so is one starting with `'`, so that [`csv_unguard`] can
/// tell the two apart and import gives back exactly what was exported); then RFC 4180 quoting.
pub fn csv_cell(field: &str) -> String {
    let needs_guard = !is_plain_number(field)
        && field.starts_with(|c: char| FORMULA_STARTS.contains(&c) || c == GUARD);
    let f = if needs_guard {
        format!("{GUARD}{field}")
    } else {
        field.to_string()
    };
    if f.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", f.replace('"', "\"\""))
    } else {
        f
    }
}

/// Undoes [`csv_cell`]'s guard on import: one leading `'` before a formula character or
/// another `'` is removed. Any other `'` is the store's own text and stays.
pub fn csv_unguard(field: &str) -> &str {
    match field.strip_prefix(GUARD) {
        Some(rest) if rest.starts_with(|c: char| FORMULA_STARTS.contains(&c) || c == GUARD) => rest,
        _ => field,
    }
}

/// RFC 4180-style splitting of a comma-separated text (what the product writes).
#[cfg(test)]
fn split_csv(text: &str) -> Result<Vec<(usize, Vec<String>)>, CsvRowError> {
    split_records(text, ',')
}

/// RFC 4180-style splitting on `sep`, with line numbers of each record's first line.
fn split_records(text: &str, sep: char) -> Result<Vec<(usize, Vec<String>)>, CsvRowError> {
    let mut rows = Vec::new();
    let mut field = String::new();
    let mut fields = Vec::new();
    let mut in_quotes = false;
    let mut line = 1;
    let mut record_line = 1;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => in_quotes = false,
                '\n' => {
                    line += 1;
                    field.push('\n');
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => in_quotes = true,
            c if c == sep => fields.push(std::mem::take(&mut field)),
            '\r' => {}
            '\n' => {
                fields.push(std::mem::take(&mut field));
                rows.push((record_line, std::mem::take(&mut fields)));
                line += 1;
                record_line = line;
            }
            _ => field.push(c),
        }
    }
    if in_quotes {
        return Err(CsvRowError {
            line: record_line,
            message: "aspas abertas e não fechadas".into(),
        });
    }
    if !field.is_empty() || !fields.is_empty() {
        fields.push(field);
        rows.push((record_line, fields));
    }
    Ok(rows)
}

/// The demo store's catalog (`eval/catalog.csv`), embedded in the binary.
pub const DEMO_CATALOG_CSV: &str = include_str!("../../../eval/catalog.csv");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_catalog_parses_and_round_trips() {
        let items = parse_catalog_csv(DEMO_CATALOG_CSV).expect("demo catalog is valid");
        assert_eq!(items.len(), 73);
        let cim = items.iter().find(|i| i.sku == "CIM-CP2-50").unwrap();
        assert_eq!(cim.price, Centavos(3690));
        assert_eq!(cim.cost, Centavos(3050));
        assert_eq!(cim.weight_grams, 50_000);
        assert!(cim.aliases.contains(&"cimento".to_string()));
        let again = parse_catalog_csv(&write_catalog_csv(&items)).unwrap();
        assert_eq!(again, items);
    }

    #[test]
    fn bad_rows_are_all_reported_and_nothing_returned() {
        let csv = "sku,name,unit,price_cents,cost_cents,weight_kg,aliases\n\
                   A-1,Areia,m3,100,50,1500,areia\n\
                   B-2,Brita,litro,100,50,1,\n\
                   C-3,Cal,sc,abc,50,20,\n\
                   A-1,Outra,un,1,1,1,\n";
        let errs = parse_catalog_csv(csv).unwrap_err();
        let lines: Vec<usize> = errs.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![3, 4, 5]);
        assert!(errs[0].message.contains("unidade desconhecida"));
        assert!(errs[1].message.contains("price_cents"));
        assert!(errs[2].message.contains("repetido"));
    }

    #[test]
    fn unit_labels_agree_with_the_quantity() {
        use crate::money::Quantity;
        let q = |t: i64| Quantity::from_thousandths(t);
        assert_eq!(Unit::Lata.label_for(q(1000)), "lata");
        assert_eq!(Unit::Lata.label_for(q(3000)), "latas");
        assert_eq!(Unit::Lata.label_for(q(500)), "lata");
        assert_eq!(Unit::Galao.label_for(q(1500)), "galões");
        assert_eq!(Unit::Barra.label_for(q(12_000)), "barras");
        assert_eq!(Unit::Sc.label_for(q(10_000)), "sc");
        assert_eq!(Unit::M3.label_for(q(2500)), "m³");
    }

    #[test]
    fn wrong_header_is_refused() {
        let errs = parse_catalog_csv("a,b\n1,2\n").unwrap_err();
        assert_eq!(errs[0].line, 1);
    }

    #[test]
    fn formula_injection_is_neutralised_on_export() {
        let item = CatalogItem {
            sku: "X-1".into(),
            name: "=HYPERLINK(\"http://x\")".into(),
            unit: Unit::Un,
            price: Centavos(1),
            cost: Centavos(1),
            weight_grams: 0,
            aliases: vec![],
            active: true,
        };
        let csv = write_catalog_csv(&[item]);
        assert!(csv.contains("\"'=HYPERLINK"));
    }
    fn named(name: &str, aliases: &[&str]) -> CatalogItem {
        CatalogItem {
            sku: "X-1".into(),
            name: name.into(),
            unit: Unit::Un,
            price: Centavos(1),
            cost: Centavos(0),
            weight_grams: 0,
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
            active: true,
        }
    }

    /// The payloads of the security test (issue 10 item 8) and the other formula starts.
    const ATTACKS: [&str; 8] = [
        "-2+3+cmd|' /C calc'!A0",
        "-1+HYPERLINK(\"http://evil.example\",\"clique\")",
        "=1+1",
        "+55 11 9999",
        "@SUM(A1:A2)",
        "\t=1+1",
        "\r=1+1",
        "'=já protegido",
    ];

    #[test]
    fn every_formula_start_is_neutralised_and_imports_back_unchanged() {
        for attack in ATTACKS {
            let item = named(attack, &[attack]);
            let csv = write_catalog_csv(std::slice::from_ref(&item));
            let row = &split_csv(&csv).unwrap()[1].1;
            for cell in [&row[1], &row[6]] {
                assert!(
                    cell.starts_with('\''),
                    "{attack:?} exported as {cell:?}, which a spreadsheet would run"
                );
            }
            let back = parse_catalog_csv(&csv).unwrap();
            assert_eq!(back[0].name, attack, "round trip of {attack:?}");
            let aliases: Vec<String> = attack.split('|').map(|a| a.trim().to_string()).collect();
            assert_eq!(back[0].aliases, aliases);
        }
    }

    #[test]
    fn numbers_the_product_writes_stay_numeric() {
        assert_eq!(csv_cell("3690"), "3690");
        assert_eq!(csv_cell("-12"), "-12");
        assert_eq!(csv_cell("7.4"), "7.4");
        assert_eq!(csv_cell("-1+2"), "'-1+2");
        assert_eq!(csv_cell("-"), "'-");
        // An apostrophe the store typed before ordinary text is left alone both ways.
        assert_eq!(csv_cell("'Tijolo'"), "''Tijolo'");
        assert_eq!(csv_unguard("'abc"), "'abc");
    }

    #[test]
    fn price_list_has_no_cost_column() {
        let csv = write_price_list_csv(&[named("-1+HYPERLINK(1)", &[])]);
        let rows = split_csv(&csv).unwrap();
        assert_eq!(rows[0].1, PRICE_LIST_HEADER);
        assert!(!csv.contains("cost"));
        assert_eq!(rows[1].1[1], "'-1+HYPERLINK(1)");
    }

    #[test]
    fn import_bounds_money_and_weight_and_replaces_nul() {
        let head = "sku,name,unit,price_cents,cost_cents,weight_kg,aliases\n";
        let errs = parse_catalog_csv(&format!(
            "{head}A-1,A,un,100000001,1,1,\nB-2,B,un,100,-5,1,\nC-3,C,un,0,0,1,\nD-4,D,un,1,1,100000.001,\n"
        ))
        .unwrap_err();
        let msgs: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
        assert!(
            msgs[0].contains("no máximo R$\u{a0}1.000.000,00"),
            "{msgs:?}"
        );
        assert!(msgs[1].contains("não pode ser negativo"), "{msgs:?}");
        assert!(msgs[2].contains("pelo menos R$\u{a0}0,01"), "{msgs:?}");
        assert!(msgs[3].contains("no máximo 100000 kg"), "{msgs:?}");
        let items =
            parse_catalog_csv(&format!("{head}N-1,Nome\0com nulo,un,1,1,1,a\0b\n")).unwrap();
        assert_eq!(items[0].name, "Nome\u{FFFD}com nulo");
        assert_eq!(items[0].aliases, vec!["a\u{FFFD}b".to_string()]);
    }
}
