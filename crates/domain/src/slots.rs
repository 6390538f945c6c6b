//! What the bot needs before it can quote, besides the items: where, how the customer pays
//! and when: the conversation's slot values. Shared by understanding (which finds them in a
//! message: `understanding::payment_and_delivery`, `understanding::places`) and pricing
//! (which uses them).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ids::Cep;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum PaymentMethod {
    Pix,
    Cartao,
    Boleto,
    Dinheiro,
}

impl PaymentMethod {
    pub const ALL: [PaymentMethod; 4] = [
        PaymentMethod::Pix,
        PaymentMethod::Cartao,
        PaymentMethod::Boleto,
        PaymentMethod::Dinheiro,
    ];

    /// `PIX`, `CARTAO`, `BOLETO`, `DINHEIRO`: the code in JSON and the database.
    pub fn code(self) -> &'static str {
        match self {
            PaymentMethod::Pix => "PIX",
            PaymentMethod::Cartao => "CARTAO",
            PaymentMethod::Boleto => "BOLETO",
            PaymentMethod::Dinheiro => "DINHEIRO",
        }
    }

    pub fn label_pt(self) -> &'static str {
        match self {
            PaymentMethod::Pix => "PIX",
            PaymentMethod::Cartao => "cartão",
            PaymentMethod::Boleto => "boleto",
            PaymentMethod::Dinheiro => "dinheiro",
        }
    }

    pub fn from_code(code: &str) -> Option<PaymentMethod> {
        PaymentMethod::ALL
            .into_iter()
            .find(|p| p.code().eq_ignore_ascii_case(code.trim()))
    }
}

impl fmt::Display for PaymentMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Where the goods go. A CEP wins over a bairro when a customer gives both.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Location {
    Cep(Cep),
    /// The canonical bairro name, with accents ("Jardim Ângela").
    Bairro(String),
    /// The customer picks the goods up at the store ("retiro na loja", "passo aí pra
    /// buscar"): nowhere to deliver, no freight.
    Retirada,
}

impl Location {
    pub fn label_pt(&self) -> String {
        match self {
            Location::Cep(c) => format!("CEP {}", c.formatted()),
            Location::Bairro(b) => b.clone(),
            Location::Retirada => "retirada na loja".into(),
        }
    }

    /// A place to deliver to (a CEP or a bairro), not a pickup.
    pub fn is_delivery(&self) -> bool {
        !matches!(self, Location::Retirada)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Weekday {
    Segunda,
    Terca,
    Quarta,
    Quinta,
    Sexta,
    Sabado,
    Domingo,
}

impl Weekday {
    pub const ALL: [Weekday; 7] = [
        Weekday::Segunda,
        Weekday::Terca,
        Weekday::Quarta,
        Weekday::Quinta,
        Weekday::Sexta,
        Weekday::Sabado,
        Weekday::Domingo,
    ];

    /// `segunda`…`domingo`, without accents (the `parse` output format).
    pub fn code(self) -> &'static str {
        match self {
            Weekday::Segunda => "segunda",
            Weekday::Terca => "terca",
            Weekday::Quarta => "quarta",
            Weekday::Quinta => "quinta",
            Weekday::Sexta => "sexta",
            Weekday::Sabado => "sabado",
            Weekday::Domingo => "domingo",
        }
    }

    pub fn label_pt(self) -> &'static str {
        match self {
            Weekday::Segunda => "segunda-feira",
            Weekday::Terca => "terça-feira",
            Weekday::Quarta => "quarta-feira",
            Weekday::Quinta => "quinta-feira",
            Weekday::Sexta => "sexta-feira",
            Weekday::Sabado => "sábado",
            Weekday::Domingo => "domingo",
        }
    }

