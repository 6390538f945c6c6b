//! The MiniJinja environment templates render in: strict undefined variables, bounded fuel
//! and recursion, no globals and no loader, a short list of filters (a capped `join`), and
//! output written into a capped buffer.

use std::io;
use std::sync::OnceLock;

use minijinja::{AutoEscape, Environment, Error, ErrorKind, UndefinedBehavior, Value};

use super::errors::{engine_error, too_long};
use super::{TemplateError, FUEL, MAX_OUTPUT_CHARS, RECURSION_LIMIT};

/// Bytes written before rendering is stopped (a character is at most 4 bytes in UTF-8).
const MAX_OUTPUT_BYTES: usize = MAX_OUTPUT_CHARS * 4;

pub(super) fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        // `empty()`: no globals (range, namespace, debug…) and only the filters added here.
        let mut env = Environment::empty();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_fuel(Some(FUEL));
        env.set_recursion_limit(RECURSION_LIMIT);
        env.set_auto_escape_callback(|_| AutoEscape::None);
        // Block tags on their own line leave no blank line behind: short WhatsApp lines.
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.add_filter("upper", minijinja::filters::upper);
        env.add_filter("lower", minijinja::filters::lower);
        env.add_filter("title", minijinja::filters::title);
        env.add_filter("capitalize", minijinja::filters::capitalize);
        env.add_filter("trim", minijinja::filters::trim);
        env.add_filter("length", minijinja::filters::length);
        env.add_filter("count", minijinja::filters::length);
        env.add_filter("default", minijinja::filters::default);
        env.add_filter("d", minijinja::filters::default);
        env.add_filter("first", minijinja::filters::first);
        env.add_filter("last", minijinja::filters::last);
        env.add_filter("join", capped_join);
        env.add_filter("int", minijinja::filters::int);
        env.add_filter("round", minijinja::filters::round);
        env.add_filter("abs", minijinja::filters::abs);
        env.add_filter("reverse", minijinja::filters::reverse);
        env.add_test("defined", minijinja::tests::is_defined);
        env.add_test("undefined", minijinja::tests::is_undefined);
        env.add_test("none", minijinja::tests::is_none);
        env.add_test("odd", minijinja::tests::is_odd);
        env.add_test("even", minijinja::tests::is_even);
        env.add_test("number", minijinja::tests::is_number);
        env.add_test("string", minijinja::tests::is_string);
        env.add_test("sequence", minijinja::tests::is_sequence);
        env.add_test("mapping", minijinja::tests::is_mapping);
        env.add_test("true", minijinja::tests::is_true);
        env.add_test("false", minijinja::tests::is_false);
        env
    })
}

/// `join` that stops as soon as the result would exceed what a message can hold, instead of
/// building a huge string first.
pub(super) fn capped_join(value: &Value, joiner: Option<String>) -> Result<String, Error> {
    let joiner = joiner.unwrap_or_default();
    let mut out = String::new();
    let too_big = || Error::new(ErrorKind::InvalidOperation, "join result too large");
    let push = |piece: &str, out: &mut String| {
        if out.len() + piece.len() > MAX_OUTPUT_BYTES {
            return Err(too_big());
        }
        out.push_str(piece);
        Ok(())
    };
    if let Some(s) = value.as_str() {
        for (i, c) in s.chars().enumerate() {
            if i > 0 {
                push(&joiner, &mut out)?;
            }
            push(c.encode_utf8(&mut [0; 4]), &mut out)?;
        }
        return Ok(out);
    }
    for (i, item) in value.try_iter()?.enumerate() {
        if i > 0 {
            push(&joiner, &mut out)?;
        }
        push(&item.to_string(), &mut out)?;
    }
    Ok(out)
}

/// Collects rendered text and refuses to grow past the limit.
struct CappedWriter {
    buf: Vec<u8>,
    max_bytes: usize,
    overflow: bool,
}

impl io::Write for CappedWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.buf.len() + data.len() > self.max_bytes {
            self.overflow = true;
            return Err(io::Error::other("output limit"));
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Renders into a capped buffer; the text, trimmed, or why it was refused. `max_chars`: the
/// kind's limit ([`super::super::TemplateKind::max_output_chars`]).
pub(super) fn run(
    tmpl: &minijinja::Template<'_, '_>,
    ctx: &serde_json::Value,
    max_chars: usize,
) -> Result<String, TemplateError> {
    let mut out = CappedWriter {
        buf: Vec::new(),
        max_bytes: max_chars * 4,
        overflow: false,
    };
    let result = tmpl.render_captured_to(Value::from_serialize(ctx), &mut out);
    if let Err(e) = result {
        if out.overflow {
            return Err(too_long(0, max_chars));
        }
        return Err(engine_error(&e, false));
    }
    let text = String::from_utf8(out.buf).map_err(|_| TemplateError {
        line: None,
        message: "a mensagem gerada não é texto válido".into(),
    })?;
    let text = text.trim().to_string();
    let chars = text.chars().count();
    if chars > max_chars {
        return Err(too_long(chars, max_chars));
    }
    Ok(text)
}
