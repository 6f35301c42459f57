use std::path::{Path, PathBuf};

use serde_json::Value;

use super::*;
use crate::source::config::{SourceConfig, invoices_from_toml, source_from_toml};
use crate::source::{ExportFile, Item, read};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn customers(zone: &str) -> SourceConfig {
    source_from_toml(
        &format!("path = \"customers.csv\"\ntimezone = \"{zone}\""),
        Path::new("/etc/c.toml"),
    )
    .expect("customers")
}

fn config(toml: &str, zone: &str) -> InvoicesConfig {
    invoices_from_toml(toml, &customers(zone), Path::new("/etc/c.toml")).expect("invoices")
}

/// A record as read: its body (JSON) and standing, or its rejection.
type Read = Result<(Value, Standing), String>;

/// Every record of an export as read, and what was left out.
fn read_all(config: &InvoicesConfig) -> (Vec<Read>, Vec<String>) {
    let source = &config.source;
    let file = ExportFile::at(&source.path).expect("export");
    let reader = InvoiceReader::new(config);
    let (mut read_, mut left_out) = (Vec::new(), Vec::new());
    for item in read(source, &file, None).expect("readable") {
        match item.expect("record") {
            Item::Record(raw) => read_.push(
                reader
                    .modified(&raw)
                    .and_then(|m| reader.invoice(&raw, m))
                    .map(|r| {
                        let body = r.invoice.create_body().expect("json");
                        (serde_json::from_str(&body).expect("json"), r.standing)
                    })
                    .map_err(|e| e.to_string()),
            ),
            Item::LeftOut { rule, .. } => left_out.push(
                source.leave_out[rule]
                    .preset_says
                    .unwrap_or("a config rule")
                    .to_owned(),
            ),
            Item::Old(_) => unreachable!("no threshold"),
        }
    }
    (read_, left_out)
}

/// Equal as JSON, numbers compared as decimals (`59.970` is `59.97`).
fn same(actual: &Value, expected: &Value) -> bool {
    match (actual, expected) {
        (Value::Number(a), Value::Number(e)) => {
            Amount::from_json(a).ok().is_some() && Amount::from_json(a) == Amount::from_json(e)
        }
        (Value::Array(a), Value::Array(e)) => {
            a.len() == e.len() && a.iter().zip(e).all(|(a, e)| same(a, e))
        }
        (Value::Object(a), Value::Object(e)) => {
            a.len() == e.len() && a.iter().all(|(k, v)| e.get(k).is_some_and(|e| same(v, e)))
        }
        _ => actual == expected,
    }
}

fn assert_body(actual: &Value, expected: &str) {
    let expected: Value = serde_json::from_str(expected).expect("expected json");
    assert!(same(actual, &expected), "got {actual}\nwant {expected}");
}

