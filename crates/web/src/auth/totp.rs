//! Time-based one-time passwords (RFC 6238 over RFC 4226's HOTP): HMAC-SHA-1, 6 digits, 30 s
//! steps, the step before and after accepted (clock drift), each accepted step recorded so a
//! code is never accepted twice (`store::accounts::accept_totp_step`). The secret is 160 random
//! bits, shown base32 (RFC 4648, no padding) in an `otpauth://` URI and a QR code, and stored
//! encrypted with the token cipher.

use hmac::{Hmac, Mac};
use sha1::Sha1;

pub const DIGITS: u32 = 6;
pub const STEP_SECS: i64 = 30;
/// Steps accepted either side of now.
pub const SKEW: i64 = 1;
pub const SECRET_LEN: usize = 20;

/// HOTP (RFC 4226 5.3): dynamic truncation of HMAC-SHA-1(secret, counter).
pub fn hotp(secret: &[u8], counter: u64) -> u32 {
    // HMAC accepts keys of any length.
    let mut m = <Hmac<Sha1> as Mac>::new_from_slice(secret).expect("any key length");
    m.update(&counter.to_be_bytes());
    let h = m.finalize().into_bytes();
    let off = (h[h.len() - 1] & 0x0f) as usize;
    let bin = (u32::from(h[off]) & 0x7f) << 24
        | u32::from(h[off + 1]) << 16
        | u32::from(h[off + 2]) << 8
        | u32::from(h[off + 3]);
    bin % 10u32.pow(DIGITS)
}

/// The step of a unix time.
pub fn step_of(unix_secs: i64) -> i64 {
    unix_secs.div_euclid(STEP_SECS)
}

/// The code of a step, zero-padded.
pub fn code_at(secret: &[u8], step: i64) -> String {
    format!(
        "{:0width$}",
        hotp(secret, step.max(0) as u64),
        width = DIGITS as usize
    )
}

/// The step whose code `code` is, within ±[`SKEW`] of `now`; None when it matches none.
/// Spaces and dashes people type are ignored; anything but 6 digits is refused.
pub fn verify(secret: &[u8], code: &str, unix_secs: i64) -> Option<i64> {
    let code: String = code.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = step_of(unix_secs);
    let mut found = None;
    // Every candidate is computed and compared in constant time, so the answer's timing does
    // not say which step matched.
    for s in (now - SKEW)..=(now + SKEW) {
        let c = code_at(secret, s);
        if bool::from(subtle::ConstantTimeEq::ct_eq(c.as_bytes(), code.as_bytes())) {
            found = found.or(Some(s));
        }
    }
    found
}

pub fn new_secret() -> Vec<u8> {
    use rand::RngCore;
    let mut s = vec![0u8; SECRET_LEN];
    rand::thread_rng().fill_bytes(&mut s);
    s
}

const B32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 base32 without padding (what authenticator apps read).
pub fn base32(data: &[u8]) -> String {
    let mut out = String::new();
    let (mut buf, mut bits) = (0u32, 0u32);
    for &b in data {
        buf = (buf << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            out.push(B32[((buf >> (bits - 5)) & 31) as usize] as char);
            bits -= 5;
        }
    }
    if bits > 0 {
        out.push(B32[((buf << (5 - bits)) & 31) as usize] as char);
    }
    out
}

pub fn base32_decode(s: &str) -> Option<Vec<u8>> {
    let (mut buf, mut bits) = (0u32, 0u32);
    let mut out = Vec::new();
    for c in s.chars().filter(|c| !matches!(c, ' ' | '=' | '-')) {
        let v = B32
            .iter()
            .position(|&x| x as char == c.to_ascii_uppercase())? as u32;
        buf = (buf << 5) | v;
        bits += 5;
        if bits >= 8 {
            out.push((buf >> (bits - 8)) as u8);
            bits -= 8;
        }
    }
    Some(out)
}

fn uri_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `otpauth://totp/OrçaZap%20(store):email?secret=…&issuer=OrçaZap&algorithm=SHA1&digits=6&period=30`
pub fn otpauth_uri(secret: &[u8], store: &str, account: &str) -> String {
    let issuer = format!("OrçaZap ({store})");
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        uri_escape(&issuer),
        uri_escape(account),
        base32(secret),
        uri_escape(&issuer),
    )
}

