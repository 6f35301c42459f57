//! Freshness, measured (BENCHMARKS.md): the daemon (`bluetape_sync::daemon::run`, as `run`
//! calls it) watching a CSV export, against the in-process fake BlueTape.
//!
//! `cargo run --release --example freshness -- latency`  time from a row appended to the
//!   customer created, over 20 appends, with `source.settle = "1s"`: p50 and p95;
//! `cargo run --release --example freshness -- burst`    100 appends in 2 s: the passes caused;
//! `cargo run --release --example freshness -- idle MINUTES [ROWS]`  an idle daemon with a
//!   `* * * * *` schedule and the watch on, over an untouched export (default 10 minutes,
//!   1,000,000 rows): the CPU seconds it used and its RSS.

#[path = "support/export.rs"]
mod export;
#[path = "../tests/support/fake.rs"]
mod fake;
#[path = "support/harness.rs"]
mod harness;

use std::io::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use bluetape_sync::config::Config;
use bluetape_sync::pass::{PassOptions, run_pass};
use tokio::sync::oneshot;

type Error = Box<dyn std::error::Error>;

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let dir = tempfile::tempdir()?;
    match args.first().map(String::as_str) {
        Some("latency") => runtime.block_on(latency(dir.path())),
        Some("burst") => runtime.block_on(burst(dir.path())),
        Some("idle") => {
            let minutes: u64 = args.get(1).map_or(Ok(10), |m| m.parse())?;
            let rows: u64 = args.get(2).map_or(Ok(1_000_000), |r| r.parse())?;
            runtime.block_on(idle(dir.path(), minutes, rows))
        }
        _ => Err("usage: freshness latency | burst | idle [MINUTES] [ROWS]".into()),
    }
}

fn config(dir: &Path, base_url: &str, cron: &str, settle: &str) -> Result<Config, Error> {
    let schedule = format!("[schedule]\ncron = \"{cron}\"\nwatch = true\n");
    harness::config(dir, base_url, &dir.join("export.csv"), 8, settle, &schedule)
}

/// Starts the daemon; the sender stops it.
fn daemon(config: Config) -> (oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    let (stop, stopped) = oneshot::channel::<()>();
    let daemon = config.into_daemon();
    let task = tokio::spawn(async move {
        let shutdown = async {
            let _ = stopped.await;
        };
        if let Err(e) = bluetape_sync::daemon::run(daemon, PassOptions::default(), shutdown).await {
            eprintln!("daemon: {e}");
        }
    });
    (stop, task)
}

async fn until(limit: Duration, done: impl Fn() -> bool) -> Result<(), Error> {
    let deadline = Instant::now() + limit;
    while !done() {
        if Instant::now() > deadline {
            return Err("timed out".into());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(())
}

fn append(dir: &Path, id: &str) -> Result<(), Error> {
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(dir.join("export.csv"))?;
    let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ");
    writeln!(
        file,
        "{id},First,Last,{id}@example.com,(626) 555-0100,{now},,Company,\"1 Main Street\""
    )?;
    Ok(())
}

fn passes(dir: &Path) -> Result<i64, Error> {
    let conn = rusqlite::Connection::open(dir.join("state.db"))?;
    Ok(conn.query_row("SELECT COUNT(*) FROM passes", [], |r| r.get(0))?)
}

async fn latency(dir: &Path) -> Result<(), Error> {
    let fake = fake::FakeBlueTape::start().await;
    export::write("csv", 1000, &dir.join("export.csv"))?;
    let (stop, task) = daemon(config(dir, &fake.base_url(), "0 0 0 1 1 *", "1s")?);
    until(Duration::from_secs(60), || fake.created_ids().len() == 1000).await?;
    let mut samples = Vec::new();
    for i in 0..20 {
        let id = format!("LATE-{i:02}");
        let started = Instant::now();
        append(dir, &id)?;
        until(Duration::from_secs(30), || fake.creations(&id) == 1).await?;
        samples.push(started.elapsed());
    }
    let _ = stop.send(());
    task.await?;
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 * q).ceil() as usize).saturating_sub(1)];
    println!(
        "appended row -> created, settle 1s, {} appends: p50 {:.3} s, p95 {:.3} s, min {:.3} s, \
         max {:.3} s",
        samples.len(),
        at(0.5).as_secs_f64(),
        at(0.95).as_secs_f64(),
        samples[0].as_secs_f64(),
        samples[samples.len() - 1].as_secs_f64()
    );
    Ok(())
}

async fn burst(dir: &Path) -> Result<(), Error> {
    let fake = fake::FakeBlueTape::start().await;
    export::write("csv", 1000, &dir.join("export.csv"))?;
    let (stop, task) = daemon(config(dir, &fake.base_url(), "0 0 0 1 1 *", "1s")?);
    until(Duration::from_secs(60), || fake.created_ids().len() == 1000).await?;
    let before = passes(dir)?;
    let started = Instant::now();
    for i in 0..100 {
        append(dir, &format!("BURST-{i:03}"))?;
        tokio::time::sleep_until((started + Duration::from_millis(20 * (i + 1))).into()).await;
    }
    until(Duration::from_secs(60), || fake.created_ids().len() == 1100).await?;
    let caused = passes(dir)? - before;
    let _ = stop.send(());
    task.await?;
    println!(
        "100 appends in {:.2} s (settle 1s): {caused} passes, all 100 created {:.2} s after the \
         first append",
        Duration::from_millis(2000).as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// CPU seconds (user + system) this process has used, from /proc/self/stat.
fn cpu_seconds() -> Result<f64, Error> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    let after = stat.rsplit_once(") ").ok_or("stat")?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let ticks: f64 = fields[11].parse::<f64>()? + fields[12].parse::<f64>()?;
    Ok(ticks / 100.0)
}

fn rss_mib(key: &str) -> Result<f64, Error> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let kib = status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<f64>().ok())
        .ok_or("status")?;
    Ok(kib / 1024.0)
}

async fn idle(dir: &Path, minutes: u64, rows: u64) -> Result<(), Error> {
    let fake = fake::FakeBlueTape::start().await;
    export::write("csv", rows, &dir.join("export.csv"))?;
    // Everything was read and created before: stage against a dead endpoint, mark it created.
    let staging = config(
        dir,
        "http://127.0.0.1:9/genericBthubService",
        "0 0 0 1 1 *",
        "0s",
    )?;
    let _ = run_pass(
        &staging.pass,
        PassOptions::default(),
        std::future::pending(),
    )
    .await;
    rusqlite::Connection::open(dir.join("state.db"))?
        .execute("UPDATE records SET state = 'created'", [])?;
    let before_passes = passes(dir)?;
    let (stop, task) = daemon(config(dir, &fake.base_url(), "* * * * *", "5s")?);
    // The start-up pass, then idle.
    until(Duration::from_secs(60), || {
        passes(dir).is_ok_and(|n| n > before_passes)
    })
    .await?;
    let cpu_before = cpu_seconds()?;
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(minutes * 60)).await;
    let cpu = cpu_seconds()? - cpu_before;
    let ticks = passes(dir)? - before_passes - 1;
    let _ = stop.send(());
    task.await?;
    println!(
        "idle daemon, `* * * * *` and watch on, untouched {rows}-row export, {:.1} min: {ticks} \
         scheduled passes, {cpu:.2} CPU s in total, RSS {:.1} MiB (peak {:.1} MiB, with the \
         staging pass before); requests sent {}",
        started.elapsed().as_secs_f64() / 60.0,
        rss_mib("VmRSS:")?,
        rss_mib("VmHWM:")?,
        fake.received().len()
    );
    Ok(())
}
