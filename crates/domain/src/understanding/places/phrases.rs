//! Finding the bairro in a message: street addresses ("Rua X, 45 - Jardim Miriam"), known
//! bairros anywhere, and phrasing ("no bairro X", "aqui no Jd X", "entrega em Interlagos").

use super::gazetteer::{is_city, lookup, word_eq, Bairro, Gazetteer};
use super::names::{canonical_free_name, dotted_abbrev, expand_abbrev, is_connector};
use crate::understanding::lexicon;
use crate::understanding::text::{self, Kind, Token};

/// Words that open a bairro name.
fn is_place_prefix(w: &str) -> bool {
    matches!(
        w,
        "jardim"
            | "vila"
            | "parque"
            | "cidade"
            | "conjunto"
            | "residencial"
            | "chacara"
            | "recanto"
            | "jardin"
            | "sitio"
            | "morro"
            | "alto"
            | "balneario"
            | "loteamento"
            | "bairro"
            | "nucleo"
            | "estancia"
            | "portal"
            | "condominio"
    )
}

/// Words after which a capitalised name is a place: "entrega em Interlagos".
fn is_place_cue(w: &str) -> bool {
    matches!(w, "no" | "na" | "em" | "bairro")
}

/// Words before a bairro the store already knows: "pro Parelheiros", "pra Vila Andrade",
/// "até o Grajaú", "lá no Socorro". Broader than [`is_place_cue`]: the name must still be a
/// known bairro, so "pra amanhã" or "pro pedreiro" never read as places.
fn is_known_place_cue(w: &str) -> bool {
    is_place_cue(w) || matches!(w, "pro" | "pra" | "para" | "ate" | "p" | "aqui" | "perto")
}

/// Street words: the address's own name is not an order, a weekday or a bairro.
fn is_street_word(w: &str) -> bool {
    matches!(
        w,
        "rua"
            | "r"
            | "av"
            | "avenida"
            | "travessa"
            | "tv"
            | "estrada"
            | "estr"
            | "alameda"
            | "al"
            | "praca"
            | "rodovia"
            | "viela"
            | "largo"
    )
}

/// "Rua São Benedito", "Av. Santa Catarina": "são" is also a verb (a stopword), but after
/// a street word it opens the street's name.
fn is_saint_title(w: &str) -> bool {
    matches!(
        w,
        "sao" | "santa" | "santo" | "dom" | "dona" | "padre" | "frei"
    )
}

/// What may follow a house number: "casa 2", "apto 12", "fundos", "lote 5".
fn is_address_complement(w: &str) -> bool {
    matches!(
        w,
        "casa"
            | "apto"
            | "ap"
            | "apartamento"
            | "fundos"
            | "fundo"
            | "lote"
            | "lt"
            | "quadra"
            | "qd"
            | "sala"
            | "bl"
    )
}

/// After a house number a building's parts are the address too ("50 bloco 9 apto 14");
/// before a street "bloco" is more likely the product, so it is only read here.
fn is_complement_after_number(w: &str) -> bool {
    is_address_complement(w) || matches!(w, "bloco" | "torre" | "andar" | "conjunto" | "cj")
}

/// A bairro found in the message, and the token indices it and any street address used.
#[derive(Debug, Clone)]
pub(crate) struct PlaceFound {
    pub bairro: Option<String>,
    /// Token indices (into the normalised tokens) that belong to the place or address.
    pub used: Vec<usize>,
}

