use super::*;
use crate::source::mapping::FieldSpec;
use serde_json::json;

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
        crate::source::leave_out::resolve(&defaults.left_out, &[], dotted)
            .unwrap_or_else(|(_, e)| panic!("{preset:?}: {e}"));
        assert_eq!(preset.name().parse::<Preset>(), Ok(preset));
    }
}

#[test]
fn an_unknown_preset_names_the_presets_there_are() {
    let error = "quickbooks".parse::<Preset>().expect_err("unknown");
    assert_eq!(
        error.to_string(),
        "unknown preset `quickbooks`: use one of quickbooks-online, xero, zoho-books, \
         freshbooks, sage-intacct, myob, xero-csv, zoho-books-csv, netsuite, quickbooks-desktop, \
         sage-50-us, business-central, odoo"
    );
    assert_eq!("Zoho-Books".parse::<Preset>(), Ok(Preset::ZohoBooks));
}

/// A rule compares the value as written: `false`, `1`, and strings without regard to case.
#[test]
fn left_out_rules_compare_the_value_as_written() {
    let left_out = |preset: Preset, record: serde_json::Value| {
        let rules = crate::source::leave_out::resolve(&preset.defaults().left_out, &[], true)
            .expect("rules");
        rules
            .iter()
            .find(|r| r.leaves_out(&record))
            .and_then(|r| r.preset_says)
    };
    let skipped = |preset: Preset, record| left_out(preset, record).is_some();
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
    // Xero's suppliers that are no customer; QuickBooks' jobs.
    let xero = |supplier: bool, customer: bool| {
        left_out(
            Preset::Xero,
            json!({"ContactStatus": "ACTIVE", "IsSupplier": supplier, "IsCustomer": customer}),
        )
    };
    assert_eq!(xero(true, false), Some("supplier"));
    assert_eq!(xero(true, true), None);
    assert_eq!(xero(false, false), None);
    let job = Some("job");
    assert_eq!(
        left_out(
            Preset::QuickbooksOnline,
            json!({"Active": true, "Job": true})
        ),
        job
    );
    assert_eq!(
        left_out(
            Preset::QuickbooksOnline,
            json!({"Active": true, "ParentRef": {"value": "58"}})
        ),
        job
    );
    assert_eq!(
        left_out(
            Preset::QuickbooksOnline,
            json!({"Active": true, "Job": false})
        ),
        None
    );
}

#[test]
fn a_store_moved_from_xero_s_csv_is_matched_by_the_id_it_was_stored_under() {
    let moved = Preset::Xero
        .moved_ids()
        .expect("Xero's CSV keys by AccountNumber");
    let csv = Preset::XeroCsv.defaults();
    assert_eq!(
        csv.fields
            .get(Field::Id)
            .map(ToString::to_string)
            .as_deref(),
        Some(moved.from_field)
    );
    let spec = FieldSpec::parse(&moved.same_value.into(), true).expect("a path");
    let read = |contact: serde_json::Value| spec.resolve(|p| p.lookup_text(&contact));
    let with_number = json!({"ContactID": "c-1", "AccountNumber": "CUST-1", "Name": "Ada"});
    assert_eq!(read(with_number).as_deref(), Some("CUST-1"));
    let without = json!({"ContactID": "c-2", "AccountNumber": "", "Name": "Ada Lovelace"});
    assert_eq!(read(without).as_deref(), Some("Ada Lovelace"));
}
