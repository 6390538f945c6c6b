//! The sandbox store templates run in.
//!
//! Two layers. First a whitelist check of the template's own syntax: only `if`/`elif`/`else`/
//! `for`/`raw` statements, only reading the documented variables (and their fields), a short
//! list of filters and tests, no function calls, no literal lists/tuples/dicts and no
//! operators that build strings (`+ ~ *`). Without `set`, macros or literals nothing can grow
//! a value across iterations, so memory stays bounded by the context and the source size.
//! Then MiniJinja itself runs with strict undefined variables, bounded fuel (instructions),
//! a low recursion limit, no loader (nothing to include or import) and a capped output.
//! Output is plain WhatsApp text: no autoescape, and whoever shows it in HTML escapes it.
//! The first layer also bounds nesting (`limits.rs`), and both run on a thread with a known,
//! generous stack (`guard.rs`): a stack overflow would abort the process for every store.

use std::io;
use std::sync::OnceLock;

use minijinja::{AutoEscape, Environment, Error, ErrorKind, UndefinedBehavior, Value};

use super::limits::{check_expression, Blocks};
use super::{TemplateError, TemplateKind};

/// Largest template source accepted, in bytes.
pub const MAX_SOURCE_BYTES: usize = 16 * 1024;
/// WhatsApp's text message limit, in characters.
pub const MAX_OUTPUT_CHARS: usize = 4096;
/// Bytes written before rendering is stopped (a character is at most 4 bytes in UTF-8).
const MAX_OUTPUT_BYTES: usize = MAX_OUTPUT_CHARS * 4;
/// MiniJinja instructions one render may execute. The default quote with 40 lines uses a few
/// thousand.
pub const FUEL: u64 = 50_000;
/// Nesting depth of the engine (only loops and conditionals can nest here).
pub const RECURSION_LIMIT: usize = 32;

const STATEMENTS: &[&str] = &[
    "if", "elif", "else", "endif", "for", "endfor", "raw", "endraw",
];
/// Filters whose result is at most linear in their input (`join` is our capped version).
pub const FILTERS: &[&str] = &[
    "upper",
    "lower",
    "title",
    "capitalize",
    "trim",
    "length",
    "count",
    "default",
    "d",
    "first",
    "last",
    "join",
    "int",
    "round",
    "abs",
    "reverse",
];
pub const TESTS: &[&str] = &[
    "defined",
    "undefined",
    "none",
    "odd",
    "even",
    "number",
    "string",
    "sequence",
    "mapping",
    "true",
    "false",
];
const KEYWORDS: &[&str] = &["and", "or", "not", "in", "is", "if", "else"];

fn environment() -> &'static Environment<'static> {
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
fn capped_join(value: &Value, joiner: Option<String>) -> Result<String, Error> {
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
    overflow: bool,
}

impl io::Write for CappedWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.buf.len() + data.len() > MAX_OUTPUT_BYTES {
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

/// Checks and renders `source` with `ctx`. `ctx` must be a JSON object with the kind's
/// variables.
pub(super) fn render_checked(
    kind: TemplateKind,
    source: &str,
    ctx: &serde_json::Value,
) -> Result<String, TemplateError> {
    // Everything MiniJinja builds from the source (parse, compile, the variable walk, render
    // and the drop of the tree) happens on the guarded thread.
    super::guard::run(|| check_and_render(kind, source, ctx))
}

/// `render_checked` on the caller's stack.
fn check_and_render(
    kind: TemplateKind,
    source: &str,
    ctx: &serde_json::Value,
) -> Result<String, TemplateError> {
    let roots = check_source(source)?;
    let env: &Environment<'_> = environment();
    let tmpl = env
        .template_from_str(source)
        .map_err(|e| engine_error(&e, false))?;
    check_variables(kind, &tmpl.undeclared_variables(false), &roots)?;
    run(&tmpl, ctx)
}

fn run(
    tmpl: &minijinja::Template<'_, '_>,
    ctx: &serde_json::Value,
) -> Result<String, TemplateError> {
    let mut out = CappedWriter {
        buf: Vec::new(),
        overflow: false,
    };
    let result = tmpl.render_captured_to(Value::from_serialize(ctx), &mut out);
    if let Err(e) = result {
        return Err(engine_error(&e, out.overflow));
    }
    let text = String::from_utf8(out.buf).map_err(|_| TemplateError {
        line: None,
        message: "a mensagem gerada não é texto válido".into(),
    })?;
    let text = text.trim().to_string();
    let chars = text.chars().count();
    if chars > MAX_OUTPUT_CHARS {
        return Err(too_long(chars));
    }
    Ok(text)
}

fn too_long(chars: usize) -> TemplateError {
    TemplateError {
        line: None,
        message: format!(
            "a mensagem passou do limite do WhatsApp: {} caracteres (máximo {})",
            if chars > 0 {
                chars.to_string()
            } else {
                format!("mais de {MAX_OUTPUT_CHARS}")
            },
            MAX_OUTPUT_CHARS
        ),
    }
}

fn check_variables(
    kind: TemplateKind,
    undeclared: &std::collections::HashSet<String>,
    roots: &[(String, usize)],
) -> Result<(), TemplateError> {
    let documented = super::variables(kind);
    let mut unknown: Vec<&String> = undeclared
        .iter()
        .filter(|name| !documented.iter().any(|(d, _)| d == name))
        .collect();
    // Report the one that appears first in the source.
    let line_of = |name: &str| {
        roots
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, l)| *l)
            .unwrap_or(usize::MAX)
    };
    unknown.sort_by_key(|n| (line_of(n), n.to_string()));
    match unknown.first() {
        None => Ok(()),
        Some(name) => {
            let names: Vec<&str> = documented.iter().map(|(n, _)| *n).collect();
            Err(at(
                Some(line_of(name)).filter(|l| *l != usize::MAX),
                format!(
                    "variável desconhecida '{name}' (disponíveis: {})",
                    names.join(", ")
                ),
            ))
        }
    }
}

