//! Payment method and delivery day from free text, with negations resolved ("boleto não dá,
//! vou no pix"; "hoje não, pode ser sexta") and non-delivery mentions ignored ("vocês estão
//! abertos hoje?").

use crate::slots::{Delivery, PaymentMethod, Weekday};

use super::text::{Kind, Token};

fn payment_word(w: &str) -> Option<PaymentMethod> {
    Some(match w {
        "pix" | "pics" | "pixs" => PaymentMethod::Pix,
        "cartao" | "credito" | "debito" | "cartoe" | "catao" | "cartau" | "visa" | "master"
        | "maquininha" | "maquina" | "maquinha" | "mastercard" | "elo" | "parcelado" => {
            PaymentMethod::Cartao
        }
        "boleto" | "boletos" | "bolet" => PaymentMethod::Boleto,
        "dinheiro" | "especie" | "dinheir" | "dinhero" => PaymentMethod::Dinheiro,
        _ => return None,
    })
}

/// Is the mention at `i` negated? "não" just before it (same clause), or "não" right after
/// ("boleto não dá", "hoje não vou estar").
/// Words that put a day on the delivery ("entrega hoje", "manda amanhã", "chega sexta").
fn is_delivery_verb(w: &str) -> bool {
    matches!(
        w,
        "entrega"
            | "entregar"
            | "entregam"
            | "entregue"
            | "manda"
            | "mandar"
            | "mandam"
            | "chega"
            | "chegar"
            | "retirar"
            | "retiro"
            | "buscar"
            | "busco"
            | "preciso"
            | "precisa"
            | "precisava"
    )
}

/// Is the "não" at `k` the closing one of "não … não", with its opening "não" a few words
/// before in the same clause?
fn closes_a_negation(toks: &[Token], k: usize) -> bool {
    if !matches!(toks[k].text.as_str(), "nao" | "n") {
        return false;
    }
    toks[k.saturating_sub(5)..k]
        .iter()
        .rev()
        .take_while(|t| !(t.kind == Kind::Newline || t.kind == Kind::Punct && !t.is_punct('-')))
        .any(|t| t.kind == Kind::Word && matches!(t.text.as_str(), "nao" | "n"))
}

fn negated(toks: &[Token], i: usize) -> bool {
    let mut k = i;
    let mut steps = 0;
    while k > 0 && steps < 3 {
        k -= 1;
        let t = &toks[k];
        if t.kind == Kind::Newline || t.kind == Kind::Punct && !t.is_punct('-') {
            break;
        }
        // "não melhor pix", "ah não troca pra pix": the "não" drops the earlier choice;
        // what follows "melhor" or "troca pra" is the new one ("não dá pra pix" stays
        // negated: only a swap verb makes "pra" point at the new choice).
        if t.kind == Kind::Word && matches!(t.text.as_str(), "melhor" | "prefiro") {
            break;
        }
        let swap_to = k + 1 < i
            && matches!(
                toks[k + 1].text.as_str(),
                "pra" | "para" | "pro" | "pelo" | "pela" | "por"
            );
        if swap_to
            && t.kind == Kind::Word
            && matches!(
                t.text.as_str(),
                "troca" | "trocar" | "muda" | "mudar" | "passa" | "vai"
            )
        {
            break;
        }
        if t.kind == Kind::Word && matches!(t.text.as_str(), "nao" | "n" | "sem" | "nem") {
            // "não é pra hoje não, pode ser sábado": the second "não" closes the first
            // (Brazilian double negative); it negates nothing after it.
            if closes_a_negation(toks, k) {
                break;
            }
            return true;
        }
        // "troca o cartão por pix": what is swapped out is not wanted.
        if t.kind == Kind::Word && matches!(t.text.as_str(), "troca" | "trocar" | "tira" | "muda") {
            return true;
        }
        steps += 1;
    }
    let mut k = i + 1;
    let mut steps = 0;
    while k < toks.len() && steps < 2 {
        let t = &toks[k];
        if t.kind == Kind::Newline || t.kind == Kind::Punct {
            break;
        }
        if t.kind == Kind::Word && matches!(t.text.as_str(), "nao" | "n") {
            return true;
        }
        k += 1;
        steps += 1;
    }
    false
}

/// The payment method the customer settles on: the last one mentioned and not negated.
pub(crate) fn find_payment(toks: &[Token], skip: &[usize]) -> Option<PaymentMethod> {
    let mut found = None;
    for (i, t) in toks.iter().enumerate() {
        if t.kind != Kind::Word || skip.binary_search(&i).is_ok() {
            continue;
        }
        if let Some(p) = payment_word(&t.text) {
            // "no credito" is card; "3x" handled by the words around it.
            if !negated(toks, i) {
                found = Some(p);
            }
        }
    }
    found
}

