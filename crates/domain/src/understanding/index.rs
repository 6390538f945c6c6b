//! The catalog, prepared once per catalog version for fast matching: every name and alias
//! as a phrase of token ids, each item's vocabulary, postings from token to items, and a
//! length-bucketed word list for typo matching.

use std::collections::HashMap;

use crate::catalog::{CatalogItem, Unit};

use super::lexicon;
use super::places::Gazetteer;
use super::text::{self, Kind};

/// Words dropped from catalog phrases: connectors carry no meaning in either direction.
fn is_connector(w: &str) -> bool {
    matches!(
        w,
        "de" | "do"
            | "da"
            | "dos"
            | "das"
            | "e"
            | "com"
            | "para"
            | "pra"
            | "o"
            | "a"
            | "em"
            | "no"
            | "na"
            | "x"
            | "por"
            | "nº"
            | "n"
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokClass {
    Word,
    Number,
    Unit,
}

#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub sku: String,
    pub unit: Unit,
    /// Sorted token ids of the name and every alias.
    pub vocab: Vec<u32>,
    /// Each alias (and the name) as token ids.
    pub phrases: Vec<Vec<u32>>,
    /// First words of the name and aliases (units excluded): the product family.
    pub heads: Vec<u32>,
    /// Sorted ids of words that follow "de" in an alias and are not in the name: nouns
    /// that complete the alias ("tomada" of "caixa de tomada") and may name a product of
    /// their own.
    pub complements: Vec<u32>,
}

impl Entry {
    pub fn knows(&self, id: u32) -> bool {
        self.vocab.binary_search(&id).is_ok()
    }
}

/// The store's catalog prepared for understanding messages. Build it once per catalog
/// version and share it (it is immutable, `Send + Sync`).
#[derive(Debug, Clone)]
pub struct CatalogIndex {
    pub(crate) entries: Vec<Entry>,
    pub(crate) ids: HashMap<String, u32>,
    pub(crate) words: Vec<String>,
    pub(crate) classes: Vec<TokClass>,
    /// Token id → entries whose vocabulary holds it.
    pub(crate) postings: Vec<Vec<u32>>,
    /// Word ids by length, for typo matching (words of 4+ letters only).
    pub(crate) by_len: Vec<Vec<u32>>,
    /// Letter counts of each word (a–z), to skip typo candidates cheaply.
    pub(crate) letters: Vec<[u8; 26]>,
    pub(crate) bairros: Gazetteer,
    /// The other gender of a word when the catalog has it too (branca ↔ branco).
    pub(crate) variant: Vec<Option<u32>>,
    /// Unit words that are also a product's whole name ("rolo" is the paint roller).
    pub(crate) unit_product: Vec<bool>,
    /// Measure units a customer may leave out of a name (l, kg, mm, cm, m).
    pub(crate) optional_unit: Vec<bool>,
    /// Words that open some item's name or alias ("cimento", "cola", "telha").
    pub(crate) any_head: Vec<bool>,
}

impl CatalogIndex {
    /// Prepares `items` (inactive ones are skipped) and the store's known bairros (the
    /// freight rules' names; a built-in list of São Paulo bairros is always added).
    pub fn build(items: &[CatalogItem], known_bairros: &[String]) -> CatalogIndex {
        let mut idx = CatalogIndex {
            entries: Vec::new(),
            ids: HashMap::new(),
            words: Vec::new(),
            classes: Vec::new(),
            postings: Vec::new(),
            by_len: Vec::new(),
            letters: Vec::new(),
            bairros: Gazetteer::new(known_bairros),
            variant: Vec::new(),
            unit_product: Vec::new(),
            optional_unit: Vec::new(),
            any_head: Vec::new(),
        };
        // Phrases of names that start the same way on several items (e.g. "tijolo cerâmico")
        // are not unique names; count them first.
        let mut prefix_count: HashMap<Vec<String>, usize> = HashMap::new();
        let prefixes: Vec<Vec<String>> = items.iter().map(|it| name_prefix(&it.name)).collect();
        for p in &prefixes {
            if !p.is_empty() {
                *prefix_count.entry(p.clone()).or_default() += 1;
            }
        }
        // "cimento 40kg", "vergalhão 8mm": the name's head word with one of its sizes, when
        // that pair names one item only.
        let sizes: Vec<Vec<Vec<String>>> = items.iter().map(|it| name_sizes(&it.name)).collect();
        let mut size_count: HashMap<Vec<String>, usize> = HashMap::new();
        for list in &sizes {
            for ph in list {
                *size_count.entry(ph.clone()).or_default() += 1;
            }
        }
        for ((it, prefix), sizes) in items.iter().zip(prefixes).zip(sizes) {
            if !it.active {
                continue;
            }
            let mut phrases: Vec<Vec<u32>> = Vec::new();
            let mut heads: Vec<u32> = Vec::new();
            let mut vocab: Vec<u32> = Vec::new();
            let mut name_words: Vec<String> = Vec::new();
            let mut after_de: Vec<String> = Vec::new();
            let inch = pvc_inch_names(&it.name);
            let mut sources: Vec<&str> = vec![it.name.as_str()];
            sources.extend(it.aliases.iter().map(String::as_str));
            sources.extend(inch.iter().map(String::as_str));
            for (k, src) in sources.iter().enumerate() {
                let analyzed = text::analyze(src);
                let toks = phrase_tokens(&analyzed);
                let ids: Vec<u32> = toks.iter().map(|(t, c)| idx.intern(t, *c)).collect();
                vocab.extend(ids.iter().copied());
                if k == 0 {
                    name_words.extend(toks.iter().map(|(t, _)| t.clone()));
                } else {
                    after_de.extend(words_after_de(&analyzed));
                }
                if let Some(h) = toks
                    .iter()
                    .position(|(_, c)| *c == TokClass::Word)
                    .map(|p| ids[p])
                {
                    heads.push(h);
                }
                // The full name is rarely typed; it still counts when it is.
                if !ids.is_empty() && (k > 0 || ids.len() <= 4) {
                    phrases.push(ids);
                }
            }
            for ph in sizes {
                if size_count.get(&ph).copied() == Some(1) {
                    let ids: Vec<u32> = ph
                        .iter()
                        .map(|w| {
                            let class = classify(w);
                            idx.intern(w, class)
                        })
                        .collect();
                    phrases.push(ids);
                }
            }
            if prefix.len() >= 2 && prefix_count.get(&prefix).copied() == Some(1) {
                let ids: Vec<u32> = prefix
                    .iter()
                    .map(|w| idx.intern(w, TokClass::Word))
                    .collect();
                phrases.push(ids);
            }
            vocab.sort_unstable();
            vocab.dedup();
            heads.sort_unstable();
            heads.dedup();
            let mut complements: Vec<u32> = after_de
                .iter()
                .filter(|w| !name_words.contains(w))
                .filter_map(|w| idx.ids.get(w.as_str()).copied())
                .collect();
            complements.sort_unstable();
            complements.dedup();
            phrases.sort();
            phrases.dedup();
            let e = idx.entries.len() as u32;
            for id in &vocab {
                idx.postings[*id as usize].push(e);
            }
            idx.entries.push(Entry {
                sku: it.sku.clone(),
                unit: it.unit,
                vocab,
                phrases,
                heads,
                complements,
            });
        }
        idx.variant = idx
            .words
            .iter()
            .map(|w| {
                let other = if let Some(stem) = w.strip_suffix('a') {
                    format!("{stem}o")
                } else if let Some(stem) = w.strip_suffix('o') {
                    format!("{stem}a")
                } else {
                    return None;
                };
                if w.len() < 4 {
                    return None;
                }
                idx.ids.get(&other).copied()
            })
            .collect();
        idx.optional_unit = idx
            .words
            .iter()
            .zip(&idx.classes)
            .map(|(w, c)| {
                *c == TokClass::Unit
                    && matches!(w.as_str(), "l" | "kg" | "mm" | "cm" | "m" | "m2" | "m3")
            })
            .collect();
        idx.any_head = vec![false; idx.words.len()];
        for e in &idx.entries {
            for h in &e.heads {
                idx.any_head[*h as usize] = true;
            }
        }
        idx.unit_product = vec![false; idx.words.len()];
        for e in &idx.entries {
            for ph in &e.phrases {
                if let [only] = ph.as_slice() {
                    idx.unit_product[*only as usize] = true;
                }
            }
        }
        idx.letters = idx.words.iter().map(|w| letter_counts(w)).collect();
        for (id, w) in idx.words.iter().enumerate() {
            if idx.classes[id] == TokClass::Word && w.len() >= 4 {
                let l = w.len().min(40);
                if idx.by_len.len() <= l {
                    idx.by_len.resize(l + 1, Vec::new());
                }
                idx.by_len[l].push(id as u32);
            }
        }
        idx
    }

    fn intern(&mut self, t: &str, class: TokClass) -> u32 {
        if let Some(id) = self.ids.get(t) {
            return *id;
        }
        let id = self.words.len() as u32;
        self.ids.insert(t.to_string(), id);
        self.words.push(t.to_string());
        self.classes.push(class);
        self.postings.push(Vec::new());
        id
    }

    pub(crate) fn id(&self, t: &str) -> Option<u32> {
        self.ids.get(t).copied()
    }

    /// Catalog words within a small edit distance of `w` (typos: cimeto, areia midia).
    /// Only for words the catalog does not know exactly.
    pub(crate) fn fuzzy(&self, w: &str) -> Option<u32> {
        let n = w.len();
        if n < 4 || !w.is_ascii() || n > 40 {
            return None;
        }
        let max = if n >= 8 { 2 } else { 1 };
        let mine = letter_counts(w);
        let mut best: Option<(usize, u32)> = None;
        // Two catalog words equally close: the typo is ambiguous ("preto": preta or prego?).
        let mut tied = false;
        let lo = n.saturating_sub(max);
        let hi = (n + max).min(self.by_len.len().saturating_sub(1));
        if lo > hi {
            return None;
        }
        for l in lo..=hi {
            for id in &self.by_len[l] {
                let cand = &self.words[*id as usize];
                // Four-letter words only reach five-letter ones by one insertion
                // ("caxa" → "caixa"); anything else at that size is another word.
                if n == 4 && cand.len() != 5 {
                    continue;
                }
                if cand.as_bytes()[0] != w.as_bytes()[0] && n < 6 {
                    // Short typos keep the first letter; longer ones may not ("simento").
                    if !(matches!(
                        (w.as_bytes()[0], cand.as_bytes()[0]),
                        (b's', b'c') | (b'c', b's')
                    ) || soft_g(w.as_bytes(), cand.as_bytes()))
                    {
                        continue;
                    }
                }
                // Each edit changes the letter counts by at most two.
                let diff: usize = mine
                    .iter()
                    .zip(&self.letters[*id as usize])
                    .map(|(a, b)| a.abs_diff(*b) as usize)
                    .sum();
                if diff > 2 * max {
                    continue;
                }
                let d = text::edit_distance(w.as_bytes(), cand.as_bytes(), max);
                if d <= max {
                    match best {
                        Some((bd, _)) if d == bd => tied = true,
                        Some((bd, _)) if d > bd => {}
                        _ => {
                            best = Some((d, *id));
                            tied = false;
                        }
                    }
                }
            }
        }
        if tied {
            return None;
        }
        best.map(|(_, id)| id).or_else(|| self.same_sound(w))
    }

    /// The one catalog word written with the same sounds (`macisso` → `macico`, `grosa` →
    /// `grossa`: ss/ç/c/s/z spellings). Brazilians swap these letters freely
    /// and the swap can cost two edits (`ss` ↔ `ç`), more than the typo budget allows.
    fn same_sound(&self, w: &str) -> Option<u32> {
        let n = w.len();
        if n < 5 {
            return None;
        }
        let key = text::sound_fold(w);
        let lo = n.saturating_sub(1);
        let hi = (n + 1).min(self.by_len.len().saturating_sub(1));
        let mut found = None;
        for l in lo..=hi {
            for id in &self.by_len[l] {
                if text::sound_fold(&self.words[*id as usize]) == key {
                    if found.is_some() {
                        return None;
                    }
                    found = Some(*id);
                }
            }
        }
        found
    }

    /// Does the item know this token, directly or in its other gender?
    pub(crate) fn knows(&self, entry: &Entry, id: u32) -> bool {
        entry.knows(id) || self.variant[id as usize].is_some_and(|v| entry.knows(v))
    }

    /// Do two words and the number between them name one item ("tijolo 8 furos")? Then the
    /// number is a size of that item, not the end of one item and the start of another
    /// ("cimento 30 bloco" names two: no item has the 30).
    pub(crate) fn same_item(&self, a: &str, size: &str, b: &str) -> bool {
        let (Some(a), Some(n), Some(b)) = (self.id(a), self.id(size), self.id(b)) else {
            return false;
        };
        let (pa, pn, pb) = (
            &self.postings[a as usize],
            &self.postings[n as usize],
            &self.postings[b as usize],
        );
        // In that order in one of the item's names ("bloco cerâmico 8 furos" does not make
        // "furos 8 bloco" one item).
        let in_order = |e: &u32| {
            self.entries[*e as usize].phrases.iter().any(|ph| {
                let at = |id: u32| ph.iter().position(|x| *x == id);
                matches!((at(a), at(n), at(b)), (Some(x), Some(y), Some(z)) if x < y && y < z)
            })
        };
        pa.iter()
            .any(|e| pb.contains(e) && pn.contains(e) && in_order(e))
    }

    /// Two catalog words that name different products side by side ("cimento areia"): the
    /// second opens some item's name and no item has both words.
    pub(crate) fn opens_another_item(&self, before: &str, word: &str) -> bool {
        let (Some(a), Some(b)) = (self.id(before), self.id(word)) else {
            return false;
        };
        if a == b || !self.any_head[b as usize] || !self.any_head[a as usize] {
            return false;
        }
        let (pa, pb) = (&self.postings[a as usize], &self.postings[b as usize]);
        // Postings are ascending entry numbers (built in catalog order).
        !pa.iter().any(|e| pb.binary_search(e).is_ok())
    }

    /// Is the word only a complement of one of the item's aliases ("tomada" of "caixa de
    /// tomada")?
    pub(crate) fn is_complement(&self, entry: &Entry, id: u32) -> bool {
        entry.complements.binary_search(&id).is_ok()
    }

    pub(crate) fn class(&self, id: u32) -> TokClass {
        self.classes[id as usize]
    }

    pub(crate) fn word(&self, id: u32) -> &str {
        &self.words[id as usize]
    }

    /// Number of catalog items indexed.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub(crate) fn entry_by_sku(&self, sku: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.sku == sku)
    }

    /// Is this token a first word of one of the item's names ("cola" of "cola pvc")?
    pub(crate) fn is_head(&self, entry: &Entry, id: u32) -> bool {
        entry.heads.contains(&id)
            || self.variant[id as usize].is_some_and(|v| entry.heads.contains(&v))
    }

    /// The catalog item nearest to a product the customer asked for and that was not
    /// quoted ("selador em galão" → SEL-18, "cimeto branco" → CIM-BRC-1): the item whose
    /// names share the most of its words, at least one of them a product family's first
    /// word ("selador", "cimento"), typos allowed. `None` when nothing shares a family word
    /// ("porta" in a store that sells no doors): no guess is offered.
    pub fn suggest(&self, text: &str) -> Option<String> {
        let words: Vec<u32> = text::fold(text)
            .split(' ')
            .filter(|w| w.len() > 2 && !w.bytes().any(|b| b.is_ascii_digit()))
            .map(|w| text::singular(w).0)
            .filter(|w| !lexicon::is_stopword(w) && text::canonical_unit(w).is_none())
            .filter_map(|w| self.id(&w).or_else(|| self.fuzzy(&w)))
            .filter(|id| self.classes[*id as usize] == TokClass::Word)
            .collect();
        let mut best: Option<(u32, u32)> = None;
        for (e, entry) in self.entries.iter().enumerate() {
            if !words.iter().any(|id| self.is_head(entry, *id)) {
                continue;
            }
            let score = words.iter().filter(|id| entry.knows(**id)).count() as u32;
            if best.is_none_or(|(s, _)| score > s) {
                best = Some((score, e as u32));
            }
        }
        best.map(|(_, e)| self.entries[e as usize].sku.clone())
    }

    /// Do two SKUs belong to the same family (share a head word: "cimento", "telha")?
    pub(crate) fn same_family(&self, a: &str, b: &str) -> bool {
        match (self.entry_by_sku(a), self.entry_by_sku(b)) {
            (Some(x), Some(y)) => x.heads.iter().any(|h| y.heads.contains(h)),
            _ => false,
        }
    }
}

