//! `run` watches the export (SPEC §8, `[schedule] watch`): a change starts a pass once the file
//! has settled, without waiting for a tick. The schedule here is once a year, so only the
//! start-up pass and the watch can send anything.

mod support;

use std::time::Duration;

use support::{Daemon, Fixture, HEADER, export_of, row};

const YEARLY: (&str, &str) = ("BLUETAPE_SYNC__SCHEDULE__CRON", "0 0 0 1 1 *");
const SETTLE: (&str, &str) = ("BLUETAPE_SYNC__SOURCE__SETTLE", "200ms");
const LIMIT: Duration = Duration::from_secs(30);

/// Writes `text` beside `name` and renames it over, as export jobs write atomically.
fn replace(fx: &Fixture, name: &str, text: &str) {
    let path = fx.path(name);
    let file = path.file_name().expect("a file").to_string_lossy();
    let aside = path.with_file_name(format!(".{file}.part"));
    std::fs::write(&aside, text).expect("write");
    std::fs::rename(&aside, &path).expect("rename");
}

fn with_rows(n: usize, late: &[String]) -> String {
    let mut text = export_of(n);
    for id in late {
        text.push_str(&row(id, "2024-03-01T00:00:00Z"));
        text.push('\n');
    }
    text
}

#[tokio::test]
async fn an_appended_row_is_sent_without_a_tick_and_a_burst_starts_few_passes() {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(3));
    let daemon = Daemon::spawn(&fx, &["run"], &[YEARLY, SETTLE]);
    assert!(
        daemon
            .wait_for_log("watching the export's folder", LIMIT)
            .await,
        "{}",
        daemon.log()
    );
    assert!(
        fx.wait_for(LIMIT, |f| f.fake.created_ids().len() == 3)
            .await,
        "the start-up pass"
    );
    // Appended in place.
    std::fs::write(fx.path("export.csv"), with_rows(3, &["LATE-1".into()])).expect("append");
    assert!(
        fx.wait_for(LIMIT, |f| f.fake.creations("LATE-1") == 1)
            .await,
        "an appended row is sent without a tick: {}",
        daemon.log()
    );
    assert!(
        daemon
            .log()
            .contains("the export changed and has settled: a pass starts")
    );
    let passes_before = fx.passes().len();

    // A burst: 40 writes as fast as they go, each adding a customer.
    let mut late: Vec<String> = vec!["LATE-1".into()];
    for i in 0..40 {
        late.push(format!("BURST-{i:02}"));
        std::fs::write(fx.path("export.csv"), with_rows(3, &late)).expect("write");
    }
    assert!(
        fx.wait_for(LIMIT, |f| f.fake.created_ids().len() == 44)
            .await,
        "{}",
        daemon.log()
    );
    let burst_passes = fx.passes().len() - passes_before;
    assert!(
        (1..=3).contains(&burst_passes),
        "a burst of 40 writes started {burst_passes} passes"
    );
    let run = daemon.stop().await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fx.fake.request_count(), 44, "nothing sent twice");
}

#[tokio::test]
async fn a_new_file_of_the_glob_and_a_file_replaced_by_rename_are_seen() {
    let fx = Fixture::with_export("customers-*.csv", "").await;
    replace(&fx, "customers-1.csv", &export_of(2));
    let daemon = Daemon::spawn(&fx, &["run"], &[YEARLY, SETTLE]);
    assert!(
        fx.wait_for(LIMIT, |f| f.fake.created_ids().len() == 2)
            .await
    );

    replace(
        &fx,
        "customers-2.csv",
        &format!("{HEADER}\n{}\n", row("NEW-FILE", "2024-03-02T00:00:00Z")),
    );
    assert!(
        fx.wait_for(LIMIT, |f| f.fake.creations("NEW-FILE") == 1)
            .await,
        "a new file of the glob: {}",
        daemon.log()
    );
    // (Dated after the new file's customer, which moved the watermark.)
    let renamed = format!(
        "{}{}\n",
        export_of(2),
        row("RENAMED", "2024-03-03T00:00:00Z")
    );
    replace(&fx, "customers-1.csv", &renamed);
    assert!(
        fx.wait_for(LIMIT, |f| f.fake.creations("RENAMED") == 1)
            .await,
        "a file replaced by rename: {}",
        daemon.log()
    );
    let run = daemon.stop().await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fx.fake.request_count(), 4, "nothing sent twice");
}

