//! The store shared by several processes (SPEC §10): a pass with customers and invoices while
//! the operator's commands run in a loop beside it; the pass's SQLite lock held from start to
//! end; one writer per store *file* (a symlink is the store, a hard link is refused); empty and
//! foreign stores refused; commands on a missing store create nothing; bounded history.

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use support::{Daemon, Fixture, HEADER, row};

const INVOICES: &str =
    "\n[invoices]\npath = \"invoices.csv\"\nlookback = \"0s\"\nsettle = \"0s\"\n";

const INVOICE_HEADER: &str = "id,invoiceNumber,customerId,invoiceDate,dueDate,subTotal,taxAmount,\
                              totalAmount,amountDue,sourceModifiedDate,status,lines";

/// `n` customers `C0001..` and an open invoice `I0001..` for each.
fn customers_and_invoices(fx: &Fixture, n: usize) {
    let date = |i: usize| format!("2024-03-01T10:{:02}:{:02}Z", (i / 60) % 60, i % 60);
    let customers: Vec<String> = (1..=n)
        .map(|i| row(&format!("C{i:04}"), &date(i)))
        .collect();
    fx.write_export(&format!("{HEADER}\n{}\n", customers.join("\n")));
    let invoices: Vec<String> = (1..=n)
        .map(|i| {
            format!(
                "I{i:04},N-{i},C{i:04},2024-03-01,2024-03-31,10,0,10,10,{},open,",
                date(i)
            )
        })
        .collect();
    fx.write_file(
        "invoices.csv",
        &format!("{INVOICE_HEADER}\n{}\n", invoices.join("\n")),
    );
}

fn integrity(path: &Path) -> String {
    rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .and_then(|c| c.query_row("PRAGMA integrity_check", [], |r| r.get(0)))
        .expect("integrity check")
}

/// What no command may ever say about the store while a pass runs beside it.
fn damaged(text: &str) -> bool {
    [
        "disk I/O error",
        "malformed",
        "not a database",
        "database is locked",
    ]
    .iter()
    .any(|needle| text.contains(needle))
}

/// The operator's commands, as an operator would run them while the daemon works.
const COMMANDS: &[&[&str]] = &[
    &["status"],
    &["status", "--json"],
    &["failures"],
    &["failures", "--format", "csv"],
    &["show", "--id", "C0001"],
    &["export"],
    &["check"],
    &["retry"],
];

#[tokio::test]
async fn operator_commands_in_a_loop_never_break_a_pass_or_the_store() {
    let fx = Fixture::with_config(INVOICES).await;
    customers_and_invoices(&fx, 150);
    // 300 requests at 30 ms each, 4 at a time: the pass sends for about 2 s.
    fx.fake.set_delay(Duration::from_millis(30));
    let mut pass = fx.spawn(&["--once"]);
    let mut rounds = 0;
    let mut ran = 0;
    let code = loop {
        if let Some(status) = pass.try_wait().expect("wait") {
            break status.code();
        }
        for args in COMMANDS {
            let run = fx.run(args).await;
            ran += 1;
            assert!(
                !damaged(&run.stderr) && !damaged(&run.stdout),
                "`{}` beside a pass:\n{}{}",
                args.join(" "),
                run.stdout,
                run.stderr
            );
            // `show` of a customer not yet read is "no such record" (1); the rest succeed.
            let allowed: &[i32] = if args[0] == "show" { &[0, 1] } else { &[0] };
            assert!(
                allowed.contains(&run.code),
                "`{}` exited {}: {}",
                args.join(" "),
                run.code,
                run.stderr
            );
        }
        rounds += 1;
    };
    let output = pass.wait_with_output().await.expect("pass");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        rounds >= 2,
        "the commands must run beside the pass (only {rounds} rounds, {ran} commands)"
    );
    for i in 1..=150 {
        let (customer, invoice) = (format!("C{i:04}"), format!("I{i:04}"));
        assert_eq!(fx.fake.posts(&customer), 1, "{customer} sent once");
        assert_eq!(fx.fake.creations(&customer), 1, "{customer} created once");
        assert_eq!(fx.fake.invoice_posts(&invoice), 1, "{invoice} sent once");
    }
    assert_eq!(integrity(&fx.store_path()), "ok");
    assert_eq!(fx.count_in("created"), 300);
}