/// Tokens of a catalog name or alias: normalised like messages, connectors dropped,
/// parentheses kept as plain words.
/// Words right after "de"/"da"/"do" in a catalog phrase.
fn words_after_de(toks: &[text::Token]) -> Vec<String> {
    toks.windows(2)
        .filter(|w| matches!(w[0].text.as_str(), "de" | "da" | "do") && w[1].kind == Kind::Word)
        .map(|w| w[1].text.clone())
        .collect()
}

fn phrase_tokens(toks: &[text::Token]) -> Vec<(String, TokClass)> {
    toks.iter()
        .filter_map(|t| match t.kind {
            Kind::Word if is_connector(&t.text) => None,
            Kind::Word => {
                let class = if text::canonical_unit(&t.text).is_some() {
                    TokClass::Unit
                } else {
                    TokClass::Word
                };
                Some((t.text.clone(), class))
            }
            Kind::Num | Kind::Frac => Some((t.text.clone(), TokClass::Number)),
            _ => None,
        })
        .collect()
}

fn letter_counts(w: &str) -> [u8; 26] {
    let mut c = [0u8; 26];
    for b in w.bytes() {
        if b.is_ascii_lowercase() {
            c[(b - b'a') as usize] = c[(b - b'a') as usize].saturating_add(1);
        }
    }
    c
}

