//! Nesting limits checked on the template's tokens before MiniJinja ever parses it.
//!
//! MiniJinja's parser, compiler, variable finder and the drop of its syntax tree are
//! recursive. Its parser guards parentheses, brackets and nested statements (150 levels), but
//! not everything: unary `-` and `not` recurse once per operator, `elif` once per branch and
//! inline `a if b else c if …` once per `else`, without a guard; and chains that the parser
//! builds in a loop (`a.b.c…`, `a|upper|upper…`, `1-1-1…`) become a deep tree that the
//! compiler walks recursively. ~6,000 `-` in one expression overflowed a 2 MiB thread stack
//! and aborted the whole process.
//!
//! Every node of an expression's tree consumes at least one token, so the tree is never
//! deeper than the tag has tokens: `MAX_EXPR_TOKENS` bounds every chain. The other limits
//! only give the owner a more precise message (and cap the costlier frames of brackets). The
//! largest template the limits allow renders on 512 KiB of stack (a test checks it); the
//! thread that parses and renders has `guard::STACK_BYTES` (16 MiB), which holds even a 16 KB
//! source with no limits at all (see `guard.rs`), so a construct this scan misses still
//! cannot overflow.

use super::sandbox::Tok;
use super::TemplateError;

/// Tokens in one `{{ … }}` or in the expression of one `{% if/elif/for %}`.
pub const MAX_EXPR_TOKENS: usize = 128;
/// Parentheses and brackets open at once in one expression.
pub const MAX_BRACKET_DEPTH: usize = 8;
/// Unary `-` and `not` in one expression.
pub const MAX_UNARY_OPS: usize = 8;
/// Filters, fields, indexes and tests applied in one expression (`a.b|upper is defined`: 3).
pub const MAX_CHAIN: usize = 32;
/// `if`/`for` blocks open at once, each `elif` of an open `if` counting one more level
/// (MiniJinja nests every `elif` inside the previous branch).
pub const MAX_BLOCK_DEPTH: usize = 32;

const KEYWORDS: &[&str] = &["and", "or", "not", "in", "is", "if", "else"];

fn refuse(line: usize, message: String) -> Result<(), TemplateError> {
    Err(TemplateError {
        line: Some(line),
        message: format!("linha {line}: {message}"),
    })
}

/// Checks one expression (the tokens of a `{{ … }}`, or of an `if`/`elif`/`for` after its
/// keyword). `line` is the tag's first line.
pub(super) fn check_expression(toks: &[(Tok, usize)], line: usize) -> Result<(), TemplateError> {
    let (mut depth, mut max_depth, mut unary, mut chain) = (0usize, 0usize, 0usize, 0usize);
    for (idx, (tok, _)) in toks.iter().enumerate() {
        let prev = idx.checked_sub(1).map(|p| &toks[p].0);
        match tok {
            Tok::Op("(" | "[") => {
                depth += 1;
                max_depth = max_depth.max(depth);
                if matches!(tok, Tok::Op("[")) && is_operand_end(prev) {
                    chain += 1;
                }
            }
            Tok::Op(")" | "]") => depth = depth.saturating_sub(1),
            Tok::Op("-") if !is_operand_end(prev) => unary += 1,
            Tok::Op("." | "|") => chain += 1,
            Tok::Ident(k) if k == "is" => chain += 1,
            // `is not defined` is one test and `a not in b` one comparison.
            Tok::Ident(k)
                if k == "not"
                    && !matches!(prev, Some(Tok::Ident(p)) if p == "is")
                    && !matches!(toks.get(idx + 1), Some((Tok::Ident(n), _)) if n == "in") =>
            {
                unary += 1
            }
            _ => {}
        }
    }
    if max_depth > MAX_BRACKET_DEPTH {
        return refuse(
            line,
            format!(
                "parênteses ou colchetes aninhados demais: {max_depth} níveis \
                 (máximo {MAX_BRACKET_DEPTH})"
            ),
        );
    }
    if unary > MAX_UNARY_OPS {
        return refuse(
            line,
            format!(
                "operadores '-' e 'not' demais numa só expressão: {unary} (máximo {MAX_UNARY_OPS})"
            ),
        );
    }
    if chain > MAX_CHAIN {
        return refuse(
            line,
            format!(
                "filtros, campos, índices e testes encadeados demais numa só expressão: \
                 {chain} (máximo {MAX_CHAIN})"
            ),
        );
    }
    // Last: the precise messages above name what to change.
    if toks.len() > MAX_EXPR_TOKENS {
        return refuse(
            line,
            format!(
                "expressão longa demais: {} elementos (máximo {MAX_EXPR_TOKENS}); \
                 divida-a em partes menores",
                toks.len()
            ),
        );
    }
    Ok(())
}

/// Whether the token before ends an operand, so that a following `-` subtracts (binary)
/// and a following `[` indexes.
fn is_operand_end(prev: Option<&Tok>) -> bool {
    match prev {
        Some(Tok::Ident(k)) => !KEYWORDS.contains(&k.as_str()),
        Some(Tok::Str | Tok::Num | Tok::Op(")" | "]")) => true,
        _ => false,
    }
}

/// Open blocks while the source is scanned.
#[derive(Default)]
pub(super) struct Blocks {
    /// One entry per open `if`/`for`: the levels it takes (1 + its `elif`s so far).
    open: Vec<usize>,
}

impl Blocks {
    /// Accounts for the statement whose keyword is `kw`, on `line`.
    pub(super) fn statement(&mut self, kw: &str, line: usize) -> Result<(), TemplateError> {
        match kw {
            "if" | "for" => self.open.push(1),
            "elif" => {
                if let Some(levels) = self.open.last_mut() {
                    *levels += 1;
                }
            }
            // A stray end tag is MiniJinja's syntax error to report.
            "endif" | "endfor" => {
                self.open.pop();
            }
            _ => {}
        }
        let depth: usize = self.open.iter().sum();
        if depth > MAX_BLOCK_DEPTH {
            return refuse(
                line,
                format!(
                    "blocos if/for aninhados demais: {depth} níveis (máximo {MAX_BLOCK_DEPTH}; \
                     cada 'elif' conta um nível)"
                ),
            );
        }
        Ok(())
    }
}