/// Whether process `pid` holds a POSIX lock on the file at `path`: from the `lock:` lines of
/// `/proc/<pid>/fdinfo/<fd>` of a descriptor it has open on that file (the kernel lists there
/// the locks the process holds on the file, whole, in one small read).
fn holds_lock_on(pid: u32, path: &Path) -> bool {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    fds.filter_map(Result::ok)
        .filter(|fd| std::fs::read_link(fd.path()).is_ok_and(|target| target == path))
        .filter_map(|fd| {
            std::fs::read_to_string(format!(
                "/proc/{pid}/fdinfo/{}",
                fd.file_name().to_string_lossy()
            ))
            .ok()
        })
        .any(|info| info.lines().any(|line| line.starts_with("lock:")))
}

#[tokio::test]
async fn a_pass_keeps_its_sqlite_lock_on_the_store_from_start_to_end() {
    let fx = Fixture::with_config(INVOICES).await;
    customers_and_invoices(&fx, 100);
    // A first pass makes the store; the second sends 200 records for about a second.
    assert_eq!(fx.run(&["--once"]).await.code, 0);
    customers_and_invoices(&fx, 200);
    fx.fake.set_delay(Duration::from_millis(20));
    let store = std::fs::canonicalize(fx.store_path()).expect("store");
    let mut pass = fx.spawn(&["--once"]);
    let pid = pass.id().expect("pid");
    // Every look from the first that finds the lock until the pass has sent its last
    // request must find it: a lock lost in between is a lock another process can take.
    let mut seen = Vec::new();
    let code = loop {
        let held = holds_lock_on(pid, &store);
        let sent = fx.fake.request_count();
        if let Some(status) = pass.try_wait().expect("wait") {
            break status.code();
        }
        seen.push((held, sent));
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    assert_eq!(code, Some(0));
    let total = fx.fake.request_count();
    let first = seen.iter().position(|(held, _)| *held);
    let first = first.expect("the pass never held a lock on the store");
    let while_sending: Vec<_> = seen[first..]
        .iter()
        .filter(|(_, sent)| *sent < total)
        .collect();
    assert!(
        while_sending.len() >= 20,
        "too few looks while sending ({}) to tell",
        while_sending.len()
    );
    let lost: Vec<_> = while_sending.iter().filter(|(held, _)| !held).collect();
    assert!(
        lost.is_empty(),
        "the pass lost its lock on the store in {} of {} looks while sending (after these \
         many requests: {:?}; {total} in all)",
        lost.len(),
        while_sending.len(),
        lost.iter().map(|(_, sent)| sent).collect::<Vec<_>>()
    );
    assert_eq!(fx.fake.invoice_posts("I0200"), 1);
}

#[tokio::test]
async fn a_symlink_to_the_store_is_the_store_one_writer_at_a_time() {
    let fx = Fixture::new().await;
    fx.write_export(&support::export_of(200));
    std::os::unix::fs::symlink(fx.store_path(), fx.path("other-name.db")).expect("symlink");
    fx.fake.set_delay(Duration::from_millis(20));
    let first = Daemon::spawn(&fx, &["--once"], &[]);
    assert!(
        first
            .wait_for_log("pass started", Duration::from_secs(30))
            .await,
        "{}",
        first.log()
    );
    let link = fx.path("other-name.db");
    let second = fx
        .run_with_env(
            &["--once"],
            &[("BLUETAPE_SYNC__STORE__PATH", link.to_str().expect("utf-8"))],
        )
        .await;
    assert_eq!(second.code, 75, "{}", second.stderr);
    assert!(
        second.stderr.contains("another bluetape-sync")
            && second.stderr.contains(&format!("pid {}", first.pid())),
        "{}",
        second.stderr
    );
    let first = first.wait(Duration::from_secs(60)).await;
    assert_eq!(first.code, 0, "{}", first.stderr);
    for i in 1..=200 {
        assert_eq!(fx.fake.posts(&format!("C{i:04}")), 1, "C{i:04} sent once");
    }
}

#[tokio::test]
async fn a_store_with_two_names_is_refused() {
    let fx = Fixture::new().await;
    fx.write_export(&support::export_of(3));
    assert_eq!(fx.run(&["--once"]).await.code, 0);
    std::fs::hard_link(fx.store_path(), fx.path("second-name.db")).expect("hard link");
    fx.write_export(&support::export_of(5));
    for args in [&["--once"][..], &["status"][..]] {
        let run = fx.run(args).await;
        assert_eq!(run.code, 1, "{}", run.stderr);
        assert!(
            run.stderr.contains("has 2 names (hard links)")
                && run.stderr.contains("remove the other names"),
            "{}",
            run.stderr
        );
    }
    assert_eq!(fx.fake.request_count(), 3, "nothing more sent");
    std::fs::remove_file(fx.path("second-name.db")).expect("unlink");
    assert_eq!(fx.run(&["--once"]).await.code, 0);
    assert_eq!(fx.fake.request_count(), 5);
}

#[tokio::test]
async fn an_empty_or_foreign_store_is_refused_never_started_afresh() {
    let fx = Fixture::new().await;
    fx.write_export(&support::export_of(3));
    std::fs::write(fx.store_path(), b"").expect("empty store");
    for args in [&["--once"][..], &["status", "--json"][..], &["run"][..]] {
        let run = fx.run(args).await;
        assert_eq!(run.code, 1, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("is empty (0 bytes)")
                && run
                    .stderr
                    .contains("every customer and invoice is sent again")
                && run.stderr.contains("export --fetch-missing"),
            "{}",
            run.stderr
        );
    }
    assert_eq!(std::fs::metadata(fx.store_path()).expect("store").len(), 0);
    assert_eq!(fx.fake.request_count(), 0);

    // A SQLite file of another program's.
    std::fs::remove_file(fx.store_path()).expect("remove");
    rusqlite::Connection::open(fx.store_path())
        .and_then(|c| {
            c.execute_batch("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('x');")
        })
        .expect("foreign store");
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("holds no bluetape-sync data"),
        "{}",
        run.stderr
    );
    assert_eq!(fx.fake.request_count(), 0);
}

