//! The public quote page's link (`BASE/q/{token}`, issue 15 item 3): a token naming the store,
//! the quote and the version of its snapshot, with an expiry, signed with the server's secret
//! key ([`TokenCipher::sign`]). Nothing is stored per link: the signature is the proof, and the
//! quote's row says whether the page is still alive.
//!
//! Token: `base64url(payload).base64url(HMAC-SHA256)`, payload
//! `1|{tenant_id}|{quote_id}|{version}|{expires_at_ms}`. The version is a fingerprint of the
//! snapshot the customer was sent, so a changed snapshot kills old links even under the same
//! quote id. A bad signature is indistinguishable from a link that never existed (404); a
//! genuine link past its time or outlived by a newer quote is *gone* (410, said in pt-BR).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use domain::status::QuoteStatus;
use sha2::{Digest, Sha256};
use sqlx::AnyConnection;

use crate::crypto::TokenCipher;
use crate::quotes::{self, Quote};
use crate::StoreError;

/// What the signature is for: a quote-link signature is valid for nothing else.
const PURPOSE: &str = "quote-link/v1";
/// Longer tokens are refused before any decoding (ours are about 200 characters).
pub const TOKEN_MAX_LEN: usize = 512;
/// How long after the quote's validity the link still opens: an accepted quote is paid in
/// the following days, and the page carries the PIX code. A quote that expired unanswered
/// is dead at once (its status says so).
pub const GRACE_AFTER_VALIDITY_MS: i64 = 7 * 24 * 3600 * 1000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkClaims {
    pub tenant_id: String,
    pub quote_id: String,
    /// [`version_of`] the snapshot the link shows.
    pub version: String,
    pub expires_at_ms: i64,
}

/// Why a link does not open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Malformed, tampered or signed by a key we do not have: as if it never existed.
    Invalid,
    /// A genuine link past its expiry.
    Expired,
}

/// Why a genuine link's page is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gone {
    /// The link's time is over, or the quote expired unanswered.
    Expired,
    /// A newer version of the quote exists (the customer changed the order, the store
    /// re-issued it), or the snapshot changed: the old prices must not be paid.
    Replaced,
    /// The store refused the quote.
    Withdrawn,
}

/// The fingerprint of a snapshot: 12 hex digits of its SHA-256.
pub fn version_of(snapshot_json: &str) -> String {
    hex::encode(&Sha256::digest(snapshot_json.as_bytes())[..6])
}

/// The claims of the link to `quote` as it is now.
pub fn claims_for(quote: &Quote) -> LinkClaims {
    LinkClaims {
        tenant_id: quote.tenant_id.clone(),
        quote_id: quote.id.clone(),
        version: version_of(&quote.snapshot_json),
        expires_at_ms: quote.valid_until.saturating_add(GRACE_AFTER_VALIDITY_MS),
    }
}

pub fn issue(cipher: &TokenCipher, claims: &LinkClaims) -> String {
    let payload = format!(
        "1|{}|{}|{}|{}",
        claims.tenant_id, claims.quote_id, claims.version, claims.expires_at_ms
    );
    let tag = cipher.sign(PURPOSE, payload.as_bytes());
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(payload),
        URL_SAFE_NO_PAD.encode(tag)
    )
}

/// The claims of a token we signed that has not expired at `now_ms`.
pub fn verify(cipher: &TokenCipher, token: &str, now_ms: i64) -> Result<LinkClaims, Refusal> {
    if token.len() > TOKEN_MAX_LEN {
        return Err(Refusal::Invalid);
    }
    let (payload_b64, tag_b64) = token.split_once('.').ok_or(Refusal::Invalid)?;
    let payload = URL_SAFE_NO_PAD
        .decode(payload_b64)
        .map_err(|_| Refusal::Invalid)?;
    let tag = URL_SAFE_NO_PAD
        .decode(tag_b64)
        .map_err(|_| Refusal::Invalid)?;
    // The signature first: nothing of an unsigned payload is read.
    if !cipher.verify(PURPOSE, &payload, &tag) {
        return Err(Refusal::Invalid);
    }
    let payload = String::from_utf8(payload).map_err(|_| Refusal::Invalid)?;
    let parts: Vec<&str> = payload.split('|').collect();
    let ["1", tenant_id, quote_id, version, expires] = parts[..] else {
        return Err(Refusal::Invalid);
    };
    let expires_at_ms: i64 = expires.parse().map_err(|_| Refusal::Invalid)?;
    if now_ms >= expires_at_ms {
        return Err(Refusal::Expired);
    }
    Ok(LinkClaims {
        tenant_id: tenant_id.to_string(),
        quote_id: quote_id.to_string(),
        version: version.to_string(),
        expires_at_ms,
    })
}

