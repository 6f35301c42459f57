//! Store faults: a damaged file, a full disk, a read-only file system, another writer holding
//! the lock. Each gives a clear error and exit code; nothing is half-written and nothing lost.
//! The disk tests mount a small tmpfs, which needs root with the right to mount (CI runs as
//! root); where that is missing they fail, since their scenario did not run.

mod support;

use std::path::Path;
use std::time::Duration;

use support::{Fixture, Tmpfs, export_of};

fn integrity(path: &Path) -> String {
    rusqlite::Connection::open(path)
        .and_then(|c| c.query_row("PRAGMA integrity_check", [], |r| r.get(0)))
        .expect("integrity check")
}

#[tokio::test]
async fn a_damaged_store_is_a_clear_error_and_nothing_is_sent() {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(3));
    std::fs::write(
        fx.store_path(),
        b"this is not a SQLite database, it was overwritten",
    )
    .expect("damage");
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("the file is damaged; move it aside"),
        "{}",
        run.stderr
    );
    assert_eq!(fx.fake.request_count(), 0);

    // Moved aside, the next pass starts afresh and nothing is lost.
    std::fs::rename(fx.store_path(), fx.path("state.db.damaged")).expect("move aside");
    assert_eq!(fx.run(&["--once"]).await.code, 0);
    assert_eq!(fx.count_in("created"), 3);
}

#[tokio::test]
#[ignore = "needs root: mounts a 512 KB tmpfs to fill the disk"]
async fn a_full_disk_keeps_nothing_half_written() {
    let fx = Fixture::new().await;
    let disk = Tmpfs::mount(&fx.path("small-disk"), "size=512k,mode=0755");
    let store = fx.path("small-disk/state.db");
    let store_env = [("BLUETAPE_SYNC__STORE__PATH", store.to_str().expect("utf-8"))];
    fx.write_export(&export_of(5));
    assert_eq!(fx.run_with_env(&["--once"], &store_env).await.code, 0);
    // Far more than the disk holds.
    fx.write_export(&export_of(4000));
    let before = fx.fake.request_count();
    let run = fx.run_with_env(&["--once"], &store_env).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("the disk is full"), "{}", run.stderr);
    assert_eq!(
        fx.fake.request_count(),
        before,
        "nothing sent from a pass that could not queue"
    );
    assert_eq!(integrity(&store), "ok");

    disk.remount("size=64m");
    let run = fx.run_with_env(&["--once"], &store_env).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    for i in 1..=4000 {
        let id = format!("C{i:04}");
        assert_eq!(fx.fake.creations(&id), 1, "{id}");
        assert_eq!(fx.fake.posts(&id), 1, "{id} sent once");
    }
}

#[tokio::test]
#[ignore = "needs root: mounts a tmpfs and remounts it read-only"]
async fn a_read_only_store_is_a_clear_error_until_it_is_writable_again() {
    let fx = Fixture::new().await;
    let disk = Tmpfs::mount(&fx.path("ro-disk"), "size=8m,mode=0755");
    let store = fx.path("ro-disk/state.db");
    let store_env = [("BLUETAPE_SYNC__STORE__PATH", store.to_str().expect("utf-8"))];
    fx.write_export(&export_of(2));
    assert_eq!(fx.run_with_env(&["--once"], &store_env).await.code, 0);
    fx.write_export(&export_of(4));
    disk.remount("ro");
    let run = fx.run_with_env(&["--once"], &store_env).await;
    assert_ne!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.starts_with("error:") || run.stderr.contains("\nerror:"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("ro-disk"),
        "names the store: {}",
        run.stderr
    );
    assert_eq!(fx.fake.request_count(), 2, "nothing sent");

    disk.remount("rw");
    assert_eq!(fx.run_with_env(&["--once"], &store_env).await.code, 0);
    for i in 1..=4 {
        let id = format!("C{i:04}");
        assert_eq!(fx.fake.creations(&id), 1, "{id}");
        assert_eq!(fx.fake.posts(&id), 1, "{id} sent once");
    }
}