#[tokio::test]
async fn commands_on_a_missing_store_create_nothing() {
    let fx = Fixture::new().await;
    fx.write_export(&support::export_of(2));
    let store = fx.path("not-yet/state.db");
    let env = [("BLUETAPE_SYNC__STORE__PATH", store.to_str().expect("utf-8"))];
    let status = fx.run_with_env(&["status", "--json"], &env).await;
    assert_eq!(status.code, 0, "{}", status.stderr);
    let json: serde_json::Value = serde_json::from_str(&status.stdout).expect("json");
    assert_eq!(json["watermark"], serde_json::Value::Null);
    assert_eq!(json["last_pass"], serde_json::Value::Null);
    assert_eq!(json["passes"], serde_json::json!([]));
    for state in ["pending", "created", "exists", "rejected", "failed"] {
        assert_eq!(json["counts"][state], 0, "{state}");
    }
    let failures = fx
        .run_with_env(&["failures", "--format", "csv"], &env)
        .await;
    assert_eq!(failures.code, 0, "{}", failures.stderr);
    assert_eq!(failures.stdout.lines().count(), 1, "{}", failures.stdout);
    let export = fx.run_with_env(&["export"], &env).await;
    assert_eq!(export.code, 0, "{}", export.stderr);
    assert_eq!(
        export.stdout.trim(),
        "id,emailAddress,blueTapeId,signUpUrl,created_at"
    );
    assert_eq!(
        fx.run_with_env(&["show", "--id", "C0001"], &env).await.code,
        1
    );
    assert_eq!(fx.run_with_env(&["check"], &env).await.code, 0);
    assert!(
        !fx.path("not-yet").exists(),
        "a command that reads created the store's folder"
    );
}

