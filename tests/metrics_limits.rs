//! The metrics endpoint cannot take the daemon's descriptors (SPEC §10): at most 64
//! connections at once, 5 s to send a request head, 5 s idle between requests. The daemon runs
//! with RLIMIT_NOFILE lowered to 256, so 1,000 held connections would starve a pass of the
//! descriptors it needs if the endpoint kept them.

mod support;

use std::time::{Duration, Instant};

use support::{Daemon, Fixture, HEADER, row};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const YEARLY: (&str, &str) = ("BLUETAPE_SYNC__SCHEDULE__CRON", "0 0 0 1 1 *");
const LIMIT: Duration = Duration::from_secs(60);
/// The endpoint's idle and request-head bound.
const IDLE: Duration = Duration::from_secs(5);

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

fn export(ids: &[&str]) -> String {
    let mut text = format!("{HEADER}\n");
    for id in ids {
        text.push_str(&row(id, "2024-03-01T00:00:00Z"));
        text.push('\n');
    }
    text
}

/// A daemon with `[metrics]` on a free port and at most 256 descriptors, after its start-up
/// pass has sent `FIRST`.
async fn daemon(fx: &Fixture) -> (Daemon, String) {
    fx.write_export(&export(&["FIRST"]));
    let listen = format!("127.0.0.1:{}", free_port());
    let daemon = Daemon::spawn(
        fx,
        &["run"],
        &[YEARLY, ("BLUETAPE_SYNC__METRICS__LISTEN", &listen)],
    );
    let pid = daemon.pid().to_string();
    let limited = std::process::Command::new("prlimit")
        .args(["--pid", &pid, "--nofile=256:256"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        limited,
        "prlimit could not lower the daemon's RLIMIT_NOFILE: the scenario would not run"
    );
    assert!(
        fx.wait_for(LIMIT, |f| f.fake.creations("FIRST") == 1).await,
        "the start-up pass: {}",
        daemon.log()
    );
    assert!(
        daemon
            .wait_for_log("watching the export's folder", LIMIT)
            .await,
        "{}",
        daemon.log()
    );
    (daemon, listen)
}

/// The daemon's open descriptors now.
fn descriptors(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

/// Whether the server has closed `stream`: a read sees the end (or a reset) within `wait`.
async fn closed_within(stream: &mut TcpStream, wait: Duration) -> bool {
    let mut buf = [0u8; 4096];
    let until = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(until, stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            // An answer: keep reading until the server closes.
            Ok(Ok(_)) => {}
        }
    }
}

/// `GET /metrics` on a fresh connection: its status line, if one came within 2 s.
async fn get_metrics(listen: &str) -> Option<String> {
    let attempt = async {
        let mut stream = TcpStream::connect(listen).await.ok()?;
        stream
            .write_all(b"GET /metrics HTTP/1.1\r\nHost: metrics\r\nConnection: close\r\n\r\n")
            .await
            .ok()?;
        let mut text = Vec::new();
        stream.read_to_end(&mut text).await.ok()?;
        let text = String::from_utf8_lossy(&text).into_owned();
        text.contains("bluetape_sync_passes_total")
            .then(|| text.lines().next().unwrap_or_default().to_owned())
    };
    tokio::time::timeout(Duration::from_secs(2), attempt)
        .await
        .ok()
        .flatten()
}

#[tokio::test]
async fn a_thousand_idle_connections_neither_starve_a_pass_nor_stay_open() {
    // This test holds the 1,000 connections: its soft RLIMIT_NOFILE (often 1024 for a user) up
    // to the hard one, as any user may.
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let hard = getrlimit(Resource::Nofile).maximum;
    let raised = Rlimit {
        current: hard,
        maximum: hard,
    };
    setrlimit(Resource::Nofile, raised).expect("RLIMIT_NOFILE");
    let fx = Fixture::new().await;
    let (daemon, listen) = daemon(&fx).await;
    let pid = daemon.pid();
    let mut held = Vec::new();
    for _ in 0..1000 {
        let stream = tokio::time::timeout(Duration::from_secs(5), TcpStream::connect(&listen))
            .await
            .expect("the endpoint still accepts within 5 s")
            .expect("connect");
        held.push(stream);
    }
    let busiest = descriptors(pid);
    println!("with 1000 connections held: the daemon has {busiest} descriptors open");
    // While they are held open, an appended customer is still sent by the watch's pass.
    fx.write_export(&export(&["FIRST", "LATER"]));
    assert!(
        fx.wait_for(LIMIT, |f| f.fake.creations("LATER") == 1).await,
        "a pass with 1000 connections held: {}",
        daemon.log()
    );
    assert!(descriptors(pid) < 256, "{} descriptors", descriptors(pid));
    // The server closes every one of them: those it served after 5 s idle, the rest at once.
    let started = Instant::now();
    for (i, stream) in held.iter_mut().enumerate() {
        let left = (IDLE * 4).saturating_sub(started.elapsed());
        assert!(
            closed_within(stream, left).await,
            "connection {i} still open after {:?}",
            started.elapsed()
        );
    }
    println!(
        "all 1000 closed by the server within {:?}",
        started.elapsed()
    );
    let until = Instant::now() + LIMIT;
    let status = loop {
        if let Some(status) = get_metrics(&listen).await {
            break status;
        }
        assert!(Instant::now() < until, "/metrics never answered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    drop(held);
    let run = daemon.stop().await;
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[tokio::test]
async fn a_half_sent_request_and_an_idle_connection_are_closed_after_5_s() {
    let fx = Fixture::new().await;
    let (daemon, listen) = daemon(&fx).await;

    // Half a request head, and nothing more.
    let mut half = TcpStream::connect(&listen).await.expect("connect");
    half.write_all(b"GET /metrics HTTP/1.1\r\nHost: metr")
        .await
        .expect("write");
    let started = Instant::now();
    assert!(
        closed_within(&mut half, IDLE * 3).await,
        "a half-sent request still open after {:?}",
        started.elapsed()
    );
    let waited = started.elapsed();
    println!("half a request: closed after {waited:?}");
    assert!(waited >= IDLE - Duration::from_millis(500), "{waited:?}");

    // A whole head, and a body that never comes.
    let mut slow = TcpStream::connect(&listen).await.expect("connect");
    slow.write_all(b"POST /metrics HTTP/1.1\r\nHost: metrics\r\nContent-Length: 100000\r\n\r\nab")
        .await
        .expect("write");
    let started = Instant::now();
    assert!(
        closed_within(&mut slow, IDLE * 3).await,
        "a request whose body never comes still open after {:?}",
        started.elapsed()
    );
    println!(
        "a body that never comes: closed after {:?}",
        started.elapsed()
    );

    // A whole request answered, then the kept-alive connection left idle.
    let mut idle = TcpStream::connect(&listen).await.expect("connect");
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: metrics\r\n\r\n")
        .await
        .expect("write");
    let mut buf = [0u8; 4096];
    let n = tokio::time::timeout(LIMIT, idle.read(&mut buf))
        .await
        .expect("an answer")
        .expect("read");
    assert!(
        String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&buf[..n])
    );
    let started = Instant::now();
    assert!(
        closed_within(&mut idle, IDLE * 3).await,
        "an idle kept-alive connection still open after {:?}",
        started.elapsed()
    );
    println!("idle keep-alive: closed after {:?}", started.elapsed());
    let run = daemon.stop().await;
    assert_eq!(run.code, 0, "{}", run.stderr);
}
