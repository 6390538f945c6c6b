//! Reading a catalog file the way Brazilian stores have it (issue 12 item 9): Excel saves
//! `;`-separated files in Windows-1252 with prices like `R$ 1.234,56`; the product's own export
//! is `,`-separated UTF-8 with prices in centavos. Both import, and so does the model
//! spreadsheet the dashboard hands out. Import is all-or-nothing: any bad row refuses the whole
//! file, with one pt-BR error per row naming its line.

use std::collections::HashMap;

use crate::money::{limits, Centavos, MoneyLimit};
use crate::sanitize::storable;

use super::{
    csv_unguard, format_weight_kg, parse_weight_grams, parse_weight_grams_br, split_records,
    CatalogItem, CsvRowError, Unit, CSV_HEADER,
};

/// How a file's bytes were read, to tell the owner what was understood.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEncoding {
    Utf8,
    Windows1252,
}

/// A catalog file's text, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedText {
    pub text: String,
    pub encoding: TextEncoding,
}

/// Windows-1252's bytes 0x80–0x9F (the rest of the high half is Latin-1, the same code points
/// as Unicode). `None` marks the five bytes the code page leaves undefined: a file that has
/// them is neither UTF-8 nor Windows-1252, and is refused rather than guessed.
const CP1252_HIGH: [Option<char>; 32] = [
    Some('€'),
    None,
    Some('‚'),
    Some('ƒ'),
    Some('„'),
    Some('…'),
    Some('†'),
    Some('‡'),
    Some('ˆ'),
    Some('‰'),
    Some('Š'),
    Some('‹'),
    Some('Œ'),
    None,
    Some('Ž'),
    None,
    None,
    Some('‘'),
    Some('’'),
    Some('“'),
    Some('”'),
    Some('•'),
    Some('–'),
    Some('—'),
    Some('˜'),
    Some('™'),
    Some('š'),
    Some('›'),
    Some('œ'),
    None,
    Some('ž'),
    Some('Ÿ'),
];

/// Decodes a text file: UTF-8 (a BOM is dropped) when the bytes are valid UTF-8, else
/// Windows-1252 (what Excel's "CSV (separado por vírgulas)" writes on a Brazilian Windows).
/// A text with accents in Windows-1252 is practically never valid UTF-8 (an accented letter
/// is one byte ≥ 0x80 followed by ASCII), so the order of the two checks decides nothing
/// wrongly. Any other encoding is refused with the reason; nothing is ever replaced by `�`.
pub fn decode_text(bytes: &[u8]) -> Result<ImportedText, CsvRowError> {
    let refuse = |message: &str| CsvRowError {
        line: 1,
        message: message.into(),
    };
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(refuse(
            "o arquivo está em UTF-16 (\"Texto Unicode\"): salve como \"CSV UTF-8\" ou \"CSV (separado por vírgulas)\"",
        ));
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(ImportedText {
            text: text.to_string(),
            encoding: TextEncoding::Utf8,
        });
    }
    let mut text = String::with_capacity(bytes.len() + bytes.len() / 8);
    let mut line = 1;
    for &b in bytes {
        let c = match b {
            0x80..=0x9F => CP1252_HIGH[usize::from(b - 0x80)].ok_or_else(|| CsvRowError {
                line,
                message: format!(
                    "o arquivo não está em UTF-8 nem em Windows-1252 (byte 0x{b:02X}): salve como \"CSV UTF-8\""
                ),
            })?,
            _ => char::from(b),
        };
        if c == '\n' {
            line += 1;
        }
        text.push(c);
    }
    Ok(ImportedText {
        text,
        encoding: TextEncoding::Windows1252,
    })
}

/// Parses a catalog file's bytes as text (see [`decode_text`] and [`parse_catalog_csv`]).
pub fn parse_catalog_file(bytes: &[u8]) -> Result<Vec<CatalogItem>, Vec<CsvRowError>> {
    let decoded = decode_text(bytes).map_err(|e| vec![e])?;
    parse_catalog_csv(&decoded.text)
}

