//! The two invoice presets by name (SPEC §9, the table): each example config with both exports,
//! the systems' documented invoice shapes, and what BlueTape receives as the invoices change.

mod support;

use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::{Value, json};
use support::{Fixture, Run};

fn fixture(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("JSON")
}

fn write(fx: &Fixture, name: &str, value: &Value) {
    fx.write_file(name, &serde_json::to_string_pretty(value).expect("JSON"));
}

/// The same body with every number read as a decimal, so `59.970` and `59.97` compare equal.
fn decimals(value: &Value) -> Value {
    match value {
        Value::Number(n) => {
            let d = Decimal::from_str(&n.to_string()).expect("decimal");
            Value::String(d.normalize().to_string())
        }
        Value::Array(items) => Value::Array(items.iter().map(decimals).collect()),
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), decimals(v))).collect())
        }
        other => other.clone(),
    }
}

async fn run(fx: &Fixture, example: &str, customers: &str, invoices: &str) -> Run {
    let invoices = fx.path(invoices);
    fx.run_example_with_env(
        example,
        customers,
        &["--once"],
        &[
            (
                "BLUETAPE_SYNC__INVOICES__PATH",
                invoices.to_str().expect("utf-8"),
            ),
            ("BLUETAPE_SYNC__INVOICES__SETTLE", "0s"),
        ],
    )
    .await
}

#[tokio::test]
async fn quickbooks_online_invoices_are_sent_updated_when_paid_and_cancelled_when_voided() {
    let fx = Fixture::new().await;
    // Customers 58 and 59 are the invoices' customers.
    let mut customers = fixture("quickbooks-online-customers.json");
    customers["QueryResponse"]["Customer"][0]["Id"] = json!("58");
    customers["QueryResponse"]["Customer"][1]["Id"] = json!("59");
    write(&fx, "customers.json", &customers);
    let mut invoices = fixture("quickbooks-online-invoices.json");
    write(&fx, "invoices.json", &invoices);
    let example = "config/examples/quickbooks-online-invoices.toml";

    let first = run(&fx, example, "customers*.json", "invoices.json").await;
    assert_eq!(first.code, 65, "customer 4 has no email: {}", first.stderr);
    // 132 was paid and 133 voided before they were ever sent.
    assert_eq!(
        first.invoice_summary(),
        "invoices: created 2, exists 0, updated 0, cancelled 0, waiting 0, rejected 0, left out 2"
    );
    assert_eq!(
        decimals(&fx.fake.invoice("130").expect("130")),
        decimals(&json!({
            "id": "130", "invoiceNumber": "1037", "customerId": "58",
            "invoiceDate": "2024-03-01", "dueDate": "2024-03-31", "expirationDate": "2024-03-31",
            "subTotal": 59.97, "taxAmount": 4.8, "totalAmount": 64.77, "amountDue": 64.77,
            "status": "Placed", "sourceModifiedDate": "2024-03-01T17:30:00.000Z",
            "lines": [{"description": "Rock Fountain", "unitAmount": 19.99, "quantity": 3,
                       "subTotal": 59.97, "taxAmount": 0, "totalAmount": 59.97}]
        }))
    );
    let i131 = fx.fake.invoice("131").expect("131");
    assert_eq!(i131["customerId"], "59");
    assert_eq!(
        decimals(&i131["totalAmount"]),
        Value::String("1234567.89".into())
    );
    assert_eq!(fx.fake.invoice("132"), None);
    assert_eq!(fx.fake.invoice("133"), None);

    // 130 paid in QuickBooks, 131 voided: an update, and a cancel.
    let list = invoices["QueryResponse"]["Invoice"]
        .as_array_mut()
        .expect("invoices");
    list[0]["Balance"] = json!(0);
    list[0]["MetaData"]["LastUpdatedTime"] = json!("2024-03-05T10:00:00-08:00");
    list[1]["PrivateNote"] = json!("Voided - duplicate of 1037");
    list[1]["MetaData"]["LastUpdatedTime"] = json!("2024-03-05T10:00:00-08:00");
    write(&fx, "invoices.json", &invoices);
    let second = run(&fx, example, "customers*.json", "invoices.json").await;
    assert_eq!(second.code, 0, "{}", second.stderr);
    // (132 and 133 are older than the watermark less lookback now: skipped unread.)
    assert!(
        second.invoice_summary().starts_with(
            "invoices: created 0, exists 0, updated 1, cancelled 1, waiting 0, rejected 0,"
        ),
        "{}",
        second.invoice_summary()
    );
    let paid = fx.fake.invoice("130").expect("130");
    assert_eq!(decimals(&paid["amountDue"]), Value::String("0".into()));
    assert_eq!(paid["sourceModifiedDate"], "2024-03-05T18:00:00.000Z");
    assert_eq!(fx.fake.invoice_cancels("131"), 1);
    assert_eq!(fx.fake.invoice_creations("130"), 1);
}