#[tokio::test]
async fn another_writer_holding_the_store_is_waited_for() {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(2));
    assert_eq!(fx.run(&["--once"]).await.code, 0);
    fx.write_export(&export_of(4));
    // Another program writes to the store for 2 s.
    let path = fx.store_path();
    let (locked_tx, locked) = std::sync::mpsc::channel();
    let holder = std::thread::spawn(move || {
        let conn = rusqlite::Connection::open(path).expect("open");
        conn.execute_batch("BEGIN EXCLUSIVE").expect("lock");
        locked_tx.send(()).expect("signal");
        std::thread::sleep(Duration::from_secs(2));
        conn.execute_batch("COMMIT").expect("unlock");
    });
    locked
        .recv_timeout(Duration::from_secs(30))
        .expect("the other writer took the store");
    let run = fx.run(&["--once"]).await;
    holder.join().expect("holder");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fx.count_in("created"), 4);
}

#[tokio::test]
async fn a_schema_version_no_release_writes_is_a_clear_error() {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(2));
    assert_eq!(fx.run(&["--once"]).await.code, 0);
    rusqlite::Connection::open(fx.store_path())
        .and_then(|c| c.pragma_update(None, "user_version", -1))
        .expect("set user_version");
    fx.write_export(&export_of(4));
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    let last = run.stderr.lines().last().unwrap_or_default();
    assert!(last.contains("schema version -1"), "{last}");
    assert_eq!(fx.fake.request_count(), 2, "nothing sent");
}

#[tokio::test]
async fn a_record_state_this_program_does_not_know_is_an_error_not_a_guess() {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(2));
    assert_eq!(fx.run(&["--once"]).await.code, 0);
    rusqlite::Connection::open(fx.store_path())
        .and_then(|c| {
            c.execute_batch(
                "PRAGMA ignore_check_constraints = ON;
                 UPDATE records SET state = 'archived' WHERE id = 'C0001';",
            )
        })
        .expect("write an unknown state");

    for args in [
        &["status"][..],
        &["show", "--id", "C0001"],
        &["--once", "--full"],
    ] {
        let run = fx.run(args).await;
        assert_eq!(run.code, 1, "{args:?}: {}", run.stderr);
        let last = run.stderr.lines().last().unwrap_or_default();
        assert!(
            last.contains("unknown record state `archived`"),
            "{args:?}: {last}"
        );
    }
    assert_eq!(fx.fake.request_count(), 2, "C0001 was not sent again");
    assert_eq!(fx.record("C0001").expect("stored").state, "archived");
}

/// Fills the file system holding `path` with a file at `path`, until it is full.
fn fill(path: &Path) {
    use std::io::Write as _;
    let mut file = std::fs::File::create(path).expect("filler");
    let chunk = vec![0u8; 64 * 1024];
    loop {
        match file.write_all(&chunk).and_then(|()| file.sync_data()) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(28) => return,
            Err(e) => panic!("filling the disk: {e}"),
        }
    }
}

/// `(kept, may be sent again)` from the line of a pass whose answers the store refused.
fn kept_and_unkept(stderr: &str) -> (u64, u64) {
    let line = stderr
        .lines()
        .find(|l| l.contains("requests were kept"))
        .unwrap_or_else(|| panic!("no line on what was kept:\n{stderr}"));
    let number_after = |needle: &str| -> u64 {
        let at = line
            .find(needle)
            .unwrap_or_else(|| panic!("{needle} in {line}"))
            + needle.len();
        line[at..]
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("a number after {needle} in {line}"))
    };
    (number_after("the results of "), number_after("up to "))
}