fn at(line: Option<usize>, message: String) -> TemplateError {
    match line {
        Some(l) => TemplateError {
            line: Some(l),
            message: format!("linha {l}: {message}"),
        },
        None => TemplateError {
            line: None,
            message,
        },
    }
}

/// Translates an engine error into a pt-BR message for the store owner.
fn engine_error(e: &Error, overflow: bool) -> TemplateError {
    let detail = e.detail().unwrap_or("").to_string();
    let message = match e.kind() {
        ErrorKind::WriteFailure if overflow => return too_long(0),
        ErrorKind::OutOfFuel => "o modelo executa passos demais (limite de segurança); \
                                 simplifique as repetições"
            .to_string(),
        ErrorKind::SyntaxError => format!("erro de sintaxe no modelo ({detail})"),
        ErrorKind::UndefinedError => {
            "variável ou campo inexistente nos dados desta mensagem".to_string()
        }
        ErrorKind::UnknownFilter => format!("filtro desconhecido ({detail})"),
        ErrorKind::UnknownTest => format!("teste desconhecido ({detail})"),
        ErrorKind::UnknownFunction | ErrorKind::UnknownMethod => {
            "chamadas de função não são permitidas em modelos".to_string()
        }
        ErrorKind::TemplateNotFound | ErrorKind::BadInclude => {
            "não é permitido incluir ou importar outros modelos".to_string()
        }
        ErrorKind::InvalidOperation if detail.contains("recursion") => {
            "o modelo se repete em profundidade demais (limite de segurança)".to_string()
        }
        ErrorKind::InvalidOperation if detail.contains("too large") => {
            "o texto gerado ficou grande demais".to_string()
        }
        ErrorKind::InvalidOperation => format!("operação inválida no modelo ({detail})"),
        _ => format!("erro ao montar a mensagem ({e})"),
    };
    at(e.line(), message)
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    Ident(String),
    Str,
    Num,
    Op(&'static str),
    Other(char),
}

const OPS: &[&str] = &[
    "**", "//", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "|", ".", ",", ":", "(", ")",
    "[", "]", "{", "}", "<", ">", "=", "!",
];

/// The whitelist check of the template's own syntax. Returns where root identifiers appear
/// (to point at the line of an unknown variable).
pub(super) fn check_source(source: &str) -> Result<Vec<(String, usize)>, TemplateError> {
    if source.len() > MAX_SOURCE_BYTES {
        return Err(TemplateError {
            line: None,
            message: format!(
                "modelo grande demais: {} bytes (máximo {} KB)",
                source.len(),
                MAX_SOURCE_BYTES / 1024
            ),
        });
    }
    let bytes = source.as_bytes();
    let mut roots = Vec::new();
    let mut i = 0;
    let mut line = 1;
    let mut in_raw = false;
    let mut blocks = Blocks::default();
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'\n' {
            line += 1;
            i += 1;
            continue;
        }
        if b != b'{' || i + 1 >= bytes.len() || !matches!(bytes[i + 1], b'{' | b'%' | b'#') {
            i += 1;
            continue;
        }
        let open = bytes[i + 1];
        let tag_line = line;
        if open == b'#' {
            if in_raw {
                i += 2;
                continue;
            }
            match source[i + 2..].find("#}") {
                Some(end) => {
                    line += source[i..i + 2 + end].matches('\n').count();
                    i += 2 + end + 2;
                    continue;
                }
                None => return Err(at(Some(tag_line), "comentário '{#' sem '#}'".into())),
            }
        }
        if in_raw {
            // Inside raw everything is text (even an unclosed quote), except the tag that
            // ends it.
            let ends_raw = open == b'%'
                && matches!(
                    tokenize(source, i + 2, open, tag_line),
                    Ok((toks, _, _)) if matches!(toks.first(), Some((Tok::Ident(k), _)) if k == "endraw")
                );
            if let (true, Ok((_, next, lines))) =
                (ends_raw, tokenize(source, i + 2, open, tag_line))
            {
                in_raw = false;
                line += lines;
                i = next;
            } else {
                i += 2;
            }
            continue;
        }
        let (toks, next, lines) = tokenize(source, i + 2, open, tag_line)?;
        line += lines;
        if open == b'{' {
            check_expr(&toks, &mut roots)?;
        } else {
            in_raw = check_statement(&toks, tag_line, &mut roots)?;
            if let Some((Tok::Ident(kw), _)) = toks.first() {
                blocks.statement(kw, tag_line)?;
            }
        }
        i = next;
    }
    Ok(roots)
}

