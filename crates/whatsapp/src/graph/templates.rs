//! WhatsApp message templates ("modelos de mensagem do WhatsApp"; not the store's reply
//! texts, which the product calls templates too): what Meta lets a business send outside the
//! 24-hour customer-service window, once Meta approved them.
//!
//! - `POST /{waba_id}/message_templates` submits one for review;
//! - `GET /{waba_id}/message_templates` lists them with their review status (the dashboard's
//!   "Atualizar"; the `message_template_status_update` webhook says the same thing unasked);
//! - a message of `type: template` sends one, its body's `{{1}}`, `{{2}}`… filled in order.
//!
//! Also here: the read receipt with typing indicator (`status: read` on `/messages`), the
//! other non-conversational call the worker makes.

use secrecy::SecretString;
use serde::Deserialize;
use serde_json::{json, Value};

use super::message::{invalid, InvalidMessage};
use super::{answer_of, channel_token, permanent, GraphClient, SendError};

/// Meta's limit for a template name: lowercase letters, digits and underscores.
pub const MAX_TEMPLATE_NAME_CHARS: usize = 512;
/// Meta's limit for a template's body text.
pub const MAX_TEMPLATE_BODY_CHARS: usize = 1024;
/// The categories a store may submit (authentication templates are for one-time codes).
pub const TEMPLATE_CATEGORIES: &[&str] = &["UTILITY", "MARKETING"];
/// Review states Meta reports (`status` of a template; `event` of the webhook).
pub const TEMPLATE_STATUSES: &[&str] = &[
    "PENDING",
    "APPROVED",
    "REJECTED",
    "PAUSED",
    "DISABLED",
    "IN_APPEAL",
    "PENDING_DELETION",
    "DELETED",
    "FLAGGED",
    "REINSTATED",
    "LIMIT_EXCEEDED",
    "ARCHIVED",
];

/// A template to submit for Meta's review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateSubmission {
    pub name: String,
    /// `pt_BR`.
    pub language: String,
    /// `UTILITY` or `MARKETING`.
    pub category: String,
    /// The body, with `{{1}}`, `{{2}}`… for the parameters.
    pub body: String,
    /// One example value per parameter: Meta requires them to review a body with variables.
    pub examples: Vec<String>,
}

/// Meta's answer to a submission.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SubmittedTemplate {
    pub id: String,
    pub status: String,
    #[serde(default)]
    pub category: String,
}

/// One template as `GET /{waba_id}/message_templates` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TemplateState {
    pub id: String,
    pub name: String,
    pub language: String,
    pub status: String,
    #[serde(default)]
    pub category: String,
    /// Why Meta rejected or paused it (`NONE` when there is no reason).
    #[serde(default)]
    pub rejected_reason: Option<String>,
}

#[derive(Deserialize)]
struct TemplateList {
    #[serde(default)]
    data: Vec<TemplateState>,
    #[serde(default)]
    paging: Option<Paging>,
}

/// Graph's cursor paging: `{"cursors": {"before", "after"}, "next": URL}` (`next` only when
/// another page follows).
#[derive(Debug, Deserialize)]
struct Paging {
    #[serde(default)]
    cursors: Option<Cursors>,
    #[serde(default)]
    next: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Cursors {
    #[serde(default)]
    after: Option<String>,
}

/// Templates asked per page of the list (Meta's maximum).
pub const TEMPLATE_PAGE_LIMIT: usize = 250;
/// Pages read in one sync at most (25,000 templates; Meta allows far fewer per account).
pub const MAX_TEMPLATE_PAGES: usize = 100;

/// Why a template body can't be submitted: pt-BR, shown on the dashboard as it is.
pub fn check_template_body(body: &str) -> Result<usize, String> {
    let n = body.chars().count();
    if body.trim().is_empty() || n > MAX_TEMPLATE_BODY_CHARS {
        return Err(format!(
            "o texto deve ter de 1 a {MAX_TEMPLATE_BODY_CHARS} caracteres (tem {n})"
        ));
    }
    let vars = variables(body)?;
    for (i, v) in vars.iter().enumerate() {
        if *v != i + 1 {
            return Err(format!(
                "as variáveis devem seguir a ordem {{{{1}}}}, {{{{2}}}}…: encontrei {{{{{v}}}}} no lugar de {{{{{}}}}}",
                i + 1
            ));
        }
    }
    let trimmed = body.trim();
    if !vars.is_empty() && (trimmed.starts_with("{{") || trimmed.ends_with("}}")) {
        return Err("a Meta não aceita variável no começo nem no fim do texto".into());
    }
    Ok(vars.len())
}

/// The numbers of the `{{n}}` in a body, in order of appearance (a repeated one counts once).
fn variables(body: &str) -> Result<Vec<usize>, String> {
    let mut out: Vec<usize> = Vec::new();
    let mut rest = body;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or("há um {{ sem o }} que o fecha".to_string())?;
        let inner = after[..end].trim();
        let n: usize = inner.parse().ok().filter(|n| *n >= 1).ok_or_else(|| {
            format!("variável inválida {{{{{inner}}}}}: use {{{{1}}}}, {{{{2}}}}…")
        })?;
        if !out.contains(&n) {
            out.push(n);
        }
        rest = &after[end + 2..];
    }
    Ok(out)
}

