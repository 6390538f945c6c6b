//! The first sheet of a workbook — Excel (`.xlsx`, `.xls`) or LibreOffice (`.ods`) — as the
//! catalog import's rows. The owner's spreadsheet is what they have; asking them to "save as
//! CSV" first lost people at the first step (issue 12 item 9). The rows go to the same
//! `domain::catalog::parse_catalog_rows` a CSV goes to, so every rule (header names, money,
//! weight, repeated SKUs) and every error message is the same whatever the format.

use std::io::{Cursor, Read, Seek};

use calamine::{open_workbook_auto_from_rs, Data, Reader};

/// What a workbook may unpack to. An `.xlsx` is a zip: two megabytes of upload can declare
/// gigabytes of XML (a zip bomb). A real catalog of thousands of products unpacks to a few
/// megabytes, so this is generous and still keeps one upload from taking the server's memory.
const MAX_UNPACKED_BYTES: u128 = 64 * 1024 * 1024;

/// The first sheet's non-empty rows as `(line, cells)`, the line being the spreadsheet's own
/// row number (what the owner sees at the left of Excel), cells as text.
pub fn first_sheet_rows(bytes: &[u8]) -> Result<Vec<(usize, Vec<String>)>, String> {
    check_unpacked_size(bytes, MAX_UNPACKED_BYTES)?;
    // calamine parses untrusted binary formats; a panic in it must become a refused file,
    // not a dropped connection (the request's task would die with it).
    let read = std::panic::catch_unwind(|| read_first_sheet(bytes));
    match read {
        Ok(rows) => rows,
        Err(_) => Err(unreadable()),
    }
}

fn unreadable() -> String {
    "não foi possível ler a planilha (arquivo corrompido ou protegido por senha); abra no Excel e salve de novo, ou salve como CSV".into()
}

fn check_unpacked_size(bytes: &[u8], max: u128) -> Result<(), String> {
    if !bytes.starts_with(b"PK\x03\x04") {
        return Ok(()); // .xls is not compressed: the upload limit already bounds it
    }
    let archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| unreadable())?;
    match archive.decompressed_size() {
        Some(n) if n <= max => Ok(()),
        _ => Err("planilha grande demais depois de descompactada (mais de 64 MB); divida o catálogo em arquivos menores".into()),
    }
}

fn read_first_sheet(bytes: &[u8]) -> Result<Vec<(usize, Vec<String>)>, String> {
    let mut book = open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(|_| unreadable())?;
    first_range(&mut book)
}

fn first_range<RS: Read + Seek>(
    book: &mut calamine::Sheets<RS>,
) -> Result<Vec<(usize, Vec<String>)>, String> {
    let range = match book.worksheet_range_at(0) {
        Some(Ok(range)) => range,
        Some(Err(_)) => return Err(unreadable()),
        None => return Err("a planilha não tem nenhuma aba".into()),
    };
    // The range starts at the first filled cell: its row is the header's line number.
    let Some((first_row, _)) = range.start() else {
        return Err("a primeira aba da planilha está vazia".into());
    };
    Ok(range
        .rows()
        .enumerate()
        .map(|(i, row)| {
            let line = first_row as usize + i + 1;
            (line, row.iter().map(cell_text).collect())
        })
        .collect())
}

/// One cell as the text the CSV path would have seen.
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => number_text(*f),
        other => other.to_string(),
    }
}

/// A number cell as pt-BR text (`36,9`, `3690`). The money itself never goes through a float:
/// this only spells the cell the way Excel shows it, and the domain's text parser makes the
/// centavos (refusing more than two decimals, as on every money input). Excel keeps 15
/// significant digits, so a formula's `40.590000000000003` is the `40,59` the owner sees.
fn number_text(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    let excel: f64 = format!("{v:.14e}").parse().unwrap_or(v);
    excel.to_string().replace('.', ",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_excel_shows_them() {
        assert_eq!(number_text(3690.0), "3690");
        assert_eq!(number_text(36.9), "36,9");
        assert_eq!(number_text(0.5), "0,5");
        // A price computed by a formula (=A1*1.1) carries binary noise Excel does not show.
        assert_eq!(number_text(36.9 * 1.1), "40,59");
        assert_eq!(number_text(1234.56), "1234,56");
        assert_eq!(number_text(-2.0), "-2");
    }

    #[test]
    fn a_workbook_that_unpacks_past_the_limit_is_refused_before_reading() {
        use std::io::Write;
        let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let stored = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        out.start_file("xl/sharedStrings.xml", stored).unwrap();
        out.write_all(&vec![b' '; 200_000]).unwrap();
        let bytes = out.finish().unwrap().into_inner();
        let err = check_unpacked_size(&bytes, 100_000).unwrap_err();
        assert!(err.contains("grande demais"), "{err}");
        assert_eq!(check_unpacked_size(&bytes, 300_000), Ok(()));
    }

    #[test]
    fn text_that_is_not_a_workbook_is_refused_not_a_panic() {
        let err = first_sheet_rows(b"PK\x03\x04 not really a zip").unwrap_err();
        assert!(err.contains("não foi possível ler a planilha"), "{err}");
        let err = first_sheet_rows(&[0xD0, 0xCF, 0x11, 0xE0, 0, 1, 2]).unwrap_err();
        assert!(err.contains("não foi possível ler a planilha"), "{err}");
    }
}
