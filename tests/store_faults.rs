//! Store faults: a damaged file, a full disk, a read-only file system, another writer holding
//! the lock. Each gives a clear error and exit code; nothing is half-written and nothing lost.
//! The disk tests mount a small tmpfs, which needs root (CI runs as root); without it they
//! say so and stop.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use support::{Fixture, export_of};

/// A tmpfs of `size` at `dir`, unmounted on drop.
struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Option<Self> {
        std::fs::create_dir_all(dir).ok()?;
        let ok = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0755"),
                "tmpfs",
            ])
            .arg(dir)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("store fault test not run: cannot mount a tmpfs here (needs root)");
        }
        ok.then(|| Self(dir.to_owned()))
    }

    fn remount(&self, options: &str) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,{options}")])
            .arg(&self.0)
            .status()
            .expect("mount");
        assert!(status.success(), "remount {options}");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

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
async fn a_full_disk_keeps_nothing_half_written() {
    let fx = Fixture::new().await;
    let Some(disk) = Tmpfs::mount(&fx.path("small-disk"), "256k") else {
        return;
    };
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
        assert_eq!(fx.fake.creations(&format!("C{i:04}")), 1);
    }
}

#[tokio::test]
async fn a_read_only_store_is_a_clear_error_until_it_is_writable_again() {
    let fx = Fixture::new().await;
    let Some(disk) = Tmpfs::mount(&fx.path("ro-disk"), "8m") else {
        return;
    };
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
        assert_eq!(fx.fake.creations(&format!("C{i:04}")), 1);
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
    let holder = std::thread::spawn(move || {
        let conn = rusqlite::Connection::open(path).expect("open");
        conn.execute_batch("BEGIN EXCLUSIVE").expect("lock");
        std::thread::sleep(Duration::from_secs(2));
        conn.execute_batch("COMMIT").expect("unlock");
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let run = fx.run(&["--once"]).await;
    holder.join().expect("holder");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fx.count_in("created"), 4);
}
