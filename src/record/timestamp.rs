//! The one timestamp parser (SPEC §3): every form an accounting export writes, to an instant.
//!
//! Naive date-times are read in `source.timezone`. A local time that happens twice (the hour
//! repeated when clocks go back) is the earlier instant; a local time that never happens (the
//! hour skipped when clocks go forward) is read with the offset in force before the change, so
//! `02:30` on a spring-forward night becomes `03:30` after it.

use chrono::{DateTime, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc};
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

    pub fn parse(&self, text: &str) -> Result<DateTime<Utc>, TimestampError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(TimestampError::Empty);
        }
        if let Some(format) = &self.format {
            return self.parse_with_format(text, format);
        }
        if let Some(t) = plain_utc(text) {
            return Ok(t);
        }
        if let Some(inner) = text.strip_prefix("/Date(") {
            return parse_ms_date(inner);
        }
        if text.bytes().all(|b| b.is_ascii_digit()) {
            return parse_epoch_ms(text);
        }
        if text.contains('/') {
            if let Some(t) = first_naive(text, NAIVE_SLASH) {
                return Ok(self.localise(t));
            }
            return NaiveDate::parse_from_str(text, "%m/%d/%Y")
                .map(|d| self.localise(d.and_time(chrono::NaiveTime::MIN)))
                .map_err(|_| TimestampError::Unrecognised);
        }
        if let Ok(t) = DateTime::parse_from_rfc3339(text) {
            return Ok(t.with_timezone(&Utc));
        }
        for format in OFFSET_ISO {
            if let Ok(t) = DateTime::parse_from_str(text, format) {
                return Ok(t.with_timezone(&Utc));
            }
        }
        if let Some(t) = first_naive(text, NAIVE_ISO) {
            return Ok(self.localise(t));
        }
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map(|d| self.localise(d.and_time(chrono::NaiveTime::MIN)))
            .map_err(|_| TimestampError::Unrecognised)
    }

    fn parse_with_format(&self, text: &str, format: &str) -> Result<DateTime<Utc>, TimestampError> {
        if let Ok(t) = DateTime::parse_from_str(text, format) {
            return Ok(t.with_timezone(&Utc));
        }
        if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
            return Ok(self.localise(t));
        }
        NaiveDate::parse_from_str(text, format)
            .map(|d| self.localise(d.and_time(chrono::NaiveTime::MIN)))
            .map_err(|_| TimestampError::FormatMismatch)
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

fn first_naive(text: &str, formats: &[&str]) -> Option<NaiveDateTime> {
    formats
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
}

/// `/Date(1488338552390+0000)/`: milliseconds since the epoch; the offset only says which zone
/// the writer was in, the milliseconds are already UTC.
fn parse_ms_date(inner: &str) -> Result<DateTime<Utc>, TimestampError> {
    let body = inner
        .strip_suffix(")/")
        .ok_or(TimestampError::Unrecognised)?;
    let digits_end = body
        .char_indices()
        .skip(1)
        .find(|(_, c)| *c == '+' || *c == '-')
        .map_or(body.len(), |(i, _)| i);
    let (ms, offset) = body.split_at(digits_end);
    let offset_ok =
        offset.is_empty() || (offset.len() == 5 && offset[1..].bytes().all(|b| b.is_ascii_digit()));
    if !offset_ok {
        return Err(TimestampError::Unrecognised);
    }
    let ms: i64 = ms.parse().map_err(|_| TimestampError::Unrecognised)?;
    DateTime::from_timestamp_millis(ms).ok_or(TimestampError::OutOfRange)
}

fn parse_epoch_ms(text: &str) -> Result<DateTime<Utc>, TimestampError> {
    let ms: i64 = text.parse().map_err(|_| TimestampError::OutOfRange)?;
    DateTime::from_timestamp_millis(ms).ok_or(TimestampError::OutOfRange)
}

/// Now, in milliseconds since the epoch: how the store keeps every time.
pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
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
    let time = chrono::NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)
        .filter(|_| second < 60)?;
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
mod tests {
    use super::*;

    #[test]
    fn stored_instants_show_in_the_api_form_and_out_of_range_as_nothing() {
        let t = Millis(1_672_825_677_477);
        assert_eq!(t.to_string(), "2023-01-04T09:47:57.477Z");
        assert_eq!(
            serde_json::to_string(&[Some(t), Some(Millis(i64::MAX)), None]).expect("json"),
            r#"["2023-01-04T09:47:57.477Z",null,null]"#
        );
        assert_eq!(Millis(i64::MAX).to_string(), "");
    }

