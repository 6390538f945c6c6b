//! Encryption at rest of channel access tokens (AES-256-GCM).
//!
//! Keys are derived from `ORCAZAP_SECRET_KEY` values with a domain-separating label. Each
//! ciphertext names the key that made it by that key's *id* — a fingerprint of the secret
//! (`k1a2b3c4d.<base64(nonce ‖ ciphertext)>`) — never by its position in the configured
//! list: positions change when an old key is removed after `orcazap secrets rotate`, and a
//! position-numbered token then pointed at a key that no longer existed (every store stopped
//! sending). Tokens written before key ids existed (`v1.…`, `v2.…`) are read by trying each
//! configured key; AES-GCM's tag says which one is right.
//!
//! The same secrets sign what the server hands out and must recognise later (the public
//! quote links, `store::quote_link`): HMAC-SHA256 under a key derived with its own label, so
//! a signature never doubles as an encryption key. Signing uses the current key; checking
//! accepts every configured key, so links sent before a rotation keep working while the old
//! secret is still configured.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("ciphertext is malformed")]
    Malformed,
    #[error("no configured key has id {0}: configure the old secret key (ORCAZAP_SECRET_KEY_OLD) until `orcazap secrets rotate` has run")]
    UnknownKey(KeyId),
    #[error("decryption failed: wrong key or tampered data")]
    Decrypt,
}

/// A key's identity: the first 32 bits of a labelled SHA-256 of the secret. Stable for a
/// given secret wherever it sits in the configuration; it reveals nothing usable about the
/// AES key (a different label, and production secrets have ≥ 32 random characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyId(pub u32);

impl std::fmt::Display for KeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:08x}", self.0)
    }
}

impl KeyId {
    pub fn of_secret(secret: &[u8]) -> KeyId {
        let mut h = Sha256::new();
        h.update(b"orcazap/secret-key-id\0");
        h.update(secret);
        let d = h.finalize();
        KeyId(u32::from_be_bytes([d[0], d[1], d[2], d[3]]))
    }

    /// The value kept in `channels.key_version` (a number column) for this key.
    pub fn as_i64(self) -> i64 {
        i64::from(self.0)
    }
}

/// Where a stored token says it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Written with the key of this id.
    Key(KeyId),
    /// Written before key ids existed (`vN.`): N was a list position, so it is ignored.
    Legacy,
}

/// The set of keys: the current one encrypts, all of them decrypt.
#[derive(Clone)]
pub struct TokenCipher {
    current: KeyId,
    /// The current key first, then the old ones in the order configured.
    keys: Vec<(KeyId, [u8; 32])>,
    /// HMAC keys derived from the same secrets, same order.
    mac_keys: Vec<[u8; 32]>,
}

impl std::fmt::Debug for TokenCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCipher")
            .field("current", &self.current)
            .field("keys", &"[redacted]")
            .finish()
    }
}

fn derive(secret: &[u8]) -> [u8; 32] {
    derive_labelled(b"orcazap/channel-token/aes-256-gcm\0", secret)
}

fn derive_labelled(label: &[u8], secret: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(label);
    h.update(secret);
    h.finalize().into()
}

type HmacSha256 = Hmac<Sha256>;

/// HMAC-SHA256 of `purpose` (a label naming what is signed, so a signature of one kind of
/// token is never valid as another) and `message`.
fn mac(key: &[u8; 32], purpose: &str, message: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length: this cannot fail.
    let mut m = <HmacSha256 as Mac>::new_from_slice(key).expect("HMAC accepts any key length");
    m.update(purpose.as_bytes());
    m.update(b"\0");
    m.update(message);
    m
}

impl TokenCipher {
    /// `current` encrypts; `old` keys (rotation in progress) only decrypt.
    pub fn new(current: &[u8], old: &[&[u8]]) -> TokenCipher {
        let secrets: Vec<&[u8]> = std::iter::once(current)
            .chain(old.iter().copied())
            .collect();
        let keys: Vec<(KeyId, [u8; 32])> = secrets
            .iter()
            .map(|s| (KeyId::of_secret(s), derive(s)))
            .collect();
        let mac_keys = secrets
            .iter()
            .map(|s| derive_labelled(b"orcazap/signature/hmac-sha256\0", s))
            .collect();
        TokenCipher {
            current: keys[0].0,
            keys,
            mac_keys,
        }
    }

