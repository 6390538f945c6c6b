//! What the winning reading of a clause becomes: an item with its confidence, an honest
//! unknown (look-alikes, containers, vague amounts, products not sold), a quantity for an
//! earlier product, catalog words that are context for what follows, or nothing.

use crate::understanding::index::TokClass;
use crate::understanding::lexicon;
use crate::understanding::text::Kind;

use super::reading::{Reading, Readings};
use super::words::first_foreign_in_product_position;
use super::{ClauseView, Found, Outcome, QtyOption, WordRole};

/// A total at or below this means the best match was not acceptable.
const REFUSED: f32 = -20.0;

pub(super) fn decide(v: &ClauseView, readings: Readings) -> Outcome {
    let Readings {
        found: best_found,
        dangling: best_dangling,
    } = readings;
    let dangling_beats = match (&best_found, best_dangling) {
        (Some(r), Some((prior, oi))) => {
            r.via_context && v.options[oi].unit.is_some() && prior - 0.5 > r.total
        }
        _ => false,
    };
    let rejected = best_found.as_ref().is_some_and(|r| r.total <= REFUSED);
    let refused_product = best_found
        .as_ref()
        .is_some_and(|r| refused_for_its_words(v, r));
    if let Some(r) = best_found.filter(|_| !dangling_beats) {
        if r.total > REFUSED {
            return found_outcome(v, r);
        }
    }
    no_item_outcome(v, best_dangling, rejected, refused_product, dangling_beats)
}

/// Why a refused match was refused: a look-alike (an attribute the item lacks), or catalog
/// words that are not the item's own name ("chuveiro" of "fio de chuveiro").
fn refused_for_its_words(v: &ClauseView, r: &Reading) -> bool {
    let (index, roles, ids, c) = (v.index, &v.roles, &v.ids, &r.cand);
    let n = v.ctoks.len();
    let entry = &index.entries[c.entry];
    let no_head = !(0..n)
        .any(|p| roles[p] == WordRole::Known && ids[p].is_some_and(|id| index.is_head(entry, id)));
    // A word the item does not have right after its name ("bloco de concreto estrutural").
    let modified = (1..n).any(|p| {
        matches!(roles[p], WordRole::Foreign | WordRole::Known)
            && !c.explained_pos.contains(&p)
            && c.explained_pos.contains(&(p - 1))
    });
    r.total <= REFUSED && (c.num_conflicts > 0 || c.word_conflicts > 0 || no_head || modified)
}

/// An acceptable match: the item, unless the customer named something it does not have or
/// counted it in a container ("um caminhão de areia").
fn found_outcome(v: &ClauseView, r: Reading) -> Outcome {
    let opt = &v.options[r.option];
    if is_look_alike(v, &r, opt) || counted_in_container(v, opt) {
        let t = v.content_text(&opt.remove);
        return if t.is_empty() {
            Outcome::Nothing
        } else {
            Outcome::Unknown(t, context_words(v, &r))
        };
    }
    let (index, ctoks, roles) = (v.index, &v.ctoks, &v.roles);
    let c = &r.cand;
    let entry = &index.entries[c.entry];
    let plural = opt.remove.is_empty()
        && c.explained_pos.iter().any(|p| {
            ctoks[*p].plural
                && roles[*p] == WordRole::Known
                && index
                    .id(&ctoks[*p].text)
                    .is_some_and(|id| entry.heads.contains(&id))
        });
    let qty = if opt.remove.is_empty() {
        None
    } else if opt.unit == Some("length") {
        // Metres, so that "e outra de 3" after it is read as metres too.
        Some((opt.value, Some("m")))
    } else {
        Some((opt.value, opt.unit))
    };
    Outcome::Found(Found {
        entry: c.entry,
        qty,
        confidence: confidence(&r, opt),
        text: v.content_text(&opt.remove),
        context: context_words(v, &r),
        plural,
        unit_word_only: c.phrase.iter().all(|id| index.class(*id) == TokClass::Unit)
            && opt.unit.is_some(),
    })
}

