//! Reading one clause: which number is the quantity, which catalog item the rest names,
//! and whether the match must be refused (look-alikes, vague amounts, products not sold).

use crate::catalog::Unit;
use crate::money::QUANTITY_SCALE;

use super::clause_split::Clause;
use super::index::{CatalogIndex, TokClass};
use super::lexicon;
use super::matcher::{self, Candidate, Present};
use super::text::{self, Kind, Token};

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
    /// A product the catalog cannot quote (look-alike, vague amount, not sold).
    Unknown(String),
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

pub(crate) fn analyze_clause(
    index: &CatalogIndex,
    toks: &[Token],
    text: &str,
    cl: &Clause,
    ctx: &[u32],
    ctx_unit: Option<&'static str>,
) -> Outcome {
    let ctoks: Vec<&Token> = cl.toks.iter().map(|i| &toks[*i]).collect();
    let n = ctoks.len();
    let (roles, mut present, mut ids) = classify_words(index, &ctoks);
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
    let mut options = quantity_options(text, &ctoks, &roles, ctx_unit);
    // "pra uma laje de 30 m²": a purpose, whose numbers are neither amounts nor sizes.
    if let Some(from) = purpose_start(&ctoks, &roles, &ids) {
        options.retain(|o| o.remove.iter().all(|p| *p < from));
        present.retain(|p| p.pos < from || roles[p.pos] != WordRole::Number);
        for (p, id) in ids.iter_mut().enumerate() {
            if p >= from && roles[p] == WordRole::Number {
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

    let mut best_found: Option<(f32, usize, Candidate, bool, Option<f32>)> = None; // (total, option, cand, via ctx, second)
                                                                                   // A number with a unit and no product ("quero 2 metros") competes with products found
                                                                                   // only through the previous product's words.
    let mut best_dangling: Option<(f32, usize)> = None;
    // A number followed by a count unit ("10 barras") is an amount, never a size.
    let amount_pos: Vec<usize> = ctoks
        .iter()
        .enumerate()
        .filter(|(p, t)| {
            t.kind == Kind::Num
                && ctoks.get(p + 1).is_some_and(|nx| {
                    nx.kind == Kind::Word
                        && text::canonical_unit(&nx.text).is_some_and(is_count_unit)
                })
        })
        .map(|(p, _)| p)
        .collect();
    for (oi, opt) in options.iter().enumerate() {
        let pres: Vec<Present> = present
            .iter()
            .filter(|p| !opt.remove.contains(&p.pos) && !amount_pos.contains(&p.pos))
            .copied()
            .collect();
        let unit = match opt.unit {
            Some("length") => Some("m"),
            Some(u) => Some(u),
            None => loose_unit,
        };
        let (own, second) = matcher::best(index, &pres, unit);
        let own_ok = own.as_ref().is_some_and(|c| {
            acceptable(index, c, &ctoks, &roles, &ids, opt, second)
                && c.num_conflicts == 0
                && c.word_conflicts == 0
                && !c.phrase.iter().all(|id| index.class(*id) == TokClass::Unit)
        });
        let mut choice = own.map(|c| (c, false, second));
        if !own_ok && !has_foreign && !ctx.is_empty() {
            // Elliptical clause ("2 de 50", "1 de acrílica"): add the previous product's
            // head word (then all its words) and its unit, and keep a clean full match.
            let carried_unit = unit.or(ctx_unit);
            let variants: [&[u32]; 2] = [&ctx[..1], ctx];
            for (vi, words) in variants.iter().enumerate() {
                if vi == 1 && ctx.len() == 1 {
                    break;
                }
                let mut with_ctx = pres.clone();
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
                    .filter(|_| opt.unit.is_none() && loose_unit.is_none())
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
                    let adds =
                        back_ref || c2.explained_pos.iter().any(|p| roles[*p] != WordRole::Unit);
                    // With no amount in the clause, a bare integer is more likely the amount
                    // ("melhor 8") than a size; sizes look like "1,83", "3/8", "de 50", "4mm".
                    // In "tem joelho 25? e 20?" the bare integer asks for another size.
                    let sizes_ok = !opt.remove.is_empty()
                        || cl.asks_product
                        || c2
                            .explained_pos
                            .iter()
                            .all(|p| roles[*p] != WordRole::Number || size_like(&ctoks, *p));
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
                        choice = Some((c2, true, s2));
                        break;
                    }
                }
            }
        }
        // "1 lona de 4 metros" for an item sold by the metre: the metres are the length
        // of the piece (read by the "length" option), not a size of the item.
        if let Some((c, _, _)) = &choice {
            let by_metre = index.entries[c.entry].unit == Unit::M;
            let length_read = options.iter().any(|o| {
                o.unit == Some("length") && o.remove.iter().any(|p| c.explained_pos.contains(p))
            });
            if by_metre && opt.unit != Some("length") && length_read {
                continue;
            }
        }
        match choice {
            Some((c, via, s)) => {
                let ok = via || acceptable(index, &c, &ctoks, &roles, &ids, opt, s);
                let total = opt.prior + c.score + if ok { 0.0 } else { -50.0 };
                if best_found
                    .as_ref()
                    .is_none_or(|(bt, _, _, _, _)| total > *bt)
                {
                    best_found = Some((total, oi, c, via, s));
                }
            }
            None => {
                if oi > 0 && best_dangling.is_none_or(|(bt, _)| opt.prior > bt) {
                    best_dangling = Some((opt.prior, oi));
                }
            }
        }
    }

    let content_text = |skip_pos: &[usize]| -> String { span_text(text, &ctoks, &roles, skip_pos) };

    let dangling_beats = match (&best_found, best_dangling) {
        (Some((total, _, _, via, _)), Some((prior, oi))) => {
            *via && options[oi].unit.is_some() && prior - 0.5 > *total
        }
        _ => false,
    };
    let rejected = best_found.as_ref().is_some_and(|(t, ..)| *t <= -20.0);
    // Why it was refused: a look-alike (an attribute the item lacks), or catalog words that
    // are not the item's own name ("chuveiro" of "fio de chuveiro").
    let refused_product = best_found.as_ref().is_some_and(|(t, _, c, _, _)| {
        let entry = &index.entries[c.entry];
        let no_head = !(0..n).any(|p| {
            roles[p] == WordRole::Known && ids[p].is_some_and(|id| index.is_head(entry, id))
        });
        // A word the item does not have right after its name ("bloco de concreto estrutural").
        let modified = (1..n).any(|p| {
            matches!(roles[p], WordRole::Foreign | WordRole::Known)
                && !c.explained_pos.contains(&p)
                && c.explained_pos.contains(&(p - 1))
        });
        *t <= -20.0 && (c.num_conflicts > 0 || c.word_conflicts > 0 || no_head || modified)
    });
    // "umas barras de ferro", "algumas telhas": no amount a person can quote.
    let vague_here = ctoks.iter().enumerate().any(|(p, t)| {
        lexicon::is_vague(&t.text)
            || t.is_word("uns") && ctoks.get(p + 1).is_some_and(|nx| nx.kind != Kind::Num)
    });
    let asks_for_product = cl.asks_product;
    if let Some((total, oi, c, via, second)) = best_found.filter(|_| !dangling_beats) {
        let opt = &options[oi];
        if total > -20.0 {
            // Look-alike traps: the customer named an attribute this item does not have.
            let entry = &index.entries[c.entry];
            let foreign_after = roles.iter().enumerate().any(|(p, r)| {
                *r == WordRole::Foreign
                    && p > 0
                    && c.explained_pos.contains(&(p - 1))
                    && roles[p - 1] == WordRole::Known
            });
            // "fita crepe": a catalog word the winner does not explain, followed by a word
            // the catalog does not know, names some other product.
            let other_product = roles.iter().enumerate().any(|(p, r)| {
                *r == WordRole::Known
                    && !c.explained_pos.contains(&p)
                    && roles.get(p + 1) == Some(&WordRole::Foreign)
            });
            // "cimento cola": another product's name right next to this one.
            let explained = |p: usize| c.explained_pos.contains(&p);
            let second_head = (0..n).any(|p| {
                roles[p] == WordRole::Known
                    && !explained(p)
                    && ids[p].is_some_and(|id| {
                        index.class(id) == TokClass::Word
                            && index.any_head[id as usize]
                            && !index.knows(entry, id)
                    })
                    && (p > 0 && explained(p - 1)
                        || explained(p + 1)
                        || p > 1 && ctoks[p - 1].is_word("de") && explained(p - 2))
            });
            // "caixa d'água 750", "cimento 42kg": a size no catalog item has, right after
            // the product's words.
            let foreign_size = (0..n).any(|p| {
                matches!(ctoks[p].kind, Kind::Num | Kind::Frac)
                    && ids[p].is_none()
                    && !opt.remove.contains(&p)
                    && !(ctoks[p].kind == Kind::Frac && ctoks[p].den > 16)
                    && !ctoks.get(p + 1).is_some_and(|nx| {
                        nx.kind == Kind::Word && lexicon::is_non_goods_unit(&nx.text)
                    })
                    && (p > 0 && explained(p - 1) && roles[p - 1] == WordRole::Known
                        || p > 1
                            && ctoks[p - 1].is_word("de")
                            && explained(p - 2)
                            && roles[p - 2] == WordRole::Known)
            });
            let unit_only = !c.phrase.is_empty()
                && c.phrase.iter().all(|id| index.class(*id) == TokClass::Unit)
                && roles.iter().enumerate().any(|(p, r)| {
                    matches!(r, WordRole::Known | WordRole::Foreign)
                        && !c.explained_pos.contains(&p)
                });
            let trap = other_product
                || second_head
                || foreign_size
                || unit_only
                || c.num_conflicts > 0
                || c.word_conflicts > 0
                || foreign_after
                || (c.unit_conflict && !c.attr_matched);
            if trap {
                let t = content_text(&opt.remove);
                return if t.is_empty() {
                    Outcome::Nothing
                } else {
                    Outcome::Unknown(t)
                };
            }
            let container = opt
                .remove
                .first()
                .and_then(|p| ctoks.get(p + 1))
                .is_some_and(|t| lexicon::is_container(&t.text));
            if container {
                let t = content_text(&opt.remove);
                return if t.is_empty() {
                    Outcome::Nothing
                } else {
                    Outcome::Unknown(t)
                };
            }
            let plural = opt.remove.is_empty()
                && c.explained_pos.iter().any(|p| {
                    ctoks[*p].plural
                        && roles[*p] == WordRole::Known
                        && index
                            .id(&ctoks[*p].text)
                            .is_some_and(|id| entry.heads.contains(&id))
                });
            let mut conf: i32 = 95;
            if c.fuzzy {
                conf -= 15;
            }
            if !c.full {
                conf -= 30;
            }
            if via {
                conf -= 10;
            }
            if second.is_some_and(|s| s > c.score - 0.5) {
                conf -= 10;
            }
            if opt.remove.is_empty() {
                conf -= 5;
            }
            // Words and sizes that named this product, for an elliptical next clause
            // ("3 tubos de 25 e 10 joelhos": the joelhos are 25 too).
            let mut context: Vec<u32> = c
                .phrase
                .iter()
                .copied()
                .filter(|id| index.class(*id) == TokClass::Word)
                .collect();
            for p in &c.explained_pos {
                if let Some(id) = ids[*p] {
                    if index.class(id) != TokClass::Unit && !context.contains(&id) {
                        context.push(id);
                    }
                }
            }
            let qty = if opt.remove.is_empty() {
                None
            } else if opt.unit == Some("length") {
                // Metres, so that "e outra de 3" after it is read as metres too.
                Some((opt.value, Some("m")))
            } else {
                Some((opt.value, opt.unit))
            };
            return Outcome::Found(Found {
                entry: c.entry,
                qty,
                confidence: conf.clamp(1, 100) as u8,
                text: content_text(&opt.remove),
                context,
                plural,
                unit_word_only: c.phrase.iter().all(|id| index.class(*id) == TokClass::Unit)
                    && opt.unit.is_some(),
            });
        }
    }

    // No catalog item: an unknown product, or a quantity for an earlier product.
    let product_pos = first_foreign_in_product_position(&ctoks, &roles, &options);
    let has_qty = options.len() > 1;
    // Catalog words that match nothing clearly ("500 telhas coloniais": which telha?)
    // with an amount: a person must look.
    if rejected
        && (has_qty || cl.bullet || asks_for_product && refused_product || vague_here)
        && !dangling_beats
    {
        let remove: Vec<usize> = best_dangling
            .map(|(_, oi)| options[oi].remove.clone())
            .unwrap_or_default();
        let t = content_text(&remove);
        if !t.is_empty() && roles.contains(&WordRole::Known) {
            return Outcome::Unknown(t);
        }
    }
    if has_foreign && (product_pos || cl.bullet || cl.asks_product) {
        let remove: Vec<usize> = best_dangling
            .map(|(_, oi)| options[oi].remove.clone())
            .unwrap_or_default();
        let t = content_text(&remove);
        if !t.is_empty() {
            return Outcome::Unknown(t);
        }
    }
    if let Some((_, oi)) = best_dangling {
        let opt = &options[oi];
        // "só uma", "apenas 1": a restriction of the amount, even with an article.
        let restrict = ctoks
            .iter()
            .any(|t| matches!(t.text.as_str(), "so" | "somente" | "apenas"));
        if opt.article
            && opt.unit.is_none()
            && restrict
            && roles
                .iter()
                .all(|r| !matches!(r, WordRole::Known | WordRole::Foreign))
        {
            return Outcome::Dangling(opt.value, None, false);
        }
        let words_only_numbers = roles
            .iter()
            .all(|r| !matches!(r, WordRole::Known | WordRole::Foreign));
        if (opt.unit.is_some() || words_only_numbers)
            && !(opt.article && opt.unit.is_none())
            && has_qty
        {
            let pieces = opt.unit == Some("length");
            let unit = if pieces { Some("m") } else { opt.unit };
            return Outcome::Dangling(opt.value, unit, pieces);
        }
    }
    if rejected && !has_qty {
        let words: Vec<u32> = (0..n)
            .filter(|p| roles[*p] == WordRole::Known)
            .filter_map(|p| ids[p])
            .filter(|id| index.class(*id) == TokClass::Word)
            .collect();
        if !words.is_empty() {
            return Outcome::Mention(words);
        }
    }
    Outcome::Nothing
}

fn next_is_unit_word(next: Option<&&Token>) -> bool {
    next.is_some_and(|nx| nx.kind == Kind::Word && text::canonical_unit(&nx.text).is_some())
}

/// Does the number at `p` read as a size rather than an amount?
fn size_like(ctoks: &[&Token], p: usize) -> bool {
    let t = ctoks[p];
    let prev_de = p > 0 && matches!(ctoks[p - 1].text.as_str(), "de" | "da" | "do");
    let next_size = ctoks.get(p + 1).is_some_and(|n| {
        n.kind == Kind::Word
            && matches!(
                text::canonical_unit(&n.text),
                Some("mm" | "cm" | "l" | "kg")
            )
    });
    t.kind == Kind::Frac || t.value % QUANTITY_SCALE != 0 || prev_de || next_size
}

fn after_pra(ctoks: &[&Token], p: usize) -> bool {
    p > 0 && matches!(ctoks[p - 1].text.as_str(), "pra" | "para" | "pro" | "p")
}

/// Is a partial or tied match good enough to quote?
fn acceptable(
    index: &CatalogIndex,
    c: &Candidate,
    ctoks: &[&Token],
    roles: &[WordRole],
    ids: &[Option<u32>],
    opt: &QtyOption,
    second: Option<f32>,
) -> bool {
    if second.is_some_and(|s| s >= c.score - 0.05) {
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

fn first_foreign_in_product_position(
    ctoks: &[&Token],
    roles: &[WordRole],
    options: &[QtyOption],
) -> bool {
    let first_content = roles
        .iter()
        .position(|r| matches!(r, WordRole::Known | WordRole::Foreign));
    let Some(fc) = first_content else {
        return false;
    };
    if roles[fc] != WordRole::Foreign {
        return false;
    }
    // Right after a quantity (and its unit / "de"), or opening the clause with a quantity
    // somewhere in it ("Pá de bico: 2").
    let after_qty = options.iter().skip(1).any(|o| {
        let last = *o.remove.iter().max().unwrap_or(&0);
        let mut k = last + 1;
        while k < ctoks.len()
            && (ctoks[k].is_word("de")
                || ctoks[k].is_word("do")
                || ctoks[k].is_word("da")
                || roles[k] == WordRole::Unit)
        {
            k += 1;
        }
        k == fc
    });
    let opens = options.len() > 1
        && roles[..fc]
            .iter()
            .all(|r| matches!(r, WordRole::Stop | WordRole::Other));
    after_qty || opens
}

/// The original text of the clause's product words, without the quantity.
fn span_text(text: &str, ctoks: &[&Token], roles: &[WordRole], skip: &[usize]) -> String {
    let keep = |p: usize| -> bool {
        !skip.contains(&p)
            && matches!(
                roles[p],
                WordRole::Known | WordRole::Foreign | WordRole::Number | WordRole::Unit
            )
            && !(roles[p] == WordRole::Unit && p > 0 && skip.contains(&(p - 1)))
    };
    let first = (0..ctoks.len())
        .find(|p| keep(*p) && roles[*p] != WordRole::Unit && roles[*p] != WordRole::Number);
    let last = (0..ctoks.len()).rev().find(|p| keep(*p));
    match (first, last) {
        (Some(a), Some(b)) if a <= b => {
            let s = ctoks[a].start;
            let e = ctoks[b].end;
            text.get(s..e).unwrap_or("").trim().to_string()
        }
        _ => String::new(),
    }
}

/// Classifies each clause token (catalog word, unit, stop word, unknown word, number) and
/// resolves catalog words, typos included, to token ids.
fn classify_words(
    index: &CatalogIndex,
    ctoks: &[&Token],
) -> (Vec<WordRole>, Vec<Present>, Vec<Option<u32>>) {
    let n = ctoks.len();
    let mut present: Vec<Present> = Vec::new();
    let mut roles: Vec<WordRole> = Vec::with_capacity(n);
    for (p, t) in ctoks.iter().enumerate() {
        let role = match t.kind {
            Kind::Word
                if t.text == "forma"
                    && ctoks.get(p + 2).is_some_and(|n| {
                        matches!(n.text.as_str(), "pagamento" | "pgto" | "pagto")
                    }) =>
            {
                WordRole::Stop
            }
            Kind::Word => {
                let w = t.text.as_str();
                if let Some(id) = index.id(w) {
                    if index.class(id) == TokClass::Unit {
                        present.push(Present {
                            id,
                            pos: p,
                            fuzzy: false,
                            purpose: after_pra(ctoks, p),
                        });
                        WordRole::Unit
                    } else if lexicon::is_stopword(w)
                        && (w.len() <= 2 && w != "la" || !index.any_head[id as usize])
                    {
                        // "obra" of "carrinho de obra" is still a chat word in "pra uma obra".
                        WordRole::Stop
                    } else {
                        present.push(Present {
                            id,
                            pos: p,
                            fuzzy: false,
                            purpose: after_pra(ctoks, p),
                        });
                        WordRole::Known
                    }
                } else if text::canonical_unit(w).is_some() {
                    WordRole::Unit
                } else if lexicon::is_stopword(w)
                    || lexicon::is_chat_word(w)
                    || lexicon::is_vague(w)
                    || lexicon::is_non_goods_unit(w)
                {
                    WordRole::Stop
                } else if lexicon::is_harmless_modifier(w) {
                    WordRole::Other
                } else if let Some(id) = index.fuzzy(w) {
                    present.push(Present {
                        id,
                        pos: p,
                        fuzzy: true,
                        purpose: after_pra(ctoks, p),
                    });
                    WordRole::Known
                } else if lexicon::is_harmless_modifier(w) || w.chars().count() < 2 {
                    WordRole::Other
                } else {
                    WordRole::Foreign
                }
            }
            Kind::Num | Kind::Frac => {
                if let Some(id) = index.id(&t.text) {
                    present.push(Present {
                        id,
                        pos: p,
                        fuzzy: false,
                        purpose: after_pra(ctoks, p),
                    });
                }
                WordRole::Number
            }
            _ => WordRole::Other,
        };
        roles.push(role);
    }
    let mut ids: Vec<Option<u32>> = vec![None; n];
    for p in &present {
        ids[p.pos] = Some(p.id);
    }

    // "um"/"uma" before the product is an article, never a size ("brita um" is).
    let first_known = roles
        .iter()
        .position(|r| *r == WordRole::Known)
        .unwrap_or(n);
    // Also right before any other word ("pra fazer uma laje"): a size written as a word
    // ends the product's name ("brita um").
    let article = |p: usize| {
        let t = ctoks[p];
        t.from_word
            && t.value == QUANTITY_SCALE
            && (p < first_known
                || ctoks.get(p + 1).is_some_and(|n| {
                    n.kind == Kind::Word
                        && !matches!(n.text.as_str(), "de" | "do" | "da")
                        && roles.get(p + 1) != Some(&WordRole::Unit)
                }))
    };
    present.retain(|p| !article(p.pos));
    for (p, id) in ids.iter_mut().enumerate() {
        if article(p) {
            *id = None;
        }
    }
    (roles, present, ids)
}

/// Every reading of a number of the clause as the quantity, with a prior from where it
/// stands; the first option is "no number".
fn quantity_options(
    text: &str,
    ctoks: &[&Token],
    roles: &[WordRole],
    ctx_unit: Option<&'static str>,
) -> Vec<QtyOption> {
    let mut options: Vec<QtyOption> = vec![QtyOption {
        remove: Vec::new(),
        value: 0,
        unit: None,
        prior: 0.0,
        article: false,
    }];
    let first_content = roles
        .iter()
        .position(|r| matches!(r, WordRole::Known | WordRole::Foreign | WordRole::Number));
    for (p, t) in ctoks.iter().enumerate() {
        let next = ctoks.get(p + 1);
        // "1/2 metro de areia": a fraction with a unit is an amount.
        if t.kind == Kind::Frac {
            let unit = next
                .filter(|nx| nx.kind == Kind::Word)
                .and_then(|nx| stated_unit(&nx.text));
            if let Some(u) = unit.filter(|_| t.den > 0 && t.value < t.den && t.den <= 4) {
                options.push(QtyOption {
                    remove: vec![p],
                    value: t.value * QUANTITY_SCALE / t.den,
                    unit: Some(u),
                    prior: 4.5,
                    article: false,
                });
            }
            continue;
        }
        if t.kind != Kind::Num {
            continue;
        }
        // "15 de janeiro" is a date.
        if next.is_some_and(|nx| nx.is_word("de"))
            && ctoks
                .get(p + 2)
                .is_some_and(|m| m.text.len() > 3 && lexicon::month(&m.text).is_some())
        {
            continue;
        }
        // "36,90": money, not an amount of goods.
        let raw = text.get(t.start..t.end).unwrap_or("");
        let cents_like = raw.rsplit_once(',').is_some_and(|(_, d)| d.len() == 2)
            && t.value >= 5 * QUANTITY_SCALE;
        if cents_like && !next_is_unit_word(next) {
            continue;
        }
        // Phone numbers and the like: five digits or more with no unit.
        let next_is_unit = next
            .is_some_and(|nx| nx.kind == Kind::Word && text::canonical_unit(&nx.text).is_some());
        if t.value >= 10_000 * QUANTITY_SCALE && !next_is_unit && !t.from_word {
            continue;
        }
        // "11 99999-8888": an area code before a phone number.
        if next.is_some_and(|nx| nx.kind == Kind::Num && nx.value >= 10_000 * QUANTITY_SCALE) {
            continue;
        }
        let prev = if p > 0 { Some(ctoks[p - 1]) } else { None };
        // "2x cimento" is an amount; "3x no cartão" is not.
        let times_product = next.is_some_and(|nx| nx.is_word("x"))
            && roles.get(p + 2).is_some_and(|r| *r == WordRole::Known);
        if !times_product
            && next.is_some_and(|nx| nx.kind == Kind::Word && lexicon::is_non_goods_unit(&nx.text))
            || prev.is_some_and(|pv| pv.is_punct('$') || pv.is_word("r"))
        {
            continue;
        }
        // "4 mm", "30 cm": sizes, never amounts.
        if next.is_some_and(|nx| {
            nx.kind == Kind::Word && matches!(text::canonical_unit(&nx.text), Some("mm" | "cm"))
        }) {
            continue;
        }
        let next_unit = next.and_then(|nx| {
            if nx.kind == Kind::Word {
                text::canonical_unit(&nx.text)
            } else {
                None
            }
        });
        let mut prior = 0.5f32;
        let mut unit = None;
        match next_unit {
            Some(u) if is_count_unit(u) => {
                prior += 2.5;
                unit = Some(u);
            }
            Some("m") | Some("kg") => {
                prior += 2.0;
                unit = stated_unit(&next.map(|t| t.text.clone()).unwrap_or_default());
            }
            Some(_) => prior -= 3.0,
            None => {}
        }
        if times_product {
            prior += 2.5;
        } else if next
            .is_some_and(|nx| matches!(nx.text.as_str(), "furo" | "x" | "polegada" | "pol"))
        {
            prior -= 3.0;
        }
        // "45x45" is a size; "cimento x 15" is an amount.
        if prev.is_some_and(|pv| pv.is_word("x")) {
            if p >= 2 && matches!(ctoks[p - 2].kind, Kind::Num | Kind::Frac) {
                prior -= 4.0;
            } else {
                prior += 1.5;
            }
        }
        if first_content == Some(p) {
            prior += 2.0;
        }
        if prev.is_some_and(|pv| pv.is_punct(':') || pv.is_punct('-')) {
            prior += 1.5;
        }
        if prev.is_some_and(|pv| pv.is_word("de")) && first_content != Some(p) {
            prior -= 1.5;
        }
        let article = t.from_word && t.value == QUANTITY_SCALE;
        // "um muro", "uma obra": an article before a word that is no product.
        if article
            && !next.is_some_and(|nx| {
                roles.get(p + 1).is_some_and(|r| {
                    matches!(r, WordRole::Known | WordRole::Unit | WordRole::Foreign)
                }) || nx.is_word("de")
            })
        {
            prior -= 2.0;
        }
        // Only the number is consumed: the unit word still helps to tell items apart
        // ("2 rolos de fio 2,5" is the rolo SKU; "um rolo" is the paint roller).
        let remove = vec![p];
        options.push(QtyOption {
            remove,
            value: t.value,
            unit,
            prior,
            article,
        });
    }
    // "1 lona de 10 metros": pieces of a given length.
    let mut extra = Vec::new();
    for a in options.iter().skip(1) {
        if a.unit.is_some() {
            continue;
        }
        for b in options.iter().skip(1) {
            // "e outra de 3" right after metres: the unit carries over.
            let metres = b.unit == Some("m")
                || b.unit.is_none() && ctx_unit == Some("m") && b.remove[0] + 1 == ctoks.len();
            if metres
                && b.remove[0] > a.remove[0]
                && b.remove[0] > 0
                && ctoks[b.remove[0] - 1].is_word("de")
            {
                let mut remove = a.remove.clone();
                remove.extend(b.remove.iter().copied());
                let v = (a.value as i128 * b.value as i128 / QUANTITY_SCALE as i128)
                    .min(i64::MAX as i128) as i64;
                extra.push(QtyOption {
                    remove,
                    value: v,
                    unit: Some("length"),
                    prior: a.prior + 0.5,
                    article: false,
                });
            }
        }
    }
    options.extend(extra);
    options
}

/// Where a purpose phrase starts: "pra"/"para" followed (after an article) by a word that
/// names no product ("pra uma laje de 30 m²", "para o muro").
fn purpose_start(ctoks: &[&Token], roles: &[WordRole], ids: &[Option<u32>]) -> Option<usize> {
    (0..ctoks.len()).find(|p| {
        matches!(ctoks[*p].text.as_str(), "pra" | "para" | "pro") && {
            let mut k = p + 1;
            while k < ctoks.len()
                && (matches!(ctoks[k].text.as_str(), "o" | "a" | "os" | "as" | "uns")
                    || ctoks[k].from_word && ctoks[k].value == QUANTITY_SCALE)
            {
                k += 1;
            }
            // With an article any chat word or word the catalog does not know opens it
            // ("pra uma laje", "pra uma viga"); without one, only a
            // word the catalog does not use ("areia pra reboco 2 metros" is a variant).
            let chat = |k: usize| {
                roles[k] != WordRole::Foreign
                    && lexicon::is_chat_word(&ctoks[k].text)
                    && !lexicon::is_stopword(&ctoks[k].text)
            };
            k < ctoks.len()
                && ctoks[k].kind == Kind::Word
                && (k > p + 1 && (chat(k) || roles[k] == WordRole::Foreign)
                    || k == p + 1 && ids[k].is_none() && chat(k))
        }
    })
}
