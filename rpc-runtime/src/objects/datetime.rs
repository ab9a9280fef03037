//! [`DateTime`]: the value of oslo's `DateTimeField`, read in every form Python's
//! `timeutils.parse_isotime` (iso8601 2.1) accepts and written as oslo writes it.
//!
//! Measured with oslo.versionedobjects 3.12.0 (`DateTimeField.to_primitive` is
//! `_utils.isotime`): the primitive is `%Y-%m-%dT%H:%M:%S` followed by `Z` for UTC, so
//! microseconds are dropped (`15:00:00.123456` goes out as `15:00:00Z`). Two of its
//! outputs are bugs we do not copy:
//!
//! * a `datetime.timezone(timedelta(hours=5, minutes=30))` without a name is written with
//!   its `tzname()`, `2026-12-06T15:00:00UTC+05:30`, which Python itself cannot read back;
//!   we write `+05:30` (what Python writes for an offset it parsed) and read both;
//! * a `zoneinfo` time zone has no `tzname(None)`, so Python writes the local time with a
//!   `Z`, an hour off for Paris in winter; we always write the real offset.
//!
//! A time without a zone is UTC (iso8601's default), as it is for Python.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde::ser::{Serialize, Serializer};

/// A point in time with the UTC offset it was written in, to microseconds (Python's
/// `datetime` precision).
///
/// Equality, ordering and hashing compare the instant only, as Python compares aware
/// datetimes: `15:00:00Z == 20:30:00+05:30`.
#[derive(Clone, Copy, Debug)]
pub struct DateTime {
    /// Seconds since the Unix epoch (UTC).
    seconds: i64,
    /// Microseconds within the second.
    micros: u32,
    /// The offset from UTC, in minutes (east positive).
    offset_minutes: i16,
}

/// A date-time string that Python's `parse_isotime` would refuse too.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid date-time {text:?}: {problem}")]
pub struct DateTimeError {
    text: String,
    problem: &'static str,
}

const SECONDS_PER_DAY: i64 = 86_400;
/// `datetime.timezone` refuses offsets of a day or more.
const MAX_OFFSET_MINUTES: i32 = 24 * 60 - 1;

impl DateTime {
    /// The instant `seconds` (and `micros`) after the Unix epoch, in UTC. `micros` above
    /// 999 999 carry into the seconds.
    pub fn from_unix(seconds: i64, micros: u32) -> DateTime {
        DateTime {
            seconds: seconds.saturating_add(i64::from(micros / 1_000_000)),
            micros: micros % 1_000_000,
            offset_minutes: 0,
        }
    }

