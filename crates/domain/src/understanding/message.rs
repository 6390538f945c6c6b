//! Reading one message: location, payment and delivery first, then clause by clause the
//! items, resolving what refers to earlier messages (quantities without a product,
//! corrections, elliptical follow-ups such as "2 de 50").

use crate::catalog::Unit;
use crate::money::{Quantity, QUANTITY_SCALE};
use crate::slots::Location;

use super::clause_items::{analyze_clause, is_count_unit, Found, Outcome};
use super::clause_split::{flags, split_clauses, Clause, Flags};
use super::index::CatalogIndex;
use super::intent::intent;
use super::lexicon;
use super::matcher;
use super::payment_and_delivery;
use super::phone;
use super::pickup;
use super::places;
use super::segment;
use super::text::{self, Token};
use super::{Correction, Draft, FoundItem, HeldAmount, Understanding, MAX_MESSAGE_CHARS};

pub(crate) fn understand_message(raw: &str, index: &CatalogIndex, draft: &Draft) -> Understanding {
    let (text, truncated) = truncate(raw);
    let (cep, mut ranges) = places::find_cep(text);
    ranges.extend(phone::find_phones(text));
    let masked = mask(text, &ranges);
    let toks = text::analyze(&masked);
    let place = places::find_place(&toks, &masked, &index.bairros);
    let mut skip = place.used.clone();
    skip.extend(payment_and_delivery::installments(&toks));
    skip.sort_unstable();
    skip.dedup();
    // A place to deliver to wins over a pickup in the same message ("retiro não, entrega no
    // Grajaú" is negated anyway; "busco ou entrega no Grajaú" has a place).
    let location = cep
        .map(Location::Cep)
        .or_else(|| place.bairro.clone().map(Location::Bairro))
        .or_else(|| pickup::wants_pickup(&toks).then_some(Location::Retirada));
    let payment = payment_and_delivery::find_payment(&toks, &skip);
    let (delivery, day_tokens) = payment_and_delivery::find_delivery_used(&toks, &skip);
    skip.extend(day_tokens);
    skip.sort_unstable();
    skip.dedup();
    let clauses = split_clauses(&toks, &skip, &masked);

    let mut st = State {
        index,
        draft,
        items: Vec::new(),
        corrections: Vec::new(),
        unknown: Vec::new(),
        price_questions: Vec::new(),
        mentions: draft.last_sku.iter().cloned().collect(),
        context: draft.context.iter().filter_map(|w| index.id(w)).collect(),
        negated: Vec::new(),
        unwanted: Vec::new(),
        no_qty: Vec::new(),
        last_sku: None,
        last_unit: None,
        draft_unit: draft
            .last_sku
            .as_ref()
            .and_then(|s| index.entry_by_sku(s))
            .and_then(|e| unit_word(e.unit)),
        min_conf: 100,
        conditions: Vec::new(),
        open_condition: None,
        removal_sentence: None,
        held: Vec::new(),
        first_choice: false,
        bare_named: None,
        ordered_in_sentence: None,
    };
    for cl in &clauses {
        let unit = st.last_unit.or(st.draft_unit);
        for piece in segment::segment(index, &toks, &masked, cl, &st.context, unit) {
            st.clause(&toks, &masked, &piece);
        }
    }
    st.finish();

    let mut items: Vec<FoundItem> = st.items;
    items.retain(|i| !i.quantity.is_zero());
    let intent = intent(
        &toks,
        raw,
        &items,
        &st.corrections,
        &st.unknown,
        location.is_some() || payment.is_some() || delivery.is_some(),
        &clauses,
    );
    let mut confidence = if items.is_empty() && st.corrections.is_empty() {
        100
    } else {
        st.min_conf
    };
    if !st.unknown.is_empty() {
        confidence = confidence.min(60);
    }
    let context = st
        .context
        .iter()
        .map(|id| index.word(*id).to_string())
        .collect();
    Understanding {
        items,
        unknown: st.unknown,
        corrections: st.corrections,
        location,
        payment,
        delivery,
        intent,
        price_questions: st.price_questions,
        confidence,
        truncated,
        last_sku: st.last_sku,
        context,
        conditions: st.conditions,
        held: st.held,
    }
}

fn truncate(text: &str) -> (&str, bool) {
    match text.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((pos, _)) => (&text[..pos], true),
        None => (text, false),
    }
}

fn mask(text: &str, ranges: &[(usize, usize)]) -> String {
    if ranges.is_empty() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    for (i, c) in text.char_indices() {
        if ranges.iter().any(|(s, e)| i >= *s && i < *e) {
            // Same byte length, so token offsets stay valid for the original text.
            for _ in 0..c.len_utf8() {
                out.push(' ');
            }
        } else {
            out.push(c);
        }
    }
    out
}