    pub fn from_chrono(w: chrono::Weekday) -> Weekday {
        match w {
            chrono::Weekday::Mon => Weekday::Segunda,
            chrono::Weekday::Tue => Weekday::Terca,
            chrono::Weekday::Wed => Weekday::Quarta,
            chrono::Weekday::Thu => Weekday::Quinta,
            chrono::Weekday::Fri => Weekday::Sexta,
            chrono::Weekday::Sat => Weekday::Sabado,
            chrono::Weekday::Sun => Weekday::Domingo,
        }
    }

    pub fn to_chrono(self) -> chrono::Weekday {
        match self {
            Weekday::Segunda => chrono::Weekday::Mon,
            Weekday::Terca => chrono::Weekday::Tue,
            Weekday::Quarta => chrono::Weekday::Wed,
            Weekday::Quinta => chrono::Weekday::Thu,
            Weekday::Sexta => chrono::Weekday::Fri,
            Weekday::Sabado => chrono::Weekday::Sat,
            Weekday::Domingo => chrono::Weekday::Sun,
        }
    }
}

/// The furthest ahead a delivery day is taken (days after the store's today): a day further
/// away is more likely a typo or a date already past ("12/11" written on 3 December) than a
/// plan, so the bot asks again.
pub const MAX_DELIVERY_DAYS_AHEAD: i64 = 60;

/// When the customer wants the goods (delivery or pickup). Relative days are kept as said
/// and resolved against the store's today ([`Delivery::resolve`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    Hoje,
    Amanha,
    OQuantoAntes,
    /// "sexta", "no sábado": the next such day, today included.
    Weekday(Weekday),
    /// Day and month as the customer wrote them (validated 1..=31, 1..=12).
    Date {
        day: u8,
        month: u8,
    },
    /// "depois de amanhã".
    DepoisDeAmanha,
    /// "dia 12", "dia doze": the next day 12 (this month, or the next month that has it).
    DayOfMonth(u8),
    /// "próxima quinta", "quinta que vem": the next such day, never today (said on a
    /// Thursday, "quinta que vem" is 7 days later).
    NextWeekday(Weekday),
    /// "sexta da semana que vem": that day in the calendar week (Monday to Sunday) after
    /// this one.
    WeekdayNextWeek(Weekday),
    /// "semana que vem" with no day: from the Monday of next week; the store confirms the
    /// exact day.
    SemanaQueVem,
}

impl Delivery {
    /// The `parse` output format: `hoje`, `amanha`, `o_quanto_antes`, `weekday:sexta`,
    /// `date:05/03`; `depois_de_amanha`, `dia:12` and `semana_que_vem` for days the
    /// evaluation format has no word for. "Quinta que vem" is `weekday:quinta` there (the
    /// format names the weekday; which Thursday is [`Delivery::resolve`]'s business).
    pub fn code(self) -> String {
        match self {
            Delivery::Hoje => "hoje".into(),
            Delivery::Amanha => "amanha".into(),
            Delivery::OQuantoAntes => "o_quanto_antes".into(),
            Delivery::Weekday(w) | Delivery::NextWeekday(w) | Delivery::WeekdayNextWeek(w) => {
                format!("weekday:{}", w.code())
            }
            Delivery::Date { day, month } => format!("date:{day:02}/{month:02}"),
            Delivery::DepoisDeAmanha => "depois_de_amanha".into(),
            Delivery::DayOfMonth(d) => format!("dia:{d:02}"),
            Delivery::SemanaQueVem => "semana_que_vem".into(),
        }
    }

    /// The day in `orcazap parse`'s output, whose contract (SPEC §10) has only `hoje`,
    /// `amanha`, `o_quanto_antes`, `weekday:…` and `date:DD/MM`: a day it has no word for
    /// ("depois de amanhã", "dia 12", "semana que vem") is `None` there, though the
    /// conversation still keeps and resolves it ([`Delivery::resolve`]).
    pub fn contract_code(self) -> Option<String> {
        match self {
            Delivery::DepoisDeAmanha | Delivery::DayOfMonth(_) | Delivery::SemanaQueVem => None,
            other => Some(other.code()),
        }
    }

