//! A store's test channel (issue 17, the onboarding test chat): its `phone_number_id` starts
//! with [`TEST_PNID_PREFIX`], which no Meta id does (Meta's ids are integers). What the
//! worker sends to it never leaves the process: the built-in fake Graph API's checks
//! ([`crate::mock`], the rules Meta applies) answer as Meta would, refusals included. So a
//! store can try its bot with its own catalog on any deployment, without a real number, and
//! Meta never sees a test message.

use super::SendError;

/// Mirrors `store::channels::TEST_PNID_PREFIX`.
pub const TEST_PNID_PREFIX: &str = "0";

pub fn is_test_channel(phone_number_id: &str) -> bool {
    phone_number_id.starts_with(TEST_PNID_PREFIX)
}

/// Which Graph call the test channel answers.
pub(super) enum Call<'a> {
    /// `POST /{pnid}/messages` with a message.
    Message,
    /// `POST /{pnid}/messages` with a read receipt.
    ReadMark,
    /// `POST /{pnid}/media`, with the upload's content type.
    Media(&'a str),
}

#[cfg(feature = "mock")]
fn fresh_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{nanos:x}{:x}", N.fetch_add(1, Ordering::Relaxed))
}

/// Meta's answer body for a call to a test channel, or the error Meta's answer would be.
#[cfg(feature = "mock")]
pub(super) fn answer(
    call: Call<'_>,
    phone_number_id: &str,
    token: &str,
    body: &[u8],
) -> Result<Vec<u8>, SendError> {
    use crate::mock;
    use serde_json::Value;
    let auth = format!("Bearer {token}");
    let answered: Result<Value, mock::Refusal> = match call {
        Call::Message => mock::check_request(phone_number_id, Some(&auth), None, body)
            .map(|msg| mock::accepted_answer(&msg, &format!("wamid.TEST{}", fresh_id()))),
        Call::ReadMark => serde_json::from_slice::<Value>(body)
            .map_err(|_| mock::Refusal::invalid_parameter("the request body must be JSON"))
            .and_then(|v| mock::check_read_mark(&v))
            .map(|_| serde_json::json!({ "success": true })),
        Call::Media(content_type) => {
            mock::check_upload(phone_number_id, Some(&auth), None, Some(content_type), body)
                .map(|_| serde_json::json!({ "id": fresh_id() }))
        }
    };
    match answered {
        Ok(v) => Ok(serde_json::to_vec(&v).unwrap_or_default()),
        Err(r) => Err(super::error::classify_http_error(
            r.http_status,
            None,
            &serde_json::to_vec(&r.to_json()).unwrap_or_default(),
            token,
        )),
    }
}

/// Without the built-in fake Graph API compiled in, a test channel cannot be answered.
#[cfg(not(feature = "mock"))]
pub(super) fn answer(
    _call: Call<'_>,
    _phone_number_id: &str,
    _token: &str,
    _body: &[u8],
) -> Result<Vec<u8>, SendError> {
    Err(super::permanent(
        "a test channel needs the built-in fake Graph API (feature `mock`)",
    ))
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;

    use crate::graph::{GraphClient, GraphConfig, MediaUpload, OutboundMessage};

    /// Nothing listens on port 1: a call that reached the network would fail.
    fn offline_client() -> GraphClient {
        GraphClient::new(GraphConfig {
            base_url: "http://127.0.0.1:1".into(),
            ..Default::default()
        })
        .unwrap()
    }

    #[tokio::test]
    async fn a_test_channel_is_answered_in_process_as_meta_would_and_a_real_one_is_not() {
        let g = offline_client();
        let token = SecretString::from("teste-token");
        let msg = OutboundMessage::Text {
            to: "5511987654321".into(),
            body: "Olá!".into(),
        };
        let sent = g
            .send("0123456789012345", &token, &msg, None)
            .await
            .unwrap();
        assert!(sent.wamid.starts_with("wamid.TEST"), "{}", sent.wamid);
        let again = g
            .send("0123456789012345", &token, &msg, None)
            .await
            .unwrap();
        assert_ne!(sent.wamid, again.wamid, "each message its own id");
        g.mark_read_typing("0123456789012345", &token, "wamid.IN1")
            .await
            .unwrap();
        let id = g
            .upload_media(
                "0123456789012345",
                &token,
                &MediaUpload {
                    bytes: b"%PDF-1.4 test",
                    mime_type: "application/pdf",
                    filename: "orcamento.pdf",
                },
            )
            .await
            .unwrap();
        assert!(!id.is_empty());
        // A real number goes to the network (here: nothing listening, a transport error).
        let err = g
            .send("100000000000001", &token, &msg, None)
            .await
            .unwrap_err();
        assert!(err.is_transient(), "{err:?}");
    }
}
