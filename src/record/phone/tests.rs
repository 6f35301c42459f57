use super::nanp::{NANP, plain_nanp};
use super::*;

fn nanp_us(text: &str) -> Option<Result<String, PhoneError>> {
    plain_nanp(text, country::Id::US)
}

fn us() -> PhoneNormaliser {
    PhoneNormaliser::new(country::Id::US)
}

#[test]
fn common_forms_become_e164() {
    for input in [
        "+1 626 555 0100",
        "(626) 555-0100",
        "626-555-0100",
        "626.555.0100",
        "6265550100",
        "1 626 555 0100",
        "+16265550100",
        "tel:+1-626-555-0100",
        " 626 555 0100 ",
    ] {
        assert_eq!(
            us().normalise(input).as_deref(),
            Ok("+16265550100"),
            "{input}"
        );
    }
    assert_eq!(
        us().normalise("+44 7911 123456").as_deref(),
        Ok("+447911123456")
    );
    assert_eq!(
        us().normalise("011 44 7911 123456").as_deref(),
        Ok("+447911123456")
    );
    let gb = PhoneNormaliser::new(country::Id::GB);
    assert_eq!(gb.normalise("07911 123456").as_deref(), Ok("+447911123456"));
}

#[test]
fn plain_north_american_forms_take_the_direct_route() {
    assert!(NANP.is_some(), "the library's metadata could not be read");
    for input in [
        "(626) 555-0100",
        "626.555.0100",
        "+1 626 555 0100",
        "+16265550100",
    ] {
        assert_eq!(
            nanp_us(input),
            Some(Ok("+16265550100".to_owned())),
            "{input}"
        );
    }
    assert_eq!(nanp_us("+11234567890"), None, "starts with 1");
    // The crate's parser takes the digits before the first dash for the calling code (1626):
    // left to the full route, which reads it as libphonenumber does.
    assert_eq!(nanp_us("+1626-555-0100"), None);
    assert_eq!(
        us().normalise("+1626-555-0100").as_deref(),
        Ok("+16265550100")
    );
    assert_eq!(nanp_us("+1 200 555 0100"), Some(Err(PhoneError::Invalid)));
    for other in [
        "tel:+1-626-555-0100",
        "1 626 555 0100",
        "+44 7911 123456",
        "626 555 0100 x2",
    ] {
        assert_eq!(nanp_us(other), None, "{other}");
    }
    assert_eq!(plain_nanp("6265550100", country::Id::GB), None);
    assert_eq!(
        plain_nanp("+1 626 555 0100", country::Id::GB),
        Some(Ok("+16265550100".into()))
    );
}

/// Both routes agree on every area code with a spread of exchanges and lines.
#[test]
fn the_direct_route_agrees_with_the_library_on_every_area_code() {
    let countries = [country::Id::US, country::Id::CA, country::Id::JM];
    let mut direct = 0;
    for area in 200..=999u32 {
        for (i, exchange) in [200u32, 311, 555, 649, 787, 911, 999]
            .into_iter()
            .enumerate()
        {
            let line = (area * 7919 + exchange * 104_729) % 10_000;
            let written = if i % 2 == 0 {
                format!("({area}) {exchange}-{line:04}")
            } else {
                format!("+1 {area} {exchange} {line:04}")
            };
            let phones = PhoneNormaliser::new(countries[i % countries.len()]);
            direct += usize::from(plain_nanp(&written, countries[i % countries.len()]).is_some());
            assert_eq!(
                phones.normalise(&written),
                phones.normalise_with_library(&written),
                "{written}"
            );
        }
    }
    assert_eq!(direct, 800 * 7);
}

mod agrees_with_the_library {
    use super::*;
    use proptest::prelude::*;

    fn countries() -> impl Strategy<Value = country::Id> {
        prop::sample::select(vec![
            country::Id::US,
            country::Id::CA,
            country::Id::PR,
            country::Id::JM,
            country::Id::GB,
            country::Id::DE,
        ])
    }