fn weekday(w: &str) -> Option<Weekday> {
    Some(match w {
        "segunda" | "seg" => Weekday::Segunda,
        "terca" | "ter" => Weekday::Terca,
        "quarta" | "qua" => Weekday::Quarta,
        "quinta" | "qui" => Weekday::Quinta,
        "sexta" | "sex" | "sesta" | "cexta" => Weekday::Sexta,
        "sabado" | "sab" => Weekday::Sabado,
        "domingo" | "dom" => Weekday::Domingo,
        _ => return None,
    })
}

/// Words showing a clause talks about the store's hours, not about delivery.
fn about_opening_hours(w: &str) -> bool {
    matches!(
        w,
        "aberto"
            | "aberta"
            | "abre"
            | "abrem"
            | "funciona"
            | "funcionam"
            | "funcionando"
            | "atende"
            | "atendem"
            | "expediente"
            | "fecha"
            | "fecham"
            | "fechado"
            | "horario"
    )
}

/// Fractions that are pipe and rebar sizes, not dates.
fn is_size_fraction(a: i64, b: i64) -> bool {
    matches!(b, 2 | 4 | 8 | 16 | 32) && a < b
}

/// "que vem" (or "-feira que vem") right after index `i`: how many tokens it takes.
fn que_vem_after(toks: &[Token], i: usize) -> Option<usize> {
    let w = |k: usize| toks.get(k).map(|t| t.text.as_str()).unwrap_or("");
    (w(i) == "que" && w(i + 1) == "vem").then_some(2)
}

/// "semana que vem", "proxima semana", "semana seguinte" at `i`: how many tokens.
fn next_week_at(toks: &[Token], i: usize) -> Option<usize> {
    let w = |k: usize| toks.get(k).map(|t| t.text.as_str()).unwrap_or("");
    match w(i) {
        "semana" if w(i + 1) == "que" && w(i + 2) == "vem" => Some(3),
        "semana" if w(i + 1) == "seguinte" => Some(2),
        "proxima" | "prox" | "proximo" if w(i + 1) == "semana" => Some(2),
        _ => None,
    }
}

/// A weekday at `i`, with its "-feira" (how many tokens the day takes). Short forms
/// ("qui", "sex") only with a "-feira" or when `loose` (after "próxima").
fn weekday_at(toks: &[Token], i: usize, loose: bool) -> Option<(Weekday, usize)> {
    let t = toks.get(i)?;
    if t.kind != Kind::Word {
        return None;
    }
    let d = weekday(&t.text)?;
    let w = |k: usize| toks.get(k).map(|t| t.text.as_str()).unwrap_or("");
    let len = if w(i + 1) == "feira" {
        2
    } else if w(i + 1) == "-" && w(i + 2) == "feira" {
        3
    } else {
        1
    };
    let short = t.text.len() <= 3;
    // "sab de manhã", "qui à tarde", "entrega sex": a short day with a time of day or a
    // delivery word is a day.
    let part_of_day = matches!(w(i + 1), "de" | "a" | "pela" | "na")
        && matches!(w(i + 2), "manha" | "tarde" | "noite")
        || w(i + 1) == "cedo";
    let delivery_cue = i > 0
        && matches!(
            toks[i - 1].text.as_str(),
            "entrega" | "entregar" | "ate" | "pra"
        );
    let time_of_day = part_of_day || delivery_cue;
    let loose = loose || short && time_of_day;
    // "a segunda opção", "segunda vez": ordinal, not a day.
    let ordinal =
        t.text == "segunda" && matches!(w(i + 1), "opcao" | "vez" | "mao" | "linha" | "via");
    let bare_short = short && len == 1 && !loose;
    (!bare_short && !ordinal).then_some((d, len))
}

