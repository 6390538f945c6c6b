//! Argon2id password hashing and a plain-language strength check.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;

pub const MIN_LEN: usize = 10;
const MAX_LEN: usize = 200;
/// zxcvbn's scale: 3 is "safely unguessable: moderate protection from an offline
/// slow-hash attack" (about 10^8 guesses or more).
const MIN_SCORE: u8 = 3;

/// Words every OrçaZap password must not lean on, in the language of its users: zxcvbn's
/// dictionaries are English, so "senha", the product's name and the trade's words are added
/// as if the user had typed them.
const PT_BR_WORDS: &[&str] = &[
    "orcazap",
    "orçazap",
    "senha",
    "minhasenha",
    "mudar",
    "trocar",
    "loja",
    "deposito",
    "depósito",
    "material",
    "construcao",
    "construção",
    "cimento",
    "admin",
    "brasil",
    "teste",
    "acesso",
    "entrar",
    "dono",
    "balcao",
];

/// Refuses weak passwords with a pt-BR reason. `context` is what the password must not be
/// built from: the user's e-mail, the store's name and slug (each also split in words).
///
/// The estimate is zxcvbn's (Dropbox's estimator, patterns: dictionary words with l33t
/// substitutions, dates, years, keyboard walks, repeats and sequences): a length rule alone
/// accepts `Senha@2024` and `12341234123412`.
pub fn check_strength(password: &str, context: &[&str]) -> Result<(), String> {
    let n = password.chars().count();
    if n < MIN_LEN {
        return Err(format!(
            "a senha precisa ter pelo menos {MIN_LEN} caracteres"
        ));
    }
    if n > MAX_LEN {
        return Err(format!("a senha pode ter no máximo {MAX_LEN} caracteres"));
    }
    let lower = fold(password);
    let mut inputs: Vec<String> = PT_BR_WORDS.iter().map(|w| w.to_string()).collect();
    for c in context {
        let c = fold(c.trim());
        if c.is_empty() {
            continue;
        }
        let local = c.split('@').next().unwrap_or("").to_string();
        if local.chars().count() >= 4 && lower.contains(&local) {
            return Err("a senha não pode conter o seu e-mail nem o nome da loja".into());
        }
        inputs.extend(
            c.split(|ch: char| !ch.is_alphanumeric())
                .filter(|w| w.chars().count() >= 3)
                .map(str::to_string),
        );
        inputs.push(local);
        inputs.push(c);
    }
    let refs: Vec<&str> = inputs.iter().map(String::as_str).collect();
    // zxcvbn's cost grows with length; past 100 characters a password is strong anyway.
    let sample: String = lower.chars().take(100).collect();
    let estimate = zxcvbn::zxcvbn(&sample, &refs);
    if u8::from(estimate.score()) < MIN_SCORE {
        return Err(
            "essa senha é fácil de adivinhar (palavras comuns, datas, sequências ou o nome da loja); use uma frase com palavras que não combinam, por exemplo \"tijolo azul corre na praia\""
                .into(),
        );
    }
    Ok(())
}

/// Lower case without accents: "Depósito Zé" and "deposito ze" are the same words.
fn fold(s: &str) -> String {
    s.to_lowercase()
        .chars()
        .map(|c| match c {
            'á' | 'à' | 'â' | 'ã' | 'ä' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'í' | 'ì' | 'î' | 'ï' => 'i',
            'ó' | 'ò' | 'ô' | 'õ' | 'ö' => 'o',
            'ú' | 'ù' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            other => other,
        })
        .collect()
}

/// At most this many password hashes are computed at once (Argon2 takes tens of
/// milliseconds of a core): a flood of logins waits here instead of starving every other
/// request, and hashing runs on blocking threads, never on the async workers.
fn hashing_slots() -> &'static tokio::sync::Semaphore {
    static S: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    S.get_or_init(|| {
        tokio::sync::Semaphore::new(
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2),
        )
    })
}

/// [`verify`] off the async runtime, queued behind [`hashing_slots`].
pub async fn verify_async(password: &str, stored: &str) -> bool {
    let Ok(_permit) = hashing_slots().acquire().await else {
        return false;
    };
    let (p, h) = (password.to_string(), stored.to_string());
    tokio::task::spawn_blocking(move || verify(&p, &h))
        .await
        .unwrap_or(false)
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
        let ctx = ["dono@loja.com", "Depósito Zé", "deposito-ze"];
        assert!(check_strength("curta", &ctx).is_err());
        assert!(check_strength("aaaaaaaaaaaa", &ctx).is_err());
        assert!(check_strength("1234567890ab", &ctx).is_err());
        assert!(check_strength("dono.loja.2026!", &ctx).is_err());
        // The examples: accepted by the old length-and-list rule.
        for weak in [
            "orcazap2024",
            "Senha@2024",
            "12341234123412",
            "Orcazap@2025",
            "qwerty123456",
            "deposito-ze-2024",
        ] {
            let e = check_strength(weak, &ctx).unwrap_err();
            assert!(!e.is_empty(), "{weak}");
        }
        for ok in [
            "cimento areia brita 2026",
            "areia fina 2026 ok",
            "tijolo bom 2026",
            "telha verde pula muro",
            "Senha-Muito-Secreta-2026!",
            "Outra-Senha-Forte-2027?",
        ] {
            assert_eq!(check_strength(ok, &ctx), Ok(()), "{ok}");
        }
        for _ in 0..20 {
            let g = generate();
            assert_eq!(check_strength(&g, &["x@y.z"]), Ok(()), "{g}");
        }
    }
}
