//! Meta's message-template endpoints and template sends, as the mock Graph API plays them:
//! `POST /{version}/{waba_id}/message_templates` (submission, answered `PENDING`),
//! `GET` of the same path (the list with review status), [`MockGraph::review_template`]
//! standing in for Meta's reviewers, and the checks of a `type: template` message against
//! what was submitted and approved (Meta's 132000/132001/132015/132016).
//! Also the read receipt with typing indicator (`status: read` on `/messages`).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use super::{check_caller, header, lock, Inner, MockGraph, Refusal};
use crate::graph::{check_template_body, is_template_name, TEMPLATE_STATUSES};

/// Language codes the mock takes (Meta lists ~70; the product submits `pt_BR`).
const LANGUAGES: &[&str] = &["pt_BR", "pt_PT", "en_US", "en", "es", "es_AR", "es_MX"];
/// Categories Meta takes in a submission.
const CATEGORIES: &[&str] = &["UTILITY", "MARKETING", "AUTHENTICATION"];

/// A template submitted to the mock, with the review state a test gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MockTemplate {
    pub id: String,
    pub waba_id: String,
    pub name: String,
    pub language: String,
    pub category: String,
    pub body: String,
    /// How many `{{n}}` the body has: a send must bring exactly that many parameters.
    pub parameters: usize,
    pub status: String,
    pub rejected_reason: String,
}

/// The largest template list page Meta serves (the product asks `limit=250`).
pub(super) const DEFAULT_PAGE_MAX: u64 = 250;

/// One `GET message_templates` the mock answered: the cursor it was asked from (`after`),
/// the `limit` asked, how many templates it returned and whether it said there was more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPage {
    pub after: Option<String>,
    pub limit: Option<String>,
    pub returned: usize,
    pub has_next: bool,
}

/// A read receipt (`status: read`) the mock received, with its typing indicator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadMark {
    pub phone_number_id: String,
    pub message_id: String,
    pub typing: bool,
    pub accepted: bool,
}

impl MockGraph {
    /// Every template submitted so far.
    pub fn templates(&self) -> Vec<MockTemplate> {
        lock(&self.inner.templates).clone()
    }

    /// Meta's review: sets a submitted template's status (`APPROVED`, `REJECTED`, `PAUSED`,
    /// `DISABLED`…) and reason. Returns the template (its id is what the
    /// `message_template_status_update` webhook names), or None when nothing by that name and
    /// language was submitted.
    pub fn review_template(
        &self,
        name: &str,
        language: &str,
        status: &str,
        reason: &str,
    ) -> Option<MockTemplate> {
        let mut templates = lock(&self.inner.templates);
        let t = templates
            .iter_mut()
            .find(|t| t.name == name && t.language == language)?;
        t.status = status.to_string();
        t.rejected_reason = reason.to_string();
        Some(t.clone())
    }

    /// Serves template lists at most `n` per page (a test of the product's paging without
    /// submitting 250 templates).
    pub fn set_template_page_max(&self, n: u64) {
        self.inner
            .template_page_max
            .store(n.max(1), std::sync::atomic::Ordering::Relaxed);
    }

    /// Every template list page served so far.
    pub fn template_pages(&self) -> Vec<ListPage> {
        lock(&self.inner.template_pages).clone()
    }

    /// A template as if the business had created it in WhatsApp Manager (not through the
    /// product): it is in the list the product syncs.
    pub fn add_template(&self, waba_id: &str, name: &str, language: &str, status: &str) {
        let n = self
            .inner
            .counter
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1;
        lock(&self.inner.templates).push(MockTemplate {
            id: format!("{}", 700_000_000_000_000u64 + n),
            waba_id: waba_id.to_string(),
            name: name.to_string(),
            language: language.to_string(),
            category: "UTILITY".into(),
            body: "Olá {{1}}, tudo bem?".into(),
            parameters: 1,
            status: status.to_string(),
            rejected_reason: "NONE".into(),
        });
    }

    /// Every read receipt so far.
    pub fn read_marks(&self) -> Vec<ReadMark> {
        lock(&self.inner.read_marks).clone()
    }
}

