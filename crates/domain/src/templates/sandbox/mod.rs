//! The sandbox store templates run in: the whitelist check of their syntax (`syntax.rs`),
//! the bounded MiniJinja engine (`engine.rs`) and pt-BR errors for the store owner
//! (`errors.rs`).
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

mod engine;
mod errors;
mod syntax;

use minijinja::Environment;

use super::{TemplateError, TemplateKind};
use errors::{at, engine_error};

pub(super) use syntax::Tok;

/// Largest template source accepted, in bytes.
pub const MAX_SOURCE_BYTES: usize = 16 * 1024;
/// WhatsApp's text message limit, in characters: what one render may produce, except the
/// quote ([`TemplateKind::max_output_chars`]).
pub const MAX_OUTPUT_CHARS: usize = 4096;
/// How many text messages a long quote may take (it is split at line boundaries and followed
/// by the buttons; `worker::outbound::fit`).
pub const QUOTE_MAX_TEXT_MESSAGES: usize = 4;
/// MiniJinja instructions one render may execute. The default quote with 40 lines uses a few
/// thousand.
pub const FUEL: u64 = 50_000;
/// Nesting depth of the engine (only loops and conditionals can nest here).
pub const RECURSION_LIMIT: usize = 32;

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
    let roots = syntax::check_source(source)?;
    let env: &Environment<'_> = engine::environment();
    let tmpl = env
        .template_from_str(source)
        .map_err(|e| engine_error(&e, false))?;
    check_variables(kind, &tmpl.undeclared_variables(false), &roots)?;
    engine::run(&tmpl, ctx, kind.max_output_chars())
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

#[cfg(test)]
mod tests {
    use super::engine::{capped_join, environment, run};
    use super::errors::engine_error;
    use super::syntax::check_source;
    use super::*;
    use minijinja::Value;

    /// The engine layer alone (without the syntax whitelist) still stops runaway templates.
    fn engine_only(source: &str) -> Result<String, TemplateError> {
        let env: &Environment<'_> = environment();
        let tmpl = env
            .template_from_str(source)
            .map_err(|e| engine_error(&e, false))?;
        run(&tmpl, &serde_json::json!({}), MAX_OUTPUT_CHARS)
    }

    /// The engine alone with the given data, on the guarded thread.
    fn engine_guarded(source: &str, ctx: &serde_json::Value) -> Result<String, TemplateError> {
        super::super::guard::run(|| {
            let tmpl = environment()
                .template_from_str(source)
                .map_err(|e| engine_error(&e, false))?;
            let _ = tmpl.undeclared_variables(false);
            run(&tmpl, ctx, MAX_OUTPUT_CHARS)
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
