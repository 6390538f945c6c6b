//! Reading what the app answered: cookies from `Set-Cookie`, CSRF tokens from the HTML.

use reqwest::header::{HeaderMap, SET_COOKIE};

pub fn cookie_from(h: &HeaderMap, name: &str) -> Option<String> {
    h.get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            let first = v.split(';').next()?;
            let (k, val) = first.split_once('=')?;
            (k.trim() == name).then(|| val.to_string())
        })
}

pub fn session_cookie(h: &HeaderMap) -> Option<String> {
    cookie_from(h, "oz_session")
}

pub fn set_cookie_line(h: &HeaderMap, name: &str) -> Option<String> {
    h.get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_string)
}

pub fn between<'a>(html: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let i = html.find(start)? + start.len();
    let j = html[i..].find(end)? + i;
    Some(&html[i..j])
}

pub fn hidden_csrf(html: &str) -> Option<String> {
    between(html, "name=\"csrf\" value=\"", "\"").map(str::to_string)
}

pub fn meta_csrf(html: &str) -> Option<String> {
    between(html, "<meta name=\"csrf-token\" content=\"", "\"").map(str::to_string)
}
