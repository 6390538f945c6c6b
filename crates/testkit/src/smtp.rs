//! A local SMTP server that keeps what it receives: the product's e-mail goes through its real
//! SMTP client (`lettre`) over TCP to this sink, which speaks RFC 5321 (greeting, EHLO/HELO,
//! MAIL FROM, RCPT TO, DATA with dot-unstuffing, RSET, NOOP, QUIT) and decodes the MIME it was
//! given (quoted-printable, base64, RFC 2047 subjects) independently of the product, for
//! assertions.
//!
//! It can be told to answer `451` (try later) to the next N messages, or to accept and then
//! answer slowly, to test retries and that no web request waits for SMTP.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One message the sink accepted.
#[derive(Debug, Clone)]
pub struct SmtpMessage {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// The DATA as received (headers and MIME body), dot-unstuffed.
    pub data: String,
}

impl SmtpMessage {
    /// A header's value (first occurrence, unfolded), RFC 2047 words decoded.
    pub fn header(&self, name: &str) -> Option<String> {
        header_of(head(&self.data), name).map(|v| decode_words(&v))
    }

    pub fn subject(&self) -> String {
        self.header("Subject").unwrap_or_default()
    }

    /// The text/plain part, decoded.
    pub fn text(&self) -> String {
        part_of(&self.data, "text/plain").unwrap_or_default()
    }

    /// The text/html part, decoded, if any.
    pub fn html(&self) -> Option<String> {
        part_of(&self.data, "text/html")
    }

    /// The first link in the text part that starts with `prefix` (e.g. `http://demo.localhost`).
    pub fn link(&self, contains: &str) -> Option<String> {
        self.text()
            .split_whitespace()
            .find(|w| w.starts_with("http") && w.contains(contains))
            .map(|w| w.trim_end_matches(['.', ',', ')', '>']).to_string())
    }
}

#[derive(Default)]
struct Inner {
    messages: Vec<SmtpMessage>,
    /// Answer 451 to this many DATA terminations (the message is not kept).
    refuse_next: usize,
    /// Wait this long before answering each command.
    delay: Duration,
    connections: usize,
}

#[derive(Clone)]
pub struct SmtpSink {
    /// `smtp://127.0.0.1:PORT` — what `ORCAZAP_SMTP_URL` is set to.
    pub url: String,
    inner: Arc<Mutex<Inner>>,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let inner = Arc::new(Mutex::new(Inner::default()));
        let shared = inner.clone();
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                let shared = shared.clone();
                tokio::spawn(async move {
                    let _ = session(sock, shared).await;
                });
            }
        });
        SmtpSink {
            url: format!("smtp://{addr}"),
            inner,
        }
    }

    pub fn messages(&self) -> Vec<SmtpMessage> {
        self.inner.lock().unwrap().messages.clone()
    }

    /// Messages to `to` (case-insensitive).
    pub fn to(&self, to: &str) -> Vec<SmtpMessage> {
        let to = to.to_lowercase();
        self.messages()
            .into_iter()
            .filter(|m| m.rcpt_to.iter().any(|r| r.to_lowercase() == to))
            .collect()
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> usize {
        self.inner.lock().unwrap().connections
    }

    /// The next `n` messages are answered `451 4.3.0 try again later` and not kept.
    pub fn refuse_next(&self, n: usize) {
        self.inner.lock().unwrap().refuse_next = n;
    }

    /// Every answer waits `d` (a slow server).
    pub fn slow(&self, d: Duration) {
        self.inner.lock().unwrap().delay = d;
    }
}

async fn session(sock: tokio::net::TcpStream, inner: Arc<Mutex<Inner>>) -> std::io::Result<()> {
    inner.lock().unwrap().connections += 1;
    let (r, mut w) = sock.into_split();
    let mut r = BufReader::new(r);
    let delay = || inner.lock().unwrap().delay;
    w.write_all(b"220 sink.localhost ESMTP testkit\r\n").await?;
    let mut from = String::new();
    let mut rcpt = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if r.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let d = delay();
        if !d.is_zero() {
            tokio::time::sleep(d).await;
        }
        let cmd = line.trim_end().to_string();
        let upper = cmd.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") {
            b"250-sink.localhost\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 10485760\r\n"
        } else if upper.starts_with("HELO") {
            b"250 sink.localhost\r\n"
        } else if upper.starts_with("MAIL FROM:") {
            from = addr_in(&cmd[10..]);
            rcpt.clear();
            b"250 2.1.0 OK\r\n"
        } else if upper.starts_with("RCPT TO:") {
            if from.is_empty() {
                b"503 5.5.1 MAIL first\r\n"
            } else {
                rcpt.push(addr_in(&cmd[8..]));
                b"250 2.1.5 OK\r\n"
            }
        } else if upper == "DATA" {
            if rcpt.is_empty() {
                w.write_all(b"503 5.5.1 RCPT first\r\n").await?;
                continue;
            }
            w.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                .await?;
            let mut data = String::new();
            loop {
                line.clear();
                if r.read_line(&mut line).await? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                // RFC 5321 4.5.2: a leading dot was doubled by the client.
                let l = line.strip_prefix('.').unwrap_or(&line);
                data.push_str(l);
            }
            let refuse = {
                let mut g = inner.lock().unwrap();
                if g.refuse_next > 0 {
                    g.refuse_next -= 1;
                    true
                } else {
                    g.messages.push(SmtpMessage {
                        mail_from: std::mem::take(&mut from),
                        rcpt_to: std::mem::take(&mut rcpt),
                        data,
                    });
                    false
                }
            };
            from.clear();
            rcpt.clear();
            if refuse {
                b"451 4.3.0 Try again later\r\n"
            } else {
                b"250 2.0.0 Queued\r\n"
            }
        } else if upper == "RSET" {
            from.clear();
            rcpt.clear();
            b"250 2.0.0 OK\r\n"
        } else if upper == "NOOP" {
            b"250 2.0.0 OK\r\n"
        } else if upper == "QUIT" {
            w.write_all(b"221 2.0.0 Bye\r\n").await?;
            return Ok(());
        } else {
            b"502 5.5.2 Command not implemented\r\n"
        };
        w.write_all(reply).await?;
    }
}