#[tokio::test]
async fn xero_sends_sales_invoices_only_and_cancels_a_voided_one_once() {
    let fx = Fixture::new().await;
    let contact = "025867f1-d741-4d6b-b1af-9ac774b59ba7";
    let mut contacts = fixture("xero-contacts.json");
    contacts["Contacts"][0]["ContactID"] = json!(contact);
    write(&fx, "contacts.json", &contacts);
    let mut invoices = fixture("xero-invoices.json");
    write(&fx, "invoices.json", &invoices);
    let example = "config/examples/xero-invoices.toml";

    let first = run(&fx, example, "contacts.json", "invoices.json").await;
    assert_eq!(
        first.code, 65,
        "one contact has no mobile: {}",
        first.stderr
    );
    // The bill (ACCPAY), the draft and the invoice voided before it was sent are left out.
    assert_eq!(
        first.invoice_summary(),
        "invoices: created 2, exists 0, updated 0, cancelled 0, waiting 0, rejected 0, left out 3"
    );
    // Sent concurrently: in any order.
    let mut sent: Vec<String> = (fx.fake.invoice_requests().iter())
        .filter_map(|r| r.id().map(str::to_owned))
        .collect();
    sent.sort();
    assert_eq!(
        sent,
        [
            "243216c5-369e-4056-ac67-05388f86dc81",
            "d4956132-ed94-4dd7-9eaa-aa22dfdf06f2"
        ]
    );
    // Exclusive line amounts: LineAmount is the sub-total, with its tax the total.
    assert_eq!(
        decimals(&fx.fake.invoice(&sent[0]).expect("first")),
        decimals(&json!({
            "id": sent[0], "invoiceNumber": "INV-0001", "customerId": contact,
            "invoiceDate": "2018-10-20", "dueDate": "2018-11-02", "expirationDate": "2018-11-02",
            "subTotal": 59.97, "taxAmount": 6.0, "totalAmount": 65.97, "amountDue": 65.97,
            "status": "Placed", "sourceModifiedDate": "2018-10-20T00:00:07.630Z",
            "lines": [{"description": "Onsite project management", "unitAmount": 19.99,
                       "quantity": 3, "subTotal": 59.97, "taxAmount": 6.0,
                       "totalAmount": 65.97}]
        }))
    );

    // Voided in Xero: cancelled in BlueTape, once, however often the export says so.
    invoices["Invoices"][0]["Status"] = json!("VOIDED");
    invoices["Invoices"][0]["UpdatedDateUTC"] = json!("/Date(1540339200000+0000)/");
    write(&fx, "invoices.json", &invoices);
    let second = run(&fx, example, "contacts.json", "invoices.json").await;
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert!(
        second.invoice_summary().contains("cancelled 1,"),
        "{}",
        second.invoice_summary()
    );
    invoices["Invoices"][0]["UpdatedDateUTC"] = json!("/Date(1540425600000+0000)/");
    write(&fx, "invoices.json", &invoices);
    let third = run(&fx, example, "contacts.json", "invoices.json").await;
    assert_eq!(third.code, 0, "{}", third.stderr);
    assert_eq!(fx.fake.invoice_cancels(&sent[0]), 1);
    let cancels = (fx.fake.invoice_requests().iter())
        .filter(|r| r.path.ends_with("/cancel"))
        .count();
    assert_eq!(cancels, 1, "one cancel request in all");
}

/// QuickBooks' sub-customers (jobs, SPEC §12) are never sent as customers; an invoice billed
/// to one goes to BlueTape under its top-level customer, through any depth of jobs; an invoice
/// billed to a job the customer export does not have waits, naming it.
#[tokio::test]
async fn quickbooks_jobs_are_not_customers_and_their_invoices_go_under_the_top_level_customer() {
    let fx = Fixture::new().await;
    let mut customers = fixture("quickbooks-online-customers.json");
    let list = customers["QueryResponse"]["Customer"]
        .as_array_mut()
        .expect("customers");
    let person = list[1].clone();
    list.truncate(1);
    list[0] = person.clone();
    list[0]["Id"] = json!("58");
    // A job of 58, and a job of that job.
    let mut job = person.clone();
    job["Id"] = json!("60");
    job["Job"] = json!(true);
    job["ParentRef"] = json!({"value": "58"});
    job["DisplayName"] = json!("Bill's Windsurf Shop:Kitchen");
    list.push(job.clone());
    job["Id"] = json!("61");
    job["ParentRef"] = json!({"value": "60"});
    job["Job"] = json!(true);
    list.push(job);
    write(&fx, "customers.json", &customers);
    let mut invoices = fixture("quickbooks-online-invoices.json");
    let bills = invoices["QueryResponse"]["Invoice"]
        .as_array_mut()
        .expect("invoices");
    bills.truncate(1);
    let template = bills[0].clone();
    bills.clear();
    for (id, customer) in [("140", "60"), ("141", "61"), ("142", "58"), ("143", "77")] {
        let mut bill = template.clone();
        bill["Id"] = json!(id);
        bill["CustomerRef"] = json!({"value": customer});
        bills.push(bill);
    }
    write(&fx, "invoices.json", &invoices);
    let example = "config/examples/quickbooks-online-invoices.toml";

    let run = run(&fx, example, "customers*.json", "invoices.json").await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let customers_sent: Vec<String> = (fx.fake.received().iter())
        .filter(|r| r.is_customer())
        .filter_map(|r| r.id().map(str::to_owned))
        .collect();
    assert_eq!(customers_sent, ["58"], "jobs are not customers");
    assert_eq!(run.count("inactive"), 2, "two jobs left out");
    for invoice in ["140", "141", "142"] {
        let body = fx
            .fake
            .invoice(invoice)
            .unwrap_or_else(|| panic!("{invoice} not sent"));
        assert_eq!(
            body["customerId"], "58",
            "{invoice} under the top-level customer"
        );
    }
    assert!(fx.fake.invoice("143").is_none());
    assert!(
        run.invoice_summary()
            .starts_with("invoices: created 3, exists 0, updated 0, cancelled 0, waiting 1"),
        "{}",
        run.invoice_summary()
    );
    let failures = fx
        .run_example(
            example,
            "customers*.json",
            &["failures", "--format", "json"],
        )
        .await;
    assert!(
        failures
            .stdout
            .contains("customer 77 is not in the customer export"),
        "{}",
        failures.stdout
    );
}
