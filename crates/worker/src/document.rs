//! The quote's PDF as a WhatsApp document (issue 15 item 1): built from the quote's immutable
//! snapshot when its send job runs, uploaded through Graph's media endpoint, then sent by the
//! media id. The id is kept on the message (`messages::set_payload`), so a retried send does
//! not upload again; a re-issued quote has its own number, message and PDF.

use quote_pdf::{QuoteDocument, StoreHeader};
use secrecy::SecretString;
use store::{quotes, store_profile, Db, StoreError};
use whatsapp::graph::{MediaUpload, SendError};

use crate::job::JobCtx;
use crate::outbound::Payload;
use crate::tenant_ctx::ContextCache;

/// Why the document could not be prepared.
pub enum Failure {
    /// The upload failed: handled like a failed send (retried when transient).
    Graph(SendError),
    Store(StoreError),
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Failure {
        Failure::Store(e)
    }
}

/// The PDF bytes of quote `number` of the store, as the customer receives them.
pub async fn render(jc: &JobCtx<'_>, tenant_id: &str, number: &str) -> Result<Vec<u8>, StoreError> {
    render_pdf(jc.db, jc.contexts, tenant_id, number).await
}

/// [`render`] outside a job: the public quote page serves the same bytes.
pub async fn render_pdf(
    db: &Db,
    contexts: &ContextCache,
    tenant_id: &str,
    number: &str,
) -> Result<Vec<u8>, StoreError> {
    let ctx = contexts.load(db, tenant_id).await?;
    let mut c = db.read().acquire().await?;
    let quote = quotes::by_number(&mut c, tenant_id, number)
        .await?
        .ok_or(StoreError::NotFound)?;
    let priced: domain::pricing::PricedQuote = serde_json::from_str(&quote.snapshot_json)
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let profile = store_profile::get_conn(&mut c, tenant_id).await?;
    let pix = crate::payment::pix_for(&mut c, tenant_id, &priced, number).await?;
    drop(c);
    let conv = store::conversations::get(db, tenant_id, &quote.conversation_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    let header = StoreHeader {
        name: ctx.tenant.name.clone(),
        cnpj: profile.cnpj,
        address: profile.address,
        phone: profile.phone,
    };
    let issued_on = domain::clock::day_br(ctx.date_of(quote.created_at));
    let valid_until = domain::clock::day_br(ctx.date_of(quote.valid_until));
    Ok(quote_pdf::quote_pdf(&QuoteDocument {
        number,
        issued_on: &issued_on,
        valid_until: &valid_until,
        store: &header,
        customer_name: &conv.contact_name,
        customer_phone: &conv.contact_wa_id,
        quote: &priced,
        pix: pix.as_ref().map(|p| p.code.as_str()),
    }))
}

/// Makes a document payload sendable: uploads its PDF when it has no media id yet and keeps
/// the id on the message. Any other payload is returned as it is.
pub async fn ready(
    jc: &JobCtx<'_>,
    tenant_id: &str,
    message_id: &str,
    phone_number_id: &str,
    token: &SecretString,
    payload: Payload,
) -> Result<Payload, Failure> {
    let Payload::QuoteDocument {
        to,
        number,
        filename,
        media_id: None,
    } = payload
    else {
        return Ok(payload);
    };
    let pdf = render(jc, tenant_id, &number).await?;
    let media_id = jc
        .graph
        .upload_media(
            phone_number_id,
            token,
            &MediaUpload {
                bytes: &pdf,
                mime_type: "application/pdf",
                filename: &filename,
            },
        )
        .await
        .map_err(Failure::Graph)?;
    let ready = Payload::QuoteDocument {
        to,
        number,
        filename,
        media_id: Some(media_id),
    };
    let json = serde_json::to_string(&ready).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let (tenant, id) = (tenant_id.to_string(), message_id.to_string());
    // Best effort: without it a retry uploads once more, nothing worse.
    if let Err(e) = jc
        .db
        .tx(move |c| {
            Box::pin(async move { store::messages::set_payload(c, &tenant, &id, &json).await })
        })
        .await
    {
        tracing::warn!(error = %e, "could not keep the document's media id");
    }
    Ok(ready)
}
