//! The invoice harness: `cargo run --release --example bench_invoices -- [CUSTOMERS]`.
//!
//! Generates a customer export (default 100,000 rows) and an invoice export of three invoices a
//! customer, then times, each 3 times in a child process of its own (so peak RSS is the pass's
//! alone), a first pass of customers alone and of both kinds, dry and real against the fake
//! BlueTape (answering at once, in this process, keeping no bodies), and an unchanged pass over
//! both. The invoices' figures are the difference between a pass of both and one of customers
//! alone, which the invoices follow in every pass.

#[path = "support/export.rs"]
mod export;
#[path = "../tests/support/fake.rs"]
mod fake;
#[path = "support/harness.rs"]
mod harness;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use bluetape_sync::config::Config;
use bluetape_sync::pass::{PassOptions, PassReport, run_pass};
use harness::Measured;

const RUNS: usize = 3;
const INVOICES_PER_CUSTOMER: u64 = 3;

type Error = Box<dyn std::error::Error>;

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--task") {
        return child(&args[1..]);
    }
    let customers: u64 = match args.first() {
        Some(n) => n.parse()?,
        None => 100_000,
    };
    let invoices = customers * INVOICES_PER_CUSTOMER;
    let scratch = tempfile::tempdir()?;
    let (customers_csv, invoices_csv) = (
        scratch.path().join("customers.csv"),
        scratch.path().join("invoices.csv"),
    );
    export::write("csv", customers, &customers_csv)?;
    export::write_invoices(invoices, &invoices_csv)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let exports = Exports {
        customers: &customers_csv,
        invoices: &invoices_csv,
        dir: scratch.path(),
        runtime: &runtime,
    };
    println!(
        "| measurement | customers | invoices | wall s | rows/s | peak RSS MiB |\n|---|---|---|---|---|---|"
    );
    let rate = |rows: u64, wall: f64| rows as f64 / wall;
    for real in [false, true] {
        let how = if real {
            "real, fake answering at once"
        } else {
            "--dry-run"
        };
        let alone = exports.measure(if real {
            "real-customers"
        } else {
            "dry-customers"
        })?;
        println!(
            "| first pass, customers alone, {how} | {customers} | 0 | {:.2} | {:.0} | {:.1} |",
            alone.wall,
            rate(customers, alone.wall),
            alone.rss_mib
        );
        let both = exports.measure(if real { "real-both" } else { "dry-both" })?;
        println!(
            "| first pass, customers then invoices, {how} | {customers} | {invoices} | {:.2} | {:.0} | {:.1} |",
            both.wall,
            rate(customers + invoices, both.wall),
            both.rss_mib
        );
        let extra = both.wall - alone.wall;
        println!(
            "| (the invoices' part: the difference) | | {invoices} | {extra:.2} | {:.0} | |",
            rate(invoices, extra)
        );
    }
    let unchanged = exports.measure("unchanged-both")?;
    println!(
        "| unchanged pass over both (files touched, read, nothing sent) | {customers} | {invoices} | {:.2} | {:.0} | {:.1} |",
        unchanged.wall,
        rate(customers + invoices, unchanged.wall),
        unchanged.rss_mib
    );
    Ok(())
}

struct Exports<'a> {
    customers: &'a Path,
    invoices: &'a Path,
    dir: &'a Path,
    runtime: &'a tokio::runtime::Runtime,
}

impl Exports<'_> {
    /// Runs `task` RUNS times in child processes, each against a fake of its own (in this
    /// process, so the child's RSS is the pass's alone); the medians.
    fn measure(&self, task: &str) -> Result<Measured, Error> {
        let mut runs = Vec::new();
        for run in 0..RUNS {
            let fake = self.runtime.block_on(fake::FakeBlueTape::start());
            fake.forget_contents();
            let work = self.dir.join(format!("{task}-{run}"));
            std::fs::create_dir_all(&work)?;
            let mut child = Command::new(std::env::current_exe()?);
            child
                .args(["--task", task])
                .args([self.customers, self.invoices, &work])
                .arg(fake.base_url());
            runs.push(harness::run_child(task, &mut child)?);
            let _ = std::fs::remove_dir_all(&work);
        }
        Ok(harness::median(&runs))
    }
}

fn child(args: &[String]) -> Result<(), Error> {
    let [task, customers, invoices, dir, base_url] = args else {
        return Err("usage: --task TASK CUSTOMERS INVOICES DIR BASE_URL".into());
    };
    let (customers, invoices, dir) = (
        PathBuf::from(customers),
        PathBuf::from(invoices),
        PathBuf::from(dir),
    );
    let with_invoices = format!(
        "[invoices]\npath = \"{}\"\nsettle = \"0s\"\nlookback = \"0s\"\n",
        invoices.display()
    );
    let more = match task.as_str() {
        "dry-customers" | "real-customers" => "",
        _ => with_invoices.as_str(),
    };
    // 16 in flight, as the customer benchmarks send.
    let config = harness::config(&dir, base_url, &customers, 16, "0s", more)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let pass = |config: &Config, options: PassOptions| -> Result<PassReport, Error> {
        Ok(runtime.block_on(run_pass(&config.pass, options, std::future::pending()))?)
    };
    let dry_run = task.starts_with("dry");
    if task == "unchanged-both" {
        // The first pass sends everything; then both files are touched (as an export job that
        // rewrites the same rows does) and read again.
        let first = pass(&config, PassOptions::default())?;
        check_sent(&first)?;
        for file in [&customers, &invoices] {
            std::fs::File::options()
                .write(true)
                .open(file)?
                .set_modified(std::time::SystemTime::now())?;
        }
    }
    let started = Instant::now();
    let report = pass(
        &config,
        PassOptions {
            dry_run,
            ..PassOptions::default()
        },
    )?;
    let wall = started.elapsed().as_secs_f64();
    match task.as_str() {
        "unchanged-both" => {
            let sent = report.totals().created;
            if sent != 0 || report.requests.success != 0 {
                return Err(format!("an unchanged pass sent {sent}").into());
            }
        }
        _ if dry_run => {
            let (would, expected) = (report.would_send(), report.totals().new);
            if would != expected {
                return Err(format!("a dry run would send {would} of {expected}").into());
            }
        }
        _ => check_sent(&report)?,
    }
    harness::report(wall);
    Ok(())
}

/// Every record read was created.
fn check_sent(report: &PassReport) -> Result<(), Error> {
    let all_sent = (report.lanes.iter())
        .all(|l| l.counts.created == l.counts.new && l.counts.new > 0 && l.waiting == 0);
    if all_sent {
        return Ok(());
    }
    Err(format!("not everything was sent: {}", report.summary()).into())
}
