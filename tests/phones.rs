//! Every region's example mobile number, in every form, reads as libphonenumber reads it: the
//! table in `tests/fixtures/phones.tsv` is written by libphonenumber itself
//! (`tests/phones/generate.py`, pinned to the metadata of the library the product uses).

use bluetape_sync::record::phone::PhoneNormaliser;

const TABLE: &str = include_str!("fixtures/phones.tsv");

#[test]
fn every_region_in_every_form_reads_as_libphonenumber_reads_it() {
    let mut rows = 0;
    let mut wrong = Vec::new();
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
    assert!(
        wrong.is_empty(),
        "{} of {rows} rows differ:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
