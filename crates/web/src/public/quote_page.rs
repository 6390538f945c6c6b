//! The public quote page, `BASE/q/{token}` (issue 15 item 3): what the customer opens from the
//! WhatsApp button — no login, mobile first, pt-BR. The store, the quote's every figure from
//! its immutable snapshot, the validity, the PIX copia-e-cola (selectable text, and a "Copiar
//! código PIX" button when JavaScript runs), its QR image, and the PDF at `BASE/q/{token}/pdf`.
//!
//! The token is the only key (`store::quote_link`): a bad signature is a 404 like any unknown
//! page; a genuine link past its time, or outlived by a newer version of the quote, is a 410
//! that says so. Every read is scoped to the tenant the signature names, so no link can show
//! another store's data. The global layers give the page the same CSP and security headers as
//! every other page, and `Cache-Control: no-store` (it carries a customer's order).

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use domain::pricing::PricedQuote;
use minijinja::context;
use serde::Serialize;
use store::quote_link::{self, Gone, Refusal};
use store::quotes::Quote;
use store::StoreError;

use crate::error::AppError;
use crate::state::AppState;

/// A live link's quote, or why its page is gone.
async fn open(state: &AppState, token: &str) -> Result<Result<Quote, Gone>, AppError> {
    let claims = match quote_link::verify(&state.cipher, token, store::now_ms()) {
        Ok(c) => c,
        Err(Refusal::Invalid) => {
            metrics::counter!("orcazap_quote_page_views_total", "outcome" => "invalid")
                .increment(1);
            return Err(AppError::NotFound);
        }
        Err(Refusal::Expired) => return Ok(Err(Gone::Expired)),
    };
    let mut c = state.db.read().acquire().await.map_err(StoreError::from)?;
    match quote_link::open(&mut c, &claims).await? {
        Some(r) => Ok(r),
        // Signed by us, but the quote is no more (the store's data was erased).
        None => Ok(Err(Gone::Withdrawn)),
    }
}

/// The 410 page: the link was real, and says why it no longer opens.
fn gone(why: Gone) -> Result<Response, AppError> {
    metrics::counter!("orcazap_quote_page_views_total", "outcome" => "gone").increment(1);
    let (title, message) = match why {
        Gone::Expired => (
            "Este orçamento venceu",
            "O prazo deste orçamento terminou e os preços podem ter mudado. Peça um orçamento novo pelo WhatsApp da loja.",
        ),
        Gone::Replaced => (
            "Existe uma versão mais nova deste orçamento",
            "O pedido mudou e a loja enviou um orçamento atualizado. Abra o link da mensagem mais recente no WhatsApp.",
        ),
        Gone::Withdrawn => (
            "Este orçamento não está mais disponível",
            "A loja cancelou este orçamento. Fale com a loja pelo WhatsApp para um novo.",
        ),
    };
    let html = crate::render::page(
        "public/quote_gone.html",
        context! { title => title, message => message },
    )?;
    Ok((StatusCode::GONE, html).into_response())
}

#[derive(Serialize)]
struct Line {
    name: String,
    quantity: String,
    unit_price: String,
    total: String,
    note: Option<String>,
}

fn lines(q: &PricedQuote) -> Vec<Line> {
    q.lines
        .iter()
        .map(|l| Line {
            name: l.name.clone(),
            quantity: format!("{} {}", l.quantity.to_br(), l.unit.label()),
            unit_price: l.unit_price.to_brl(),
            total: l.line_total.to_brl(),
            note: quote_pdf::volume_note(l),
        })
        .collect()
}

fn snapshot(quote: &Quote) -> Result<PricedQuote, AppError> {
    serde_json::from_str(&quote.snapshot_json)
        .map_err(|e| AppError::from(StoreError::Corrupt(e.to_string())))
}

/// `GET BASE/q/{token}`.
pub async fn page(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let quote = match open(&state, &token).await? {
        Ok(q) => q,
        Err(why) => return gone(why),
    };
    let tenant_id = quote.tenant_id.as_str();
    let ctx = state.contexts.load(&state.db, tenant_id).await?;
    let q = snapshot(&quote)?;
    let (profile, pix) = {
        let mut c = state.db.read().acquire().await.map_err(StoreError::from)?;
        let profile = store::store_profile::get_conn(&mut c, tenant_id).await?;
        let pix = worker::payment::pix_for(&mut c, tenant_id, &q, &quote.number).await?;
        (profile, pix)
    };
    let qr = pix
        .as_ref()
        .and_then(|p| domain::pix::qr::svg(&p.code, 240))
        .map(|svg| {
            format!(
                "data:image/svg+xml;base64,{}",
                base64::engine::general_purpose::STANDARD.encode(svg)
            )
        });
    metrics::counter!("orcazap_quote_page_views_total", "outcome" => "shown").increment(1);
    let html = crate::render::page(
        "public/quote.html",
        context! {
            store_name => ctx.tenant.name.clone(),
            cnpj => profile.cnpj,
            address => profile.address,
            phone => profile.phone,
            number => quote.number.clone(),
            issued_on => domain::clock::day_br(ctx.date_of(quote.created_at)),
            valid_until => domain::clock::day_br(ctx.date_of(quote.valid_until)),
            accepted => quote.status == domain::status::QuoteStatus::Accepted,
            lines => lines(&q),
            subtotal => q.subtotal.to_brl(),
            discount_label => (q.payment_discount.0 != 0).then(|| quote_pdf::payment_discount_label(&q)),
            discount => format!("-{}", q.payment_discount.to_brl()),
            freight => quote_pdf::freight_text(&q),
            total => q.total.to_brl(),
            payment => q.payment_method.label_pt(),
            pix_code => pix.as_ref().map(|p| p.code.clone()),
            pix_receiver => pix.as_ref().map(|p| p.receiver.clone()),
            qr => qr,
            pdf_url => format!("/q/{token}/pdf"),
            pdf_name => quote_pdf::file_name(&quote.number),
        },
    )?;
    let mut resp = html.into_response();
    // The token is the key: no search engine should keep the page.
    resp.headers_mut().insert(
        header::HeaderName::from_static("x-robots-tag"),
        HeaderValue::from_static("noindex, nofollow"),
    );
    Ok(resp)
}

/// `GET BASE/q/{token}/pdf`: the same PDF the WhatsApp document carries.
pub async fn pdf(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let quote = match open(&state, &token).await? {
        Ok(q) => q,
        Err(why) => return gone(why),
    };
    let bytes =
        worker::document::render_pdf(&state.db, &state.contexts, &quote.tenant_id, &quote.number)
            .await?;
    let name = quote_pdf::file_name(&quote.number);
    let disposition = HeaderValue::from_str(&format!("inline; filename=\"{name}\""))
        .map_err(|e| AppError::Internal(e.into()))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/pdf"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
            (
                header::HeaderName::from_static("x-robots-tag"),
                HeaderValue::from_static("noindex, nofollow"),
            ),
        ],
        bytes,
    )
        .into_response())
}
