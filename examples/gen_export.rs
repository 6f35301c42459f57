//! Writes a synthetic export for measuring: `cargo run --release --example gen_export --
//! <csv|ndjson|quickbooks-online|invoices> <rows> <path>`. Records are valid customers with distinct
//! ids and increasing modified dates; the QuickBooks form carries the fields a real customer
//! query has, about 1 KB a record, so a million rows is a 1 GB-class file. `invoices` writes
//! a CSV of invoices, three to each customer of the other forms.

#[path = "support/export.rs"]
mod export;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, format, rows, path] = args.as_slice() else {
        return Err(
            "usage: gen_export <csv|ndjson|quickbooks-online|invoices> <rows> <path>".into(),
        );
    };
    let path = std::path::Path::new(path);
    match format.as_str() {
        "invoices" => export::write_invoices(rows.parse()?, path),
        _ => export::write(format, rows.parse()?, path),
    }
}