#[test]
fn quickbooks_invoices_become_exact_bodies() {
    let path = fixture("quickbooks-online-invoices.json");
    let config = config(
        &format!(
            "preset = \"quickbooks-online\"\npath = {:?}",
            path.display().to_string()
        ),
        "UTC",
    );
    let (read, left_out) = read_all(&config);
    assert!(left_out.is_empty());
    let bodies: Vec<(Value, Standing)> = read.into_iter().map(|r| r.expect("valid")).collect();
    assert_body(
        &bodies[0].0,
        r#"{"id": "130", "invoiceNumber": "1037", "customerId": "58",
            "invoiceDate": "2024-03-01", "dueDate": "2024-03-31", "expirationDate": "2024-03-31",
            "subTotal": 59.97, "taxAmount": 4.8, "totalAmount": 64.77, "amountDue": 64.77,
            "status": "Placed", "sourceModifiedDate": "2024-03-01T17:30:00.000Z",
            "lines": [{"description": "Rock Fountain", "unitAmount": 19.99, "quantity": 3,
                       "subTotal": 59.97, "taxAmount": 0, "totalAmount": 59.97}]}"#,
    );
    assert_eq!(bodies[0].1, Standing::Open);
    // No tax detail: no tax; the sub-total line is not a line; 0.1 + 0.2 stays 0.3.
    assert_body(
        &bodies[1].0,
        r#"{"id": "131", "invoiceNumber": "1038", "customerId": "59",
            "invoiceDate": "2024-03-02", "dueDate": "2024-04-01", "expirationDate": "2024-04-01",
            "subTotal": 1234567.89, "taxAmount": 0, "totalAmount": 1234567.89,
            "amountDue": 1234567.89, "status": "Placed",
            "sourceModifiedDate": "2024-03-02T18:00:00.000Z",
            "lines": [
              {"description": "Landscaping", "unitAmount": 1234567.59, "quantity": 1,
               "subTotal": 1234567.59, "taxAmount": 0, "totalAmount": 1234567.59},
              {"description": "Seeds", "unitAmount": 0.1, "quantity": 1,
               "subTotal": 0.1, "taxAmount": 0, "totalAmount": 0.1},
              {"description": "Soil", "unitAmount": 0.05, "quantity": 4,
               "subTotal": 0.2, "taxAmount": 0, "totalAmount": 0.2}]}"#,
    );
    let text = bodies[1].0.to_string();
    assert!(
        text.contains("1234567.89") && !text.contains("0.30000000000000004"),
        "{text}"
    );
    assert_eq!(bodies[2].1, Standing::Paid, "a zero balance is paid");
    assert_eq!(bodies[3].1, Standing::Void, "a Voided note is void");
}

#[test]
fn xero_invoices_become_exact_bodies_and_bills_are_left_out() {
    let path = fixture("xero-invoices.json");
    let config = config(
        &format!("preset = \"xero\"\npath = {:?}", path.display().to_string()),
        "Pacific/Auckland",
    );
    let (read, left_out) = read_all(&config);
    assert_eq!(left_out, ["bill"]);
    let bodies: Vec<(Value, Standing)> = read.into_iter().map(|r| r.expect("valid")).collect();
    assert_eq!(bodies.len(), 4);
    // Dates at midnight with an offset are the dates written, whatever the zone.
    assert_body(
        &bodies[0].0,
        r#"{"id": "243216c5-369e-4056-ac67-05388f86dc81", "invoiceNumber": "INV-0001",
            "customerId": "025867f1-d741-4d6b-b1af-9ac774b59ba7",
            "invoiceDate": "2018-10-20", "dueDate": "2018-11-02", "expirationDate": "2018-11-02",
            "subTotal": 59.97, "taxAmount": 6, "totalAmount": 65.97, "amountDue": 65.97,
            "status": "Placed", "sourceModifiedDate": "2018-10-20T00:00:07.630Z",
            "lines": [{"description": "Onsite project management", "unitAmount": 19.99,
                       "quantity": 3, "subTotal": 59.97, "taxAmount": 6,
                       "totalAmount": 65.97}]}"#,
    );
    // Inclusive line amounts: the line amount is the total, the sub-total is less its tax.
    assert_body(
        &bodies[1].0["lines"],
        r#"[{"description": "Consulting", "unitAmount": 44, "quantity": 2.5,
             "subTotal": 100, "taxAmount": 10, "totalAmount": 110},
            {"description": "Travel", "unitAmount": 0.3, "quantity": 1,
             "subTotal": 0.3, "taxAmount": 0, "totalAmount": 0.3}]"#,
    );
    let standings: Vec<Standing> = bodies.iter().map(|(_, s)| *s).collect();
    assert_eq!(
        standings,
        [
            Standing::Open,
            Standing::Open,
            Standing::Draft,
            Standing::Void
        ]
    );
    // Empty LineItems: no lines in the body.
    assert!(bodies[2].0.get("lines").is_none());
}

