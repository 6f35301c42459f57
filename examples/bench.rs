//! The performance harness: `cargo run --release --example bench -- [ROWS ...]`.
//!
//! Generates CSV exports (default 100,000 and 1,000,000 rows) in a scratch directory, then runs
//! each measurement 3 times in a child process of its own (so peak RSS is the measurement's
//! alone) and prints a table of medians: rows, wall seconds, rows/s, peak RSS, and the ratio to
//! the measurement's reference. Sending runs against the in-process fake BlueTape.

#[path = "support/export.rs"]
mod export;
#[path = "../tests/support/fake.rs"]
mod fake;
#[path = "support/harness.rs"]
mod harness;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use bluetape_sync::config::Config;
use bluetape_sync::pass::{PassOptions, run_pass};
use bluetape_sync::store::{Request, SendRecord, SendResult, Store};
use harness::Measured;

const RUNS: usize = 3;

type Error = Box<dyn std::error::Error>;

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--task") {
        return child(&args[1..]);
    }
    let sizes: Vec<u64> = if args.is_empty() {
        vec![100_000, 1_000_000]
    } else {
        args.iter().map(|a| a.parse()).collect::<Result<_, _>>()?
    };
    let scratch = tempfile::tempdir()?;
    println!(
        "| measurement | rows | wall s | rows/s | peak RSS MiB | ratio |\n|---|---|---|---|---|---|"
    );
    for rows in sizes {
        let csv = scratch.path().join(format!("export-{rows}.csv"));
        export::write("csv", rows, &csv)?;
        let floor = measure("csv-floor", rows, &csv, scratch.path())?;
        row("csv crate, ByteRecord read (floor)", rows, &floor, None);
        let unchanged = measure("unchanged", rows, &csv, scratch.path())?;
        row(
            "unchanged pass (file touched and read, watermark set)",
            rows,
            &unchanged,
            Some(Reference::Time(&floor)),
        );
        let untouched = measure("untouched", rows, &csv, scratch.path())?;
        row(
            "untouched pass (file not opened)",
            rows,
            &untouched,
            Some(Reference::Time(&floor)),
        );
        let store_floor = measure("store-floor", rows, &csv, scratch.path())?;
        row(
            "SQLite alone: each row's body inserted, one transaction (store floor)",
            rows,
            &store_floor,
            None,
        );
        let dry = measure("dry-run", rows, &csv, scratch.path())?;
        row(
            "first pass, --dry-run",
            rows,
            &dry,
            Some(Reference::Time(&store_floor)),
        );
        let first = measure("first-pass", rows, &csv, scratch.path())?;
        row(
            "first pass, staged for real (no HTTP)",
            rows,
            &first,
            Some(Reference::Time(&store_floor)),
        );
    }
    let small = scratch.path().join("export-send.csv");
    export::write("csv", 300, &small)?;
    let bare_1 = measure("bare-1", 300, &small, scratch.path())?;
    row(
        "bare HTTP client, one request at a time, fake answering in 20 ms (its real latency)",
        300,
        &bare_1,
        None,
    );
    let bare_16 = measure("bare-16", 8_000, &small, scratch.path())?;
    row(
        "bare HTTP client, 16 in flight, fake answering in 20 ms (what the fake allows)",
        8_000,
        &bare_16,
        None,
    );
    let naive = measure("naive-20ms", 300, &small, scratch.path())?;
    row(
        "send one at a time, 20 ms fake (reference)",
        300,
        &naive,
        None,
    );
    export::write("csv", 8_000, &small)?;
    let concurrent = measure("send-20ms", 8_000, &small, scratch.path())?;
    row(
        "send, concurrency 16, 20 ms fake",
        8_000,
        &concurrent,
        Some(Reference::Rate(300, &naive)),
    );
    row(
        "(the same, against the bare client's rate)",
        8_000,
        &concurrent,
        Some(Reference::Rate(8_000, &bare_16)),
    );
    row(
        "(the same, against a 20 ms latency)",
        8_000,
        &concurrent,
        Some(Reference::Limit(0.020)),
    );
    export::write("csv", 20_000, &small)?;
    let fast = measure("send-0ms", 20_000, &small, scratch.path())?;
    row(
        "send, concurrency 16, fake answering at once",
        20_000,
        &fast,
        None,
    );
    let writes = measure("store-writes", 100_000, &small, scratch.path())?;
    row(
        "store: record send results (no HTTP)",
        100_000,
        &writes,
        None,
    );
    // The hot functions of staging, alone.
    let phones = measure("phones", 100_000, &small, scratch.path())?;
    row("phone normalisation alone", 100_000, &phones, None);
    let dates = measure("timestamps", 100_000, &small, scratch.path())?;
    row("timestamp parsing alone (RFC 3339)", 100_000, &dates, None);
    Ok(())
}

