//! The first layer: a whitelist check of the template's own syntax (statements, variables,
//! filters and tests, no calls, no literal collections, no string-building operators), with
//! the nesting limits of `limits.rs`.

use crate::templates::limits::{check_expression, Blocks};

use super::errors::at;
use super::{TemplateError, FILTERS, MAX_SOURCE_BYTES, TESTS};

const STATEMENTS: &[&str] = &[
    "if", "elif", "else", "endif", "for", "endfor", "raw", "endraw",
];
const KEYWORDS: &[&str] = &["and", "or", "not", "in", "is", "if", "else"];

#[derive(Debug, Clone, PartialEq)]
pub(in crate::templates) enum Tok {
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
    for (idx, (_, line)) in toks.iter().enumerate() {
        let prev = idx.checked_sub(1).map(|p| &toks[p].0);
        check_token(toks, idx, prev, &mut stack, roots).map_err(|m| at(Some(*line), m))?;
    }
    Ok(())
}

/// One token of an expression, given what came before it; the error is the pt-BR message.
fn check_token(
    toks: &[(Tok, usize)],
    idx: usize,
    prev: Option<&Tok>,
    stack: &mut Vec<Paren>,
    roots: &mut Vec<(String, usize)>,
) -> Result<(), String> {
    let (tok, line) = &toks[idx];
    match tok {
        Tok::Op(op @ ("*" | "**" | "+" | "~" | "/" | "//" | "%")) => Err(format!(
            "o operador '{op}' não é permitido em modelos (os valores já vêm formatados)"
        )),
        Tok::Op("{" | "}") => Err("dicionários não são permitidos em modelos".into()),
        Tok::Op("[") => {
            let subscript = match prev {
                Some(Tok::Ident(p)) => !KEYWORDS.contains(&p.as_str()),
                Some(Tok::Op("]" | ")")) => true,
                _ => false,
            };
            if !subscript {
                return Err("listas literais não são permitidas em modelos".into());
            }
            stack.push(Paren::Subscript);
            Ok(())
        }
        Tok::Op("(") => {
            stack.push(opening_paren(toks, idx, prev)?);
            Ok(())
        }
        Tok::Op(")" | "]") => {
            stack.pop();
            Ok(())
        }
        Tok::Op(",") if stack.last() != Some(&Paren::Call) => Err(
            "vírgula só é permitida entre argumentos de filtro (listas e tuplas não são permitidas)"
                .into(),
        ),
        Tok::Op(".") => check_field_access(toks, idx),
        Tok::Op("|") => match ident(toks.get(idx + 1)) {
            Some(f) if FILTERS.contains(&f) => Ok(()),
            Some(f) => Err(format!(
                "filtro '{f}' não é permitido (disponíveis: {})",
                FILTERS.join(", ")
            )),
            None => Err("'|' deve ser seguido do nome de um filtro".into()),
        },
        Tok::Ident(k) if k == "is" => check_test_name(toks, idx),
        Tok::Ident(name) => {
            // Field, filter and test names are not variables.
            let back = |n: usize| ident(idx.checked_sub(n).and_then(|p| toks.get(p)));
            let after_is = back(1) == Some("is") || (back(1) == Some("not") && back(2) == Some("is"));
            let is_root = !matches!(prev, Some(Tok::Op("." | "|"))) && !after_is;
            if is_root {
                roots.push((name.clone(), *line));
            }
            Ok(())
        }
        Tok::Other(c) => Err(format!("caractere inesperado '{c}'")),
        _ => Ok(()),
    }
}

/// What a '(' opens: a filter's or test's argument list, or a group. Any other call is refused.
fn opening_paren(toks: &[(Tok, usize)], idx: usize, prev: Option<&Tok>) -> Result<Paren, String> {
    let before = idx.checked_sub(2).map(|p| &toks[p].0);
    let before2 = idx.checked_sub(3).map(|p| &toks[p].0);
    match prev {
        Some(Tok::Ident(name)) if !KEYWORDS.contains(&name.as_str()) => {
            let filter_or_test = matches!(before, Some(Tok::Op("|")))
                || matches!(before, Some(Tok::Ident(k)) if k == "is")
                || (matches!(before, Some(Tok::Ident(k)) if k == "not")
                    && matches!(before2, Some(Tok::Ident(k)) if k == "is"));
            if filter_or_test {
                Ok(Paren::Call)
            } else {
                Err(format!(
                    "chamadas de função não são permitidas em modelos ('{name}(…)')"
                ))
            }
        }
        Some(Tok::Op("]" | ")")) => Err("chamadas de função não são permitidas em modelos".into()),
        _ => Ok(Paren::Group),
    }
}

/// `a.b`: a field name, never an internal attribute (`_x`); `1.5` is a number.
fn check_field_access(toks: &[(Tok, usize)], idx: usize) -> Result<(), String> {
    match ident(toks.get(idx + 1)) {
        Some(name) if name.starts_with('_') => Err(format!(
            "acesso a atributo interno '{name}' não é permitido"
        )),
        Some(_) => Ok(()),
        None if matches!(toks.get(idx + 1), Some((Tok::Num, _))) => Ok(()),
        None => Err("'.' deve ser seguido do nome de um campo".into()),
    }
}

/// `x is [not] test`: only the allowed tests.
fn check_test_name(toks: &[(Tok, usize)], idx: usize) -> Result<(), String> {
    let mut next = idx + 1;
    if ident(toks.get(next)) == Some("not") {
        next += 1;
    }
    match ident(toks.get(next)) {
        Some(t) if TESTS.contains(&t) => Ok(()),
        Some(t) => Err(format!(
            "teste '{t}' não é permitido (disponíveis: {})",
            TESTS.join(", ")
        )),
        None => Err("'is' deve ser seguido do nome de um teste".into()),
    }
}