    /// A UTC date and time; `None` when a part is out of range (month 1–12, a day of that
    /// month, hour 0–23, minute and second 0–59, microsecond below one million).
    pub fn from_utc(
        year: i32,
        month: u32,
        day: u32,
        hour: u32,
        minute: u32,
        second: u32,
        micros: u32,
    ) -> Option<DateTime> {
        let valid = (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(year, month)
            && hour < 24
            && minute < 60
            && second < 60
            && micros < 1_000_000;
        if !valid {
            return None;
        }
        let days = days_from_civil(year, month, day);
        let seconds = days * SECONDS_PER_DAY
            + i64::from(hour) * 3600
            + i64::from(minute) * 60
            + i64::from(second);
        Some(DateTime::from_unix(seconds, micros))
    }

    /// The current time, in UTC.
    pub fn now() -> DateTime {
        DateTime::from(SystemTime::now())
    }

    /// The same instant shown at another offset from UTC (in minutes, east positive);
    /// `None` for a day or more either way, which Python's `timezone` refuses.
    pub fn with_offset_minutes(self, offset_minutes: i32) -> Option<DateTime> {
        if offset_minutes.abs() > MAX_OFFSET_MINUTES {
            return None;
        }
        Some(DateTime {
            offset_minutes: offset_minutes as i16,
            ..self
        })
    }

    /// Seconds since the Unix epoch.
    pub fn unix_timestamp(&self) -> i64 {
        self.seconds
    }

    /// Microseconds within the second.
    pub fn subsec_micros(&self) -> u32 {
        self.micros
    }

    /// The offset from UTC it is shown at, in minutes.
    pub fn offset_minutes(&self) -> i32 {
        i32::from(self.offset_minutes)
    }

    /// The same instant with the microseconds dropped: what a Python peer receives.
    pub fn truncated_to_seconds(self) -> DateTime {
        DateTime { micros: 0, ..self }
    }

    /// Parses what Python's `timeutils.parse_isotime` (iso8601 2.1) accepts:
    /// `YYYY[-MM[-DD[(T| )hh[:mm[:ss[(.|,)ffff]]][Z|±hh[:mm]]]]]` and the compact forms
    /// (`20261206T150000Z`), plus the `UTC±hh:mm` suffix Python writes for unnamed offsets.
    /// No zone means UTC; digits past microseconds are dropped.
    pub fn parse(text: &str) -> Result<DateTime, DateTimeError> {
        let error = |problem| DateTimeError {
            text: text.to_owned(),
            problem,
        };
        let parts = Parser::new(text).parse().map_err(error)?;
        let local = DateTime::from_utc(
            parts.year,
            parts.month,
            parts.day,
            parts.hour,
            parts.minute,
            parts.second,
            parts.micros,
        )
        .ok_or_else(|| error("a part is out of range"))?;
        if parts.offset_minutes.abs() > MAX_OFFSET_MINUTES {
            return Err(error("the offset from UTC is a day or more"));
        }
        Ok(DateTime {
            seconds: local.seconds - i64::from(parts.offset_minutes) * 60,
            micros: local.micros,
            offset_minutes: parts.offset_minutes as i16,
        })
    }

    fn local_seconds(&self) -> i64 {
        self.seconds + i64::from(self.offset_minutes) * 60
    }
}

impl fmt::Display for DateTime {
    /// oslo's primitive: `2026-12-06T15:00:00Z`, or `2026-12-06T20:30:00+05:30` at another
    /// offset; no fraction of a second.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let local = self.local_seconds();
        let days = local.div_euclid(SECONDS_PER_DAY);
        let time = local.rem_euclid(SECONDS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        write!(
            f,
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
            time / 3600,
            time / 60 % 60,
            time % 60
        )?;
        match self.offset_minutes {
            0 => f.write_str("Z"),
            offset => {
                let sign = if offset < 0 { '-' } else { '+' };
                let offset = offset.unsigned_abs();
                write!(f, "{sign}{:02}:{:02}", offset / 60, offset % 60)
            }
        }
    }
}

impl FromStr for DateTime {
    type Err = DateTimeError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        DateTime::parse(text)
    }
}

impl PartialEq for DateTime {
    fn eq(&self, other: &Self) -> bool {
        (self.seconds, self.micros) == (other.seconds, other.micros)
    }
}

impl Eq for DateTime {}

impl Hash for DateTime {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (self.seconds, self.micros).hash(state);
    }
}

impl PartialOrd for DateTime {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for DateTime {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.seconds, self.micros).cmp(&(other.seconds, other.micros))
    }
}

impl From<SystemTime> for DateTime {
    fn from(time: SystemTime) -> Self {
        match time.duration_since(UNIX_EPOCH) {
            Ok(after) => DateTime::from_unix(
                i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
                after.subsec_micros(),
            ),
            Err(before) => {
                let before = before.duration();
                let micros = i128::try_from(before.as_micros()).unwrap_or(i128::MAX);
                let total = -micros;
                DateTime::from_unix(
                    i64::try_from(total.div_euclid(1_000_000)).unwrap_or(i64::MIN),
                    total.rem_euclid(1_000_000) as u32,
                )
            }
        }
    }
}

impl From<DateTime> for SystemTime {
    fn from(time: DateTime) -> Self {
        let micros = Duration::from_micros(u64::from(time.micros));
        if time.seconds >= 0 {
            UNIX_EPOCH + Duration::from_secs(time.seconds as u64) + micros
        } else {
            UNIX_EPOCH - Duration::from_secs(time.seconds.unsigned_abs()) + micros
        }
    }
}

impl Serialize for DateTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for DateTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DateTimeVisitor;

        impl Visitor<'_> for DateTimeVisitor {
            type Value = DateTime;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an ISO 8601 date-time string")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<DateTime, E> {
                DateTime::parse(text).map_err(E::custom)
            }
        }

        deserializer.deserialize_str(DateTimeVisitor)
    }
}

/// The parts of a date-time as written.
struct Parts {
    year: i32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    micros: u32,
    offset_minutes: i32,
}

