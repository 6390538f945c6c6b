//! Orders (issue 15 item 4; migration 0015): a won quote with its delivery address and its
//! payment state (aguardando → pago → entregue), and the CEP look-up cache.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use domain::address::Address;
use domain::ids::Cep;

use crate::db::{new_id, now_ms, Db, StoreError};

/// `orders.address_status`.
pub const ADDRESS_NOT_NEEDED: &str = "not_needed";
pub const ADDRESS_PENDING: &str = "pending";
pub const ADDRESS_GIVEN: &str = "given";

/// How long after the question a customer's message may still be read as the address.
pub const ADDRESS_ANSWER_WINDOW_MS: i64 = 48 * 60 * 60 * 1000;

/// `orders.payment_state`, in the order staff move it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentState {
    Aguardando,
    Pago,
    Entregue,
}

impl PaymentState {
    pub const ALL: [PaymentState; 3] = [
        PaymentState::Aguardando,
        PaymentState::Pago,
        PaymentState::Entregue,
    ];

    pub fn code(self) -> &'static str {
        match self {
            PaymentState::Aguardando => "aguardando",
            PaymentState::Pago => "pago",
            PaymentState::Entregue => "entregue",
        }
    }

    pub fn label_pt(self) -> &'static str {
        match self {
            PaymentState::Aguardando => "Aguardando pagamento",
            PaymentState::Pago => "Pago",
            PaymentState::Entregue => "Entregue",
        }
    }

    pub fn from_code(code: &str) -> Option<PaymentState> {
        PaymentState::ALL.into_iter().find(|p| p.code() == code)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub id: String,
    pub tenant_id: String,
    pub quote_id: String,
    pub contact_id: String,
    pub address_status: String,
    pub address_asked_at: Option<i64>,
    pub address: Address,
    pub latitude: Option<String>,
    pub longitude: Option<String>,
    pub freight_note: Option<String>,
    pub payment_state: PaymentState,
    pub state_changed_by: Option<String>,
    pub state_changed_at: Option<i64>,
    pub created_at: i64,
    /// The CPF or CNPJ for the invoice (digits, upper-case letters), when given.
    pub tax_id: Option<String>,
    /// When the bot asked for it (None: not asked).
    pub tax_id_asked_at: Option<i64>,
    /// The `reference_id` of the `order_details` message the order went out as (Meta's
    /// payments in Brazil); None when it went as plain text.
    pub meta_reference: Option<String>,
}

impl Order {
    pub fn address_pending(&self) -> bool {
        self.address_status == ADDRESS_PENDING
    }
}

const COLS: &str = "o.id, o.tenant_id, o.quote_id, o.contact_id, o.address_status, o.address_asked_at,
    o.street, o.number, o.complement, o.reference, o.bairro, o.city, o.uf, o.cep, o.latitude, o.longitude,
    o.freight_note, o.payment_state, o.state_changed_by, o.state_changed_at, o.created_at,
    o.tax_id, o.tax_id_asked_at, o.meta_reference";

fn from_row(r: &AnyRow) -> Result<Order, StoreError> {
    let cep: Option<String> = r.try_get(13)?;
    let state: String = r.try_get(17)?;
    Ok(Order {
        id: r.try_get(0)?,
        tenant_id: r.try_get(1)?,
        quote_id: r.try_get(2)?,
        contact_id: r.try_get(3)?,
        address_status: r.try_get(4)?,
        address_asked_at: r.try_get(5)?,
        address: Address {
            street: r.try_get(6)?,
            number: r.try_get(7)?,
            complement: r.try_get(8)?,
            reference: r.try_get(9)?,
            bairro: r.try_get(10)?,
            city: r.try_get(11)?,
            uf: r.try_get(12)?,
            cep: cep.and_then(|c| Cep::parse(&c).ok()),
        },
        latitude: r.try_get(14)?,
        longitude: r.try_get(15)?,
        freight_note: r.try_get(16)?,
        payment_state: PaymentState::from_code(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("payment_state {state:?}")))?,
        state_changed_by: r.try_get(18)?,
        state_changed_at: r.try_get(19)?,
        created_at: r.try_get(20)?,
        tax_id: r.try_get(21)?,
        tax_id_asked_at: r.try_get(22)?,
        meta_reference: r.try_get(23)?,
    })
}

