use super::*;
use serde_json::json;

fn spec(parts: &[&str]) -> FieldSpec {
    let source = match parts {
        [one] => FieldSource::One((*one).to_owned()),
        many => FieldSource::Parts(many.iter().map(|s| (*s).to_owned()).collect()),
    };
    FieldSpec::parse(&source, true).expect("valid spec")
}

fn read(spec: &FieldSpec, record: &Value) -> Option<String> {
    spec.resolve(|p| p.lookup(record))
}

#[test]
fn dotted_paths_indexes_and_selectors() {
    let record = json!({
        "Id": 42, "Active": false,
        "PrimaryEmailAddr": {"Address": "a@b.co"},
        "Phones": [
            {"PhoneType": "DEFAULT", "PhoneNumber": "111"},
            {"PhoneType": "MOBILE", "PhoneNumber": "555-0100"}
        ],
        "Meta": {"v.2": "dot"}
    });
    assert_eq!(read(&spec(&["Id"]), &record).as_deref(), Some("42"));
    assert_eq!(read(&spec(&["Active"]), &record).as_deref(), Some("false"));
    assert_eq!(
        read(&spec(&["PrimaryEmailAddr.Address"]), &record).as_deref(),
        Some("a@b.co")
    );
    assert_eq!(
        read(&spec(&["Phones[PhoneType=MOBILE].PhoneNumber"]), &record).as_deref(),
        Some("555-0100")
    );
    assert_eq!(
        read(&spec(&["Phones[0].PhoneNumber"]), &record).as_deref(),
        Some("111")
    );
    assert_eq!(
        read(&spec(&["Phones[PhoneType=FAX].PhoneNumber"]), &record),
        None
    );
    assert_eq!(
        read(&spec(&["PrimaryEmailAddr"]), &record),
        None,
        "not a scalar"
    );
    assert_eq!(read(&spec(&["Nope.Deeper"]), &record), None);
}

#[test]
fn alternatives_take_the_first_non_empty() {
    let s = spec(&["Mobile.FreeFormNumber | PrimaryPhone.FreeFormNumber"]);
    let both = json!({"Mobile": {"FreeFormNumber": "1"}, "PrimaryPhone": {"FreeFormNumber": "2"}});
    let blank_mobile =
        json!({"Mobile": {"FreeFormNumber": " "}, "PrimaryPhone": {"FreeFormNumber": "2"}});
    let none = json!({});
    assert_eq!(read(&s, &both).as_deref(), Some("1"));
    assert_eq!(read(&s, &blank_mobile).as_deref(), Some("2"));
    assert_eq!(read(&s, &none), None);
}

#[test]
fn parts_join_with_spaces_and_plus_marks_a_country_code() {
    let s = spec(&[
        "+Phones[PhoneType=MOBILE].PhoneCountryCode",
        "Phones[PhoneType=MOBILE].PhoneAreaCode",
        "Phones[PhoneType=MOBILE].PhoneNumber",
    ]);
    let phone = |cc: &str, area: &str, number: &str| {
        json!({"Phones": [{"PhoneType": "MOBILE", "PhoneCountryCode": cc,
                           "PhoneAreaCode": area, "PhoneNumber": number}]})
    };
    let cases = [
        (("1", "(626)", "555-0100"), Some("+1 (626) 555-0100")),
        (("", "(626)", "555-0100"), Some("(626) 555-0100")),
        (("+44", "", "7911 123456"), Some("+44 7911 123456")),
        (("1", "", "6265550100"), Some("+1 6265550100")),
        (("", "", "6265550100"), Some("6265550100")),
        (("1", "626", ""), Some("+1 626")),
        (("", "", ""), None),
    ];
    for ((cc, area, number), expected) in cases {
        assert_eq!(
            read(&s, &phone(cc, area, number)).as_deref(),
            expected,
            "{cc}|{area}|{number}"
        );
    }
}

#[test]
fn csv_paths_are_whole_column_names() {
    let s = FieldSpec::parse(&FieldSource::from("E-mail.Address"), false).expect("valid");
    let column = s
        .parts()
        .next()
        .and_then(|p| p.first())
        .and_then(Path::column);
    assert_eq!(column, Some("E-mail.Address"));
}

#[test]
fn bad_paths_are_refused() {
    for bad in [
        "",
        "a..b",
        "Phones[PhoneType=MOBILE",
        "Phones[x].y",
        "[0].a",
    ] {
        assert!(
            FieldSpec::parse(&FieldSource::from(bad), true).is_err(),
            "{bad}"
        );
    }
    assert!(FieldSpec::parse(&FieldSource::Parts(vec![]), true).is_err());
}
