//! The one timestamp parser (SPEC §3): every form an accounting export writes, to an instant.
//!
//! Naive date-times are read in `source.timezone`. A local time that happens twice (the hour
//! repeated when clocks go back) is the earlier instant; a local time that never happens (the
//! hour skipped when clocks go forward) is read with the offset in force before the change, so
//! `02:30` on a spring-forward night becomes `03:30` after it.

use chrono::{
    DateTime, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc,
};
use chrono_tz::Tz;

/// Why a timestamp could not be read (never contains the value).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimestampError {
    #[error("empty")]
    Empty,
    #[error("not a recognised date-time format")]
    Unrecognised,
    #[error("does not match source.datetime_format")]
    FormatMismatch,
    #[error("out of range")]
    OutOfRange,
    /// Before 1900-01-01 or from 2200 on (the text as written: a date, never personal data).
    #[error("not a plausible date: `{0}` is before 1900-01-01 or from 2200 on")]
    Implausible(String),
}

const NAIVE_ISO: &[&str] = &[
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
];
const NAIVE_SLASH: &[&str] = &[
    "%m/%d/%Y %H:%M:%S%.f",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %I:%M:%S%p",
    "%m/%d/%Y %I:%M%p",
];
const OFFSET_ISO: &[&str] = &["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z"];

/// 1900-01-01T00:00:00Z and 2200-01-01T00:00:00Z: modified dates outside are implausible.
const PLAUSIBLE_FROM_MS: i64 = -2_208_988_800_000;
const PLAUSIBLE_UNTIL_MS: i64 = 7_258_118_400_000;

/// Reads timestamps in the forms SPEC §3 lists, or only `datetime_format` when one is set.
#[derive(Debug, Clone)]
pub struct TimestampParser {
    timezone: Tz,
    format: Option<String>,
}

impl TimestampParser {
    pub fn new(timezone: Tz, format: Option<String>) -> Self {
        Self { timezone, format }
    }

    /// A modified date: an instant, and a plausible one (a year 0001 or 9999 is a placeholder or
    /// a typo, never when a record changed).
    pub fn parse(&self, text: &str) -> Result<DateTime<Utc>, TimestampError> {
        let instant = match self.read(text)? {
            Written::Local(t) => self.localise(t),
            Written::Fixed(t) => t.with_timezone(&Utc),
        };
        if !(PLAUSIBLE_FROM_MS..PLAUSIBLE_UNTIL_MS).contains(&instant.timestamp_millis()) {
            return Err(TimestampError::Implausible(
                text.trim().chars().take(64).collect(),
            ));
        }
        Ok(instant)
    }

    /// A calendar date (an invoice's, SPEC §9): a date or a date-time without an offset is the
    /// date as written, and so is a date-time with an offset at exactly midnight (how Xero
    /// writes a date: `/Date(1539993600000+0000)/`); any other date-time with an offset is
    /// the date it is in this parser's zone.
    pub fn calendar_date(&self, text: &str) -> Result<NaiveDate, TimestampError> {
        Ok(match self.read(text)? {
            Written::Local(t) => t.date(),
            Written::Fixed(t) if t.time() == NaiveTime::MIN => t.date_naive(),
            Written::Fixed(t) => t.with_timezone(&self.timezone).date_naive(),
        })
    }

    fn read(&self, text: &str) -> Result<Written, TimestampError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(TimestampError::Empty);
        }
        if let Some(format) = &self.format {
            return read_with_format(text, format);
        }
        if let Some(t) = plain_utc(text) {
            return Ok(Written::Fixed(t.fixed_offset()));
        }
        if let Some(inner) = text.strip_prefix("/Date(") {
            return read_ms_date(inner).map(Written::Fixed);
        }
        if text.bytes().all(|b| b.is_ascii_digit()) {
            return read_epoch_ms(text).map(|t| Written::Fixed(t.fixed_offset()));
        }
        if text.contains('/') {
            if let Some(t) = first_naive(text, NAIVE_SLASH) {
                return Ok(Written::Local(t));
            }
            return NaiveDate::parse_from_str(text, "%m/%d/%Y")
                .map(|d| Written::Local(d.and_time(NaiveTime::MIN)))
                .map_err(|_| TimestampError::Unrecognised);
        }
        if let Ok(t) = DateTime::parse_from_rfc3339(text) {
            return Ok(Written::Fixed(t));
        }
        for format in OFFSET_ISO {
            if let Ok(t) = DateTime::parse_from_str(text, format) {
                return Ok(Written::Fixed(t));
            }
        }
        if let Some(t) = first_naive(text, NAIVE_ISO) {
            return Ok(Written::Local(t));
        }
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map(|d| Written::Local(d.and_time(NaiveTime::MIN)))
            .map_err(|_| TimestampError::Unrecognised)
    }

    fn localise(&self, local: NaiveDateTime) -> DateTime<Utc> {
        match self.timezone.from_local_datetime(&local) {
            LocalResult::Single(t) => t.with_timezone(&Utc),
            LocalResult::Ambiguous(earlier, _) => earlier.with_timezone(&Utc),
            LocalResult::None => {
                // In a spring-forward gap: use the offset in force a day before.
                let before = self
                    .timezone
                    .offset_from_utc_datetime(&(local - chrono::Duration::days(1)));
                let offset: FixedOffset = chrono::Offset::fix(&before);
                let utc = local - chrono::Duration::seconds(i64::from(offset.local_minus_utc()));
                Utc.from_utc_datetime(&utc)
            }
        }
    }
}

