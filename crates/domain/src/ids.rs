//! Validated identifiers of the product's language: store slugs, phone numbers, CEPs.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A store's subdomain: `^[a-z0-9-]{3,32}$`, not reserved, not starting or ending with `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

/// Host labels the product uses itself, that operations may need (monitoring, staging,
/// mail), or that would pass for an official page of the platform in a phishing link.
pub const RESERVED_SLUGS: &[&str] = &[
    "api",
    "www",
    "admin",
    "administrador",
    "app",
    "mail",
    "email",
    "smtp",
    "imap",
    "pop",
    "pop3",
    "mx",
    "ns1",
    "ns2",
    "ftp",
    "static",
    "assets",
    "cdn",
    "media",
    "img",
    "files",
    "status",
    "help",
    "ajuda",
    "suporte",
    "support",
    "login",
    "logout",
    "signup",
    "cadastro",
    "entrar",
    "conta",
    "painel",
    "billing",
    "pagamento",
    "pagamentos",
    "cobranca",
    "dashboard",
    "docs",
    "blog",
    "demo-admin",
    "root",
    "orcazap",
    "operador",
    "operator",
    "metrics",
    "health",
    "ready",
    "webhook",
    "webhooks",
    "staging",
    "stage",
    "homolog",
    "dev",
    "test",
    "teste",
    "sandbox",
    "grafana",
    "prometheus",
    "alertmanager",
    "monitor",
    "monitoring",
    "loki",
    "sentry",
    "vpn",
    "git",
    "ci",
    "security",
    "seguranca",
    "abuse",
    "postmaster",
    "hostmaster",
    "webmaster",
    "noreply",
    "no-reply",
    "autodiscover",
    "autoconfig",
    "simulator",
    "simulador",
    "localhost",
    "internal",
    "intranet",
];
impl Slug {
    pub fn parse(s: &str) -> Result<Slug, String> {
        let s = s.trim().to_lowercase();
        let ok_chars = s
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !(3..=32).contains(&s.len()) || !ok_chars {
            return Err("o endereço da loja deve ter de 3 a 32 caracteres: letras minúsculas, números e hífen".into());
        }
        if s.starts_with('-') || s.ends_with('-') {
            return Err("o endereço da loja não pode começar nem terminar com hífen".into());
        }
        // `xn--…` is Punycode (an internationalised look-alike such as `orçazap`), and every
        // `??--` label is reserved for such encodings (RFC 5891 §4.2.3.1).
        if s.get(2..4) == Some("--") {
            return Err(
                "o endereço da loja não pode ter \"--\" na terceira e quarta letras (reservado para endereços internacionalizados)".into(),
            );
        }
        if RESERVED_SLUGS.contains(&s.as_str()) || s.contains("orcazap") {
            return Err(format!("\"{s}\" é um endereço reservado; escolha outro"));
        }
        Ok(Slug(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Slug {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Slug::parse(&s)
    }
}

impl From<Slug> for String {
    fn from(s: Slug) -> String {
        s.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A WhatsApp id (`wa_id`): digits only, as Meta sent it. Brazilian numbers sometimes come
/// without the mobile 9th digit; we reply to exactly what Meta gave us, never "fix" it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct WaId(String);

impl WaId {
    pub fn parse(s: &str) -> Result<WaId, String> {
        let t = s.trim().trim_start_matches('+');
        if !(8..=15).contains(&t.len()) || !t.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("número de WhatsApp inválido: \"{s}\""));
        }
        Ok(WaId(t.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// For logs: keeps country/area code and the last two digits (`5511*******21`).
    pub fn masked(&self) -> String {
        mask_phone(&self.0)
    }
}

/// Masks a phone number for logs, keeping the first four and last two digits.
pub fn mask_phone(digits: &str) -> String {
    let n = digits.chars().count();
    if n <= 6 {
        return "*".repeat(n);
    }
    digits
        .chars()
        .enumerate()
        .map(|(i, c)| if i < 4 || i >= n - 2 { c } else { '*' })
        .collect()
}

impl TryFrom<String> for WaId {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        WaId::parse(&s)
    }
}

impl From<WaId> for String {
    fn from(w: WaId) -> String {
        w.0
    }
}

impl fmt::Display for WaId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A Brazilian postal code: 8 digits, within the range the Correios use (01000-000 to
/// 99999-999).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Cep(u32);

impl Cep {
    /// Accepts `04567-000`, `04567000`, `04.567-000`, `04567 000`.
    pub fn parse(s: &str) -> Result<Cep, String> {
        let digits: String = s.chars().filter(|c| c.is_ascii_digit()).collect();
        let only_cep_chars = s
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '-' | '.' | ' '));
        if digits.len() != 8 || !only_cep_chars {
            return Err(format!(
                "CEP inválido: \"{s}\" (use 8 dígitos, ex. 04567-000)"
            ));
        }
        let v: u32 = digits
            .parse()
            .map_err(|_| format!("CEP inválido: \"{s}\""))?;
        if v < 1_000_000 {
            return Err(format!("CEP inexistente: \"{s}\""));
        }
        Ok(Cep(v))
    }

    pub fn value(self) -> u32 {
        self.0
    }

    /// `04567000`
    pub fn digits(self) -> String {
        format!("{:08}", self.0)
    }

    /// `04567-000`
    pub fn formatted(self) -> String {
        let d = self.digits();
        format!("{}-{}", &d[..5], &d[5..])
    }
}

impl TryFrom<String> for Cep {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Cep::parse(&s)
    }
}

impl From<Cep> for String {
    fn from(c: Cep) -> String {
        c.digits()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert!(Slug::parse("demo").is_ok());
        assert!(Slug::parse("loja-do-ze-2").is_ok());
        assert!(Slug::parse("ab").is_err());
        assert!(Slug::parse("api").is_err());
        assert!(Slug::parse("Loja_X").is_err());
        assert!(Slug::parse("-abc").is_err());
        assert!(Slug::parse(&"a".repeat(33)).is_err());
        // Look-alikes and the platform's own names (issue 10, sign-up partial finding).
        for bad in [
            "xn--orazap-wta",
            "ab--cd",
            "metrics",
            "health",
            "webhooks",
            "staging",
            "grafana",
            "admin",
            "www",
            "mail",
            "orcazap-suporte",
            "suporte-orcazap",
        ] {
            let e = Slug::parse(bad).unwrap_err();
            assert!(e.contains("reservado"), "{bad}: {e}");
        }
        assert!(Slug::parse("deposito-zeca").is_ok());
    }

    #[test]
    fn ceps() {
        assert_eq!(Cep::parse("04567-000").unwrap().digits(), "04567000");
        assert_eq!(Cep::parse("04.696-000").unwrap().digits(), "04696000");
        assert_eq!(Cep::parse("04567 000").unwrap().formatted(), "04567-000");
        assert!(Cep::parse("0456-000").is_err());
        assert!(Cep::parse("00000000").is_err());
        assert!(Cep::parse("abc04567000").is_err());
    }

    #[test]
    fn phones() {
        let w = WaId::parse("5511987654321").unwrap();
        assert_eq!(w.masked(), "5511*******21");
        assert!(WaId::parse("12ab").is_err());
        assert_eq!(
            WaId::parse("+551187654321").unwrap().as_str(),
            "551187654321"
        );
    }
}
