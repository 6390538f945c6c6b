//! Encryption at rest of channel access tokens (AES-256-GCM).
//!
//! Keys are derived from `ORCAZAP_SECRET_KEY` values with a domain-separating label, and
//! each ciphertext names the key version that made it (`v2.<base64(nonce ‖ ciphertext)>`),
//! so a new key can be introduced while old tokens stay readable until `orcazap secrets
//! rotate` re-encrypts them.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use rand::RngCore;
use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("ciphertext is malformed")]
    Malformed,
    #[error("no key for version {0}: configure the old secret key until rotation finishes")]
    UnknownKeyVersion(u32),
    #[error("decryption failed: wrong key or tampered data")]
    Decrypt,
}

/// The set of keys: the current one encrypts, all of them decrypt.
#[derive(Clone)]
pub struct TokenCipher {
    current: u32,
    keys: Vec<(u32, [u8; 32])>,
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
    let mut h = Sha256::new();
    h.update(b"orcazap/channel-token/aes-256-gcm\0");
    h.update(secret);
    h.finalize().into()
}

impl TokenCipher {
    /// `secrets` are (version, secret key material); the highest version encrypts.
    pub fn new(secrets: &[(u32, &[u8])]) -> TokenCipher {
        let keys: Vec<(u32, [u8; 32])> = secrets.iter().map(|(v, s)| (*v, derive(s))).collect();
        let current = keys.iter().map(|(v, _)| *v).max().unwrap_or(1);
        TokenCipher { current, keys }
    }

    pub fn current_version(&self) -> u32 {
        self.current
    }

    fn key(&self, version: u32) -> Result<&[u8; 32], CryptoError> {
        self.keys
            .iter()
            .find(|(v, _)| *v == version)
            .map(|(_, k)| k)
            .ok_or(CryptoError::UnknownKeyVersion(version))
    }

    pub fn encrypt(&self, plaintext: &str) -> String {
        let key = self.key(self.current).copied().unwrap_or([0; 32]);
        let cipher = Aes256Gcm::new(&key.into());
        let mut nonce = [0u8; 12];
        rand::thread_rng().fill_bytes(&mut nonce);
        // Encryption with a valid key and a 12-byte nonce cannot fail for inputs of this size.
        let ct = cipher
            .encrypt(Nonce::from_slice(&nonce), plaintext.as_bytes())
            .unwrap_or_default();
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&ct);
        format!(
            "v{}.{}",
            self.current,
            base64::engine::general_purpose::STANDARD_NO_PAD.encode(blob)
        )
    }

    pub fn decrypt(&self, stored: &str) -> Result<String, CryptoError> {
        let (version, b64) = stored
            .strip_prefix('v')
            .and_then(|r| r.split_once('.'))
            .ok_or(CryptoError::Malformed)?;
        let version: u32 = version.parse().map_err(|_| CryptoError::Malformed)?;
        let blob = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(b64)
            .map_err(|_| CryptoError::Malformed)?;
        if blob.len() < 12 + 16 {
            return Err(CryptoError::Malformed);
        }
        let cipher = Aes256Gcm::new(&(*self.key(version)?).into());
        let pt = cipher
            .decrypt(Nonce::from_slice(&blob[..12]), &blob[12..])
            .map_err(|_| CryptoError::Decrypt)?;
        String::from_utf8(pt).map_err(|_| CryptoError::Decrypt)
    }

    /// The version a stored value was encrypted with.
    pub fn version_of(stored: &str) -> Option<u32> {
        stored.strip_prefix('v')?.split_once('.')?.0.parse().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_rotation() {
        let old = TokenCipher::new(&[(1, b"old secret")]);
        let enc = old.encrypt("EAAG-token");
        assert!(!enc.contains("EAAG"));
        assert_eq!(old.decrypt(&enc).unwrap(), "EAAG-token");
        let both = TokenCipher::new(&[(1, b"old secret"), (2, b"new secret")]);
        assert_eq!(
            both.decrypt(&enc).unwrap(),
            "EAAG-token",
            "old key still reads"
        );
        let re = both.encrypt("EAAG-token");
        assert_eq!(TokenCipher::version_of(&re), Some(2));
        let new_only = TokenCipher::new(&[(2, b"new secret")]);
        assert_eq!(
            new_only.decrypt(&enc),
            Err(CryptoError::UnknownKeyVersion(1))
        );
        assert_eq!(new_only.decrypt(&re).unwrap(), "EAAG-token");
    }

    #[test]
    fn tampering_and_garbage_are_refused() {
        let c = TokenCipher::new(&[(1, b"k")]);
        let enc = c.encrypt("segredo");
        let mut bad = enc.clone();
        bad.pop();
        bad.push(if enc.ends_with('A') { 'B' } else { 'A' });
        assert!(c.decrypt(&bad).is_err());
        assert_eq!(c.decrypt("nonsense"), Err(CryptoError::Malformed));
        assert!(TokenCipher::new(&[(1, b"other")]).decrypt(&enc).is_err());
    }
}
