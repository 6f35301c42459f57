//! Invoices through the real binary (SPEC §9): a customer export and an invoice export, the
//! fake BlueTape on 127.0.0.1, and what it received, in which order, with which bodies; what
//! the store holds; what the summary line and the exit code say.

mod support;

use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::Value;
use support::{Fixture, HEADER, row};

const INVOICES: &str =
    "\n[invoices]\npath = \"invoices.csv\"\nlookback = \"0s\"\nsettle = \"0s\"\n";

const INVOICE_HEADER: &str = "id,invoiceNumber,customerId,invoiceDate,dueDate,subTotal,taxAmount,\
                              totalAmount,amountDue,sourceModifiedDate,status,lines";

/// An invoice row: `amounts` is `subTotal,taxAmount,totalAmount,amountDue` as CSV cells.
fn invoice(id: &str, customer: &str, amounts: &str, modified: &str, status: &str) -> String {
    format!("{id},N-{id},{customer},2024-03-01,2024-03-31,{amounts},{modified},{status},")
}

fn customers(rows: &[String]) -> String {
    format!("{HEADER}\n{}\n", rows.join("\n"))
}

fn invoices(rows: &[String]) -> String {
    format!("{INVOICE_HEADER}\n{}\n", rows.join("\n"))
}

/// The decimal a JSON number is, read from its text (never through `f64`).
fn decimal(value: &Value) -> Decimal {
    let text = match value {
        Value::Number(n) => n.to_string(),
        other => panic!("not a JSON number: {other}"),
    };
    Decimal::from_str(&text)
        .or_else(|_| Decimal::from_scientific(&text))
        .unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn dec(text: &str) -> Decimal {
    Decimal::from_str(text).expect("decimal")
}

/// A customer export of `customer` alone, and an invoice export of its open invoice `id`.
async fn one_invoice(id: &str, customer: &str) -> Fixture {
    let fx = Fixture::with_config(INVOICES).await;
    fx.write_export(&customers(&[row(customer, "2024-03-01T10:00:00Z")]));
    fx.write_file(
        "invoices.csv",
        &invoices(&[invoice(
            id,
            customer,
            "10,0,10,10",
            "2024-03-02T10:00:00Z",
            "open",
        )]),
    );
    fx
}

/// `(state, reason)` of invoice `id` in the store.
fn stored_invoice(fx: &Fixture, id: &str) -> Option<(String, Option<String>)> {
    let conn = rusqlite::Connection::open(fx.store_path()).expect("store");
    conn.query_row(
        "SELECT state, reason FROM records WHERE kind = 'invoice' AND id = ?1",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .ok()
}

fn refused(fx: &Fixture, id: &str) -> Option<(String, String)> {
    let conn = rusqlite::Connection::open(fx.store_path()).expect("store");
    conn.query_row(
        "SELECT refused, refused_reason FROM records WHERE kind = 'invoice' AND id = ?1
           AND refused IS NOT NULL",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .ok()
}

#[tokio::test]
async fn invoices_go_after_their_customers_with_exact_amounts_and_wait_for_missing_ones() {
    let fx = Fixture::with_config(INVOICES).await;
    fx.write_export(&customers(&[
        row("C1", "2024-03-01T10:00:00Z"),
        row("C2", "2024-03-01T10:00:00Z"),
        // No phone: rejected, and its invoice waits.
        "C3,Ada,Lovelace,c3@example.com,,2024-03-01T10:00:00Z,".to_owned(),
    ]));
    let lines = r#""[{""description"": ""Widget"", ""unitAmount"": ""19.99"", ""quantity"": ""3"", ""subTotal"": ""59.97""}]""#;
    fx.write_file(
        "invoices.csv",
        &invoices(&[
            invoice("I1", "C1", "0.1,0.2,0.3,0.3", "2024-03-02T10:00:00Z", "open"),
            format!(
                "I2,N-I2,C2,2024-03-01,2024-03-31,59.97,0,59.97,59.97,2024-03-02T10:00:00Z,open,{lines}"
            ),
            invoice(
                "I3",
                "C1",
                "\"1,234,567.89\",0,\"1,234,567.89\",\"1,234,567.89\"",
                "2024-03-02T10:00:00Z",
                "open",
            ),
            invoice("I4", "C3", "10,0,10,10", "2024-03-02T10:00:00Z", "open"),
            invoice("I5", "C9", "10,0,10,10", "2024-03-02T10:00:00Z", "open"),
            invoice("I6", "C1", "10,0,10,10", "2024-03-02T10:00:00Z", "Draft"),
        ]),
    );

    let run = fx.run(&["--once"]).await;
    // C3 is rejected: 65, although every invoice that could go went.
    assert_eq!(run.code, 65, "{}", run.stderr);
    assert_eq!(
        run.invoice_summary(),
        "invoices: created 3, exists 0, updated 0, cancelled 0, waiting 2, rejected 0, left out 1"
    );

    // Each invoice after its customer's create, never before.
    let received = fx.fake.received();
    let position = |pred: &dyn Fn(&support::fake::Received) -> bool| received.iter().position(pred);
    for (invoice_id, customer_id) in [("I1", "C1"), ("I2", "C2"), ("I3", "C1")] {
        let customer_at = position(&|r| r.is_customer() && r.id() == Some(customer_id))
            .unwrap_or_else(|| panic!("{customer_id} not sent"));
        let invoice_at = position(&|r| !r.is_customer() && r.id() == Some(invoice_id))
            .unwrap_or_else(|| panic!("{invoice_id} not sent"));
        assert!(
            customer_at < invoice_at,
            "{invoice_id} before {customer_id}"
        );
    }
    let posted: Vec<&str> = received
        .iter()
        .filter(|r| !r.is_customer())
        .filter_map(|r| r.id())
        .collect();
    assert_eq!(posted.len(), 3, "only I1..I3 sent: {posted:?}");

    // The bodies, amounts compared as decimals.
    let i1 = fx.fake.invoice("I1").expect("I1");
    assert_eq!(
        (
            decimal(&i1["subTotal"]),
            decimal(&i1["taxAmount"]),
            decimal(&i1["totalAmount"]),
            decimal(&i1["amountDue"])
        ),
        (dec("0.1"), dec("0.2"), dec("0.3"), dec("0.3"))
    );
    assert_eq!(i1["customerId"], "C1");
    assert_eq!(i1["invoiceNumber"], "N-I1");
    assert_eq!(i1["invoiceDate"], "2024-03-01");
    assert_eq!(i1["dueDate"], "2024-03-31");
    assert_eq!(i1["expirationDate"], "2024-03-31");
    assert_eq!(i1["status"], "Placed");
    assert_eq!(i1["sourceModifiedDate"], "2024-03-02T10:00:00.000Z");
    assert!(i1.get("lines").is_none(), "no lines: {i1}");
    let i2 = fx.fake.invoice("I2").expect("I2");
    let line = &i2["lines"][0];
    assert_eq!(line["description"], "Widget");
    assert_eq!(decimal(&line["unitAmount"]), dec("19.99"));
    assert_eq!(decimal(&line["quantity"]), dec("3"));
    assert_eq!(decimal(&line["subTotal"]), dec("59.97"));
    assert_eq!(decimal(&line["totalAmount"]), dec("59.97"));
    assert_eq!(decimal(&i2["totalAmount"]), dec("19.99") * dec("3"));
    let i3 = fx.fake.invoice("I3").expect("I3");
    assert_eq!(decimal(&i3["totalAmount"]), dec("1234567.89"));

    // Waiting, with a reason naming the customer; the draft never stored or sent.
    let (state, reason) = stored_invoice(&fx, "I4").expect("I4 stored");
    assert_eq!(state, "waiting");
    let reason = reason.expect("reason");
    assert!(
        reason.starts_with("customer C3 is rejected: cellPhoneNumber"),
        "{reason}"
    );
    assert_eq!(
        stored_invoice(&fx, "I5"),
        Some((
            "waiting".into(),
            Some("customer C9 is not in the customer export".into())
        ))
    );
    assert_eq!(stored_invoice(&fx, "I6"), None);

    // The operator's view: counts per kind, waiting invoices among the failures, with a kind.
    let status = fx.run(&["status", "--json"]).await;
    let status: Value = serde_json::from_str(&status.stdout).expect("status JSON");
    assert_eq!(
        status["invoices"]["counts"],
        serde_json::json!({"pending": 0, "created": 3, "exists": 0, "waiting": 2, "rejected": 0,
                           "failed": 0, "cancelled": 0, "update_refused": 0})
    );
    assert_eq!(status["counts"]["created"], 2);
    let last = &status["last_pass"];
    assert_eq!(last["invoices"]["created"], 3);
    assert_eq!(last["invoices"]["waiting"], 2);
    assert_eq!(last["invoices"]["inactive"], 1);
    let failures = fx.run(&["failures", "--format", "json"]).await;
    let failures: Vec<Value> = serde_json::from_str(&failures.stdout).expect("failures JSON");
    let mut listed: Vec<(String, String, String)> = failures
        .iter()
        .map(|f| {
            let text = |k: &str| f[k].as_str().unwrap_or_default().to_owned();
            (text("id"), text("kind"), text("state"))
        })
        .collect();
    listed.sort();
    assert_eq!(
        listed,
        [
            ("C3".into(), "customer".into(), "rejected".into()),
            ("I4".into(), "invoice".into(), "waiting".into()),
            ("I5".into(), "invoice".into(), "waiting".into()),
        ]
    );
    let waiting = fx
        .run(&["failures", "--format", "json", "--state", "waiting"])
        .await;
    let waiting: Vec<Value> = serde_json::from_str(&waiting.stdout).expect("failures JSON");
    assert_eq!(waiting.len(), 2);
    let shown = fx.run(&["show", "--id", "I5", "--json"]).await;
    let shown: Value = serde_json::from_str(&shown.stdout).expect("show JSON");
    assert_eq!(shown["kind"], "invoice");
    assert_eq!(shown["state"], "waiting");

    // C3 fixed and C9 exported: both invoices go in that pass, after their customers.
    fx.write_export(&customers(&[
        row("C1", "2024-03-01T10:00:00Z"),
        row("C2", "2024-03-01T10:00:00Z"),
        row("C3", "2024-03-05T10:00:00Z"),
        row("C9", "2024-03-05T10:00:00Z"),
    ]));
    let before = fx.fake.request_count();
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    // The invoice export is unchanged, so not even opened: the waiting ones go from the store.
    assert_eq!(
        run.invoice_summary(),
        "invoices: created 2, exists 0, updated 0, cancelled 0, waiting 0, rejected 0, left out 0"
    );
    let sent: Vec<(bool, String)> = fx.fake.received()[before..]
        .iter()
        .map(|r| (r.is_customer(), r.id().unwrap_or_default().to_owned()))
        .collect();
    let at = |customer: bool, id: &str| {
        sent.iter()
            .position(|(c, i)| *c == customer && i == id)
            .unwrap_or_else(|| panic!("{id} not sent: {sent:?}"))
    };
    assert!(at(true, "C3") < at(false, "I4"));
    assert!(at(true, "C9") < at(false, "I5"));
    assert_eq!(sent.len(), 4, "{sent:?}");
    assert_eq!(stored_invoice(&fx, "I4").expect("I4").0, "created");
    for id in ["I1", "I2", "I3", "I4", "I5"] {
        assert_eq!(fx.fake.invoice_creations(id), 1, "{id}");
    }
}

#[tokio::test]
async fn changes_become_updates_refusals_are_kept_and_a_void_invoice_is_cancelled_once() {
    let fx = Fixture::with_config(INVOICES).await;
    fx.write_export(&customers(&[row("C1", "2024-03-01T10:00:00Z")]));
    let first = |status: &str| {
        invoices(&[
            invoice("I1", "C1", "100,0,100,100", "2024-03-02T10:00:00Z", "open"),
            invoice("I2", "C1", "100,0,100,100", "2024-03-02T10:00:00Z", "open"),
            invoice("I3", "C1", "100,0,100,100", "2024-03-02T10:00:00Z", status),
        ])
    };
    fx.write_file("invoices.csv", &first("open"));
    assert_eq!(fx.run(&["--once"]).await.code, 0);

    // I1 partly paid, I2 refused by BlueTape, I3 voided.
    fx.fake
        .refuse_invoice_update("I2", "Invoice can not be updated after a payment.");
    // I3 as given; I1 and I2 as changed here.
    let changed = |i3_modified: &str, i3_status: &str| {
        invoices(&[
            invoice(
                "I1",
                "C1",
                "100,0,100,40.10",
                "2024-03-03T10:00:00Z",
                "open",
            ),
            invoice("I2", "C1", "100,0,100,50", "2024-03-03T10:00:00Z", "open"),
            invoice("I3", "C1", "100,0,100,100", i3_modified, i3_status),
        ])
    };
    fx.write_file("invoices.csv", &changed("2024-03-03T10:00:00Z", "VOID"));
    let run = fx.run(&["--once"]).await;
    assert_eq!(
        run.code, 0,
        "a refused update does not fail the pass: {}",
        run.stderr
    );
    assert_eq!(
        run.invoice_summary(),
        "invoices: created 0, exists 0, updated 1, cancelled 1, waiting 0, rejected 0, left out 0, refused 1"
    );
    let puts: Vec<support::fake::Received> = fx
        .fake
        .invoice_requests()
        .into_iter()
        .filter(|r| r.method == "PUT")
        .collect();
    let update = puts
        .iter()
        .find(|r| r.path.ends_with("/integration/invoice/I1"))
        .expect("PUT of I1");
    assert!(
        update.body.get("id").is_none(),
        "an update has no id: {}",
        update.body
    );
    assert_eq!(decimal(&update.body["amountDue"]), dec("40.10"));
    assert_eq!(
        update.body["sourceModifiedDate"],
        "2024-03-03T10:00:00.000Z"
    );
    let cancel = puts
        .iter()
        .find(|r| r.path.ends_with("/integration/invoice/I3/cancel"))
        .expect("cancel of I3");
    assert_eq!(cancel.body, serde_json::json!({}));
    assert_eq!(stored_invoice(&fx, "I3").expect("I3").0, "cancelled");
    let (flag, reason) = refused(&fx, "I2").expect("I2 refused");
    assert_eq!(flag, "update");
    assert!(reason.contains("after a payment"), "{reason}");
    let status = fx.run(&["status", "--json"]).await;
    let status: Value = serde_json::from_str(&status.stdout).expect("status JSON");
    let counts = &status["invoices"]["counts"];
    assert_eq!(
        (
            &counts["created"],
            &counts["cancelled"],
            &counts["update_refused"]
        ),
        (&Value::from(2), &Value::from(1), &Value::from(1))
    );

    // Nothing more on the next pass: the refusal waits for a change, the cancel is done.
    let before = fx.fake.invoice_requests().len();
    let run = fx.run(&["--once", "--full"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fx.fake.invoice_requests().len(), before);
    assert_eq!(fx.fake.invoice_cancels("I3"), 1);

    // I3 changed again in the export: cancelled is final, nothing is sent.
    fx.write_file("invoices.csv", &changed("2024-03-09T10:00:00Z", "open"));
    assert_eq!(fx.run(&["--once"]).await.code, 0);
    assert_eq!(fx.fake.invoice_requests().len(), before);

    // Gone from the export: absence is not evidence, nothing is cancelled.
    fx.write_file(
        "invoices.csv",
        &invoices(&[invoice(
            "I2",
            "C1",
            "100,0,100,50",
            "2024-03-03T10:00:00Z",
            "open",
        )]),
    );
    assert_eq!(fx.run(&["--once", "--full"]).await.code, 0);
    assert_eq!(fx.fake.invoice_requests().len(), before);
    assert_eq!(fx.fake.invoice_cancels("I1"), 0);
    assert_eq!(stored_invoice(&fx, "I1").expect("I1 kept").0, "created");
}

#[tokio::test]
async fn a_customer_and_an_invoice_may_share_an_id() {
    let fx = one_invoice("7", "7").await;
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fx.fake.creations("7"), 1);
    assert_eq!(fx.fake.invoice_creations("7"), 1);
    let shown = fx.run(&["show", "--id", "7", "--json"]).await;
    let shown: Value = serde_json::from_str(&shown.stdout).expect("show JSON");
    let kinds: Vec<&str> = (shown.as_array().expect("both kinds").iter())
        .map(|r| r["kind"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(kinds, ["customer", "invoice"]);
    let text = fx.run(&["show", "--id", "7"]).await;
    assert_eq!(
        text.stdout.matches("state           created").count(),
        2,
        "{}",
        text.stdout
    );
}

#[tokio::test]
async fn an_update_of_an_invoice_bluetape_no_longer_has_creates_it_again() {
    let fx = Fixture::with_config(INVOICES).await;
    fx.write_export(&customers(&[row("C1", "2024-03-01T10:00:00Z")]));
    let write = |due: &str, modified: &str| {
        fx.write_file(
            "invoices.csv",
            &invoices(&[invoice(
                "I1",
                "C1",
                &format!("10,0,10,{due}"),
                modified,
                "open",
            )]),
        )
    };
    write("10", "2024-03-02T10:00:00Z");
    assert_eq!(fx.run(&["--once"]).await.code, 0);
    fx.fake.delete_invoice("I1");
    write("7.5", "2024-03-03T10:00:00Z");
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let requests: Vec<(String, String)> = (fx.fake.invoice_requests().iter())
        .map(|r| {
            (
                r.method.clone(),
                r.path
                    .rsplit("/integration/")
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect();
    assert_eq!(
        requests,
        [
            ("POST".to_owned(), "invoice".to_owned()),
            ("PUT".to_owned(), "invoice/I1".to_owned()),
            ("POST".to_owned(), "invoice".to_owned()),
        ]
    );
    let body = fx.fake.invoice("I1").expect("created again");
    assert_eq!(body["id"], "I1");
    assert_eq!(decimal(&body["amountDue"]), dec("7.5"));
    assert_eq!(fx.fake.invoice_creations("I1"), 2);
    assert_eq!(stored_invoice(&fx, "I1").expect("I1").0, "created");
}

#[tokio::test]
async fn duplicates_in_both_forms_and_a_bare_success_are_kept_as_sent() {
    let fx = one_invoice("I1", "C1").await;
    // A 204 without a body is a creation.
    fx.fake.answer_invoice_creates_bare(Some(204));
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(stored_invoice(&fx, "I1").expect("I1").0, "created");

    // A new store: BlueTape answers 409, then 400 `invoice_already_exist`: exists, no failure.
    for as_400 in [false, true] {
        fx.fake.answer_invoice_duplicates_with_400(as_400);
        std::fs::remove_file(fx.store_path()).expect("remove store");
        let run = fx.run(&["--once"]).await;
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(
            run.invoice_summary()
                .starts_with("invoices: created 0, exists 1,"),
            "{}",
            run.stderr
        );
        assert_eq!(stored_invoice(&fx, "I1").expect("I1").0, "exists");
    }
    assert_eq!(fx.fake.invoice_creations("I1"), 1);
}

#[tokio::test]
async fn an_invoice_whose_customer_is_a_draft_in_bluetape_waits_and_goes_later() {
    let fx = one_invoice("I1", "C1").await;
    fx.fake.set_customer_draft("C1", true);
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 0, "waiting is not a failure: {}", run.stderr);
    let (state, reason) = stored_invoice(&fx, "I1").expect("I1");
    assert_eq!(state, "waiting");
    assert!(
        reason.as_deref().unwrap_or_default().contains("draft"),
        "{reason:?}"
    );
    assert!(run.invoice_summary().contains("waiting 1"));

    // Once BlueTape has the customer, a later pass (after retry.max_backoff, 50 ms here) sends it.
    fx.fake.set_customer_draft("C1", false);
    let mut created = false;
    for _ in 0..50 {
        assert_eq!(fx.run(&["--once"]).await.code, 0);
        if stored_invoice(&fx, "I1").is_some_and(|(s, _)| s == "created") {
            created = true;
            break;
        }
    }
    assert!(created, "I1 never sent once its customer was no draft");
    assert_eq!(fx.fake.invoice_creations("I1"), 1);
}

#[tokio::test]
async fn a_dry_run_lists_invoices_and_those_that_would_wait() {
    let fx = Fixture::with_config(INVOICES).await;
    fx.write_export(&customers(&[row("C1", "2024-03-01T10:00:00Z")]));
    fx.write_file(
        "invoices.csv",
        &invoices(&[
            invoice("I1", "C1", "10,0,10,10", "2024-03-02T10:00:00Z", "open"),
            invoice("I2", "C7", "10,0,10,10", "2024-03-02T10:00:00Z", "open"),
        ]),
    );
    let run = fx.run(&["--once", "--dry-run"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let listed: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("would "))
        .collect();
    assert_eq!(
        listed,
        [
            "would send C1",
            "would send invoice I1",
            "would hold invoice I2 until customer C7 is in BlueTape"
        ]
    );
    assert_eq!(fx.fake.request_count(), 0);
}

#[tokio::test]
async fn check_shows_the_first_invoices_and_when_each_would_go() {
    let fx = Fixture::with_config(INVOICES).await;
    fx.write_export(&customers(&[
        row("C1", "2024-03-01T10:00:00Z"),
        "C3,Ada,Lovelace,c3@example.com,,2024-03-01T10:00:00Z,".to_owned(),
    ]));
    fx.write_file(
        "invoices.csv",
        &invoices(&[
            invoice("I1", "C1", "10,0,10,10", "2024-03-02T10:00:00Z", "open"),
            invoice("I2", "C3", "20,0,20,20", "2024-03-02T10:00:00Z", "open"),
            invoice("I3", "C1", "ten,0,10,10", "2024-03-02T10:00:00Z", "open"),
            invoice("I4", "C1", "10,0,10,10", "2024-03-02T10:00:00Z", "draft"),
        ]),
    );
    let run = fx.run(&["check"]).await;
    assert_eq!(run.code, 65, "C3 and I3 are rejected: {}", run.stderr);
    let out = &run.stdout;
    assert!(
        out.contains("first invoices as they would be sent:"),
        "{out}"
    );
    let line = |id: &str| {
        out.lines()
            .find(|l| l.starts_with(&format!("{id} ")))
            .unwrap_or_else(|| panic!("no line for {id} in:\n{out}"))
            .to_owned()
    };
    assert!(
        line("I1").ends_with("after customer C1, in the same pass"),
        "{}",
        line("I1")
    );
    assert!(line("I2").contains("waits: customer C3"), "{}", line("I2"));
    assert!(
        out.contains(
            "invoice export: read 4, would queue 2, rejected 1, skipped 0 (unchanged), left out 1"
        ),
        "{out}"
    );
    assert!(
        out.contains("1 invoice has a sub-total that is not a number"),
        "{out}"
    );
    assert_eq!(fx.fake.request_count(), 0);
}

#[tokio::test]
async fn retry_reads_a_rejected_invoice_again_and_forget_lets_it_be_sent_anew() {
    let fx = Fixture::with_config(INVOICES).await;
    fx.write_export(&customers(&[row("C1", "2024-03-01T10:00:00Z")]));
    let write = |total: &str| {
        fx.write_file(
            "invoices.csv",
            &invoices(&[invoice(
                "I1",
                "C1",
                &format!("10,0,{total},10"),
                "2024-03-02T10:00:00Z",
                "open",
            )]),
        )
    };
    write("ten");
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 65, "{}", run.stderr);
    assert_eq!(
        stored_invoice(&fx, "I1"),
        Some(("rejected".into(), Some("totalAmount: not a number".into())))
    );
    // Fixed without a new modified date: only `retry` makes the next pass read it again.
    write("10");
    let retry = fx.run(&["retry", "--id", "I1"]).await;
    assert_eq!(retry.code, 0, "{}", retry.stderr);
    assert!(
        retry.stdout.contains("1 to be read again from the export"),
        "{}",
        retry.stdout
    );
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fx.fake.invoice_creations("I1"), 1);
    assert_eq!(stored_invoice(&fx, "I1").expect("I1").0, "created");

    // Forgotten, it is read as new and BlueTape says it has it: exists, not created twice.
    let forget = fx.run(&["forget", "--id", "I1", "--yes"]).await;
    assert_eq!(forget.code, 0, "{}", forget.stderr);
    assert!(
        forget.stdout.starts_with("invoice I1 forgotten"),
        "{}",
        forget.stdout
    );
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(stored_invoice(&fx, "I1").expect("I1").0, "exists");
    assert_eq!(fx.fake.invoice_creations("I1"), 1);
}