fn classify(w: &str) -> TokClass {
    if w.starts_with(|c: char| c.is_ascii_digit()) {
        TokClass::Number
    } else if text::canonical_unit(w).is_some() {
        TokClass::Unit
    } else {
        TokClass::Word
    }
}

/// `[head, size, unit]` phrases of a name: "Cimento CP-V-ARI 40kg" → cimento 40 kg;
/// "Vergalhão CA-50 3/8 (10mm)" → vergalhao 3/8, vergalhao 10 mm.
/// Water pipes and their fittings are sold by millimetres and asked for by inches: "joelho
/// 3/4" is the 25 mm soldável one, "luva de 1/2" the 20 mm. For a soldável (cold-water PVC)
/// item named with one of those diameters, its head word with the inch size, as one more
/// alias. Sewer pipes ("esgoto") are named by millimetres only.
fn pvc_inch_names(name: &str) -> Vec<String> {
    let folded = text::fold(name);
    if !folded.contains("soldavel") || folded.contains("esgoto") {
        return Vec::new();
    }
    let Some(head) = folded.split_whitespace().next() else {
        return Vec::new();
    };
    let inch = folded.split_whitespace().find_map(|w| match w {
        "20mm" => Some("1/2"),
        "25mm" => Some("3/4"),
        _ => None,
    });
    inch.map(|i| vec![format!("{head} {i}"), format!("{head} de {i}")])
        .unwrap_or_default()
}

