//! The one mock Graph API of the tests: `whatsapp::mock` (Meta's wire format and documented
//! limits), with the refusal bookkeeping every suite needs.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use whatsapp::mock::Outcome;

/// One request the mock Graph API received (refused or not).
#[derive(Debug, Clone)]
pub struct GraphCall {
    pub phone_number_id: String,
    pub authorization: String,
    pub request_id: Option<String>,
    pub body: serde_json::Value,
    pub outcome: Outcome,
}

impl GraphCall {
    pub fn to(&self) -> &str {
        self.body["to"].as_str().unwrap_or_default()
    }

    /// The text of a text or interactive message.
    pub fn text(&self) -> String {
        self.body["text"]["body"]
            .as_str()
            .or_else(|| self.body["interactive"]["body"]["text"].as_str())
            .unwrap_or_default()
            .to_string()
    }

    pub fn is_interactive(&self) -> bool {
        self.body["type"] == "interactive"
    }

    /// The (label, URL) of a call-to-action URL button message.
    pub fn cta_url(&self) -> Option<(&str, &str)> {
        let i = &self.body["interactive"];
        if i["type"] != "cta_url" {
            return None;
        }
        let p = &i["action"]["parameters"];
        Some((p["display_text"].as_str()?, p["url"].as_str()?))
    }

    /// The business-scoped user id it went to (`recipient`), when sent that way.
    pub fn recipient(&self) -> Option<&str> {
        self.body["recipient"].as_str()
    }

    /// Meta's id for an accepted message.
    pub fn wamid(&self) -> Option<&str> {
        match &self.outcome {
            Outcome::Accepted { wamid } => Some(wamid),
            _ => None,
        }
    }

    /// Meta would have delivered it.
    pub fn is_accepted(&self) -> bool {
        matches!(self.outcome, Outcome::Accepted { .. })
    }

    /// Meta's refusal code (e.g. 131009), if Meta's rules refused it.
    pub fn refusal_code(&self) -> Option<i64> {
        match &self.outcome {
            Outcome::Refused(r) => Some(r.code),
            _ => None,
        }
    }
}

impl From<whatsapp::mock::Call> for GraphCall {
    fn from(c: whatsapp::mock::Call) -> GraphCall {
        GraphCall {
            phone_number_id: c.phone_number_id,
            authorization: c.authorization.unwrap_or_default(),
            request_id: c.request_id,
            body: c.body,
            outcome: c.outcome,
        }
    }
}

/// The shared mock Graph API (`whatsapp::mock`: Meta's wire format and documented limits),
/// with the one access token the seeded channels have.
///
/// A request refused by Meta's rules is a product bug the customer would pay for: the
/// harness fails the test at the end unless the test acknowledged it
/// ([`MockGraph::acknowledge_refusals`]) — e.g. a known issue-18 case.
#[derive(Clone)]
pub struct MockGraph {
    pub url: String,
    mock: whatsapp::mock::MockGraph,
    acknowledged: Arc<AtomicUsize>,
}

impl MockGraph {
    /// A mock that accepts only `token` as the channels' access token.
    pub async fn start(token: &str) -> MockGraph {
        let mock = whatsapp::mock::MockGraph::builder()
            .token(token)
            .start()
            .await;
        MockGraph {
            url: mock.url.clone(),
            mock,
            acknowledged: Arc::default(),
        }
    }

    /// The mock itself, for what this wrapper does not repeat (Embedded Signup's accounts,
    /// grants, numbers and scripted failures: `whatsapp::mock::signup`).
    pub fn meta(&self) -> &whatsapp::mock::MockGraph {
        &self.mock
    }

    /// The next valid requests get these answers, in order (e.g. a fixture error body).
    pub fn script(&self, status: u16, body: serde_json::Value) {
        self.mock.script(status, body.to_string());
    }

    /// Every request, in arrival order.
    pub fn calls(&self) -> Vec<GraphCall> {
        self.mock.calls().into_iter().map(GraphCall::from).collect()
    }

    /// A file a customer sends (issue 16): served at `GET /{version}/{id}` and its download
    /// URL, with this mock's token. Returns the media id.
    pub fn add_media(&self, mime_type: &str, bytes: Vec<u8>) -> String {
        self.mock.add_media(mime_type, bytes)
    }

    /// Media look-ups and downloads: (`info` | `download`, media id, accepted).
    pub fn media_fetches(&self) -> Vec<(String, String, bool)> {
        self.mock.media_fetches()
    }

    /// Files uploaded through `/media` (the quote PDF), byte for byte.
    pub fn uploads(&self) -> Vec<whatsapp::mock::Upload> {
        self.mock.uploads()
    }

    /// WhatsApp message templates submitted so far.
    pub fn templates(&self) -> Vec<whatsapp::mock::MockTemplate> {
        self.mock.templates()
    }

    /// A template made in WhatsApp Manager, outside the product (it is in Meta's list).
    pub fn add_template(&self, waba_id: &str, name: &str, language: &str, status: &str) {
        self.mock.add_template(waba_id, name, language, status)
    }

    /// Serve template lists at most `n` per page.
    pub fn set_template_page_max(&self, n: u64) {
        self.mock.set_template_page_max(n)
    }

    /// The template list pages served so far.
    pub fn template_pages(&self) -> Vec<whatsapp::mock::ListPage> {
        self.mock.template_pages()
    }

    /// Meta's review of a submitted template (`APPROVED`, `REJECTED`, `PAUSED`…).
    pub fn review_template(
        &self,
        name: &str,
        language: &str,
        status: &str,
        reason: &str,
    ) -> Option<whatsapp::mock::MockTemplate> {
        self.mock.review_template(name, language, status, reason)
    }

    /// Read receipts (`status: read`, with typing indicator) so far.
    pub fn read_marks(&self) -> Vec<whatsapp::mock::ReadMark> {
        self.mock.read_marks()
    }

    /// Only what Meta would have delivered to the customer.
    pub fn accepted(&self) -> Vec<GraphCall> {
        self.mock
            .accepted()
            .into_iter()
            .map(GraphCall::from)
            .collect()
    }

    /// The refusals so far; the test takes responsibility for them.
    pub fn acknowledge_refusals(&self) -> Vec<GraphCall> {
        let refused: Vec<GraphCall> = self
            .mock
            .refused()
            .into_iter()
            .map(GraphCall::from)
            .collect();
        self.acknowledged.store(refused.len(), Ordering::SeqCst);
        refused
    }

    /// Panics if Meta's rules refused a request the test did not acknowledge.
    pub fn assert_no_unexpected_refusal(&self) {
        let refused = self.mock.refused();
        let seen = self.acknowledged.load(Ordering::SeqCst);
        assert!(
            refused.len() <= seen,
            "the product sent what Meta refuses: {:#?}",
            refused[seen..]
                .iter()
                .map(|c| (c.refusal(), &c.body))
                .collect::<Vec<_>>()
        );
    }
}