struct State<'a> {
    index: &'a CatalogIndex,
    draft: &'a Draft,
    items: Vec<FoundItem>,
    corrections: Vec<Correction>,
    unknown: Vec<String>,
    price_questions: Vec<String>,
    /// SKUs mentioned so far (oldest first), including the draft's last one.
    mentions: Vec<String>,
    context: Vec<u32>,
    negated: Vec<String>,
    /// Negated with "não precisa"/"não quero": removed unless something replaces them.
    unwanted: Vec<String>,
    /// Products named without an amount (resolved at the end: a replacement or 1 unit).
    no_qty: Vec<(String, String, u8)>,
    last_sku: Option<String>,
    /// The unit of the last amount in this message ("2 latas de pva e 1 de acrílica").
    last_unit: Option<&'static str>,
    /// The unit of the product the conversation last talked about.
    draft_unit: Option<&'static str>,
    min_conf: u8,
    /// "se não tiver …" clauses whose items were taken (for a person to see).
    conditions: Vec<String>,
    /// A condition with nothing after it yet ("caso não tenha,"): its sentence and first
    /// token; the sentence's next clauses are its alternative.
    open_condition: Option<(usize, usize)>,
    /// The sentence of the last removal ("pode tirar a areia e o ferro": the ferro too).
    removal_sentence: Option<usize>,
    held: Vec<HeldAmount>,
    /// A product was ordered under "se tiver" ("se tiver pedrisco manda 1 metro"): the
    /// "se não …" that follows is its alternative, for a person, not a second item.
    first_choice: bool,
    /// The sentence of the clause just read, when it named a product with no amount
    /// ("areia"): a "não precisa" right after it declines it.
    bare_named: Option<usize>,
    /// The sentence of the last item ordered with its amount: a "se não tiver …" after it
    /// in that sentence is its alternative, noted for a person.
    ordered_in_sentence: Option<usize>,
}

