//! Run-on lists typed without separators ("20 saco cimento 4 metro areia 2 metro pedra",
//! "areia 5 metro pedra 3 metro cimento 30 saco"): one clause that holds several items.
//!
//! A new amount (with its unit or before a product word) may start a new item, and a word
//! after an amount may start the next one when amounts follow the names. Those are only
//! candidate cuts: every way of cutting the clause is scored by what the existing clause
//! reader makes of each piece (an item with an amount is worth most, an unknown or a loose
//! amount costs), and the best cut wins only if it beats the clause read whole. So a size
//! ("tijolo 8 furos", "fio 2,5", "brita 1 2 metros") never cuts an item in two: reading it
//! whole scores better. An unknown never swallows known products, because pieces that are
//! items outscore one long unknown.

use super::clause_items::{analyze_clause, is_count_unit, Outcome};
use super::clause_split::{flags, Clause};
use super::index::CatalogIndex;
use super::lexicon;
use super::matcher;
use super::text::{self, Kind, Token};

/// Longest piece tried (tokens): an item of a run-on list is a few words.
const MAX_PIECE: usize = 9;
/// Cuts tried at most; longer clauses are read whole (bounded time).
const MAX_CUTS: usize = 24;

/// The clause's pieces, in order: the clause itself when no cut reads better.
pub(crate) fn segment(
    index: &CatalogIndex,
    toks: &[Token],
    text: &str,
    cl: &Clause,
    ctx: &[u32],
    ctx_unit: Option<&'static str>,
) -> Vec<Clause> {
    let n = cl.toks.len();
    let amounts = cl
        .toks
        .iter()
        .filter(|i| toks[**i].kind == Kind::Num)
        .count();
    // One amount is enough to try when a "não" opens the clause: it may be about
    // something else ("não pode ser segunda, 6 sc cimento").
    let negated = cl.toks.first().is_some_and(|i| toks[*i].is_word("nao"));
    if n < 4 {
        return vec![cl.clone()];
    }
    // "areia eu já tenho | só preciso de 12 sacos de cimento": a verb of wanting inside the
    // clause may start the order after a remark; "3 latas de tinta acrílica branca se não
    // tiver branca pode ser pva": a condition after the order is a piece of its own.
    let word_inside = |f: fn(&str) -> bool| (2..n).any(|k| f(&toks[cl.toks[k]].text));
    // Two products named side by side ("10 saco de cimento areia não precisa"): one amount
    // is enough to try, or an unknown would swallow the known product. Checked last: it
    // looks words up in the catalog.
    let worth_cutting = amounts >= 2
        || negated && amounts == 1
        || amounts >= 1 && (word_inside(is_want_verb) || word_inside(opens_condition))
        || cl
            .toks
            .windows(2)
            .any(|w| index.opens_another_item(&toks[w[0]].text, &toks[w[1]].text));
    if !worth_cutting {
        return vec![cl.clone()];
    }
    let mut cuts: Vec<usize> = vec![0];
    cuts.extend((1..n).filter(|k| is_cut(index, toks, &cl.toks, *k)));
    cuts.push(n);
    if cuts.len() <= 2 || cuts.len() > MAX_CUTS {
        return vec![cl.clone()];
    }
    let piece = |a: usize, b: usize| Clause {
        toks: cl.toks[a..b].to_vec(),
        question: cl.question,
        sentence: cl.sentence,
        bullet: cl.bullet,
        after_and: cl.after_and && a == 0,
        asks_product: cl.asks_product,
    };
    // A piece is read with the product before it as context ("5 cano de 25 | 10 joelho":
    // the joelhos are 25 too), as the message reader will.
    // Words the catalog does not know even as a typo, found once per clause (typo matching
    // is the costly part on a large catalog).
    let unknown_word: Vec<bool> = cl
        .toks
        .iter()
        .map(|i| {
            let t = &toks[*i];
            t.kind == Kind::Word
                && index.id(&t.text).is_none()
                && t.text.len() > 2
                && !lexicon::is_stopword(&t.text)
                && !lexicon::is_chat_word(&t.text)
                && !lexicon::is_harmless_modifier(&t.text)
                && text::canonical_unit(&t.text).is_none()
                && index.fuzzy(&t.text).is_none()
        })
        .collect();
    let read = |a: usize, b: usize, ctx: &[u32], unit: Option<&'static str>| {
        let pc = piece(a, b);
        let outcome = analyze_clause(index, toks, text, &pc, ctx, unit);
        let value = score(index, toks, &pc, &unknown_word[a..b], &outcome);
        let (ctx, unit) = match &outcome {
            Outcome::Found(f) if !f.context.is_empty() => (
                f.context.clone(),
                match f.qty {
                    Some((_, u)) => u,
                    None => unit,
                },
            ),
            _ => (ctx.to_vec(), unit),
        };
        (value, ctx, unit)
    };
    let whole_piece = piece(0, n);
    let whole_outcome = analyze_clause(index, toks, text, &whole_piece, ctx, ctx_unit);
    let whole = score(index, toks, &whole_piece, &unknown_word, &whole_outcome);
    // Read whole cleanly (an item with its amount, no word it leaves out, at most one
    // amount with a unit): one item, and no cutting needs trying (most tidy clauses).
    let amounts_with_unit = cl
        .toks
        .windows(2)
        .filter(|w| {
            toks[w[0]].kind == Kind::Num
                && matches!(
                    text::canonical_unit(&toks[w[1]].text),
                    Some(u) if !matches!(u, "l" | "mm" | "cm")
                )
        })
        .count();
    if let Outcome::Found(f) = &whole_outcome {
        let clean = f.qty.is_some()
            && !f.unit_word_only
            && !flags(toks, &whole_piece).negated
            && amounts_with_unit <= 1
            && amounts_before_a_name(index, toks, &cl.toks) <= 1
            && f.qty
                .and_then(|(_, u)| u)
                .is_none_or(|u| matcher::unit_fit(u, index.entries[f.entry].unit) != Some(false))
            && spare_amounts(toks, &whole_piece, f.qty.map(|(v, _)| v)) == 0
            && strangers(index, toks, &whole_piece, &unknown_word, f.entry) == 0;
        if clean {
            return vec![cl.clone()];
        }
    }
    // best[c]: the best total reading cl.toks[..cuts[c]], the cut before it, and the
    // context it leaves.
    let m = cuts.len();
    let mut best: Vec<Option<Step>> = vec![None; m];
    best[0] = Some(Step {
        total: 0.0,
        from: 0,
        ctx: ctx.to_vec(),
        unit: ctx_unit,
    });
    for e in 1..m {
        for s in (0..e).rev() {
            let (a, b) = (cuts[s], cuts[e]);
            if b - a > MAX_PIECE && !(s == 0 && e == m - 1) {
                break;
            }
            let Some(prev) = &best[s] else {
                continue;
            };
            let (value, next_ctx, next_unit) = read(a, b, &prev.ctx, prev.unit);
            let total = prev.total + value - 0.1;
            if best[e].as_ref().is_none_or(|b| total > b.total) {
                best[e] = Some(Step {
                    total,
                    from: s,
                    ctx: next_ctx,
                    unit: next_unit,
                });
            }
        }
    }
    let Some(total) = best[m - 1].as_ref().map(|b| b.total) else {
        return vec![cl.clone()];
    };
    if total <= whole + 0.5 {
        return vec![cl.clone()];
    }
    let mut bounds = vec![m - 1];
    let mut e = m - 1;
    while e > 0 {
        let Some(step) = &best[e] else {
            return vec![cl.clone()];
        };
        bounds.push(step.from);
        e = step.from;
    }
    bounds.reverse();
    bounds
        .windows(2)
        .map(|w| piece(cuts[w[0]], cuts[w[1]]))
        .collect()
}