#[tokio::test]
#[ignore = "needs root: mounts a 16 MB tmpfs to fill the disk mid-pass"]
async fn a_disk_that_fills_while_sending_says_what_was_kept_and_re_sends_within_the_bound() {
    let fx = Fixture::new().await;
    let disk = Tmpfs::mount(&fx.path("filling-disk"), "size=16m,mode=0755");
    let store = fx.path("filling-disk/state.db");
    let env = [("BLUETAPE_SYNC__STORE__PATH", store.to_str().expect("utf-8"))];
    fx.write_export(&export_of(400));
    fx.fake.set_delay(Duration::from_millis(10));
    let pass = fx.spawn_with_env(&["--once"], &env);
    assert!(
        fx.wait_for(Duration::from_secs(60), |f| f.fake.request_count() >= 50)
            .await,
        "the pass never sent"
    );
    // The disk fills up while the pass sends (concurrency 4: at most 8 answers unkept).
    fill(&fx.path("filling-disk/filler"));
    let run = support::Run::from(pass.wait_with_output().await.expect("pass"));
    assert_eq!(run.code, 1, "the disk was filled too late:\n{}", run.stderr);
    assert!(run.stderr.contains("disk full: "), "{}", run.stderr);
    let (kept, unkept) = kept_and_unkept(&run.stderr);
    let sent: Vec<String> = (1..=400)
        .map(|i| format!("C{i:04}"))
        .filter(|id| fx.fake.posts(id) > 0)
        .collect();
    assert_eq!(kept + unkept, sent.len() as u64, "{}", run.stderr);
    assert!(unkept <= 8, "{}", run.stderr);
    assert!(kept + 8 >= 50, "{}", run.stderr);

    std::fs::remove_file(fx.path("filling-disk/filler")).expect("free space");
    let run = fx.run_with_env(&["--once"], &env).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut again = 0;
    for i in 1..=400 {
        let id = format!("C{i:04}");
        assert_eq!(fx.fake.creations(&id), 1, "{id} created once");
        match fx.fake.posts(&id) {
            1 => {}
            2 => again += 1,
            n => panic!("{id} sent {n} times"),
        }
    }
    assert!(
        again <= unkept,
        "{again} sent again, the line said up to {unkept}"
    );
    assert_eq!(integrity(&store), "ok");
    drop(disk);
}

#[tokio::test]
#[ignore = "needs root: mounts a tmpfs and remounts it read-only"]
async fn a_store_on_a_read_only_file_system_can_be_inspected() {
    let fx = Fixture::new().await;
    let disk = Tmpfs::mount(&fx.path("ro-reads"), "size=8m,mode=0755");
    let store = fx.path("ro-reads/state.db");
    let env = [("BLUETAPE_SYNC__STORE__PATH", store.to_str().expect("utf-8"))];
    let mut export = export_of(2);
    export.push_str("BAD-1,Ada,Lovelace,not-an-email,(626) 555-0100,2024-03-01T00:00:00Z,\n");
    fx.write_export(&export);
    assert_eq!(fx.run_with_env(&["--once"], &env).await.code, 65);
    disk.remount("ro");
    let status = fx.run_with_env(&["status", "--json"], &env).await;
    assert_eq!(status.code, 0, "{}", status.stderr);
    let json: serde_json::Value = serde_json::from_str(&status.stdout).expect("json");
    assert_eq!(json["counts"]["created"], 2, "{json}");
    assert_eq!(json["counts"]["rejected"], 1, "{json}");
    let failures = fx.run_with_env(&["failures"], &env).await;
    assert_eq!(failures.code, 0, "{}", failures.stderr);
    assert!(failures.stdout.contains("BAD-1"), "{}", failures.stdout);
    let export = fx.run_with_env(&["export"], &env).await;
    assert_eq!(export.code, 0, "{}", export.stderr);
    assert_eq!(export.stdout.lines().count(), 3, "{}", export.stdout);
    let show = fx.run_with_env(&["show", "--id", "C0001"], &env).await;
    assert_eq!(show.code, 0, "{}", show.stderr);
    assert!(show.stdout.contains("created"), "{}", show.stdout);
    let check = fx.run_with_env(&["check"], &env).await;
    assert_eq!(check.code, 0, "{}", check.stderr);
    let mut listed: Vec<_> = std::fs::read_dir(fx.path("ro-reads"))
        .expect("list")
        .map(|e| e.expect("entry").file_name())
        .collect();
    listed.sort();
    // The pass's own files, and nothing the commands wrote (no -wal, no -shm).
    assert_eq!(
        listed,
        ["state.db", "state.db.lock"],
        "nothing else written"
    );
}
