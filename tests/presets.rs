//! The six accounting systems by name (SPEC §3, the table): each preset's example config on a
//! fixture in the system's documented export shape, and the exact bodies BlueTape receives.

mod support;

use std::collections::BTreeMap;

use serde_json::json;
use support::Fixture;

#[tokio::test]
async fn quickbooks_online_preset_sends_exactly_these_bodies() {
    let fx = Fixture::new().await;
    fx.copy_fixture("quickbooks-online-customers.json", "customers.json");
    let run = fx
        .run_example(
            "config/examples/quickbooks-online.toml",
            "customers*.json",
            &["--once"],
        )
        .await;
    assert_eq!(run.code, 65, "customer 4 has no email: {}", run.stderr);
    let expected = BTreeMap::from([
        (
            "1".to_owned(),
            json!({"id": "1", "firstName": "Amy", "lastName": "Lauterbach",
                   "emailAddress": "Birds@Intuit.com", "cellPhoneNumber": "+16505553312",
                   "sourceModifiedDate": "2024-02-17T19:13:46.000Z"}),
        ),
        (
            // No mobile: the primary phone.
            "2".to_owned(),
            json!({"id": "2", "firstName": "Bill", "lastName": "Lucchini",
                   "emailAddress": "Surf@Intuit.com", "cellPhoneNumber": "+14154446538",
                   "sourceModifiedDate": "2024-02-18T17:03:11.000Z"}),
        ),
        (
            "5".to_owned(),
            json!({"id": "5", "firstName": "Kathy", "lastName": "Kuplis",
                   "emailAddress": "qbwebsamplecompany@yahoo.com", "cellPhoneNumber": "+16505551423",
                   "sourceModifiedDate": "2024-02-19T22:30:00.000Z"}),
        ),
    ]);
    assert_eq!(fx.posted_bodies(), expected);
    assert_eq!(run.count("inactive"), 1, "customer 3 is inactive");
    assert_eq!(run.count("rejected"), 1);
    assert_eq!(
        fx.record("4").expect("4").reason.as_deref(),
        Some("emailAddress: missing")
    );
    assert!(
        fx.record("3").is_none(),
        "inactive customers are not stored"
    );
}

#[tokio::test]
async fn xero_preset_joins_the_mobile_and_reads_net_dates() {
    let fx = Fixture::new().await;
    fx.copy_fixture("xero-contacts.json", "contacts.json");
    let run = fx
        .run_example("config/examples/xero.toml", "contacts.json", &["--once"])
        .await;
    assert_eq!(run.code, 65, "one contact has no mobile: {}", run.stderr);
    let expected = BTreeMap::from([
        (
            "3e776c4b-ea9e-4bb1-96be-6b0c7a71a37f".to_owned(),
            json!({"id": "3e776c4b-ea9e-4bb1-96be-6b0c7a71a37f", "firstName": "Olivia",
                   "lastName": "Hamilton", "emailAddress": "olivia@hamiltonsmith.example.co.uk",
                   "cellPhoneNumber": "+447911123456",
                   "sourceModifiedDate": "2017-08-21T20:53:20.000Z"}),
        ),
        (
            "565acaa9-e7f3-4fbf-80c3-16b081ddae10".to_owned(),
            json!({"id": "565acaa9-e7f3-4fbf-80c3-16b081ddae10", "firstName": "Rick",
                   "lastName": "Rhodes", "emailAddress": "rick@boomfm.example.com",
                   "cellPhoneNumber": "+16265550123",
                   "sourceModifiedDate": "2017-08-21T20:50:00.000Z"}),
        ),
        (
            "bd2270c3-8706-4c11-9cfb-000b551c3f51".to_owned(),
            json!({"id": "bd2270c3-8706-4c11-9cfb-000b551c3f51", "firstName": "Andrea",
                   "lastName": "Dutchess", "emailAddress": "a.dutchess@abclimited.com",
                   "cellPhoneNumber": "+16265550100",
                   "sourceModifiedDate": "2017-08-21T20:49:04.227Z"}),
        ),
        (
            // An organisation with only a Name: its first contact person.
            "7f1f0a4e-2b3c-4d5e-8f90-a1b2c3d4e5f6".to_owned(),
            json!({"id": "7f1f0a4e-2b3c-4d5e-8f90-a1b2c3d4e5f6", "firstName": "Peter",
                   "lastName": "Lewis", "emailAddress": "peter.lewis@ridgeway.example.edu",
                   "cellPhoneNumber": "+16265550177",
                   "sourceModifiedDate": "2017-08-21T20:56:40.000Z"}),
        ),
    ]);
    assert_eq!(fx.posted_bodies(), expected);
    assert_eq!(
        run.count("inactive"),
        2,
        "two contacts are archived, one written in lower case"
    );
    assert_eq!(
        fx.record("d6851dc2-9b8d-4b19-a3e4-63b7e4a4f001")
            .expect("stored")
            .reason
            .as_deref(),
        Some("cellPhoneNumber: missing"),
        "a DEFAULT phone is not a mobile"
    );
}