/// `(passes, events)` rows in the store.
fn history(path: &Path) -> (i64, i64) {
    let conn = rusqlite::Connection::open(path).expect("store");
    let count = |table: &str| {
        conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .expect("count")
    };
    (count("passes"), count("events"))
}

#[tokio::test]
async fn history_older_than_keep_history_is_pruned_but_the_last_hundred_passes_stay() {
    let fx = Fixture::new().await;
    fx.write_export(&support::export_of(3));
    assert_eq!(fx.run(&["--once"]).await.code, 0);
    // 150 passes and their events, each a day older than the one after it.
    let day = 24 * 3600 * 1000_i64;
    let now = chrono::Utc::now().timestamp_millis();
    {
        let conn = rusqlite::Connection::open(fx.store_path()).expect("store");
        conn.execute_batch("DELETE FROM passes; DELETE FROM events;")
            .expect("clear");
        for age in (1..=150).rev() {
            let at = now - age * day;
            conn.execute(
                "INSERT INTO passes (source, started_at_ms, finished_at_ms, outcome)
                 VALUES ('default', ?1, ?1, 'ok')",
                [at],
            )
            .expect("pass");
            conn.execute(
                "INSERT INTO events (source, record_id, at_ms, kind) VALUES ('default', 'C0001', ?1, 'queued')",
                [at],
            )
            .expect("event");
        }
    }
    assert_eq!(history(&fx.store_path()), (150, 150));
    // The default keeps 90 days: of 151 passes the last 100 stay (older than 90 days or not);
    // events keep their 90 days.
    assert_eq!(fx.run(&["--once"]).await.code, 0);
    let (passes, events) = history(&fx.store_path());
    assert_eq!(passes, 100);
    assert_eq!(events, 89);
    // A shorter history keeps the last 100 passes all the same.
    let short = [("BLUETAPE_SYNC__STORE__KEEP_HISTORY", "2d")];
    assert_eq!(fx.run_with_env(&["--once"], &short).await.code, 0);
    assert_eq!(history(&fx.store_path()), (100, 1));
}

#[tokio::test]
async fn ticks_while_a_pass_runs_are_counted_on_it_and_logged_once() {
    let fx = Fixture::with_config("\n[schedule]\ncron = \"* * * * * *\"\nwatch = false\n").await;
    fx.write_export(&support::export_of(40));
    // 40 customers at 300 ms each, 4 at a time: the first pass runs for about 3 s.
    fx.fake.set_delay(Duration::from_millis(300));
    let daemon = Daemon::spawn(&fx, &["run"], &[]);
    let until = Instant::now() + Duration::from_secs(60);
    while fx.fake.request_count() < 40 && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        daemon
            .wait_for_log("pass finished", Duration::from_secs(60))
            .await,
        "{}",
        daemon.log()
    );
    daemon.terminate();
    let run = daemon.wait(Duration::from_secs(30)).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let status = fx.run(&["status", "--json"]).await;
    let json: serde_json::Value = serde_json::from_str(&status.stdout).expect("json");
    let passes = json["passes"].as_array().expect("passes");
    let outcomes: BTreeMap<String, usize> =
        passes.iter().fold(BTreeMap::new(), |mut seen, pass| {
            *seen
                .entry(pass["outcome"].as_str().unwrap_or_default().to_owned())
                .or_default() += 1;
            seen
        });
    assert!(!outcomes.contains_key("skipped"), "{outcomes:?}");
    let first = passes.last().expect("the first pass");
    let skipped = first["skipped_ticks"].as_u64().expect("skipped_ticks");
    assert!(skipped >= 1, "{first}");
    let passes_with_skips = passes
        .iter()
        .filter(|p| p["skipped_ticks"].as_u64() > Some(0))
        .count();
    let warned = run.stderr.matches("previous one is still running").count();
    assert_eq!(
        warned, passes_with_skips,
        "one line per pass, not one per tick:\n{}",
        run.stderr
    );
}

