use super::*;
use crate::record::phone::{PhoneError, PhoneNormaliser};
use crate::source::mapping::FieldSpec;
use serde_json::json;

/// Xero's MOBILE phone in every combination of empty parts, through the preset's mapping
/// and the phone normaliser: what is sent, or why the record is rejected.
#[test]
fn xero_mobile_in_every_combination_of_empty_parts() {
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

#[test]
fn every_preset_is_written_right() {
    for preset in Preset::ALL {
        let defaults = preset.defaults();
        let dotted = defaults.format != SourceFormat::Csv;
        for &field in crate::source::Kind::Customer.fields() {
            if let Some(source) = defaults.fields.get(field) {
                FieldSpec::parse(source, dotted)
                    .unwrap_or_else(|e| panic!("{preset:?} {field}: {e}"));
            }
        }
        for rule in defaults.left_out {
            rule.resolve(dotted)
                .unwrap_or_else(|e| panic!("{preset:?}: {e}"));
        }
        assert_eq!(preset.name().parse::<Preset>(), Ok(preset));
    }
    let broken = LeftOut {
        path: "Phones[PhoneType=",
        values: super::Values::OneOf(&["x"]),
        what: "broken",
    };
    assert!(broken.resolve(true).is_err());
}

#[test]
fn an_unknown_preset_names_the_presets_there_are() {
    let error = "quickbooks".parse::<Preset>().expect_err("unknown");
    assert_eq!(
        error.to_string(),
        "unknown preset `quickbooks`: use one of quickbooks-online, xero, zoho-books, \
         freshbooks, sage-intacct, myob"
    );
    assert_eq!("Zoho-Books".parse::<Preset>(), Ok(Preset::ZohoBooks));
}

/// A rule compares the value as written: `false`, `1`, and strings without regard to case.
#[test]
fn left_out_rules_compare_the_value_as_written() {
    let rules = |preset: Preset| -> Vec<SkipRule> {
        preset
            .defaults()
            .left_out
            .iter()
            .map(|r| r.resolve(true).expect("rule"))
            .collect()
    };
    let skipped = |preset: Preset, record: Value| rules(preset).iter().any(|r| r.skips(&record));
    assert!(skipped(Preset::QuickbooksOnline, json!({"Active": false})));
    assert!(!skipped(Preset::QuickbooksOnline, json!({"Active": true})));
    assert!(!skipped(Preset::QuickbooksOnline, json!({})));
    assert!(skipped(Preset::Xero, json!({"ContactStatus": "ARCHIVED"})));
    assert!(skipped(Preset::Xero, json!({"ContactStatus": "archived"})));
    assert!(!skipped(Preset::Xero, json!({"ContactStatus": "ACTIVE"})));
    assert!(skipped(
        Preset::ZohoBooks,
        json!({"contact_type": "Vendor", "status": "active"})
    ));
    assert!(skipped(
        Preset::ZohoBooks,
        json!({"contact_type": "customer", "status": "inactive"})
    ));
    assert!(!skipped(
        Preset::ZohoBooks,
        json!({"contact_type": "customer", "status": "active"})
    ));
    assert!(skipped(Preset::Freshbooks, json!({"vis_state": 1})));
    assert!(skipped(Preset::Freshbooks, json!({"vis_state": 2})));
    assert!(!skipped(Preset::Freshbooks, json!({"vis_state": 0})));
    assert!(skipped(Preset::Myob, json!({"IsActive": false})));
    assert!(!skipped(Preset::Myob, json!({"IsActive": true})));
}

#[test]
fn quickbooks_leaves_out_inactive_customers_only() {
    let [rule] = Preset::QuickbooksOnline.defaults().left_out else {
        panic!("one rule");
    };
    let rule = rule.resolve(true).expect("a rule");
    assert!(rule.skips(&json!({"Active": false})));
    assert!(!rule.skips(&json!({"Active": true})));
    assert!(!rule.skips(&json!({})));
}