    mod plain_utc_agrees_with_chrono {
        use super::*;
        use proptest::prelude::*;

        /// RFC 3339 shapes in UTC with any digits, so that invalid dates and times are made too.
        fn shaped() -> impl Strategy<Value = String> {
            (
                "[0-9]{4}",
                "[0-9]{2}",
                "[0-9]{2}",
                "[0-9]{2}",
                "[0-9]{2}",
                "[0-9]{2}",
                prop::option::of("[0-9]{0,11}"),
                prop::sample::select(vec!["Z", "z", "+00:00", ""]),
            )
                .prop_map(|(y, mo, d, h, mi, s, fraction, zone)| {
                    let fraction = fraction.map(|f| format!(".{f}")).unwrap_or_default();
                    format!("{y}-{mo}-{d}T{h}:{mi}:{s}{fraction}{zone}")
                })
        }

        /// Plausible ones, so that most are valid.
        fn plausible() -> impl Strategy<Value = String> {
            (
                1u32..=9999,
                1u32..=12,
                1u32..=31,
                0u32..=23,
                0u32..=59,
                0u32..=60,
                prop::option::of(0u32..1_000_000_000),
            )
                .prop_map(|(y, mo, d, h, mi, s, nanos)| {
                    let fraction = nanos.map(|n| format!(".{n:09}")).unwrap_or_default();
                    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{fraction}Z")
                })
        }

        fn check(text: &str) -> Result<(), TestCaseError> {
            if let Some(fast) = plain_utc(text) {
                let general = DateTime::parse_from_rfc3339(text).map(|t| t.with_timezone(&Utc));
                prop_assert_eq!(Ok(fast), general, "{}", text);
            }
            let parser = TimestampParser::new(chrono_tz::UTC, None);
            if let Ok(general) = DateTime::parse_from_rfc3339(text) {
                prop_assert_eq!(parser.parse(text), Ok(general.with_timezone(&Utc)));
            }
            Ok(())
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(3000))]

            #[test]
            fn on_any_digits(text in shaped()) {
                check(&text)?;
            }