impl State<'_> {
    fn clause(&mut self, toks: &[Token], text: &str, cl: &Clause) {
        self.retarget_named_back_ref(toks, cl);
        let trimmed = self.without_back_ref_words(toks, cl);
        let cl = trimmed.as_ref().unwrap_or(cl);
        let mut flags = flags(toks, cl);
        // "qto tá o cimento" → "e a areia média?": the same question about another product,
        // not an order of one (nothing ordered yet, no amount, no verb of ordering).
        if !flags.question && self.follows_a_price_question(toks, cl) {
            flags.question = true;
        }
        // "areia | não precisa que eu tenho": the product named just before is declined.
        let bare_before = self.bare_named.take();
        if bare_before == Some(cl.sentence)
            && flags.negated
            && flags.unwanted
            && !cl
                .toks
                .iter()
                .any(|i| self.index.id(&toks[*i].text).is_some())
        {
            self.no_qty.pop();
            return;
        }
        // "pode tirar a areia e o ferro": a removal goes on through "e" in its sentence.
        if flags.removal {
            self.removal_sentence = Some(cl.sentence);
        } else if cl.after_and
            && self.removal_sentence == Some(cl.sentence)
            && !cl.toks.iter().any(|i| toks[*i].kind == text::Kind::Num)
        {
            flags.removal = true;
        } else {
            self.removal_sentence = None;
        }
        // "caso não tenha, 4 sc de cp4": the condition opens the sentence's next clauses.
        let mut opened_at = None;
        if let Some((sentence, first)) = self.open_condition {
            if sentence == cl.sentence {
                flags.conditional = true;
                flags.negated = false;
                opened_at = Some(first);
            } else {
                self.open_condition = None;
            }
        }
        // "troca a média pela fina": what is swapped out, and what comes in.
        if flags.replace {
            if let Some(split) = cl.toks.iter().position(|i| {
                matches!(
                    toks[*i].text.as_str(),
                    "por" | "pela" | "pelo" | "pra" | "para"
                )
            }) {
                let marker = cl
                    .toks
                    .iter()
                    .position(|i| lexicon::is_replace_marker(&toks[*i].text));
                if marker.is_some_and(|m| m < split) && split + 1 < cl.toks.len() {
                    let from_cl = Clause {
                        toks: cl.toks[..split].to_vec(),
                        question: false,
                        sentence: cl.sentence,
                        bullet: false,
                        after_and: false,
                        asks_product: false,
                    };
                    let to_cl = Clause {
                        toks: cl.toks[split + 1..].to_vec(),
                        question: false,
                        sentence: cl.sentence,
                        bullet: false,
                        after_and: false,
                        asks_product: false,
                    };
                    let from =
                        analyze_clause(self.index, toks, text, &from_cl, &self.context, None);
                    let from_sku = match &from {
                        Outcome::Found(f) => {
                            Some((self.index.entries[f.entry].sku.clone(), f.context.clone()))
                        }
                        _ => None,
                    };
                    let ctx = from_sku
                        .as_ref()
                        .map(|(_, c)| c.clone())
                        .unwrap_or_else(|| self.context.clone());
                    // "troca a tinta pva por acrílica": the new variant keeps the packaging
                    // of the one it replaces (the 18 L lata, not the 3,6 L galão).
                    let from_unit = from_sku
                        .as_ref()
                        .map(|(s, _)| s.clone())
                        .or_else(|| self.draft.last_sku.clone())
                        .and_then(|s| self.index.entry_by_sku(&s).map(|e| e.unit))
                        .and_then(unit_word);
                    let to = analyze_clause(self.index, toks, text, &to_cl, &ctx, from_unit);
                    if let Outcome::Found(t) = to {
                        let to_sku = self.index.entries[t.entry].sku.clone();
                        // "troca por pedra" with nothing named: the product last talked about.
                        let last_in_draft = || {
                            self.draft
                                .last_sku
                                .clone()
                                .filter(|s| self.in_draft(s))
                                .or_else(|| self.draft.items.last().map(|i| i.sku.clone()))
                        };
                        let target = match &from_sku {
                            Some((s, _)) => self.target_in_draft(s),
                            None => self.target_in_draft(&to_sku).or_else(last_in_draft),
                        };
                        if let Some(from) = target {
                            if from != to_sku {
                                let unit = self.index.entries[t.entry].unit;
                                self.corrections.push(Correction::ReplaceSku {
                                    from,
                                    to: to_sku.clone(),
                                    quantity: t.qty.map(|(v, u)| convert(v, u, unit)),
                                });
                            }
                            self.note_mention(&to_sku, t.context.clone());
                            return;
                        }
                    }
                }
            }
        }
        // "cancela tudo", "pode tirar tudo": the order is dropped.
        if flags.removal
            && cl
                .toks
                .iter()
                .any(|i| matches!(toks[*i].text.as_str(), "tudo" | "todo" | "toda" | "pedido"))
        {
            self.items.clear();
            self.no_qty.clear();
            for it in &self.draft.items {
                self.corrections.push(Correction::Remove {
                    sku: it.sku.clone(),
                });
            }
            return;
        }
        // With no amount yet in this message, an elliptical variant ("não, melhor acrílica")
        // keeps the packaging of the product last talked about.
        let unit = self.last_unit.or(self.draft_unit);
        let outcome = analyze_clause(self.index, toks, text, cl, &self.context, unit);
        // "se tiver pedrisco manda 1 metro se não | 1 metro de pó de pedra": a run-on list
        // cut after "se não" — the condition belongs to the next piece, not this one.
        if let Some(at) = trailing_condition(toks, cl).filter(|_| opened_at.is_none()) {
            flags.conditional = false;
            self.open_condition = Some((cl.sentence, at));
        }
        // "se tiver pedrisco manda 1 metro, se não 1 metro de pó de pedra": the store has
        // the first choice, so the alternative is only noted.
        // "manda 2 latas de tinta acrílica | se não tiver pode ser pva": the first choice was
        // ordered with its amount just before, in the same sentence; the same.
        let ordered_before = self.ordered_in_sentence == Some(cl.sentence);
        if flags.conditional
            && (self.first_choice || ordered_before)
            && matches!(outcome, Outcome::Found(_) | Outcome::Dangling(..))
        {
            self.note_condition(toks, text, cl, opened_at);
            return;
        }
        if !flags.conditional && opens_with_if_available(toks, cl) {
            self.first_choice |= matches!(outcome, Outcome::Found(ref f) if f.qty.is_some());
        }
        if flags.conditional {
            match outcome {
                Outcome::Found(_) | Outcome::Dangling(..) => {
                    self.note_condition(toks, text, cl, opened_at)
                }
                Outcome::Nothing if opened_at.is_none() => {
                    self.open_condition = cl.toks.first().map(|f| (cl.sentence, *f));
                }
                _ => {}
            }
        }
        match outcome {
            Outcome::Found(f) => {
                if f.qty.is_some() && !flags.conditional && !flags.negated {
                    self.ordered_in_sentence = Some(cl.sentence);
                }
                let bare = self.no_qty.len();
                self.found(f, &flags);
                if self.no_qty.len() > bare {
                    self.bare_named = Some(cl.sentence);
                }
            }
            Outcome::Unknown(t, words) => {
                if flags.removal {
                    // "tira 2 barra de ferro" when the order has one ferro: that line.
                    if let (Some(sku), Some((v, unit))) =
                        (self.only_line_named(&words), leading_amount(toks, cl))
                    {
                        self.note_mention(&sku, Vec::new());
                        self.take_off(v, unit);
                        return;
                    }
                    self.forget_unknown(toks, text, cl);
                } else if !flags.negated && !self.unknown.iter().any(|u| u == &t) {
                    // "4 telhas" (which size?): the amount waits for the product's name.
                    // "3 rolos de fio" with several fios: the same, though the clause
                    // left no catalog words as context.
                    if !words.is_empty() || super::choice::all_catalog_words(self.index, &t) {
                        if let Some((v, unit)) = leading_amount(toks, cl) {
                            self.held.push(HeldAmount {
                                text: t.clone(),
                                quantity: Quantity::from_thousandths(v),
                                unit: unit.map(str::to_string),
                            });
                        }
                    }
                    self.unknown.push(t);
                    // "tem fio 6mm?" → "se não tiver, 30 metros do de 4": the product's
                    // words stay the context for its alternative.
                    if !words.is_empty() {
                        self.context = words;
                    }
                }
            }
            Outcome::Dangling(v, unit, another) => {
                // "tira uma" after "3 caixas d'água": one less of the product last named.
                if flags.removal && !flags.negated {
                    self.take_off(v, unit);
                    return;
                }
                if flags.removal || flags.negated {
                    return;
                }
                self.dangling(v, unit, another, cl.after_and, &flags);
            }
            // "tira o ferro" when "ferro" alone names several items: the draft's lines of
            // that product go.
            Outcome::Mention(words) if flags.removal => {
                let matching: Vec<String> = self
                    .draft
                    .items
                    .iter()
                    .filter(|i| {
                        self.index
                            .entry_by_sku(&i.sku)
                            .is_some_and(|e| words.iter().all(|w| e.knows(*w)))
                    })
                    .map(|i| i.sku.clone())
                    .collect();
                self.items.retain(|i| !matching.contains(&i.sku));
                for sku in matching {
                    self.corrections.push(Correction::Remove { sku });
                }
                self.context = words;
            }
            Outcome::Mention(words) => self.context = words,
            Outcome::Nothing if flags.removal => self.forget_unknown(toks, text, cl),
            Outcome::Nothing => self.package_named_alone(toks, cl, &flags),
        }
    }

    /// An amount the draft holds for a product that this catalog entry names: every word of
    /// its text is one of the entry's words ("telhas" → the telha 1,83).
    fn held_for(&self, entry: usize) -> Option<HeldAmount> {
        let e = &self.index.entries[entry];
        self.draft
            .held
            .iter()
            .rev()
            .find(|h| {
                let words: Vec<String> = text::fold(&h.text)
                    .split(' ')
                    .filter(|w| w.len() > 2)
                    .map(|w| text::singular(w).0)
                    .filter(|w| !lexicon::is_stopword(w))
                    .collect();
                !words.is_empty()
                    && words
                        .iter()
                        .all(|w| self.index.id(w).is_some_and(|id| e.knows(id)))
            })
            .cloned()
    }

    /// "mais 15 metros do mesmo fio": after "do mesmo"/"da mesma" the product's words only
    /// repeat the product last named (which may be one of several fios); they are left out
    /// so the clause reads as "mais 15 metros do mesmo".
    /// "mais 15 metros do mesmo fio" after other products were named: "do mesmo fio" means
    /// the line the named words point at, not the product talked about last. Its name
    /// becomes the context the clause is read with.
    fn retarget_named_back_ref(&mut self, toks: &[Token], cl: &Clause) {
        let Some(p) = cl.toks.windows(2).position(|w| {
            matches!(
                toks[w[0]].text.as_str(),
                "do" | "da" | "desse" | "dessa" | "no" | "na"
            ) && matches!(toks[w[1]].text.as_str(), "mesmo" | "mesma")
        }) else {
            return;
        };
        let named: Vec<u32> = cl.toks[p + 2..]
            .iter()
            .map(|i| &toks[*i])
            .take_while(|t| t.kind == text::Kind::Word)
            .map_while(|t| self.index.id(&t.text))
            .filter(|id| self.index.class(*id) == super::index::TokClass::Word)
            .collect();
        if named.is_empty() {
            return;
        }
        let skus = self
            .items
            .iter()
            .rev()
            .map(|i| &i.sku)
            .chain(self.draft.items.iter().rev().map(|i| &i.sku));
        for sku in skus {
            let Some(e) = self.index.entry_by_sku(sku) else {
                continue;
            };
            if named.iter().all(|id| e.knows(*id)) {
                if let Some(name) = e.phrases.first() {
                    let words: Vec<u32> = name
                        .iter()
                        .copied()
                        .filter(|id| self.index.class(*id) != super::index::TokClass::Unit)
                        .collect();
                    if !words.is_empty() {
                        self.context = words;
                    }
                }
                return;
            }
        }
    }

    fn without_back_ref_words(&self, toks: &[Token], cl: &Clause) -> Option<Clause> {
        if self.context.is_empty() {
            return None;
        }
        let p = cl.toks.windows(2).position(|w| {
            matches!(
                toks[w[0]].text.as_str(),
                "do" | "da" | "desse" | "dessa" | "no" | "na"
            ) && matches!(toks[w[1]].text.as_str(), "mesmo" | "mesma")
        })?;
        let after = &cl.toks[p + 2..];
        let named = after
            .iter()
            .take_while(|i| {
                toks[**i].kind == text::Kind::Word && self.index.id(&toks[**i].text).is_some()
            })
            .count();
        if named == 0 {
            return None;
        }
        let mut kept = cl.toks[..p + 2].to_vec();
        kept.extend_from_slice(&after[named..]);
        Some(Clause {
            toks: kept,
            ..cl.clone()
        })
    }

    /// Keeps the words of a conditional clause ("se não tiver manda 10 telhas de 1,83") and
    /// lowers the message's confidence: the alternative is quoted, a person checks it.
    fn note_condition(&mut self, toks: &[Token], text: &str, cl: &Clause, from: Option<usize>) {
        let (Some(first), Some(last)) = (from.as_ref().or(cl.toks.first()), cl.toks.last()) else {
            return;
        };
        let said = text
            .get(toks[*first].start..toks[*last].end)
            .unwrap_or("")
            .trim()
            .to_string();
        if !said.is_empty() && !self.conditions.contains(&said) {
            self.conditions.push(said);
        }
        self.min_conf = self.min_conf.min(60);
    }

    /// "esquece a porta": drops an unknown product asked for earlier.
    fn forget_unknown(&mut self, toks: &[Token], text: &str, cl: &Clause) {
        let (Some(first), Some(last)) = (cl.toks.first(), cl.toks.last()) else {
            return;
        };
        let said = text
            .get(toks[*first].start..toks[*last].end)
            .unwrap_or("")
            .to_string();
        if !said.is_empty() && !self.draft.unknown.is_empty() {
            self.corrections
                .push(Correction::ForgetUnknown { text: said });
        }
    }

    fn note_mention(&mut self, sku: &str, context: Vec<u32>) {
        self.mentions.push(sku.to_string());
        self.last_sku = Some(sku.to_string());
        if !context.is_empty() {
            self.context = context;
        }
    }

    /// In the draft, or coming into it by a swap of this message ("troca pra ac3 e põe mais
    /// 5": the 5 add to the swapped line, after the swap is applied).
    fn in_draft(&self, sku: &str) -> bool {
        let drafted = |s: &str| self.draft.items.iter().any(|i| i.sku == s);
        drafted(sku)
            || self.corrections.iter().any(|c| {
                matches!(c, Correction::ReplaceSku { from, to, .. } if to == sku && drafted(from))
            })
    }

    /// The draft item a correction about `sku` refers to: itself, or its family member.
    fn target_in_draft(&self, sku: &str) -> Option<String> {
        if self.in_draft(sku) {
            return Some(sku.to_string());
        }
        // Among similar lines, the one sharing most of the new item's words ("o de 2,5 quero
        // o rolo fechado" with fio 2,5 and fio 4: the 2,5); the latest on a tie.
        let shared = |other: &str| -> usize {
            match (self.index.entry_by_sku(sku), self.index.entry_by_sku(other)) {
                (Some(a), Some(b)) => a.vocab.iter().filter(|id| b.knows(**id)).count(),
                _ => 0,
            }
        };
        let mut best: Option<(usize, &str)> = None;
        for i in self.draft.items.iter() {
            if !self.index.same_family(&i.sku, sku) {
                continue;
            }
            let n = shared(&i.sku);
            if best.is_none_or(|(b, _)| n >= b) {
                best = Some((n, i.sku.as_str()));
            }
        }
        best.map(|(_, s)| s.to_string())
    }

    fn found(&mut self, f: Found, flags: &Flags) {
        let entry = &self.index.entries[f.entry];
        let sku = entry.sku.clone();
        let unit = entry.unit;
        // "na verdade 2 rolos" after "1 rolo de fio": the unit, not the paint roller.
        if f.unit_word_only {
            if let Some((v, Some(u))) = f.qty {
                // Only a product sold in that unit takes it: "4 baldes de massa corrida e
                // 3 rolos" are rollers, not 3 baldes.
                if let Some((target, cat_unit)) = self
                    .referent(Some(u))
                    .filter(|(s, c)| s != &sku && (unit_word(*c) == Some(u) || *c != Unit::Un))
                {
                    self.set_amount(target, cat_unit, v, Some(u), flags);
                    return;
                }
            }
        }
        self.note_mention(&sku, f.context.clone());
        if flags.negated {
            if flags.unwanted {
                self.unwanted.push(sku.clone());
            }
            self.negated.push(sku);
            return;
        }
        if flags.removal {
            // "tira 2 barras de ferro" from 10: an amount smaller than the line takes that
            // many off; the whole line (or no amount) removes it.
            let unit = self.index.entries[f.entry].unit;
            let fewer = f.qty.map(|(v, u)| convert(v, u, unit));
            if let Some(pos) = self.items.iter().position(|i| i.sku == sku) {
                match fewer.and_then(|q| self.items[pos].quantity.checked_sub(q)) {
                    Some(left) if !left.is_zero() => self.items[pos].quantity = left,
                    _ => {
                        self.items.remove(pos);
                    }
                }
            } else if let Some(t) = self.target_in_draft(&sku) {
                let line = self
                    .draft
                    .items
                    .iter()
                    .find(|i| i.sku == t)
                    .map(|i| i.quantity);
                match fewer.zip(line).and_then(|(q, line)| line.checked_sub(q)) {
                    Some(left) if !left.is_zero() => {
                        self.corrections.push(Correction::SetQuantity {
                            sku: t,
                            quantity: left,
                        })
                    }
                    _ => self.corrections.push(Correction::Remove { sku: t }),
                }
            } else if !self.draft.unknown.is_empty() {
                // "tira o selador" when the selador was left unknown ("selador em galão").
                self.corrections
                    .push(Correction::ForgetUnknown { text: f.text });
            }
            return;
        }
        self.min_conf = self.min_conf.min(f.confidence);
        // The unit of this amount ("2 caixinhas" has none): an elliptical clause after it
        // ("1 de acrílica") borrows only the unit the last amount really had.
        if let Some((_, u)) = f.qty {
            self.last_unit = u;
        }
        match f.qty {
            None => {
                if flags.vague {
                    self.unknown.push(f.text);
                    return;
                }
                if flags.question {
                    if !self.price_questions.contains(&sku) {
                        self.price_questions.push(sku);
                    }
                    return;
                }
                // "as telhas são de 1,83" after "4 telhas": the amount held for it.
                if let Some(h) = self.held_for(f.entry) {
                    let unit = self.index.entries[f.entry].unit;
                    self.items.push(FoundItem {
                        sku,
                        // "1 milheiro de tijolo" → "o de 8 furos": 1,000 un.
                        quantity: convert(h.quantity.thousandths(), h.unit.as_deref(), unit),
                        confidence: f.confidence.min(80),
                        text: f.text,
                    });
                    self.min_conf = self.min_conf.min(80);
                    self.corrections
                        .push(Correction::ForgetUnknown { text: h.text });
                    return;
                }
                if f.plural {
                    self.unknown.push(f.text);
                    return;
                }
                if self.in_draft(&sku) || self.items.iter().any(|i| i.sku == sku) {
                    return;
                }
                // A sibling of a draft item named without an amount replaces it ("muda pra
                // cp4") — unless an amount for it follows ("e 5/16, 15 barras"); decided at
                // the end of the message.
                self.no_qty.push((sku, f.text, f.confidence));
            }
            Some((v, u)) => {
                if flags.vague && u.is_none_or(|u| !is_count_unit(u)) && v <= QUANTITY_SCALE {
                    self.unknown.push(f.text);
                    return;
                }
                let q = convert(v, u, unit);
                if flags.addition && self.in_draft(&sku) && !self.items.iter().any(|i| i.sku == sku)
                {
                    self.corrections
                        .push(Correction::AddQuantity { sku, quantity: q });
                    return;
                }
                match self.items.iter_mut().find(|i| i.sku == sku) {
                    // The same product twice in one message: the amounts add up.
                    Some(it) => it.quantity = it.quantity.checked_add(q).unwrap_or(it.quantity),
                    None => self.items.push(FoundItem {
                        sku,
                        quantity: q,
                        confidence: f.confidence,
                        text: f.text,
                    }),
                }
            }
        }
    }

    /// A quantity without a product attaches to the latest product it fits.
    fn dangling(
        &mut self,
        v: i64,
        unit: Option<&'static str>,
        another: bool,
        after_and: bool,
        flags: &Flags,
    ) {
        let Some((sku, cat_unit)) = self.referent(unit) else {
            self.other_package(v, unit, flags.replace);
            return;
        };
        // "1 lona de 8 metros e 1 de 6 metros": a second piece of this message's item, or
        // of the draft's when the message goes on with "e 1 de 6 metros".
        if another || flags.addition {
            let q = convert(v, unit, cat_unit);
            if let Some(it) = self.items.iter_mut().find(|i| i.sku == sku) {
                it.quantity = it.quantity.checked_add(q).unwrap_or(it.quantity);
                return;
            }
            if another && after_and && self.in_draft(&sku) {
                self.corrections
                    .push(Correction::AddQuantity { sku, quantity: q });
                return;
            }
        }
        self.set_amount(sku, cat_unit, v, unit, flags);
    }

    /// "2 latas de tinta acrílica e 1 galão": an amount in a package no product named so far
    /// is sold in. The same product in that package when the store has it (every word that
    /// named the product is the other item's too); otherwise the package of that product is
    /// unknown ("galão de selador"), never dropped.
    /// With a word of change ("troca por 50 metros" after "1 rolo de fio 2,5") any unit
    /// may name the other package, and the draft's line is replaced by it.
    fn other_package(&mut self, v: i64, unit: Option<&'static str>, replace: bool) {
        let Some(u) = unit.filter(|u| replace || matches!(*u, "galao" | "lata" | "balde")) else {
            return;
        };
        let Some(last) = self.mentions.last().cloned() else {
            return;
        };
        let words: Vec<u32> = self
            .context
            .iter()
            .copied()
            .filter(|id| self.index.class(*id) == super::index::TokClass::Word)
            .collect();
        if words.is_empty() {
            return;
        }
        let sibling = self.index.entries.iter().position(|e| {
            let fits = if replace {
                // "troca por 1 metro" of areia: the cubic metre it is sold in.
                super::matcher::unit_fit(u, e.unit) == Some(true)
            } else {
                unit_word(e.unit) == Some(u)
            };
            e.sku != last && fits && words.iter().all(|w| e.knows(*w))
        });
        match sibling {
            Some(entry) => {
                let e = &self.index.entries[entry];
                let (sku, cat_unit) = (e.sku.clone(), e.unit);
                self.note_mention(&sku, Vec::new());
                if replace && self.in_draft(&last) && !self.items.iter().any(|i| i.sku == last) {
                    self.corrections.push(Correction::ReplaceSku {
                        from: last,
                        to: sku,
                        quantity: Some(convert(v, unit, cat_unit)),
                    });
                    return;
                }
                self.set_amount(sku, cat_unit, v, unit, &Flags::default());
            }
            None if !matches!(u, "galao" | "lata" | "balde") => {}
            None => {
                let named: Vec<&str> = words.iter().map(|id| self.index.word(*id)).collect();
                let text = format!("{} de {}", u.replace("galao", "galão"), named.join(" "));
                if !self.unknown.contains(&text) {
                    self.unknown.push(text);
                }
            }
        }
    }

    /// "na verdade quero o galão", "prefiro em lata" after "2 latas de tinta acrílica": the
    /// package alone, with a word of change or preference and no amount, moves the product
    /// last named to that package (one of it when named in the singular, since the old
    /// amount counted another package).
    fn package_named_alone(&mut self, toks: &[Token], cl: &Clause, flags: &Flags) {
        let words: Vec<&Token> = cl.toks.iter().map(|i| &toks[*i]).collect();
        if words.iter().any(|t| t.kind == text::Kind::Num) {
            return;
        }
        let prefers = flags.replace
            || words
                .iter()
                .any(|t| matches!(t.text.as_str(), "quero" | "prefiro" | "prefere" | "melhor"));
        let Some(package) = words.iter().find(|t| {
            matches!(
                text::canonical_unit(&t.text),
                Some("galao" | "lata" | "balde")
            )
        }) else {
            return;
        };
        if !prefers || flags.negated || flags.question {
            return;
        }
        let before = self.corrections.len();
        let unit = text::canonical_unit(&package.text);
        self.other_package(QUANTITY_SCALE, unit, true);
        if package.plural {
            // "prefiro os galões": the amount stays what it was.
            for c in &mut self.corrections[before..] {
                if let Correction::ReplaceSku { quantity, .. } = c {
                    *quantity = None;
                }
            }
        }
    }

    /// The one line of the order (this message's or the draft's) whose product every one of
    /// `words` names; none when no line or several do.
    fn only_line_named(&self, words: &[u32]) -> Option<String> {
        if words.is_empty() {
            return None;
        }
        let mut lines = self
            .items
            .iter()
            .map(|i| &i.sku)
            .chain(self.draft.items.iter().map(|i| &i.sku))
            .filter(|sku| {
                self.index
                    .entry_by_sku(sku)
                    .is_some_and(|e| words.iter().all(|w| e.knows(*w)))
            });
        let first = lines.next()?.clone();
        lines.all(|s| *s == first).then_some(first)
    }

    /// The clause goes on from a price question of the message before: the draft has no
    /// item, its last product came from that question, and the clause opens with "e" (or
    /// follows one) and has no amount and no verb of ordering.
    fn follows_a_price_question(&self, toks: &[Token], cl: &Clause) -> bool {
        let opens_with_e = cl.after_and || cl.toks.first().is_some_and(|i| toks[*i].is_word("e"));
        opens_with_e
            && self.draft.items.is_empty()
            && self.draft.unknown.is_empty()
            && self.draft.last_sku.is_some()
            && self.items.is_empty()
            && !cl.toks.iter().any(|i| {
                let t = &toks[*i];
                t.kind == text::Kind::Num
                    || t.kind == text::Kind::Word
                        && matches!(
                            t.text.as_str(),
                            "quero"
                                | "qro"
                                | "preciso"
                                | "manda"
                                | "mande"
                                | "queria"
                                | "qria"
                                | "vou"
                                | "coloca"
                                | "poe"
                                | "bota"
                        )
            })
    }

    /// Takes an amount off the product it refers to (never below one: "tira uma" of one
    /// line of one is not read as emptying it).
    fn take_off(&mut self, v: i64, unit: Option<&'static str>) {
        let Some((sku, cat_unit)) = self.referent(unit) else {
            return;
        };
        let q = convert(v, unit, cat_unit);
        if let Some(it) = self.items.iter_mut().find(|i| i.sku == sku) {
            if let Some(left) = it.quantity.checked_sub(q).filter(|l| !l.is_zero()) {
                it.quantity = left;
            }
            return;
        }
        let line = self
            .draft
            .items
            .iter()
            .find(|i| i.sku == sku)
            .map(|i| i.quantity);
        if let Some(left) = line.and_then(|l| l.checked_sub(q)).filter(|l| !l.is_zero()) {
            self.corrections.push(Correction::SetQuantity {
                sku,
                quantity: left,
            });
        }
    }

    /// The latest product a quantity with this unit can refer to: this message's items,
    /// then products mentioned, then the draft.
    fn referent(&self, unit: Option<&'static str>) -> Option<(String, Unit)> {
        let fits = |sku: &str| -> Option<Unit> {
            let e = self.index.entry_by_sku(sku)?;
            match unit {
                Some(u) => matcher::unit_fit(u, e.unit)
                    .unwrap_or(true)
                    .then_some(e.unit),
                None => Some(e.unit),
            }
        };
        // The latest product named (this message's items are among the mentions).
        let mut target: Option<(String, Unit)> = None;
        {
            for m in self.mentions.iter().rev() {
                if let Some(u) = fits(m) {
                    target = Some((m.clone(), u));
                    break;
                }
            }
        }
        if target.is_none() {
            for it in self.draft.items.iter().rev() {
                if let Some(u) = fits(&it.sku) {
                    target = Some((it.sku.clone(), u));
                    break;
                }
            }
        }
        target
    }

    fn set_amount(
        &mut self,
        sku: String,
        cat_unit: Unit,
        v: i64,
        unit: Option<&'static str>,
        flags: &Flags,
    ) {
        let q = convert(v, unit, cat_unit);
        if let Some(it) = self.items.iter_mut().find(|i| i.sku == sku) {
            it.quantity = q;
            return;
        }
        self.no_qty.retain(|(s, _, _)| s != &sku);
        self.price_questions.retain(|s| s != &sku);
        if self.in_draft(&sku) {
            if flags.addition {
                self.corrections
                    .push(Correction::AddQuantity { sku, quantity: q });
            } else {
                self.corrections
                    .push(Correction::SetQuantity { sku, quantity: q });
            }
        } else {
            self.items.push(FoundItem {
                sku,
                quantity: q,
                confidence: 70,
                text: String::new(),
            });
            self.min_conf = self.min_conf.min(70);
        }
    }

    fn finish(&mut self) {
        let no_qty = std::mem::take(&mut self.no_qty);
        for (sku, text, conf) in no_qty {
            // "é porcelanato, não piso": the negated draft item is replaced.
            if let Some(pos) = self
                .negated
                .iter()
                .position(|n| self.in_draft(n) && n != &sku)
            {
                let from = self.negated.remove(pos);
                self.corrections.push(Correction::ReplaceSku {
                    from,
                    to: sku,
                    quantity: None,
                });
                continue;
            }
            if self.items.iter().any(|i| i.sku == sku) {
                continue;
            }
            if let Some(sib) = self.target_in_draft(&sku) {
                // Sold in another unit ("o de 2,5 quero o rolo fechado": metres → a roll),
                // the old amount means nothing for it: one, as named in the singular.
                let unit_of = |s: &str| self.index.entry_by_sku(s).map(|e| e.unit);
                let quantity = (unit_of(&sib) != unit_of(&sku)).then_some(Quantity::whole(1));
                self.corrections.push(Correction::ReplaceSku {
                    from: sib,
                    to: sku,
                    quantity,
                });
                continue;
            }
            // Named in the singular with no number: one unit.
            self.items.push(FoundItem {
                sku,
                quantity: Quantity::whole(1),
                confidence: conf.min(75),
                text,
            });
            self.min_conf = self.min_conf.min(75);
        }
        // "não precisa da cal": a draft item no longer wanted, and not replaced above.
        for sku in std::mem::take(&mut self.unwanted) {
            let still_negated = self.negated.contains(&sku);
            if still_negated && self.in_draft(&sku) && !self.items.iter().any(|i| i.sku == sku) {
                self.corrections.push(Correction::Remove { sku });
            }
        }
    }
}

