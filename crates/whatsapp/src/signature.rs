//! Webhook authenticity: Meta signs every webhook POST with
//! `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body, key = app secret>`.
//!
//! The check runs over the raw bytes, before any parsing, so a forged body never reaches
//! the JSON parser, and compares in constant time so the signature can't be guessed byte
//! by byte from response timings.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Name of the header Meta puts the signature in.
pub const SIGNATURE_HEADER: &str = "X-Hub-Signature-256";

const PREFIX: &str = "sha256=";
const SHA256_LEN: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("missing X-Hub-Signature-256 header")]
    Missing,
    #[error("malformed X-Hub-Signature-256 header")]
    Malformed,
    #[error("X-Hub-Signature-256 does not match the body")]
    Mismatch,
    /// An empty app secret would make every signature trivially forgeable: refuse rather
    /// than "verify" with it.
    #[error("no app secret configured")]
    NoSecret,
}

impl SignatureError {
    /// Low-cardinality label for metrics.
    pub fn metric_label(&self) -> &'static str {
        match self {
            SignatureError::Missing => "missing",
            SignatureError::Malformed => "malformed",
            SignatureError::Mismatch => "mismatch",
            SignatureError::NoSecret => "no_secret",
        }
    }
}

fn mac_for(app_secret: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length (long ones are hashed, short ones padded), so this
    // cannot fail; no request data is involved.
    HmacSha256::new_from_slice(app_secret).expect("HMAC-SHA256 accepts keys of any length")
}

/// Checks `header` (the `X-Hub-Signature-256` value, if the request had one) against the
/// HMAC-SHA256 of `raw_body` keyed with `app_secret`.
pub fn verify_signature(
    app_secret: &[u8],
    raw_body: &[u8],
    header: Option<&str>,
) -> Result<(), SignatureError> {
    if app_secret.is_empty() {
        return Err(SignatureError::NoSecret);
    }
    let header = header.ok_or(SignatureError::Missing)?.trim();
    if header.is_empty() {
        return Err(SignatureError::Missing);
    }
    let hex_part = header
        .get(..PREFIX.len())
        .filter(|p| p.eq_ignore_ascii_case(PREFIX))
        .and_then(|_| header.get(PREFIX.len()..))
        .ok_or(SignatureError::Malformed)?;
    let given = hex::decode(hex_part).map_err(|_| SignatureError::Malformed)?;
    if given.len() != SHA256_LEN {
        return Err(SignatureError::Malformed);
    }
    let mut mac = mac_for(app_secret);
    mac.update(raw_body);
    // `verify_slice` compares in constant time (it uses `subtle` underneath).
    mac.verify_slice(&given)
        .map_err(|_| SignatureError::Mismatch)
}

/// The `X-Hub-Signature-256` value Meta would send for `raw_body` (`sha256=<lowercase hex>`).
/// Used by the demo simulator and the tests to sign the payloads they build.
pub fn sign(app_secret: &[u8], raw_body: &[u8]) -> String {
    let mut mac = mac_for(app_secret);
    mac.update(raw_body);
    format!("{PREFIX}{}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"app-secret-de-teste";
    const BODY: &[u8] = br#"{"object":"whatsapp_business_account","entry":[]}"#;

    #[test]
    fn sign_matches_a_known_hmac_vector() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            sign(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn accepts_its_own_signature_and_uppercase_hex() {
        let sig = sign(SECRET, BODY);
        assert_eq!(verify_signature(SECRET, BODY, Some(&sig)), Ok(()));
        let upper = format!("sha256={}", sig["sha256=".len()..].to_uppercase());
        assert_eq!(verify_signature(SECRET, BODY, Some(&upper)), Ok(()));
        let padded = format!("  {sig} ");
        assert_eq!(verify_signature(SECRET, BODY, Some(&padded)), Ok(()));
    }

    #[test]
    fn rejects_wrong_secret_and_tampered_body() {
        let sig = sign(b"outro-segredo", BODY);
        assert_eq!(
            verify_signature(SECRET, BODY, Some(&sig)),
            Err(SignatureError::Mismatch)
        );
        let sig = sign(SECRET, BODY);
        let tampered = br#"{"object":"whatsapp_business_account","entry":[ ]}"#;
        assert_eq!(
            verify_signature(SECRET, tampered, Some(&sig)),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn rejects_missing_and_empty_header() {
        assert_eq!(
            verify_signature(SECRET, BODY, None),
            Err(SignatureError::Missing)
        );
        assert_eq!(
            verify_signature(SECRET, BODY, Some("   ")),
            Err(SignatureError::Missing)
        );
    }

    #[test]
    fn rejects_malformed_headers() {
        let sig = sign(SECRET, BODY);
        let hex_part = &sig["sha256=".len()..];
        for bad in [
            hex_part.to_string(),                   // no prefix
            format!("sha1={hex_part}"),             // other algorithm
            format!("sha256:{hex_part}"),           // wrong separator
            format!("sha256={}zz", &hex_part[2..]), // not hex
            "sha256=".to_string(),                  // nothing after the prefix
            format!("sha256={hex_part}0"),          // odd length
            "sha256=é".to_string(),                 // multi-byte char
            "é".to_string(),                        // shorter than the prefix, multi-byte
        ] {
            assert_eq!(
                verify_signature(SECRET, BODY, Some(&bad)),
                Err(SignatureError::Malformed),
                "{bad}"
            );
        }
    }

    #[test]
    fn rejects_signatures_of_a_different_length() {
        let sig = sign(SECRET, BODY);
        let hex_part = &sig["sha256=".len()..];
        // A prefix of the right signature must not pass (no truncated comparison).
        let truncated = format!("sha256={}", &hex_part[..32]);
        assert_eq!(
            verify_signature(SECRET, BODY, Some(&truncated)),
            Err(SignatureError::Malformed)
        );
        let longer = format!("{sig}00");
        assert_eq!(
            verify_signature(SECRET, BODY, Some(&longer)),
            Err(SignatureError::Malformed)
        );
    }

    #[test]
    fn refuses_to_verify_with_an_empty_secret() {
        let sig = sign(b"", BODY);
        assert_eq!(
            verify_signature(b"", BODY, Some(&sig)),
            Err(SignatureError::NoSecret)
        );
    }
}