#[tokio::test]
async fn zoho_books_preset_reads_number_ids_and_colonless_offsets_and_leaves_out_vendors() {
    let fx = Fixture::new().await;
    fx.copy_fixture("zoho-books-contacts.json", "contacts.json");
    let run = fx
        .run_example(
            "config/examples/zoho-books.toml",
            "contacts*.json",
            &["--once"],
        )
        .await;
    assert_eq!(run.code, 65, "one contact has no email: {}", run.stderr);
    let expected = BTreeMap::from([
        (
            // A JSON number, sent exactly as its decimal string.
            "460000000026049".to_owned(),
            json!({"id": "460000000026049", "firstName": "Will", "lastName": "Smith",
                   "emailAddress": "willsmith@bowmanfurniture.example.com",
                   "cellPhoneNumber": "+16265550142",
                   "sourceModifiedDate": "2013-11-08T12:54:51.000Z"}),
        ),
        (
            // No mobile: the phone.
            "460000000026051".to_owned(),
            json!({"id": "460000000026051", "firstName": "Ana", "lastName": "Núñez",
                   "emailAddress": "ana@lakeside-bakery.example.com",
                   "cellPhoneNumber": "+16265550111",
                   "sourceModifiedDate": "2014-01-02T17:15:00.000Z"}),
        ),
    ]);
    assert_eq!(fx.posted_bodies(), expected);
    assert_eq!(
        run.count("inactive"),
        2,
        "a vendor and an inactive customer"
    );
    assert!(
        fx.record("460000000026077").is_none(),
        "vendors are not stored"
    );
    assert_eq!(
        fx.record("460000000026099")
            .expect("stored")
            .reason
            .as_deref(),
        Some("emailAddress: missing")
    );
}

#[tokio::test]
async fn freshbooks_preset_reads_eastern_time_on_both_sides_of_dst_and_vis_state() {
    let fx = Fixture::new().await;
    fx.copy_fixture("freshbooks-clients.json", "clients.json");
    let run = fx
        .run_example(
            "config/examples/freshbooks.toml",
            "clients.json",
            &["--once"],
        )
        .await;
    assert_eq!(run.code, 65, "one client's email is broken: {}", run.stderr);
    let expected = BTreeMap::from([
        (
            // Winter: EST, UTC-5.
            "12345".to_owned(),
            json!({"id": "12345", "firstName": "Jane", "lastName": "Doe",
                   "emailAddress": "jane.doe@acme.example.com", "cellPhoneNumber": "+12125550150",
                   "sourceModifiedDate": "2022-01-05T12:17:12.000Z"}),
        ),
        (
            // Summer: EDT, UTC-4; no mobile, so the business phone.
            "12346".to_owned(),
            json!({"id": "12346", "firstName": "Sam", "lastName": "Summers",
                   "emailAddress": "sam@summer.example.com", "cellPhoneNumber": "+16465550101",
                   "sourceModifiedDate": "2022-07-01T13:30:00.000Z"}),
        ),
        (
            // The hour repeated when clocks go back is its first (EDT) instance; mobile and
            // business phones null, so the home phone.
            "12347".to_owned(),
            json!({"id": "12347", "firstName": "Fay", "lastName": "Back",
                   "emailAddress": "fall@back.example.com", "cellPhoneNumber": "+17185550198",
                   "sourceModifiedDate": "2022-11-06T05:30:00.000Z"}),
        ),
    ]);
    assert_eq!(fx.posted_bodies(), expected);
    assert_eq!(run.count("inactive"), 2, "one deleted, one archived");
    assert_eq!(
        fx.record("12350").expect("stored").reason.as_deref(),
        Some("emailAddress: not a valid email address")
    );
}

#[tokio::test]
async fn freshbooks_dates_follow_source_timezone_when_it_is_set() {
    let fx = Fixture::new().await;
    fx.copy_fixture("freshbooks-clients.json", "clients.json");
    let run = fx
        .run_example_with_env(
            "config/examples/freshbooks.toml",
            "clients.json",
            &["--once"],
            &[("BLUETAPE_SYNC__SOURCE__TIMEZONE", "UTC")],
        )
        .await;
    assert_eq!(run.code, 65, "{}", run.stderr);
    assert_eq!(
        fx.posted_bodies()["12345"]["sourceModifiedDate"],
        "2022-01-05T07:17:12.000Z"
    );
}

