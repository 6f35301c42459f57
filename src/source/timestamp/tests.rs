use super::*;
use chrono::Datelike as _;

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
            let general = general.with_timezone(&Utc);
            let expected = if (1900..2200).contains(&general.year()) {
                Ok(general)
            } else {
                Err(TimestampError::Implausible(text.to_owned()))
            };
            prop_assert_eq!(parser.parse(text), expected);
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

#[test]
fn a_calendar_date_is_the_date_as_written_unless_a_time_with_an_offset_moves_it() {
    let sydney = TimestampParser::new("Australia/Sydney".parse().expect("zone"), None);
    let date = |text: &str| sydney.calendar_date(text).map(|d| d.to_string());
    for (text, expected) in [
        // Dates, and date-times without an offset: as written, whatever the zone.
        ("2024-03-01", "2024-03-01"),
        ("03/01/2024", "2024-03-01"),
        ("2024-03-01 23:30:00", "2024-03-01"),
        ("2024-03-01T00:00:00", "2024-03-01"),
        // An offset at exactly midnight is how a date is encoded: as written.
        ("/Date(1539993600000+0000)/", "2018-10-20"),
        ("2024-03-01T00:00:00Z", "2024-03-01"),
        ("2024-03-01T00:00:00-05:00", "2024-03-01"),
        ("1709251200000", "2024-03-01"),
        // Any other instant is the date in the zone: 20:00 UTC is 07:00 the next day there.
        ("2024-03-01T20:00:00Z", "2024-03-02"),
        ("2024-03-01T10:00:00+13:00", "2024-03-01"),
        ("/Date(1709323200000+0000)/", "2024-03-02"),
    ] {
        assert_eq!(date(text).as_deref(), Ok(expected), "{text}");
    }
    assert_eq!(date("someday"), Err(TimestampError::Unrecognised));
    assert_eq!(date(" "), Err(TimestampError::Empty));
    let formatted = TimestampParser::new(chrono_tz::UTC, Some("%d.%m.%Y".into()));
    assert_eq!(
        formatted.calendar_date("01.03.2024").map(|d| d.to_string()),
        Ok("2024-03-01".to_owned())
    );
    assert_eq!(
        formatted.calendar_date("2024-03-01"),
        Err(TimestampError::FormatMismatch)
    );
}

#[test]
fn a_ms_date_keeps_its_instant_whatever_its_offset() {
    let utc = TimestampParser::new(chrono_tz::UTC, None);
    for text in [
        "/Date(1488338552390)/",
        "/Date(1488338552390+0000)/",
        "/Date(1488338552390+1300)/",
        "/Date(1488338552390-0500)/",
    ] {
        assert_eq!(
            utc.parse(text).map(|t| t.timestamp_millis()),
            Ok(1_488_338_552_390),
            "{text}"
        );
    }
    for bad in [
        "/Date(1488338552390+13)/",
        "/Date(1488338552390+ab00)/",
        "/Date(x)/",
    ] {
        assert_eq!(utc.parse(bad), Err(TimestampError::Unrecognised), "{bad}");
    }
}

#[test]
fn a_modified_date_before_1900_or_from_2200_is_implausible() {
    let utc = TimestampParser::new(chrono_tz::UTC, None);
    for text in [
        "0001-01-01",
        "9999-12-31T23:59:59Z",
        "1899-12-31 23:59:59",
        "2200-01-01",
    ] {
        assert_eq!(
            utc.parse(text),
            Err(TimestampError::Implausible(text.to_owned())),
            "{text}"
        );
    }
    for text in ["1900-01-01", "2199-12-31T23:59:59.999Z"] {
        assert!(utc.parse(text).is_ok(), "{text}");
    }
    assert_eq!(
        TimestampError::Implausible("0001-01-01".into()).to_string(),
        "not a plausible date: `0001-01-01` is before 1900-01-01 or from 2200 on"
    );
}