/// Parses a whole catalog CSV, `,`, `;` or tab separated (whichever the header line uses
/// most, outside quotes). Either every row is valid and all items are returned, or the errors
/// of every bad row are returned and nothing may be applied.
pub fn parse_catalog_csv(text: &str) -> Result<Vec<CatalogItem>, Vec<CsvRowError>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let rows = split_records(text, separator_of(text)).map_err(|e| vec![e])?;
    parse_catalog_rows(rows)
}

/// The separator the header line uses most, outside quotes; `,` when it uses none.
fn separator_of(text: &str) -> char {
    let mut counts = [(',', 0usize), (';', 0), ('\t', 0)];
    let mut in_quotes = false;
    for c in text.chars() {
        match c {
            '"' => in_quotes = !in_quotes,
            '\n' if !in_quotes => break,
            _ if !in_quotes => {
                if let Some(n) = counts.iter_mut().find(|(s, _)| *s == c) {
                    n.1 += 1;
                }
            }
            _ => {}
        }
    }
    // `max_by_key` keeps the last of equals: ties go to the first listed, `,`.
    counts
        .iter()
        .rev()
        .max_by_key(|(_, n)| *n)
        .map(|(s, _)| *s)
        .unwrap_or(',')
}

/// One column of the catalog file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Column {
    Sku,
    Name,
    Unit,
    Price,
    Cost,
    Weight,
    Aliases,
}

/// How a price column's plain integers read. A comma or `R$` always means reais.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MoneyIn {
    /// `price_cents`: `3690` is R$ 36,90 (the product's export).
    Centavos,
    /// `preco`: `3690` is R$ 3.690,00 (what a person types in a spreadsheet).
    Reais,
}

/// The model spreadsheet's header: pt-BR names, money in reais.
pub const MODEL_HEADER: [&str; 7] = [
    "sku", "nome", "unidade", "preco", "custo", "peso_kg", "apelidos",
];

/// Every header name understood, lower-case, for each column.
fn column_named(name: &str) -> Option<(Column, Option<MoneyIn>)> {
    let n = name.trim().trim_matches('"').trim().to_lowercase();
    Some(match n.as_str() {
        "sku" | "código" | "codigo" => (Column::Sku, None),
        "name" | "nome" | "produto" | "descrição" | "descricao" => (Column::Name, None),
        "unit" | "unidade" => (Column::Unit, None),
        "price_cents" => (Column::Price, Some(MoneyIn::Centavos)),
        "preco" | "preço" | "preco (r$)" | "preço (r$)" | "price" => {
            (Column::Price, Some(MoneyIn::Reais))
        }
        "cost_cents" => (Column::Cost, Some(MoneyIn::Centavos)),
        "custo" | "custo (r$)" | "cost" => (Column::Cost, Some(MoneyIn::Reais)),
        "weight_kg" | "peso_kg" | "peso (kg)" | "peso" => (Column::Weight, None),
        "aliases" | "apelidos" => (Column::Aliases, None),
        _ => return None,
    })
}

const COLUMNS: [(Column, &str); 7] = [
    (Column::Sku, "sku"),
    (Column::Name, "nome"),
    (Column::Unit, "unidade"),
    (Column::Price, "preco ou price_cents"),
    (Column::Cost, "custo ou cost_cents"),
    (Column::Weight, "peso_kg"),
    (Column::Aliases, "apelidos"),
];

/// Where each column is in the file, and how its money reads.
struct Layout {
    at: HashMap<Column, usize>,
    price: MoneyIn,
    cost: MoneyIn,
    /// `weight_kg` (the export) is machine text with a dot decimal; any pt-BR name is read
    /// the pt-BR way ("2.600" = 2600 kg).
    weight_br: bool,
    width: usize,
}

