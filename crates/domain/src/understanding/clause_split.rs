//! Splitting a message into clauses (lines, punctuation, "e", "+", "/", before "mais") and
//! reading each clause's markers: negation, removal, addition, replacement, question, vague
//! amount. A question mark or word makes the whole sentence a question.

use crate::money::QUANTITY_SCALE;

use super::lexicon;
use super::text::{self, Kind, Token};

/// A clause: token indices (into the message tokens) and how it ended.
#[derive(Debug, Clone)]
pub(crate) struct Clause {
    pub toks: Vec<usize>,
    pub question: bool,
    /// Index of the sentence (up to '.', '?', '!' or a new line) the clause belongs to.
    pub sentence: usize,
    /// The clause opens a line that starts with a bullet, a dash or "1)".
    pub bullet: bool,
    /// The clause followed an "e" ("tem pá e enxada?": the enxada is asked for too).
    pub after_and: bool,
    /// The clause asks whether a product is sold ("tem X?", "vende X?"), itself or as the
    /// continuation of such a question ("tem porta? e janela?").
    pub asks_product: bool,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Flags {
    pub negated: bool,
    /// "não precisa da cal": the product is not wanted at all.
    pub unwanted: bool,
    pub removal: bool,
    pub addition: bool,
    pub replace: bool,
    pub question: bool,
    pub vague: bool,
    /// "se não tiver manda 10 telhas de 1,83": an alternative to quote, with a condition
    /// a person should see.
    pub conditional: bool,
}

/// "se"/"caso" before "não": the "não" opens a condition ("se não tiver…").
fn is_condition_opener(t: &Token) -> bool {
    t.is_word("se") || t.is_word("caso")
}

fn is_boundary_punct(t: &Token) -> bool {
    t.kind == Kind::Punct
        && matches!(
            t.text.as_str(),
            "," | ";" | "." | "?" | "!" | "+" | "|" | "/"
        )
}

pub(crate) fn split_clauses(toks: &[Token], skip: &[usize], text: &str) -> Vec<Clause> {
    let mut out = Vec::new();
    let mut cur: Vec<usize> = Vec::new();
    let mut line_start_byte = 0usize;
    let mut first_on_line = true;
    let mut bullet = false;
    let mut after_and = false;
    let ordinals = list_ordinals(toks);
    let flush = |cur: &mut Vec<usize>,
                 out: &mut Vec<Clause>,
                 question: bool,
                 bullet: bool,
                 after_and: &mut bool| {
        if !cur.is_empty() {
            out.push(Clause {
                toks: std::mem::take(cur),
                question,
                sentence: 0,
                bullet,
                after_and: *after_and,
                asks_product: false,
            });
            *after_and = false;
        }
    };
    for (i, t) in toks.iter().enumerate() {
        if t.kind == Kind::Newline {
            flush(&mut cur, &mut out, false, bullet, &mut after_and);
            after_and = false;
            line_start_byte = t.end;
            first_on_line = true;
            bullet = false;
            continue;
        }
        if first_on_line {
            first_on_line = false;
            let prefix = text.get(line_start_byte..t.start).unwrap_or("");
            // "*📍 Local:*" is bold markdown, not a bullet; "✅ 3 latas", "- 10 sc" are.
            bullet = prefix
                .chars()
                .any(|c| !c.is_whitespace() && c != '*' && !is_template_marker(c))
                || t.is_punct('-')
                || (t.is_punct('*') && text.get(t.end..).is_some_and(|r| r.starts_with(' ')))
                || is_ordinal(toks, i)
                || ordinals.contains(&i);
            if is_ordinal(toks, i) || ordinals.contains(&i) {
                // "1) caixa d'água", "2 - 3 barras": an ordinal, not a quantity.
                continue;
            }
        }
        if skip.binary_search(&i).is_ok() {
            continue;
        }
        // "1) cimento 10 sacos 2) areia 3 m": ordinals inside a line end a clause.
        let opened = i > 0 && toks[i - 1].is_punct('(');
        if t.kind == Kind::Num && !opened && toks.get(i + 1).is_some_and(|n| n.is_punct(')')) {
            flush(&mut cur, &mut out, false, bullet, &mut after_and);
            continue;
        }
        if t.is_punct(')')
            && i > 0
            && toks[i - 1].kind == Kind::Num
            && !(i > 1 && toks[i - 2].is_punct('('))
        {
            continue;
        }
        if is_boundary_punct(t) {
            let q = t.is_punct('?');
            flush(&mut cur, &mut out, q, bullet, &mut after_and);
            continue;
        }
        if t.is_word("e") && !is_verb_e(toks, i, text) {
            flush(&mut cur, &mut out, false, bullet, &mut after_and);
            after_and = true;
            continue;
        }
        // "cimento comum (não quero cp4)": a negation opens a clause of its own, so the
        // negated product is not read together with the wanted one.
        // "se não tiver, manda 10 telhas": a condition, not a negation, so no new clause.
        let conditional = i > 0 && is_condition_opener(&toks[i - 1]);
        // "cimento não, cal": a "não" that closes its clause negates what it closes.
        let closing = toks
            .get(i + 1)
            .is_none_or(|n| is_boundary_punct(n) || n.kind == Kind::Newline);
        if t.is_word("mais") && !cur.is_empty()
            || t.is_word("nao") && !cur.is_empty() && !conditional && !closing
        {
            flush(&mut cur, &mut out, false, bullet, &mut after_and);
            cur.push(i);
            continue;
        }
        cur.push(i);
    }
    flush(&mut cur, &mut out, false, bullet, &mut after_and);
    // "Qtd: 10 | Produto: cimento": an amount alone, then the product on the same line.
    let mut merged: Vec<Clause> = Vec::with_capacity(out.len());
    for cl in out {
        if let Some(prev) = merged.last_mut() {
            let (Some(pl), Some(cf)) = (prev.toks.last().copied(), cl.toks.first().copied()) else {
                merged.push(cl);
                continue;
            };
            let same_line = !toks[pl..cf].iter().any(|t| t.kind == Kind::Newline);
            let soft_break = toks[pl + 1..cf]
                .iter()
                .all(|t| t.is_punct('|') || t.is_punct(','));
            let amount_only = |c: &Clause| {
                c.toks.iter().any(|i| toks[*i].kind == Kind::Num)
                    && c.toks.iter().all(|i| {
                        let t = &toks[*i];
                        t.kind != Kind::Word
                            || lexicon::is_stopword(&t.text)
                            || text::canonical_unit(&t.text).is_some()
                    })
            };
            let names_without_amount = |c: &Clause| {
                !c.toks
                    .iter()
                    .any(|i| matches!(toks[*i].kind, Kind::Num | Kind::Frac))
                    && c.toks.iter().any(|i| {
                        let t = &toks[*i];
                        t.kind == Kind::Word
                            && !lexicon::is_chat_word(&t.text)
                            && text::canonical_unit(&t.text).is_none()
                    })
            };
            if same_line
                && soft_break
                && !prev.question
                && amount_only(prev)
                && names_without_amount(&cl)
            {
                prev.toks.extend(cl.toks);
                prev.question |= cl.question;
                continue;
            }
        }
        merged.push(cl);
    }
    let mut out = merged;
    // Sentences: a question mark or a question word makes every clause of the sentence a
    // question ("quanto tá o tijolo e o bloco 14?").
    let mut sentence = 0;
    let mut prev_end: Option<usize> = None;
    for cl in out.iter_mut() {
        let first = cl.toks.first().copied().unwrap_or(0);
        if let Some(pe) = prev_end {
            if toks[pe..first].iter().any(|t| {
                t.kind == Kind::Newline || t.is_punct('.') || t.is_punct('?') || t.is_punct('!')
            }) {
                sentence += 1;
            }
        }
        cl.sentence = sentence;
        prev_end = cl.toks.last().copied();
    }
    let asks = |cl: &Clause| {
        cl.question
            || cl.toks.iter().any(|i| {
                matches!(
                    toks[*i].text.as_str(),
                    "quanto"
                        | "quantos"
                        | "quantas"
                        | "qto"
                        | "qnto"
                        | "preco"
                        | "valor"
                        | "custa"
                        | "qual"
                )
            })
    };
    let mut question_sentences: Vec<usize> =
        out.iter().filter(|c| asks(c)).map(|c| c.sentence).collect();
    // "boa noite vcs tem areia fina", "tem cimento cp2": a sentence that opens with "do you
    // have / sell" and carries no amount asks, with or without its "?" (people leave it out).
    let sentences = out.last().map_or(0, |c| c.sentence + 1);
    for n in 0..sentences {
        let sentence: Vec<usize> = out
            .iter()
            .filter(|c| c.sentence == n)
            .flat_map(|c| c.toks.iter().copied())
            .collect();
        if opens_with_sold_question(toks, &sentence) && !has_amount(toks, &sentence) {
            question_sentences.push(n);
        }
    }
    for cl in out.iter_mut() {
        if question_sentences.contains(&cl.sentence) {
            cl.question = true;
        }
    }
    // "tem pá e enxada?", "tem porta? e janela?": the question about what is sold carries
    // over to the products joined to it.
    let mut prev: Option<(bool, usize)> = None;
    for cl in out.iter_mut() {
        let own = cl.question
            && cl
                .toks
                .iter()
                .any(|i| lexicon::is_sold_question_verb(&toks[*i].text));
        // "tem pia? e torneira": an "e" right after the question asks about the next
        // product too, even without its own question mark (not "e 10 sacos de areia").
        let no_amount = !cl
            .toks
            .iter()
            .any(|i| matches!(toks[*i].kind, Kind::Num | Kind::Frac));
        let carried = prev.is_some_and(|(asks, sentence)| {
            asks && (cl.question && (sentence == cl.sentence || cl.after_and)
                || cl.after_and && no_amount && cl.sentence == sentence + 1)
        });
        cl.asks_product = own || carried;
        prev = Some((cl.asks_product, cl.sentence));
    }
    out
}

/// Does the clause open (after greetings and "vcs") with a "do you have / sell" verb —
/// "tem", "vende", "trabalham com" — and not "tem que" ("tem que ser cp2")?
fn opens_with_sold_question(toks: &[Token], cl: &[usize]) -> bool {
    let words = cl
        .iter()
        .map(|i| &toks[*i])
        .filter(|t| t.kind == Kind::Word)
        .map(|t| t.text.as_str());
    let mut rest = words.skip_while(|w| lexicon::is_question_opener_filler(w));
    match (rest.next(), rest.next()) {
        (Some(verb), next) => {
            lexicon::is_sold_question_verb(verb)
                && verb != "tinha"
                && !matches!(next, Some("que" | "q" | "como"))
        }
        _ => false,
    }
}

/// An amount in a "tem …" sentence: a number right after the verb ("tem 10 sacos de
/// cimento") or before a unit of sale ("tem cimento, 10 sacos"). A size is not one ("tem
/// bloco de 14", "telha de 1,83").
fn has_amount(toks: &[Token], sentence: &[usize]) -> bool {
    sentence.iter().enumerate().any(|(k, i)| {
        if !matches!(toks[*i].kind, Kind::Num | Kind::Frac) {
            return false;
        }
        let after_verb = k > 0 && lexicon::is_sold_question_verb(&toks[sentence[k - 1]].text);
        let unit_next = sentence.get(k + 1).is_some_and(|n| {
            text::canonical_unit(&toks[*n].text)
                .is_some_and(|u| u == "m" || super::clause_items::is_count_unit(u))
        });
        after_verb || unit_next
    })
}

/// "não é cp4", "é o comum": the verb "é" (or "e" written for it right after "não") does
/// not join two products.
fn is_verb_e(toks: &[Token], i: usize, text: &str) -> bool {
    let t = &toks[i];
    let accented = text
        .get(t.start..t.end)
        .is_some_and(|raw| raw == "é" || raw == "É");
    accented || i > 0 && toks[i - 1].is_word("nao")
}

/// Numbers opening consecutive lines as "1 -", "2 -", "3 -" (or "1:"): the numbering of
/// a list, not amounts. Only a run counting up from 1 is taken as a numbering.
fn list_ordinals(toks: &[Token]) -> Vec<usize> {
    let mut starts: Vec<(usize, i64)> = Vec::new();
    let mut line_start = true;
    for (i, t) in toks.iter().enumerate() {
        if t.kind == Kind::Newline {
            line_start = true;
            continue;
        }
        if line_start
            && t.kind == Kind::Num
            && !t.from_word
            && t.value % QUANTITY_SCALE == 0
            && toks
                .get(i + 1)
                .is_some_and(|n| n.is_punct('-') || n.is_punct(':') || n.is_punct(')'))
        {
            starts.push((i, t.value / QUANTITY_SCALE));
        }
        line_start = false;
    }
    let counts_up = starts.len() >= 2
        && starts
            .iter()
            .enumerate()
            .all(|(k, (_, v))| *v == k as i64 + 1);
    if counts_up {
        starts.into_iter().map(|(i, _)| i).collect()
    } else {
        Vec::new()
    }
}

/// "1)" or "1." opening a list line: an ordinal, not a quantity.
fn is_ordinal(toks: &[Token], i: usize) -> bool {
    let t = &toks[i];
    t.kind == Kind::Num
        && !t.from_word
        && t.value <= 99 * QUANTITY_SCALE
        && toks.get(i + 1).is_some_and(|n| {
            n.is_punct(')')
                || n.is_punct('.')
                    && toks.get(i + 2).is_some_and(|w| {
                        // "1. Cimento", "1. 20 barras" (a space after the dot)
                        w.kind == Kind::Word && text::canonical_unit(&w.text).is_none()
                            || w.kind == Kind::Num && w.start > n.end
                    })
        })
}

/// The store's template field markers (📍 place, 💳 payment, 📅 day, 📦 items).
fn is_template_marker(c: char) -> bool {
    matches!(c, '📍' | '💳' | '📅' | '📦' | '\u{fe0f}')
}

pub(crate) fn flags(toks: &[Token], cl: &Clause) -> Flags {
    let mut f = Flags {
        question: cl.question,
        ..Flags::default()
    };
    for (k, i) in cl.toks.iter().enumerate() {
        let t = &toks[*i];
        if t.kind != Kind::Word {
            continue;
        }
        let w = t.text.as_str();
        let after_condition = k > 0 && is_condition_opener(&toks[cl.toks[k - 1]]);
        if matches!(w, "nao" | "n") && after_condition || w == "senao" {
            f.conditional = true;
        } else if k < 3 && matches!(w, "nao" | "n") {
            f.negated = true;
        }
        // "sem a cal": leave it out.
        if k == 0 && w == "sem" {
            f.removal = true;
        }
        f.unwanted |= matches!(w, "precisa" | "preciso" | "precisar");
        f.removal |= lexicon::is_removal(w);
        f.addition |= lexicon::is_addition(w);
        f.replace |= lexicon::is_replace_marker(w);
        f.vague |= lexicon::is_vague(w)
            || w == "uns"
                && cl
                    .toks
                    .get(k + 1)
                    .is_some_and(|n| toks[*n].kind != Kind::Num);
        if matches!(
            w,
            "quanto"
                | "quantos"
                | "quantas"
                | "qto"
                | "qnto"
                | "preco"
                | "valor"
                | "custa"
                | "qual"
        ) {
            f.question = true;
        }
    }
    // "tira uma, vou levar só 2": the amount kept is said; it sets the line, nothing is
    // taken off it.
    let keeps_amount = cl.toks.iter().enumerate().any(|(k, i)| {
        matches!(toks[*i].text.as_str(), "so" | "somente" | "apenas")
            && match cl.toks.get(k + 1).map(|n| &toks[*n]) {
                Some(n) if n.kind == Kind::Num => true,
                // "só com 3", "só os 3"
                Some(n) if matches!(n.text.as_str(), "com" | "os" | "as") => cl
                    .toks
                    .get(k + 2)
                    .is_some_and(|m| toks[*m].kind == Kind::Num),
                _ => false,
            }
    });
    // "mt caro o cp5", "o cp5 tá caro": a remark on the price, not an order — read like a
    // price question. Not with an amount in the clause ("10 sc de cimento, tá caro?" still
    // orders them), nor "cara" opening it ("cara, me vê o cimento": "dude").
    let has_amount = cl.toks.iter().any(|i| toks[*i].kind == Kind::Num);
    let price_remark = cl.toks.iter().enumerate().any(|(k, i)| {
        let w = toks[*i].text.as_str();
        matches!(w, "caro" | "carissimo" | "salgado") || w == "cara" && k > 0
    });
    if price_remark && !has_amount {
        f.question = true;
    }
    if keeps_amount && f.removal {
        f.removal = false;
    }
    // "areia eu já tenho", "cimento já tem aqui": the customer has it; not an order.
    let has_it = cl.toks.windows(2).any(|w| {
        matches!(toks[w[0]].text.as_str(), "ja" | "eu")
            && matches!(toks[w[1]].text.as_str(), "tenho" | "tem" | "temos")
    });
    if has_it {
        f.negated = true;
        f.unwanted = true;
    }
    f.unwanted &= f.negated;
    f
}