pub(crate) fn find_place(toks: &[Token], text: &str, gaz: &Gazetteer) -> PlaceFound {
    // The dot of "S. Mateus" would end the name at "S": read the abbreviation and its dot
    // as one word, then map the token positions back for the caller.
    let mut joined: Vec<Token> = Vec::with_capacity(toks.len());
    let mut origin: Vec<usize> = Vec::with_capacity(toks.len());
    let mut k = 0;
    while k < toks.len() {
        let t = &toks[k];
        let expansion = (t.kind == Kind::Word)
            .then(|| dotted_abbrev(&t.text))
            .flatten();
        if let Some(full) = expansion {
            if toks
                .get(k + 1)
                .is_some_and(|d| d.is_punct('.') && d.start == t.end)
                && toks.get(k + 2).is_some_and(|n| n.kind == Kind::Word)
            {
                let mut w = t.clone();
                w.text = full.to_string();
                w.end = toks[k + 1].end;
                joined.push(w);
                origin.push(k);
                k += 2;
                continue;
            }
        }
        joined.push(t.clone());
        origin.push(k);
        k += 1;
    }
    let mut found = find_place_in(&joined, text, gaz);
    let mut used = Vec::with_capacity(found.used.len());
    for j in &found.used {
        let o = origin[*j];
        used.push(o);
        if joined[*j].end != toks[o].end {
            used.push(o + 1);
        }
    }
    found.used = used;
    found
}

fn find_place_in(toks: &[Token], text: &str, gaz: &Gazetteer) -> PlaceFound {
    let mut used = Vec::new();
    let mut bairro = street_address_bairro(toks, text, &gaz.list, &mut used);
    if let Some((s, n, b)) = known_bairro(toks, gaz, &used) {
        used.extend(s..s + n);
        if bairro.is_none() {
            bairro = Some(b.canonical.clone());
        }
    }
    if bairro.is_none() {
        bairro = phrased_bairro(toks, text, &mut used);
    }
    used.sort_unstable();
    used.dedup();
    PlaceFound { bairro, used }
}

