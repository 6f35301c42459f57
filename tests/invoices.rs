//! Invoices (SPEC §9) against the fake BlueTape on 127.0.0.1: what the client sends for each
//! invoice call and what each answer means.

mod support;

use std::time::Duration;

use bluetape_sync::client::config::ApiConfig;
use bluetape_sync::client::{BlueTapeClient, Outcome};
use bluetape_sync::pass::{CUSTOMERS, INVOICES};
use serde_json::{Value, json};
use support::fake::{ACCOUNT, FakeBlueTape, KEY};

fn client(fake: &FakeBlueTape) -> BlueTapeClient {
    BlueTapeClient::new(&ApiConfig {
        base_url: fake.base_url().parse().expect("url"),
        account_id: ACCOUNT.into(),
        key: KEY.to_owned().into(),
        timeout: Duration::from_secs(10),
        concurrency: 1,
        max_requests_per_second: 0.0,
    })
    .expect("client")
}

fn invoice(id: &str, customer: &str) -> Value {
    json!({
        "id": id, "invoiceNumber": format!("N-{id}"), "customerId": customer,
        "invoiceDate": "2024-03-01", "dueDate": "2024-03-31", "expirationDate": "2024-03-31",
        "subTotal": 1234567.89, "taxAmount": 0.3, "totalAmount": 1234568.19,
        "amountDue": 1234568.19, "status": "Placed",
        "sourceModifiedDate": "2024-03-01T10:00:00.000Z"
    })
}

const CUSTOMER: &str = r#"{"id":"C-1","firstName":"Ada","lastName":"Lovelace",
    "emailAddress":"ada@example.com","cellPhoneNumber":"+16265550100",
    "sourceModifiedDate":"2024-03-01T10:00:00.000Z"}"#;

#[tokio::test]
async fn each_invoice_call_and_what_its_answer_means() {
    let fake = FakeBlueTape::start().await;
    let client = client(&fake);
    let (customers, invoices) = (client.endpoint(CUSTOMERS), client.endpoint(INVOICES));
    let body = invoice("I-1", "C-1").to_string();

    // Before its customer: waiting, with BlueTape's reason.
    let answer = client.create(&invoices, body.clone()).await;
    assert_eq!(
        answer.outcome,
        Outcome::Waiting {
            reason: "400: Customer does not exist.".into()
        }
    );
    assert!(matches!(
        client.create(&customers, CUSTOMER.into()).await.outcome,
        Outcome::Created { .. }
    ));
    fake.set_customer_draft("C-1", true);
    assert_eq!(
        client.create(&invoices, body.clone()).await.outcome,
        Outcome::Waiting {
            reason: "400: Customer of invoice is draft.".into()
        }
    );
    fake.set_customer_draft("C-1", false);

    // Created, then a duplicate in both forms.
    assert_eq!(
        client.create(&invoices, body.clone()).await.outcome,
        Outcome::Accepted {
            blue_tape_id: Some("inv-I-1".into())
        }
    );
    assert_eq!(
        client.create(&invoices, body.clone()).await.outcome,
        Outcome::Exists
    );
    fake.answer_invoice_duplicates_with_400(true);
    assert_eq!(
        client.create(&invoices, body.clone()).await.outcome,
        Outcome::Exists
    );

    // A bare 2xx is created too.
    fake.answer_invoice_creates_bare(Some(204));
    assert_eq!(
        client
            .create(&invoices, invoice("I-2", "C-1").to_string())
            .await
            .outcome,
        Outcome::Accepted { blue_tape_id: None }
    );

    // Update, refused update, cancel twice, update after cancel, unknown invoice.
    let mut update = invoice("I-1", "C-1");
    update.as_object_mut().expect("object").remove("id");
    update["amountDue"] = json!(0.1);
    assert_eq!(
        client
            .update(&invoices, "I-1", update.to_string())
            .await
            .outcome,
        Outcome::Updated {
            blue_tape_id: Some("inv-I-1".into())
        }
    );
    assert_eq!(fake.invoice_updates("I-1"), 1);
    fake.refuse_invoice_update("I-2", "Invoice is paid.");
    assert_eq!(
        client
            .update(&invoices, "I-2", update.to_string())
            .await
            .outcome,
        Outcome::Refused {
            reason: "400: Invoice is paid.".into()
        }
    );
    assert_eq!(
        client.cancel(&invoices, "I-1").await.outcome,
        Outcome::Cancelled
    );
    assert_eq!(
        client.cancel(&invoices, "I-1").await.outcome,
        Outcome::Cancelled
    );
    assert_eq!(fake.invoice_cancels("I-1"), 1);
    assert_eq!(
        client
            .update(&invoices, "I-1", update.to_string())
            .await
            .outcome,
        Outcome::Refused {
            reason: "400: Invoice is canceled.".into()
        }
    );
    assert_eq!(
        client.cancel(&invoices, "I-9").await.outcome,
        Outcome::Cancelled
    );
    assert!(matches!(
        client
            .update(&invoices, "I-9", update.to_string())
            .await
            .outcome,
        Outcome::NotFound { .. }
    ));

    // What BlueTape received: the paths, the headers, and the amounts exactly.
    let requests = fake.invoice_requests();
    let calls: Vec<String> = requests
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    let prefix = support::fake::PREFIX;
    assert_eq!(calls[0], format!("POST {prefix}/integration/invoice"));
    assert!(calls.contains(&format!("PUT {prefix}/integration/invoice/I-1")));
    assert!(calls.contains(&format!("PUT {prefix}/integration/invoice/I-1/cancel")));
    for r in &requests {
        assert_eq!(
            r.headers.get("x-bluetape-key").map(String::as_str),
            Some(KEY)
        );
        assert_eq!(
            r.headers.get("x-integration-accountid").map(String::as_str),
            Some(ACCOUNT)
        );
        assert_eq!(
            r.headers.get("content-type").map(String::as_str),
            Some("application/json")
        );
    }
    let cancel = requests
        .iter()
        .find(|r| r.path.ends_with("/cancel"))
        .expect("a cancel");
    assert_eq!(cancel.body, json!({}));
    let sent = fake.invoice("I-1").expect("held");
    assert_eq!(sent["subTotal"].to_string(), "1234567.89");
    assert_eq!(sent["amountDue"].to_string(), "0.1");
}
