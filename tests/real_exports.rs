//! The exports a bookkeeper can click (SPEC §12, the table), each written as its system writes
//! it (`tests/fixtures/exports/`, sources in its SOURCES.md): one pass with the preset sends
//! exactly the records a bookkeeper would expect, counts the left-out ones, and rejects the
//! rest with a reason. Through the real binary against the fake BlueTape on 127.0.0.1.

mod support;

use std::collections::BTreeMap;

use serde_json::Value;
use support::Fixture;

/// One pass of `fixture` (copied as `file`) with the `[source]` keys `keys`.
async fn one_pass(fixture: &str, file: &str, keys: &str) -> (Fixture, support::Run) {
    let fx = Fixture::with_export(file, keys).await;
    fx.copy_fixture(&format!("exports/{fixture}"), file);
    let run = fx.run(&["--once"]).await;
    (fx, run)
}

/// The customers the fake received, by id: (firstName, lastName, cellPhoneNumber).
fn sent(fx: &Fixture) -> BTreeMap<String, (String, String, String)> {
    let text = |v: &Value, key: &str| v[key].as_str().unwrap_or_default().to_owned();
    let customers: Vec<String> = (fx.fake.received().iter())
        .filter(|r| r.is_customer())
        .filter_map(|r| r.id().map(str::to_owned))
        .collect();
    fx.posted_bodies()
        .into_iter()
        .filter(|(id, _)| customers.contains(id))
        .map(|(id, body)| {
            let person = (
                text(&body, "firstName"),
                text(&body, "lastName"),
                text(&body, "cellPhoneNumber"),
            );
            (id, person)
        })
        .collect()
}

fn person(first: &str, last: &str, phone: &str) -> (String, String, String) {
    (first.to_owned(), last.to_owned(), phone.to_owned())
}

fn reason(fx: &Fixture, id: &str) -> String {
    fx.record(id)
        .unwrap_or_else(|| panic!("{id} not stored"))
        .reason
        .unwrap_or_default()
}

#[tokio::test]
async fn xero_contacts_csv() {
    let (fx, run) = one_pass(
        "xero-contacts.csv",
        "contacts.csv",
        "preset = \"xero-csv\"\n",
    )
    .await;
    assert_eq!(run.code, 65, "{}", run.stderr);
    let sent = sent(&fx);
    assert_eq!(
        sent["CUST-001"],
        person("Olivia", "Bennett", "+447911123456")
    );
    assert_eq!(
        sent["Ethan Walker"],
        person("Ethan", "Walker", "+12015550123")
    );
    assert_eq!(sent["CUST-003"], person("Kavya", "Iyer", "+919876543210"));
    assert_eq!(sent["CUST-004"].2, "+61423456789");
    assert_eq!(sent["CUST-007"].2, "+447123456789");
    assert_eq!(sent.len(), 5, "{sent:?}");
    assert_eq!(
        fx.posted_bodies()["CUST-003"]["emailAddress"],
        "kavya.iyer@example.com"
    );
    assert_eq!(reason(&fx, "CUST-005"), "firstName: no contact person");
    assert_eq!(reason(&fx, "CUST-006"), "cellPhoneNumber: missing");
}

#[tokio::test]
async fn zoho_books_contacts_csv() {
    let (fx, run) = one_pass(
        "zoho-books-contacts.csv",
        "contacts.csv",
        "preset = \"zoho-books-csv\"\ntimezone = \"Europe/London\"\n",
    )
    .await;
    assert_eq!(run.code, 65, "{}", run.stderr);
    let sent = sent(&fx);
    assert_eq!(
        sent["460000000026049"],
        person("Olivia", "Bennett", "+447911123456")
    );
    assert_eq!(sent["460000000026051"].2, "+14155550132");
    assert_eq!(sent["460000000026053"].2, "+919876543210");
    assert_eq!(sent["460000000026055"].2, "+61412345678");
    assert_eq!(sent.len(), 4, "{sent:?}");
    assert_eq!(run.count("inactive"), 2, "a vendor and an inactive contact");
    assert_eq!(
        fx.posted_bodies()["460000000026049"]["sourceModifiedDate"],
        "2024-03-04T13:05:00.000Z"
    );
    assert_eq!(
        reason(&fx, "460000000026061"),
        "firstName: no contact person"
    );
    assert_eq!(reason(&fx, "460000000026063"), "cellPhoneNumber: missing");
}