/// Tokens of one tag, each with its line.
type Tokens = Vec<(Tok, usize)>;

/// Tokens of one tag, the index after the tag and the newlines it spans.
fn tokenize(
    source: &str,
    start: usize,
    open: u8,
    tag_line: usize,
) -> Result<(Tokens, usize, usize), TemplateError> {
    let bytes = source.as_bytes();
    let close = if open == b'{' { b'}' } else { b'%' };
    let mut toks = Vec::new();
    let mut line = tag_line;
    let mut i = start;
    if i < bytes.len() && matches!(bytes[i], b'-' | b'+') {
        i += 1;
    }
    loop {
        let Some(&b) = bytes.get(i) else {
            return Err(at(Some(tag_line), "tag aberta e não fechada".into()));
        };
        let next = bytes.get(i + 1).copied();
        if b == close && next == Some(b'}') {
            return Ok((toks, i + 2, line - tag_line));
        }
        if matches!(b, b'-' | b'+') && next == Some(close) && bytes.get(i + 2) == Some(&b'}') {
            return Ok((toks, i + 3, line - tag_line));
        }
        match b {
            b'\n' => {
                line += 1;
                i += 1;
            }
            b' ' | b'\t' | b'\r' => i += 1,
            b'\'' | b'"' => {
                let mut j = i + 1;
                loop {
                    match bytes.get(j) {
                        None => return Err(at(Some(line), "texto entre aspas não fechado".into())),
                        Some(b'\\') => j += 2,
                        Some(&c) if c == b => break,
                        Some(b'\n') => {
                            line += 1;
                            j += 1;
                        }
                        Some(_) => j += 1,
                    }
                }
                toks.push((Tok::Str, line));
                i = j + 1;
            }
            b'0'..=b'9' => {
                let mut j = i;
                while j < bytes.len() && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_') {
                    j += 1;
                }
                if bytes.get(j) == Some(&b'.') && bytes.get(j + 1).is_some_and(u8::is_ascii_digit) {
                    j += 1;
                    while j < bytes.len() && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_')
                    {
                        j += 1;
                    }
                }
                toks.push((Tok::Num, line));
                i = j;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let mut j = i;
                while j < bytes.len() && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_') {
                    j += 1;
                }
                toks.push((Tok::Ident(source[i..j].to_string()), line));
                i = j;
            }
            _ => {
                if let Some(op) = OPS.iter().find(|op| bytes[i..].starts_with(op.as_bytes())) {
                    toks.push((Tok::Op(op), line));
                    i += op.len();
                } else {
                    let c = source[i..].chars().next().unwrap_or('?');
                    toks.push((Tok::Other(c), line));
                    i += c.len_utf8();
                }
            }
        }
    }
}