#[tokio::test]
async fn a_folder_that_appears_later_or_comes_back_is_watched_once_it_does() {
    let fx = Fixture::with_export("later/export.csv", "").await;
    let daemon = Daemon::spawn(&fx, &["run"], &[YEARLY, SETTLE]);
    assert!(
        daemon.wait_for_log("does not exist (yet)", LIMIT).await,
        "{}",
        daemon.log()
    );
    std::fs::create_dir(fx.path("later")).expect("folder");
    replace(&fx, "later/export.csv", &export_of(2));
    assert!(
        fx.wait_for(LIMIT, |f| f.fake.created_ids().len() == 2)
            .await,
        "the folder is watched once it appears, and read: {}",
        daemon.log()
    );
    assert!(
        daemon
            .wait_for_log("watching the export's folder", LIMIT)
            .await,
        "{}",
        daemon.log()
    );
    // Gone, and back with a new customer.
    std::fs::remove_dir_all(fx.path("later")).expect("remove");
    assert!(
        daemon
            .wait_for_log("the export's folder is gone", LIMIT)
            .await,
        "{}",
        daemon.log()
    );
    std::fs::create_dir(fx.path("later")).expect("folder");
    let back = format!("{}{}\n", export_of(2), row("BACK", "2024-03-03T00:00:00Z"));
    replace(&fx, "later/export.csv", &back);
    assert!(
        fx.wait_for(LIMIT, |f| f.fake.creations("BACK") == 1).await,
        "the folder is watched again once it is back: {}",
        daemon.log()
    );
    let run = daemon.stop().await;
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[tokio::test]
async fn with_watch_off_a_change_waits_for_the_schedule() {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(2));
    let every_2s = ("BLUETAPE_SYNC__SCHEDULE__CRON", "*/2 * * * * *");
    let off = ("BLUETAPE_SYNC__SCHEDULE__WATCH", "false");
    let daemon = Daemon::spawn(&fx, &["run"], &[every_2s, SETTLE, off]);
    assert!(
        fx.wait_for(LIMIT, |f| f.fake.created_ids().len() == 2)
            .await
    );
    std::fs::write(fx.path("export.csv"), with_rows(2, &["TICKED".into()])).expect("append");
    assert!(
        fx.wait_for(LIMIT, |f| f.fake.creations("TICKED") == 1)
            .await,
        "{}",
        daemon.log()
    );
    let run = daemon.stop().await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("schedule.watch is off"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("watching the export's folder")
            && !run.stderr.contains("the export changed"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn a_new_invoice_in_its_own_folder_is_sent_without_a_tick() {
    // The invoice export in a folder of its own, which only the invoices' watch covers.
    let fx = Fixture::with_config(
        "\n[invoices]\npath = \"invoices/invoices.csv\"\nsettle = \"200ms\"\nlookback = \"0s\"\n",
    )
    .await;
    std::fs::create_dir(fx.path("invoices")).expect("folder");
    let header = "id,invoiceNumber,customerId,invoiceDate,dueDate,totalAmount,amountDue,\
                  sourceModifiedDate\n";
    let invoice =
        |id: &str| format!("{id},N-{id},C0001,2024-03-01,2024-03-31,10,10,2024-03-02T00:00:00Z\n");
    replace(
        &fx,
        "invoices/invoices.csv",
        &format!("{header}{}", invoice("I1")),
    );
    fx.write_export(&export_of(1));
    let daemon = Daemon::spawn(&fx, &["run"], &[YEARLY, SETTLE]);
    assert!(
        fx.wait_for(LIMIT, |f| f.fake.invoice_creations("I1") == 1)
            .await,
        "the start-up pass: {}",
        daemon.log()
    );
    let watched = daemon.log().matches("watching the export's folder").count();
    assert_eq!(watched, 2, "both folders watched: {}", daemon.log());
    replace(
        &fx,
        "invoices/invoices.csv",
        &format!("{header}{}{}", invoice("I1"), invoice("I2")),
    );
    assert!(
        fx.wait_for(LIMIT, |f| f.fake.invoice_creations("I2") == 1)
            .await,
        "a new invoice is sent without a tick: {}",
        daemon.log()
    );
    assert_eq!(fx.fake.invoice_creations("I1"), 1);
    daemon.stop().await;
}

/// A bare `--config config.toml`, run from the config's folder, with the export's path
/// relative to it (SPEC §12): the watch sees the export's folder, and a new customer goes
/// without waiting for a tick.
#[tokio::test]
async fn a_bare_relative_config_is_watched_from_its_own_folder() {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(2));
    let log = std::fs::File::create(fx.path("daemon.log")).expect("log file");
    let mut daemon = tokio::process::Command::new(env!("CARGO_BIN_EXE_bluetape-sync"))
        .current_dir(fx.dir.path())
        .args(["--config", "config.toml", "run"])
        .env_remove("BLUETAPE_SYNC_CONFIG")
        .env_remove("STATE_DIRECTORY")
        .env_remove("RUST_LOG")
        .env(YEARLY.0, YEARLY.1)
        .env(SETTLE.0, SETTLE.1)
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .expect("spawn");
    let read_log = || std::fs::read_to_string(fx.path("daemon.log")).unwrap_or_default();
    assert!(
        fx.wait_for(LIMIT, |f| f.fake.created_ids().len() == 2)
            .await,
        "the start-up pass: {}",
        read_log()
    );
    assert!(
        fx.wait_for(LIMIT, |_| read_log()
            .contains("watching the export's folder"))
            .await,
        "{}",
        read_log()
    );
    replace(&fx, "export.csv", &with_rows(2, &["NEW-1".into()]));
    assert!(
        fx.wait_for(LIMIT, |f| f.fake.creations("NEW-1") == 1).await,
        "a new customer is sent without a tick: {}",
        read_log()
    );
    let _ = daemon.start_kill();
    let _ = daemon.wait().await;
}
