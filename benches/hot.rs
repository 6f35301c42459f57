//! The hot functions of a first pass, one record at a time: `cargo bench --bench hot`.
//! The whole-pass harness is `cargo run --release --example bench` (see BENCHMARKS.md).

use std::hint::black_box;

use bluetape_sync::record::phone::PhoneNormaliser;
use bluetape_sync::record::{Field, Kind, Normaliser, RawRecord};
use bluetape_sync::source::timestamp::TimestampParser;
use criterion::{Criterion, criterion_group, criterion_main};
use phonenumber::country;

fn phones(c: &mut Criterion) {
    let phones = PhoneNormaliser::new(country::Id::US);
    // Load the library's metadata before measuring.
    let _ = phones.normalise("(626) 555-0100");
    let mut group = c.benchmark_group("phone");
    for (name, text) in [
        ("plain (626) 555-0100", "(626) 555-0100"),
        ("plain +1 626 555 0100", "+1 626 555 0100"),
        ("library 1 626 555 0100", "1 626 555 0100"),
        ("library +44 7911 123456", "+44 7911 123456"),
    ] {
        group.bench_function(name, |b| b.iter(|| phones.normalise(black_box(text))));
    }
    group.bench_function("library only (626) 555-0100", |b| {
        b.iter(|| phones.normalise_with_library(black_box("(626) 555-0100")))
    });
    group.finish();
}

fn timestamps(c: &mut Criterion) {
    let parser = TimestampParser::new(chrono_tz::UTC, None);
    let local = TimestampParser::new(chrono_tz::America::Chicago, None);
    let mut group = c.benchmark_group("timestamp");
    group.bench_function("RFC 3339", |b| {
        b.iter(|| parser.parse(black_box("2024-03-01T12:34:56.789Z")))
    });
    group.bench_function("local time in America/Chicago", |b| {
        b.iter(|| local.parse(black_box("2024-03-10 02:30:00")))
    });
    group.finish();
}

fn records(c: &mut Criterion) {
    let normaliser = Normaliser::new(
        TimestampParser::new(chrono_tz::UTC, None),
        PhoneNormaliser::new(country::Id::US),
    );
    let mut raw = RawRecord::new(Kind::Customer, "export.csv row 2".into());
    for (field, value) in [
        (Field::Id, "C00000001"),
        (Field::FirstName, "Ada"),
        (Field::LastName, "Lovelace"),
        (Field::EmailAddress, "ada@example.com"),
        (Field::CellPhoneNumber, "(626) 555-0100"),
        (Field::SourceModifiedDate, "2024-03-01T12:34:56.789Z"),
    ] {
        raw.set(field, value);
    }
    let _ = normaliser.modified(&raw);
    c.bench_function("record: validate, normalise and serialise the body", |b| {
        b.iter(|| {
            let modified = normaliser.modified(black_box(&raw)).ok()?;
            let customer = normaliser.customer(&raw, modified).ok()?;
            serde_json::to_string(&customer).ok()
        })
    });
    c.bench_function("record: content hash", |b| {
        b.iter(|| black_box(&raw).content_hash())
    });
}

criterion_group!(benches, phones, timestamps, records);
criterion_main!(benches);
