//! Property tests on the parsers that meet untrusted input. What must hold: a parser returns a
//! value or a typed error, the same input the same way twice; a value read is the value
//! written (dates and phones round-trip); a bad record never stops the good records after it;
//! a bad config is one line naming the file. (`cargo fuzz` needs a nightly toolchain these
//! machines do not have; proptest runs in CI.) `PROPTEST_CASES` sets the executions per
//! property (default here: 1,000); a failing case is kept in `tests/fuzz.proptest-regressions`
//! and replayed first on every later run.

use std::io::Write;
use std::time::SystemTime;

use bluetape_sync::config::Config;
use bluetape_sync::record::phone::PhoneNormaliser;
use bluetape_sync::record::{Field, Kind, Normaliser, RawRecord};
use bluetape_sync::source::mapping::{FieldSource, FieldSpec};
use bluetape_sync::source::timestamp::{TimestampParser, format_api};
use bluetape_sync::source::{self, Item};
use chrono::{DateTime, TimeZone as _};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1000)
}

fn proptest_config() -> ProptestConfig {
    ProptestConfig {
        cases: cases(),
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..ProptestConfig::default()
    }
}

/// Text that looks like the inputs: digits, separators, letters, the odd multibyte char.
fn text() -> impl Strategy<Value = String> {
    prop::string::string_regex("[0-9/:.+\\-TZ aApPmM()@a-z,;\"\\[\\]=|{}éあ\\n\\r]{0,40}")
        .expect("regex")
}

/// Cell text that does not break CSV's structure (no quote, delimiter or line break).
fn cell() -> impl Strategy<Value = String> {
    prop::string::string_regex("[0-9/:.+\\-TZ aApPmM()@a-z;|{}éあ]{0,20}").expect("regex")
}

/// A scratch config whose export is `export.<ext>` beside it.
fn config(dir: &tempfile::TempDir, format: &str, ext: &str) -> Config {
    let path = dir.path().join("config.toml");
    std::fs::write(dir.path().join("key"), "k\n").expect("key");
    let extra = match format {
        "json" => "format = \"json\"\nrecords_path = \"QueryResponse.Customer\"\n",
        "ndjson" => "format = \"ndjson\"\n",
        _ => "",
    };
    let phone = match format {
        "csv" => "[\"+cc\", \"phone\"]",
        _ => "[\"+cc\", \"Phones[Type=MOBILE].Number | phone\"]",
    };
    std::fs::write(
        &path,
        format!(
            "[api]\naccount_id = \"a\"\nkey_file = \"key\"\n[source]\npath = \"export.{ext}\"\nsettle = \"0s\"\n{extra}\
             [source.fields]\ncellPhoneNumber = {phone}\n"
        ),
    )
    .expect("config");
    Config::load_with_env(&path, Some(Default::default())).expect("valid config")
}

/// Reads the export through the real reader: every record, and the error that ended a file.
fn read_all(config: &Config) -> (Vec<RawRecord>, Vec<String>) {
    let mut records = Vec::new();
    let mut errors = Vec::new();
    let discovery = match source::discover(&config.pass.source, SystemTime::now()) {
        Ok(d) => d,
        Err(e) => return (records, vec![e.to_string()]),
    };
    for file in &discovery.files {
        let items = match source::read(&config.pass.source, file, None) {
            Ok(items) => items,
            Err(e) => {
                errors.push(e.to_string());
                continue;
            }
        };
        for item in items {
            match item {
                Ok(Item::Record(raw)) => records.push(raw),
                Ok(Item::LeftOut { .. } | Item::Old(_)) => {}
                Err(e) => {
                    errors.push(e.to_string());
                    break;
                }
            }
        }
    }
    (records, errors)
}

/// The same bytes read twice give the same records and the same errors.
fn read_twice(config: &Config) -> Result<(Vec<RawRecord>, Vec<String>), TestCaseError> {
    let first = read_all(config);
    let second = read_all(config);
    prop_assert_eq!(&first, &second, "read twice, read differently");
    Ok(first)
}