    /// The signature (32 bytes) of `message` for `purpose`, with the current key.
    pub fn sign(&self, purpose: &str, message: &[u8]) -> [u8; 32] {
        mac(&self.mac_keys[0], purpose, message)
            .finalize()
            .into_bytes()
            .into()
    }

    /// Whether `tag` is the signature of `message` for `purpose` under any configured key
    /// (constant-time comparison).
    pub fn verify(&self, purpose: &str, message: &[u8], tag: &[u8]) -> bool {
        self.mac_keys
            .iter()
            .any(|k| mac(k, purpose, message).verify_slice(tag).is_ok())
    }

    pub fn current_key_id(&self) -> KeyId {
        self.current
    }

    /// Ids of every configured key, current first.
    pub fn key_ids(&self) -> Vec<KeyId> {
        self.keys.iter().map(|(id, _)| *id).collect()
    }

    pub fn encrypt(&self, plaintext: &str) -> String {
        self.encrypt_bytes(plaintext.as_bytes())
    }

    /// Any bytes (a customer's voice note or photo, `store::media`), in the same text form
    /// as a token: `k{key id}.{base64(nonce ‖ ciphertext)}`.
    pub fn encrypt_bytes(&self, plaintext: &[u8]) -> String {
        let cipher = Aes256Gcm::new(&self.keys[0].1.into());
        let mut nonce = [0u8; 12];
        rand::thread_rng().fill_bytes(&mut nonce);
        // Encryption with a valid key and a 12-byte nonce cannot fail for inputs of this size.
        let ct = cipher
            .encrypt(Nonce::from_slice(&nonce), plaintext)
            .unwrap_or_default();
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&ct);
        format!(
            "k{}.{}",
            self.current,
            base64::engine::general_purpose::STANDARD_NO_PAD.encode(blob)
        )
    }

    pub fn decrypt(&self, stored: &str) -> Result<String, CryptoError> {
        String::from_utf8(self.decrypt_bytes(stored)?).map_err(|_| CryptoError::Decrypt)
    }

    /// The bytes [`TokenCipher::encrypt_bytes`] encrypted, with any configured key.
    pub fn decrypt_bytes(&self, stored: &str) -> Result<Vec<u8>, CryptoError> {
        let (origin, b64) = parse(stored)?;
        let blob = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(b64)
            .map_err(|_| CryptoError::Malformed)?;
        if blob.len() < 12 + 16 {
            return Err(CryptoError::Malformed);
        }
        let open = |key: &[u8; 32]| {
            Aes256Gcm::new(&(*key).into())
                .decrypt(Nonce::from_slice(&blob[..12]), &blob[12..])
                .ok()
        };
        let pt = match origin {
            Origin::Key(id) => {
                let (_, key) = self
                    .keys
                    .iter()
                    .find(|(k, _)| *k == id)
                    .ok_or(CryptoError::UnknownKey(id))?;
                open(key).ok_or(CryptoError::Decrypt)?
            }
            Origin::Legacy => self
                .keys
                .iter()
                .find_map(|(_, key)| open(key))
                .ok_or(CryptoError::Decrypt)?,
        };
        Ok(pt)
    }

    /// Which key a stored value names, or None when it is not a ciphertext of ours.
    pub fn origin_of(stored: &str) -> Option<Origin> {
        parse(stored).ok().map(|(o, _)| o)
    }
}

