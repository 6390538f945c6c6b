//! Reading one clause: which number is the quantity, which catalog item the rest names,
//! and whether the match must be refused (look-alikes, vague amounts, products not sold).
//!
//! [`analyze_clause`] runs three steps: [`read_clause`] classifies the words and lists every
//! quantity reading ([`words`], [`quantities`]); [`reading::best_readings`] matches the rest of
//! the clause against the catalog for each reading, borrowing the previous product's words
//! for elliptical clauses; [`verdict::decide`] turns the winner into an item, an honest
//! unknown, a quantity for an earlier product, or nothing.

mod quantities;
mod reading;
mod verdict;
mod words;

use crate::understanding::clause_split::Clause;
use crate::understanding::index::CatalogIndex;
use crate::understanding::matcher::Present;
use crate::understanding::text::{self, Kind, Token};

/// A quantity reading of one number of the clause.
#[derive(Debug, Clone)]
pub(crate) struct QtyOption {
    /// Clause positions consumed by the quantity.
    remove: Vec<usize>,
    value: i64,
    unit: Option<&'static str>,
    prior: f32,
    /// "um"/"uma": may be an article.
    article: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Found {
    pub entry: usize,
    pub qty: Option<(i64, Option<&'static str>)>,
    pub confidence: u8,
    pub text: String,
    pub context: Vec<u32>,
    pub plural: bool,
    /// The only name matched is the unit word that follows the amount ("2 rolos").
    pub unit_word_only: bool,
}

#[derive(Debug, Clone)]
pub(crate) enum Outcome {
    Found(Found),
    /// A product the catalog cannot quote (look-alike, vague amount, not sold), and the
    /// catalog words it was named with ("tem fio 6mm?": "fio"), the context for an
    /// alternative that follows ("se não tiver, 30 metros do de 4").
    Unknown(String, Vec<u32>),
    /// A quantity with no product ("12 barras", "são 15"). The flag marks one more piece
    /// of the product ("e 1 de 6 metros", "e outra de 6 metros"): it adds, never replaces.
    Dangling(i64, Option<&'static str>, bool),
    /// Catalog words that do not settle on one item ("tem telha eternit?"): they are the
    /// context for what follows ("12 da de 2,44").
    Mention(Vec<u32>),
    Nothing,
}

/// Count units that make a number before them a quantity.
pub(crate) fn is_count_unit(u: &str) -> bool {
    matches!(
        u,
        "saco"
            | "barra"
            | "lata"
            | "galao"
            | "rolo"
            | "balde"
            | "un"
            | "pc"
            | "milheiro"
            | "duzia"
            | "m3"
            | "m2"
            | "cx"
    )
}

/// Units a stated quantity can have (not l, mm, cm: those are sizes).
fn stated_unit(w: &str) -> Option<&'static str> {
    let u = text::canonical_unit(w)?;
    match u {
        "l" | "mm" | "cm" => None,
        other => Some(other),
    }
}

/// Clause word classes used by the decisions below.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WordRole {
    Known,
    Stop,
    Unit,
    Foreign,
    Number,
    Other,
}

/// One clause as the steps below see it: its tokens, what each word is, and every reading
/// of its numbers as the quantity.
struct ClauseView<'a> {
    index: &'a CatalogIndex,
    text: &'a str,
    cl: &'a Clause,
    ctoks: Vec<&'a Token>,
    roles: Vec<WordRole>,
    /// Catalog words found in the clause (typos included).
    present: Vec<Present>,
    /// The catalog token id of each clause position, if any.
    ids: Vec<Option<u32>>,
    /// The previous product's words and unit, for elliptical clauses.
    ctx: &'a [u32],
    ctx_unit: Option<&'static str>,
    /// A word the catalog does not know.
    has_foreign: bool,
    /// "2 galões da mesma", "mais 3 do mesmo": the product last named.
    back_ref: bool,
    /// The first option is "no number".
    options: Vec<QtyOption>,
    /// A unit word with no number ("o metro", "em galão").
    loose_unit: Option<&'static str>,
}

impl ClauseView<'_> {
    /// The original text of the clause's product words, without the positions in `skip`.
    fn content_text(&self, skip: &[usize]) -> String {
        words::span_text(self.text, &self.ctoks, &self.roles, skip)
    }
}

pub(crate) fn analyze_clause(
    index: &CatalogIndex,
    toks: &[Token],
    text: &str,
    cl: &Clause,
    ctx: &[u32],
    ctx_unit: Option<&'static str>,
) -> Outcome {
    let view = read_clause(index, toks, text, cl, ctx, ctx_unit);
    let readings = reading::best_readings(&view);
    verdict::decide(&view, readings)
}

/// Classifies the clause's words and lists its quantity readings; numbers of a purpose
/// phrase ("pra uma laje de 30 m²") are neither amounts nor sizes.
fn read_clause<'a>(
    index: &'a CatalogIndex,
    toks: &'a [Token],
    text: &'a str,
    cl: &'a Clause,
    ctx: &'a [u32],
    ctx_unit: Option<&'static str>,
) -> ClauseView<'a> {
    let ctoks: Vec<&Token> = cl.toks.iter().map(|i| &toks[*i]).collect();
    let (roles, mut present, mut ids) = words::classify_words(index, &ctoks);
    let has_foreign = roles.contains(&WordRole::Foreign);
    // "2 galões da mesma", "mais 3 do mesmo": the product last named, maybe in another
    // package, so the package word alone is enough to tell the item.
    let back_ref = !ctx.is_empty()
        && ctoks.windows(2).any(|w| {
            matches!(
                w[0].text.as_str(),
                "da" | "do" | "dessa" | "desse" | "na" | "no"
            ) && matches!(w[1].text.as_str(), "mesma" | "mesmo")
        });
    let mut options = quantities::quantity_options(text, &ctoks, &roles, ctx_unit);
    // "pra uma laje de 30 m²": a purpose, whose numbers are neither amounts nor sizes.
    if let Some(from) = words::purpose_start(&ctoks, &roles, &ids) {
        // "argamassa pra área externa 8 sacos": an amount with its unit (not a measure
        // after "de") ends the purpose and is the item's amount again.
        let end = (from..ctoks.len())
            .find(|p| {
                ctoks[*p].kind == Kind::Num
                    && !matches!(ctoks[p - 1].text.as_str(), "de" | "do" | "da")
                    && ctoks
                        .get(p + 1)
                        .is_some_and(|u| u.kind == Kind::Word && stated_unit(&u.text).is_some())
            })
            .unwrap_or(ctoks.len());
        let inside = |p: usize| p >= from && p < end;
        options.retain(|o| o.remove.iter().all(|p| !inside(*p)));
        present.retain(|p| !inside(p.pos) || roles[p.pos] != WordRole::Number);
        for (p, id) in ids.iter_mut().enumerate() {
            if inside(p) && roles[p] == WordRole::Number {
                *id = None;
            }
        }
    }
    // A unit word with no number ("o metro", "em galão") still says how it is sold.
    let loose_unit = ctoks.iter().enumerate().find_map(|(p, t)| {
        if t.kind != Kind::Word {
            return None;
        }
        let u = stated_unit(&t.text)?;
        let after_number = p > 0 && ctoks[p - 1].kind == Kind::Num;
        (!after_number).then_some(u)
    });

    ClauseView {
        index,
        text,
        cl,
        ctoks,
        roles,
        present,
        ids,
        ctx,
        ctx_unit,
        has_foreign,
        back_ref,
        options,
        loose_unit,
    }
}
