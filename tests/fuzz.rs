//! Property tests on the parsers that meet untrusted input: whatever the export or the config
//! holds, the result is a value, a rejected record or a config error, never a panic.
//! (`cargo fuzz` needs a nightly toolchain these machines do not have; proptest runs in CI.)
//! `PROPTEST_CASES` sets the executions per property (default here: 1,000).

use std::io::Write;
use std::time::SystemTime;

use bluetape_sync::config::Config;
use bluetape_sync::mapping::{FieldSource, FieldSpec};
use bluetape_sync::phone::PhoneNormaliser;
use bluetape_sync::source::{self, Item};
use bluetape_sync::timestamp::TimestampParser;
use proptest::prelude::*;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1000)
}

/// Text that looks like the inputs: digits, separators, letters, the odd multibyte char.
fn text() -> impl Strategy<Value = String> {
    prop::string::string_regex("[0-9/:.+\\-TZ aApPmM()@a-z,;\"\\[\\]=|{}éあ\\n\\r]{0,40}")
        .expect("regex")
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
    std::fs::write(
        &path,
        format!(
            "[api]\naccount_id = \"a\"\nkey_file = \"key\"\n[source]\npath = \"export.{ext}\"\nsettle = \"0s\"\n{extra}\
             [source.fields]\ncellPhoneNumber = [\"+cc\", \"Phones[Type=MOBILE].Number | phone\"]\n"
        ),
    )
    .expect("config");
    Config::load_with_env(&path, Some(Default::default())).expect("valid config")
}

/// Reads the export through the real reader: records or one error, never a panic.
fn read_all(config: &Config) -> usize {
    let Ok(discovery) = source::discover(&config.source, SystemTime::now()) else {
        return 0;
    };
    let mut n = 0;
    for file in &discovery.files {
        let Ok(records) = source::read(&config.source, file, None) else {
            continue;
        };
        for item in records {
            match item {
                Ok(Item::Record(_) | Item::Skipped(_) | Item::Old(_)) => n += 1,
                Err(_) => break,
            }
        }
    }
    n
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn timestamps_parse_or_refuse(input in text(), format in prop::option::of("[%a-zA-Z:/ .-]{0,12}")) {
        let parser = TimestampParser::new(chrono_tz::America::New_York, format);
        let _ = parser.parse(&input);
    }

    #[test]
    fn phones_normalise_or_refuse(input in text()) {
        if let Ok(e164) = PhoneNormaliser::new(phonenumber::country::Id::US).normalise(&input) {
            prop_assert!(e164.starts_with('+'));
            prop_assert!(e164[1..].bytes().all(|b| b.is_ascii_digit()), "{}", e164);
        }
    }

    #[test]
    fn field_paths_parse_or_refuse(input in text()) {
        let _ = FieldSpec::parse(&FieldSource::One(input.clone()), true);
        let _ = FieldSpec::parse(&FieldSource::Parts(vec![input, "+x".into()]), false);
    }

    #[test]
    fn csv_exports_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400), header in any::<bool>()) {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = config(&dir, "csv", "csv");
        let mut file = std::fs::File::create(dir.path().join("export.csv")).expect("export");
        if header {
            file.write_all(b"id,firstName,lastName,emailAddress,cellPhoneNumber,sourceModifiedDate,cc,phone\n").expect("write");
        }
        file.write_all(&bytes).expect("write");
        drop(file);
        read_all(&config);
    }

    #[test]
    fn json_exports_never_panic(body in "[\\[\\]{}\":,0-9a-zA-Z .\\\\]{0,200}") {
        for (format, ext, text) in [
            ("json", "json", format!("{{\"QueryResponse\": {{\"Customer\": [{body}]}}}}")),
            ("json", "json", body.clone()),
            ("ndjson", "ndjson", body.replace(',', "\n")),
        ] {
            let dir = tempfile::tempdir().expect("tempdir");
            let config = config(&dir, format, ext);
            std::fs::write(dir.path().join(format!("export.{ext}")), &text).expect("export");
            read_all(&config);
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
        match Config::load_with_env(&path, Some(Default::default())) {
            Ok(_) => {}
            Err(e) => {
                let message = e.to_string();
                prop_assert!(!message.contains('\n'), "one line: {}", message);
                prop_assert!(message.contains("config.toml"), "names the file: {}", message);
            }
        }
    }
}
