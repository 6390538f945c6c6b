//! Throwaway PostgreSQL databases next to a real one: where `orcazap backup verify` restores
//! a dump to check it, and where each PostgreSQL test gets its own database.

use crate::db::{Db, DbConfig, StoreError};

/// `postgres://u@h:5432/test?x` → `postgres://u@h:5432/NAME?x`
pub fn replace_db_name(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let path_start = base[scheme_end..].find('/').map(|i| i + scheme_end);
    let host = match path_start {
        Some(p) => &base[..p],
        None => base,
    };
    match query {
        Some(q) => format!("{host}/{name}?{q}"),
        None => format!("{host}/{name}"),
    }
}

/// The name goes into the statement's text (PostgreSQL takes no parameter there), so only
/// the names this crate's callers make — letters, digits and `_` — are accepted.
fn check_name(name: &str) -> Result<(), StoreError> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(StoreError::Config(format!(
            "not a scratch database name: {name:?}"
        )))
    }
}

/// Creates the empty database `name` on `server_url`'s server (its user needs `CREATEDB`)
/// and returns its URL.
pub async fn create_database(server_url: &str, name: &str) -> Result<String, StoreError> {
    check_name(name)?;
    let admin = Db::connect(&DbConfig::new(server_url)).await?;
    let created = sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(admin.write())
        .await;
    admin.close().await;
    created?;
    Ok(replace_db_name(server_url, name))
}

/// Drops the database `name` (if it exists) on `server_url`'s server, ending its connections.
pub async fn drop_database(server_url: &str, name: &str) -> Result<(), StoreError> {
    check_name(name)?;
    let admin = Db::connect(&DbConfig::new(server_url)).await?;
    let dropped = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(admin.write())
        .await;
    admin.close().await;
    dropped?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_name_is_replaced_and_the_rest_kept() {
        assert_eq!(
            replace_db_name("postgres://u:p@h:5432/test?sslmode=disable", "orcazap_t_1"),
            "postgres://u:p@h:5432/orcazap_t_1?sslmode=disable"
        );
        assert_eq!(replace_db_name("postgres://u@h", "x"), "postgres://u@h/x");
    }

    #[test]
    fn only_plain_names_reach_the_statement() {
        assert!(check_name("orcazap_verify_0193abc").is_ok());
        for bad in ["", "x; DROP DATABASE test", "Test", "a-b", &"a".repeat(64)] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }
}