/// The quote a verified link shows, read inside its own store only: `Ok(None)` when there is
/// no such quote (deleted with the store's data), `Err(Gone)` wrapped in `Ok(Some(..))` when
/// the page is dead.
pub async fn open(
    c: &mut AnyConnection,
    claims: &LinkClaims,
) -> Result<Option<Result<Quote, Gone>>, StoreError> {
    let quote = match quotes::get_conn(c, &claims.tenant_id, &claims.quote_id).await {
        Ok(q) => q,
        Err(StoreError::NotFound) => return Ok(None),
        Err(e) => return Err(e),
    };
    let gone = match quote.status {
        QuoteStatus::Superseded => Some(Gone::Replaced),
        QuoteStatus::Expired => Some(Gone::Expired),
        QuoteStatus::Rejected | QuoteStatus::PendingApproval => Some(Gone::Withdrawn),
        QuoteStatus::Sent | QuoteStatus::Accepted | QuoteStatus::Declined => None,
    };
    if let Some(g) = gone {
        return Ok(Some(Err(g)));
    }
    if version_of(&quote.snapshot_json) != claims.version {
        return Ok(Some(Err(Gone::Replaced)));
    }
    let latest = quotes::latest_for_conversation(c, &claims.tenant_id, &quote.conversation_id)
        .await?
        .map(|q| q.id);
    if latest.as_deref() != Some(quote.id.as_str()) {
        return Ok(Some(Err(Gone::Replaced)));
    }
    Ok(Some(Ok(quote)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cipher() -> TokenCipher {
        TokenCipher::new(b"0123456789abcdef0123456789abcdef", &[])
    }

    fn claims() -> LinkClaims {
        LinkClaims {
            tenant_id: "0190a0b0-0000-7000-8000-000000000001".into(),
            quote_id: "0190a0b0-0000-7000-8000-000000000002".into(),
            version: version_of("{\"total\":100}"),
            expires_at_ms: 2_000_000,
        }
    }

    #[test]
    fn a_signed_link_opens_until_it_expires() {
        let c = cipher();
        let token = issue(&c, &claims());
        assert!(token.len() < 300, "{}", token.len());
        assert!(token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.'));
        assert_eq!(verify(&c, &token, 1_999_999), Ok(claims()));
        assert_eq!(verify(&c, &token, 2_000_000), Err(Refusal::Expired));
    }

    #[test]
    fn tampered_or_foreign_links_are_invalid() {
        let c = cipher();
        let token = issue(&c, &claims());
        let (p, t) = token.split_once('.').unwrap();
        // Another quote id in the payload, the signature kept.
        let mut other = claims();
        other.quote_id = "0190a0b0-0000-7000-8000-000000000003".into();
        let forged_payload = issue(&c, &other);
        let (fp, _) = forged_payload.split_once('.').unwrap();
        assert_eq!(verify(&c, &format!("{fp}.{t}"), 0), Err(Refusal::Invalid));
        // A later expiry, the signature kept.
        let mut later = claims();
        later.expires_at_ms = i64::MAX;
        let (lp, _) = issue(&c, &later)
            .split_once('.')
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .unwrap();
        assert_eq!(verify(&c, &format!("{lp}.{t}"), 0), Err(Refusal::Invalid));
        // Another server's key.
        let stranger = TokenCipher::new(b"another-secret-another-secret-xx", &[]);
        assert_eq!(verify(&stranger, &token, 0), Err(Refusal::Invalid));
        // Garbage, truncation, oversize.
        for bad in [
            "",
            "abc",
            ".",
            p,
            &format!("{p}."),
            &format!("{p}.{}", &t[..t.len() - 2]),
            &"a".repeat(TOKEN_MAX_LEN + 1),
        ] {
            assert_eq!(verify(&c, bad, 0), Err(Refusal::Invalid), "{bad}");
        }
    }

    #[test]
    fn an_expired_link_is_still_recognised_as_ours() {
        // 410 (gone) needs the signature to hold: an expired forgery stays a 404.
        let c = cipher();
        let token = issue(&c, &claims());
        assert_eq!(verify(&c, &token, i64::MAX), Err(Refusal::Expired));
        let stranger = TokenCipher::new(b"another-secret-another-secret-xx", &[]);
        assert_eq!(verify(&stranger, &token, i64::MAX), Err(Refusal::Invalid));
    }

    #[test]
    fn the_version_follows_the_snapshot() {
        assert_eq!(version_of("a"), version_of("a"));
        assert_ne!(version_of("{\"total\":100}"), version_of("{\"total\":101}"));
        assert_eq!(version_of("a").len(), 12);
    }
}
