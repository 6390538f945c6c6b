//! One rule for text a user or Meta sends before it is stored: NUL (U+0000) becomes U+FFFD.
//!
//! PostgreSQL refuses NUL in `text` and in `jsonb` (`\u0000`), SQLite keeps it: the same
//! message must not be stored on one engine and lost (with its neighbours) on the other.
//! Replacing instead of stripping keeps the reader aware that something was there; every
//! other control character (tab, line breaks, …) is kept, since neither engine minds them and
//! the pages escape them on output.

use std::borrow::Cow;

/// What a stored NUL becomes.
pub const NUL_REPLACEMENT: char = '\u{FFFD}';

/// `text` with each NUL replaced by U+FFFD; borrowed (no copy) when there is none.
pub fn storable(text: &str) -> Cow<'_, str> {
    if text.contains('\0') {
        Cow::Owned(text.replace('\0', "\u{FFFD}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// In place, for owned fields.
pub fn make_storable(text: &mut String) {
    if text.contains('\0') {
        *text = text.replace('\0', "\u{FFFD}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_becomes_replacement_and_other_controls_stay() {
        assert_eq!(storable("a\0b"), "a\u{FFFD}b");
        assert_eq!(storable("\0\0"), "\u{FFFD}\u{FFFD}");
        let kept = "tab\there\r\nbell\u{7}esc\u{1b}del\u{7f}";
        assert!(matches!(storable(kept), Cow::Borrowed(_)));
        let mut s = String::from("x\0");
        make_storable(&mut s);
        assert_eq!(s, "x\u{FFFD}");
    }
}