fn json_answer(status: u16, body: Value) -> Response {
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn refused(r: Refusal) -> Response {
    json_answer(r.http_status, r.to_json())
}

/// `POST /{version}/{waba_id}/message_templates`.
pub(super) async fn submit(
    State(inner): State<Arc<Inner>>,
    Path((_version, waba_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let authorization = header(&headers, "authorization");
    if let Err(r) = check_caller(
        &waba_id,
        authorization.as_deref(),
        inner.expected_token(authorization.as_deref()),
    ) {
        return refused(r);
    }
    let checked = serde_json::from_slice::<Value>(&body)
        .map_err(|_| Refusal::invalid_parameter("the request body is not valid JSON"))
        .and_then(|v| check_submission(&v));
    let (name, language, category, text, parameters) = match checked {
        Ok(t) => t,
        Err(r) => return refused(r),
    };
    let mut templates = lock(&inner.templates);
    if templates
        .iter()
        .any(|t| t.waba_id == waba_id && t.name == name && t.language == language)
    {
        // Meta: subcode 2388024, "Content in this language already exists".
        return refused(Refusal::invalid_parameter(
            "Content in this language already exists for this template name",
        ));
    }
    let n = inner
        .counter
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        + 1;
    let id = format!("{}", 700_000_000_000_000u64 + n);
    templates.push(MockTemplate {
        id: id.clone(),
        waba_id,
        name,
        language,
        category: category.clone(),
        body: text,
        parameters,
        status: "PENDING".into(),
        rejected_reason: "NONE".into(),
    });
    json_answer(
        200,
        json!({ "id": id, "status": "PENDING", "category": category }),
    )
}

/// A cursor: opaque text to the caller, as Meta's are; here the position in hex.
fn cursor(position: usize) -> String {
    format!("QVFI{position:08X}")
}

fn position(cursor: &str) -> Option<usize> {
    usize::from_str_radix(cursor.strip_prefix("QVFI")?, 16).ok()
}

/// `GET /{version}/{waba_id}/message_templates?limit=N&after=CURSOR`: one page,
/// `{"data": [...], "paging": {"cursors": {"before", "after"}, "next"}}` — `next` (the
/// URL of the following page) only when there is one, as Meta does. A cursor the mock did
/// not give is refused (code 100).
pub(super) async fn list(
    State(inner): State<Arc<Inner>>,
    Path((version, waba_id)): Path<(String, String)>,
    axum::extract::Query(query): axum::extract::Query<std::collections::HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let authorization = header(&headers, "authorization");
    if let Err(r) = check_caller(
        &waba_id,
        authorization.as_deref(),
        inner.expected_token(authorization.as_deref()),
    ) {
        return refused(r);
    }
    let start = match query.get("after") {
        None => 0,
        Some(c) => match position(c) {
            Some(p) => p,
            None => return refused(Refusal::invalid_parameter("Invalid cursor")),
        },
    };
    let max = inner
        .template_page_max
        .load(std::sync::atomic::Ordering::Relaxed) as usize;
    let limit = match query.get("limit").map(|l| l.parse::<usize>()) {
        None => 25,
        Some(Ok(l)) if l >= 1 => l,
        Some(_) => {
            return refused(Refusal::invalid_parameter(
                "limit must be a positive integer",
            ))
        }
    }
    .min(max);
    let all: Vec<Value> = lock(&inner.templates)
        .iter()
        .filter(|t| t.waba_id == waba_id)
        .map(|t| {
            json!({
                "id": t.id, "name": t.name, "language": t.language, "status": t.status,
                "category": t.category, "rejected_reason": t.rejected_reason,
            })
        })
        .collect();
    let end = (start + limit).min(all.len());
    let data: Vec<Value> = all.get(start.min(end)..end).unwrap_or_default().to_vec();
    let has_next = end < all.len();
    let mut paging = json!({ "cursors": { "before": cursor(start), "after": cursor(end) } });
    if has_next {
        paging["next"] = Value::from(format!(
            "https://graph.facebook.com/{version}/{waba_id}/message_templates?limit={limit}&after={}",
            cursor(end)
        ));
    }
    lock(&inner.template_pages).push(ListPage {
        after: query.get("after").cloned(),
        limit: query.get("limit").cloned(),
        returned: data.len(),
        has_next,
    });
    json_answer(200, json!({ "data": data, "paging": paging }))
}

/// A submission's name, language, category and `BODY` component, as Meta checks them.
pub(super) fn check_submission(
    v: &Value,
) -> Result<(String, String, String, String, usize), Refusal> {
    let obj = v
        .as_object()
        .ok_or_else(|| Refusal::invalid_parameter("the request body must be a JSON object"))?;
    only(
        obj,
        &[
            "name",
            "language",
            "category",
            "components",
            "allow_category_change",
            "parameter_format",
        ],
    )?;
    let text = |k: &str| -> Result<String, Refusal> {
        obj.get(k)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| Refusal::missing(k))
    };
    let name = text("name")?;
    if !is_template_name(&name) {
        return Err(Refusal::invalid_parameter(
            "name must be lowercase letters, digits and underscores, at most 512",
        ));
    }
    let language = text("language")?;
    if !LANGUAGES.contains(&language.as_str()) {
        return Err(Refusal::invalid_parameter(
            "language is not a supported code",
        ));
    }
    let category = text("category")?;
    if !CATEGORIES.contains(&category.as_str()) {
        return Err(Refusal::invalid_parameter(
            "category must be UTILITY, MARKETING or AUTHENTICATION",
        ));
    }
    let components = obj
        .get("components")
        .and_then(Value::as_array)
        .ok_or_else(|| Refusal::missing("components"))?;
    let mut body = None;
    for c in components {
        let c = c
            .as_object()
            .ok_or_else(|| Refusal::invalid_parameter("a component must be an object"))?;
        match c.get("type").and_then(Value::as_str) {
            Some("BODY") | Some("body") => {
                only(c, &["type", "text", "example"])?;
                let t = c
                    .get("text")
                    .and_then(Value::as_str)
                    .ok_or_else(|| Refusal::missing("components[BODY].text"))?;
                let n = check_template_body(t).map_err(|e| Refusal::invalid_parameter(&e))?;
                let examples = c["example"]["body_text"][0]
                    .as_array()
                    .map(|a| a.len())
                    .unwrap_or(0);
                if n > 0 && examples != n {
                    // Meta reviews a body with variables only with an example of each.
                    return Err(Refusal::invalid_parameter(
                        "components[BODY].example.body_text must have one example per variable",
                    ));
                }
                body = Some((t.to_string(), n));
            }
            Some("HEADER") | Some("FOOTER") | Some("BUTTONS") => {
                return Err(Refusal::invalid_parameter(
                    "header, footer and button components are not modelled by the mock Graph API",
                ))
            }
            _ => return Err(Refusal::invalid_parameter("unknown component type")),
        }
    }
    let (text, n) = body.ok_or_else(|| Refusal::missing("a BODY component"))?;
    Ok((name, language, category, text, n))
}

fn only(obj: &Map<String, Value>, allowed: &[&str]) -> Result<(), Refusal> {
    match obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(Refusal::unknown_field(k)),
        None => Ok(()),
    }
}

/// A `type: template` message against the templates submitted: it must exist in that
/// language, be approved, and bring exactly one parameter per variable.
pub(super) fn check_template_send(inner: &Inner, msg: &Value) -> Result<(), Refusal> {
    let t = &msg["template"];
    let (name, language) = (
        t["name"].as_str().unwrap_or_default(),
        t["language"]["code"].as_str().unwrap_or_default(),
    );
    let given = t["components"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == "body"))
        .and_then(|c| c["parameters"].as_array())
        .map_or(0, Vec::len);
    let templates = lock(&inner.templates);
    let Some(found) = templates
        .iter()
        .find(|x| x.name == name && x.language == language)
    else {
        return Err(template_refusal(
            132001,
            "Template name does not exist in the translation",
        ));
    };
    match found.status.as_str() {
        "APPROVED" => {}
        "PAUSED" => return Err(template_refusal(132015, "Template is Paused")),
        "DISABLED" => return Err(template_refusal(132016, "Template is disabled")),
        _ => {
            return Err(template_refusal(
                132001,
                "Template name does not exist in the translation",
            ))
        }
    }
    if given != found.parameters {
        return Err(template_refusal(
            132000,
            "Number of parameters does not match the expected number of params",
        ));
    }
    Ok(())
}