/// Words that open a condition ("se não tiver", "caso não tenha").
fn opens_condition(w: &str) -> bool {
    matches!(w, "se" | "caso")
}

/// Verbs that open an order ("preciso de", "manda", "quero"), in chat spelling too.
fn is_want_verb(w: &str) -> bool {
    matches!(
        w,
        "preciso" | "precisava" | "quero" | "qro" | "queria" | "qria" | "manda" | "mande" | "me"
    )
}

/// One step of the best cutting found so far.
#[derive(Clone)]
struct Step {
    total: f32,
    from: usize,
    ctx: Vec<u32>,
    unit: Option<&'static str>,
}

/// What a piece is worth: an item with an amount most, an item without one a little; an
/// unknown, a loose amount or words that name nothing cost.
fn score(
    index: &CatalogIndex,
    toks: &[Token],
    pc: &Clause,
    unknown_word: &[bool],
    outcome: &Outcome,
) -> f32 {
    let words = |i: &usize| {
        let t = &toks[*i];
        t.kind == Kind::Word && !lexicon::is_stopword(&t.text)
    };
    let nums = pc
        .toks
        .iter()
        .filter(|i| toks[**i].kind == Kind::Num)
        .count();
    let negation = pc.toks.first().is_some_and(|i| toks[*i].is_word("nao"));
    match outcome {
        // "2 rolos" is an amount for the cable before it, not the paint roller.
        Outcome::Found(f) if f.unit_word_only => -1.0,
        // "não pode ser sábado | 10 sc cimento": the "não" is about the day; a negated
        // item is worth nothing, so the cut that frees the item wins.
        Outcome::Found(_) if flags(toks, pc).negated => 0.0,
        // "tinta pva 18l | 2 latas": a piece whose only words are units and finds its
        // product through the piece before is that product's amount, not a new item.
        Outcome::Found(_) if !has_own_name(toks, pc) => -1.0,
        Outcome::Found(f) => {
            let base = match f.qty {
                Some(_) => 3.0 + f.confidence as f32 / 100.0,
                None => 1.0 + f.confidence as f32 / 200.0,
            };
            // An amount with its own unit that the item did not take ("2 janela … 10 sc
            // cimento" read as 2 cimento) is a sign of two items.
            let spare = spare_amounts(toks, pc, f.qty.map(|(v, _)| v));
            // "caixinha de luz 1 rolo": a unit the item is not sold in.
            let misfit = f
                .qty
                .and_then(|(_, u)| u)
                .is_some_and(|u| matcher::unit_fit(u, index.entries[f.entry].unit) == Some(false));
            base - 1.5 * spare as f32
                - 2.0 * strangers(index, toks, pc, unknown_word, f.entry) as f32
                - if misfit { 2.0 } else { 0.0 }
                - if verb_between_name_and_amount(index, toks, pc, f.qty.map(|(v, _)| v)) {
                    1.0
                } else {
                    0.0
                }
        }
        // An honest unknown with one amount ("1 pincel"); one holding several amounts
        // has swallowed other items.
        // Named first, an unknown is more likely the tail of the piece before it.
        Outcome::Unknown(..) => {
            let amount_first = pc.toks.first().is_some_and(|i| toks[*i].kind == Kind::Num);
            let base = if amount_first { 0.5 } else { -0.3 };
            base - nums.saturating_sub(1) as f32
        }
        // "12 m vermelho" after "12 m de fio azul": one more piece of it.
        Outcome::Dangling(_, _, true) => 2.0,
        Outcome::Dangling(..) => -1.0,
        Outcome::Mention(_) => -0.5,
        // A "não" left with nothing to negate would negate the next piece's item.
        Outcome::Nothing if negation && !pc.toks.iter().skip(1).any(words) => -10.0,
        Outcome::Nothing => {
            let content = pc.toks.iter().any(|i| {
                let t = &toks[*i];
                t.kind == Kind::Num
                    || t.kind == Kind::Word
                        && !lexicon::is_stopword(&t.text)
                        && !lexicon::is_chat_word(&t.text)
            });
            if content {
                -0.5
            } else {
                0.0
            }
        }
    }
}