/// `<a@b>` (with optional parameters after it) → `a@b`.
fn addr_in(s: &str) -> String {
    let s = s.trim();
    match (s.find('<'), s.find('>')) {
        (Some(a), Some(b)) if b > a => s[a + 1..b].to_string(),
        _ => s.split_whitespace().next().unwrap_or("").to_string(),
    }
}

fn head(data: &str) -> &str {
    data.split("\r\n\r\n").next().unwrap_or("")
}

fn body(data: &str) -> &str {
    data.split_once("\r\n\r\n").map(|x| x.1).unwrap_or("")
}

fn header_of(head: &str, name: &str) -> Option<String> {
    let mut out: Option<String> = None;
    let mut in_it = false;
    for l in head.split("\r\n") {
        if l.starts_with(' ') || l.starts_with('\t') {
            if in_it {
                // Unfolding (RFC 5322 2.2.3) removes the line break only, not the blank.
                if let Some(o) = out.as_mut() {
                    o.push_str(l);
                }
            }
            continue;
        }
        if out.is_some() {
            break;
        }
        in_it = false;
        if let Some((k, v)) = l.split_once(':') {
            if k.eq_ignore_ascii_case(name) {
                out = Some(v.trim().to_string());
                in_it = true;
            }
        }
    }
    out
}

/// RFC 2047 encoded words (`=?utf-8?b?…?=` / `=?utf-8?q?…?=`) in a header value.
fn decode_words(v: &str) -> String {
    let mut out = String::new();
    let mut rest = v;
    while let Some(start) = rest.find("=?") {
        let before = &rest[..start];
        // Whitespace between two encoded words is dropped (RFC 2047 6.2).
        if !before.trim().is_empty() || out.is_empty() {
            out.push_str(before);
        }
        let after = &rest[start + 2..];
        let parts: Vec<&str> = after.splitn(3, '?').collect();
        if parts.len() < 3 {
            out.push_str(&rest[start..]);
            return out;
        }
        let Some(end) = parts[2].find("?=") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let text = &parts[2][..end];
        let bytes = if parts[1].eq_ignore_ascii_case("b") {
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .unwrap_or_default()
        } else {
            qp(&text.replace('_', " "))
        };
        out.push_str(&String::from_utf8_lossy(&bytes));
        let consumed = 2 + parts[0].len() + 1 + parts[1].len() + 1 + end + 2;
        rest = &rest[start + consumed..];
    }
    out.push_str(rest);
    out
}

/// Quoted-printable (RFC 2045 6.7), soft line breaks included.
fn qp(s: &str) -> Vec<u8> {
    let s = s.replace("=\r\n", "").replace("=\n", "");
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'=' && i + 2 < b.len() && s.is_char_boundary(i + 3) {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

fn decode_part(headers: &str, body: &str) -> String {
    let cte = header_of(headers, "Content-Transfer-Encoding")
        .unwrap_or_default()
        .to_ascii_lowercase();
    let bytes = match cte.as_str() {
        "base64" => base64::engine::general_purpose::STANDARD
            .decode(body.split_whitespace().collect::<String>())
            .unwrap_or_default(),
        "quoted-printable" => qp(body),
        _ => body.as_bytes().to_vec(),
    };
    String::from_utf8_lossy(&bytes)
        .replace("\r\n", "\n")
        .trim_end()
        .to_string()
}

/// The decoded part of `mime` type (single part or inside a multipart).
fn part_of(data: &str, mime: &str) -> Option<String> {
    let h = head(data);
    let ct = header_of(h, "Content-Type")
        .unwrap_or_else(|| "text/plain".into())
        .to_ascii_lowercase();
    if ct.starts_with("multipart/") {
        let raw_ct = header_of(h, "Content-Type").unwrap_or_default();
        let boundary = raw_ct
            .split(';')
            .filter_map(|p| p.trim().split_once('='))
            .find(|(k, _)| k.eq_ignore_ascii_case("boundary"))
            .map(|(_, v)| v.trim_matches('"').to_string())?;
        let marker = format!("--{boundary}");
        for part in body(data).split(&marker).skip(1) {
            if part.starts_with("--") {
                break;
            }
            let part = part.trim_start_matches("\r\n");
            if let Some(found) = part_of(part, mime) {
                return Some(found);
            }
        }
        None
    } else if ct.starts_with(mime) {
        Some(decode_part(h, body(data)))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding() {
        assert_eq!(
            decode_words("=?utf-8?b?UmVkZWZpbmnDp8OjbyBkZSBzZW5oYQ==?="),
            "Redefinição de senha"
        );
        assert_eq!(decode_words("Ol=?utf-8?q?=C3=A1?= mundo"), "Olá mundo");
        let folded = "Subject: =?utf-8?b?w6E=?= assinatura\r\n do =?utf-8?b?w6E=?=\r\n =?utf-8?b?w6k=?=\r\nTo: x";
        assert_eq!(
            decode_words(&header_of(folded, "Subject").unwrap()),
            "á assinatura do áé"
        );
        assert_eq!(
            String::from_utf8(qp("a=3Db=\r\nc =C3=A7")).unwrap(),
            "a=bc ç"
        );
    }
}
