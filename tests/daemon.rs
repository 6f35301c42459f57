//! `run`, the daemon (SPEC §8): the real binary on a schedule of every second against the fake
//! BlueTape.

mod support;

use std::time::Duration;

use tokio::net::UnixDatagram;

use support::{Daemon, Fixture, HEADER, Run, export_of, row, stop, terminate};

const EVERY_SECOND: (&str, &str) = ("BLUETAPE_SYNC__SCHEDULE__CRON", "* * * * * *");

#[tokio::test]
async fn rows_appended_while_it_runs_are_sent_within_seconds() {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(3));
    let child = fx.spawn_with_env(&["run"], &[EVERY_SECOND]);
    assert!(
        fx.wait_for(Duration::from_secs(30), |f| f.fake.created_ids().len() == 3)
            .await,
        "the first pass runs at startup"
    );
    let mut text = export_of(3);
    text.push_str(&row("LATE-1", "2024-03-01T00:00:00Z"));
    text.push('\n');
    fx.write_export(&text);
    assert!(
        fx.wait_for(Duration::from_secs(30), |f| f.fake.creations("LATE-1") == 1)
            .await,
        "an appended row is sent by a scheduled pass"
    );
    let run = stop(child).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("next pass due"), "{}", run.stderr);
    assert_eq!(fx.fake.request_count(), 4, "nothing sent twice");
}

#[tokio::test]
async fn a_pass_slower_than_the_interval_is_not_overlapped_and_the_schedule_goes_on() {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(3));
    fx.fake.set_delay(Duration::from_millis(1000));
    let env = [EVERY_SECOND, ("BLUETAPE_SYNC__API__CONCURRENCY", "1")];
    let child = fx.spawn_with_env(&["run"], &env);
    // The first pass takes about 3 s with ticks every second.
    assert!(
        fx.wait_for(Duration::from_secs(30), |f| f.fake.created_ids().len() == 3)
            .await
    );
    fx.fake.set_delay(Duration::ZERO);
    let mut text = export_of(3);
    text.push_str(&row("AFTER", "2024-03-01T00:00:00Z"));
    text.push('\n');
    fx.write_export(&text);
    assert!(
        fx.wait_for(Duration::from_secs(30), |f| f.fake.creations("AFTER") == 1)
            .await,
        "the schedule went on after the slow pass"
    );
    let run = stop(child).await;
    assert_eq!(run.code, 0, "{}", run.stderr);

    assert_eq!(fx.fake.max_in_flight(), 1, "no two passes sent at once");
    let passes = fx.passes();
    assert!(
        passes.iter().all(|p| p.0 != "skipped"),
        "a skipped tick is no pass of its own: {passes:?}"
    );
    let skipped: i64 = rusqlite::Connection::open(fx.store_path())
        .and_then(|c| c.query_row("SELECT max(skipped_ticks) FROM passes", [], |r| r.get(0)))
        .expect("skipped ticks");
    assert!(
        skipped >= 1,
        "ticks during the slow pass are counted on it: {passes:?}"
    );
    assert!(
        run.stderr.contains("still running: skipped"),
        "{}",
        run.stderr
    );
    for pair in passes.windows(2) {
        let finished = pair[0].2.expect("finished");
        assert!(pair[1].1 >= finished, "passes overlapped: {pair:?}");
    }
}

#[tokio::test]
async fn sigterm_mid_pass_exits_0_and_a_later_pass_finishes_the_queue() {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(30));
    fx.fake.set_delay(Duration::from_millis(300));
    let child = fx.spawn_with_env(&["run"], &[EVERY_SECOND]);
    assert!(
        fx.wait_for(Duration::from_secs(30), |f| f.fake.request_count() >= 4)
            .await
    );
    terminate(&child);
    let run = Run::from(child.wait_with_output().await.expect("wait"));
    assert_eq!(run.code, 0, "{}", run.stderr);
    let sent = fx.fake.request_count() as u64;
    assert!(sent < 30, "stopped early: {sent}");
    assert_eq!(fx.count_in("created"), sent, "every answer was recorded");

    fx.fake.set_delay(Duration::ZERO);
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    for i in 1..=30 {
        let id = format!("C{i:04}");
        assert_eq!(fx.fake.creations(&id), 1, "{id}");
        assert_eq!(
            fx.fake.posts(&id),
            1,
            "{id}: every answer was recorded, none re-sent"
        );
    }
}