fn template_refusal(code: i64, title: &'static str) -> Refusal {
    Refusal {
        http_status: 400,
        code,
        title,
        details: title.to_string(),
    }
}

/// The read receipt's body: `messaging_product`, `status: read`, `message_id`, and an optional
/// `typing_indicator: {type: text}`; nothing else.
pub fn check_read_mark(msg: &Value) -> Result<(String, bool), Refusal> {
    let obj = msg
        .as_object()
        .ok_or_else(|| Refusal::invalid_parameter("the request body must be a JSON object"))?;
    only(
        obj,
        &[
            "messaging_product",
            "status",
            "message_id",
            "typing_indicator",
        ],
    )?;
    if obj.get("messaging_product").and_then(Value::as_str) != Some("whatsapp") {
        return Err(Refusal::missing("messaging_product"));
    }
    if obj.get("status").and_then(Value::as_str) != Some("read") {
        return Err(Refusal::param_value("status must be \"read\""));
    }
    let id = obj
        .get("message_id")
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| Refusal::missing("message_id"))?;
    let typing = match obj.get("typing_indicator") {
        None => false,
        Some(t) if t == &json!({ "type": "text" }) => true,
        Some(_) => {
            return Err(Refusal::param_value(
                "typing_indicator must be {\"type\": \"text\"}",
            ))
        }
    };
    Ok((id.to_string(), typing))
}

/// Statuses a review may set (Meta's list).
pub fn is_review_status(s: &str) -> bool {
    TEMPLATE_STATUSES.contains(&s)
}