/// A weekday said with the week around it, at `i`: "quinta que vem", "próxima quinta",
/// "sexta da semana que vem", "semana que vem na sexta", "semana que vem". The hit and how
/// many tokens it takes.
fn relative_day_at(toks: &[Token], i: usize) -> Option<(Delivery, usize)> {
    let w = |k: usize| toks.get(k).map(|t| t.text.as_str()).unwrap_or("");
    // "próxima quinta", "prox sexta-feira"
    if matches!(w(i), "proxima" | "proximo" | "prox") {
        if let Some((d, len)) = weekday_at(toks, i + 1, true) {
            return Some((Delivery::NextWeekday(d), 1 + len));
        }
    }
    if let Some((d, len)) = weekday_at(toks, i, false) {
        let after = i + len;
        if let Some(n) = que_vem_after(toks, after) {
            return Some((Delivery::NextWeekday(d), len + n));
        }
        // "sexta da semana que vem", "segunda na próxima semana"
        let linked = usize::from(matches!(w(after), "da" | "na" | "de" | "dessa"));
        if let Some(n) = next_week_at(toks, after + linked) {
            return Some((Delivery::WeekdayNextWeek(d), len + linked + n));
        }
        return None;
    }
    if let Some(n) = next_week_at(toks, i) {
        // "semana que vem na quinta", "semana que vem, quinta"
        let mut k = i + n;
        if matches!(w(k), "na" | "no" | "de" | "," | "-") {
            k += 1;
        }
        if let Some((d, len)) = weekday_at(toks, k, false) {
            return Some((Delivery::WeekdayNextWeek(d), k + len - i));
        }
        return Some((Delivery::SemanaQueVem, n));
    }
    None
}

/// "dia 12", "dia doze", "dia primeiro", "dia 12 de dezembro" at `i` (the word "dia"). Not a
/// greeting ("bom dia 10 sacos") nor a rate ("por dia"), nor a count of days ("dia 2 sacos"
/// is read as neither: a unit follows the number).
fn day_of_month_at(toks: &[Token], i: usize) -> Option<(Delivery, usize)> {
    if !toks[i].is_word("dia") {
        return None;
    }
    let prev = if i > 0 { toks[i - 1].text.as_str() } else { "" };
    if matches!(
        prev,
        "bom" | "boa" | "por" | "ao" | "todo" | "cada" | "um" | "1" | "outro"
    ) {
        return None;
    }
    let n = toks.get(i + 1)?;
    let day = if n.is_word("primeiro") || n.is_word("1o") {
        1
    } else if n.kind == Kind::Num && n.value % crate::money::QUANTITY_SCALE == 0 {
        n.value / crate::money::QUANTITY_SCALE
    } else {
        return None;
    };
    if !(1..=31).contains(&day) {
        return None;
    }
    let after = toks.get(i + 2);
    // "dia 15 de janeiro"
    if after.is_some_and(|t| t.is_word("de")) {
        if let Some(month) = toks
            .get(i + 3)
            .filter(|m| m.text.len() > 3)
            .and_then(|m| super::lexicon::month(&m.text))
        {
            return Some((
                Delivery::Date {
                    day: day as u8,
                    month,
                },
                4,
            ));
        }
    }
    // "dia 2 sacos": an amount, not a day.
    if after.is_some_and(|t| t.kind == Kind::Word && super::text::canonical_unit(&t.text).is_some())
    {
        return None;
    }
    Some((Delivery::DayOfMonth(day as u8), 2))
}

/// The delivery day the customer settles on: the last one mentioned and not negated.
#[cfg(test)]
pub(crate) fn find_delivery(toks: &[Token], skip: &[usize]) -> Option<Delivery> {
    find_delivery_used(toks, skip).0
}

