//! Embedded Signup's server side (Meta's "Onboarding business customers as a Tech Provider"):
//! after the store finishes Meta's popup, the dashboard has a short-lived `code` and the ids
//! of the WhatsApp Business Account and number the store chose. Then, server to server:
//!
//! 1. [`GraphClient::exchange_code`]: `GET /{version}/oauth/access_token?client_id&client_secret&code`
//!    → `{"access_token": …}`, the business token (the code works once);
//! 2. [`GraphClient::subscribe_app`]: `POST /{waba_id}/subscribed_apps` → `{"success": true}`,
//!    so the number's webhooks reach our app;
//! 3. [`GraphClient::register_number`]: `POST /{phone_number_id}/register` with
//!    `messaging_product: whatsapp` and a 6-digit `pin` (the number's two-step verification
//!    PIN: the existing one, or the new one it gets) → `{"success": true}`;
//! 4. [`GraphClient::phone_number_info`]: `GET /{phone_number_id}?fields=display_phone_number,verified_name,quality_rating`,
//!    also the dashboard's cheap "is the token still valid" call.
//!
//! Failures carry Meta's code and subcode so the dashboard can say what went wrong in the
//! store's words; no message ever contains the app secret, the code or a token.

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::{error, read_capped, GraphClient};

/// Meta's codes the signup steps react to.
pub mod signup_codes {
    /// `oauth/access_token`: "Invalid verification code format", and (with a subcode) a code
    /// already used or expired.
    pub const INVALID_PARAMETER: i64 = 100;
    /// Subcode of 100: "This authorization code has been used."
    pub const CODE_USED: i64 = 36009;
    /// Subcode of 100: "This authorization code has expired."
    pub const CODE_EXPIRED: i64 = 36007;
    /// Subcode of 100: the object does not exist or the token may not see it.
    pub const UNKNOWN_OBJECT: i64 = 33;
    /// "Error validating client secret" (the app id or secret is wrong).
    pub const CLIENT_SECRET: i64 = 1;
    /// Registration: the number has a two-step verification PIN and this is not it.
    pub const PIN_MISMATCH: i64 = 133005;
    /// Registration: more than 10 attempts for this number in 72 hours.
    pub const REGISTER_LIMIT: i64 = 133016;
}

/// What the Graph API answered instead of success, for one account call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountError {
    /// HTTP status; 0 when Meta was not reached (network, timeout).
    pub status: u16,
    pub code: Option<i64>,
    pub subcode: Option<i64>,
    /// Worth trying again later (network trouble, 5xx, Meta's "temporary" codes).
    pub transient: bool,
    /// For logs: Meta's message (secrets scrubbed) or ours.
    pub message: String,
}

impl std::fmt::Display for AccountError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Graph API account call failed")?;
        if let Some(c) = self.code {
            write!(f, " (code {c}")?;
            if let Some(s) = self.subcode {
                write!(f, ", subcode {s}")?;
            }
            write!(f, ")")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for AccountError {}

impl AccountError {
    fn local(message: impl Into<String>) -> AccountError {
        AccountError {
            status: 0,
            code: None,
            subcode: None,
            transient: false,
            message: message.into(),
        }
    }

    /// The access token is invalid or expired (Meta's 190).
    pub fn is_invalid_token(&self) -> bool {
        self.code == Some(super::codes::INVALID_TOKEN)
    }
}

/// A number as `GET /{phone_number_id}` describes it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PhoneNumberInfo {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub display_phone_number: String,
    #[serde(default)]
    pub verified_name: String,
    /// `GREEN`, `YELLOW`, `RED`, or `UNKNOWN`/`NA` for a number without a rating yet.
    #[serde(default)]
    pub quality_rating: String,
}

#[derive(Deserialize)]
struct TokenBody {
    #[serde(default)]
    access_token: String,
}

#[derive(Deserialize)]
struct SuccessBody {
    #[serde(default)]
    success: bool,
}

#[derive(Deserialize)]
struct ErrorEnvelope {
    error: ErrorSubcode,
}

#[derive(Deserialize)]
struct ErrorSubcode {
    #[serde(default)]
    error_subcode: Option<i64>,
}

/// Graph ids go into URL paths: digits only, or the call is not made.
fn check_id(what: &str, id: &str) -> Result<(), AccountError> {
    if id.is_empty() || id.len() > 32 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AccountError::local(format!("{what} must be digits")));
    }
    Ok(())
}

impl GraphClient {
    fn url(&self, path: &str) -> String {
        format!("{}/{}/{}", self.base_url, self.api_version, path)
    }

