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

use super::clause_items::{analyze_clause, Outcome};
use super::clause_split::Clause;
use super::index::CatalogIndex;
use super::lexicon;
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
    if n < 4 || amounts < 2 {
        return vec![cl.clone()];
    }
    let mut cuts: Vec<usize> = vec![0];
    cuts.extend((1..n).filter(|k| is_cut(toks, &cl.toks, *k)));
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
    let score_of = |a: usize, b: usize| -> f32 {
        let pc = piece(a, b);
        let outcome = analyze_clause(index, toks, text, &pc, ctx, ctx_unit);
        score(toks, &pc, &outcome)
    };
    let whole = score_of(0, n);
    // best[c]: the best total reading cl.toks[..cuts[c]], and the cut before it.
    let m = cuts.len();
    let mut best: Vec<Option<(f32, usize)>> = vec![None; m];
    best[0] = Some((0.0, 0));
    for e in 1..m {
        for s in (0..e).rev() {
            let (a, b) = (cuts[s], cuts[e]);
            if b - a > MAX_PIECE {
                break;
            }
            let Some((base, _)) = best[s] else {
                continue;
            };
            let total = base + score_of(a, b) - 0.1;
            if best[e].is_none_or(|(t, _)| total > t) {
                best[e] = Some((total, s));
            }
        }
    }
    let Some((total, _)) = best[m - 1] else {
        return vec![cl.clone()];
    };
    if total <= whole + 0.5 {
        return vec![cl.clone()];
    }
    let mut bounds = vec![m - 1];
    let mut e = m - 1;
    while e > 0 {
        let Some((_, s)) = best[e] else {
            return vec![cl.clone()];
        };
        bounds.push(s);
        e = s;
    }
    bounds.reverse();
    bounds
        .windows(2)
        .map(|w| piece(cuts[w[0]], cuts[w[1]]))
        .collect()
}

/// What a piece is worth: an item with an amount most, an item without one a little; an
/// unknown, a loose amount or words that name nothing cost.
fn score(toks: &[Token], pc: &Clause, outcome: &Outcome) -> f32 {
    match outcome {
        // "2 rolos" is an amount for the cable before it, not the paint roller.
        Outcome::Found(f) if f.unit_word_only => -1.0,
        Outcome::Found(f) => match f.qty {
            Some(_) => 3.0 + f.confidence as f32 / 100.0,
            None => 1.0 + f.confidence as f32 / 200.0,
        },
        Outcome::Unknown(_) => -0.5,
        Outcome::Dangling(..) => -1.0,
        Outcome::Mention(_) => -0.5,
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

/// May a new item start at clause position `k`? Before an amount that follows some other
/// word ("… cimento | 4 metro areia"), or before a word right after an amount and its unit
/// ("areia 5 metro | pedra 3 metro").
fn is_cut(toks: &[Token], ids: &[usize], k: usize) -> bool {
    let t = &toks[ids[k]];
    let prev = &toks[ids[k - 1]];
    let next = ids.get(k + 1).map(|i| &toks[*i]);
    if t.kind == Kind::Num {
        // "de 10", "x 25", "mil e": the number belongs to what comes before it.
        if prev.kind == Kind::Word && matches!(prev.text.as_str(), "de" | "do" | "da" | "x") {
            return false;
        }
        // An amount names something after it: a unit or a word.
        return next.is_some_and(|nx| nx.kind == Kind::Word && !nx.is_word("x"));
    }
    if t.kind != Kind::Word || lexicon::is_stopword(&t.text) && !t.is_word("de") {
        return false;
    }
    if t.is_word("de") || text::canonical_unit(&t.text).is_some() {
        return false;
    }
    // After "5 metro", "20 br", "30 saco", or after a bare amount ("cimento 10 areia 2").
    let after_unit = prev.kind == Kind::Word
        && text::canonical_unit(&prev.text).is_some()
        && k >= 2
        && toks[ids[k - 2]].kind == Kind::Num;
    after_unit || prev.kind == Kind::Num
}
