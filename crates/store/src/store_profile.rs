//! The store as its documents present it (CNPJ, address, phone) and the PIX key its quotes
//! are paid to (issue 15). Columns of `tenants` (migration 0005), kept out of
//! [`crate::tenants::Tenant`] because only the quote PDF, the PIX code and the settings page
//! read them.

use domain::pix::{Merchant, PixKey, PixKeyKind};
use sqlx::{AnyConnection, Row};

use crate::db::{now_ms, Db, StoreError};

/// Where PIX payments go: a validated key and the receiver's name and city as the BR Code
/// carries them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorePix {
    pub key: PixKey,
    pub merchant: Merchant,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StoreProfile {
    /// As the owner typed it (`12.345.678/0001-95`); validated by the settings form.
    pub cnpj: String,
    pub address: String,
    pub phone: String,
    /// `None` until the owner registers a key: no PIX code is offered then.
    pub pix: Option<StorePix>,
}

const COLS: &str = "cnpj, address, phone, pix_key_kind, pix_key, pix_merchant_name, pix_city";

fn from_row(r: &sqlx::any::AnyRow) -> Result<StoreProfile, StoreError> {
    let kind: String = r.try_get(3)?;
    let key: String = r.try_get(4)?;
    let pix = if kind.is_empty() || key.is_empty() {
        None
    } else {
        // Stored values were validated on the way in; one that no longer parses is corrupt,
        // never silently dropped (a quote would go out without its PIX code).
        let corrupt =
            |e: &dyn std::fmt::Display| StoreError::Corrupt(format!("tenant PIX key: {e}"));
        let kind: PixKeyKind = kind.parse().map_err(|e| corrupt(&e))?;
        let key = PixKey::parse(kind, &key).map_err(|e| corrupt(&e))?;
        let name: String = r.try_get(5)?;
        let city: String = r.try_get(6)?;
        let merchant = Merchant::new(&name, &city).map_err(|e| corrupt(&e))?;
        Some(StorePix { key, merchant })
    };
    Ok(StoreProfile {
        cnpj: r.try_get(0)?,
        address: r.try_get(1)?,
        phone: r.try_get(2)?,
        pix,
    })
}

pub async fn get(db: &Db, tenant_id: &str) -> Result<StoreProfile, StoreError> {
    let sql = format!("SELECT {COLS} FROM tenants WHERE id = $1");
    let row = sqlx::query(&sql)
        .bind(tenant_id)
        .fetch_optional(db.read())
        .await?
        .ok_or(StoreError::NotFound)?;
    from_row(&row)
}

pub async fn get_conn(c: &mut AnyConnection, tenant_id: &str) -> Result<StoreProfile, StoreError> {
    let sql = format!("SELECT {COLS} FROM tenants WHERE id = $1");
    let row = sqlx::query(&sql)
        .bind(tenant_id)
        .fetch_optional(&mut *c)
        .await?
        .ok_or(StoreError::NotFound)?;
    from_row(&row)
}

pub async fn save(
    c: &mut AnyConnection,
    tenant_id: &str,
    profile: &StoreProfile,
) -> Result<(), StoreError> {
    let (kind, key, name, city) = match &profile.pix {
        Some(p) => (
            p.key.kind().as_str(),
            p.key.as_str(),
            p.merchant.name(),
            p.merchant.city(),
        ),
        None => ("", "", "", ""),
    };
    let done = sqlx::query(
        "UPDATE tenants SET cnpj = $2, address = $3, phone = $4, pix_key_kind = $5, pix_key = $6, \
         pix_merchant_name = $7, pix_city = $8, updated_at = $9 WHERE id = $1",
    )
    .bind(tenant_id)
    .bind(&profile.cnpj)
    .bind(&profile.address)
    .bind(&profile.phone)
    .bind(kind)
    .bind(key)
    .bind(name)
    .bind(city)
    .bind(now_ms())
    .execute(&mut *c)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// A store's on/off setting kept in a `tenants` column (0/1). Only these names ever reach
/// the SQL: a closed set, never text from a request.
#[derive(Clone, Copy)]
enum Switch {
    QuotePdf,
    QuoteLink,
    InvoiceData,
    MetaPayments,
}

impl Switch {
    fn column(self) -> &'static str {
        match self {
            Switch::QuotePdf => "quote_pdf",
            Switch::QuoteLink => "quote_link",
            Switch::InvoiceData => "invoice_data",
            Switch::MetaPayments => "meta_payments",
        }
    }
}

async fn switch_on(c: &mut AnyConnection, tenant_id: &str, s: Switch) -> Result<bool, StoreError> {
    let sql = format!("SELECT {} FROM tenants WHERE id = $1", s.column());
    let on: i64 = sqlx::query(&sql)
        .bind(tenant_id)
        .fetch_optional(&mut *c)
        .await?
        .ok_or(StoreError::NotFound)?
        .try_get(0)?;
    Ok(on != 0)
}

async fn set_switch(
    c: &mut AnyConnection,
    tenant_id: &str,
    s: Switch,
    on: bool,
) -> Result<(), StoreError> {
    let sql = format!(
        "UPDATE tenants SET {} = $2, updated_at = $3 WHERE id = $1",
        s.column()
    );
    let done = sqlx::query(&sql)
        .bind(tenant_id)
        .bind(i64::from(on))
        .bind(now_ms())
        .execute(&mut *c)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Whether the store's quotes go out with their PDF as a WhatsApp document.
pub async fn quote_pdf_enabled(c: &mut AnyConnection, tenant_id: &str) -> Result<bool, StoreError> {
    switch_on(c, tenant_id, Switch::QuotePdf).await
}

pub async fn set_quote_pdf(
    c: &mut AnyConnection,
    tenant_id: &str,
    on: bool,
) -> Result<(), StoreError> {
    set_switch(c, tenant_id, Switch::QuotePdf, on).await
}

/// Whether the store's quotes go out with a link to their public page (a CTA button).
pub async fn quote_link_enabled(
    c: &mut AnyConnection,
    tenant_id: &str,
) -> Result<bool, StoreError> {
    switch_on(c, tenant_id, Switch::QuoteLink).await
}

pub async fn set_quote_link(
    c: &mut AnyConnection,
    tenant_id: &str,
    on: bool,
) -> Result<(), StoreError> {
    set_switch(c, tenant_id, Switch::QuoteLink, on).await
}

/// Whether the bot asks the customer's CPF or CNPJ for the invoice after the delivery address
/// ("pedir dados para nota", issue 15 item 4).
pub async fn invoice_data_enabled(
    c: &mut AnyConnection,
    tenant_id: &str,
) -> Result<bool, StoreError> {
    switch_on(c, tenant_id, Switch::InvoiceData).await
}

pub async fn set_invoice_data(
    c: &mut AnyConnection,
    tenant_id: &str,
    on: bool,
) -> Result<(), StoreError> {
    set_switch(c, tenant_id, Switch::InvoiceData, on).await
}

/// Whether the order goes to the customer as Meta's `order_details` message with the PIX code
/// (payments in Brazil, issue 15 item 2) instead of the plain copia-e-cola text.
pub async fn meta_payments_enabled(
    c: &mut AnyConnection,
    tenant_id: &str,
) -> Result<bool, StoreError> {
    switch_on(c, tenant_id, Switch::MetaPayments).await
}

pub async fn set_meta_payments(
    c: &mut AnyConnection,
    tenant_id: &str,
    on: bool,
) -> Result<(), StoreError> {
    set_switch(c, tenant_id, Switch::MetaPayments, on).await
}
