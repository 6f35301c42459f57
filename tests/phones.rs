//! Every region's example mobile number, in every form, reads as libphonenumber reads it: the
//! table in `tests/fixtures/phones.tsv` is written by libphonenumber itself
//! (`tests/phones/generate.py`, pinned to the metadata of the library the product uses).

mod support;

use std::collections::{BTreeMap, BTreeSet};

use bluetape_sync::record::phone::PhoneNormaliser;
use support::{Fixture, HEADER};

const TABLE: &str = include_str!("fixtures/phones.tsv");

#[test]
fn every_region_in_every_form_reads_as_libphonenumber_reads_it() {
    let mut rows = 0;
    let mut wrong = Vec::new();
    let mut forms: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (i, line) in TABLE
        .lines()
        .enumerate()
        .skip_while(|(_, l)| l.starts_with('#'))
        .skip(1)
    {
        if line.starts_with('#') {
            continue;
        }
        let cells: Vec<&str> = line.split('\t').collect();
        let [region, form, default, written, expected] = cells[..] else {
            panic!("phones.tsv line {}: five cells expected: {line:?}", i + 1);
        };
        let default = default
            .parse()
            .unwrap_or_else(|_| panic!("phones.tsv line {}: unknown region {default}", i + 1));
        let got = PhoneNormaliser::new(default).normalise(written);
        // The same number with its country given for it alone, as a per-record country would.
        let given =
            PhoneNormaliser::new(phonenumber::country::Id::US).normalise_in(written, default);
        if given != got {
            wrong.push(format!(
                "{region} {form}: {written:?} gave {got:?} by default, {given:?} given"
            ));
        }
        forms.entry(region).or_default().insert(form);
        let ok = match (expected, &got) {
            ("-", Err(_)) => true,
            (expected, Ok(got)) => got == expected,
            _ => false,
        };
        if !ok {
            wrong.push(format!("{region} {form} read in {default:?}: {written:?} gave {got:?}, libphonenumber {expected}"));
        }
        rows += 1;
    }
    assert!(rows > 2000, "the table has only {rows} rows");
    forms.remove("-");
    assert_eq!(forms.len(), 245, "every region libphonenumber supports");
    for (region, forms) in &forms {
        for form in ["e164", "international", "national", "idd"] {
            assert!(forms.contains(form), "{region} has no {form} row");
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {rows} rows differ:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// Through the binary: German and Chinese mobiles from an export read with the default `US`
/// reach BlueTape with their own country's digits, in every international form.
#[tokio::test]
async fn international_mobiles_reach_bluetape_with_their_own_digits() {
    let fx = Fixture::new().await;
    let cases = [
        ("DE-E164", "+4915123456789", "+4915123456789"),
        ("DE-INTL", "+49 1512 3456789", "+4915123456789"),
        ("DE-IDD", "011 49 1512 3456789", "+4915123456789"),
        ("CN-E164", "+8613123456789", "+8613123456789"),
        ("CN-INTL", "+86 131 2345 6789", "+8613123456789"),
        ("US-NATIONAL", "(626) 555-0100", "+16265550100"),
    ];
    let mut export = format!("{HEADER}\n");
    for (id, phone, _) in cases {
        export.push_str(&format!(
            "{id},F,L,{id}@example.com,{phone},2024-03-01T00:00:00Z,\n"
        ));
    }
    fx.write_export(&export);
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let sent = fx.posted_bodies();
    for (id, phone, e164) in cases {
        assert_eq!(
            sent.get(id).map(|body| &body["cellPhoneNumber"]),
            Some(&serde_json::json!(e164)),
            "{id}: {phone}"
        );
    }
    assert_eq!(sent.len(), cases.len());
}
