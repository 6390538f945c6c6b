//! The catalog import's input: a file upload (a spreadsheet — `.xlsx`, `.xls`, `.ods` — or CSV in
//! UTF-8 or Windows-1252) or text pasted in the page (issue 12 item 9). The bytes of an upload reach the domain as they are: the
//! browser no longer reads the file as UTF-8 text, which is what turned a Windows-1252
//! "Vaso sanitário" into "Vaso sanit�rio".

use axum::extract::{FromRequest, Request};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Form;
use domain::catalog::{decode_text, parse_catalog_csv, parse_catalog_file, parse_catalog_rows};
use domain::catalog::{CatalogItem, CsvRowError};
use serde::Deserialize;

use super::catalog_sheet;
use crate::error::AppError;
use crate::multipart;

/// What the import form sent.
#[derive(Debug, Default)]
pub struct Upload {
    /// The chosen file's name and bytes, when a file was chosen.
    pub file: Option<(String, Vec<u8>)>,
    /// The textarea.
    pub pasted: String,
}

#[derive(Deserialize)]
struct PastedForm {
    #[serde(default)]
    csv: String,
}

/// A form the browser did not finish sending, or not a form at all (axum's own text is
/// English and names its internals).
fn unreadable() -> AppError {
    AppError::BadRequest(
        "O formulário de importação chegou incompleto; tente enviar de novo.".into(),
    )
}

impl Upload {
    /// Reads the form: `multipart/form-data` (the page, with or without a file) or
    /// `application/x-www-form-urlencoded` (pasted text only), at most `limit` bytes.
    pub async fn read(req: Request, limit: usize) -> Result<Upload, Response> {
        let boundary = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(multipart::boundary);
        // The size limit first, whatever the form's encoding: an oversized paste is 413 like
        // an oversized file, not an unreadable form.
        let (parts, body) = req.into_parts();
        let body = axum::body::to_bytes(body, limit)
            .await
            .map_err(|_| crate::layers::too_large())?;
        let Some(boundary) = boundary else {
            let req = Request::from_parts(parts, axum::body::Body::from(body));
            let Form(f) = Form::<PastedForm>::from_request(req, &())
                .await
                .map_err(|_| unreadable().into_response())?;
            return Ok(Upload {
                file: None,
                pasted: f.csv,
            });
        };
        let mut upload = Upload::default();
        for part in multipart::parts(&body, &boundary) {
            match (part.name.as_str(), part.file_name) {
                // A file input left empty still sends a part, with no name and no bytes.
                ("arquivo", Some(name)) if !(name.is_empty() && part.bytes.is_empty()) => {
                    upload.file = Some((name, part.bytes.to_vec()));
                }
                ("csv", None) => upload.pasted = String::from_utf8_lossy(part.bytes).into_owned(),
                _ => {}
            }
        }
        Ok(upload)
    }

    /// The catalog in the upload (a chosen file wins over pasted text), and the text to show
    /// back in the textarea when it is refused.
    pub fn parse(&self) -> (Result<Vec<CatalogItem>, Vec<CsvRowError>>, String) {
        let Some((_, bytes)) = &self.file else {
            return (parse_catalog_csv(&self.pasted), self.pasted.clone());
        };
        // Decided by the bytes, not the name: ERPs export CSV or tab-separated text named
        // `.xls`, and those read as the text they are.
        let zip = bytes.starts_with(b"PK\x03\x04");
        let ole = bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]);
        if zip || ole {
            let parsed = catalog_sheet::first_sheet_rows(bytes)
                .map_err(|message| vec![CsvRowError { line: 1, message }])
                .and_then(parse_catalog_rows);
            return (parsed, String::new());
        }
        let shown = decode_text(bytes).map(|d| d.text).unwrap_or_default();
        (parse_catalog_file(bytes), shown)
    }
}
