//! What must never be sent (SPEC §12): leave-out rules for any export, records withdrawn when
//! the export leaves them out before they were sent, and paid invoices never created. Driven
//! through the real binary against the fake BlueTape on 127.0.0.1.

mod support;

use serde_json::Value;
use support::{Fixture, HEADER, row};

const RULES: &str = r#"
[[source.leave_out]]
field = "Inactive"
equals = ["yes", "true"]
[[source.leave_out]]
all = [ { field = "Type", equals = ["vendor"] }, { field = "Inactive", not_equals = ["yes", "true"] } ]
[[source.leave_out]]
field = "Type"
equals = ["prospect"]
"#;

/// A customer row with its `Inactive` and `Type` cells.
fn customer(id: &str, date: &str, inactive: &str, kind: &str) -> String {
    format!("{},{inactive},{kind}", row(id, date))
}

fn export(rows: &[String]) -> String {
    format!("{HEADER},Inactive,Type\n{}\n", rows.join("\n"))
}

fn status_json(run: &support::Run) -> Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

#[tokio::test]
async fn records_a_rule_leaves_out_never_reach_bluetape_and_check_counts_each_rule() {
    let fx = Fixture::with_config(RULES).await;
    fx.write_export(&export(&[
        customer("C1", "2024-03-01T10:00:00Z", "No", "Customer"),
        customer("C2", "2024-03-01T10:00:01Z", "Yes", "Customer"),
        customer("C3", "2024-03-01T10:00:02Z", "", "Vendor"),
        customer("C4", "2024-03-01T10:00:03Z", "TRUE", "vendor"),
        customer("C5", "2024-03-01T10:00:04Z", "no", "customer"),
    ]));

    let check = fx.run(&["check"]).await;
    assert_eq!(check.code, 0, "{}\n{}", check.stdout, check.stderr);
    assert!(
        check
            .stdout
            .contains("would queue 2, rejected 0, skipped 0 (unchanged), inactive 3"),
        "{}",
        check.stdout
    );
    assert!(
        check.stdout.contains(
            "left out, by rule (source.leave_out):\n\
             \x20      2  Inactive equals yes, true\n\
             \x20      1  Type equals vendor and Inactive is not yes, true\n\
             \x20      0  Type equals prospect\n"
        ),
        "{}",
        check.stdout
    );
    assert_eq!(fx.fake.request_count(), 0, "check sends nothing");

    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.count("created"), 2);
    assert_eq!(run.count("inactive"), 3);
    let sent: Vec<String> = fx.posted_bodies().into_keys().collect();
    assert_eq!(sent, ["C1", "C5"]);
    for id in ["C2", "C3", "C4"] {
        assert!(fx.record(id).is_none(), "{id} must not be in the store");
    }
    let status = status_json(&fx.run(&["status", "--json"]).await);
    assert_eq!(status["last_pass"]["inactive"], 3, "{status}");
}

#[tokio::test]
async fn a_record_left_out_before_it_was_sent_is_withdrawn_one_already_sent_stays() {
    let fx = Fixture::with_config(RULES).await;
    fx.fake
        .reject_id("C2", "cellPhoneNumber: not a mobile number");
    fx.write_export(&export(&[
        customer("C1", "2024-03-01T10:00:00Z", "No", "Customer"),
        customer("C2", "2024-03-01T10:00:01Z", "No", "Customer"),
    ]));
    let first = fx.run(&["--once"]).await;
    assert_eq!(first.count("created"), 1, "{}", first.stderr);
    let failures = fx.run(&["failures", "--format", "json"]).await;
    let listed: Vec<Value> = serde_json::from_str(&failures.stdout).expect("JSON");
    assert_eq!(listed.len(), 1, "{}", failures.stdout);
    assert_eq!(listed[0]["id"], "C2");

    // The bookkeeper marks both inactive: C2 (never in BlueTape) is withdrawn; C1 stays
    // created, and nothing is deleted in BlueTape.
    fx.write_export(&export(&[
        customer("C1", "2024-03-02T10:00:00Z", "Yes", "Customer"),
        customer("C2", "2024-03-02T10:00:01Z", "Yes", "Customer"),
    ]));
    let requests_before = fx.fake.request_count();
    let second = fx.run(&["--once"]).await;
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert_eq!(second.count("inactive"), 2);
    assert!(
        second
            .stderr
            .contains("customer withdrawn before it was sent: the export now leaves it out"),
        "{}",
        second.stderr
    );
    assert_eq!(fx.fake.request_count(), requests_before, "nothing sent");
    assert!(fx.record("C2").is_none(), "C2 withdrawn from the store");
    assert_eq!(fx.record("C1").map(|r| r.state), Some("created".to_owned()));
    let failures = fx.run(&["failures", "--format", "json"]).await;
    let listed: Vec<Value> = serde_json::from_str(&failures.stdout).expect("JSON");
    assert!(listed.is_empty(), "{}", failures.stdout);
    assert_eq!(fx.fake.posts("C2"), 1);
    assert_eq!(fx.fake.creations("C1"), 1);
}