/// iso8601 2.1's regular expression, as a hand-written reader.
struct Parser<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Self {
        Parser {
            bytes: text.as_bytes(),
            at: 0,
        }
    }

    fn parse(mut self) -> Result<Parts, &'static str> {
        let mut parts = Parts {
            year: 0,
            month: 1,
            day: 1,
            hour: 0,
            minute: 0,
            second: 0,
            micros: 0,
            offset_minutes: 0,
        };
        parts.year = self.digits(4, 4).ok_or("expected a four-digit year")? as i32;
        if self.done() {
            return Ok(parts);
        }
        // Month: `-M` or `-MM`, or `MM` unless the text ends there (no `YYYYMM`).
        parts.month = if self.eat(b'-') {
            self.digits(1, 2).ok_or("expected a month")?
        } else {
            let month = self.digits(2, 2).ok_or("expected a month")?;
            if self.done() {
                return Err("YYYYMM is not a date");
            }
            month
        };
        if self.done() {
            return Ok(parts);
        }
        parts.day = if self.eat(b'-') {
            self.digits(1, 2).ok_or("expected a day")?
        } else {
            self.digits(2, 2).ok_or("expected a day")?
        };
        if self.done() {
            return Ok(parts);
        }
        if !(self.eat(b'T') || self.eat(b' ')) {
            return Err("expected `T` or a space before the time");
        }
        parts.hour = self.digits(2, 2).ok_or("expected a two-digit hour")?;
        if self.optional_colon_then_two_digits(&mut parts.minute) {
            let before = self.at;
            self.eat(b':');
            match self.digits(1, 2) {
                Some(second) => {
                    parts.second = second;
                    if self.eat(b'.') || self.eat(b',') {
                        parts.micros = self.fraction().ok_or("expected digits after the point")?;
                    }
                }
                None => self.at = before,
            }
        }
        if self.eat(b'Z') {
            // UTC.
        } else if self.peek_str("UTC") {
            // Python's `isotime` of an unnamed `datetime.timezone`: `UTC+05:30`.
            self.at += 3;
            parts.offset_minutes = self.offset().ok_or("expected an offset after UTC")?;
        } else if matches!(self.peek(), Some(b'+' | b'-')) {
            parts.offset_minutes = self.offset().ok_or("expected an offset")?;
        }
        if !self.done() {
            return Err("unexpected text after the date-time");
        }
        Ok(parts)
    }

    fn optional_colon_then_two_digits(&mut self, value: &mut u32) -> bool {
        let before = self.at;
        self.eat(b':');
        match self.digits(2, 2) {
            Some(digits) => {
                *value = digits;
                true
            }
            None => {
                self.at = before;
                false
            }
        }
    }

    /// `±hh`, `±hhmm` or `±hh:mm` (also `±hh:`, which the regular expression allows).
    fn offset(&mut self) -> Option<i32> {
        let negative = match self.peek()? {
            b'+' => false,
            b'-' => true,
            _ => return None,
        };
        self.at += 1;
        let hours = self.digits(2, 2)?;
        self.eat(b':');
        let minutes = self.digits(2, 2).unwrap_or(0);
        let total = (hours * 60 + minutes) as i32;
        Some(if negative { -total } else { total })
    }

    /// The microseconds of a fraction of any length (truncated, as Python's `int()` of the
    /// Decimal does).
    fn fraction(&mut self) -> Option<u32> {
        let start = self.at;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.at += 1;
        }
        let digits = &self.bytes[start..self.at];
        if digits.is_empty() {
            return None;
        }
        let mut micros = 0;
        for index in 0..6 {
            let digit = digits.get(index).map_or(0, |d| u32::from(d - b'0'));
            micros = micros * 10 + digit;
        }
        Some(micros)
    }

    fn digits(&mut self, min: usize, max: usize) -> Option<u32> {
        let start = self.at;
        while self.at - start < max && self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.at += 1;
        }
        if self.at - start < min {
            self.at = start;
            return None;
        }
        let mut value = 0u32;
        for digit in &self.bytes[start..self.at] {
            value = value * 10 + u32::from(digit - b'0');
        }
        Some(value)
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn peek_str(&self, text: &str) -> bool {
        self.bytes[self.at..].starts_with(text.as_bytes())
    }

    fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn done(&self) -> bool {
        self.at == self.bytes.len()
    }
}

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i32, month: u32, day: u32) -> i64 {
    let year = i64::from(year) - i64::from(month <= 2);
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date of a day count since 1970-01-01 (the inverse of `days_from_civil`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// A serde `with` module (`#[versioned_object(with = "oslo_rpc::objects::as_datetime")]`)
/// for fields of any type that converts to and from [`DateTime`]: `chrono::DateTime<Utc>`
/// and `<FixedOffset>` (feature `chrono`), `time::OffsetDateTime` (feature `time`),
/// `std::time::SystemTime`. The value is written and read as a `DateTimeField`.
pub mod as_datetime {
    use std::fmt::Display;

    use serde::de::{Deserialize, Deserializer, Error};
    use serde::ser::{Serialize, Serializer};

    use super::DateTime;

    /// Writes the value as oslo writes a date-time.
    pub fn serialize<T, S>(value: &T, serializer: S) -> Result<S::Ok, S::Error>
    where
        T: Clone + Into<DateTime>,
        S: Serializer,
    {
        value.clone().into().serialize(serializer)
    }

    /// Reads any date-time Python writes, then converts it.
    pub fn deserialize<'de, T, D>(deserializer: D) -> Result<T, D::Error>
    where
        T: TryFrom<DateTime>,
        T::Error: Display,
        D: Deserializer<'de>,
    {
        let time = DateTime::deserialize(deserializer)?;
        T::try_from(time).map_err(D::Error::custom)
    }
}

/// A [`DateTime`] outside the range of the type it is converted to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("date-time out of range: {0} seconds since the Unix epoch")]
pub struct OutOfRange(pub i64);

#[cfg(feature = "chrono")]
mod chrono_support {
    use super::{DateTime, OutOfRange};

    /// Any chrono date-time, at its offset (seconds of an offset are dropped).
    impl<Tz: chrono::TimeZone> From<chrono::DateTime<Tz>> for DateTime {
        fn from(time: chrono::DateTime<Tz>) -> Self {
            use chrono::Offset;
            let offset = time.offset().fix().local_minus_utc() / 60;
            let base = DateTime::from_unix(time.timestamp(), time.timestamp_subsec_micros());
            base.with_offset_minutes(offset).unwrap_or(base)
        }
    }

    impl TryFrom<DateTime> for chrono::DateTime<chrono::Utc> {
        type Error = OutOfRange;

        fn try_from(time: DateTime) -> Result<Self, OutOfRange> {
            chrono::DateTime::from_timestamp(time.unix_timestamp(), time.subsec_micros() * 1000)
                .ok_or(OutOfRange(time.unix_timestamp()))
        }
    }

    impl TryFrom<DateTime> for chrono::DateTime<chrono::FixedOffset> {
        type Error = OutOfRange;

        fn try_from(time: DateTime) -> Result<Self, OutOfRange> {
            let utc = chrono::DateTime::<chrono::Utc>::try_from(time)?;
            Ok(
                match chrono::FixedOffset::east_opt(time.offset_minutes() * 60) {
                    Some(offset) => utc.with_timezone(&offset),
                    None => utc.fixed_offset(),
                },
            )
        }
    }
}

#[cfg(feature = "time")]
mod time_support {
    use super::DateTime;

    /// A `time` date-time, at its offset (seconds of an offset are dropped).
    impl From<time::OffsetDateTime> for DateTime {
        fn from(time: time::OffsetDateTime) -> Self {
            let base = DateTime::from_unix(time.unix_timestamp(), time.microsecond());
            base.with_offset_minutes(time.offset().whole_minutes().into())
                .unwrap_or(base)
        }
    }

    impl TryFrom<DateTime> for time::OffsetDateTime {
        type Error = time::error::ComponentRange;

        /// Fails outside the years `time` supports (±9999).
        fn try_from(value: DateTime) -> Result<Self, Self::Error> {
            let offset = time::UtcOffset::from_whole_seconds(value.offset_minutes() * 60)?;
            let utc = time::OffsetDateTime::from_unix_timestamp(value.unix_timestamp())?
                .replace_microsecond(value.subsec_micros())?;
            Ok(utc.to_offset(offset))
        }
    }
}

#[cfg(test)]
mod tests;
