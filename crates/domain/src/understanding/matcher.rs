//! Scoring catalog items against the words of one clause.
//!
//! An item matches when one of its phrases (name or alias) is fully present; longer and more
//! specific phrases win. Words the customer wrote that belong to another item's vocabulary
//! ("fina" against areia média) and numbers the item does not have ("25 kg" against the 50 kg
//! cement) count against it, so look-alikes are told apart by their attributes.

use crate::catalog::Unit;

use super::index::{CatalogIndex, TokClass};

/// One clause token that the catalog knows (exactly or through a typo).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Present {
    pub id: u32,
    /// The word follows "pra"/"para": a purpose ("argamassa ac2 pra porcelanato"), which
    /// may name a variant but never contradicts one.
    pub purpose: bool,
    /// Position in the clause; `usize::MAX` for words carried over from the previous
    /// product ("2 de 50" after "3 tubos de esgoto 40").
    pub pos: usize,
    pub fuzzy: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    pub entry: usize,
    pub score: f32,
    /// A full phrase matched (otherwise only loose vocabulary overlap).
    pub full: bool,
    pub fuzzy: bool,
    pub num_conflicts: usize,
    pub word_conflicts: usize,
    pub unit_conflict: bool,
    /// A unit was stated and fits the item's unit.
    pub unit_ok: bool,
    /// Ids of the best phrase (for carrying the product over to elliptical clauses).
    pub phrase: Vec<u32>,
    /// Some number of the clause matched one of the item's numbers (an attribute).
    pub attr_matched: bool,
    /// Clause words the item explains (positions).
    pub explained_pos: Vec<usize>,
}

/// How a stated unit fits an item's catalog unit.
pub(crate) fn unit_fit(stated: &str, unit: Unit) -> Option<bool> {
    use Unit::*;
    let ok = match stated {
        "saco" => matches!(unit, Sc),
        "m3" => matches!(unit, M3),
        "m2" => matches!(unit, M2),
        "m" => matches!(unit, M | M3 | M2),
        "un" | "pc" | "cx" | "duzia" => !matches!(unit, M3 | M2 | M | Kg),
        "barra" => matches!(unit, Barra),
        "kg" => matches!(unit, Kg),
        "lata" => matches!(unit, Lata | Un),
        "galao" => matches!(unit, Galao),
        "balde" => matches!(unit, Un | Lata),
        "rolo" => matches!(unit, Rolo | Un),
        "milheiro" => matches!(unit, Un | Milheiro),
        _ => return None,
    };
    Some(ok)
}

fn weight(index: &CatalogIndex, id: u32, fuzzy: bool) -> f32 {
    match index.class(id) {
        TokClass::Number => 1.5,
        TokClass::Unit => 0.4,
        TokClass::Word if fuzzy => 0.8,
        TokClass::Word => 1.0,
    }
}