/// The delivery day the customer settles on (the last one mentioned and not negated), and
/// the tokens of the numeric days it read ("dia 12", "12/12",
/// "3 de março"): those numbers are days, never amounts of goods, so the item reader leaves
/// them out ("10 sc de cimento p/ dia 12" keeps the cement and nothing else).
pub(crate) fn find_delivery_used(toks: &[Token], skip: &[usize]) -> (Option<Delivery>, Vec<usize>) {
    let mut found = None;
    let mut used = Vec::new();
    // Clause boundaries for the opening-hours check.
    let mut clause_start = 0;
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        if t.kind == Kind::Newline || t.is_punct('?') || t.is_punct('.') || t.is_punct('!') {
            clause_start = i + 1;
        }
        if skip.binary_search(&i).is_ok() {
            i += 1;
            continue;
        }
        let mut hit: Option<(Delivery, usize)> = None;
        match t.kind {
            Kind::Word => {
                let w = t.text.as_str();
                let next = toks.get(i + 1).map(|t| t.text.as_str()).unwrap_or("");
                let next2 = toks.get(i + 2).map(|t| t.text.as_str()).unwrap_or("");
                let prev = if i > 0 { toks[i - 1].text.as_str() } else { "" };
                if let Some(rel) = relative_day_at(toks, i) {
                    hit = Some(rel);
                } else if let Some(day) = day_of_month_at(toks, i) {
                    hit = Some(day);
                } else if matches!(w, "depois" | "dps" | "dpois")
                    && matches!(next, "de" | "d")
                    && matches!(next2, "amanha" | "amanhan" | "amnh")
                {
                    hit = Some((Delivery::DepoisDeAmanha, 3));
                } else if w == "hoje" || w == "hj" {
                    hit = Some((Delivery::Hoje, 1));
                } else if w == "amanha" || w == "amanhan" || w == "amnh" {
                    hit = Some((Delivery::Amanha, 1));
                } else if matches!(
                    w,
                    "urgente"
                        | "urgencia"
                        | "urjente"
                        | "urgent"
                        | "urgentemente"
                        | "asap"
                        | "imediato"
                ) {
                    hit = Some((Delivery::OQuantoAntes, 1));
                } else if (w == "pra" || w == "para") && next == "ontem"
                    || w == "quanto" && (next == "antes" || next == "ante")
                {
                    hit = Some((Delivery::OQuantoAntes, 2));
                } else if w == "rapido" && (next == "possivel" || prev == "mais") {
                    hit = Some((Delivery::OQuantoAntes, 1));
                } else if w == "logo" && next == "possivel" {
                    hit = Some((Delivery::OQuantoAntes, 2));
                } else if let Some((d, len)) = weekday_at(toks, i, false) {
                    hit = Some((Delivery::Weekday(d), len));
                }
            }
            // "15 de janeiro"
            Kind::Num
                if toks.get(i + 1).is_some_and(|t| t.is_word("de"))
                    && toks.get(i + 2).is_some_and(|m| {
                        m.text.len() > 3 && super::lexicon::month(&m.text).is_some()
                    }) =>
            {
                let day = t.value / crate::money::QUANTITY_SCALE;
                let month = toks
                    .get(i + 2)
                    .and_then(|m| super::lexicon::month(&m.text))
                    .unwrap_or(0);
                if t.value % crate::money::QUANTITY_SCALE == 0
                    && (1..=31).contains(&day)
                    && month > 0
                {
                    hit = Some((
                        Delivery::Date {
                            day: day as u8,
                            month,
                        },
                        3,
                    ));
                }
            }
            Kind::Frac => {
                let (d, m) = (t.value, t.den);
                let prev = if i > 0 { toks[i - 1].text.as_str() } else { "" };
                let cue = matches!(
                    prev,
                    "dia" | "ate" | "pra" | "para" | "entrega" | "no" | ":" | "data"
                );
                if (1..=31).contains(&d)
                    && (1..=12).contains(&m)
                    && (cue || !is_size_fraction(d, m))
                {
                    hit = Some((
                        Delivery::Date {
                            day: d as u8,
                            month: m as u8,
                        },
                        1,
                    ));
                }
            }
            _ => {}
        }
        if let Some((d, len)) = hit {
            let mut j = clause_start;
            let mut hours = false;
            let (mut asks_price, mut about_delivery, mut own_errand) = (false, false, false);
            while j < toks.len()
                && !(toks[j].kind == Kind::Newline
                    || toks[j].is_punct('?')
                    || toks[j].is_punct('.')
                    || toks[j].is_punct('!'))
            {
                if toks[j].kind == Kind::Word {
                    let w = toks[j].text.as_str();
                    hours |= about_opening_hours(w);
                    own_errand |= is_customers_own_errand(w);
                    asks_price |= matches!(
                        w,
                        "quanto" | "qnto" | "qto" | "quanta" | "preco" | "valor" | "custa"
                    );
                    about_delivery |= is_delivery_verb(w)
                        || j > 0
                            && matches!(w, "hoje" | "hj")
                            && matches!(toks[j - 1].text.as_str(), "pra" | "para" | "ate");
                }
                j += 1;
            }
            // "quanto tá o cimento hoje?": today's price, not a delivery today.
            let todays_price = d == Delivery::Hoje && asks_price && !about_delivery;
            // "amanhã cedo te mando a lista", "hj eu confirmo": the customer's own
            // errand that day, not the goods' delivery.
            let errand_day = own_errand && !about_delivery;
            let hours = hours || todays_price || errand_day;
            let negated_here = negated(toks, i) || (len > 1 && negated(toks, i + len - 1));
            if !hours && !negated_here {
                found = Some(d);
            }
            if matches!(d, Delivery::Date { .. } | Delivery::DayOfMonth(_)) {
                used.extend(i..i + len);
            }
            i += len;
            continue;
        }
        i += 1;
    }
    (found, used)
}

