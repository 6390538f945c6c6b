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
}

impl Location {
    pub fn label_pt(&self) -> String {
        match self {
            Location::Cep(c) => format!("CEP {}", c.formatted()),
            Location::Bairro(b) => b.clone(),
        }
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

/// When the customer wants the goods (delivery or pickup).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    Hoje,
    Amanha,
    OQuantoAntes,
    Weekday(Weekday),
    /// Day and month as the customer wrote them (validated 1..=31, 1..=12).
    Date {
        day: u8,
        month: u8,
    },
}

impl Delivery {
    /// The `parse` output format: `hoje`, `amanha`, `o_quanto_antes`, `weekday:sexta`,
    /// `date:05/03`.
    pub fn code(self) -> String {
        match self {
            Delivery::Hoje => "hoje".into(),
            Delivery::Amanha => "amanha".into(),
            Delivery::OQuantoAntes => "o_quanto_antes".into(),
            Delivery::Weekday(w) => format!("weekday:{}", w.code()),
            Delivery::Date { day, month } => format!("date:{day:02}/{month:02}"),
        }
    }

    /// The calendar day this means, seen from `today` in the store's time zone. "O quanto
    /// antes" is today; a weekday is the next such day (today counts); a date already past
    /// this year is next year's.
    pub fn resolve(self, today: chrono::NaiveDate) -> Option<chrono::NaiveDate> {
        use chrono::{Datelike, Duration, NaiveDate};
        match self {
            Delivery::Hoje | Delivery::OQuantoAntes => Some(today),
            Delivery::Amanha => today.checked_add_signed(Duration::days(1)),
            Delivery::Weekday(w) => {
                let target = w.to_chrono().num_days_from_monday() as i64;
                let now = today.weekday().num_days_from_monday() as i64;
                today.checked_add_signed(Duration::days((target - now).rem_euclid(7)))
            }
            Delivery::Date { day, month } => {
                let this_year = NaiveDate::from_ymd_opt(today.year(), month as u32, day as u32)?;
                if this_year >= today {
                    Some(this_year)
                } else {
                    NaiveDate::from_ymd_opt(today.year() + 1, month as u32, day as u32)
                }
            }
        }
    }

    pub fn label_pt(self) -> String {
        match self {
            Delivery::Hoje => "hoje".into(),
            Delivery::Amanha => "amanhã".into(),
            Delivery::OQuantoAntes => "o quanto antes".into(),
            Delivery::Weekday(w) => w.label_pt().into(),
            Delivery::Date { day, month } => format!("{day:02}/{month:02}"),
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
}
