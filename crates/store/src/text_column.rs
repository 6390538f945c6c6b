//! Reading enums stored as text (`domain::stored_text_enum!`) out of a row.

use std::str::FromStr;

use sqlx::any::AnyRow;
use sqlx::Row;

/// Column `index` of `row`, parsed. A text that names no variant is a decode error of that
/// column (a corrupt row, never retried), like a wrong column type.
pub(crate) fn parse<T>(row: &AnyRow, index: usize) -> Result<T, sqlx::Error>
where
    T: FromStr,
    T::Err: std::error::Error + Send + Sync + 'static,
{
    let text: String = row.try_get(index)?;
    text.parse().map_err(|e: T::Err| sqlx::Error::ColumnDecode {
        index: index.to_string(),
        source: Box::new(e),
    })
}