    /// Step 1: the popup's code for the business token. `client_secret` and `code` travel
    /// in the query string, as Meta documents; neither appears in an error.
    pub async fn exchange_code(
        &self,
        app_id: &str,
        app_secret: &SecretString,
        code: &str,
    ) -> Result<SecretString, AccountError> {
        check_id("app id", app_id)?;
        if code.trim().is_empty() || code.len() > 2048 {
            return Err(AccountError::local(
                "the authorization code is empty or too long",
            ));
        }
        let secret = app_secret.expose_secret();
        let url = reqwest::Url::parse_with_params(
            &self.url("oauth/access_token"),
            [
                ("client_id", app_id),
                ("client_secret", secret),
                ("code", code),
            ],
        )
        .map_err(|e| AccountError::local(format!("bad Graph URL: {e}")))?;
        let body = self
            .account_call(self.http.get(url), &[secret, code])
            .await?;
        let token = serde_json::from_slice::<TokenBody>(&body)
            .map(|b| b.access_token)
            .unwrap_or_default();
        if token.trim().is_empty() {
            return Err(AccountError::local(
                "Meta answered the code exchange without an access_token",
            ));
        }
        Ok(SecretString::from(token))
    }

    /// Step 2: our app receives the WABA's webhooks.
    pub async fn subscribe_app(
        &self,
        waba_id: &str,
        token: &SecretString,
    ) -> Result<(), AccountError> {
        check_id("waba_id", waba_id)?;
        let t = token.expose_secret();
        let request = self
            .http
            .post(self.url(&format!("{waba_id}/subscribed_apps")))
            .bearer_auth(t);
        let body = self.account_call(request, &[t]).await?;
        success(&body, "subscribed_apps")
    }

    /// Step 3: the number is registered for the Cloud API with this two-step PIN.
    pub async fn register_number(
        &self,
        phone_number_id: &str,
        token: &SecretString,
        pin: &str,
    ) -> Result<(), AccountError> {
        check_id("phone_number_id", phone_number_id)?;
        if pin.len() != 6 || !pin.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AccountError::local("the PIN must be 6 digits"));
        }
        let t = token.expose_secret();
        let request = self
            .http
            .post(self.url(&format!("{phone_number_id}/register")))
            .bearer_auth(t)
            .json(&serde_json::json!({ "messaging_product": "whatsapp", "pin": pin }));
        let body = self.account_call(request, &[t, pin]).await?;
        success(&body, "register")
    }

    /// Step 4 (and the dashboard's health check): the number's display form, verified name
    /// and quality rating. A 190 here means the token no longer works.
    pub async fn phone_number_info(
        &self,
        phone_number_id: &str,
        token: &SecretString,
    ) -> Result<PhoneNumberInfo, AccountError> {
        check_id("phone_number_id", phone_number_id)?;
        let t = token.expose_secret();
        let request = self
            .http
            .get(self.url(phone_number_id))
            .query(&[(
                "fields",
                "display_phone_number,verified_name,quality_rating",
            )])
            .bearer_auth(t);
        let body = self.account_call(request, &[t]).await?;
        serde_json::from_slice::<PhoneNumberInfo>(&body)
            .map_err(|_| AccountError::local("Meta's description of the number did not parse"))
    }

    /// One call: the 2xx body, or the failure with Meta's code and subcode; every string in
    /// `secrets` is scrubbed from the message (the URL is dropped from transport errors).
    async fn account_call(
        &self,
        request: reqwest::RequestBuilder,
        secrets: &[&str],
    ) -> Result<Vec<u8>, AccountError> {
        let scrub = |mut m: String| {
            for s in secrets {
                m = error::scrub(m, s);
            }
            m
        };
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) => {
                let e = error::classify_transport_error(&e.without_url());
                return Err(AccountError {
                    status: 0,
                    code: None,
                    subcode: None,
                    transient: e.is_transient(),
                    message: scrub(e.message().to_string()),
                });
            }
        };
        let status = response.status().as_u16();
        let body = read_capped(response).await.map_err(|e| AccountError {
            status,
            code: None,
            subcode: None,
            transient: true,
            message: scrub(e.message().to_string()),
        })?;
        if (200..300).contains(&status) {
            return Ok(body);
        }
        let classified = error::classify_http_error(status, None, &body, secrets[0]);
        Err(AccountError {
            status,
            code: classified.code(),
            subcode: serde_json::from_slice::<ErrorEnvelope>(&body)
                .ok()
                .and_then(|b| b.error.error_subcode),
            transient: classified.is_transient(),
            message: scrub(classified.message().to_string()),
        })
    }
}