/// Scores every item sharing a token with the clause; returns the best two.
pub(crate) fn best(
    index: &CatalogIndex,
    present: &[Present],
    stated_unit: Option<&str>,
) -> (Option<Candidate>, Option<f32>) {
    let mut cands: Vec<u32> = Vec::new();
    for p in present {
        if index.class(p.id) == TokClass::Unit && !index.unit_product[p.id as usize] {
            continue;
        }
        let posting = &index.postings[p.id as usize];
        // Very common tokens on huge catalogs: the rarer tokens of the clause will find the
        // item anyway.
        if posting.len() > 400 && present.len() > 1 {
            continue;
        }
        cands.extend_from_slice(posting);
        if let Some(v) = index.variant[p.id as usize] {
            cands.extend_from_slice(&index.postings[v as usize]);
        }
    }
    cands.sort_unstable();
    cands.dedup();
    // Each present token under its own id and under its other gender's id, so lookups are
    // plain scans over a few integers.
    let mut keys: Vec<(u32, usize)> = Vec::with_capacity(present.len() * 2);
    for (i, p) in present.iter().enumerate() {
        keys.push((p.id, i));
        if let Some(v) = index.variant[p.id as usize] {
            keys.push((v, i));
        }
    }
    let find = |id: u32| {
        keys.iter()
            .find(|(k, _)| *k == id)
            .map(|(_, i)| &present[*i])
    };
    let has = |id: u32| find(id).is_some();
    // Scalars only while scanning; the winner's details are built once at the end.
    struct Scored {
        entry: usize,
        score: f32,
        full: bool,
        fuzzy: bool,
        num_conflicts: usize,
        word_conflicts: usize,
        unit_conflict: bool,
        unit_ok: bool,
        phrase: Option<usize>,
        attr_matched: bool,
    }
    let mut best: Option<Scored> = None;
    let mut second: Option<f32> = None;
    for e in cands {
        let entry = &index.entries[e as usize];
        let mut full = false;
        let mut fscore = 0.0f32;
        let mut fuzzy_used = false;
        let mut phrase: Option<usize> = None;
        for (pi, ph) in entry.phrases.iter().enumerate() {
            // Measure suffixes (l, kg, mm) are often left out: "tinta 3,6" is "tinta 3,6l".
            let required = |id: &u32| !index.optional_unit[*id as usize] || ph.len() == 1;
            // Words carried over from the previous product alone do not make a match: the
            // clause itself must take part in the phrase.
            let own_part = ph
                .iter()
                .any(|id| find(*id).is_some_and(|p| p.pos != usize::MAX));
            if own_part
                && ph.iter().filter(|id| required(id)).all(|id| has(*id))
                && ph.iter().any(required)
            {
                let mut w = 0.0;
                let mut fz = false;
                for id in ph {
                    let Some(p) = find(*id) else {
                        continue;
                    };
                    fz |= p.fuzzy;
                    w += weight(index, *id, p.fuzzy);
                }
                if w > fscore {
                    fscore = w;
                    full = true;
                    fuzzy_used = fz;
                    phrase = Some(pi);
                }
            }
        }
        let in_phrase = |id: u32| phrase.is_some_and(|pi| entry.phrases[pi].contains(&id));
        let mut explained = 0.0f32;
        let mut num_conflicts = 0;
        let mut word_conflicts = 0;
        let mut attr_matched = false;
        for (i, p) in present.iter().enumerate() {
            if present[..i].iter().any(|q| q.id == p.id) {
                continue;
            }
            let class = index.class(p.id);
            if index.knows(entry, p.id) {
                if class == TokClass::Number {
                    attr_matched = true;
                }
                if full {
                    if !in_phrase(p.id) {
                        explained += if class == TokClass::Unit { 0.1 } else { 0.25 };
                    }
                } else if class != TokClass::Unit {
                    // Loose overlap counts half, so a full alias always wins over it.
                    explained += weight(index, p.id, p.fuzzy) * 0.5;
                    fuzzy_used |= p.fuzzy;
                }
            } else if p.pos != usize::MAX {
                match class {
                    TokClass::Number => num_conflicts += 1,
                    // Only a word of a sibling item is a conflict ("fina" against areia
                    // média); "obra" of "carrinho de obra" says nothing about cement.
                    TokClass::Word if !p.purpose && sibling_word(index, e as usize, p.id) => {
                        word_conflicts += 1
                    }
                    _ => {}
                }
            }
        }
        if !full && explained < 0.5 {
            continue;
        }
        if !full {
            explained -= 0.25;
        }
        let mut score =
            fscore + explained - 1.0 * word_conflicts as f32 - 3.0 * num_conflicts as f32;
        let mut unit_conflict = false;
        let mut unit_ok = false;
        if let Some(u) = stated_unit {
            match unit_fit(u, entry.unit) {
                Some(true) => {
                    score += 0.6;
                    unit_ok = true;
                }
                Some(false) => {
                    score -= 1.5;
                    unit_conflict = true;
                }
                None => {}
            }
        }
        let c = Scored {
            entry: e as usize,
            score,
            full,
            fuzzy: fuzzy_used,
            num_conflicts,
            word_conflicts,
            unit_conflict,
            unit_ok,
            phrase,
            attr_matched,
        };
        // A full alias outranks any loose overlap, even with a conflicting attribute: the
        // conflict then shows as a look-alike instead of being hidden by noise.
        let key = |c: &Scored| (c.full, c.score);
        match &best {
            Some(b) if key(b) >= key(&c) => {
                if b.full == c.full && second.is_none_or(|s| c.score > s) {
                    second = Some(c.score);
                }
            }
            _ => {
                second = match &best {
                    Some(b) if b.full == c.full => Some(b.score),
                    _ => None,
                };
                best = Some(c);
            }
        }
    }
    let best = best.map(|b| {
        let entry = &index.entries[b.entry];
        let explained_pos = present
            .iter()
            .filter(|p| p.pos != usize::MAX && index.knows(entry, p.id))
            .map(|p| p.pos)
            .collect();
        Candidate {
            entry: b.entry,
            score: b.score,
            full: b.full,
            fuzzy: b.fuzzy,
            num_conflicts: b.num_conflicts,
            word_conflicts: b.word_conflicts,
            unit_conflict: b.unit_conflict,
            unit_ok: b.unit_ok,
            phrase: b
                .phrase
                .map(|pi| entry.phrases[pi].clone())
                .unwrap_or_default(),
            attr_matched: b.attr_matched,
            explained_pos,
        }
    });
    (best, second)
}

/// Does a word belong to another item of the same family as `entry`?
fn sibling_word(index: &CatalogIndex, entry: usize, id: u32) -> bool {
    let heads = &index.entries[entry].heads;
    index.postings[id as usize].iter().any(|e| {
        *e as usize != entry
            && index.entries[*e as usize]
                .heads
                .iter()
                .any(|h| heads.contains(h))
    })
}