/// What a measurement is compared with.
enum Reference<'a> {
    /// Its time against this one's.
    Time(&'a Measured),
    /// Its rate against this one's, which handled so many rows.
    Rate(u64, &'a Measured),
    /// Its rate against what 16 requests in flight allow at this latency (seconds).
    Limit(f64),
}

fn row(name: &str, rows: u64, m: &Measured, reference: Option<Reference<'_>>) {
    let rate = rows as f64 / m.wall;
    let ratio = match reference {
        Some(Reference::Time(r)) => format!("{:.2}x the floor's time", m.wall / r.wall),
        Some(Reference::Limit(per_request)) => {
            format!("{:.0}% of 16 / latency", 100.0 * rate * per_request / 16.0)
        }
        Some(Reference::Rate(n, r)) => {
            format!("{:.2}x its reference's rate", rate / (n as f64 / r.wall))
        }
        None => String::new(),
    };
    println!(
        "| {name} | {rows} | {:.3} | {:.0} | {:.1} | {ratio} |",
        m.wall, rate, m.rss_mib
    );
}

/// Runs `task` RUNS times in child processes; the medians.
fn measure(task: &str, rows: u64, csv: &Path, dir: &Path) -> Result<Measured, Error> {
    let mut runs = Vec::new();
    for run in 0..RUNS {
        let work = dir.join(format!("{task}-{rows}-{run}"));
        std::fs::create_dir_all(&work)?;
        let mut child = Command::new(std::env::current_exe()?);
        child
            .args(["--task", task, &rows.to_string()])
            .arg(csv)
            .arg(&work);
        runs.push(harness::run_child(task, &mut child)?);
        let _ = std::fs::remove_dir_all(&work);
    }
    Ok(harness::median(&runs))
}

/// An API body of the size a pass stores for the bench's records.
fn body_like(i: usize) -> String {
    format!(
        r#"{{"id":"C{i:08}","firstName":"First{i}","lastName":"Last{i}","emailAddress":"user{i}@example.com","cellPhoneNumber":"+16265550100","sourceModifiedDate":"2023-11-14T22:13:20.000Z"}}"#
    )
}

fn config(dir: &Path, csv: &Path, base_url: &str, concurrency: usize) -> Result<Config, Error> {
    harness::config(dir, base_url, csv, concurrency, "0s", "")
}

/// An endpoint that refuses connections: the pass stages, then stops at its first request.
const DEAD: &str = "http://127.0.0.1:9/genericBthubService";

fn child(args: &[String]) -> Result<(), Error> {
    let [task, rows, csv, dir] = args else {
        return Err("usage: --task TASK ROWS CSV DIR".into());
    };
    let rows: u64 = rows.parse()?;
    let (csv, dir) = (PathBuf::from(csv), PathBuf::from(dir));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let pass = |config: &Config, options: PassOptions| {
        runtime.block_on(run_pass(&config.pass, options, std::future::pending()))
    };
    let started;
    match task.as_str() {
        "csv-floor" => {
            started = Instant::now();
            let mut reader = csv::Reader::from_path(&csv)?;
            let mut record = csv::ByteRecord::new();
            let mut n = 0u64;
            while reader.read_byte_record(&mut record)? {
                n += 1;
            }
            assert_eq!(n, rows);
        }
        "unchanged" | "untouched" => {
            let config = config(&dir, &csv, DEAD, 4)?;
            pass(&config, PassOptions::default())?;
            // Everything was sent: the next pass has nothing new and nothing queued.
            rusqlite::Connection::open(&config.pass.store_path)?
                .execute("UPDATE records SET state = 'created'", [])?;
            if task == "unchanged" {
                // Touched (as an export job that rewrites the same rows does): read again.
                std::fs::File::options()
                    .write(true)
                    .open(&csv)?
                    .set_modified(std::time::SystemTime::now())?;
            }
            started = Instant::now();
            let report = pass(&config, PassOptions::default())?;
            if task == "unchanged" {
                // The newest record ties with the watermark: it is looked up, not skipped.
                assert_eq!(report.lanes[0].skipped, rows - 1);
            } else {
                // Not opened at all.
                assert_eq!(report.totals().read, 0);
            }
        }
        "dry-run" | "first-pass" => {
            let config = config(&dir, &csv, DEAD, 4)?;
            let dry_run = task == "dry-run";
            started = Instant::now();
            let report = pass(
                &config,
                PassOptions {
                    dry_run,
                    ..PassOptions::default()
                },
            )?;
            assert_eq!(report.totals().new, rows);
        }
        "store-floor" => {
            // The least any staging that keeps each record's body can write: the bodies alone.
            let mut conn = rusqlite::Connection::open(dir.join("floor.db"))?;
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", "NORMAL")?;
            conn.execute_batch("CREATE TABLE bodies (id TEXT NOT NULL, body TEXT NOT NULL)")?;
            started = Instant::now();
            let tx = conn.transaction()?;
            {
                let mut insert = tx.prepare("INSERT INTO bodies (id, body) VALUES (?1, ?2)")?;
                for i in 0..usize::try_from(rows)? {
                    insert.execute(rusqlite::params![format!("C{i:08}"), body_like(i)])?;
                }
            }
            tx.commit()?;
        }
        "bare-1" | "bare-16" => {
            // The fake answering in 20 ms, asked by a bare HTTP client with nothing around it:
            // the rate the fake itself allows at this concurrency.
            let fake = runtime.block_on(fake::FakeBlueTape::start());
            fake.forget_contents();
            fake.set_delay(Duration::from_millis(20));
            let in_flight: u64 = if task == "bare-1" { 1 } else { 16 };
            let client = reqwest::Client::new();
            let url = format!(
                "{}/integration/customer",
                fake.base_url().trim_end_matches('/')
            );
            started = Instant::now();
            runtime.block_on(async {
                let mut loops = tokio::task::JoinSet::new();
                for l in 0..in_flight {
                    let (client, url) = (client.clone(), url.clone());
                    loops.spawn(async move {
                        for i in 0..rows / in_flight {
                            client
                                .post(&url)
                                .header("X-Integration-AccountId", fake::ACCOUNT)
                                .header("X-BlueTape-Key", fake::KEY)
                                .body(format!(r#"{{"id":"L{l}-{i}"}}"#))
                                .send()
                                .await?;
                        }
                        Ok::<_, reqwest::Error>(())
                    });
                }
                while let Some(done) = loops.join_next().await {
                    done.map_err(|e| e.to_string())??;
                }
                Ok::<_, Error>(())
            })?;
        }
        "naive-20ms" | "send-20ms" | "send-0ms" => {
            let fake = runtime.block_on(fake::FakeBlueTape::start());
            fake.forget_contents();
            if task != "send-0ms" {
                fake.set_delay(Duration::from_millis(20));
            }
            let concurrency = if task == "naive-20ms" { 1 } else { 16 };
            // Queue everything first (the endpoint refuses), so the measured pass only sends.
            pass(
                &config(&dir, &csv, DEAD, concurrency)?,
                PassOptions::default(),
            )?;
            std::thread::sleep(Duration::from_millis(5));
            let config = config(&dir, &csv, &fake.base_url(), concurrency)?;
            started = Instant::now();
            let report = pass(&config, PassOptions::default())?;
            assert_eq!(report.totals().created, rows);
        }
        "store-writes" => {
            let mut store = Store::open(&dir.join("state.db"))?;
            let conn = rusqlite::Connection::open(dir.join("state.db"))?;
            conn.execute_batch("BEGIN")?;
            for i in 0..rows {
                conn.execute(
                    "INSERT INTO records (source, id, state, source_modified_ms, body, first_seen_pass, updated_at_ms)
                     VALUES ('default', ?1, 'pending', 0, '{}', 1, 0)",
                    [format!("C{i:08}")],
                )?;
            }
            conn.execute_batch("COMMIT")?;
            let results: Vec<SendRecord> = (0..rows)
                .map(|i| SendRecord {
                    id: format!("C{i:08}"),
                    pass: 1,
                    request: Request::Create,
                    attempts: 1,
                    last_status: Some(201),
                    at_ms: 0,
                    result: SendResult::Created {
                        blue_tape_id: format!("bt-{i}"),
                        sign_up_url: Some(format!("https://www.bluetape.com/signup?id={i}")),
                    },
                    history: Vec::new(),
                })
                .collect();
            started = Instant::now();
            for batch in results.chunks(512) {
                store.record_results("default", batch)?;
            }
        }
        "phones" => {
            let phones =
                bluetape_sync::record::phone::PhoneNormaliser::new(phonenumber::country::Id::US);
            // The first parse loads the metadata; time the steady state.
            phones.normalise("(626) 555-0100")?;
            let inputs: Vec<String> = (0..rows)
                .map(|i| format!("(626) 555-{:04}", i % 10_000))
                .collect();
            started = Instant::now();
            for input in &inputs {
                phones.normalise(input)?;
            }
        }
        "timestamps" => {
            let parser =
                bluetape_sync::source::timestamp::TimestampParser::new(chrono_tz::UTC, None);
            let inputs: Vec<String> = (0..rows)
                .map(|i| {
                    format!(
                        "2024-03-01T{:02}:{:02}:{:02}.000Z",
                        (i / 3600) % 24,
                        (i / 60) % 60,
                        i % 60
                    )
                })
                .collect();
            started = Instant::now();
            for input in &inputs {
                parser.parse(input)?;
            }
        }
        other => return Err(format!("unknown task {other}").into()),
    }
    let wall = started.elapsed().as_secs_f64();
    harness::report(wall);
    Ok(())
}