impl Layout {
    fn of(header: &[String]) -> Result<Layout, CsvRowError> {
        let expected = || {
            format!(
                "cabeçalho esperado: {} (exportação) ou {} (modelo)",
                CSV_HEADER.join(","),
                MODEL_HEADER.join(";")
            )
        };
        let mut at = HashMap::new();
        let (mut price, mut cost) = (MoneyIn::Centavos, MoneyIn::Centavos);
        let mut weight_br = true;
        for (i, name) in header.iter().enumerate() {
            let Some((column, money)) = column_named(name) else {
                if name.trim().is_empty() {
                    continue;
                }
                return Err(CsvRowError {
                    line: 1,
                    message: format!("coluna desconhecida \"{}\"; {}", name.trim(), expected()),
                });
            };
            if at.insert(column, i).is_some() {
                return Err(CsvRowError {
                    line: 1,
                    message: format!("coluna repetida \"{}\"", name.trim()),
                });
            }
            if column == Column::Weight {
                weight_br = name.trim().trim_matches('"').trim().to_lowercase() != "weight_kg";
            }
            match (column, money) {
                (Column::Price, Some(m)) => price = m,
                (Column::Cost, Some(m)) => cost = m,
                _ => {}
            }
        }
        let missing: Vec<&str> = COLUMNS
            .iter()
            .filter(|(c, _)| !at.contains_key(c))
            .map(|(_, n)| *n)
            .collect();
        if !missing.is_empty() {
            return Err(CsvRowError {
                line: 1,
                message: format!("faltam as colunas {}; {}", missing.join(", "), expected()),
            });
        }
        Ok(Layout {
            at,
            price,
            cost,
            weight_br,
            width: header.len(),
        })
    }

    fn cell<'a>(&self, fields: &'a [String], column: Column) -> &'a str {
        fields[self.at[&column]].trim()
    }
}

/// Parses the records of a catalog file (CSV or a spreadsheet's first sheet), the first being
/// the header; line numbers are the file's (the header is line 1).
pub fn parse_catalog_rows(
    rows: Vec<(usize, Vec<String>)>,
) -> Result<Vec<CatalogItem>, Vec<CsvRowError>> {
    let mut rows = rows.into_iter();
    let layout = match rows.next() {
        Some((_, header)) => Layout::of(&header).map_err(|e| vec![e])?,
        None => {
            return Err(vec![CsvRowError {
                line: 1,
                message: "arquivo vazio".into(),
            }])
        }
    };
    let mut errors = Vec::new();
    let mut items: Vec<CatalogItem> = Vec::new();
    let mut seen = HashMap::new();
    for (line, fields) in rows {
        if fields.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        match parse_row(&layout, &fields) {
            Ok(item) => {
                if let Some(prev) = seen.insert(item.sku.clone(), line) {
                    errors.push(CsvRowError {
                        line,
                        message: format!("SKU {} repetido (já aparece na linha {prev})", item.sku),
                    });
                } else {
                    items.push(item);
                }
            }
            Err(message) => errors.push(CsvRowError { line, message }),
        }
    }
    if errors.is_empty() {
        Ok(items)
    } else {
        Err(errors)
    }
}