/// Street addresses: "Rua X, 45 - Bairro" / "Rua X 2000, Bairro". The street itself is
/// masked (its tokens go to `used`); what follows the house number is the bairro (the last
/// address's, if several).
fn street_address_bairro(
    toks: &[Token],
    text: &str,
    bairros: &[Bairro],
    used: &mut Vec<usize>,
) -> Option<String> {
    let mut bairro = None;
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        // "a rua tem muita pedra": the noun, not an address; a street's name never opens
        // with a filler word.
        let street = t.kind == Kind::Word
            && is_street_word(&t.text)
            && i + 1 < toks.len()
            && (toks[i + 1].kind == Kind::Word
                && (!lexicon::is_stopword(&toks[i + 1].text)
                    || is_connector(&toks[i + 1].text)
                    || is_saint_title(&toks[i + 1].text))
                || toks[i + 1].is_punct('.'))
            && (t.text != "r" || toks[i + 1].is_punct('.'));
        if street {
            // "casa 3 fundos rua das flores 88": the complement written before the street.
            let mut b = i;
            while b > 0 {
                let prev = &toks[b - 1];
                if prev.kind == Kind::Word && is_address_complement(&prev.text) {
                    b -= 1;
                } else if prev.kind == Kind::Num
                    && b >= 2
                    && toks[b - 2].kind == Kind::Word
                    && is_address_complement(&toks[b - 2].text)
                {
                    b -= 2;
                } else {
                    break;
                }
            }
            used.extend(b..i);
            let mut j = i + 1;
            let mut saw_number = false;
            let mut words = 0;
            while j < toks.len() && toks[j].kind != Kind::Newline {
                let tj = &toks[j];
                if tj.kind == Kind::Num {
                    // "rua x. 2 latas", "rua das flores 5 metro de areia": an amount ends
                    // the street without being its number.
                    if toks.get(j + 1).is_some_and(|u| {
                        u.kind == Kind::Word && text::canonical_unit(&u.text).is_some()
                    }) {
                        break;
                    }
                    saw_number = true;
                    used.push(j);
                    j += 1;
                    break;
                }
                if tj.is_punct(',') && j + 1 < toks.len() && toks[j + 1].kind != Kind::Num {
                    break;
                }
                // "Rua Eduardo Cotching. 2 latas": a full stop ends the street.
                if j > i + 1 && (tj.is_punct('.') || tj.is_punct('?') || tj.is_punct('!')) {
                    break;
                }
                if tj.kind == Kind::Word {
                    words += 1;
                    if words > 6 {
                        break;
                    }
                }
                used.push(j);
                j += 1;
            }
            used.push(i);
            // "av sapopemba 5000 casa 2", "… 45 apto 12": the rest of the address.
            if saw_number {
                loop {
                    // "…, 50, bloco 9 apto 14 - Jd Herculano": a comma may come first.
                    let k = if toks[j..].first().is_some_and(|t| t.is_punct(',')) {
                        j + 1
                    } else {
                        j
                    };
                    if !(k + 1 < toks.len()
                        && toks[k].kind == Kind::Word
                        && is_complement_after_number(&toks[k].text))
                    {
                        break;
                    }
                    used.extend(j..=k);
                    j = k + 1;
                    if toks[j].kind == Kind::Num {
                        used.push(j);
                        j += 1;
                    }
                }
            }
            // After the number (or comma): optional '-'/',' then the bairro words.
            // "…, 120 - Jd Miriam", "… 120 no jd miriam", "…, 55, bairro Butantã"
            let before = j;
            while j < toks.len()
                && (toks[j].is_punct('-')
                    || toks[j].is_punct(',')
                    || toks[j].kind == Kind::Word && is_place_cue(&toks[j].text))
            {
                j += 1;
            }
            let marked = j > before;
            let (mut name_toks, end) = name_run(toks, j, false);
            cut_to_bairro(toks, bairros, &mut name_toks);
            if !name_toks.is_empty() {
                let words: Vec<&str> = name_toks
                    .iter()
                    .map(|k| &text[toks[*k].start..toks[*k].end])
                    .collect();
                let folded = text::fold(&words.join(" "));
                let known = lookup(
                    bairros,
                    &name_toks
                        .iter()
                        .map(|k| toks[*k].text.as_str())
                        .collect::<Vec<_>>(),
                );
                // Right after the number, only something that looks like a bairro
                // ("300 jardim herculano", "120 Vila Formosa"), not the order going on.
                let first = &toks[name_toks[0]];
                let looks_like = known.is_some()
                    || marked
                    || is_place_prefix(expand_abbrev(&first.text))
                    || name_toks
                        .iter()
                        .all(|k| toks[*k].cap || is_connector(&toks[*k].text));
                if !is_city(&folded) && looks_like && (saw_number || marked) {
                    let name = known.unwrap_or_else(|| canonical_free_name(&words));
                    used.extend(name_toks.iter().copied());
                    bairro = Some(name);
                }
            }
            i = end.max(i + 1);
            continue;
        }
        i += 1;
    }
    bairro
}

/// The words after a house number run on into the order ("45 jd miriam entrega amanhã
/// cedo 10 sacos"): keep the longest start that is a known bairro, or else stop a free name
/// at the first everyday word (a day, "entrega", "pago") that is not capitalised.
fn cut_to_bairro(toks: &[Token], bairros: &[Bairro], name_toks: &mut Vec<usize>) {
    let words = |n: usize| -> Vec<&str> {
        name_toks[..n]
            .iter()
            .map(|k| toks[*k].text.as_str())
            .collect()
    };
    if let Some(n) = (1..=name_toks.len())
        .rev()
        .find(|n| lookup(bairros, &words(*n)).is_some())
    {
        name_toks.truncate(n);
        return;
    }
    if let Some(cut) = name_toks.iter().skip(1).position(|k| {
        let t = &toks[*k];
        !t.cap
            && !is_connector(&t.text)
            && !is_place_prefix(expand_abbrev(&t.text))
            && lexicon::is_chat_word(&t.text)
    }) {
        name_toks.truncate(cut + 1);
    }
    while name_toks
        .last()
        .is_some_and(|i| is_connector(&toks[*i].text))
    {
        name_toks.pop();
    }
}

