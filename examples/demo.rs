//! `cargo run --example demo`: a real pass of `config/sample-export.csv` against a fake
//! BlueTape started on 127.0.0.1, then a second pass (nothing new), then a new customer
//! appended to the export and a third pass that sends only that one.

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
    ]);
    let config = Config::load_with_env(&config_dir.join("demo.toml"), Some(env))?;
    println!("fake BlueTape listening at {}", fake.base_url());

    println!("\n== pass 1: the sample export (8 rows: 2 invalid, 1 duplicate id) ==");
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

    println!("\n== pass 3: the accounting system adds a customer ==");
    let mut text = std::fs::read_to_string(&export)?;
    text.push_str(
        "CUST-1008,Frances,Allen,frances.allen@example.com,(626) 555-0108,2024-03-05 10:00:00,\n",
    );
    std::fs::write(&export, text)?;
    let before = fake.request_count();
    pass(&config).await?;
    for r in &fake.received()[before..] {
        println!(
            "  BlueTape got id={} -> {:?}",
            r.id().unwrap_or("?"),
            r.status
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
