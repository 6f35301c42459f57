//! A store moved from Xero's CSV export to Xero's API (SPEC §11): the CSV keyed contacts by
//! AccountNumber (else the name), the API keys them by ContactID. BlueTape knows them by the
//! stored ids, so the first API pass matches each contact to its stored record and keeps the
//! stored id; a stored record nothing matches stops the move until `--accept-new-ids`.

mod support;

use serde_json::{Value, json};
use support::Fixture;
use support::fake_oauth::CLIENT_SECRET;
use support::fake_xero::{FakeXero, Kind, xero_date};
use support::linked::{connect_by_pasting, xero_section};

/// The columns of Xero's contacts export the preset reads.
const CSV: &str = "*ContactName,AccountNumber,EmailAddress,FirstName,LastName,POCountry,\
SACountry,PhoneNumber,MobileNumber\n\
Ada Lovelace,CUST-1,ada@example.com,Ada,Lovelace,,,,+1 626 555 0101\n\
Grace Hopper,CUST-2,grace@example.com,Grace,Hopper,,,,+1 626 555 0102\n\
Jane Doe,,jane@example.com,Jane,Doe,,,,+1 626 555 0103\n\
Old Client,CUST-9,old@example.com,Old,Client,,,,+1 626 555 0109\n";

fn contact(id: &str, account: &str, name: &str, email: &str) -> Value {
    let (first, last) = name.split_once(' ').expect("two names");
    json!({
        "ContactID": id,
        "ContactStatus": "ACTIVE",
        "Name": name,
        "AccountNumber": account,
        "FirstName": first,
        "LastName": last,
        "EmailAddress": email,
        "Phones": [{"PhoneType": "MOBILE", "PhoneNumber": "555-0100",
                    "PhoneAreaCode": "626", "PhoneCountryCode": "1"}],
        "UpdatedDateUTC": xero_date(chrono::Utc::now()),
        "IsCustomer": true,
        "IsSupplier": false,
    })
}

/// The invoice fixture's first invoice, billed to `contact`.
fn invoice(id: &str, contact: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/xero-invoices.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let page: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("JSON");
    let mut invoice = page["Invoices"][0].clone();
    invoice["InvoiceID"] = json!(id);
    invoice["InvoiceNumber"] = json!(format!("INV-{id}"));
    invoice["Contact"] = json!({"ContactID": contact, "Name": "someone"});
    invoice["UpdatedDateUTC"] = json!(xero_date(chrono::Utc::now()));
    invoice
}

#[tokio::test]
async fn a_store_moved_from_xero_s_csv_keeps_the_ids_bluetape_knows() {
    let mut fx = Fixture::with_config("preset = \"xero-csv\"\n").await;
    fx.write_export(CSV);
    let csv_pass = fx.run(&["--once"]).await;
    assert_eq!(csv_pass.code, 0, "{}", csv_pass.stderr);
    let mut ids: Vec<String> = fx.fake.created_ids().into_iter().collect();
    ids.sort();
    assert_eq!(ids, ["CUST-1", "CUST-2", "CUST-9", "Jane Doe"]);

    // Xero's API knows the same contacts by ContactID; CUST-9 is gone, one is new.
    let xero = FakeXero::start_empty().await;
    xero.books(|b| {
        b.add(
            Kind::Contacts,
            contact("c-1", "CUST-1", "Ada Lovelace", "ada@example.com"),
        );
        b.add(
            Kind::Contacts,
            contact("c-2", "CUST-2", "Grace Hopper", "grace@example.com"),
        );
        b.add(
            Kind::Contacts,
            contact("c-3", "", "Jane Doe", "jane@example.com"),
        );
        b.add(
            Kind::Contacts,
            contact("c-4", "CUST-4", "Alan Turing", "alan@example.com"),
        );
        b.add(Kind::Invoices, invoice("i-1", "c-1"));
        b.add(Kind::Invoices, invoice("i-4", "c-4"));
    });
    fx.rewrite_config(&format!(
        "preset = \"xero\"\nfrom = \"api\"\n\n[invoices]\npreset = \"xero\"\nfrom = \"api\"\n\
         lookback = \"0s\"\n\n{}",
        xero_section(&xero, "redirect_uri = \"http://127.0.0.1:9/callback\"")
    ));
    fx.write_file("xero.secret", &format!("{CLIENT_SECRET}\n"));
    let check = fx.run(&["check"]).await;
    assert_eq!(
        check.code, 78,
        "not connected yet, and no id guard: {}",
        check.stderr
    );
    assert!(check.stderr.contains("connect xero"), "{}", check.stderr);
    assert_eq!(connect_by_pasting(&fx, "xero", &[]).await.code, 0);

    // CUST-9 matches no contact: the move stops, naming it, before anything is sent.
    let sent = fx.fake.request_count();
    let stopped = fx.run(&["--once"]).await;
    assert_eq!(stopped.code, 78, "{}", stopped.stderr);
    assert!(
        stopped.stderr.contains(
            "stored customers that match no record of the API by AccountNumber | Name: 1"
        ) && stopped.stderr.contains("CUST-9")
            && stopped.stderr.contains("--accept-new-ids"),
        "{}",
        stopped.stderr
    );
    assert_eq!(fx.fake.request_count(), sent, "nothing sent");

    let moved = fx.run(&["--once", "--accept-new-ids"]).await;
    assert_eq!(moved.code, 0, "{}", moved.stderr);
    for (id, creations) in [("CUST-1", 1), ("CUST-2", 1), ("Jane Doe", 1), ("c-1", 0)] {
        assert_eq!(fx.fake.creations(id), creations, "{id}: {}", moved.stderr);
    }
    assert_eq!(fx.fake.creations("c-3"), 0);
    assert_eq!(
        fx.fake.creations("c-4"),
        1,
        "a new contact goes under its ContactID"
    );
    let billed = |id: &str| fx.fake.invoice(id).map(|i| i["customerId"].clone());
    assert_eq!(
        billed("i-1"),
        Some(json!("CUST-1")),
        "under the id BlueTape knows"
    );
    assert_eq!(billed("i-4"), Some(json!("c-4")));
    assert!(fx.record("c-1").is_none() && fx.record("CUST-1").is_some());

    // From then on a change in Xero is read under the stored id; nothing is created.
    xero.books(|b| b.update(Kind::Contacts, "c-1", json!({"FirstName": "Augusta Ada"})));
    let creations = fx.fake.created_ids().len();
    let next = fx.run(&["--once"]).await;
    assert_eq!(next.code, 0, "{}", next.stderr);
    assert_eq!(next.count("changed upstream"), 1, "{}", next.stderr);
    assert_eq!(fx.fake.created_ids().len(), creations);
}