/// Known bairros anywhere outside the tokens already `used` (longest first, then the last);
/// one-word names need a cue or a capital. Returns (start, length, bairro).
fn known_bairro<'g>(
    toks: &[Token],
    gaz: &'g Gazetteer,
    used: &[usize],
) -> Option<(usize, usize, &'g Bairro)> {
    let bairros = &gaz.list;
    let folded: Vec<String> = toks
        .iter()
        .map(|t| {
            if t.kind == Kind::Word {
                expand_abbrev(&t.text).to_string()
            } else {
                String::new()
            }
        })
        .collect();
    let mut best: Option<(usize, usize, &Bairro)> = None;
    for s in 0..folded.len() {
        if folded[s].is_empty() || used.contains(&s) {
            continue;
        }
        for bi in gaz.starting_with(&folded[s]) {
            let b = &bairros[*bi];
            let n = b.words.len();
            if n == 0 || s + n > folded.len() {
                continue;
            }
            if (1..n).all(|k| word_eq(&folded[s + k], &b.words[k], k)) {
                let word_before = |k: usize| {
                    s >= k
                        && toks[s - k].kind == Kind::Word
                        && is_known_place_cue(&toks[s - k].text)
                };
                // "pro parelheiros", "para o grajaú", "até o socorro".
                let article = s > 0 && matches!(toks[s - 1].text.as_str(), "o" | "a");
                let cue = word_before(1)
                    || article && word_before(2)
                    || s > 0 && toks[s - 1].is_punct(':')
                    || s > 1 && toks[s - 1].is_punct(',') && toks[s - 2].kind == Kind::Num;
                // A one-word name that is also a function word ("Sé" is "se") says nothing
                // by a capital or a comma after a number ("manda 800, se não…", "Se não
                // tiver…"): only a place word before it or a line of its own.
                let function_word = n == 1 && lexicon::is_stopword(&folded[s]);
                let ok = if function_word {
                    word_before(1) || article && word_before(2) || alone_on_line(toks, s, n)
                } else {
                    n > 1 || cue || toks[s].cap || b.distinctive || alone_on_line(toks, s, n)
                };
                if ok && best.is_none_or(|(bs, bn, _)| n > bn || (n == bn && s > bs)) {
                    best = Some((s, n, b));
                }
            }
        }
    }
    best.or_else(|| loosely_named_bairro(toks, &folded, gaz, used))
}

/// After a cue ("entrega em guaianazes", "no capão"), a bairro named loosely: its first word
/// with one slip (words of six letters or more), or only the first word of a longer name when
/// that word is no prefix ("jardim", "são") and starts no other bairro ("capão" → Capão
/// Redondo, "ermelino" → Ermelino Matarazzo). One bairro only, or none.
fn loosely_named_bairro<'g>(
    toks: &[Token],
    folded: &[String],
    gaz: &'g Gazetteer,
    used: &[usize],
) -> Option<(usize, usize, &'g Bairro)> {
    let cue_at = |s: usize| {
        let word_before = |k: usize| {
            s >= k && toks[s - k].kind == Kind::Word && is_known_place_cue(&toks[s - k].text)
        };
        let article = s > 0 && matches!(toks[s - 1].text.as_str(), "o" | "a");
        word_before(1) || article && word_before(2)
    };
    let mut found = None;
    for s in 0..folded.len() {
        let w = folded[s].as_str();
        if w.len() < 4 || used.contains(&s) || !(cue_at(s) || alone_on_line(toks, s, 1)) {
            continue;
        }
        if is_place_prefix(w) || is_saint_title(w) || lexicon::is_chat_word(w) {
            continue;
        }
        let starts: Vec<&Bairro> = gaz
            .list
            .iter()
            .filter(|b| b.words.len() > 1 && word_eq(w, &b.words[0], 0))
            .collect();
        if let [b] = starts.as_slice() {
            found = Some((s, 1, *b));
            continue;
        }
        if !starts.is_empty() || w.len() < 6 {
            continue;
        }
        let slips: Vec<&Bairro> = gaz
            .list
            .iter()
            .filter(|b| {
                let n = b.words.len();
                s + n <= folded.len()
                    && b.words[0].len() >= 6
                    // Message words come singular ("guaianaze"): compare both forms.
                    && [b.words[0].clone(), text::singular(&b.words[0]).0]
                        .iter()
                        .any(|p| text::edit_distance(w.as_bytes(), p.as_bytes(), 1) <= 1)
                    && (1..n).all(|k| word_eq(&folded[s + k], &b.words[k], k))
            })
            .collect();
        if let [b] = slips.as_slice() {
            found = Some((s, b.words.len(), *b));
        }
    }
    found
}