#[tokio::test]
async fn sage_intacct_preset_reads_dotted_column_names_and_month_first_dates() {
    let fx = Fixture::new().await;
    fx.copy_fixture("sage-intacct-customers.csv", "customers.csv");
    let run = fx
        .run_example(
            "config/examples/sage-intacct.toml",
            "customers.csv",
            &["--once"],
        )
        .await;
    assert_eq!(run.code, 65, "one customer has no phone: {}", run.stderr);
    let expected = BTreeMap::from([
        (
            // 01/09/2019 is 9 January, in the example's America/Los_Angeles (PST).
            "C-1001".to_owned(),
            json!({"id": "C-1001", "firstName": "Jane", "lastName": "Doe",
                   "emailAddress": "jane@doeandco.example.com", "cellPhoneNumber": "+14155550132",
                   "sourceModifiedDate": "2019-01-10T06:01:29.000Z"}),
        ),
        (
            // No cell phone: PHONE1; July is PDT.
            "C-1002".to_owned(),
            json!({"id": "C-1002", "firstName": "Ray", "lastName": "Pacific",
                   "emailAddress": "ray@pacifictiles.example.com", "cellPhoneNumber": "+14155550177",
                   "sourceModifiedDate": "2019-07-15T15:30:00.000Z"}),
        ),
    ]);
    assert_eq!(fx.posted_bodies(), expected);
    assert_eq!(run.count("inactive"), 1);
    assert_eq!(
        fx.record("C-1004").expect("stored").reason.as_deref(),
        Some("cellPhoneNumber: missing")
    );
}

#[tokio::test]
async fn myob_preset_reads_the_location_1_address_and_australian_numbers() {
    let fx = Fixture::new().await;
    fx.copy_fixture("myob-customers.json", "customers.json");
    let run = fx
        .run_example("config/examples/myob.toml", "customers.json", &["--once"])
        .await;
    assert_eq!(
        run.code, 65,
        "a company card has no first name: {}",
        run.stderr
    );
    let expected = BTreeMap::from([
        (
            // A national mobile: Australian.
            "e5c33cc6-ad6f-4d8b-a3c8-9f1a29bbd3a0".to_owned(),
            json!({"id": "e5c33cc6-ad6f-4d8b-a3c8-9f1a29bbd3a0", "firstName": "Jane",
                   "lastName": "Citizen", "emailAddress": "jane@citizen.example.com.au",
                   "cellPhoneNumber": "+61412345678",
                   "sourceModifiedDate": "2014-03-19T05:04:32.993Z"}),
        ),
        (
            // Location 1 is the second entry; its Phone1 is empty, so Phone2.
            "9a4c2b1f-0d3e-4b5a-8c7d-6e5f4a3b2c10".to_owned(),
            json!({"id": "9a4c2b1f-0d3e-4b5a-8c7d-6e5f4a3b2c10", "firstName": "Kate",
                   "lastName": "Kiwi", "emailAddress": "kate@kiwi.example.co.nz",
                   "cellPhoneNumber": "+64211234567",
                   "sourceModifiedDate": "2014-03-20T23:59:59.500Z"}),
        ),
    ]);
    assert_eq!(fx.posted_bodies(), expected);
    assert_eq!(run.count("inactive"), 1);
    assert_eq!(
        fx.record("3f2e1d0c-9b8a-4765-8432-10fedcba9876")
            .expect("stored")
            .reason
            .as_deref(),
        // A company card: no person to invite.
        Some("firstName: no contact person")
    );
}

#[tokio::test]
async fn an_unknown_preset_is_exit_78_naming_the_presets() {
    let fx = Fixture::new().await;
    fx.copy_fixture("xero-contacts.json", "contacts.json");
    let run = fx
        .run_example_with_env(
            "config/examples/xero.toml",
            "contacts.json",
            &["--once"],
            &[("BLUETAPE_SYNC__SOURCE__PRESET", "quickbooks")],
        )
        .await;
    assert_eq!(run.code, 78, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "key `source.preset` (set by $BLUETAPE_SYNC__SOURCE__PRESET): unknown preset \
             `(its value, not shown)`: use one of quickbooks-online, xero, \
             zoho-books, freshbooks, sage-intacct, myob"
        ),
        "{}",
        run.stderr
    );
    assert!(fx.fake.received().is_empty());
}

#[tokio::test]
async fn failures_and_check_end_with_reasons_grouped_and_what_to_change() {
    let fx = Fixture::new().await;
    fx.copy_fixture("xero-contacts.json", "contacts.json");
    let example = "config/examples/xero.toml";
    let advice = "1 customer has no mobile number: add one in Xero (the contact's Phones → \
                  Mobile): the sign-up link is sent by SMS, a landline is not enough";
    let check = fx.run_example(example, "contacts.json", &["check"]).await;
    assert_eq!(check.code, 65, "{}", check.stderr);
    assert!(
        check
            .stdout
            .contains(&format!("rejected, by reason:\n  {advice}\n")),
        "{}",
        check.stdout
    );
    let run = fx.run_example(example, "contacts.json", &["--once"]).await;
    assert_eq!(run.code, 65, "{}", run.stderr);
    let failures = fx
        .run_example(example, "contacts.json", &["failures"])
        .await;
    assert_eq!(failures.code, 0, "{}", failures.stderr);
    assert!(
        failures
            .stdout
            .ends_with(&format!("\nby reason:\n  {advice}\n")),
        "{}",
        failures.stdout
    );
    // Machine-readable forms stay as they are.
    let csv = fx
        .run_example(example, "contacts.json", &["failures", "--format", "csv"])
        .await;
    assert_eq!(csv.code, 0, "{}", csv.stderr);
    assert!(csv.stdout.starts_with("id,state,reason"), "{}", csv.stdout);
    assert!(!csv.stdout.contains("by reason"), "{}", csv.stdout);
}