    /// The calendar day this means, seen from `today` in the store's time zone. "O quanto
    /// antes" is today; a weekday is the next such day (today counts, except after "próxima"
    /// or "que vem"); a date already past this year is next year's; "dia 12" is the next
    /// day 12 (this month when it has not passed). None for a day that does not exist
    /// ("31/02", "dia 32").
    pub fn resolve(self, today: chrono::NaiveDate) -> Option<chrono::NaiveDate> {
        use chrono::{Datelike, Duration, NaiveDate};
        let days = |n: i64| today.checked_add_signed(Duration::days(n));
        let now = today.weekday().num_days_from_monday() as i64;
        let target = |w: Weekday| w.to_chrono().num_days_from_monday() as i64;
        match self {
            Delivery::Hoje | Delivery::OQuantoAntes => Some(today),
            Delivery::Amanha => days(1),
            Delivery::DepoisDeAmanha => days(2),
            Delivery::Weekday(w) => days((target(w) - now).rem_euclid(7)),
            Delivery::NextWeekday(w) => days((target(w) - now - 1).rem_euclid(7) + 1),
            Delivery::WeekdayNextWeek(w) => days(7 - now + target(w)),
            Delivery::SemanaQueVem => days(7 - now),
            Delivery::Date { day, month } => {
                let this_year = NaiveDate::from_ymd_opt(today.year(), month as u32, day as u32)?;
                if this_year >= today {
                    Some(this_year)
                } else {
                    NaiveDate::from_ymd_opt(today.year() + 1, month as u32, day as u32)
                }
            }
            Delivery::DayOfMonth(d) => {
                // This month if day d is still ahead, else the first later month that has it.
                let mut first = today.with_day(1)?;
                for _ in 0..13 {
                    if let Some(date) = first.with_day(d as u32) {
                        if date >= today {
                            return Some(date);
                        }
                    }
                    first = first.checked_add_months(chrono::Months::new(1))?;
                }
                None
            }
        }
    }

    /// The day, if the bot can take it from `today`: it exists and is neither past nor
    /// more than [`MAX_DELIVERY_DAYS_AHEAD`] days away.
    pub fn acceptable(self, today: chrono::NaiveDate) -> bool {
        self.resolve(today)
            .is_some_and(|d| d >= today && (d - today).num_days() <= MAX_DELIVERY_DAYS_AHEAD)
    }