/// Meta's name rule: 1 to 512 lowercase letters, digits or underscores.
pub fn is_template_name(name: &str) -> bool {
    (1..=MAX_TEMPLATE_NAME_CHARS).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// A template body with its parameters put in: what the customer reads (shown in the
/// conversation's transcript).
pub fn fill_template(body: &str, parameters: &[String]) -> String {
    let mut out = body.to_string();
    for (i, p) in parameters.iter().enumerate() {
        out = out.replace(&format!("{{{{{}}}}}", i + 1), p);
    }
    out
}

/// A template message's parameter: Meta refuses (132018) a value with a line break, a tab or
/// more than four spaces in a row, and an empty one.
pub(super) fn validate_template_message(
    name: &str,
    language: &str,
    parameters: &[String],
) -> Result<(), InvalidMessage> {
    if !is_template_name(name) {
        return invalid("template name must be 1 to 512 lowercase letters, digits or underscores");
    }
    if language.trim().is_empty() {
        return invalid("template without a language");
    }
    for (i, p) in parameters.iter().enumerate() {
        if p.trim().is_empty() || p.contains(['\n', '\t']) || p.contains("     ") {
            return invalid(format!(
                "template parameter {} is empty or has a line break, a tab or more than 4 spaces in a row",
                i + 1
            ));
        }
    }
    Ok(())
}

/// The `template` object of a message: name, language and the body's parameters.
pub(super) fn template_object(name: &str, language: &str, parameters: &[String]) -> Value {
    let mut t = json!({ "name": name, "language": { "code": language } });
    if !parameters.is_empty() {
        t["components"] = json!([{
            "type": "body",
            "parameters": parameters
                .iter()
                .map(|p| json!({ "type": "text", "text": p }))
                .collect::<Vec<_>>(),
        }]);
    }
    t
}

/// The body of `POST /{waba_id}/message_templates`.
pub fn submission_json(t: &TemplateSubmission) -> Value {
    let mut body = json!({ "type": "BODY", "text": t.body });
    if !t.examples.is_empty() {
        body["example"] = json!({ "body_text": [t.examples] });
    }
    json!({
        "name": t.name,
        "language": t.language,
        "category": t.category,
        "components": [body],
    })
}

impl GraphClient {
    /// `{base}/{version}/{waba_id}/message_templates`.
    pub fn templates_url(&self, waba_id: &str) -> String {
        format!(
            "{}/{}/{}/message_templates",
            self.base_url, self.api_version, waba_id
        )
    }

    /// Submits a template for Meta's review; Meta answers its id and first status (usually
    /// `PENDING`). One attempt, classified like a send.
    pub async fn submit_template(
        &self,
        waba_id: &str,
        access_token: &SecretString,
        template: &TemplateSubmission,
    ) -> Result<SubmittedTemplate, SendError> {
        let token = channel_token(waba_id, access_token)?;
        if !is_template_name(&template.name) {
            return Err(permanent(
                "template name must be 1 to 512 lowercase letters, digits or underscores",
            ));
        }
        let vars = check_template_body(&template.body).map_err(permanent)?;
        if vars != template.examples.len() {
            return Err(permanent(format!(
                "the body has {vars} variables and {} examples",
                template.examples.len()
            )));
        }
        let request = self
            .http
            .post(self.templates_url(waba_id))
            .bearer_auth(token)
            .json(&submission_json(template));
        let body = answer_of(request, token).await?;
        serde_json::from_slice::<SubmittedTemplate>(&body)
            .ok()
            .filter(|t| !t.id.trim().is_empty())
            .ok_or_else(|| permanent("Meta accepted the template but sent no id"))
    }

    /// The account's templates with their review status, every page: Meta answers at most
    /// `limit` (250) per page with `paging.cursors.after` and, when more follow,
    /// `paging.next`. The next page is asked from our own templates URL with `after` — never
    /// by following the `next` URL itself, so the token only ever goes to the configured
    /// Graph host. Stops at [`MAX_TEMPLATE_PAGES`] or on a cursor that repeats.
    pub async fn list_templates(
        &self,
        waba_id: &str,
        access_token: &SecretString,
    ) -> Result<Vec<TemplateState>, SendError> {
        let token = channel_token(waba_id, access_token)?;
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..MAX_TEMPLATE_PAGES {
            let mut query = vec![
                (
                    "fields",
                    "id,name,language,status,category,rejected_reason".to_string(),
                ),
                ("limit", TEMPLATE_PAGE_LIMIT.to_string()),
            ];
            if let Some(a) = &after {
                query.push(("after", a.clone()));
            }
            let request = self
                .http
                .get(self.templates_url(waba_id))
                .query(&query)
                .bearer_auth(token);
            let body = answer_of(request, token).await?;
            let page = serde_json::from_slice::<TemplateList>(&body)
                .map_err(|_| permanent("Meta's template list did not parse"))?;
            out.extend(page.data);
            let next = page
                .paging
                .filter(|p| p.next.as_deref().is_some_and(|n| !n.is_empty()))
                .and_then(|p| p.cursors)
                .and_then(|c| c.after)
                .filter(|a| !a.is_empty());
            match next {
                Some(a) if after.as_deref() != Some(a.as_str()) => after = Some(a),
                _ => return Ok(out),
            }
        }
        tracing::warn!(
            pages = MAX_TEMPLATE_PAGES,
            "template list longer than the pages read; the rest is left for the next sync"
        );
        Ok(out)
    }

    /// Marks the customer's message read (blue ticks) and shows "digitando…" until our reply
    /// or 25 seconds: `{"messaging_product":"whatsapp","status":"read","message_id":…,
    /// "typing_indicator":{"type":"text"}}`. One attempt; callers treat it as best effort.
    pub async fn mark_read_typing(
        &self,
        phone_number_id: &str,
        access_token: &SecretString,
        message_id: &str,
    ) -> Result<(), SendError> {
        let token = channel_token(phone_number_id, access_token)?;
        if message_id.trim().is_empty() {
            return Err(permanent("read receipt without a message id"));
        }
        if super::is_test_channel(phone_number_id) {
            let json = serde_json::to_vec(&read_typing_json(message_id)).unwrap_or_default();
            return super::test_channel::answer(
                super::test_channel::Call::ReadMark,
                phone_number_id,
                token,
                &json,
            )
            .map(drop);
        }
        let request = self
            .http
            .post(self.messages_url(phone_number_id))
            .bearer_auth(token)
            .json(&read_typing_json(message_id));
        answer_of(request, token).await.map(drop)
    }
}

/// The body of a read receipt with typing indicator.
pub fn read_typing_json(message_id: &str) -> Value {
    json!({
        "messaging_product": "whatsapp",
        "status": "read",
        "message_id": message_id,
        "typing_indicator": { "type": "text" },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_with_variables_in_order_are_accepted() {
        assert_eq!(
            check_template_body("Olá {{1}}, seu orçamento {{2}} vence em {{3}}."),
            Ok(3)
        );
        assert_eq!(check_template_body("Sem variáveis."), Ok(0));
        // A repeated variable counts once.
        assert_eq!(check_template_body("Oi {{1}}, {{1}} de novo."), Ok(1));
    }

    #[test]
    fn bodies_meta_refuses_are_refused_with_a_reason() {
        for bad in [
            "",
            "Olá {{2}}, tudo bem?",
            "Olá {{1}} e {{3}}.",
            "{{1}}, seu orçamento.",
            "Seu orçamento é {{1}}",
            "Olá {{nome}}.",
            "Olá {{1}.",
        ] {
            assert!(check_template_body(bad).is_err(), "{bad:?}");
        }
        assert!(check_template_body(&"a".repeat(1025)).is_err());
    }

    #[test]
    fn names_follow_metas_rule() {
        assert!(is_template_name("lembrete_orcamento_2"));
        for bad in ["", "Lembrete", "lembrete-orcamento", "lembrete orçamento"] {
            assert!(!is_template_name(bad), "{bad}");
        }
    }

    #[test]
    fn a_template_message_is_metas_format() {
        let t = template_object("lembrete", "pt_BR", &["Ana".into(), "ORC-1".into()]);
        assert_eq!(
            t,
            json!({
                "name": "lembrete",
                "language": { "code": "pt_BR" },
                "components": [{ "type": "body", "parameters": [
                    { "type": "text", "text": "Ana" },
                    { "type": "text", "text": "ORC-1" },
                ]}],
            })
        );
        assert!(template_object("x", "pt_BR", &[])
            .get("components")
            .is_none());
        assert!(validate_template_message("x", "pt_BR", &["a\nb".into()]).is_err());
        assert!(validate_template_message("x", "pt_BR", &["a     b".into()]).is_err());
        assert!(validate_template_message("x", "pt_BR", &["a b".into()]).is_ok());
        assert_eq!(
            fill_template(
                "Oi {{1}}, orçamento {{2}}.",
                &["Ana".into(), "ORC-1".into()]
            ),
            "Oi Ana, orçamento ORC-1."
        );
    }
}