/// The name is the only word of its line or message ("📍 grajau", a turn that says just
/// "pedreira"): an answer to "qual o bairro?", not a word of the order.
fn alone_on_line(toks: &[Token], s: usize, n: usize) -> bool {
    let line_start = toks[..s]
        .iter()
        .rposition(|t| t.kind == Kind::Newline)
        .map_or(0, |p| p + 1);
    let line_end = toks[s + n..]
        .iter()
        .position(|t| t.kind == Kind::Newline)
        .map_or(toks.len(), |p| s + n + p);
    let words_around = toks[line_start..s]
        .iter()
        .chain(&toks[s + n..line_end])
        .filter(|t| t.kind == Kind::Word || t.kind == Kind::Num)
        .count();
    words_around == 0
}

/// Phrasing: "no bairro X", "aqui no Jd X", "entrega em Interlagos". The name's tokens go
/// to `used`.
fn phrased_bairro(toks: &[Token], text: &str, used: &mut Vec<usize>) -> Option<String> {
    // Messages written in capitals say nothing by their capitals.
    let shouting = {
        let letters: Vec<char> = text.chars().filter(|c| c.is_alphabetic()).collect();
        let upper = letters.iter().filter(|c| c.is_uppercase()).count();
        letters.len() >= 8 && upper * 10 >= letters.len() * 6
    };
    let mut k = 0;
    while k + 1 < toks.len() {
        let t = &toks[k];
        if t.kind == Kind::Word && is_place_cue(&t.text) {
            let mut s = k + 1;
            let explicit = t.text == "bairro";
            if toks[s].is_word("bairro") {
                s += 1;
            }
            while s < toks.len() && toks[s].is_punct(':') {
                s += 1;
            }
            let (name_toks, _) = name_run(toks, s, true);
            if !name_toks.is_empty() {
                let first = &toks[name_toks[0]];
                let prefixed = is_place_prefix(expand_abbrev(&first.text));
                let explicit = explicit || (s > k + 1 && toks[k + 1].is_word("bairro"));
                // Capitals mean a name only when the customer is not writing in caps;
                // and a chat word ("Meu", "Semana") never starts a bairro.
                let first_common = !prefixed
                    && (lexicon::is_chat_word(&first.text)
                        || lexicon::month(&first.text).is_some());
                let capital = !shouting
                    && !first_common
                    && name_toks
                        .iter()
                        .all(|i| toks[*i].cap || is_connector(&toks[*i].text));
                let words: Vec<&str> = name_toks
                    .iter()
                    .map(|i| &text[toks[*i].start..toks[*i].end])
                    .collect();
                let f = text::fold(&words.join(" "));
                if (prefixed && name_toks.len() >= 2 || explicit || capital)
                    && !is_city(&f)
                    && !looks_like_not_a_place(&f)
                {
                    used.extend(name_toks.iter().copied());
                    return Some(canonical_free_name(&words));
                }
            }
        }
        k += 1;
    }
    None
}

