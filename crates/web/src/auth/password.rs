//! Argon2id password hashing and a plain-language strength check.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;

pub const MIN_LEN: usize = 10;

/// Refuses weak passwords with a pt-BR reason.
pub fn check_strength(password: &str, email: &str) -> Result<(), String> {
    let n = password.chars().count();
    if n < MIN_LEN {
        return Err(format!(
            "a senha precisa ter pelo menos {MIN_LEN} caracteres"
        ));
    }
    if n > 200 {
        return Err("a senha pode ter no máximo 200 caracteres".into());
    }
    let distinct: std::collections::HashSet<char> = password.chars().collect();
    if distinct.len() < 4 {
        return Err("a senha repete caracteres demais; use uma frase ou uma mistura maior".into());
    }
    let lower = password.to_lowercase();
    const COMMON: &[&str] = &[
        "1234567890",
        "0123456789",
        "senha12345",
        "password12",
        "qwertyuiop",
        "orcazap123",
        "abcdefghij",
    ];
    if COMMON.iter().any(|c| lower.contains(c)) {
        return Err("essa senha é muito comum; escolha outra".into());
    }
    let local = email.split('@').next().unwrap_or("").to_lowercase();
    if local.len() >= 4 && lower.contains(&local) {
        return Err("a senha não pode conter o seu e-mail".into());
    }
    Ok(())
}

pub fn hash(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| format!("hashing failed: {e}"))
}

/// Constant-time verification against a stored PHC string.
pub fn verify(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A random password people can type: 4 groups of 4 from an unambiguous alphabet.
pub fn generate() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    (0..4)
        .map(|_| {
            (0..4)
                .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashing_round_trip() {
        let h = hash("uma senha bem longa").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("uma senha bem longa", &h));
        assert!(!verify("outra senha qualquer", &h));
        assert!(!verify("x", "not a hash"));
    }

    #[test]
    fn strength() {
        assert!(check_strength("curta", "a@b.c").is_err());
        assert!(check_strength("aaaaaaaaaaaa", "a@b.c").is_err());
        assert!(check_strength("1234567890ab", "a@b.c").is_err());
        assert!(check_strength("dono.loja.2026!", "dono@loja.com").is_err());
        assert!(check_strength("cimento areia brita", "dono@loja.com").is_ok());
        let g = generate();
        assert!(check_strength(&g, "x@y.z").is_ok(), "{g}");
    }
}
