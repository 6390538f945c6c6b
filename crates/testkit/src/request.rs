//! Requests that read as claims: a signed-in [`Session`] on a store's host, and [`Answer`]
//! for "this request reaches the app and gets that status".

use reqwest::header::HOST;
use reqwest::{RequestBuilder, Response};

use crate::app::TestApp;
use crate::{APP_SECRET, ATTENDANT_EMAIL, OWNER_EMAIL, PASSWORD};

/// Sending a request that must reach the app (a connection failure is not an answer).
pub trait Answer {
    fn answer(self) -> impl std::future::Future<Output = Response>;
}

impl Answer for RequestBuilder {
    async fn answer(self) -> Response {
        self.send().await.expect("request reaches the app")
    }
}

/// Checking an answer's status; the response is handed on for its headers or body.
pub trait ExpectStatus: Sized {
    fn expect_status(self, status: u16) -> Self;
    /// Same, with the claim the status proves in the failure message.
    fn expect_status_because(self, status: u16, claim: &str) -> Self;
}

impl ExpectStatus for Response {
    #[track_caller]
    fn expect_status(self, status: u16) -> Response {
        assert_eq!(self.status(), status);
        self
    }

    #[track_caller]
    fn expect_status_because(self, status: u16, claim: &str) -> Response {
        assert_eq!(self.status(), status, "{claim}");
        self
    }
}

/// Reading an answer: its body, one of its headers.
pub trait Read: Sized {
    /// The body as text (every page and export of the app is text).
    fn body(self) -> impl std::future::Future<Output = String>;
    /// The body of an answer that must have `status`; a failure shows the body, where the
    /// app says why it answered otherwise.
    fn page_with_status(self, status: u16) -> impl std::future::Future<Output = String>;
    /// One header's value as text, if the answer has it.
    fn header_text(&self, name: &str) -> Option<&str>;
}

impl Read for Response {
    async fn body(self) -> String {
        self.text().await.expect("body is text")
    }

    async fn page_with_status(self, status: u16) -> String {
        let got = self.status();
        let body = self.body().await;
        assert_eq!(got, status, "{body}");
        body
    }

    fn header_text(&self, name: &str) -> Option<&str> {
        self.headers().get(name).and_then(|v| v.to_str().ok())
    }
}

impl TestApp {
    /// A delivery of Meta's webhook on `host`, signed with the app secret as Meta signs it.
    pub fn webhook_on(&self, host: &str, body: String) -> RequestBuilder {
        let sig = whatsapp::signature::sign(APP_SECRET.as_bytes(), body.as_bytes());
        self.post_on(host, "/webhooks/whatsapp")
            .header("content-type", "application/json")
            .header(whatsapp::signature::SIGNATURE_HEADER, sig)
            .body(body)
    }

    /// A GET naming `host` in its Host header: the public site, the API host, a foreign host.
    pub fn get_on(&self, host: &str, path: &str) -> RequestBuilder {
        self.http.get(self.url(path)).header(HOST, host)
    }

    /// A POST naming `host` in its Host header (its body is the caller's).
    pub fn post_on(&self, host: &str, path: &str) -> RequestBuilder {
        self.http.post(self.url(path)).header(HOST, host)
    }

    /// A signed delivery of Meta's webhook on the API host, where Meta sends it.
    pub fn webhook(&self, body: String) -> RequestBuilder {
        self.webhook_on(&format!("api.localhost:{}", self.addr.port()), body)
    }
}

/// A person signed in to one store's dashboard through the real login form.
pub struct Session<'a> {
    app: &'a TestApp,
    pub slug: String,
    /// The `oz_session` cookie's value.
    pub cookie: String,
    /// The session's CSRF token (the page's meta tag).
    pub csrf: String,
}

impl TestApp {
    /// The demo store's owner, signed in.
    pub async fn as_owner(&self) -> Session<'_> {
        self.signed_in("demo", OWNER_EMAIL, PASSWORD).await
    }

    /// The demo store's attendant, signed in.
    pub async fn as_attendant(&self) -> Session<'_> {
        self.signed_in("demo", ATTENDANT_EMAIL, PASSWORD).await
    }

    /// `email` signed in to `slug`'s dashboard (panics if the login fails).
    pub async fn signed_in(&self, slug: &str, email: &str, password: &str) -> Session<'_> {
        let cookie = self
            .login(slug, email, password)
            .await
            .unwrap_or_else(|r| panic!("{email} signs in to {slug}: {}", r.status()));
        let csrf = self.csrf(slug, &cookie).await;
        Session {
            app: self,
            slug: slug.into(),
            cookie,
            csrf,
        }
    }
}

impl Session<'_> {
    /// A GET on the store's host with this session's cookie.
    pub fn get(&self, path: &str) -> RequestBuilder {
        self.app.get(&self.slug, path, Some(&self.cookie))
    }

    /// The body of a GET that must reach the app (any status).
    pub async fn page(&self, path: &str) -> String {
        self.app.page(&self.slug, path, Some(&self.cookie)).await
    }

    /// A form POST with this session's cookie and exactly `form` (no CSRF token added).
    pub fn post(&self, path: &str, form: &[(&str, &str)]) -> RequestBuilder {
        self.app.post(&self.slug, path, Some(&self.cookie), form)
    }

    /// A `multipart/form-data` POST as a browser sends a form with a file input: the
    /// session's CSRF token, the text `fields`, and `file` = (field, file name, bytes), the
    /// bytes untouched (a Windows-1252 file arrives as Windows-1252).
    pub async fn post_file(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        file: (&str, &str, &[u8]),
    ) -> Response {
        const BOUNDARY: &str = "----OrcaZapTestBoundary7MA4YWxkTrZu0gW";
        let mut body = Vec::new();
        for (name, value) in [("csrf", self.csrf.as_str())].iter().chain(fields) {
            body.extend_from_slice(
                format!(
                    "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
                )
                .as_bytes(),
            );
        }
        let (field, file_name, bytes) = file;
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
        self.app
            .http
            .post(self.app.url(path))
            .header(HOST, self.app.host(&self.slug))
            .header("cookie", format!("oz_session={}", self.cookie))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(body)
            .answer()
            .await
    }

    /// A form POST as the dashboard's buttons send it: `form` plus the session's CSRF token.
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> Response {
        let mut fields = form.to_vec();
        fields.push(("csrf", &self.csrf));
        self.post(path, &fields).answer().await
    }
}