fn success(body: &[u8], what: &str) -> Result<(), AccountError> {
    match serde_json::from_slice::<SuccessBody>(body) {
        Ok(SuccessBody { success: true }) => Ok(()),
        _ => Err(AccountError::local(format!(
            "Meta answered {what} without \"success\": true"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::GraphConfig;

    #[tokio::test]
    async fn ids_and_pins_are_checked_before_any_request() {
        // Nothing listens on port 1: a request that went out would be a transport error.
        let g = GraphClient::new(GraphConfig {
            base_url: "http://127.0.0.1:1".into(),
            ..Default::default()
        })
        .unwrap();
        let t = SecretString::from("tok");
        let e = g.subscribe_app("12/../34", &t).await.unwrap_err();
        assert_eq!((e.status, e.transient), (0, false), "{e}");
        let e = g.register_number("123", &t, "12345").await.unwrap_err();
        assert!(e.message.contains("6 digits"), "{e}");
        let e = g
            .exchange_code("abc", &SecretString::from("s"), "c")
            .await
            .unwrap_err();
        assert!(e.message.contains("app id"), "{e}");
        // A real request to a closed port: transient, and the secret is not in the message.
        let e = g
            .exchange_code("123", &SecretString::from("segredo-do-app"), "codigo")
            .await
            .unwrap_err();
        assert!(e.transient, "{e}");
        assert!(!e.message.contains("segredo-do-app") && !e.message.contains("codigo"));
    }

    #[tokio::test]
    async fn the_four_calls_against_the_mock_in_metas_wire_format() {
        use crate::mock::{AccountStep, MockGraph, MockNumber};
        let mock = MockGraph::builder().token("system-token").start().await;
        mock.signup_app("1234", "app-secret");
        mock.signup_grant("code-1", "555");
        mock.phone_number(MockNumber {
            id: "777".into(),
            waba_id: "555".into(),
            display_phone_number: "+55 11 98888-7777".into(),
            verified_name: "Depósito Novo".into(),
            quality_rating: "GREEN".into(),
            pin: None,
        });
        let g = GraphClient::new(GraphConfig {
            base_url: mock.url.clone(),
            ..Default::default()
        })
        .unwrap();
        let secret = SecretString::from("app-secret");
        let wrong = g
            .exchange_code("1234", &SecretString::from("other"), "code-1")
            .await
            .unwrap_err();
        assert_eq!(wrong.code, Some(signup_codes::CLIENT_SECRET), "{wrong}");
        assert!(!wrong.message.contains("other"));
        let bad = g.exchange_code("1234", &secret, "nope").await.unwrap_err();
        assert_eq!((bad.status, bad.code), (400, Some(100)), "{bad}");
        let token = g.exchange_code("1234", &secret, "code-1").await.unwrap();
        let again = g
            .exchange_code("1234", &secret, "code-1")
            .await
            .unwrap_err();
        assert_eq!(again.subcode, Some(signup_codes::CODE_USED), "{again}");
        // The business token sees its own WABA only.
        let other = g.subscribe_app("556", &token).await.unwrap_err();
        assert_eq!(other.subcode, Some(signup_codes::UNKNOWN_OBJECT), "{other}");
        g.subscribe_app("555", &token).await.unwrap();
        assert_eq!(mock.subscriptions(), vec!["555".to_string()]);
        g.register_number("777", &token, "123456").await.unwrap();
        let mismatch = g
            .register_number("777", &token, "654321")
            .await
            .unwrap_err();
        assert_eq!(
            mismatch.code,
            Some(signup_codes::PIN_MISMATCH),
            "{mismatch}"
        );
        let info = g.phone_number_info("777", &token).await.unwrap();
        assert_eq!(
            (
                info.display_phone_number.as_str(),
                info.verified_name.as_str(),
                info.quality_rating.as_str()
            ),
            ("+55 11 98888-7777", "Depósito Novo", "GREEN")
        );
        let expired = g
            .phone_number_info("777", &SecretString::from("revoked"))
            .await
            .unwrap_err();
        assert!(expired.is_invalid_token(), "{expired}");
        // A scripted failure answers once, then the step works again.
        mock.fail_next(
            AccountStep::SubscribeApp,
            500,
            serde_json::json!({"error": {"message": "An unknown error occurred", "type": "OAuthException", "code": 1}}),
        );
        let failed = g.subscribe_app("555", &token).await.unwrap_err();
        assert!(failed.transient, "{failed}");
        g.subscribe_app("555", &token).await.unwrap();
        // The business token sends messages from its number too.
        let sent = g
            .send(
                "777",
                &token,
                &crate::graph::OutboundMessage::Text {
                    to: "5511987654321".into(),
                    body: "Olá".into(),
                },
                None,
            )
            .await;
        assert!(sent.is_ok(), "{sent:?}");
        assert!(mock.account_calls().len() >= 10);
    }
}
