//! Comparing the readings of one clause: for each quantity reading, the catalog item the rest
//! of the clause names best, through the clause's own words or, for an elliptical clause
//! ("2 de 50", "1 de acrílica"), with the previous product's words added.

use crate::catalog::Unit;
use crate::understanding::index::TokClass;
use crate::understanding::matcher::{self, Candidate, Present};
use crate::understanding::text::{self, Kind};

use super::quantities::size_like;
use super::{is_count_unit, ClauseView, QtyOption, WordRole};

/// The best item reading of a clause.
pub(super) struct Reading {
    /// The option's prior plus the match score, −50 when the match is not acceptable.
    pub total: f32,
    /// Index into the clause's quantity options.
    pub option: usize,
    pub cand: Candidate,
    /// Found only with the previous product's words.
    pub via_context: bool,
    /// The runner-up's score.
    pub second: Option<f32>,
}

/// The best item reading, and the best reading of a number with no product ("quero 2
/// metros": (prior, option)), which competes with products found only through the previous
/// product's words.
pub(super) struct Readings {
    pub found: Option<Reading>,
    pub dangling: Option<(f32, usize)>,
}

pub(super) fn best_readings(v: &ClauseView) -> Readings {
    let index = v.index;
    let mut best_found: Option<Reading> = None;
    let mut best_dangling: Option<(f32, usize)> = None;
    let amount_pos = amount_positions(v);
    for (oi, opt) in v.options.iter().enumerate() {
        let pres: Vec<Present> = v
            .present
            .iter()
            .filter(|p| !opt.remove.contains(&p.pos) && !amount_pos.contains(&p.pos))
            .copied()
            .collect();
        let unit = match opt.unit {
            Some("length") => Some("m"),
            Some(u) => Some(u),
            None => v.loose_unit,
        };
        let (own, second) = matcher::best(index, &pres, unit);
        let own_ok = own.as_ref().is_some_and(|c| {
            acceptable(v, c, opt, second)
                && c.num_conflicts == 0
                && c.word_conflicts == 0
                && !c.phrase.iter().all(|id| index.class(*id) == TokClass::Unit)
        });
        let mut choice = own.map(|c| (c, false, second));
        if !own_ok && !v.has_foreign && !v.ctx.is_empty() {
            if let Some(through_context) = reading_through_context(v, opt, &pres, unit) {
                choice = Some(through_context);
            }
        }
        if let Some((c, _, _)) = &choice {
            if length_read_elsewhere(v, opt, c) {
                continue;
            }
        }
        match choice {
            Some((c, via, s)) => {
                let ok = via || acceptable(v, &c, opt, s);
                let total = opt.prior + c.score + if ok { 0.0 } else { -50.0 };
                if best_found.as_ref().is_none_or(|b| total > b.total) {
                    best_found = Some(Reading {
                        total,
                        option: oi,
                        cand: c,
                        via_context: via,
                        second: s,
                    });
                }
            }
            None => {
                if oi > 0 && best_dangling.is_none_or(|(bt, _)| opt.prior > bt) {
                    best_dangling = Some((opt.prior, oi));
                }
            }
        }
    }
    Readings {
        found: best_found,
        dangling: best_dangling,
    }
}

/// "porcelanato 80x80" against "Porcelanato polido 60x60": the clause names a size written
/// as a dimension (`N x M`) that the item does not have, while the item is sold by sizes of
/// its own. The item would be a different product at another price: not taken (the clause
/// stays an unknown product for the store to see).
fn other_size(v: &ClauseView, c: &Candidate) -> bool {
    let (index, ctoks) = (v.index, &v.ctoks);
    let entry = &index.entries[c.entry];
    let sized = entry
        .vocab
        .iter()
        .any(|id| index.class(*id) == TokClass::Number);
    if !sized {
        return false;
    }
    // A dimension is number, "x", number, and it names another size when neither side is a
    // size of this item: "bloco 14 x 100" and "ferro 8 x 30" are a size and an amount.
    let num = |p: usize| ctoks.get(p).is_some_and(|t| t.kind == Kind::Num);
    let known = |p: usize| {
        index
            .id(&ctoks[p].text)
            .is_some_and(|id| index.knows(entry, id))
    };
    (2..ctoks.len())
        .any(|p| num(p) && ctoks[p - 1].is_word("x") && num(p - 2) && !known(p) && !known(p - 2))
}

/// A number followed by a count unit ("10 barras") is an amount, never a size.
fn amount_positions(v: &ClauseView) -> Vec<usize> {
    v.ctoks
        .iter()
        .enumerate()
        .filter(|(p, t)| {
            t.kind == Kind::Num
                && v.ctoks.get(p + 1).is_some_and(|nx| {
                    nx.kind == Kind::Word
                        && text::canonical_unit(&nx.text).is_some_and(is_count_unit)
                })
        })
        .map(|(p, _)| p)
        .collect()
}