/// Words right after "no/na/em" that are not place names.
fn looks_like_not_a_place(f: &str) -> bool {
    let first = f.split(' ').next().unwrap_or("");
    matches!(
        first,
        "pix"
            | "cartao"
            | "credito"
            | "debito"
            | "boleto"
            | "dinheiro"
            | "entrega"
            | "obra"
            | "casa"
            | "segunda"
            | "terca"
            | "quarta"
            | "quinta"
            | "sexta"
            | "sabado"
            | "domingo"
            | "maximo"
            | "minimo"
            | "cep"
            | "saco"
            | "sacos"
            | "total"
            | "whatsapp"
            | "zap"
            | "caminhao"
            | "local"
            | "endereco"
            | "mesmo"
            | "mesma"
            | "hora"
            | "dia"
            | "final"
            | "fim"
            | "caso"
            | "momento"
            | "loja"
            | "deposito"
            | "centro de"
            | "rua"
            | "avenida"
            | "frente"
            | "portao"
            | "condominio"
            | "predio"
            | "apartamento"
            | "ap"
            | "apto"
            | "bloco"
            | "lote"
            | "quadra"
    ) || text::number_word(first).is_some()
}

/// The words of a name starting at `s`: words and connectors until punctuation, a number or
/// a common word. Returns token indices and the index after the run.
fn name_run(toks: &[Token], s: usize, stop_on_common: bool) -> (Vec<usize>, usize) {
    let mut out = Vec::new();
    let mut j = s;
    while j < toks.len() && out.len() < 5 {
        let t = &toks[j];
        if t.kind != Kind::Word {
            break;
        }
        let w = t.text.as_str();
        if is_connector(w) {
            if out.is_empty() {
                break;
            }
            // "de/da" only continue a name when a capitalised word or prefix follows.
            if j + 1 < toks.len()
                && toks[j + 1].kind == Kind::Word
                && (toks[j + 1].cap || !stop_on_common)
            {
                out.push(j);
                j += 1;
                continue;
            }
            break;
        }
        if stop_on_common
            && !out.is_empty()
            && !t.cap
            && (lexicon::is_chat_word(w) || w == "e" || w == "pra" || w == "pro")
        {
            break;
        }
        if w == "e" || w == "pra" || w == "pro" || w == "que" {
            break;
        }
        out.push(j);
        j += 1;
    }
    while out.last().is_some_and(|i| is_connector(&toks[*i].text)) {
        out.pop();
    }
    (out, j)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bairro_of(msg: &str) -> Option<String> {
        let toks = text::analyze(msg);
        find_place(&toks, msg, &Gazetteer::new(&[])).bairro
    }

    #[test]
    fn bairros_from_phrasing() {
        let cases = [
            ("tô aqui no jd são bernardo", Some("Jardim São Bernardo")),
            ("entrega na vl guacuri", Some("Vila Guacuri")),
            ("obra no bairro Recanto Feliz", Some("Recanto Feliz")),
            ("moro em Interlagos", Some("Interlagos")),
            ("entrega no grajau amanha", Some("Grajaú")),
            ("Rua das Flores, 120 - Jardim Miriam", Some("Jardim Miriam")),
            (
                "rua das acácias 80 no jd são bernardo",
                Some("Jardim São Bernardo"),
            ),
            ("vcs entregam em Santo André?", None),
            ("pago no pix", None),
            ("caixa de luz", None),
            ("ENTREGA NO MEU ENDEREÇO", None),
            ("entrega em Março", None),
            ("ENTREGA NO JD HERCULANO", Some("Jardim Herculano")),
            ("Bairro: S. Mateus", Some("São Mateus")),
            ("entrega no Jd. Ângela", Some("Jardim Ângela")),
            ("fico na Vl. Prudente", Some("Vila Prudente")),
            ("bairro: Sto. Amaro", Some("Santo Amaro")),
            (
                "obra no bairro Pq. das Árvores Altas",
                Some("Parque das Árvores Altas"),
            ),
            ("moro na Cid. Dutra", Some("Cidade Dutra")),
            ("📍 Bairro: Sta. Cecília", Some("Santa Cecília")),
            ("📍 Bairro: S. Benedito Novo", Some("São Benedito Novo")),
        ];
        for (msg, want) in cases {
            assert_eq!(bairro_of(msg).as_deref(), want, "{msg}");
        }
    }
}