fn parse(stored: &str) -> Result<(Origin, &str), CryptoError> {
    let (head, b64) = stored.split_once('.').ok_or(CryptoError::Malformed)?;
    if let Some(hex_id) = head.strip_prefix('k') {
        if hex_id.len() != 8 {
            return Err(CryptoError::Malformed);
        }
        let id = u32::from_str_radix(hex_id, 16).map_err(|_| CryptoError::Malformed)?;
        return Ok((Origin::Key(KeyId(id)), b64));
    }
    match head.strip_prefix('v').map(str::parse::<u32>) {
        Some(Ok(_)) => Ok((Origin::Legacy, b64)),
        _ => Err(CryptoError::Malformed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &[u8] = b"key-A-0123456789abcdef0123456789";
    const B: &[u8] = b"key-B-0123456789abcdef0123456789";

    #[test]
    fn a_key_keeps_its_id_wherever_it_is_listed() {
        // The outage of issue 19: B was "version 2" next to A and "version 1" alone.
        let b_next_to_a = TokenCipher::new(B, &[A]);
        let b_alone = TokenCipher::new(B, &[]);
        assert_eq!(b_next_to_a.current_key_id(), b_alone.current_key_id());
        assert_ne!(KeyId::of_secret(A), KeyId::of_secret(B));
        let enc = b_next_to_a.encrypt("EAAG-token");
        assert_eq!(b_alone.decrypt(&enc).unwrap(), "EAAG-token");
        assert_eq!(
            TokenCipher::origin_of(&enc),
            Some(Origin::Key(KeyId::of_secret(B)))
        );
    }

    #[test]
    fn rotation_phases() {
        let a = TokenCipher::new(A, &[]);
        let enc = a.encrypt("EAAG-token");
        assert!(!enc.contains("EAAG"));
        assert_eq!(a.decrypt(&enc).unwrap(), "EAAG-token");
        let b_with_old_a = TokenCipher::new(B, &[A]);
        assert_eq!(b_with_old_a.decrypt(&enc).unwrap(), "EAAG-token");
        let b_alone = TokenCipher::new(B, &[]);
        assert_eq!(
            b_alone.decrypt(&enc),
            Err(CryptoError::UnknownKey(KeyId::of_secret(A)))
        );
        let err = b_alone.decrypt(&enc).unwrap_err().to_string();
        assert!(err.contains("ORCAZAP_SECRET_KEY_OLD"), "{err}");
    }

    #[test]
    fn tokens_from_before_key_ids_are_read_with_any_configured_key() {
        // A `v2.` token made by A when A was listed second: the number means nothing now.
        let a = TokenCipher::new(A, &[]);
        let enc = a.encrypt("EAAG-legacy");
        let (_, b64) = enc.split_once('.').unwrap();
        let legacy = format!("v2.{b64}");
        assert_eq!(TokenCipher::origin_of(&legacy), Some(Origin::Legacy));
        assert_eq!(
            TokenCipher::new(B, &[A]).decrypt(&legacy).unwrap(),
            "EAAG-legacy"
        );
        assert_eq!(
            TokenCipher::new(B, &[]).decrypt(&legacy),
            Err(CryptoError::Decrypt)
        );
    }

    #[test]
    fn signatures_hold_across_rotation_and_purposes() {
        let a = TokenCipher::new(A, &[]);
        let tag = a.sign("quote-link", b"t1|q1");
        assert!(a.verify("quote-link", b"t1|q1", &tag));
        assert!(!a.verify("quote-link", b"t1|q2", &tag), "another message");
        assert!(!a.verify("other", b"t1|q1", &tag), "another purpose");
        assert!(!a.verify("quote-link", b"t1|q1", &tag[..31]), "cut short");
        // After rotation the old signature holds while A is still configured, not after.
        assert!(TokenCipher::new(B, &[A]).verify("quote-link", b"t1|q1", &tag));
        assert!(!TokenCipher::new(B, &[]).verify("quote-link", b"t1|q1", &tag));
        // Not the AES key: signing with the encryption key's derivation gives another tag.
        assert_ne!(
            tag,
            mac(&derive(A), "quote-link", b"t1|q1")
                .finalize()
                .into_bytes()[..]
        );
    }

    #[test]
    fn tampering_and_garbage_are_refused() {
        let c = TokenCipher::new(b"k", &[]);
        let enc = c.encrypt("segredo");
        // Flip a character well inside the payload: the last base64 character may carry only
        // padding bits, which a lenient decoder ignores, so changing it proves nothing.
        let at = enc.len() - 6;
        let mut bad = enc.clone();
        let flipped = if &enc[at..=at] == "A" { "B" } else { "A" };
        bad.replace_range(at..=at, flipped);
        assert_eq!(c.decrypt(&bad), Err(CryptoError::Decrypt));
        for garbage in ["nonsense", "kzz.abc", "k123.abc", "vx.abc", ""] {
            assert_eq!(c.decrypt(garbage), Err(CryptoError::Malformed), "{garbage}");
        }
        assert!(TokenCipher::new(b"other", &[]).decrypt(&enc).is_err());
    }
}