/// Checks a `{% … %}` tag; returns whether it opens a raw block.
fn check_statement(
    toks: &[(Tok, usize)],
    line: usize,
    roots: &mut Vec<(String, usize)>,
) -> Result<bool, TemplateError> {
    let Some((Tok::Ident(kw), _)) = toks.first() else {
        return Err(at(
            Some(line),
            "comando vazio ou inválido em '{% %}'".into(),
        ));
    };
    let kw = kw.as_str();
    match kw {
        "include" | "import" | "from" | "extends" => {
            return Err(at(
                Some(line),
                format!(
                    "não é permitido incluir, importar ou estender outros modelos ('{{% {kw} %}}')"
                ),
            ))
        }
        "macro" | "call" => {
            return Err(at(
                Some(line),
                format!("macros não são permitidas em modelos ('{{% {kw} %}}')"),
            ))
        }
        _ if !STATEMENTS.contains(&kw) => {
            return Err(at(
                Some(line),
                format!(
                    "o comando '{{% {kw} %}}' não é permitido; use apenas if, elif, else e for"
                ),
            ))
        }
        _ => {}
    }
    let rest = &toks[1..];
    match kw {
        "if" | "elif" => check_expr(rest, roots)?,
        "for" => {
            // Loop targets (`item` or `a, b`) up to `in`; then an ordinary expression.
            let in_pos = rest
                .iter()
                .position(|(t, _)| matches!(t, Tok::Ident(k) if k == "in"))
                .ok_or_else(|| at(Some(line), "'for' sem 'in'".into()))?;
            for (t, l) in &rest[..in_pos] {
                if !matches!(t, Tok::Ident(_) | Tok::Op(",")) {
                    return Err(at(Some(*l), "alvo inválido no 'for'".into()));
                }
            }
            let tail = &rest[in_pos + 1..];
            if let Some((_, l)) = tail
                .iter()
                .find(|(t, _)| matches!(t, Tok::Ident(k) if k == "recursive"))
            {
                return Err(at(Some(*l), "laços recursivos não são permitidos".into()));
            }
            check_expr(tail, roots)?;
        }
        _ => {
            if let Some((_, l)) = rest.first() {
                return Err(at(Some(*l), format!("'{{% {kw} %}}' não leva argumentos")));
            }
        }
    }
    Ok(kw == "raw")
}

#[derive(Clone, Copy, PartialEq)]
enum Paren {
    Call,
    Group,
    Subscript,
}

fn ident(t: Option<&(Tok, usize)>) -> Option<&str> {
    match t {
        Some((Tok::Ident(s), _)) => Some(s.as_str()),
        _ => None,
    }
}