/// How a date-time was written: on a wall clock without an offset, or with one.
enum Written {
    Local(NaiveDateTime),
    Fixed(DateTime<FixedOffset>),
}

fn read_with_format(text: &str, format: &str) -> Result<Written, TimestampError> {
    if let Ok(t) = DateTime::parse_from_str(text, format) {
        return Ok(Written::Fixed(t));
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
        return Ok(Written::Local(t));
    }
    NaiveDate::parse_from_str(text, format)
        .map(|d| Written::Local(d.and_time(NaiveTime::MIN)))
        .map_err(|_| TimestampError::FormatMismatch)
}

fn first_naive(text: &str, formats: &[&str]) -> Option<NaiveDateTime> {
    formats
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
}

/// `/Date(1488338552390+0000)/`: milliseconds since the epoch, in UTC; the offset says which
/// zone the writer was in, so the instant is written in it.
fn read_ms_date(inner: &str) -> Result<DateTime<FixedOffset>, TimestampError> {
    let body = inner
        .strip_suffix(")/")
        .ok_or(TimestampError::Unrecognised)?;
    let digits_end = body
        .char_indices()
        .skip(1)
        .find(|(_, c)| *c == '+' || *c == '-')
        .map_or(body.len(), |(i, _)| i);
    let (ms, offset) = body.split_at(digits_end);
    let offset = match offset.as_bytes() {
        [] => FixedOffset::east_opt(0),
        [sign @ (b'+' | b'-'), digits @ ..]
            if digits.len() == 4 && digits.iter().all(u8::is_ascii_digit) =>
        {
            let number = |d: &[u8]| d.iter().fold(0i32, |n, b| n * 10 + i32::from(b - b'0'));
            let seconds = number(&digits[..2]) * 3600 + number(&digits[2..]) * 60;
            FixedOffset::east_opt(if *sign == b'-' { -seconds } else { seconds })
        }
        _ => None,
    }
    .ok_or(TimestampError::Unrecognised)?;
    let ms: i64 = ms.parse().map_err(|_| TimestampError::Unrecognised)?;
    DateTime::from_timestamp_millis(ms)
        .map(|t| t.with_timezone(&offset))
        .ok_or(TimestampError::OutOfRange)
}

fn read_epoch_ms(text: &str) -> Result<DateTime<Utc>, TimestampError> {
    let ms: i64 = text.parse().map_err(|_| TimestampError::OutOfRange)?;
    DateTime::from_timestamp_millis(ms).ok_or(TimestampError::OutOfRange)
}

/// Now, in milliseconds since the epoch: how the store keeps every time.
pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// A setting's duration in the store's milliseconds (one too long for them is as long as can be).
pub fn duration_ms(duration: std::time::Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// An instant as the store keeps it (milliseconds since the epoch), shown to people and in
/// JSON in the API's form; a value outside chrono's range shows as nothing (JSON `null`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Millis(pub i64);

impl Millis {
    pub fn instant(self) -> Option<DateTime<Utc>> {
        DateTime::from_timestamp_millis(self.0)
    }
}

impl std::fmt::Display for Millis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.instant() {
            Some(t) => f.write_str(&format_api(t)),
            None => Ok(()),
        }
    }
}

impl serde::Serialize for Millis {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.instant() {
            Some(t) => serializer.serialize_str(&format_api(t)),
            None => serializer.serialize_none(),
        }
    }
}

/// The form most exports write, `2023-01-04T09:47:57.477Z` (RFC 3339 in UTC, up to nine
/// decimals), read without a general parser; `None` for anything else, which the general
/// parser reads. A property test holds both to the same answer.
fn plain_utc(text: &str) -> Option<DateTime<Utc>> {
    let b = text.as_bytes();
    if b.len() < 20 || b[b.len() - 1] != b'Z' {
        return None;
    }
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        b.get(range)?.iter().try_fold(0u32, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    let separators = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')];
    if separators.iter().any(|&(i, c)| b[i] != c) {
        return None;
    }
    let year = i32::try_from(digits(0..4)?).ok()?;
    let (month, day) = (digits(5..7)?, digits(8..10)?);
    let (hour, minute, second) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
    let nanos = match &b[19..b.len() - 1] {
        [] => 0,
        [b'.', fraction @ ..] if (1..=9).contains(&fraction.len()) => {
            digits(20..20 + fraction.len())? * 10u32.pow(9 - fraction.len() as u32)
        }
        _ => return None,
    };
    // A leap second (60) is left to the general parser.
    let time = NaiveTime::from_hms_nano_opt(hour, minute, second, nanos).filter(|_| second < 60)?;
    Some(
        NaiveDate::from_ymd_opt(year, month, day)?
            .and_time(time)
            .and_utc(),
    )
}

/// The API's form: RFC 3339 in UTC with milliseconds, `2023-01-04T09:47:57.477Z`.
pub fn format_api(t: DateTime<Utc>) -> String {
    // The same text as `format("%Y-%m-%dT%H:%M:%S%.3fZ")`, without parsing a format string
    // for every record.
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests;