            #[test]
            fn on_plausible_instants(text in plausible()) {
                check(&text)?;
            }
        }

        #[test]
        fn the_common_forms_take_the_direct_route() {
            for text in [
                "2023-01-04T09:47:57Z",
                "2023-01-04T09:47:57.4Z",
                "2023-01-04T09:47:57.477Z",
                "2023-01-04T09:47:57.123456789Z",
            ] {
                assert!(plain_utc(text).is_some(), "{text}");
            }
            for text in [
                "2023-01-04T09:47:57+00:00",
                "2023-02-30T00:00:00Z",
                "2016-12-31T23:59:60Z",
            ] {
                assert!(plain_utc(text).is_none(), "{text}");
            }
        }
    }

    #[test]
    fn the_api_form_has_milliseconds_and_z_for_every_year() {
        let step = 86_400_000 * 365 + 3_723_456;
        let mut ms = DateTime::parse_from_rfc3339("0001-01-01T00:00:00Z")
            .expect("year 1")
            .timestamp_millis();
        let last = DateTime::parse_from_rfc3339("9999-12-31T23:59:59.999Z")
            .expect("year 9999")
            .timestamp_millis();
        let mut checked = 0;
        while ms <= last {
            let t = DateTime::from_timestamp_millis(ms).expect("in range");
            assert_eq!(
                format_api(t),
                t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
            );
            ms += step;
            checked += 1;
        }
        assert!(checked > 9_000);
        let t = DateTime::from_timestamp_millis(last).expect("in range");
        assert_eq!(format_api(t), "9999-12-31T23:59:59.999Z");
    }

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("test instant")
            .with_timezone(&Utc)
    }

    fn parse_in(tz: &str, text: &str) -> Result<DateTime<Utc>, TimestampError> {
        TimestampParser::new(tz.parse().expect("tz"), None).parse(text)
    }

    #[test]
    fn every_documented_form() {
        let cases = [
            ("2023-01-04T09:47:57.477Z", "2023-01-04T09:47:57.477Z"),
            ("2023-01-04T09:47:57Z", "2023-01-04T09:47:57Z"),
            ("2024-02-17T11:13:46-08:00", "2024-02-17T19:13:46Z"),
            ("2023-01-04T15:17:57+0530", "2023-01-04T09:47:57Z"),
            ("2023-01-04T15:17:57.5+05:30", "2023-01-04T09:47:57.5Z"),
            ("2023-01-04 09:47:57+00:00", "2023-01-04T09:47:57Z"),
            ("2023-01-04 09:47:57", "2023-01-04T09:47:57Z"),
            ("2023-01-04T09:47:57.123", "2023-01-04T09:47:57.123Z"),
            ("2023-01-04 09:47", "2023-01-04T09:47:00Z"),
            ("2023-01-04", "2023-01-04T00:00:00Z"),
            ("01/04/2023 09:47:57", "2023-01-04T09:47:57Z"),
            ("1/4/2023 9:47:57", "2023-01-04T09:47:57Z"),
            ("01/04/2023 9:47 AM", "2023-01-04T09:47:00Z"),
            ("01/04/2023 9:47 PM", "2023-01-04T21:47:00Z"),
            ("01/04/2023 12:05 am", "2023-01-04T00:05:00Z"),
            ("01/04/2023 09:47:57 PM", "2023-01-04T21:47:57Z"),
            ("01/04/2023", "2023-01-04T00:00:00Z"),
            ("1672825677477", "2023-01-04T09:47:57.477Z"),
            ("/Date(1488338552390+0000)/", "2017-03-01T03:22:32.390Z"),
            ("/Date(1488338552390)/", "2017-03-01T03:22:32.390Z"),
            ("/Date(1488338552390-0500)/", "2017-03-01T03:22:32.390Z"),
            ("  2023-01-04T09:47:57Z  ", "2023-01-04T09:47:57Z"),
        ];
        for (input, expected) in cases {
            assert_eq!(parse_in("UTC", input), Ok(utc(expected)), "{input}");
        }
    }

    #[test]
    fn naive_times_are_read_in_the_source_timezone() {
        assert_eq!(
            parse_in("America/New_York", "2023-01-04 09:47:57"),
            Ok(utc("2023-01-04T14:47:57Z"))
        );
        assert_eq!(
            parse_in("America/New_York", "07/04/2023 09:47:57"),
            Ok(utc("2023-07-04T13:47:57Z"))
        );
        // An explicit offset wins over the source timezone.
        assert_eq!(
            parse_in("America/New_York", "2023-01-04T09:47:57Z"),
            Ok(utc("2023-01-04T09:47:57Z"))
        );
    }

    #[test]
    fn dst_edges_resolve_without_panicking() {
        // 2023-11-05 01:30 happens twice in New York: the earlier (EDT, -4) instant.
        assert_eq!(
            parse_in("America/New_York", "2023-11-05 01:30:00"),
            Ok(utc("2023-11-05T05:30:00Z"))
        );
        // 2023-03-12 02:30 never happens in New York: read with EST (-5), i.e. 03:30 EDT.
        assert_eq!(
            parse_in("America/New_York", "2023-03-12 02:30:00"),
            Ok(utc("2023-03-12T07:30:00Z"))
        );
    }

    #[test]
    fn bad_values_are_errors_not_guesses() {
        for input in [
            "yesterday",
            "2023-13-04 09:47:57",
            "13/40/2023",
            "/Date(abc)/",
            "/Date(123",
            "2023-01-04T25:00:00Z",
            "99999999999999999999999",
        ] {
            assert!(parse_in("UTC", input).is_err(), "{input}");
        }
        assert_eq!(parse_in("UTC", "  "), Err(TimestampError::Empty));
    }

    #[test]
    fn explicit_format_is_the_only_form() {
        let p = TimestampParser::new(chrono_tz::UTC, Some("%d/%m/%Y %H:%M".into()));
        assert_eq!(p.parse("04/01/2023 09:47"), Ok(utc("2023-01-04T09:47:00Z")));
        assert_eq!(
            p.parse("2023-01-04T09:47:57Z"),
            Err(TimestampError::FormatMismatch)
        );
        let p = TimestampParser::new(chrono_tz::UTC, Some("%d.%m.%Y %H:%M %z".into()));
        assert_eq!(
            p.parse("04.01.2023 10:47 +0100"),
            Ok(utc("2023-01-04T09:47:00Z"))
        );
    }

    #[test]
    fn api_format_has_milliseconds_and_z() {
        assert_eq!(
            format_api(utc("2023-01-04T09:47:57Z")),
            "2023-01-04T09:47:57.000Z"
        );
        assert_eq!(
            format_api(utc("2024-02-17T11:13:46.123456-08:00")),
            "2024-02-17T19:13:46.123Z"
        );
    }
}