/// Elliptical clause ("2 de 50", "1 de acrílica"): add the previous product's head word
/// (then all its words) and its unit, and keep a clean full match.
fn reading_through_context(
    v: &ClauseView,
    opt: &QtyOption,
    pres: &[Present],
    unit: Option<&'static str>,
) -> Option<(Candidate, bool, Option<f32>)> {
    let (index, ctx, ctoks, roles, ids) = (v.index, v.ctx, &v.ctoks, &v.roles, &v.ids);
    let carried_unit = unit.or(v.ctx_unit);
    let variants: [&[u32]; 2] = [&ctx[..1], ctx];
    for (vi, words) in variants.iter().enumerate() {
        if vi == 1 && ctx.len() == 1 {
            break;
        }
        let mut with_ctx = pres.to_vec();
        for id in words.iter() {
            if !with_ctx.iter().any(|p| p.id == *id) {
                with_ctx.push(Present {
                    id: *id,
                    pos: usize::MAX,
                    fuzzy: false,
                    purpose: false,
                });
            }
        }
        if let Some(uid) = carried_unit
            .filter(|_| opt.unit.is_none() && v.loose_unit.is_none())
            .and_then(|u| index.id(u))
        {
            if !with_ctx.iter().any(|p| p.id == uid) {
                with_ctx.push(Present {
                    id: uid,
                    pos: usize::MAX,
                    fuzzy: false,
                    purpose: false,
                });
            }
        }
        let (c2, s2) = matcher::best(index, &with_ctx, carried_unit);
        if let Some(c2) = c2 {
            // The clause must add something of its own (a size, a variant word): a
            // bare "15 sacos" is a quantity for an earlier product, not a new one.
            let adds = v.back_ref || c2.explained_pos.iter().any(|p| roles[*p] != WordRole::Unit);
            // With no amount in the clause, a bare integer is more likely the amount
            // ("melhor 8") than a size; sizes look like "1,83", "3/8", "de 50", "4mm".
            // In "tem joelho 25? e 20?" the bare integer asks for another size.
            let sizes_ok = !opt.remove.is_empty()
                || v.cl.asks_product
                || c2
                    .explained_pos
                    .iter()
                    .all(|p| roles[*p] != WordRole::Number || size_like(ctoks, *p));
            // In "10 tomadas" after "caixinha 4x2", "tomada" comes only from the
            // alias "caixa de tomada", where it follows "de": a noun that names a
            // product of its own. "3 de tomada" (with "de") does leave the head
            // out, so it may borrow it.
            let entry2 = &index.entries[c2.entry];
            let own_words_fit = c2.explained_pos.iter().all(|p| {
                roles.get(*p) != Some(&WordRole::Known)
                    || *p > 0 && ctoks[*p - 1].is_word("de")
                    || ids[*p].is_none_or(|id| !index.is_complement(entry2, id))
            });
            let clean = c2.num_conflicts == 0
                && c2.word_conflicts == 0
                && adds
                && sizes_ok
                && own_words_fit;
            let loose_ok = !c2.full
                && index.knows(&index.entries[c2.entry], ctx[0])
                && s2.is_none_or(|s| s < c2.score - 0.3)
                && roles
                    .iter()
                    .enumerate()
                    .all(|(p, r)| *r != WordRole::Known || c2.explained_pos.contains(&p));
            if clean
                && (c2.full || loose_ok)
                && (s2.is_none_or(|s| s < c2.score - 0.05) || opt.remove.is_empty())
            {
                return Some((c2, true, s2));
            }
        }
    }
    None
}

/// "1 lona de 4 metros" for an item sold by the metre: the metres are the length of the
/// piece (read by the "length" option), not a size of the item, so this reading is skipped.
fn length_read_elsewhere(v: &ClauseView, opt: &QtyOption, c: &Candidate) -> bool {
    let by_metre = v.index.entries[c.entry].unit == Unit::M;
    let length_read = v
        .options
        .iter()
        .any(|o| o.unit == Some("length") && o.remove.iter().any(|p| c.explained_pos.contains(p)));
    by_metre && opt.unit != Some("length") && length_read
}

/// Is a partial or tied match good enough to quote?
fn acceptable(v: &ClauseView, c: &Candidate, opt: &QtyOption, second: Option<f32>) -> bool {
    let (index, ctoks, roles, ids) = (v.index, &v.ctoks, &v.roles, &v.ids);
    if second.is_some_and(|s| s >= c.score - 0.05) {
        return false;
    }
    if other_size(v, c) {
        return false;
    }
    if c.full {
        return true;
    }
    // Loose match: every product word of the clause must belong to the item, and one of
    // them must be a word the item's names start with ("cola" of "cola pvc"; "chuveiro" of
    // "fio de chuveiro" is not enough).
    let entry = &index.entries[c.entry];
    // "15 barras de 3/8": no product word, but a size only one item has, sold in the unit
    // the customer named.
    let no_words = !roles
        .iter()
        .enumerate()
        .any(|(p, r)| !opt.remove.contains(&p) && matches!(r, WordRole::Known | WordRole::Foreign));
    // "1 de 3 metros" is one piece of 3 metres, not "brita 1": a bare integer before "de"
    // is an amount, and sizes look like sizes.
    let sizes_ok = c
        .explained_pos
        .iter()
        .all(|p| roles.get(*p) != Some(&WordRole::Number) || size_like(ctoks, *p));
    if no_words
        && sizes_ok
        && c.unit_ok
        && c.attr_matched
        && second.is_none_or(|s| s < c.score - 0.3)
    {
        return true;
    }
    let mut head_explained = false;
    for (p, r) in roles.iter().enumerate() {
        if opt.remove.contains(&p) {
            continue;
        }
        match r {
            WordRole::Known => {
                if c.explained_pos.contains(&p) {
                    head_explained |= ids[p].is_some_and(|id| index.is_head(entry, id));
                } else {
                    return false;
                }
            }
            WordRole::Foreign => return false,
            _ => {}
        }
    }
    head_explained
}