/// The QR code of `uri` as an SVG `data:` URL (the page's CSP allows `data:` images; no script).
pub fn qr_data_url(uri: &str) -> Option<String> {
    use base64::Engine as _;
    let code =
        qrcode::QrCode::with_error_correction_level(uri.as_bytes(), qrcode::EcLevel::M).ok()?;
    let svg = code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    Some(format!(
        "data:image/svg+xml;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(svg)
    ))
}

/// Ten recovery codes `xxxxx-xxxxx` from an unambiguous alphabet (≈ 50 bits each).
pub fn recovery_codes() -> Vec<String> {
    use rand::Rng;
    const A: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::thread_rng();
    (0..10)
        .map(|_| {
            let mut s = String::new();
            for i in 0..10 {
                if i == 5 {
                    s.push('-');
                }
                s.push(A[rng.gen_range(0..A.len())] as char);
            }
            s
        })
        .collect()
}

/// How a recovery code is stored: SHA-256 of its normalised form (they are random, so a fast
/// hash is enough; the database never holds a usable code).
pub fn recovery_hash(code: &str) -> String {
    use sha2::{Digest, Sha256};
    let norm: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    hex::encode(Sha256::digest(
        format!("orcazap-recovery:{norm}").as_bytes(),
    ))
}

/// Whether `input` looks like a recovery code rather than a 6-digit code.
pub fn is_recovery_code(input: &str) -> bool {
    input.chars().filter(|c| c.is_ascii_alphanumeric()).count() == 10
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B, SHA-1 rows: the 20-byte ASCII secret "12345678901234567890";
    /// the RFC prints 8 digits, whose last 6 are the 6-digit code.
    #[test]
    fn rfc6238_vectors() {
        let secret = b"12345678901234567890";
        for (t, eight) in [
            (59_i64, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(code_at(secret, step_of(t)), eight[2..], "T={t}");
            assert_eq!(verify(secret, &eight[2..], t), Some(step_of(t)), "T={t}");
        }
    }

    /// RFC 4226 Appendix D: HOTP values for counters 0..9.
    #[test]
    fn rfc4226_vectors() {
        let secret = b"12345678901234567890";
        let expected = [
            755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489,
        ];
        for (i, e) in expected.iter().enumerate() {
            assert_eq!(hotp(secret, i as u64), *e, "counter {i}");
        }
    }

    #[test]
    fn one_step_of_drift_either_way_and_no_more() {
        let secret = b"12345678901234567890";
        let t = 1_234_567_890;
        let s = step_of(t);
        for (d, ok) in [(-2, false), (-1, true), (0, true), (1, true), (2, false)] {
            let code = code_at(secret, s + d);
            assert_eq!(verify(secret, &code, t).is_some(), ok, "drift {d}");
        }
        assert_eq!(verify(secret, "12345", t), None);
        assert_eq!(verify(secret, "abcdef", t), None);
        let c = code_at(secret, s);
        assert_eq!(
            verify(secret, &format!("{} {}", &c[..3], &c[3..]), t),
            Some(s)
        );
    }

    #[test]
    fn base32_round_trip_and_rfc4648_vectors() {
        for (raw, enc) in [
            ("", ""),
            ("f", "MY"),
            ("fo", "MZXQ"),
            ("foo", "MZXW6"),
            ("foob", "MZXW6YQ"),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI"),
        ] {
            assert_eq!(base32(raw.as_bytes()), enc);
            assert_eq!(base32_decode(enc).unwrap(), raw.as_bytes());
        }
        let s = new_secret();
        assert_eq!(base32_decode(&base32(&s)).unwrap(), s);
        assert_eq!(base32_decode("not base32!"), None);
    }

    #[test]
    fn otpauth_uri_and_qr() {
        let uri = otpauth_uri(b"12345678901234567890", "demo", "dona@demo.com.br");
        assert!(uri.starts_with("otpauth://totp/Or%C3%A7aZap%20%28demo%29:dona%40demo.com.br?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&"), "{uri}");
        assert!(uri.contains("&digits=6&period=30"));
        let qr = qr_data_url(&uri).unwrap();
        assert!(qr.starts_with("data:image/svg+xml;base64,"));
    }

    #[test]
    fn recovery_codes_are_distinct_and_hash_normalised() {
        let codes = recovery_codes();
        assert_eq!(codes.len(), 10);
        let mut d = codes.clone();
        d.sort();
        d.dedup();
        assert_eq!(d.len(), 10);
        assert!(codes.iter().all(|c| is_recovery_code(c)));
        assert_eq!(
            recovery_hash(&codes[0]),
            recovery_hash(&codes[0].to_uppercase().replace('-', " "))
        );
        assert!(!is_recovery_code("123456"));
    }
}