#[tokio::test]
async fn a_second_instance_exits_75() {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(1));
    let child = fx.spawn_with_env(&["run"], &[EVERY_SECOND]);
    assert!(
        fx.wait_for(Duration::from_secs(30), |f| f.fake.request_count() == 1)
            .await
    );
    let second = fx.run(&["--once"]).await;
    assert_eq!(second.code, 75, "{}", second.stderr);
    let pid = child.id().expect("pid");
    assert!(
        second.stderr.contains(&format!("pid {pid}")),
        "{}",
        second.stderr
    );
    let daemon = fx.run(&["run"]).await;
    assert_eq!(daemon.code, 75, "{}", daemon.stderr);
    assert_eq!(stop(child).await.code, 0);
}

#[tokio::test]
async fn systemd_hears_ready_status_watchdog_and_stopping() {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(2));
    let socket_path = fx.path("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).expect("bind NOTIFY_SOCKET");
    let receive = async |socket: &UnixDatagram| {
        let mut buf = [0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(30), socket.recv(&mut buf))
            .await
            .expect("a notification within 30 s")
            .expect("a notification");
        String::from_utf8_lossy(&buf[..n]).into_owned()
    };
    let child = fx.spawn_with_env(
        &["run"],
        &[
            EVERY_SECOND,
            ("NOTIFY_SOCKET", socket_path.to_str().expect("utf-8")),
            ("WATCHDOG_USEC", "400000"),
        ],
    );
    let mut messages = Vec::new();
    while !messages
        .iter()
        .any(|m: &String| m.contains("STATUS=last pass ok"))
        || !messages.iter().any(|m| m.contains("WATCHDOG=1"))
    {
        messages.push(receive(&socket).await);
    }
    terminate(&child);
    loop {
        let message = receive(&socket).await;
        let stopping = message.contains("STOPPING=1");
        messages.push(message);
        if stopping {
            break;
        }
    }
    let run = Run::from(child.wait_with_output().await.expect("wait"));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        messages[0].contains("READY=1"),
        "READY comes first: {messages:?}"
    );
    let status = messages
        .iter()
        .find(|m| m.starts_with("STATUS=last pass"))
        .expect("a status");
    assert!(
        status.starts_with("STATUS=last pass ok: read 2, new 2, created 2"),
        "{status}"
    );
    assert!(messages.last().expect("messages").contains("STOPPING=1"));
}

#[tokio::test]
async fn an_invalid_schedule_is_78_naming_the_key() {
    let fx = Fixture::with_config("[schedule]\ncron = \"every hour\"").await;
    let run = fx.run(&["run"]).await;
    assert_eq!(run.code, 78, "{}", run.stderr);
    assert!(run.stderr.contains("schedule.cron"), "{}", run.stderr);
}

#[tokio::test]
async fn a_five_field_crontab_line_is_every_minute_not_every_second() {
    let fx = Fixture::with_config("[schedule]\ncron = \"* * * * *\"\nrun_at_startup = false").await;
    fx.write_export(&format!("{HEADER}\n{}\n", row("A", "2024-03-01T00:00:00Z")));
    // The window below must not hold second 0 of a minute, when this schedule is due: start
    // it just after one.
    let second = chrono::Utc::now().timestamp().rem_euclid(60);
    if second > 40 {
        tokio::time::sleep(Duration::from_secs((61 - second) as u64)).await;
    }
    let minute = chrono::Utc::now().timestamp().div_euclid(60);
    let daemon = Daemon::spawn(&fx, &["run"], &[]);
    assert!(
        daemon
            .wait_for_log("next pass due", Duration::from_secs(30))
            .await,
        "{}",
        daemon.log()
    );
    // Every second, passes would have run by now; every minute, none is due yet.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let requests = fx.fake.request_count();
    let passes = fx.passes();
    let same_minute = chrono::Utc::now().timestamp().div_euclid(60) == minute;
    let run = daemon.stop().await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        same_minute,
        "the daemon took so long to start that the window reached the next minute"
    );
    assert_eq!(requests, 0, "no pass in the first seconds");
    assert!(passes.is_empty(), "{passes:?}");
    // The next pass is due at second 0 of a minute.
    let line = run
        .stderr
        .lines()
        .find(|l| l.contains("next pass due"))
        .expect("the next pass is logged");
    assert!(
        line.contains(":00+00:00") || line.contains(":00Z"),
        "{line}"
    );
}