#[tokio::test]
async fn a_rule_written_wrong_is_a_config_error_naming_the_rule() {
    let fx = Fixture::with_config(
        "[[source.leave_out]]\nfield = \"Inactive\"\nequals = [\"yes\"]\ncontains = \"y\"\n",
    )
    .await;
    fx.write_export(&export(&[customer(
        "C1",
        "2024-03-01T10:00:00Z",
        "No",
        "x",
    )]));
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 78, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "key `source.leave_out`: rule 1: give exactly one of `equals`, `not_equals`, `contains`, \
             `is_blank` or `all`"
        ),
        "{}",
        run.stderr
    );
    // A rule for a column the export does not have stops the read, naming it.
    let fx =
        Fixture::with_config("[[source.leave_out]]\nfield = \"Status\"\nis_blank = false\n").await;
    fx.write_export(&export(&[customer(
        "C1",
        "2024-03-01T10:00:00Z",
        "No",
        "x",
    )]));
    let run = fx.run(&["--once"]).await;
    assert_ne!(run.code, 0);
    assert!(
        run.stderr
            .contains("no column `Status` for the source.leave_out rule `Status is not blank`"),
        "{}",
        run.stderr
    );
    assert_eq!(fx.fake.request_count(), 0);
}

const INVOICES: &str = "\n[invoices]\npath = \"invoices.csv\"\nlookback = \"0s\"\nsettle = \"0s\"\n\
                        [[invoices.leave_out]]\nfield = \"type\"\nequals = [\"Credit Memo\"]\n";
const INVOICE_HEADER: &str = "id,invoiceNumber,customerId,invoiceDate,dueDate,subTotal,taxAmount,\
                              totalAmount,amountDue,sourceModifiedDate,status,type";

#[tokio::test]
async fn a_paid_invoice_is_never_created_from_any_invoice_export() {
    let fx = Fixture::with_config(INVOICES).await;
    fx.write_export(&format!(
        "{HEADER}\n{}\n",
        row("C1", "2024-03-01T10:00:00Z")
    ));
    let invoice = |id: &str, amounts: &str, status: &str, kind: &str| {
        format!(
            "{id},N-{id},C1,2024-03-01,2024-03-31,{amounts},2024-03-02T10:00:00Z,{status},{kind}"
        )
    };
    fx.write_file(
        "invoices.csv",
        &format!(
            "{INVOICE_HEADER}\n{}\n",
            [
                invoice("I1", "10,0,10,10", "Open", "Invoice"),
                invoice("I2", "10,0,10,0", "Paid In Full", "Invoice"),
                invoice("I3", "10,0,10,0", "Open", "Invoice"),
                invoice("I4", "10,0,10,10", "closed", "Invoice"),
                invoice("I5", "10,0,10,10", "Open", "Credit Memo"),
            ]
            .join("\n")
        ),
    );
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let created: Vec<String> = fx
        .fake
        .received()
        .iter()
        .filter(|r| !r.is_customer())
        .filter_map(|r| r.id().map(str::to_owned))
        .collect();
    assert_eq!(created, ["I1"], "only the open invoice is created");
    assert!(
        run.invoice_summary().starts_with("invoices: created 1, exists 0, updated 0, cancelled 0, waiting 0, rejected 0, left out 4"),
        "{}",
        run.invoice_summary()
    );
    let status = status_json(&fx.run(&["status", "--json"]).await);
    assert_eq!(status["last_pass"]["invoices"]["left_out"], 4, "{status}");
}

/// The export's order decides for an id written twice: a later row that is left out withdraws
/// an earlier one still waiting in the same read, and a later valid row is queued after an
/// earlier left-out one.
#[tokio::test]
async fn an_id_written_twice_takes_its_last_row() {
    let fx = Fixture::with_config(RULES).await;
    fx.write_export(&export(&[
        customer("C1", "2024-03-01T10:00:00Z", "No", "Customer"),
        customer("C2", "2024-03-01T10:00:01Z", "Yes", "Customer"),
        customer("C1", "2024-03-01T10:00:02Z", "Yes", "Customer"),
        customer("C2", "2024-03-01T10:00:03Z", "No", "Customer"),
    ]));
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let sent: Vec<String> = fx.posted_bodies().into_keys().collect();
    assert_eq!(sent, ["C2"]);
    assert!(fx.record("C1").is_none(), "C1's last row leaves it out");
}