#[tokio::test]
async fn netsuite_customers_and_invoices() {
    let keys = "preset = \"netsuite\"\ntimezone = \"America/New_York\"\n\n[invoices]\n\
                preset = \"netsuite\"\npath = \"invoices.csv\"\nsettle = \"0s\"\nlookback = \"0s\"\n";
    let fx = Fixture::with_export("customers.csv", keys).await;
    fx.copy_fixture("exports/netsuite-customers.csv", "customers.csv");
    fx.copy_fixture("exports/netsuite-invoices.csv", "invoices.csv");
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 65, "{}", run.stderr);
    let sent = sent(&fx);
    assert_eq!(sent["1042"], person("Olivia", "Bennett", "+447911123456"));
    assert_eq!(sent["1043"].2, "+12015550123");
    assert_eq!(sent["1044"].2, "+919876543210");
    assert_eq!(
        sent.keys().collect::<Vec<_>>(),
        ["1042", "1043", "1044", "1045", "1048"]
    );
    assert_eq!(run.count("inactive"), 1);
    assert_eq!(
        fx.posted_bodies()["1042"]["sourceModifiedDate"],
        "2024-03-04T18:05:00.000Z",
        "3/4/2024 1:05 pm in New York"
    );
    assert_eq!(reason(&fx, "1047"), "firstName: no contact person");
    assert_eq!(reason(&fx, "1049"), "cellPhoneNumber: missing");

    let invoices: BTreeMap<String, Value> = fx
        .fake
        .received()
        .iter()
        .filter(|r| !r.is_customer())
        .filter_map(|r| Some((r.id()?.to_owned(), r.body.clone())))
        .collect();
    assert_eq!(
        invoices.keys().collect::<Vec<_>>(),
        ["5301", "5304", "5307"],
        "paid in full and voided never sent; the rest wait for their customers"
    );
    let first = &invoices["5301"];
    assert_eq!(first["totalAmount"].to_string(), "1353.13");
    assert_eq!(first["subTotal"].to_string(), "1127.61");
    assert_eq!(first["amountDue"].to_string(), "1353.13");
    assert_eq!(first["invoiceDate"], "2024-03-01");
    assert_eq!(invoices["5307"]["totalAmount"].to_string(), "12480");
    assert!(
        run.invoice_summary()
            .starts_with("invoices: created 3, exists 0, updated 0, cancelled 0, waiting 3, rejected 0, left out 2"),
        "{}",
        run.invoice_summary()
    );
}

#[tokio::test]
async fn quickbooks_desktop_iif() {
    let (fx, run) = one_pass(
        "quickbooks-desktop-customers.iif",
        "customers.iif",
        "preset = \"quickbooks-desktop\"\n",
    )
    .await;
    assert_eq!(run.code, 65, "{}", run.stderr);
    let sent = sent(&fx);
    assert_eq!(sent["1"], person("Emily", "Carter", "+16465550187"));
    assert_eq!(
        fx.posted_bodies()["1"]["emailAddress"],
        "emily.carter@example.com"
    );
    assert_eq!(sent["3"].2, "+447911123456");
    assert_eq!(sent["4"], person("Kavya", "Iyer", "+918123456789"));
    assert_eq!(sent["5"].2, "+61491570156");
    assert_eq!(sent["9"].2, "+12125550198");
    assert_eq!(sent.len(), 5, "{sent:?}");
    assert_eq!(run.count("inactive"), 2, "a job and a hidden customer");
    assert_eq!(reason(&fx, "6"), "firstName: no contact person");
    assert_eq!(reason(&fx, "7"), "cellPhoneNumber: missing");
    assert!(
        fx.record("6").is_some() && run.stderr.contains("customers.iif row "),
        "rows are numbered in the file: {}",
        run.stderr
    );
}

