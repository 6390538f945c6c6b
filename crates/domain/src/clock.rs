//! The store's clock: an instant (unix ms, as stored) read as a date and time where the store
//! is.
//!
//! A store's time zone (`tenants.timezone`, an IANA name) decides which day a quote was made,
//! when "today" starts on the overview and which validity date the customer reads. The worker
//! and the dashboard both read dates through [`StoreClock`], so the bot and the owner's screen
//! never disagree about the day. Reading the current time stays with the caller (no I/O here).

use chrono::{DateTime, NaiveDate, Offset, TimeZone};
use chrono_tz::Tz;

/// The zone of a store whose configured name is unknown; also the platform operator's.
pub const DEFAULT_TIMEZONE: Tz = chrono_tz::America::Sao_Paulo;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreClock(Tz);

impl Default for StoreClock {
    fn default() -> StoreClock {
        StoreClock(DEFAULT_TIMEZONE)
    }
}

impl StoreClock {
    /// The clock of a store's configured time zone. A name chrono-tz does not know falls back
    /// to São Paulo: a date shown an hour off beats a page or a customer message that fails.
    pub fn of(timezone: &str) -> StoreClock {
        StoreClock(timezone.parse().unwrap_or(DEFAULT_TIMEZONE))
    }

    pub fn timezone(&self) -> &'static str {
        self.0.name()
    }

    fn local(&self, ms: i64) -> Option<DateTime<Tz>> {
        DateTime::from_timestamp_millis(ms).map(|d| d.with_timezone(&self.0))
    }

    /// The store's date at an instant (the epoch's for an instant chrono cannot represent).
    pub fn date_of(&self, ms: i64) -> NaiveDate {
        self.local(ms)
            .unwrap_or_else(|| DateTime::UNIX_EPOCH.with_timezone(&self.0))
            .date_naive()
    }

    /// The first instant of `day` where the store is, as unix ms.
    pub fn start_of(&self, day: NaiveDate) -> i64 {
        let midnight = day.and_time(chrono::NaiveTime::MIN);
        match self.0.from_local_datetime(&midnight).earliest() {
            Some(t) => t.timestamp_millis(),
            // A daylight-saving jump skipped midnight (not Brazil's case since 2019): the
            // day starts at the jump, which the offset before it places closely enough.
            None => {
                let offset = self.0.offset_from_utc_datetime(&midnight).fix();
                midnight.and_utc().timestamp_millis() - i64::from(offset.local_minus_utc()) * 1000
            }
        }
    }

    /// Midnight of the store's day that contains `ms`.
    pub fn start_of_day(&self, ms: i64) -> i64 {
        self.start_of(self.date_of(ms))
    }

    fn format(&self, ms: i64, fmt: &str) -> String {
        self.local(ms)
            .map(|d| d.format(fmt).to_string())
            .unwrap_or_default()
    }

    /// `31/12/2025 23:30`, as people in Brazil write it.
    pub fn datetime_br(&self, ms: i64) -> String {
        self.format(ms, "%d/%m/%Y %H:%M")
    }

    /// `23:30`.
    pub fn time_br(&self, ms: i64) -> String {
        self.format(ms, "%H:%M")
    }

    /// `31/12/2025`.
    pub fn date_br(&self, ms: i64) -> String {
        self.format(ms, "%d/%m/%Y")
    }
}

/// A calendar day as people in Brazil write it: `31/12/2025`.
pub fn day_br(day: NaiveDate) -> String {
    day.format("%d/%m/%Y").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-01-01T02:30Z: 23:30 of New Year's Eve in São Paulo (UTC−3), 22:30 in Manaus (UTC−4).
    const NEW_YEAR_0230Z: i64 = 1_767_234_600_000;

    #[test]
    fn dates_in_sao_paulo() {
        let sp = StoreClock::of("America/Sao_Paulo");
        assert_eq!(sp.datetime_br(NEW_YEAR_0230Z), "31/12/2025 23:30");
        assert_eq!(sp.date_br(NEW_YEAR_0230Z), "31/12/2025");
        let start = sp.start_of_day(NEW_YEAR_0230Z);
        assert_eq!(sp.datetime_br(start), "31/12/2025 00:00");
        assert_eq!(start, 1_767_150_000_000); // 2025-12-31T03:00Z
    }

    #[test]
    fn dates_in_manaus() {
        let am = StoreClock::of("America/Manaus");
        assert_eq!(am.datetime_br(NEW_YEAR_0230Z), "31/12/2025 22:30");
        assert_eq!(am.start_of_day(NEW_YEAR_0230Z), 1_767_153_600_000); // 2025-12-31T04:00Z
        assert_eq!(
            am.date_of(NEW_YEAR_0230Z),
            NaiveDate::from_ymd_opt(2025, 12, 31).unwrap()
        );
    }

    #[test]
    fn unknown_zone_is_sao_paulo() {
        assert_eq!(StoreClock::of("Mars/Olympus"), StoreClock::default());
        assert_eq!(StoreClock::of("").timezone(), "America/Sao_Paulo");
    }

    #[test]
    fn a_day_skipped_midnight_still_starts() {
        // Brazil's last DST start: 2018-11-04 00:00 did not exist in São Paulo.
        let sp = StoreClock::default();
        let day = NaiveDate::from_ymd_opt(2018, 11, 4).unwrap();
        let start = sp.start_of(day);
        assert_eq!(sp.date_of(start), day);
        assert_eq!(sp.datetime_br(start), "04/11/2018 01:00");
    }
}