/// "o cp5 tá caro manda 10 cp2": a verb of ordering between a product's name and the
/// amount the item took, and right after the amount (outside the piece) another product's
/// name. The verb opens a new order, so the amount belongs to what follows it, not to the
/// product named before (a remark: a price, a complaint). "se tiver cp5 manda 10 se não…"
/// keeps its 10: nothing is named after it.
fn verb_between_name_and_amount(
    index: &CatalogIndex,
    toks: &[Token],
    pc: &Clause,
    taken: Option<i64>,
) -> bool {
    let Some(v) = taken else {
        return false;
    };
    let Some(amount_at) = pc
        .toks
        .iter()
        .position(|i| toks[*i].kind == Kind::Num && toks[*i].value == v)
    else {
        return false;
    };
    let named_after = amount_at + 1 == pc.toks.len()
        && toks
            .get(pc.toks[amount_at] + 1)
            .is_some_and(|t| t.kind == Kind::Word && index.id(&t.text).is_some());
    if !named_after {
        return false;
    }
    let Some(verb_at) = pc.toks[..amount_at]
        .iter()
        .rposition(|i| toks[*i].kind == Kind::Word && is_want_verb(&toks[*i].text))
    else {
        return false;
    };
    pc.toks[..verb_at].iter().any(|i| {
        let t = &toks[*i];
        t.kind == Kind::Word && !lexicon::is_stopword(&t.text) && index.id(&t.text).is_some()
    })
}