fn name_sizes(name: &str) -> Vec<Vec<String>> {
    let toks = text::analyze(name);
    let Some(head) = toks
        .iter()
        .find(|t| t.kind == Kind::Word)
        .map(|t| t.text.clone())
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        match t.kind {
            Kind::Frac => out.push(vec![head.clone(), t.text.clone()]),
            Kind::Num => {
                let unit = toks
                    .get(i + 1)
                    .filter(|n| n.kind == Kind::Word)
                    .and_then(|n| text::canonical_unit(&n.text));
                let after_x = i > 0 && toks[i - 1].is_word("x");
                let before_x = toks.get(i + 1).is_some_and(|n| n.is_word("x"));
                if let Some(u) = unit.filter(|u| matches!(*u, "kg" | "l" | "mm" | "cm" | "m")) {
                    if !after_x && !before_x {
                        out.push(vec![head.clone(), t.text.clone(), u.to_string()]);
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// The leading words of a name, up to the first number or parenthesis ("Tábua de pinus 30cm"
/// → tabua pinu).
fn name_prefix(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    for t in text::analyze(name) {
        match t.kind {
            Kind::Word if is_connector(&t.text) => {}
            Kind::Word
                if text::canonical_unit(&t.text).is_none() && !lexicon::is_stopword(&t.text) =>
            {
                out.push(t.text)
            }
            _ => break,
        }
        if out.len() == 3 {
            break;
        }
    }
    out
}

// The index is shared between worker threads: keep it Send + Sync.
const _: fn() = || {
    fn shared<T: Send + Sync>() {}
    shared::<CatalogIndex>();
};

/// "jesso" for gesso: a soft g (before e or i) sounds like j, so a typo may swap them.
fn soft_g(typo: &[u8], word: &[u8]) -> bool {
    matches!((typo[0], word[0]), (b'j', b'g') | (b'g', b'j'))
        && typo.get(1) == word.get(1)
        && matches!(word.get(1), Some(b'e') | Some(b'i'))
}