#[tokio::test]
async fn under_journald_lines_carry_a_priority_and_no_timestamp() {
    let fx = Fixture::new().await;
    fx.write_export(&format!(
        "{HEADER}\n{}\nBAD,Bad,Email,not-an-email,(626) 555-0100,2024-03-01T00:00:00Z,\n",
        row("A", "2024-03-01T00:00:00Z")
    ));
    let run = fx
        .run_with_env(&["--once"], &[("JOURNAL_STREAM", "8:12345")])
        .await;
    assert_eq!(run.code, 65, "{}", run.stderr);
    let logged: Vec<&str> = run.stderr.lines().filter(|l| l.starts_with('<')).collect();
    assert!(
        logged.iter().any(|l| l.starts_with("<6>pass started")),
        "{}",
        run.stderr
    );
    assert!(
        logged
            .iter()
            .any(|l| l.starts_with("<4>customer rejected: emailAddress")),
        "{}",
        run.stderr
    );
    let year = chrono::Utc::now().format("%Y-").to_string();
    assert!(!run.stderr.contains(&year), "no timestamp: {}", run.stderr);
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

async fn get(url: &str) -> (u16, String) {
    let response = reqwest::get(url).await.expect("GET");
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

#[tokio::test]
async fn metrics_and_healthz_answer_with_the_right_counts() {
    let fx = Fixture::with_config("\n[invoices]\npath = \"invoices.csv\"\nsettle = \"0s\"\n").await;
    fx.write_export(&export_of(3));
    // I2's customer is rejected by BlueTape: it waits.
    fx.write_file(
        "invoices.csv",
        "id,invoiceNumber,customerId,invoiceDate,dueDate,totalAmount,amountDue,sourceModifiedDate\n\
         I1,N-1,C0001,2024-03-01,2024-03-31,10,10,2024-03-02T00:00:00Z\n\
         I2,N-2,C0002,2024-03-01,2024-03-31,10,10,2024-03-02T00:00:00Z\n",
    );
    fx.fake.reject_id("C0002", "no");
    fx.fake.push_faults([support::Fault::status(503)]);
    let listen = format!("127.0.0.1:{}", free_port());
    let child = fx.spawn_with_env(
        &["run"],
        &[
            ("BLUETAPE_SYNC__SCHEDULE__CRON", "0 0 0 1 1 *"),
            ("BLUETAPE_SYNC__METRICS__LISTEN", &listen),
        ],
    );
    // The metrics count a pass once it has been recorded: wait for that, bounded.
    let until = std::time::Instant::now() + Duration::from_secs(30);
    let (status, text) = loop {
        let (status, text) = match reqwest::get(format!("http://{listen}/metrics")).await {
            Ok(r) => (r.status().as_u16(), r.text().await.unwrap_or_default()),
            Err(_) => (0, String::new()),
        };
        if text.contains("bluetape_sync_passes_total{") || std::time::Instant::now() > until {
            break (status, text);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(status, 200);
    for line in [
        "bluetape_sync_passes_total{outcome=\"rejected\"} 1",
        "bluetape_sync_records{kind=\"customer\",state=\"created\"} 2",
        "bluetape_sync_records{kind=\"customer\",state=\"rejected\"} 1",
        "bluetape_sync_records{kind=\"customer\",state=\"pending\"} 0",
        "bluetape_sync_queue_depth{kind=\"customer\"} 0",
        "bluetape_sync_records{kind=\"invoice\",state=\"created\"} 1",
        "bluetape_sync_records{kind=\"invoice\",state=\"waiting\"} 1",
        "bluetape_sync_records{kind=\"invoice\",state=\"cancelled\"} 0",
        "bluetape_sync_queue_depth{kind=\"invoice\"} 0",
        "bluetape_sync_requests_total{class=\"2xx\"} 3",
        "bluetape_sync_requests_total{class=\"4xx\"} 1",
        "bluetape_sync_requests_total{class=\"5xx\"} 1",
        "bluetape_sync_retries_total 1",
    ] {
        assert!(text.lines().any(|l| l == line), "no `{line}` in\n{text}");
    }
    assert!(
        text.contains("bluetape_sync_last_success_timestamp_seconds "),
        "{text}"
    );
    assert_eq!(get(&format!("http://{listen}/healthz")).await.0, 200);
    assert_eq!(stop(child).await.code, 0);
}

#[tokio::test]
async fn healthz_turns_unhealthy_when_no_pass_succeeds() {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(2));
    fx.fake.set_always(Some(support::Fault::status(503)));
    let listen = format!("127.0.0.1:{}", free_port());
    let child = fx.spawn_with_env(
        &["run"],
        &[
            EVERY_SECOND,
            ("BLUETAPE_SYNC__METRICS__LISTEN", &listen),
            ("BLUETAPE_SYNC__METRICS__UNHEALTHY_AFTER", "1s"),
        ],
    );
    assert!(
        fx.wait_for(Duration::from_secs(30), |f| f.fake.request_count() > 0)
            .await
    );
    let (status, text) = healthz_until(&listen, 503).await;
    assert_eq!(status, 503, "{text}");
    assert!(text.contains("no successful pass"), "{text}");
    let (_, metrics) = get(&format!("http://{listen}/metrics")).await;
    assert!(
        metrics.contains("bluetape_sync_passes_total{outcome=\"unavailable\"}"),
        "{metrics}"
    );
    assert!(!metrics.contains("last_success_timestamp"), "{metrics}");

    fx.fake.set_always(None);
    assert!(
        fx.wait_for(Duration::from_secs(30), |f| f.fake.created_ids().len() == 2)
            .await,
        "the next passes get through"
    );
    assert_eq!(healthz_until(&listen, 200).await.0, 200);
    assert_eq!(stop(child).await.code, 0);
}

/// `/healthz` once it answers `status`, or its last answer after 30 s.
async fn healthz_until(listen: &str, status: u16) -> (u16, String) {
    let until = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let answer = get(&format!("http://{listen}/healthz")).await;
        if answer.0 == status || std::time::Instant::now() > until {
            return answer;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_second_signal_exits_at_once_and_loses_nothing() {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(10));
    // Answers that would hold a graceful stop for a minute.
    fx.fake.set_delay(Duration::from_secs(60));
    let daemon = Daemon::spawn(
        &fx,
        &["run"],
        &[EVERY_SECOND, ("BLUETAPE_SYNC__API__TIMEOUT", "120s")],
    );
    assert!(
        fx.wait_for(Duration::from_secs(30), |f| f.fake.request_count() >= 1)
            .await
    );
    daemon.terminate();
    assert!(
        daemon
            .wait_for_log("stopping: no new requests", Duration::from_secs(30))
            .await,
        "{}",
        daemon.log()
    );
    daemon.terminate();
    let run = daemon.wait(Duration::from_secs(30)).await;
    assert_eq!(run.code, 130, "{}", run.stderr);
    let answered = fx
        .fake
        .received()
        .iter()
        .filter(|r| r.status.is_some())
        .count();
    assert_eq!(answered, 0, "it waited for the slow answers");
    assert!(run.stderr.contains("second signal"), "{}", run.stderr);
    // Everything not recorded as sent is still queued; a later pass sends it once.
    fx.fake.set_delay(Duration::ZERO);
    let again = fx.run(&["--once"]).await;
    assert_eq!(again.code, 0, "{}", again.stderr);
    let mut resent = 0;
    for i in 1..=10 {
        let id = format!("C{i:04}");
        assert_eq!(fx.fake.creations(&id), 1, "{id}");
        resent += fx.fake.posts(&id) - 1;
    }
    // Only what was in flight at the second signal is sent again: at most 2 × concurrency.
    assert!(resent <= 8, "{resent} re-sends");
}

#[tokio::test]
async fn the_store_defaults_to_the_systemd_state_directory() {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(1));
    let config = std::fs::read_to_string(fx.config_path()).expect("config");
    let without_store: String = config
        .lines()
        .filter(|l| !l.starts_with("path = \"/") && *l != "[store]")
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(fx.config_path(), without_store).expect("config");
    let state = fx.path("state-directory");
    std::fs::create_dir(&state).expect("dir");
    let run = fx
        .run_with_env(
            &["--once"],
            &[("STATE_DIRECTORY", state.to_str().expect("utf-8"))],
        )
        .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(state.join("state.db").exists());
    assert!(!fx.store_path().exists());
}