/// The order of an accepted quote (once per quote: a second call returns the first's id).
/// `known`: what the conversation already said about the place (its bairro or CEP).
pub async fn create(
    c: &mut AnyConnection,
    tenant_id: &str,
    quote_id: &str,
    contact_id: &str,
    needs_address: bool,
    known: &Address,
) -> Result<String, StoreError> {
    let now = now_ms();
    let (status, asked) = if needs_address {
        (ADDRESS_PENDING, Some(now))
    } else {
        (ADDRESS_NOT_NEEDED, None)
    };
    sqlx::query(
        "INSERT INTO orders (id, tenant_id, quote_id, contact_id, address_status, address_asked_at, bairro, cep, payment_state, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $8, $9, 'aguardando', $7, $7) ON CONFLICT (quote_id) DO NOTHING",
    )
    .bind(new_id())
    .bind(tenant_id)
    .bind(quote_id)
    .bind(contact_id)
    .bind(status)
    .bind(asked)
    .bind(now)
    .bind(known.bairro.as_deref())
    .bind(known.cep.map(|c| c.digits()))
    .execute(&mut *c)
    .await?;
    let row = sqlx::query("SELECT id FROM orders WHERE tenant_id = $1 AND quote_id = $2")
        .bind(tenant_id)
        .bind(quote_id)
        .fetch_one(&mut *c)
        .await?;
    Ok(row.try_get(0)?)
}