/// Numbers right before a word that opens some item's name ("2 bloco 14 21 tijolo"): each
/// may start an item.
fn amounts_before_a_name(index: &CatalogIndex, toks: &[Token], ids: &[usize]) -> usize {
    ids.windows(2)
        .filter(|w| {
            toks[w[0]].kind == Kind::Num
                && index
                    .id(&toks[w[1]].text)
                    .is_some_and(|id| index.any_head[id as usize])
        })
        .count()
}

/// Amounts the found item did not take: with their own count unit, or opening the piece
/// ("15 caixinha de luz 1 rolo" read as 1 rolo).
fn spare_amounts(toks: &[Token], pc: &Clause, taken: Option<i64>) -> usize {
    pc.toks
        .iter()
        .enumerate()
        .filter(|(k, i)| {
            let t = &toks[**i];
            t.kind == Kind::Num
                && Some(t.value) != taken
                && (*k == 0
                    || pc.toks.get(k + 1).is_some_and(|nx| {
                        text::canonical_unit(&toks[*nx].text).is_some_and(is_count_unit)
                    }))
        })
        .count()
}

/// Words of the piece the found item does not explain: another product's name ("eletroduto
/// 15 caixinha de luz" read as the caixinha) or a word the catalog does not know
/// ("fio 1,5 1 disjuntor"). Each says the piece holds a second item.
fn strangers(
    index: &CatalogIndex,
    toks: &[Token],
    pc: &Clause,
    unknown_word: &[bool],
    entry: usize,
) -> usize {
    let e = &index.entries[entry];
    pc.toks
        .iter()
        .zip(unknown_word)
        .filter(|(i, unknown)| {
            let t = &toks[**i];
            **unknown
                || t.kind == Kind::Word
                    && !lexicon::is_stopword(&t.text)
                    && text::canonical_unit(&t.text).is_none()
                    && index
                        .id(&t.text)
                        .is_some_and(|id| index.any_head[id as usize] && !index.knows(e, id))
        })
        .count()
}

/// Does the piece name something itself: a word that is no unit or filler, or a size
/// after its amount ("8 de 2,44")?
fn has_own_name(toks: &[Token], pc: &Clause) -> bool {
    let words = pc.toks.iter().any(|i| {
        let t = &toks[*i];
        t.kind == Kind::Word
            && !lexicon::is_stopword(&t.text)
            && text::canonical_unit(&t.text).is_none()
    });
    let sizes = pc
        .toks
        .iter()
        .filter(|i| matches!(toks[**i].kind, Kind::Num | Kind::Frac))
        .count();
    words || sizes >= 2
}