#[tokio::test]
async fn sage_50_us_customer_csv_in_windows_1252() {
    let (fx, run) = one_pass(
        "sage-50-us-customers.csv",
        "CUSTOMER.CSV",
        "preset = \"sage-50-us\"\n",
    )
    .await;
    assert_eq!(run.code, 65, "{}", run.stderr);
    let sent = sent(&fx);
    assert_eq!(sent["GARCIA-J"], person("José", "García", "+14155550132"));
    assert_eq!(sent["MULLER-Z"], person("Zoë", "Müller", "+447911123456"));
    assert_eq!(sent["IYER-K"].2, "+919876543210");
    assert_eq!(sent["NGUYEN-L"].2, "+61412345678");
    assert_eq!(sent.len(), 4, "{sent:?}");
    assert_eq!(
        run.count("inactive"),
        2,
        "a prospect and an inactive customer"
    );
    assert_eq!(reason(&fx, "CAFELUM"), "firstName: no contact person");
    assert_eq!(reason(&fx, "REID-T"), "cellPhoneNumber: missing");
}

#[tokio::test]
async fn business_central_customers() {
    let (fx, run) = one_pass(
        "business-central-customers.json",
        "customers.json",
        "preset = \"business-central\"\n",
    )
    .await;
    assert_eq!(run.code, 65, "{}", run.stderr);
    let sent = sent(&fx);
    let id = |n: u8| format!("{n:x}115c9c-44e3-ea11-bb43-000d3a2feca1");
    assert_eq!(
        sent[&id(0x5d)],
        person("Olivia", "Bennett", "+447911123456")
    );
    assert_eq!(sent[&id(0x5e)].2, "+12015550123");
    assert_eq!(sent[&id(0x5f)], person("Kavya R.", "Iyer", "+919876543210"));
    assert_eq!(sent[&id(0x60)].2, "+61412345678");
    assert_eq!(sent.len(), 4, "{sent:?}");
    assert_eq!(run.count("inactive"), 3, "blocked All, Invoice and Ship");
    assert_eq!(reason(&fx, &id(0x61)), "firstName: no contact person");
    assert_eq!(reason(&fx, &id(0x62)), "cellPhoneNumber: missing");
}

#[tokio::test]
async fn odoo_partners_json_rpc() {
    let (fx, run) = one_pass("odoo-partners.json", "partners.json", "preset = \"odoo\"\n").await;
    assert_eq!(run.code, 65, "{}", run.stderr);
    let sent = sent(&fx);
    assert_eq!(sent["42"], person("Olivia", "Bennett", "+447911123456"));
    assert_eq!(sent["43"].2, "+12015550123", "mobile false: the phone");
    assert_eq!(sent["44"], person("Kavya R.", "Iyer", "+919876543210"));
    assert_eq!(
        sent["45"].2, "+61412345678",
        "a national number of its country"
    );
    assert_eq!(sent["47"], person("Priya", "Sharma", "+918123456789"));
    assert_eq!(sent.len(), 5, "{sent:?}");
    assert_eq!(run.count("inactive"), 2, "archived, and a vendor");
    assert_eq!(reason(&fx, "46"), "firstName: no contact person");
    assert_eq!(reason(&fx, "50"), "cellPhoneNumber: missing");
}

#[tokio::test]
async fn odoo_contacts_csv() {
    let (fx, run) = one_pass(
        "odoo-contacts.csv",
        "contacts.csv",
        "preset = \"odoo\"\nformat = \"csv\"\ntimezone = \"Europe/London\"\n",
    )
    .await;
    assert_eq!(run.code, 65, "{}", run.stderr);
    let sent = sent(&fx);
    let id = |n: &str| {
        sent.keys()
            .find(|k| k.starts_with(&format!("__export__.res_partner_{n}_")))
            .unwrap_or_else(|| panic!("{n} not sent: {sent:?}"))
            .clone()
    };
    assert_eq!(
        sent[&id("42")],
        person("Olivia", "Bennett", "+447911123456")
    );
    assert_eq!(sent[&id("43")].2, "+12015550123");
    assert_eq!(sent[&id("44")], person("Kavya R.", "Iyer", "+919876543210"));
    assert_eq!(run.count("inactive"), 1, "archived: Active empty");
    let stored_reason = |n: &str| {
        let conn = rusqlite::Connection::open(fx.store_path()).expect("store");
        conn.query_row(
            "SELECT reason FROM records WHERE id LIKE ?1",
            [format!("__export__.res_partner_{n}_%")],
            |r| r.get::<_, String>(0),
        )
        .unwrap_or_else(|e| panic!("{n}: {e}"))
    };
    assert_eq!(stored_reason("46"), "firstName: no contact person");
    assert_eq!(stored_reason("50"), "cellPhoneNumber: missing");
}