/// The amount that opens a clause ("4 telhas"): a number right before a word, not after
/// "de" (a size: "de 1,83").
/// The position of a condition that ends the clause ("… se não", "… senão"), if any.
fn trailing_condition(toks: &[Token], cl: &Clause) -> Option<usize> {
    let n = cl.toks.len();
    let last = &toks[*cl.toks.last()?];
    if last.is_word("senao") {
        return Some(cl.toks[n - 1]);
    }
    (n >= 3 && matches!(last.text.as_str(), "nao" | "n") && toks[cl.toks[n - 2]].is_word("se"))
        .then(|| cl.toks[n - 2])
}

/// "se tiver …", "se tem …", "se houver …": an order on condition that the store has it.
fn opens_with_if_available(toks: &[Token], cl: &Clause) -> bool {
    let mut words = cl
        .toks
        .iter()
        .map(|i| &toks[*i])
        .filter(|t| t.kind == text::Kind::Word);
    matches!(
        (words.next(), words.next()),
        (Some(a), Some(b)) if a.is_word("se")
            && matches!(b.text.as_str(), "tiver" | "tem" | "houver" | "tiverem")
    )
}

fn leading_amount(toks: &[Token], cl: &Clause) -> Option<(i64, Option<&'static str>)> {
    cl.toks.iter().enumerate().find_map(|(k, i)| {
        let t = &toks[*i];
        // "preciso de 10 tubos": the "de" of a verb of needing opens the amount.
        let after_need = k >= 2
            && matches!(
                toks[cl.toks[k - 2]].text.as_str(),
                "preciso" | "precisava" | "precisando" | "precisamos" | "necessito"
            );
        let before_de = k > 0 && toks[cl.toks[k - 1]].is_word("de") && !after_need;
        let after = cl
            .toks
            .get(k + 1)
            .map(|n| &toks[*n])
            .filter(|n| n.kind == text::Kind::Word)?;
        // "10 metros de fio": the unit it was said in, kept with the amount.
        let unit = text::canonical_unit(&after.text).filter(|u| !matches!(*u, "l" | "mm" | "cm"));
        // After "de" a number is a size ("telha de 2,44"), unless a unit follows it
        // ("preciso de 30 metros de fio").
        (t.kind == text::Kind::Num && (!before_de || unit.is_some()) && t.value > 0)
            .then_some((t.value, unit))
    })
}

/// The word a customer uses for a catalog unit, when it tells packages apart.
fn unit_word(unit: Unit) -> Option<&'static str> {
    match unit {
        Unit::Sc => Some("saco"),
        Unit::M3 => Some("m3"),
        Unit::M2 => Some("m2"),
        Unit::M => Some("m"),
        Unit::Milheiro => Some("milheiro"),
        Unit::Kg => Some("kg"),
        Unit::Barra => Some("barra"),
        Unit::Lata => Some("lata"),
        Unit::Galao => Some("galao"),
        Unit::Rolo => Some("rolo"),
        Unit::Pc => Some("pc"),
        Unit::Un => None,
    }
}

/// Converts a stated amount into the item's catalog unit.
pub(crate) fn convert(v: i64, stated: Option<&str>, unit: Unit) -> Quantity {
    let q = Quantity::from_thousandths(v);
    match (stated, unit) {
        (Some("milheiro"), Unit::Un | Unit::Pc) => q.scale(1000, 1),
        (Some("milheiro"), Unit::Milheiro) => q,
        (Some("duzia"), _) => q.scale(12, 1),
        (_, Unit::Milheiro) => q.scale(1, 1000),
        _ => q,
    }
}