/// Look-alike traps: the customer named an attribute, a size or another product that this
/// item does not have.
fn is_look_alike(v: &ClauseView, r: &Reading, opt: &QtyOption) -> bool {
    let (index, ctoks, roles, ids, c) = (v.index, &v.ctoks, &v.roles, &v.ids, &r.cand);
    let n = ctoks.len();
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
                || p > 1 && ctoks[p - 1].is_word("de") && explained(p - 2)
                // "2 forro de gesso": another product made of this one.
                || ctoks
                    .get(p + 1)
                    .is_some_and(|d| matches!(d.text.as_str(), "de" | "do" | "da"))
                    && explained(p + 2))
    });
    // "caixa d'água 750", "cimento 42kg": a size no catalog item has, right after
    // the product's words.
    let foreign_size = (0..n).any(|p| {
        matches!(ctoks[p].kind, Kind::Num | Kind::Frac)
            && ids[p].is_none()
            && !opt.remove.contains(&p)
            && !(ctoks[p].kind == Kind::Frac && ctoks[p].den > 16)
            && !ctoks
                .get(p + 1)
                .is_some_and(|nx| nx.kind == Kind::Word && lexicon::is_non_goods_unit(&nx.text))
            && (p > 0 && explained(p - 1) && roles[p - 1] == WordRole::Known
                || p > 1
                    && ctoks[p - 1].is_word("de")
                    && explained(p - 2)
                    && roles[p - 2] == WordRole::Known)
    });
    // "tijolo 4 furos" when the store's tijolos have 6 and 8: a count of holes the item
    // does not have.
    let other_holes = (0..n).any(|p| {
        ctoks[p].kind == Kind::Num
            && ctoks.get(p + 1).is_some_and(|nx| nx.is_word("furo"))
            && !ids[p].is_some_and(|id| index.knows(entry, id))
    });
    // "10 placa de gesso", "2 forro de pvc": the first word of the name is a thing the
    // catalog does not know, and the catalog word after "de" only says what it is made of.
    let foreign_head = (0..n).any(|p| {
        roles[p] == WordRole::Foreign
            && !lexicon::is_package_word(&ctoks[p].text)
            && !ctoks[p].text.ends_with("inho")
            && !ctoks[p].text.ends_with("inha")
            && roles[..p]
                .iter()
                .all(|r| !matches!(r, WordRole::Known | WordRole::Foreign))
            && ctoks
                .get(p + 1)
                .is_some_and(|d| matches!(d.text.as_str(), "de" | "do" | "da"))
            && explained(p + 2)
            && roles.get(p + 2) == Some(&WordRole::Known)
    });
    let unit_only = !c.phrase.is_empty()
        && c.phrase.iter().all(|id| index.class(*id) == TokClass::Unit)
        && roles.iter().enumerate().any(|(p, r)| {
            matches!(r, WordRole::Known | WordRole::Foreign) && !c.explained_pos.contains(&p)
        });
    other_product
        || second_head
        || foreign_head
        || foreign_size
        || other_holes
        || unit_only
        || c.num_conflicts > 0
        || c.word_conflicts > 0
        || foreign_after
        || (c.unit_conflict && !c.attr_matched)
}

/// "um caminhão de areia", "uma caçamba de entulho": the amount counts containers.
fn counted_in_container(v: &ClauseView, opt: &QtyOption) -> bool {
    opt.remove
        .first()
        .and_then(|p| v.ctoks.get(p + 1))
        .is_some_and(|t| lexicon::is_container(&t.text))
}

/// 0..=100: lowered by typos, loose matches, words borrowed from the previous product, a
/// close runner-up, and no stated amount.
fn confidence(r: &Reading, opt: &QtyOption) -> u8 {
    let c = &r.cand;
    let mut conf: i32 = 95;
    if c.fuzzy {
        conf -= 15;
    }
    if !c.full {
        conf -= 30;
    }
    if r.via_context {
        conf -= 10;
    }
    if r.second.is_some_and(|s| s > c.score - 0.5) {
        conf -= 10;
    }
    if opt.remove.is_empty() {
        conf -= 5;
    }
    conf.clamp(1, 100) as u8
}

