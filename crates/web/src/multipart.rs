//! Just enough `multipart/form-data` (RFC 7578) for the dashboard's one file form, the
//! catalog import (issue 12 item 9): the parts of a body already read into memory (the form
//! body limit bounds it). Without a dependency: the CSRF check reads one text part of it, the
//! import handler the file's bytes, untouched (a Windows-1252 file stays Windows-1252).

/// One part of the form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part<'a> {
    pub name: String,
    /// `filename="…"` of a file input (`Some("")` when none was chosen).
    pub file_name: Option<String>,
    pub bytes: &'a [u8],
}

/// `multipart/form-data; boundary=XYZ` → `XYZ` (quotes removed); `None` for any other type.
pub fn boundary(content_type: &str) -> Option<String> {
    let (kind, params) = content_type.split_once(';')?;
    if !kind.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.split(';').find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_string())
            .filter(|b| !b.is_empty())
    })
}

/// Every part of `body`, in order. A part whose headers cannot be read is skipped.
pub fn parts<'a>(body: &'a [u8], boundary: &str) -> Vec<Part<'a>> {
    let delimiter = format!("--{boundary}");
    let mut out = Vec::new();
    // Each part sits between "--boundary\r\n" and "\r\n--boundary"; the last delimiter ends
    // with "--".
    let mut rest = match find(body, delimiter.as_bytes()) {
        Some(at) => &body[at + delimiter.len()..],
        None => return out,
    };
    let next_delimiter = format!("\r\n--{boundary}");
    while let Some(part_start) = rest.strip_prefix(b"\r\n") {
        let Some(end) = find(part_start, next_delimiter.as_bytes()) else {
            break;
        };
        let part = &part_start[..end];
        rest = &part_start[end + next_delimiter.len()..];
        if let Some(p) = read_part(part) {
            out.push(p);
        }
    }
    out
}

/// The value of the text part `name`, if the body has one.
pub fn field(body: &[u8], boundary: &str, name: &str) -> Option<String> {
    parts(body, boundary)
        .into_iter()
        .find(|p| p.name == name && p.file_name.is_none())
        .map(|p| String::from_utf8_lossy(p.bytes).into_owned())
}

fn read_part(part: &[u8]) -> Option<Part<'_>> {
    let end = find(part, b"\r\n\r\n")?;
    let headers = std::str::from_utf8(&part[..end]).ok()?;
    let disposition = headers
        .split("\r\n")
        .find(|h| h.to_ascii_lowercase().starts_with("content-disposition:"))?;
    let param = |key: &str| {
        disposition.split(';').skip(1).find_map(|p| {
            let (k, v) = p.trim().split_once('=')?;
            (k.trim().eq_ignore_ascii_case(key)).then(|| v.trim().trim_matches('"').to_string())
        })
    };
    Some(Part {
        name: param("name")?,
        file_name: param("filename"),
        bytes: &part[end + 4..],
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = b"------x1\r\nContent-Disposition: form-data; name=\"csrfx\"\r\n\r\nno\r\n\
------x1\r\nContent-Disposition: form-data; name=\"arquivo\"; filename=\"a.csv\"\r\n\
Content-Type: text/csv\r\n\r\nname=\"csrf\"\r\n\r\nVaso sanit\xE1rio\r\n\r\n\
------x1\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\nab+c d\r\n------x1--\r\n";

    #[test]
    fn fields_and_file_bytes_come_out_as_sent() {
        let b = boundary("multipart/form-data; boundary=\"----x1\"").unwrap();
        assert_eq!(b, "----x1");
        assert_eq!(field(BODY, &b, "csrf").as_deref(), Some("ab+c d"));
        assert_eq!(field(BODY, &b, "nada"), None);
        let file = parts(BODY, &b)
            .into_iter()
            .find(|p| p.name == "arquivo")
            .unwrap();
        assert_eq!(file.file_name.as_deref(), Some("a.csv"));
        // Bytes untouched, the file's own CRLFs and its non-UTF-8 byte included.
        assert_eq!(file.bytes, b"name=\"csrf\"\r\n\r\nVaso sanit\xE1rio\r\n");
        assert_eq!(boundary("text/plain; boundary=x"), None);
        assert_eq!(boundary("application/x-www-form-urlencoded"), None);
    }
}