    /// Ten or eleven digits, maybe a `+` or `1` first, with separators anywhere.
    fn written_numbers() -> impl Strategy<Value = String> {
        let prefix = prop::sample::select(vec!["", "+1", "1", "+", "+1 ", "+ 1", "+(1)", " "]);
        let digits = prop::collection::vec(0u8..10, 9..=11);
        let separators = prop::collection::vec(
            prop::sample::select(vec!["", "", "", " ", "-", ".", "(", ")", ") ", "--", "/"]),
            12,
        );
        (prefix, digits, separators).prop_map(|(prefix, digits, separators)| {
            let mut out = prefix.to_owned();
            for (d, sep) in digits.iter().zip(&separators) {
                out.push(char::from(b'0' + d));
                out.push_str(sep);
            }
            out
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        #[test]
        fn on_written_numbers(country in countries(), text in written_numbers()) {
            let phones = PhoneNormaliser::new(country);
            prop_assert_eq!(phones.normalise(&text), phones.normalise_with_library(&text));
        }

        #[test]
        fn on_any_text_of_phone_characters(
            country in countries(),
            text in "[0-9 ()+.-]{0,20}",
        ) {
            let phones = PhoneNormaliser::new(country);
            prop_assert_eq!(phones.normalise(&text), phones.normalise_with_library(&text));
        }
    }
}

#[test]
fn invalid_numbers_are_refused_not_mangled() {
    // No US area code 123.
    assert_eq!(us().normalise("+11234567890"), Err(PhoneError::Invalid));
    assert_eq!(us().normalise("555-0100"), Err(PhoneError::Invalid));
    assert_eq!(us().normalise("626 555 01"), Err(PhoneError::Invalid));
    assert!(us().normalise("call me").is_err());
    assert!(us().normalise("").is_err());
}

/// A number with its own country code keeps that country's digits whatever the default
/// country's national prefix (`1` in the US, `0` in Germany); answers are libphonenumber 9.0.33's.
#[test]
fn international_numbers_keep_their_country_and_digits() {
    let de = PhoneNormaliser::new(country::Id::DE);
    for (phones, input, e164) in [
        (us(), "+4915123456789", "+4915123456789"),
        (us(), "+49 1512 3456789", "+4915123456789"),
        (us(), "011 49 1512 3456789", "+4915123456789"),
        (us(), "(011) 49 1512 3456789", "+4915123456789"),
        (us(), "tel:+49-1512-3456789", "+4915123456789"),
        (us(), "+49 1512 3456789 ext. 12", "+4915123456789"),
        (us(), "+8613123456789", "+8613123456789"),
        (us(), "+8801812345678", "+8801812345678"),
        (us(), "+800 1234 5678", "+80012345678"),
        // The trunk zero in brackets, as UK numbers are often written.
        (us(), "+44 (0)7911 123456", "+447911123456"),
        (us(), "+44 (0) 7911 123456", "+447911123456"),
        (de, "+44(0)7911123456", "+447911123456"),
        (us(), "011 39 06 6982 1234", "+390669821234"),
        (de, "+39 06 6982 1234", "+390669821234"),
        (de, "00 39 06 6982 1234", "+390669821234"),
        (de, "0049 1512 3456789", "+4915123456789"),
        (de, "+1 604 555 0100", "+16045550100"),
        (
            PhoneNormaliser::new(country::Id::GG),
            "+44 1481 256789",
            "+441481256789",
        ),
    ] {
        assert_eq!(phones.normalise(input).as_deref(), Ok(e164), "{input}");
    }
}

#[test]
fn a_country_can_be_given_for_one_number() {
    assert_eq!(
        us().normalise_in("01512 3456789", country::Id::DE)
            .as_deref(),
        Ok("+4915123456789")
    );
    assert_eq!(us().normalise("01512 3456789"), Err(PhoneError::Invalid));
    assert_eq!(
        us().normalise_in("+1 626 555 0100", country::Id::DE)
            .as_deref(),
        Ok("+16265550100")
    );
}

/// Each country's own international dialling prefix, as libphonenumber 9.0.33 reads it.
#[test]
fn every_style_of_international_dialling_prefix_keeps_the_country() {
    for (country, input, e164) in [
        (country::Id::AU, "0011 49 1512 3456789", "+4915123456789"),
        (country::Id::BR, "0021 49 1512 3456789", "+4915123456789"),
        (country::Id::JP, "010 49 1512 3456789", "+4915123456789"),
        (country::Id::RU, "810 49 1512 3456789", "+4915123456789"),
        (country::Id::GB, "00 86 131 2345 6789", "+8613123456789"),
        (country::Id::KR, "001 86 131 2345 6789", "+8613123456789"),
        (country::Id::DE, "00 1 626 555 0100", "+16265550100"),
        (country::Id::US, "011 1 626 555 0100", "+16265550100"),
        // A `+` before the prefix, or a country code that begins like the prefix (810 in Russia).
        (country::Id::US, "+011 49 1512 3456789", "+4915123456789"),
        (country::Id::DE, "+00 49 1512 3456789", "+4915123456789"),
        (country::Id::US, "++49 1512 3456789", "+4915123456789"),
        (country::Id::RU, "+8103-1234-5678", "+81312345678"),
        (country::Id::RU, "+81 03-1234-5678", "+81312345678"),
    ] {
        let phones = PhoneNormaliser::new(country);
        assert_eq!(
            phones.normalise(input).as_deref(),
            Ok(e164),
            "{country:?} {input}"
        );
    }
}

/// A `+` followed by no country code, even once the default country's prefix is taken off,
/// is refused (libphonenumber: "Could not interpret numbers after plus-sign").
#[test]
fn a_plus_without_a_country_code_is_refused() {
    let de = PhoneNormaliser::new(country::Id::DE);
    assert_eq!(
        us().normalise("+00 49 1512 3456789"),
        Err(PhoneError::Unparseable)
    );
    assert_eq!(
        de.normalise("+0 1512 3456789"),
        Err(PhoneError::Unparseable)
    );
}

/// Xero's MOBILE phone in every combination of empty parts, through the preset's mapping
/// and the phone normaliser: what is sent, or why the record is rejected.
#[test]
fn xero_mobile_in_every_combination_of_empty_parts() {
    use crate::source::Field;
    use crate::source::mapping::FieldSpec;
    use crate::source::presets::Preset;
    use serde_json::json;
    let source = Preset::Xero
        .defaults()
        .fields
        .get(Field::CellPhoneNumber)
        .cloned()
        .expect("the preset maps the mobile");
    let spec = FieldSpec::parse(&source, true).expect("valid");
    let phones = PhoneNormaliser::new(phonenumber::country::Id::US);
    // (country code, area code, number) -> what is sent, the phone error, or missing.
    type Case = (
        (&'static str, &'static str, &'static str),
        Option<Result<&'static str, PhoneError>>,
    );
    let cases: [Case; 8] = [
        (("1", "(626)", "555-0100"), Some(Ok("+16265550100"))),
        (("1", "(626)", ""), Some(Err(PhoneError::Invalid))),
        (("1", "", "6265550100"), Some(Ok("+16265550100"))),
        (("1", "", ""), Some(Err(PhoneError::Unparseable))),
        (("", "(626)", "555-0100"), Some(Ok("+16265550100"))),
        (("", "(626)", ""), Some(Err(PhoneError::Invalid))),
        (("", "", "6265550100"), Some(Ok("+16265550100"))),
        // Nothing at all: the field is missing.
        (("", "", ""), None),
    ];
    for ((cc, area, number), expected) in cases {
        let contact = json!({"Phones": [
            {"PhoneType": "DEFAULT", "PhoneNumber": "999", "PhoneAreaCode": "1", "PhoneCountryCode": "64"},
            {"PhoneType": "MOBILE", "PhoneNumber": number, "PhoneAreaCode": area, "PhoneCountryCode": cc}
        ]});
        let joined = spec.resolve(|p| p.lookup(&contact));
        let normalised = joined.as_deref().map(|j| phones.normalise(j));
        let expected = expected.map(|e| e.map(str::to_owned));
        assert_eq!(
            normalised, expected,
            "{cc:?} {area:?} {number:?} -> {joined:?}"
        );
    }
    // A country code other than the default one.
    let uk = json!({"Phones": [{"PhoneType": "MOBILE", "PhoneNumber": "7911 123456",
                                "PhoneAreaCode": "", "PhoneCountryCode": "44"}]});
    let joined = spec.resolve(|p| p.lookup(&uk)).expect("joined");
    assert_eq!(phones.normalise(&joined).as_deref(), Ok("+447911123456"));
}