/// How long the daemon and `status` share the store (`BLUETAPE_SYNC_SOAK_SECONDS`, default 60).
fn soak() -> Duration {
    let seconds = std::env::var("BLUETAPE_SYNC_SOAK_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    Duration::from_secs(seconds)
}

#[tokio::test]
async fn a_daemon_with_status_every_half_second_for_a_minute_keeps_the_store_whole() {
    let fx = Fixture::with_config(&format!(
        "{INVOICES}\n[schedule]\ncron = \"*/2 * * * * *\"\n"
    ))
    .await;
    customers_and_invoices(&fx, 10);
    fx.fake.set_delay(Duration::from_millis(20));
    let daemon = Daemon::spawn(&fx, &["run"], &[]);
    let started = Instant::now();
    let mut written = 10;
    let mut looks = 0;
    let mut next_batch = Instant::now() + Duration::from_secs(5);
    while started.elapsed() < soak() {
        let run = fx.run(&["status", "--json"]).await;
        looks += 1;
        assert!(
            run.code == 0 && !damaged(&run.stderr),
            "status beside the daemon: {}",
            run.stderr
        );
        serde_json::from_str::<serde_json::Value>(&run.stdout).expect("status --json");
        assert!(!damaged(&daemon.log()), "{}", daemon.log());
        if Instant::now() >= next_batch {
            written += 10;
            customers_and_invoices(&fx, written);
            next_batch += Duration::from_secs(5);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let all = 2 * written;
    assert!(
        fx.wait_for(Duration::from_secs(120), |f| f.fake.request_count() >= all)
            .await,
        "{} of {all} sent:\n{}",
        fx.fake.request_count(),
        daemon.log()
    );
    daemon.terminate();
    let run = daemon.wait(Duration::from_secs(60)).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!damaged(&run.stderr), "{}", run.stderr);
    for i in 1..=written {
        assert_eq!(fx.fake.posts(&format!("C{i:04}")), 1, "C{i:04} sent once");
        assert_eq!(
            fx.fake.invoice_posts(&format!("I{i:04}")),
            1,
            "I{i:04} sent once"
        );
    }
    assert!(looks >= soak().as_secs() as usize, "only {looks} looks");
    assert_eq!(integrity(&fx.store_path()), "ok");
}

#[tokio::test]
async fn on_a_terminal_a_command_names_the_store_it_reads_first() {
    let fx = Fixture::new().await;
    fx.write_export(&support::export_of(1));
    assert_eq!(fx.run(&["--once"]).await.code, 0);
    // `script` gives the command a terminal, as an operator's shell would.
    let command = format!(
        "{} --config {} status",
        env!("CARGO_BIN_EXE_bluetape-sync"),
        fx.config_path().display()
    );
    let output = std::process::Command::new("script")
        .args(["-q", "-e", "-c", &command, "/dev/null"])
        .env("NO_COLOR", "1")
        .output()
        .expect("script (util-linux) runs the command on a terminal");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{text}");
    let first = text.lines().next().unwrap_or_default();
    assert_eq!(
        first.trim_end(),
        format!("store: {}", fx.store_path().display()),
        "{text}"
    );
    // Without a terminal, stdout is only the command's own output.
    let piped = fx.run(&["status"]).await;
    assert!(!piped.stderr.contains("store: "), "{}", piped.stderr);
}