/// The contact's newest order still waiting for its address, asked less than
/// [`ADDRESS_ANSWER_WINDOW_MS`] ago.
pub async fn awaiting_address(
    c: &mut AnyConnection,
    tenant_id: &str,
    contact_id: &str,
) -> Result<Option<Order>, StoreError> {
    let since = now_ms() - ADDRESS_ANSWER_WINDOW_MS;
    let row = sqlx::query(&format!(
        "SELECT {COLS} FROM orders o WHERE o.tenant_id = $1 AND o.contact_id = $2
         AND o.address_status = 'pending' AND o.address_asked_at >= $3
         ORDER BY o.created_at DESC, o.id DESC LIMIT 1"
    ))
    .bind(tenant_id)
    .bind(contact_id)
    .bind(since)
    .fetch_optional(&mut *c)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// How long after its confirmation an order not yet delivered is what a customer's next
/// message is most likely about ("já paguei", "qual a chave pix?", "quero cancelar").
pub const OPEN_ORDER_WINDOW_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// The contact's newest order confirmed less than [`OPEN_ORDER_WINDOW_MS`] ago and not yet
/// delivered, with its quote's number.
pub async fn open_for_contact(
    c: &mut AnyConnection,
    tenant_id: &str,
    contact_id: &str,
) -> Result<Option<(Order, String)>, StoreError> {
    let since = now_ms() - OPEN_ORDER_WINDOW_MS;
    let row = sqlx::query(&format!(
        "SELECT {COLS}, q.number FROM orders o JOIN quotes q ON q.id = o.quote_id
         WHERE o.tenant_id = $1 AND o.contact_id = $2 AND o.payment_state <> 'entregue'
         AND o.created_at >= $3
         ORDER BY o.created_at DESC, o.id DESC LIMIT 1"
    ))
    .bind(tenant_id)
    .bind(contact_id)
    .bind(since)
    .fetch_optional(&mut *c)
    .await?;
    match row {
        Some(r) => Ok(Some((from_row(&r)?, r.try_get(24)?))),
        None => Ok(None),
    }
}

pub async fn get_conn(
    c: &mut AnyConnection,
    tenant_id: &str,
    id: &str,
) -> Result<Option<Order>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {COLS} FROM orders o WHERE o.tenant_id = $1 AND o.id = $2"
    ))
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(&mut *c)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Stores the address (complete or not) and, when enough to deliver (or a shared location),
/// marks it given.
pub async fn set_address(
    c: &mut AnyConnection,
    tenant_id: &str,
    id: &str,
    a: &Address,
    lat_lng: Option<(&str, &str)>,
) -> Result<(), StoreError> {
    let status = if a.is_enough() || lat_lng.is_some() {
        ADDRESS_GIVEN
    } else {
        ADDRESS_PENDING
    };
    sqlx::query(
        "UPDATE orders SET street = $3, number = $4, complement = $5, reference = $6, bairro = $7,
           city = $8, uf = $9, cep = $10, latitude = COALESCE($11, latitude),
           longitude = COALESCE($12, longitude), address_status = $13, updated_at = $14
         WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant_id)
    .bind(id)
    .bind(a.street.as_deref())
    .bind(a.number.as_deref())
    .bind(a.complement.as_deref())
    .bind(a.reference.as_deref())
    .bind(a.bairro.as_deref())
    .bind(a.city.as_deref())
    .bind(a.uf.as_deref())
    .bind(a.cep.map(|c| c.digits()))
    .bind(lat_lng.map(|l| l.0))
    .bind(lat_lng.map(|l| l.1))
    .bind(status)
    .bind(now_ms())
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// What the CEP look-up found: fills only what the customer did not write, and the note
/// for staff when the freight may change.
pub async fn fill_from_cep(
    c: &mut AnyConnection,
    tenant_id: &str,
    id: &str,
    found: &CepInfo,
    freight_note: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE orders SET street = COALESCE(street, $3), bairro = COALESCE(bairro, $4),
           city = COALESCE(city, $5), uf = COALESCE(uf, $6),
           freight_note = COALESCE($7, freight_note), updated_at = $8
         WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant_id)
    .bind(id)
    .bind(found.street.as_deref())
    .bind(found.bairro.as_deref())
    .bind(found.city.as_deref())
    .bind(found.uf.as_deref())
    .bind(freight_note)
    .bind(now_ms())
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// Moves the payment state from `from` to `to`; false when the order is not the store's or
/// is no longer in `from` (someone else moved it first).
pub async fn set_payment_state(
    c: &mut AnyConnection,
    tenant_id: &str,
    id: &str,
    to: PaymentState,
    by: &str,
    from: PaymentState,
) -> Result<bool, StoreError> {
    let now = now_ms();
    let done = sqlx::query(
        "UPDATE orders SET payment_state = $3, state_changed_by = $4, state_changed_at = $5, updated_at = $5
         WHERE tenant_id = $1 AND id = $2 AND payment_state = $6",
    )
    .bind(tenant_id)
    .bind(id)
    .bind(to.code())
    .bind(by)
    .bind(now)
    .bind(from.code())
    .execute(&mut *c)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// One row of the Pedidos page.
#[derive(Debug, Clone)]
pub struct OrderRow {
    pub order: Order,
    pub quote_number: String,
    pub total_cents: i64,
    pub delivery: Option<String>,
    pub snapshot_json: String,
    pub customer_name: String,
    pub customer_wa_id: String,
    pub conversation_id: String,
}

/// The store's orders, newest first.
pub async fn list(db: &Db, tenant_id: &str, limit: i64) -> Result<Vec<OrderRow>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLS}, q.number, q.total_cents, q.delivery, q.snapshot_json, k.name, k.wa_id, q.conversation_id
         FROM orders o JOIN quotes q ON q.id = o.quote_id JOIN contacts k ON k.id = o.contact_id
         WHERE o.tenant_id = $1 ORDER BY o.created_at DESC, o.id DESC LIMIT $2"
    ))
    .bind(tenant_id)
    .bind(limit)
    .fetch_all(db.read())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(OrderRow {
                order: from_row(r)?,
                quote_number: r.try_get(24)?,
                total_cents: r.try_get(25)?,
                delivery: r.try_get(26)?,
                snapshot_json: r.try_get(27)?,
                customer_name: r.try_get(28)?,
                customer_wa_id: r.try_get(29)?,
                conversation_id: r.try_get(30)?,
            })
        })
        .collect()
}