/// Verbs in the first person for what the customer will do ("te mando a lista amanhã",
/// "amanhã eu confirmo", "volto hj"): a day beside them is not when the goods go.
fn is_customers_own_errand(w: &str) -> bool {
    matches!(
        w,
        "mando"
            | "envio"
            | "confirmo"
            | "aviso"
            | "volto"
            | "retorno"
            | "respondo"
            | "ligo"
            | "falo"
            | "decido"
            | "vejo"
            | "resolvo"
    )
}

/// "3x no cartão", "em 10x sem juros", "cartão em 3x": installments are about payment, so
/// their number is no amount of goods (token indices to leave out of the clauses).
pub(crate) fn installments(toks: &[Token]) -> Vec<usize> {
    let mut out = Vec::new();
    for i in 0..toks.len().saturating_sub(1) {
        if toks[i].kind != Kind::Num || !toks[i + 1].is_word("x") {
            continue;
        }
        let after = toks.get(i + 2);
        // Not a size ("2,44x1,10") nor a count ("bloco 14 x 100"): a number follows those.
        let payment_after = after.is_none_or(|a| {
            matches!(a.kind, Kind::Newline | Kind::Punct)
                || a.kind == Kind::Word
                    && matches!(
                        a.text.as_str(),
                        "no" | "na"
                            | "em"
                            | "sem"
                            | "com"
                            | "de"
                            | "cartao"
                            | "credito"
                            | "juro"
                            | "parcela"
                            | "vez"
                    )
        });
        let payment_before = i > 0
            && matches!(
                toks[i - 1].text.as_str(),
                "em" | "cartao" | "credito" | "parcelado"
            );
        if payment_after || payment_before {
            out.extend([i, i + 1]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::understanding::text::analyze;

    fn pay(s: &str) -> Option<&'static str> {
        find_payment(&analyze(s), &[]).map(|p| p.code())
    }
    fn dlv(s: &str) -> Option<String> {
        find_delivery(&analyze(s), &[]).map(|d| d.code())
    }

    #[test]
    fn payment_cases() {
        let cases = [
            ("vou pagar no pix", Some("PIX")),
            ("passa no débito?", Some("CARTAO")),
            ("pode ser no crédito em 2x", Some("CARTAO")),
            ("boleto pra 30 dias", Some("BOLETO")),
            ("pago em espécie na hora", Some("DINHEIRO")),
            ("pix não tenho, vai no cartão", Some("CARTAO")),
            ("sem boleto, dinheiro mesmo", Some("DINHEIRO")),
            ("troca o boleto por pix", Some("PIX")),
            ("pago quando chegar", None),
            ("passo na maquininha", Some("CARTAO")),
            ("ah não, troca pra pix", Some("PIX")),
            ("não não muda pro boleto", Some("BOLETO")),
            ("não melhor dinheiro", Some("DINHEIRO")),
            ("nao, prefiro no cartão", Some("CARTAO")),
            ("cartão não, troca pra pix", Some("PIX")),
            ("troca o pix pelo boleto", Some("BOLETO")),
            ("não quero pix", None),
            ("pix não dá", None),
            ("não dá pra pix", None),
        ];
        for (m, want) in cases {
            assert_eq!(pay(m), want, "{m}");
        }
    }

    #[test]
    fn delivery_cases() {
        let cases = [
            ("pode entregar amanhã cedo?", Some("amanha")),
            ("preciso pra hoje ainda", Some("hoje")),
            ("é urgente", Some("o_quanto_antes")),
            ("o mais rápido possível", Some("o_quanto_antes")),
            ("entrega na quarta-feira", Some("weekday:quarta")),
            ("dia 7/4 tá bom", Some("date:07/04")),
            ("ferro 3/8", None),
            ("hoje não dá, melhor quinta", Some("weekday:quinta")),
            ("vcs abrem hoje?", None),
            ("qualquer dia dessa semana", None),
            ("dia 3 de março", Some("date:03/03")),
            ("hj de tarde", Some("hoje")),
            ("depois de amanhã", Some("depois_de_amanha")),
            ("entrega dia 12", Some("dia:12")),
            ("quinta que vem", Some("weekday:quinta")),
            ("dia 12 não, dia 14", Some("dia:14")),
            ("vcs abrem dia 12?", None),
            ("preciso pra ontem", Some("o_quanto_antes")),
            // The customer's own errand that day is no delivery…
            ("amanha cedo te mando a foto da lista", None),
            ("hj a noite eu confirmo com o pedreiro", None),
            // …unless the goods go that day too.
            ("se entregar amanha eu confirmo agora", Some("amanha")),
        ];
        for (m, want) in cases {
            assert_eq!(dlv(m).as_deref(), want, "{m}");
        }
    }
}