fn check_expr(
    toks: &[(Tok, usize)],
    roots: &mut Vec<(String, usize)>,
) -> Result<(), TemplateError> {
    if let Some((_, line)) = toks.first() {
        check_expression(toks, *line)?;
    }
    let mut stack: Vec<Paren> = Vec::new();
    for (idx, (tok, line)) in toks.iter().enumerate() {
        let prev = idx.checked_sub(1).map(|p| &toks[p].0);
        let err = |m: String| Err(at(Some(*line), m));
        match tok {
            Tok::Op(op @ ("*" | "**" | "+" | "~" | "/" | "//" | "%")) => {
                return err(format!(
                    "o operador '{op}' não é permitido em modelos (os valores já vêm formatados)"
                ))
            }
            Tok::Op("{" | "}") => return err("dicionários não são permitidos em modelos".into()),
            Tok::Op("[") => {
                let subscript = match prev {
                    Some(Tok::Ident(p)) => !KEYWORDS.contains(&p.as_str()),
                    Some(Tok::Op("]" | ")")) => true,
                    _ => false,
                };
                if !subscript {
                    return err("listas literais não são permitidas em modelos".into());
                }
                stack.push(Paren::Subscript);
            }
            Tok::Op("(") => {
                let before = idx.checked_sub(2).map(|p| &toks[p].0);
                let before2 = idx.checked_sub(3).map(|p| &toks[p].0);
                match prev {
                    Some(Tok::Ident(name)) if !KEYWORDS.contains(&name.as_str()) => {
                        let filter_or_test = matches!(before, Some(Tok::Op("|")))
                            || matches!(before, Some(Tok::Ident(k)) if k == "is")
                            || (matches!(before, Some(Tok::Ident(k)) if k == "not")
                                && matches!(before2, Some(Tok::Ident(k)) if k == "is"));
                        if !filter_or_test {
                            return err(format!(
                                "chamadas de função não são permitidas em modelos ('{name}(…)')"
                            ));
                        }
                        stack.push(Paren::Call);
                    }
                    Some(Tok::Op("]" | ")")) => {
                        return err("chamadas de função não são permitidas em modelos".into())
                    }
                    _ => stack.push(Paren::Group),
                }
            }
            Tok::Op(")" | "]") => {
                stack.pop();
            }
            Tok::Op(",") if stack.last() != Some(&Paren::Call) => {
                return err(
                    "vírgula só é permitida entre argumentos de filtro (listas e tuplas não são permitidas)"
                        .into(),
                );
            }
            Tok::Op(".") => match ident(toks.get(idx + 1)) {
                Some(name) if name.starts_with('_') => {
                    return err(format!(
                        "acesso a atributo interno '{name}' não é permitido"
                    ))
                }
                Some(_) => {}
                None => {
                    if !matches!(toks.get(idx + 1), Some((Tok::Num, _))) {
                        return err("'.' deve ser seguido do nome de um campo".into());
                    }
                }
            },
            Tok::Op("|") => match ident(toks.get(idx + 1)) {
                Some(f) if FILTERS.contains(&f) => {}
                Some(f) => {
                    return err(format!(
                        "filtro '{f}' não é permitido (disponíveis: {})",
                        FILTERS.join(", ")
                    ))
                }
                None => return err("'|' deve ser seguido do nome de um filtro".into()),
            },
            Tok::Ident(k) if k == "is" => {
                let mut next = idx + 1;
                if ident(toks.get(next)) == Some("not") {
                    next += 1;
                }
                match ident(toks.get(next)) {
                    Some(t) if TESTS.contains(&t) => {}
                    Some(t) => {
                        return err(format!(
                            "teste '{t}' não é permitido (disponíveis: {})",
                            TESTS.join(", ")
                        ))
                    }
                    None => return err("'is' deve ser seguido do nome de um teste".into()),
                }
            }
            Tok::Ident(name) => {
                // Field, filter and test names are not variables.
                let after_is = ident(idx.checked_sub(1).and_then(|p| toks.get(p))) == Some("is")
                    || (ident(idx.checked_sub(1).and_then(|p| toks.get(p))) == Some("not")
                        && ident(idx.checked_sub(2).and_then(|p| toks.get(p))) == Some("is"));
                let is_root = !matches!(prev, Some(Tok::Op("." | "|"))) && !after_is;
                if is_root {
                    roots.push((name.clone(), *line));
                }
            }
            Tok::Other(c) => return err(format!("caractere inesperado '{c}'")),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The engine layer alone (without the syntax whitelist) still stops runaway templates.
    fn engine_only(source: &str) -> Result<String, TemplateError> {
        let env: &Environment<'_> = environment();
        let tmpl = env
            .template_from_str(source)
            .map_err(|e| engine_error(&e, false))?;
        run(&tmpl, &serde_json::json!({}))
    }

    /// The engine alone with the given data, on the guarded thread.
    fn engine_guarded(source: &str, ctx: &serde_json::Value) -> Result<String, TemplateError> {
        super::super::guard::run(|| {
            let tmpl = environment()
                .template_from_str(source)
                .map_err(|e| engine_error(&e, false))?;
            let _ = tmpl.undeclared_variables(false);
            run(&tmpl, ctx)
        })
    }

    /// The second line of defence: without the syntax check and its nesting limits, the
    /// guarded thread still holds the deepest template the size limit lets through. On a
    /// 2 MiB stack (a tokio worker's) the first of these aborts the process.
    #[test]
    fn guarded_stack_holds_a_full_size_source_without_the_nesting_limits() {
        let ctx = serde_json::json!({ "cliente": "Maria" });
        let fill = |unit: &str, head: &str, tail: &str| {
            let n = (MAX_SOURCE_BYTES - head.len() - tail.len()) / unit.len();
            format!("{head}{}{tail}", unit.repeat(n - n % 2))
        };
        let cases = [
            (fill("-", "{{ ", "1 }}"), "1"),
            (fill("not ", "{{ ", "cliente }}"), "True"),
            (fill("-1", "{{ 1", " }}"), ""),
            (fill("|upper", "{{ cliente", " }}"), "MARIA"),
            (fill("|length", "{{ cliente", " }}"), ""),
            (fill("[0]", "{{ cliente", " }}"), "M"),
            (fill(" if cliente else 1", "{{ cliente", " }}"), "Maria"),
            (
                fill("{% elif cliente %}b", "{% if cliente %}a", "{% endif %}"),
                "a",
            ),
        ];
        for (src, want) in &cases {
            assert!(src.len() <= MAX_SOURCE_BYTES);
            // Either way the process is still here; the full ones render completely.
            match engine_guarded(src, &ctx) {
                Ok(text) if !want.is_empty() => assert_eq!(&text, want, "{}", &src[..40]),
                Ok(_) => {}
                Err(e) => assert!(want.is_empty(), "{}: {}", &src[..40], e.message),
            }
        }
    }

    /// What the nesting limits let through, all at their maximum at once, needs a small
    /// fraction of the guarded stack: it renders on a thread with 1/32 of it.
    #[test]
    fn the_largest_template_the_limits_allow_fits_a_thirty_second_of_the_stack() {
        use crate::templates::limits::*;
        // 8 unary operators, 8 levels of brackets (7 parentheses and an index), 32 chained
        // filters and indexes, 127 tokens, inside 32 nested blocks.
        let expr = format!(
            "-{}cliente{}|length|abs{}{}",
            "-(".repeat(MAX_BRACKET_DEPTH - 1),
            "[0]".repeat(MAX_CHAIN - 2),
            ")".repeat(MAX_BRACKET_DEPTH - 1),
            " or cliente".repeat(5)
        );
        let src = format!(
            "{}{{{{ {expr} }}}}{}",
            "{% if cliente %}".repeat(MAX_BLOCK_DEPTH),
            "{% endif %}".repeat(MAX_BLOCK_DEPTH)
        );
        let ctx = crate::templates::sample_context(TemplateKind::DataCapture);
        let out = std::thread::Builder::new()
            .stack_size(super::super::guard::STACK_BYTES / 32)
            .spawn(move || check_and_render(TemplateKind::DataCapture, &src, &ctx))
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(out.unwrap(), "1");
        // One more of any kind is refused (the public tests check each message).
        let one_more = format!("{{{{ -{expr} }}}}");
        assert!(check_source(&one_more).is_err());
    }

    #[test]
    fn engine_has_no_range_or_other_globals() {
        let e = engine_only("{% for i in range(999999999) %}x{% endfor %}").unwrap_err();
        assert!(!e.message.is_empty());
        let e = engine_only("{{ namespace() }}").unwrap_err();
        assert!(!e.message.is_empty());
    }

    #[test]
    fn engine_fuel_stops_long_loops() {
        // Nested loops over a 100-character string: 1.000.000 iterations.
        let s = "x".repeat(100);
        let src = format!(
            "{{% for a in '{s}' %}}{{% for b in '{s}' %}}{{% for c in '{s}' %}}{{% endfor %}}{{% endfor %}}{{% endfor %}}"
        );
        let e = engine_only(&src).unwrap_err();
        assert!(e.message.contains("passos demais"), "{}", e.message);
    }

    #[test]
    fn engine_recursion_limit_stops_recursive_macros() {
        let e = engine_only("{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}").unwrap_err();
        assert!(
            e.message.contains("profundidade") || e.message.contains("passos demais"),
            "{}",
            e.message
        );
    }

    #[test]
    fn engine_output_is_capped() {
        let s = "x".repeat(200);
        let src = format!("{{% for a in '{s}' %}}{s}{{% endfor %}}");
        let e = engine_only(&src).unwrap_err();
        assert!(e.message.contains("limite do WhatsApp"), "{}", e.message);
    }

    #[test]
    fn engine_cannot_include_or_import() {
        assert!(engine_only("{% include 'outro' %}")
            .unwrap_err()
            .message
            .contains("incluir"));
        assert!(engine_only("{% import 'outro' as o %}")
            .unwrap_err()
            .message
            .contains("incluir"));
    }

    #[test]
    fn engine_string_repetition_is_stopped_by_the_output_cap() {
        // MiniJinja allows repetition up to 100 MB; the syntax check forbids `*` entirely, and
        // even without it the output cap stops the message.
        let e = engine_only("{{ 'x' * 1000000 }}").unwrap_err();
        assert!(e.message.contains("limite do WhatsApp"), "{}", e.message);
    }

    #[test]
    fn capped_join_stops_early() {
        let big = Value::from("y".repeat(1000));
        assert!(capped_join(&big, Some("z".repeat(100))).is_err());
        let list = Value::from(vec!["a", "b"]);
        assert_eq!(capped_join(&list, Some(", ".into())).unwrap(), "a, b");
    }
}