/// The bot asked the order's CPF or CNPJ (the store wants invoice data).
pub async fn ask_tax_id(
    c: &mut AnyConnection,
    tenant_id: &str,
    id: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE orders SET tax_id_asked_at = $3, updated_at = $3 WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant_id)
    .bind(id)
    .bind(now_ms())
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// The contact's newest order whose CPF/CNPJ was asked (within
/// [`ADDRESS_ANSWER_WINDOW_MS`]) and not given yet.
pub async fn awaiting_tax_id(
    c: &mut AnyConnection,
    tenant_id: &str,
    contact_id: &str,
) -> Result<Option<Order>, StoreError> {
    let since = now_ms() - ADDRESS_ANSWER_WINDOW_MS;
    let row = sqlx::query(&format!(
        "SELECT {COLS} FROM orders o WHERE o.tenant_id = $1 AND o.contact_id = $2
         AND o.tax_id IS NULL AND o.tax_id_asked_at >= $3
         ORDER BY o.created_at DESC, o.id DESC LIMIT 1"
    ))
    .bind(tenant_id)
    .bind(contact_id)
    .bind(since)
    .fetch_optional(&mut *c)
    .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn set_tax_id(
    c: &mut AnyConnection,
    tenant_id: &str,
    id: &str,
    tax_id: &str,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE orders SET tax_id = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id)
        .bind(id)
        .bind(tax_id)
        .bind(now_ms())
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// What a CEP service answered for a CEP.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CepInfo {
    pub street: Option<String>,
    pub bairro: Option<String>,
    pub city: Option<String>,
    pub uf: Option<String>,
}

/// A cached answer younger than `ttl_ms`: `Some(None)` for a CEP the service does not know.
pub async fn cached_cep(
    c: &mut AnyConnection,
    cep: &str,
    ttl_ms: i64,
) -> Result<Option<Option<CepInfo>>, StoreError> {
    let row = sqlx::query(
        "SELECT found, street, bairro, city, uf FROM cep_cache WHERE cep = $1 AND fetched_at >= $2",
    )
    .bind(cep)
    .bind(now_ms() - ttl_ms)
    .fetch_optional(&mut *c)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let found: i64 = r.try_get(0)?;
    if found == 0 {
        return Ok(Some(None));
    }
    Ok(Some(Some(CepInfo {
        street: r.try_get(1)?,
        bairro: r.try_get(2)?,
        city: r.try_get(3)?,
        uf: r.try_get(4)?,
    })))
}

pub async fn cache_cep(
    c: &mut AnyConnection,
    cep: &str,
    info: Option<&CepInfo>,
) -> Result<(), StoreError> {
    let empty = CepInfo::default();
    let i = info.unwrap_or(&empty);
    sqlx::query(
        "INSERT INTO cep_cache (cep, found, street, bairro, city, uf, fetched_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (cep) DO UPDATE SET found = excluded.found, street = excluded.street,
           bairro = excluded.bairro, city = excluded.city, uf = excluded.uf, fetched_at = excluded.fetched_at",
    )
    .bind(cep)
    .bind(i64::from(info.is_some()))
    .bind(i.street.as_deref())
    .bind(i.bairro.as_deref())
    .bind(i.city.as_deref())
    .bind(i.uf.as_deref())
    .bind(now_ms())
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// The quote's order went out as Meta's `order_details` message with this `reference_id`.
pub async fn set_meta_reference(
    c: &mut AnyConnection,
    tenant_id: &str,
    quote_id: &str,
    reference: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE orders SET meta_reference = $3, updated_at = $4 WHERE tenant_id = $1 AND quote_id = $2",
    )
    .bind(tenant_id)
    .bind(quote_id)
    .bind(reference)
    .bind(now_ms())
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// Where a message about the order goes: its quote's conversation and the contact's WhatsApp
/// address.
pub async fn recipient(
    c: &mut AnyConnection,
    tenant_id: &str,
    order_id: &str,
) -> Result<Option<(String, String)>, StoreError> {
    let row = sqlx::query(
        "SELECT q.conversation_id, k.wa_id FROM orders o
         JOIN quotes q ON q.id = o.quote_id JOIN contacts k ON k.id = o.contact_id
         WHERE o.tenant_id = $1 AND o.id = $2",
    )
    .bind(tenant_id)
    .bind(order_id)
    .fetch_optional(&mut *c)
    .await?;
    Ok(row
        .map(|r| Ok::<_, sqlx::Error>((r.try_get(0)?, r.try_get(1)?)))
        .transpose()?)
}