/// Words and sizes that named this product, for an elliptical next clause ("3 tubos de 25
/// e 10 joelhos": the joelhos are 25 too).
fn context_words(v: &ClauseView, r: &Reading) -> Vec<u32> {
    let (index, c) = (v.index, &r.cand);
    let mut context: Vec<u32> = c
        .phrase
        .iter()
        .copied()
        .filter(|id| index.class(*id) == TokClass::Word)
        .collect();
    for p in &c.explained_pos {
        if let Some(id) = v.ids[*p] {
            if index.class(id) != TokClass::Unit && !context.contains(&id) {
                context.push(id);
            }
        }
    }
    context
}

/// No catalog item: an unknown product, a quantity for an earlier product, or catalog words
/// that are context for what follows.
fn no_item_outcome(
    v: &ClauseView,
    best_dangling: Option<(f32, usize)>,
    rejected: bool,
    refused_product: bool,
    dangling_beats: bool,
) -> Outcome {
    let (index, ctoks, roles, ids, options, cl) =
        (v.index, &v.ctoks, &v.roles, &v.ids, &v.options, v.cl);
    let n = ctoks.len();
    // "umas barras de ferro", "algumas telhas": no amount a person can quote.
    let vague_here = ctoks.iter().enumerate().any(|(p, t)| {
        lexicon::is_vague(&t.text)
            || t.is_word("uns") && ctoks.get(p + 1).is_some_and(|nx| nx.kind != Kind::Num)
    });
    let product_pos = first_foreign_in_product_position(ctoks, roles, options);
    let has_qty = options.len() > 1;
    // Catalog words that match nothing clearly ("500 telhas coloniais": which telha?)
    // with an amount: a person must look.
    if rejected
        && (has_qty || cl.bullet || cl.asks_product && refused_product || vague_here)
        && !dangling_beats
    {
        let remove: Vec<usize> = best_dangling
            .map(|(_, oi)| options[oi].remove.clone())
            .unwrap_or_default();
        let t = v.content_text(&remove);
        if !t.is_empty() && roles.contains(&WordRole::Known) {
            return Outcome::Unknown(t, known_words(v));
        }
    }
    if v.has_foreign && (product_pos || cl.bullet || cl.asks_product) {
        let remove: Vec<usize> = best_dangling
            .map(|(_, oi)| options[oi].remove.clone())
            .unwrap_or_default();
        let t = v.content_text(&remove);
        if !t.is_empty() {
            return Outcome::Unknown(t, known_words(v));
        }
    }
    if let Some((_, oi)) = best_dangling {
        if let Some(dangling) = dangling_quantity(v, &options[oi], has_qty) {
            return dangling;
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

/// The catalog words of the clause (no units or numbers).
fn known_words(v: &ClauseView) -> Vec<u32> {
    (0..v.ctoks.len())
        .filter(|p| v.roles[*p] == WordRole::Known)
        .filter_map(|p| v.ids[p])
        .filter(|id| v.index.class(*id) == TokClass::Word)
        .collect()
}

/// A quantity with no product in the clause ("12 barras", "são 15", "só uma").
fn dangling_quantity(v: &ClauseView, opt: &QtyOption, has_qty: bool) -> Option<Outcome> {
    let roles = &v.roles;
    // "só uma", "apenas 1": a restriction of the amount, even with an article.
    let restrict = v
        .ctoks
        .iter()
        .any(|t| matches!(t.text.as_str(), "so" | "somente" | "apenas"));
    if opt.article
        && opt.unit.is_none()
        && restrict
        && roles
            .iter()
            .all(|r| !matches!(r, WordRole::Known | WordRole::Foreign))
    {
        return Some(Outcome::Dangling(opt.value, None, false));
    }
    let words_only_numbers = roles
        .iter()
        .all(|r| !matches!(r, WordRole::Known | WordRole::Foreign));
    if (opt.unit.is_some() || words_only_numbers) && !(opt.article && opt.unit.is_none()) && has_qty
    {
        let pieces = opt.unit == Some("length");
        let unit = if pieces { Some("m") } else { opt.unit };
        // "e 1 preto", "12 m vermelho": another piece in a colour the catalog does not
        // tell apart adds to the product, it does not replace its amount.
        let colour = v.ctoks.iter().any(|t| lexicon::is_colour(&t.text));
        return Some(Outcome::Dangling(opt.value, unit, pieces || colour));
    }
    None
}
