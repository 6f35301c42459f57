//! `cargo run --example demo`: a real pass of `config/sample-export.csv` and its invoices
//! (`config/sample-invoices.csv`) against a fake BlueTape started on 127.0.0.1, then a second
//! pass (nothing new), then a new customer and its invoice appended to the exports and a third
//! pass that sends only those, the customer first.

#[path = "../tests/support/fake.rs"]
mod fake;

use std::collections::HashMap;
use std::path::Path;

use bluetape_sync::config::Config;
use bluetape_sync::pass::{PassOptions, run_pass};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter("warn,bluetape_sync=info")
        .with_target(false)
        .init();

    let fake = fake::FakeBlueTape::start().await;
    let scratch = tempfile::tempdir()?;
    let export = scratch.path().join("export.csv");
    let config_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    std::fs::copy(config_dir.join("sample-export.csv"), &export)?;
    let invoices = scratch.path().join("invoices.csv");
    std::fs::copy(config_dir.join("sample-invoices.csv"), &invoices)?;
    let env = HashMap::from([
        ("BLUETAPE_SYNC__API__BASE_URL".to_owned(), fake.base_url()),
        (
            "BLUETAPE_SYNC__STORE__PATH".to_owned(),
            scratch.path().join("state.db").display().to_string(),
        ),
        (
            "BLUETAPE_SYNC__SOURCE__PATH".to_owned(),
            export.display().to_string(),
        ),
        (
            "BLUETAPE_SYNC__INVOICES__PATH".to_owned(),
            invoices.display().to_string(),
        ),
    ]);
    let config = Config::load_with_env(&config_dir.join("demo.toml"), Some(env))?;
    println!("fake BlueTape listening at {}", fake.base_url());

    println!(
        "\n== pass 1: the sample export (8 rows: 2 invalid, 1 duplicate id) and 4 invoices \
         (1 for a rejected customer, 1 draft) =="
    );
    pass(&config).await?;
    for r in fake.received() {
        println!(
            "  BlueTape got POST {} id={} -> {}",
            r.path,
            r.id().unwrap_or("?"),
            r.status.map_or("dropped".into(), |s| s.to_string())
        );
    }

    println!("\n== pass 2: the same export: nothing new ==");
    let before = fake.request_count();
    pass(&config).await?;
    println!("  requests sent: {}", fake.request_count() - before);

    println!("\n== pass 3: the accounting system adds a customer and its invoice ==");
    let mut text = std::fs::read_to_string(&export)?;
    text.push_str(
        "CUST-1008,Frances,Allen,frances.allen@example.com,(626) 555-0108,2024-03-05 10:00:00,\n",
    );
    std::fs::write(&export, text)?;
    let mut text = std::fs::read_to_string(&invoices)?;
    text.push_str(
        "INV-2005,1005,CUST-1008,2024-03-05,2024-04-04,19.99,0.00,19.99,2024-03-05 10:05:00,Open\n",
    );
    std::fs::write(&invoices, text)?;
    let before = fake.request_count();
    pass(&config).await?;
    for r in &fake.received()[before..] {
        println!(
            "  BlueTape got POST {} id={} -> {}",
            r.path,
            r.id().unwrap_or("?"),
            r.status.map_or("dropped".into(), |s| s.to_string())
        );
    }
    Ok(())
}

async fn pass(config: &Config) -> Result<(), Box<dyn std::error::Error>> {
    let report = run_pass(&config.pass, PassOptions::default(), std::future::pending()).await?;
    println!("  summary: {}", report.summary());
    let exit = bluetape_sync::cli::exit::Exit::from(report.outcome());
    println!("  exit code would be {}", exit.code());
    if let Some(problem) = report.problem() {
        println!("  {problem}");
    }
    Ok(())
}
