use super::*;
use serde_json::json;

fn rule(text: RuleText, dotted: bool) -> Rule {
    resolve(&[], &[text], dotted).expect("valid").remove(0)
}

#[test]
fn json_values_compare_as_written_and_false_is_blank() {
    let inactive = rule(RuleText::equals("active", &["false"]), true);
    assert!(inactive.leaves_out(&json!({"active": false})));
    assert!(inactive.leaves_out(&json!({"active": "FALSE "})));
    assert!(!inactive.leaves_out(&json!({"active": true})));
    assert!(!inactive.leaves_out(&json!({})));
    let rank = rule(RuleText::equals("customer_rank", &["0"]), true);
    assert!(rank.leaves_out(&json!({"customer_rank": 0})));
    assert!(!rank.leaves_out(&json!({"customer_rank": 2})));
    let blocked = rule(RuleText::is_blank("blocked", false), true);
    for blank in [
        json!({}),
        json!({"blocked": null}),
        json!({"blocked": false}),
        json!({"blocked": " "}),
    ] {
        assert!(!blocked.leaves_out(&blank), "{blank}");
    }
    assert!(blocked.leaves_out(&json!({"blocked": "All"})));
}

#[test]
fn not_equals_matches_blank_and_contains_ignores_case() {
    let bills = rule(RuleText::not_equals("Type", &["ACCREC"]), true);
    assert!(bills.leaves_out(&json!({"Type": "ACCPAY"})));
    assert!(bills.leaves_out(&json!({})));
    assert!(!bills.leaves_out(&json!({"Type": "accrec"})));
    let jobs = rule(RuleText::contains("NAME", ":"), true);
    assert!(jobs.leaves_out(&json!({"NAME": "Doe:Kitchen"})));
    assert!(!jobs.leaves_out(&json!({"NAME": "Doe"})));
}

#[test]
fn all_needs_every_part() {
    let supplier = rule(
        RuleText::all(vec![
            RuleText::equals("IsSupplier", &["true"]),
            RuleText::equals("IsCustomer", &["false"]),
        ]),
        true,
    );
    assert!(supplier.leaves_out(&json!({"IsSupplier": true, "IsCustomer": false})));
    assert!(!supplier.leaves_out(&json!({"IsSupplier": true, "IsCustomer": true})));
    assert_eq!(
        supplier.label(),
        "IsSupplier equals true and IsCustomer equals false"
    );
}

#[test]
fn a_rule_written_wrong_says_what_to_write() {
    let problem = |text: RuleText| resolve(&[], &[text], true).expect_err("invalid");
    let mut both = RuleText::equals("A", &["x"]);
    both.contains = Some("y".into());
    assert_eq!(problem(both).0, Some(1));
    let no_field = RuleText {
        equals: Some(vec!["x".into()]),
        ..RuleText::default()
    };
    assert!(problem(no_field).1.contains("`field` is missing"));
    assert!(
        problem(RuleText::all(Vec::new()))
            .1
            .contains("`all` is empty")
    );
}

#[test]
fn written_out_it_reads_back_the_same() {
    let rules = [
        RuleText::equals("Inactive", &["Yes"]),
        RuleText::is_blank("blocked", false),
        RuleText::all(vec![
            RuleText::equals("Is \"Supplier\"", &["true"]),
            RuleText::not_equals("IsCustomer", &["true"]),
        ]),
    ];
    for text in rules {
        let toml = text.to_toml("source");
        #[derive(Deserialize)]
        struct File {
            source: Section,
        }
        #[derive(Deserialize)]
        struct Section {
            leave_out: Vec<RuleText>,
        }
        let back: File = toml::from_str(&toml).expect(&toml);
        assert_eq!(back.source.leave_out, [text], "{toml}");
    }
}

#[test]
fn a_config_rule_the_preset_has_counts_once() {
    let preset = [PresetRule {
        what: "inactive",
        rule: RuleText::equals("Active", &["false"]),
    }];
    let rules = resolve(&preset, &[RuleText::equals("Active", &["FALSE"])], true).expect("valid");
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0].label(), "inactive (Active equals false)");
}