/// A good customer, as its row or object is written and as it must be read.
fn good(i: usize) -> [(Field, String); 6] {
    [
        (Field::Id, format!("G{i}")),
        (Field::FirstName, format!("First{i}")),
        (Field::LastName, format!("Last{i}")),
        (Field::EmailAddress, format!("g{i}@example.com")),
        (Field::CellPhoneNumber, "(626) 555-0100".into()),
        (Field::SourceModifiedDate, "2024-03-01T10:00:00Z".into()),
    ]
}

/// A row the reader must get through without losing the rows after it.
#[derive(Debug, Clone)]
enum Row {
    Good,
    /// Fewer cells than the header.
    Short(Vec<String>),
    /// More cells than the header.
    Long(Vec<String>),
    /// Every cell arbitrary text.
    Garbage(Vec<String>),
}

fn rows() -> impl Strategy<Value = Vec<Row>> {
    let row = prop_oneof![
        2 => Just(Row::Good),
        1 => prop::collection::vec(cell(), 1..5).prop_map(Row::Short),
        1 => prop::collection::vec(cell(), 10..14).prop_map(Row::Long),
        2 => prop::collection::vec(cell(), 8).prop_map(Row::Garbage),
    ];
    prop::collection::vec(row, 1..30)
}

/// Checks that every good row came through whole, and validates as a customer.
fn every_good_record_read(
    rows: &[Row],
    records: &[RawRecord],
    errors: &[String],
) -> Result<(), TestCaseError> {
    prop_assert!(
        errors.is_empty(),
        "a bad record stopped the file: {:?}",
        errors
    );
    let normaliser = Normaliser::new(
        TimestampParser::new(chrono_tz::UTC, None),
        PhoneNormaliser::new(phonenumber::country::Id::US),
    );
    for (i, row) in rows.iter().enumerate() {
        if !matches!(row, Row::Good) {
            continue;
        }
        let expected = good(i);
        let read = records
            .iter()
            .find(|r| r.get(Field::Id) == Some(expected[0].1.as_str()));
        let Some(read) = read else {
            return Err(TestCaseError::fail(format!("G{i} was not read")));
        };
        for (field, value) in &expected {
            prop_assert_eq!(read.get(*field), Some(value.as_str()), "G{} {}", i, field);
        }
        let customer = normaliser
            .modified(read)
            .and_then(|m| normaliser.customer(read, m));
        prop_assert!(customer.is_ok(), "G{}: {:?}", i, customer);
    }
    Ok(())
}

