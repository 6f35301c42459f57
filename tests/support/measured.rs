//! A run of the binary measured for its peak memory: `VmHWM` from `/proc/<pid>/status`, read
//! every 5 ms while it runs (it only grows, so the last reading is the peak up to it). A memory
//! bound against hostile input is a correctness property (SPEC §10): the tests assert it.

use std::time::{Duration, Instant};

use tokio::io::AsyncReadExt as _;
use tokio::process::Command;

use super::Run;

/// The most memory the binary may hold on any input.
pub const MAX_RSS_KIB: u64 = 128 * 1024;

/// A run, the peak resident memory seen while it ran, and how long it took.
pub struct Measured {
    pub run: Run,
    pub peak_kib: u64,
    pub took: Duration,
}

impl Measured {
    /// Prints the figure (so a run's log keeps it) and asserts it under [`MAX_RSS_KIB`].
    pub fn assert_bounded(&self, case: &str) {
        println!(
            "{case}: peak RSS {:.1} MiB in {:.1?}",
            self.peak_kib as f64 / 1024.0,
            self.took
        );
        assert!(self.peak_kib > 0, "{case}: no memory figure was read");
        assert!(
            self.peak_kib < MAX_RSS_KIB,
            "{case}: peak RSS {} KiB, over 128 MiB",
            self.peak_kib
        );
    }
}

/// The peak RSS of `pid` so far, in KiB; `None` once it has gone.
fn peak_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Runs `command` (its stdout and stderr piped) to its end, reading its peak RSS as it goes.
/// A run far over the bound is killed at once, so a failure costs little more memory than the
/// bound; one still running after `limit` is killed and fails the test.
pub async fn measured(mut command: Command, limit: Duration) -> Measured {
    let started = Instant::now();
    let mut child = command.spawn().expect("spawn bluetape-sync");
    let pid = child.id().expect("pid");
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let out = tokio::spawn(async move {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text).await;
        text
    });
    let err = tokio::spawn(async move {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text).await;
        text
    });
    let mut peak = 0;
    let (status, timed_out) = loop {
        // Read before reaping: once the child is reaped its status is gone.
        if let Some(kib) = peak_kib(pid) {
            peak = peak.max(kib);
        }
        let timed_out = started.elapsed() > limit;
        if peak > 2 * MAX_RSS_KIB || timed_out {
            let _ = child.start_kill();
            break (child.wait().await.expect("wait"), timed_out);
        }
        tokio::select! {
            status = child.wait() => break (status.expect("wait"), false),
            () = tokio::time::sleep(Duration::from_millis(5)) => {}
        }
    };
    let took = started.elapsed();
    let run = Run {
        code: status.code().unwrap_or(-1),
        stdout: out.await.expect("stdout"),
        stderr: err.await.expect("stderr"),
    };
    assert!(
        !timed_out,
        "still running after {limit:?}, killed; stderr:\n{}",
        run.stderr
    );
    Measured {
        run,
        peak_kib: peak,
        took,
    }
}