    pub fn label_pt(self) -> String {
        match self {
            Delivery::Hoje => "hoje".into(),
            Delivery::Amanha => "amanhã".into(),
            Delivery::OQuantoAntes => "o quanto antes".into(),
            Delivery::Weekday(w) => w.label_pt().into(),
            Delivery::NextWeekday(w) => format!("{} que vem", w.label_pt()),
            Delivery::WeekdayNextWeek(w) => format!("{} da semana que vem", w.label_pt()),
            Delivery::Date { day, month } => format!("{day:02}/{month:02}"),
            Delivery::DepoisDeAmanha => "depois de amanhã".into(),
            Delivery::DayOfMonth(d) => format!("dia {d}"),
            Delivery::SemanaQueVem => "semana que vem, a partir de segunda-feira".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn delivery_codes() {
        assert_eq!(Delivery::Weekday(Weekday::Sexta).code(), "weekday:sexta");
        assert_eq!(Delivery::Date { day: 5, month: 3 }.code(), "date:05/03");
        assert_eq!(Delivery::OQuantoAntes.code(), "o_quanto_antes");
        assert_eq!(Delivery::SemanaQueVem.contract_code(), None);
        assert_eq!(Delivery::DayOfMonth(12).contract_code(), None);
        assert_eq!(
            Delivery::Weekday(Weekday::Sexta).contract_code().as_deref(),
            Some("weekday:sexta")
        );
    }

    #[test]
    fn delivery_resolution() {
        // 2026-11-28 is a Saturday.
        let today = NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
        assert_eq!(
            Delivery::Amanha.resolve(today),
            NaiveDate::from_ymd_opt(2026, 11, 29)
        );
        assert_eq!(
            Delivery::Weekday(Weekday::Sabado).resolve(today),
            Some(today)
        );
        assert_eq!(
            Delivery::Weekday(Weekday::Segunda).resolve(today),
            NaiveDate::from_ymd_opt(2026, 11, 30)
        );
        assert_eq!(
            Delivery::Date { day: 5, month: 1 }.resolve(today),
            NaiveDate::from_ymd_opt(2027, 1, 5)
        );
        assert_eq!(Delivery::Date { day: 31, month: 2 }.resolve(today), None);
    }

    fn ymd(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, d)
    }

    #[test]
    fn relative_days_said_on_a_thursday() {
        use Weekday::*;
        // 2026-12-03 is a Thursday.
        let thu = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
        let cases = [
            (Delivery::Hoje, ymd(2026, 12, 3)),
            (Delivery::Amanha, ymd(2026, 12, 4)),
            (Delivery::DepoisDeAmanha, ymd(2026, 12, 5)),
            // "quinta" said on a Thursday is today; "quinta que vem" never is.
            (Delivery::Weekday(Quinta), ymd(2026, 12, 3)),
            (Delivery::NextWeekday(Quinta), ymd(2026, 12, 10)),
            (Delivery::NextWeekday(Sexta), ymd(2026, 12, 4)),
            (Delivery::NextWeekday(Quarta), ymd(2026, 12, 9)),
            (Delivery::Weekday(Sexta), ymd(2026, 12, 4)),
            (Delivery::WeekdayNextWeek(Sexta), ymd(2026, 12, 11)),
            (Delivery::WeekdayNextWeek(Segunda), ymd(2026, 12, 7)),
            (Delivery::SemanaQueVem, ymd(2026, 12, 7)),
            (Delivery::DayOfMonth(12), ymd(2026, 12, 12)),
            (Delivery::DayOfMonth(3), ymd(2026, 12, 3)),
            // Day 2 has passed this month: next month's.
            (Delivery::DayOfMonth(2), ymd(2027, 1, 2)),
            (Delivery::Date { day: 12, month: 12 }, ymd(2026, 12, 12)),
            // "12/1": the next 12 January, never one in the past.
            (Delivery::Date { day: 12, month: 1 }, ymd(2027, 1, 12)),
        ];
        for (d, want) in cases {
            assert_eq!(d.resolve(thu), want, "{d:?}");
        }
    }

    #[test]
    fn day_of_month_skips_months_without_it() {
        // 31 January: "dia 31" said on 1 February is 31 March (February has none).
        let feb1 = NaiveDate::from_ymd_opt(2027, 2, 1).unwrap();
        assert_eq!(Delivery::DayOfMonth(31).resolve(feb1), ymd(2027, 3, 31));
        assert_eq!(Delivery::DayOfMonth(32).resolve(feb1), None);
    }

    #[test]
    fn far_or_impossible_days_are_not_acceptable() {
        let thu = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
        assert!(Delivery::DayOfMonth(12).acceptable(thu));
        assert!(Delivery::Date { day: 12, month: 1 }.acceptable(thu));
        // Written on 3 December, "12/11" is most likely a slip: next November is too far.
        assert!(!Delivery::Date { day: 12, month: 11 }.acceptable(thu));
        assert!(!Delivery::Date { day: 31, month: 2 }.acceptable(thu));
        // 60 days ahead is the limit, 61 is too far.
        assert!(Delivery::Date { day: 1, month: 2 }.acceptable(thu));
        assert!(!Delivery::Date { day: 2, month: 2 }.acceptable(thu));
    }

    #[test]
    fn labels_in_portuguese() {
        assert_eq!(
            Delivery::NextWeekday(Weekday::Quinta).label_pt(),
            "quinta-feira que vem"
        );
        assert_eq!(Delivery::DayOfMonth(12).label_pt(), "dia 12");
        assert_eq!(Delivery::DepoisDeAmanha.label_pt(), "depois de amanhã");
    }
}