proptest! {
    #![proptest_config(proptest_config())]

    #[test]
    fn timestamps_parse_or_refuse_the_same_way_twice_and_round_trip(
        input in text(),
        format in prop::option::of("[%a-zA-Z:/ .-]{0,12}"),
    ) {
        let parser = TimestampParser::new(chrono_tz::America::New_York, format);
        let first = parser.parse(&input);
        prop_assert_eq!(&first, &parser.parse(&input));
        if let Ok(t) = first {
            // What is sent reads back as the same instant.
            let sent = format_api(t);
            let back = TimestampParser::new(chrono_tz::UTC, None).parse(&sent);
            prop_assert_eq!(back.map(|b| b.timestamp_millis()), Ok(t.timestamp_millis()), "{}", sent);
        }
    }

    #[test]
    fn every_documented_date_form_reads_as_its_instant(
        ms in 0i64..4_102_444_800_000,
        offset_minutes in -720i32..=840,
    ) {
        let t = DateTime::from_timestamp_millis(ms).expect("in range");
        let utc = TimestampParser::new(chrono_tz::UTC, None);
        let offset = chrono::FixedOffset::east_opt(offset_minutes * 60).expect("offset");
        let local = offset.from_utc_datetime(&t.naive_utc());
        let seconds = t.timestamp() * 1000;
        for (text, expected) in [
            (t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(), ms),
            (local.format("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string(), ms),
            (local.format("%Y-%m-%dT%H:%M:%S%z").to_string(), seconds),
            (t.format("%Y-%m-%d %H:%M:%S").to_string(), seconds),
            (t.format("%m/%d/%Y %H:%M:%S").to_string(), seconds),
            (format!("/Date({ms}+0000)/"), ms),
            (ms.to_string(), ms),
        ] {
            prop_assert_eq!(utc.parse(&text).map(|p| p.timestamp_millis()), Ok(expected), "{}", text);
        }
    }

    #[test]
    fn phones_normalise_or_refuse_the_same_way_twice(input in text()) {
        let phones = PhoneNormaliser::new(phonenumber::country::Id::US);
        let first = phones.normalise(&input);
        prop_assert_eq!(&first, &phones.normalise(&input));
        if let Ok(e164) = first {
            prop_assert!(e164.starts_with('+'));
            prop_assert!(e164[1..].bytes().all(|b| b.is_ascii_digit()), "{}", e164);
            // A number sent in E.164 reads back as itself.
            prop_assert_eq!(phones.normalise(&e164), Ok(e164.clone()));
        }
    }

    #[test]
    fn field_paths_parse_or_refuse_the_same_way_twice(input in text()) {
        for source in [
            FieldSource::One(input.clone()),
            FieldSource::Parts(vec![input.clone(), "+x".into()]),
        ] {
            for dotted in [true, false] {
                let first = FieldSpec::parse(&source, dotted);
                prop_assert_eq!(&first, &FieldSpec::parse(&source, dotted));
                if let Err(message) = first {
                    prop_assert!(!message.is_empty() && !message.contains('\n'), "{:?}", message);
                }
            }
        }
    }

    #[test]
    fn csv_bad_rows_never_stop_the_good_ones(rows in rows(), crlf in any::<bool>()) {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = config(&dir, "csv", "csv");
        let newline = if crlf { "\r\n" } else { "\n" };
        let mut text = format!(
            "id,firstName,lastName,emailAddress,cellPhoneNumber,sourceModifiedDate,cc,phone{newline}"
        );
        for (i, row) in rows.iter().enumerate() {
            let cells: Vec<String> = match row {
                Row::Good => {
                    let [id, first, last, email, phone, date] = good(i).map(|(_, v)| v);
                    vec![id, first, last, email, String::new(), date, String::new(), phone]
                }
                Row::Short(cells) | Row::Long(cells) | Row::Garbage(cells) => cells.clone(),
            };
            text.push_str(&cells.join(","));
            text.push_str(newline);
        }
        std::fs::write(dir.path().join("export.csv"), &text).expect("export");
        let (records, errors) = read_twice(&config)?;
        every_good_record_read(&rows, &records, &errors)?;
    }

    #[test]
    fn json_bad_records_never_stop_the_good_ones(
        rows in rows(),
        junk in prop::collection::vec(prop_oneof![
            Just(serde_json::json!(null)),
            Just(serde_json::json!(42)),
            Just(serde_json::json!([1, "two"])),
            Just(serde_json::json!({"Phones": "not a list"})),
        ], 30),
        ndjson in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().expect("tempdir");
        let (format, ext) = if ndjson { ("ndjson", "ndjson") } else { ("json", "json") };
        let config = config(&dir, format, ext);
        let records: Vec<serde_json::Value> = rows
            .iter()
            .enumerate()
            .map(|(i, row)| match row {
                Row::Good => {
                    let mut object = serde_json::Map::new();
                    for (field, value) in good(i) {
                        let key = if field == Field::CellPhoneNumber { "phone" } else { field.api_name() };
                        object.insert(key.to_owned(), value.into());
                    }
                    object.into()
                }
                Row::Short(cells) | Row::Long(cells) | Row::Garbage(cells) => {
                    let mut object = serde_json::Map::new();
                    for (field, cell) in Kind::Customer.fields().iter().zip(cells) {
                        object.insert(field.api_name().to_owned(), cell.clone().into());
                    }
                    object.insert("cc".into(), junk[i % junk.len()].clone());
                    object.insert("Phones".into(), junk[(i + 1) % junk.len()].clone());
                    object.into()
                }
            })
            .collect();
        let text = if ndjson {
            records.iter().map(|r| format!("{r}\n")).collect::<String>()
        } else {
            serde_json::json!({"QueryResponse": {"Customer": records}}).to_string()
        };
        std::fs::write(dir.path().join(format!("export.{ext}")), &text).expect("export");
        let (read, errors) = read_twice(&config)?;
        prop_assert_eq!(read.len(), rows.len(), "one record per object");
        every_good_record_read(&rows, &read, &errors)?;
    }

    #[test]
    fn csv_exports_give_records_or_one_error(bytes in prop::collection::vec(any::<u8>(), 0..400), header in any::<bool>()) {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = config(&dir, "csv", "csv");
        let mut file = std::fs::File::create(dir.path().join("export.csv")).expect("export");
        if header {
            file.write_all(b"id,firstName,lastName,emailAddress,cellPhoneNumber,sourceModifiedDate,cc,phone\n").expect("write");
        }
        file.write_all(&bytes).expect("write");
        drop(file);
        let (_, errors) = read_twice(&config)?;
        prop_assert!(errors.len() <= 1, "{:?}", errors);
        for error in &errors {
            prop_assert!(error.contains("export.csv") && !error.contains('\n'), "{}", error);
        }
    }

    #[test]
    fn json_exports_give_records_or_one_error(body in "[\\[\\]{}\":,0-9a-zA-Z .\\\\]{0,200}") {
        for (format, ext, text) in [
            ("json", "json", format!("{{\"QueryResponse\": {{\"Customer\": [{body}]}}}}")),
            ("json", "json", body.clone()),
            ("ndjson", "ndjson", body.replace(',', "\n")),
        ] {
            let dir = tempfile::tempdir().expect("tempdir");
            let config = config(&dir, format, ext);
            std::fs::write(dir.path().join(format!("export.{ext}")), &text).expect("export");
            let (_, errors) = read_twice(&config)?;
            prop_assert!(errors.len() <= 1, "{:?}", errors);
            for error in &errors {
                prop_assert!(error.contains(&format!("export.{ext}")) && !error.contains('\n'), "{}", error);
            }
        }
    }

    #[test]
    fn configs_load_or_say_why(
        section in prop::sample::select(vec!["api", "retry", "source", "schedule", "log", "store", "metrics", "nope"]),
        key in prop::sample::select(vec!["timeout", "concurrency", "cron", "path", "delimiter", "timezone", "level", "lookback", "listen", "x"]),
        value in prop::sample::select(vec!["\"5s\"", "0", "-1", "\"\"", "true", "\"* * *\"", "[1]", "{a = 1}", "\"Mars/Olympus\"", "1e400"]),
    ) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config.toml");
        std::fs::write(dir.path().join("key"), "k\n").expect("key");
        std::fs::write(
            &path,
            format!("[api]\naccount_id = \"a\"\nkey_file = \"key\"\n[source]\npath = \"e.csv\"\n[{section}]\n{key} = {value}\n"),
        ).expect("config");
        let first = Config::load_with_env(&path, Some(Default::default())).map_err(|e| e.to_string());
        let second = Config::load_with_env(&path, Some(Default::default())).map_err(|e| e.to_string());
        prop_assert_eq!(first.as_ref().err(), second.as_ref().err(), "loaded twice, loaded differently");
        if let Err(message) = first {
            prop_assert!(!message.contains('\n'), "one line: {}", message);
            prop_assert!(message.contains("config.toml"), "names the file: {}", message);
            // A value TOML itself refuses (a duplicate table, a number out of range) is
            // named by the config crate without its key; any other problem names the key.
            let toml_level = message.contains("TOML parse error") || value == "1e400";
            prop_assert!(
                toml_level
                    || message.contains(&format!("{section}.{key}"))
                    || message.contains(&format!("`{key}`"))
                    || message.contains(&format!("`{section}`")),
                "names the key: {}", message
            );
        }
    }
}