#[test]
fn a_mapped_csv_reads_lines_from_a_json_column_and_names_bad_fields() {
    let dir = tempfile::tempdir().expect("tempdir");
    let export = dir.path().join("invoices.csv");
    std::fs::write(
        &export,
        "Number,Customer,Issued,Due,Total,Tax,Balance,Modified,State,Items\n\
         INV-1,C-1,2024-03-01,2024-03-31,\"1,234.50\",0,\"1,234.50\",2024-03-01 10:00:00,open,\
         \"[{\"\"text\"\": \"\"Rock\"\", \"\"amount\"\": \"\"1234.5\"\"}]\"\n\
         INV-2,C-1,2024-03-01,2024-03-31,abc,0,1,2024-03-01 10:00:00,open,\n\
         INV-3,C-1,03/01/2024,someday,1,0,1,2024-03-01 10:00:00,Draft,\n\
         INV-4,C-1,2024-03-01,2024-03-31,,0,1,2024-03-01 10:00:00,open,\n\
         INV-5,C-1,2024-03-01,2024-03-31,2,0,2,2024-03-01 10:00:00,VOID,Rock x 3\n",
    )
    .expect("write");
    let config = config(
        &format!(
            "path = {:?}\n[fields]\nid = \"Number\"\ninvoiceNumber = \"Number\"\n\
             customerId = \"Customer\"\ninvoiceDate = \"Issued\"\ndueDate = \"Due\"\n\
             totalAmount = \"Total\"\ntaxAmount = \"Tax\"\namountDue = \"Balance\"\n\
             sourceModifiedDate = \"Modified\"\nstatus = \"State\"\nlines = \"Items\"\n\
             [line_fields]\ndescription = \"text\"\n",
            export.display().to_string()
        ),
        "America/New_York",
    );
    let (read, _) = read_all(&config);
    let (first, standing) = read[0].as_ref().expect("valid");
    assert_body(
        first,
        r#"{"id": "INV-1", "invoiceNumber": "INV-1", "customerId": "C-1",
            "invoiceDate": "2024-03-01", "dueDate": "2024-03-31", "expirationDate": "2024-03-31",
            "subTotal": 1234.5, "taxAmount": 0, "totalAmount": 1234.5, "amountDue": 1234.5,
            "status": "Placed", "sourceModifiedDate": "2024-03-01T15:00:00.000Z",
            "lines": [{"description": "Rock", "unitAmount": 1234.5, "quantity": 1,
                       "subTotal": 1234.5, "taxAmount": 0, "totalAmount": 1234.5}]}"#,
    );
    assert_eq!(*standing, Standing::Open);
    let problems: Vec<String> = read[1..]
        .iter()
        .map(|r| {
            r.as_ref()
                .map(|_| "valid".to_owned())
                .unwrap_or_else(Clone::clone)
        })
        .collect();
    assert_eq!(
        problems,
        [
            "totalAmount: not a number",
            "dueDate: not a recognised date-time format",
            "totalAmount: missing",
            "lines: not a JSON array of lines",
        ]
    );
}

#[test]
fn the_update_body_is_the_stored_create_body_less_its_id() {
    let stored = r#"{"id":"130","invoiceNumber":"1037","subTotal":1234567.89,"taxAmount":0.10}"#;
    assert_eq!(
        Invoice::update_body(stored).expect("json"),
        r#"{"invoiceNumber":"1037","subTotal":1234567.89,"taxAmount":0.10}"#
    );
}

#[test]
fn a_line_without_amounts_or_with_a_quantity_but_no_price_is_named() {
    let mut line = RawLine::default();
    line.set(LineField::Description, "Rock");
    assert_eq!(
        read_line(&line, false),
        Err((LineField::SubTotal, "missing".to_owned()))
    );
    line.set(LineField::SubTotal, "10");
    line.set(LineField::Quantity, "3");
    assert_eq!(
        read_line(&line, false),
        Err((LineField::UnitAmount, "missing".to_owned()))
    );
    line.set(LineField::UnitAmount, "3.3333");
    let read = read_line(&line, false).expect("valid");
    assert_eq!(read.total_amount.to_string(), "10");
}