fn parse_row(layout: &Layout, fields: &[String]) -> Result<CatalogItem, String> {
    // A spreadsheet may carry empty cells past the last column; anything else is a row that
    // does not fit its header.
    let extra_filled = fields
        .iter()
        .skip(layout.width)
        .any(|f| !f.trim().is_empty());
    if fields.len() < layout.width || extra_filled {
        return Err(format!(
            "esperadas {} colunas, encontradas {}",
            layout.width,
            fields.len()
        ));
    }
    let raw_sku = layout.cell(fields, Column::Sku);
    let sku = csv_unguard(raw_sku).to_uppercase();
    if sku.is_empty()
        || sku.len() > 40
        || !sku
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(format!(
            "SKU inválido \"{raw_sku}\" (letras, números e hífen, até 40)"
        ));
    }
    let name = storable(csv_unguard(layout.cell(fields, Column::Name))).into_owned();
    if name.is_empty() || name.chars().count() > 120 {
        return Err("nome vazio ou com mais de 120 caracteres".into());
    }
    let unit: Unit = layout.cell(fields, Column::Unit).parse()?;
    let price = parse_money(
        layout.cell(fields, Column::Price),
        layout.price,
        ("price_cents (preço em centavos)", "preço"),
        limits::CATALOG_PRICE,
    )?;
    let cost = parse_money(
        layout.cell(fields, Column::Cost),
        layout.cost,
        ("cost_cents (custo em centavos)", "custo"),
        limits::CATALOG_COST,
    )?;
    let weight = layout.cell(fields, Column::Weight);
    let weight_grams = if layout.weight_br {
        parse_weight_grams_br(weight)?
    } else {
        parse_weight_grams(weight)?
    };
    let aliases = storable(csv_unguard(layout.cell(fields, Column::Aliases)))
        .split('|')
        .map(|a| a.trim().to_string())
        .filter(|a| !a.is_empty())
        .collect();
    Ok(CatalogItem {
        sku,
        name,
        unit,
        price,
        cost,
        weight_grams,
        aliases,
        active: true,
    })
}

/// One money cell, exact to the centavo (text in, integer out: never a float). In a centavos
/// column a plain integer is centavos; a comma or `R$` means reais (`350,00`, `R$ 1.234,56`),
/// and in a reais column everything is reais.
fn parse_money(
    t: &str,
    money_in: MoneyIn,
    (cents_name, reais_name): (&str, &str),
    limit: MoneyLimit,
) -> Result<Centavos, String> {
    let is_integer = {
        let digits = t.strip_prefix('-').unwrap_or(t);
        !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
    };
    let reais_text = t.contains(',') || t.starts_with("R$");
    if money_in == MoneyIn::Centavos && is_integer && !reais_text {
        let v: i64 = t
            .parse()
            .map_err(|_| format!("{cents_name} \"{t}\": no máximo {}", limit.max.to_brl()))?;
        return limit
            .check(Centavos(v))
            .map_err(|e| format!("{cents_name} \"{t}\": {e}"));
    }
    let what = if money_in == MoneyIn::Centavos {
        cents_name
    } else {
        reais_name
    };
    match Centavos::parse_brl(t) {
        Ok(v) => limit.check(v).map_err(|e| format!("{what} \"{t}\": {e}")),
        Err(crate::money::MoneyError::TooLarge) => {
            Err(format!("{what} \"{t}\": no máximo {}", limit.max.to_brl()))
        }
        Err(_) => Err(format!(
            "{what} inválido \"{t}\": use reais com vírgula (36,90 ou R$\u{a0}1.234,56){}",
            if money_in == MoneyIn::Centavos {
                " ou centavos sem vírgula (3690)"
            } else {
                ""
            }
        )),
    }
}

/// The model spreadsheet the dashboard hands out: UTF-8 with a BOM (so Excel shows the
/// accents), `;`-separated with CRLF (what Excel writes in Brazil), pt-BR header, money in
/// reais with comma. `parse_catalog_file` reads it back unchanged.
pub fn write_model_csv(items: &[CatalogItem]) -> String {
    let cell = |f: &str| {
        let f = super::csv_cell(f);
        if f.contains(';') && !f.starts_with('"') {
            format!("\"{}\"", f.replace('"', "\"\""))
        } else {
            f
        }
    };
    let reais = |c: Centavos| c.to_reais();
    let mut out = String::from("\u{feff}");
    out.push_str(&MODEL_HEADER.join(";"));
    out.push_str("\r\n");
    for it in items {
        let row = [
            cell(&it.sku),
            cell(&it.name),
            it.unit.code().to_string(),
            reais(it.price),
            reais(it.cost),
            format_weight_kg(it.weight_grams).replace('.', ","),
            cell(&it.aliases.join("|")),
        ];
        out.push_str(&row.join(";"));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests;
