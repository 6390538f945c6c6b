//! Fuzzing of the template sandbox on stable Rust (cargo-fuzz needs nightly): proptest builds
//! sources from the pieces that matter to the parser — tags, operators, brackets, filters,
//! keywords, huge numbers, unicode — up to the 16 KB source cap, including deep nestings of
//! every recursive construct. A store owner can type any of them in the editor; whatever it
//! is, `render` and `validate` must return text or a pt-BR `TemplateError`: never panic,
//! never overflow the stack (which aborted the process for every store). Case counts are
//! fixed so the suite stays within seconds; `PROPTEST_CASES=20000 cargo test -p domain
//! --test templates_fuzz` runs a longer campaign.

use domain::templates::*;
use proptest::prelude::*;
use proptest::test_runner::Config;

/// Pieces of template syntax, valid or not, in any order.
const PIECES: &[&str] = &[
    "{{",
    "}}",
    "{%",
    "%}",
    "{{-",
    "-}}",
    "{#",
    "#}",
    " ",
    "\n",
    "-",
    "not ",
    "(",
    ")",
    "[",
    "]",
    "|",
    "|upper",
    "|length",
    "|default(",
    "|join(', ')",
    ".",
    ".descricao",
    "[0]",
    " is defined",
    " is not none",
    " and ",
    " or ",
    " if ",
    " else ",
    " in ",
    " not in ",
    "==",
    "!=",
    "<",
    ">=",
    ",",
    ":",
    "'",
    "\"",
    "\\",
    "cliente",
    "loja",
    "itens",
    "item",
    "loop",
    "loop.index",
    "total",
    "x",
    "0",
    "1",
    "-1",
    "1.5",
    "99999999999999999999999999999999",
    "1e999",
    "0x10",
    "if ",
    "elif ",
    "else",
    "endif",
    "for item in itens",
    "for ",
    "endfor",
    "raw",
    "endraw",
    "set ",
    "macro ",
    "include ",
    "range(",
    "~",
    "+",
    "*",
    "**",
    "/",
    "%",
    "{",
    "}",
    "é",
    "ç",
    "🧱",
    "\u{0}",
    "\u{202e}",
    "\u{FEFF}",
    "\r",
    "\t",
];

/// Each recursive construct of MiniJinja's parser, compiler and evaluator as (head, repeated
/// unit, middle, closing unit, tail).
const SHAPES: &[(&str, &str, &str, &str, &str)] = &[
    ("{{ ", "-", "1", "", " }}"),
    ("{{ ", "not ", "cliente", "", " }}"),
    ("{{ ", "(", "cliente", ")", " }}"),
    ("{{ ", "-(", "1", ")", " }}"),
    ("{{ ", "[", "1", "]", " }}"),
    ("{{ ", "cliente[", "0", "]", " }}"),
    ("{{ ", "cliente|default(", "cliente", ")", " }}"),
    ("{{ cliente", "|upper", "", "", " }}"),
    ("{{ cliente", ".x", "", "", " }}"),
    ("{{ cliente", "[0]", "", "", " }}"),
    ("{{ cliente", " is defined", "", "", " }}"),
    ("{{ 1", "-1", "", "", " }}"),
    ("{{ cliente", " and cliente", "", "", " }}"),
    ("{{ cliente", " if cliente else cliente", "", "", " }}"),
    ("", "{% if cliente %}", "x", "{% endif %}", ""),
    ("", "{% for c in cliente %}", "x", "{% endfor %}", ""),
    (
        "{% if cliente %}",
        "{% elif cliente %}",
        "x",
        "",
        "{% endif %}",
    ),
    ("{% if ", "not ", "cliente", "", " %}x{% endif %}"),
    ("{% for c in ", "(", "cliente", ")", " %}x{% endfor %}"),
];

fn any_kind() -> impl Strategy<Value = TemplateKind> {
    prop::sample::select(TemplateKind::ALL.to_vec())
}

/// The property: text within WhatsApp's limit or an error with a pt-BR message, the line
/// (when given) inside the source.
fn check(kind: TemplateKind, source: &str) -> Result<(), TestCaseError> {
    match render(kind, source, &sample_context(kind)) {
        Ok(text) => prop_assert!(text.chars().count() <= MAX_OUTPUT_CHARS),
        Err(e) => {
            prop_assert!(!e.message.trim().is_empty());
            if let Some(line) = e.line {
                prop_assert!(line >= 1 && line <= source.lines().count().max(1) + 1);
                let prefix = format!("linha {line}:");
                prop_assert!(e.message.starts_with(&prefix), "{}", e.message);
            }
        }
    }
    // `validate` is `render` with the sample data: the same verdict.
    prop_assert_eq!(
        validate(kind, source).is_ok(),
        render(kind, source, &sample_context(kind)).is_ok()
    );
    Ok(())
}

proptest! {
    #![proptest_config(Config { cases: 512, ..Config::default() })]

    /// Random soup of syntax pieces, short to the full source cap.
    #[test]
    fn any_mix_of_syntax_gives_text_or_a_typed_error(
        kind in any_kind(),
        pieces in prop::collection::vec(prop::sample::select(PIECES), 0..2_000),
    ) {
        let mut source = String::new();
        for p in pieces {
            if source.len() + p.len() > MAX_SOURCE_BYTES {
                break;
            }
            source.push_str(p);
        }
        check(kind, &source)?;
    }

    /// Arbitrary unicode, inside and outside tags.
    #[test]
    fn arbitrary_text_gives_text_or_a_typed_error(
        kind in any_kind(),
        text in ".{0,400}",
        wrap in 0usize..3,
    ) {
        let source = match wrap {
            0 => text,
            1 => format!("{{{{ {text} }}}}"),
            _ => format!("{{% if {text} %}}x{{% endif %}}"),
        };
        check(kind, &source)?;
    }
}

proptest! {
    #![proptest_config(Config { cases: 256, ..Config::default() })]

    /// Every recursive construct at any depth up to what fits in the source cap, alone or
    /// one inside another: the ~6,000 `-` that aborted the process are one of these.
    #[test]
    fn deep_nesting_of_every_construct_gives_text_or_a_typed_error(
        outer in 0..SHAPES.len(),
        inner in 0..SHAPES.len(),
        depth in prop_oneof![0usize..64, 64usize..20_000],
        inner_depth in 0usize..64,
    ) {
        let (h, open, mid, close, t) = SHAPES[inner];
        let core = format!("{h}{}{mid}{}{t}", open.repeat(inner_depth), close.repeat(inner_depth));
        let (h, open, mid, close, t) = SHAPES[outer];
        // The inner construct replaces the outer's middle when it is an expression too.
        let mid = if mid.is_empty() || h.starts_with("{{") != core.starts_with("{{") {
            mid.to_string()
        } else if core.starts_with("{{") {
            core.trim_start_matches("{{ ").trim_end_matches(" }}").to_string()
        } else {
            core.clone()
        };
        let unit = open.len() + close.len();
        let room = MAX_SOURCE_BYTES.saturating_sub(h.len() + mid.len() + t.len());
        let depth = room.checked_div(unit).map_or(0, |most| depth.min(most));
        let source = format!("{h}{}{mid}{}{t}", open.repeat(depth), close.repeat(depth));
        check(TemplateKind::DataCapture, &source)?;
    }
}
