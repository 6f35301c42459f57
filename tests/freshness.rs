//! Freshness (SPEC §3, §8): a file that cannot have changed since it was read whole is not
//! opened again; `--full`, a changed file, or changed settings read it.

mod support;

use std::path::Path;

use support::{Fixture, HEADER, Tmpfs, row};

/// The file's last access time, in nanoseconds.
fn atime(path: &Path) -> i128 {
    use std::os::unix::fs::MetadataExt as _;
    let meta = std::fs::metadata(path).expect("metadata");
    i128::from(meta.atime()) * 1_000_000_000 + i128::from(meta.atime_nsec())
}

/// Waits until the file system's clock has moved past `path`'s access time, so that any
/// read from now on sets a later one. (Setting the access time by hand would change the
/// file's ctime, which is what the skip looks at.)
fn clock_past_atime(path: &Path) {
    let before = atime(path);
    let probe = path.with_extension("clock");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        std::fs::write(&probe, b"x").expect("probe");
        if atime(&probe) > before {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the clock did not move"
        );
        std::thread::yield_now();
    }
    std::fs::remove_file(&probe).expect("probe");
}

#[tokio::test]
#[ignore = "needs root: mounts a strictatime tmpfs to see every read of the export"]
async fn an_untouched_export_is_not_opened_until_it_changes_or_full_asks() {
    let fx = Fixture::with_export("exports/export.csv", "").await;
    // Every read updates the access time on a tmpfs mounted strictatime: the test sees
    // whether the file was opened and read.
    let _disk = Tmpfs::mount(&fx.path("exports"), "strictatime,size=8m,mode=0755");
    let export = fx.path("exports/export.csv");
    let mut text = format!("{HEADER}\n");
    for id in ["C1", "C2"] {
        text.push_str(&row(id, "2024-03-01T00:00:00Z"));
        text.push('\n');
    }
    std::fs::write(&export, &text).expect("export");
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fx.count_in("created"), 2);

    let read_at = atime(&export);
    clock_past_atime(&export);
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(atime(&export), read_at, "an untouched export is not read");
    assert!(
        run.stderr
            .contains("export file unchanged since it was read whole: not opened"),
        "{}",
        run.stderr
    );
    assert_eq!(run.count("read"), 0);

    let run = fx.run(&["--once", "--full"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(atime(&export) > read_at, "--full reads it");
    assert_eq!(run.count("read"), 2);

    // Other settings read the same file differently: it is read again.
    let read_at = atime(&export);
    clock_past_atime(&export);
    let run = fx
        .run_with_env(
            &["--once"],
            &[("BLUETAPE_SYNC__SOURCE__DEFAULT_COUNTRY", "CA")],
        )
        .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(atime(&export) > read_at, "new settings read it");

    // A row appended: read, and the new customer created, once.
    text.push_str(&row("C3", "2024-03-02T00:00:00Z"));
    text.push('\n');
    std::fs::write(&export, &text).expect("export");
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.count("created"), 1);
    assert_eq!(fx.fake.posts("C3"), 1);
    assert_eq!(fx.count_in("created"), 3);
}

#[tokio::test]
async fn a_file_of_a_glob_replaced_or_gone_and_back_is_read_again() {
    let fx = Fixture::with_export("customers-*.csv", "").await;
    let write = |name: &str, ids: &[&str]| {
        let mut text = format!("{HEADER}\n");
        for id in ids {
            text.push_str(&row(id, "2024-03-01T00:00:00Z"));
            text.push('\n');
        }
        // Written aside and renamed over, as export jobs write atomically.
        let aside = fx.path(&format!(".{name}.tmp"));
        std::fs::write(&aside, text).expect("export");
        std::fs::rename(&aside, fx.path(name)).expect("rename");
    };
    write("customers-1.csv", &["A1"]);
    write("customers-2.csv", &["B1"]);
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.count("read"), 2);

    let run = fx.run(&["--once"]).await;
    assert_eq!(run.count("read"), 0, "both untouched: {}", run.stderr);

    // Replaced by rename with the same content: a new inode, read again (nothing new sent).
    write("customers-2.csv", &["B1"]);
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.count("read"), 1, "{}", run.stderr);
    assert_eq!(fx.fake.posts("B1"), 1);

    // Gone, then back: read when it is back.
    let kept = std::fs::read(fx.path("customers-1.csv")).expect("read");
    std::fs::remove_file(fx.path("customers-1.csv")).expect("remove");
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.count("read"), 0, "{}", run.stderr);
    std::fs::write(fx.path("customers-1.csv"), kept).expect("back");
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.count("read"), 1, "{}", run.stderr);
    assert_eq!(fx.fake.posts("A1"), 1, "never sent twice");
}