/// May a new item start at clause position `k`? Before an amount that follows some other
/// word ("… cimento | 4 metro areia"), or before a word right after an amount and its unit
/// ("areia 5 metro | pedra 3 metro").
fn is_cut(index: &CatalogIndex, toks: &[Token], ids: &[usize], k: usize) -> bool {
    let t = &toks[ids[k]];
    let prev = &toks[ids[k - 1]];
    let next = ids.get(k + 1).map(|i| &toks[*i]);
    if t.kind == Kind::Num {
        // "de 10", "x 25", "mil e": the number belongs to what comes before it.
        if prev.kind == Kind::Word && matches!(prev.text.as_str(), "de" | "do" | "da" | "x") {
            return false;
        }
        // "18 l", "4 mm", "4 furos": a size, not an amount.
        if next.is_some_and(|nx| {
            matches!(text::canonical_unit(&nx.text), Some("l" | "mm" | "cm")) || nx.is_word("furo")
        }) {
            return false;
        }
        // "tijolo 8 furos": a number inside one item's name, in that order.
        if let Some(nx) = next.filter(|nx| text::canonical_unit(&nx.text).is_none()) {
            if prev.kind == Kind::Word && index.same_item(&prev.text, &t.text, &nx.text) {
                return false;
            }
        }
        // "pra uma laje": an article before a word that names no product.
        let article = t.from_word && t.value == crate::money::QUANTITY_SCALE;
        if article && next.is_some_and(|nx| lexicon::is_chat_word(&nx.text)) {
            return false;
        }
        // "pra um servicinho", "para uma reforminha": after "pra" an "um" is the article
        // of a purpose, never the amount of a new item.
        if article && matches!(prev.text.as_str(), "pra" | "para" | "pro" | "p") {
            return false;
        }
        // An amount names something after it: a unit or a word.
        return next.is_some_and(|nx| nx.kind == Kind::Word && !nx.is_word("x"));
    }
    if t.kind != Kind::Word {
        return false;
    }
    // "cimento | areia não precisa": another product's name right after one.
    if prev.kind == Kind::Word && index.opens_another_item(&prev.text, &t.text) {
        return true;
    }
    // Not inside a condition: "se tiver cp5 manda 10" is one piece.
    let in_condition = ids[k.saturating_sub(4)..k]
        .iter()
        .any(|i| opens_condition(&toks[*i].text));
    if is_want_verb(&t.text) && k >= 2 && !in_condition {
        return true;
    }
    // "… 10 saco de cimento | se não tiver …": a condition opens a piece of its own.
    if opens_condition(&t.text) && k >= 2 {
        return true;
    }
    if lexicon::is_stopword(&t.text) && !t.is_word("de") {
        return false;
    }
    // "tijolo 4 | furos": a size word after its number is part of the name.
    // "3 | pacote de rejunte": a package word after its amount is that item's own unit.
    if t.is_word("de")
        || text::canonical_unit(&t.text).is_some()
        || t.is_word("furo")
        || prev.kind == Kind::Num && lexicon::is_package_word(&t.text)
    {
        return false;
    }
    // After "5 metro", "20 br", "30 saco", or after a bare amount ("cimento 10 areia 2").
    let after_unit = prev.kind == Kind::Word
        && text::canonical_unit(&prev.text).is_some()
        && k >= 2
        && toks[ids[k - 2]].kind == Kind::Num;
    // "pra uma laje": after an article, no new item.
    let article = prev.from_word && prev.value == crate::money::QUANTITY_SCALE;
    if !(after_unit || prev.kind == Kind::Num && !article) {
        return false;
    }
    if after_unit {
        return true;
    }
    // "tijolo baiano 8 furos": the number sits inside one item's name ("ferro 8 ferro 10"
    // names two).
    let name_before = ids[..k]
        .iter()
        .rev()
        .map(|i| &toks[*i])
        .find(|w| w.kind == Kind::Word && text::canonical_unit(&w.text).is_none());
    !name_before.is_some_and(|w| w.text != t.text && index.same_item(&w.text, &prev.text, &t.text))
}
