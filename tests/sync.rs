//! One pass of the real binary against a fake BlueTape on 127.0.0.1 (SPEC §2, §4, §5, §6).

mod support;

use std::time::Duration;

use serde_json::json;
use support::{ACCOUNT, Fault, Fixture, HEADER, KEY, export_of, row};

#[tokio::test]
async fn sends_exact_headers_and_body_and_keeps_the_answer() {
    let fx = Fixture::new().await;
    fx.write_export(&format!(
        "{HEADER}\n\
         A-1, Ada ,Lovelace,ada@example.com,(626) 555-0100,2023-01-04 09:47:57.477,ACME\n\
         B-2,Bob,Builder,bob@example.org,+44 7911 123456,01/05/2023 9:47 PM,\n"
    ));
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);

    let received = fx.fake.received();
    assert_eq!(received.len(), 2);
    let mut received = received;
    received.sort_by(|a, b| a.id().cmp(&b.id()));
    for r in &received {
        assert_eq!(r.method, "POST");
        assert_eq!(r.path, "/genericBthubService/integration/customer");
        assert_eq!(r.headers["x-bluetape-key"], KEY);
        assert_eq!(r.headers["x-integration-accountid"], ACCOUNT);
        assert_eq!(r.headers["content-type"], "application/json");
    }
    assert_eq!(
        received[0].body,
        json!({
            "id": "A-1", "firstName": "Ada", "lastName": "Lovelace",
            "emailAddress": "ada@example.com", "cellPhoneNumber": "+16265550100",
            "sourceModifiedDate": "2023-01-04T09:47:57.477Z", "companyId": "ACME"
        })
    );
    // No companyId in the export: the key is left out, never "".
    assert_eq!(
        received[1].body,
        json!({
            "id": "B-2", "firstName": "Bob", "lastName": "Builder",
            "emailAddress": "bob@example.org", "cellPhoneNumber": "+447911123456",
            "sourceModifiedDate": "2023-01-05T21:47:00.000Z"
        })
    );

    let stored = fx.record("A-1").expect("A-1 stored");
    assert_eq!(stored.state, "created");
    assert_eq!(stored.blue_tape_id.as_deref(), Some("bt-A-1"));
    assert_eq!(
        stored.sign_up_url.as_deref(),
        Some("https://www.bluetape.com/signup?id=A-1")
    );
    assert_eq!(run.count("read"), 2);
    assert_eq!(run.count("created"), 2);
    assert!(run.stderr.contains("pass finished"), "{}", run.stderr);
}

#[tokio::test]
async fn a_second_pass_sends_nothing() {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(5));
    assert_eq!(fx.run(&["--once"]).await.code, 0);
    assert_eq!(fx.fake.request_count(), 5);

    let run = fx.run(&["run", "--once"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fx.fake.request_count(), 5, "nothing new to send");
    assert_eq!(run.count("new"), 0);
    assert_eq!(run.count("created"), 0);
}

#[tokio::test]
async fn conflict_409_is_exists_and_success() {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(3));
    fx.fake.preload("C0002");
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fx.record("C0002").expect("stored").state, "exists");
    assert_eq!(fx.record("C0001").expect("stored").state, "created");
    assert_eq!(run.count("exists"), 1);
    assert_eq!(run.count("created"), 2);
}

#[tokio::test]
async fn bad_request_rejects_one_record_and_the_rest_go_through() {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(4));
    fx.fake
        .reject_id("C0003", "Email C0003@example.com is not allowed");
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 65, "{}", run.stderr);
    let rejected = fx.record("C0003").expect("stored");
    assert_eq!(rejected.state, "rejected");
    assert_eq!(
        rejected.reason.as_deref(),
        Some("400: Email C0003@example.com is not allowed")
    );
    for id in ["C0001", "C0002", "C0004"] {
        assert_eq!(fx.record(id).expect("stored").state, "created", "{id}");
    }
    // The log names the id; the server's reason is shown without the email it echoed.
    assert!(run.stderr.contains("C0003"), "{}", run.stderr);
    assert!(!run.stderr.contains("C0003@example.com"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("error: 1 record was rejected in this pass"),
        "{}",
        run.stderr
    );

    // A rejection from an earlier pass does not fail the next one, nor is it re-sent.
    let again = fx.run(&["--once"]).await;
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(fx.fake.request_count(), 4);
}

#[tokio::test]
async fn invalid_records_are_rejected_locally_with_the_field_named() {
    let fx = Fixture::new().await;
    fx.write_export(&format!(
        "{HEADER}\n\
         {}\n\
         E-1,Eve,Smith,eve-at-example.com,(626) 555-0100,2023-01-04T00:00:00Z,\n\
         P-1,Pat,Smith,pat@example.com,+11234567890,2023-01-04T00:00:00Z,\n\
         D-1,Dee,Smith,dee@example.com,(626) 555-0100,someday,\n\
         N-1,,Smith,n@example.com,(626) 555-0100,2023-01-04T00:00:00Z,\n\
         ,No,Id,noid@example.com,(626) 555-0100,2023-01-04T00:00:00Z,\n",
        row("OK-1", "2023-01-04T00:00:00Z")
    ));
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 65, "{}", run.stderr);
    assert_eq!(fx.fake.request_count(), 1, "only the valid record is sent");
    assert_eq!(run.count("rejected"), 5);
    let reasons = [
        ("E-1", "emailAddress: not a valid email address"),
        ("P-1", "cellPhoneNumber: not a valid number for its region"),
        (
            "D-1",
            "sourceModifiedDate: not a recognised date-time format",
        ),
        ("N-1", "firstName: missing"),
    ];
    for (id, reason) in reasons {
        let stored = fx.record(id).expect("stored");
        assert_eq!(stored.state, "rejected");
        assert_eq!(stored.reason.as_deref(), Some(reason));
        assert!(run.stderr.contains(reason), "{}", run.stderr);
    }
    assert!(
        run.stderr.contains("row 7"),
        "the id-less row is named by row: {}",
        run.stderr
    );
    for pii in ["eve-at-example.com", "+11234567890", "noid@example.com"] {
        assert!(!run.stderr.contains(pii), "{pii} leaked: {}", run.stderr);
    }
}

#[tokio::test]
async fn unauthorized_stops_the_pass_marks_nothing_and_the_right_key_sends_all() {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(20));
    fx.fake.set_key("a-different-key");
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 77, "{}", run.stderr);
    assert!(
        fx.fake.request_count() <= 4,
        "stopped at once: {} requests with concurrency 4",
        fx.fake.request_count()
    );
    assert_eq!(fx.count_in("pending"), 20, "nothing marked");
    assert!(run.stderr.contains("refused the API key"), "{}", run.stderr);
    assert!(!run.stderr.contains(KEY), "the key never appears in output");

    fx.fake.set_key(KEY);
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fx.count_in("created"), 20);
    assert_eq!(fx.fake.created_ids().len(), 20);
}

#[tokio::test]
async fn not_found_endpoint_gives_78() {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(3));
    let wrong = format!("{}/v2", fx.fake.base_url());
    let run = fx
        .run_with_env(&["--once"], &[("BLUETAPE_SYNC__API__BASE_URL", &wrong)])
        .await;
    assert_eq!(run.code, 78, "{}", run.stderr);
    assert!(run.stderr.contains("api.base_url"), "{}", run.stderr);
    assert_eq!(fx.count_in("pending"), 3);
}

#[tokio::test]
async fn transient_failures_are_retried_and_succeed() {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(1));
    fx.fake.push_faults([
        Fault::status(500),
        Fault::Drop,
        Fault::retry_after(503, "0"),
    ]);
    let run = fx
        .run_with_env(&["--once"], &[("BLUETAPE_SYNC__RETRY__MAX_ATTEMPTS", "4")])
        .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let statuses: Vec<_> = fx.fake.received().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [Some(500), None, Some(503), Some(201)]);
    let stored = fx.record("C0001").expect("stored");
    assert_eq!(stored.state, "created");
    assert_eq!(stored.attempts, 4);
}

#[tokio::test]
async fn retry_after_holds_back_every_request_of_the_pass() {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(12));
    // The first request is answered 429 at once; the three beside it take 500 ms, so every
    // later request starts after the client has read the 429.
    let slow = Fault::Slow(Duration::from_millis(500));
    fx.fake.push_faults([
        Fault::retry_after(429, "2"),
        slow.clone(),
        slow.clone(),
        slow,
    ]);
    let run = fx
        .run_with_env(
            &["--once"],
            &[
                ("BLUETAPE_SYNC__API__CONCURRENCY", "4"),
                ("BLUETAPE_SYNC__RETRY__MAX_BACKOFF", "5s"),
            ],
        )
        .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut received = fx.fake.received();
    received.sort_by_key(|r| r.at);
    assert_eq!(received.len(), 13, "12 customers and one retry");
    let limited = received
        .iter()
        .find(|r| r.status == Some(429))
        .expect("the 429");
    let window_ends = limited.at + Duration::from_secs(2);
    // The 429 arrived no later than the client read it: nothing after the first four may
    // start before it said.
    for later in &received[4..] {
        assert!(
            later.at >= window_ends,
            "{:?} started {:?} into the 2-s window",
            later.id(),
            later.at - limited.at
        );
    }
    assert_eq!(fx.count_in("created"), 12);
}

#[tokio::test]
async fn retry_after_as_http_date_and_capped() {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(1));
    fx.fake.push_faults([
        Fault::RetryAt {
            status: 503,
            ahead: Duration::from_secs(2),
        },
        Fault::retry_after(429, "86400"),
    ]);
    let run = fx
        .run_with_env(
            &["--once"],
            &[("BLUETAPE_SYNC__RETRY__MAX_BACKOFF", "2500ms")],
        )
        .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let r = fx.fake.received();
    assert_eq!(r.len(), 3);
    // An HTTP date 2 s ahead, to the second: at least 1 s.
    let first_wait = r[1].at - r[0].at;
    assert!(first_wait >= Duration::from_secs(1), "{first_wait:?}");
    // A day-long Retry-After is capped at retry.max_backoff (generous above: the machine
    // may be busy, but nowhere near a day).
    let second_wait = r[2].at - r[1].at;
    assert!(
        second_wait >= Duration::from_millis(2500) && second_wait < Duration::from_secs(60),
        "{second_wait:?}"
    );
}

#[tokio::test]
async fn a_server_that_stays_down_gives_69_after_few_requests() {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(50));
    fx.fake.set_always(Some(Fault::status(503)));
    let run = fx
        .run_with_env(&["--once"], &[("BLUETAPE_SYNC__API__CONCURRENCY", "2")])
        .await;
    assert_eq!(run.code, 69, "{}", run.stderr);
    let requests = fx.fake.request_count();
    // stop_after 3 records × 3 attempts, plus what was in flight: far below 50 × 3.
    assert!(requests <= 15, "{requests} requests against a dead server");
    assert!(run.stderr.contains("unavailable"), "{}", run.stderr);
    let failed = fx.count_in("failed");
    assert!((3..=4).contains(&failed), "failed {failed}");
    assert_eq!(fx.count_in("pending") + failed, 50, "nothing lost");

    // Back up: the next pass (after the failed records' next-attempt time) sends all.
    fx.fake.set_always(None);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fx.count_in("created"), 50);
}

#[tokio::test]
async fn ties_at_the_watermark_are_never_lost_and_older_records_are_skipped() {
    let fx = Fixture::new().await;
    let first = format!(
        "{HEADER}\n{}\n{}\n",
        row("A", "2024-03-01T10:00:00Z"),
        row("B", "2024-03-01T09:00:00Z")
    );
    fx.write_export(&first);
    assert_eq!(fx.run(&["--once"]).await.code, 0);
    assert_eq!(fx.watermark_ms(), Some(1_709_287_200_000));

    // C ties with the watermark; D is older than watermark - lookback (0s here).
    let second = format!(
        "{first}{}\n{}\n",
        row("C", "2024-03-01T10:00:00Z"),
        row("D", "2024-03-01T09:59:59Z")
    );
    fx.write_export(&second);
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let sent: Vec<_> = fx
        .fake
        .received()
        .iter()
        .filter_map(|r| r.id().map(str::to_owned))
        .collect();
    assert_eq!(sent.len(), 3, "{sent:?}");
    assert!(sent.contains(&"C".to_owned()));
    assert!(fx.record("D").is_none(), "D is older than the watermark");
    assert_eq!(run.count("skipped"), 2);

    // --full ignores the watermark and finds D.
    let run = fx.run(&["--once", "--full"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fx.record("D").expect("D").state, "created");
    assert_eq!(fx.fake.request_count(), 4);
}

#[tokio::test]
async fn lookback_catches_a_record_written_late_with_an_older_date() {
    let fx = Fixture::new().await;
    fx.write_export(&format!("{HEADER}\n{}\n", row("A", "2024-03-01T10:00:00Z")));
    let env = [("BLUETAPE_SYNC__SOURCE__LOOKBACK", "1h")];
    assert_eq!(fx.run_with_env(&["--once"], &env).await.code, 0);
    fx.write_export(&format!(
        "{HEADER}\n{}\n{}\n{}\n",
        row("A", "2024-03-01T10:00:00Z"),
        row("LATE", "2024-03-01T09:30:00Z"),
        row("OLD", "2024-03-01T08:30:00Z")
    ));
    let run = fx.run_with_env(&["--once"], &env).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fx.record("LATE").expect("LATE").state, "created");
    assert!(fx.record("OLD").is_none());
}

#[tokio::test]
async fn a_duplicate_id_sends_the_row_with_the_later_date() {
    let fx = Fixture::new().await;
    fx.write_export(&format!(
        "{HEADER}\n\
         X,Newer,Name,x@example.com,(626) 555-0100,2024-03-02T00:00:00Z,\n\
         X,Older,Name,x@example.com,(626) 555-0100,2024-03-01T00:00:00Z,\n\
         Y,Old,Bad,not-an-email,(626) 555-0100,2024-03-01T00:00:00Z,\n\
         Y,New,Good,y@example.com,(626) 555-0100,2024-03-03T00:00:00Z,\n"
    ));
    let run = fx.run(&["--once"]).await;
    assert_eq!(
        run.code, 0,
        "the invalid older Y does not count: {}",
        run.stderr
    );
    let received = fx.fake.received();
    assert_eq!(received.len(), 2);
    for r in &received {
        match r.id() {
            Some("X") => assert_eq!(r.body["firstName"], "Newer"),
            Some("Y") => assert_eq!(r.body["firstName"], "New"),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(run.count("new"), 2);
    assert_eq!(run.count("rejected"), 0);
}

#[tokio::test]
async fn a_rejected_record_fixed_upstream_is_sent() {
    let fx = Fixture::new().await;
    let bad = "F,Fay,Smith,fay-at-example,(626) 555-0100,2024-03-01T00:00:00Z,";
    fx.write_export(&format!("{HEADER}\n{bad}\n"));
    assert_eq!(fx.run(&["--once"]).await.code, 65);
    assert_eq!(fx.record("F").expect("F").state, "rejected");
    // Unchanged: still rejected, not counted again, nothing sent.
    let run = fx.run(&["--once", "--full"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fx.fake.request_count(), 0);

    let fixed = "F,Fay,Smith,fay@example.com,(626) 555-0100,2024-03-01T12:00:00Z,";
    fx.write_export(&format!("{HEADER}\n{fixed}\n"));
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fx.record("F").expect("F").state, "created");
    assert_eq!(
        fx.fake.received()[0].body["emailAddress"],
        "fay@example.com"
    );
}

#[tokio::test]
async fn a_changed_customer_is_counted_not_created_again() {
    let fx = Fixture::new().await;
    fx.write_export(&format!("{HEADER}\n{}\n", row("A", "2024-03-01T00:00:00Z")));
    assert_eq!(fx.run(&["--once"]).await.code, 0);
    fx.write_export(&format!("{HEADER}\n{}\n", row("A", "2024-03-05T00:00:00Z")));
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.count("upstream"), 1);
    assert_eq!(fx.fake.request_count(), 1);
    let stored = fx.record("A").expect("A");
    assert_eq!(stored.state, "created");
    assert_eq!(stored.source_modified_ms, Some(1_709_596_800_000));
}

#[tokio::test]
async fn dry_run_sends_nothing_and_changes_nothing() {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(3));
    let run = fx.run(&["--once", "--dry-run"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fx.fake.request_count(), 0);
    assert!(!fx.store_path().exists(), "no store created by a dry run");
    assert_eq!(
        would_send(&run.stdout),
        ["would send C0001", "would send C0002", "would send C0003"]
    );

    // With a store: the same pass leaves it exactly as it was.
    assert_eq!(fx.run(&["--once"]).await.code, 0);
    fx.write_export(&export_of(5));
    let before = std::fs::read(fx.store_path()).expect("store");
    let (wm, created) = (fx.watermark_ms(), fx.count_in("created"));
    let run = fx.run(&["run", "--once", "--dry-run"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        would_send(&run.stdout),
        ["would send C0004", "would send C0005"]
    );
    assert_eq!(fx.fake.request_count(), 3);
    assert_eq!((fx.watermark_ms(), fx.count_in("created")), (wm, created));
    assert_eq!(fx.count_in("pending"), 0);
    assert_eq!(std::fs::read(fx.store_path()).expect("store"), before);
}

fn would_send(stdout: &str) -> Vec<&str> {
    stdout.lines().filter(|l| l.starts_with("would ")).collect()
}

#[tokio::test]
async fn killed_mid_pass_then_rerun_creates_every_customer_exactly_once() {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(60));
    fx.fake.set_delay(Duration::from_millis(40));
    let mut child = fx.spawn(&["--once"]);
    let sending = fx
        .wait_for(Duration::from_secs(60), |fx| fx.fake.request_count() >= 20)
        .await;
    assert!(sending, "the pass never sent 20 requests");
    child.start_kill().expect("SIGKILL");
    let status = child.wait().await.expect("wait");
    assert_eq!(status.code(), None, "killed by a signal");

    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    for i in 1..=60 {
        let id = format!("C{i:04}");
        assert_eq!(fx.fake.creations(&id), 1, "{id} created exactly once");
        let state = fx.record(&id).expect("stored").state;
        assert!(state == "created" || state == "exists", "{id}: {state}");
    }
    // Only customers sent without their answer recorded (at most 2 × concurrency) may be
    // sent again.
    let resent: usize = (1..=60)
        .map(|i| fx.fake.posts(&format!("C{i:04}")) - 1)
        .sum();
    assert!(resent <= 8, "{resent} re-sends");
}

#[tokio::test]
async fn in_flight_requests_never_exceed_api_concurrency() {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(24));
    fx.fake.set_delay(Duration::from_millis(100));
    let run = fx
        .run_with_env(&["--once"], &[("BLUETAPE_SYNC__API__CONCURRENCY", "3")])
        .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fx.fake.max_in_flight(), 3);
    assert_eq!(fx.count_in("created"), 24);
}

#[tokio::test]
async fn requests_start_evenly_spaced_at_the_rate_limit() {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(25));
    let run = fx
        .run_with_env(
            &["--once"],
            &[
                ("BLUETAPE_SYNC__API__MAX_REQUESTS_PER_SECOND", "20"),
                ("BLUETAPE_SYNC__API__CONCURRENCY", "8"),
            ],
        )
        .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut starts: Vec<_> = fx.fake.received().iter().map(|r| r.at).collect();
    starts.sort();
    assert_eq!(starts.len(), 25);
    // No one-second window holds more than 20 starts (21 starts span at least 1 s). The fake
    // stamps a start when it gets to the request, which a busy machine delays by a few tens of
    // milliseconds: allow two slots (100 ms) of such jitter. A burst would be far below it.
    for window in starts.windows(21) {
        let span = window[20] - window[0];
        assert!(span >= Duration::from_millis(900), "21 starts in {span:?}");
    }
    // No initial burst: the first five starts are spread over 200 ms, less jitter.
    let first = starts[4] - starts[0];
    assert!(first >= Duration::from_millis(120), "5 starts in {first:?}");
}

#[tokio::test]
async fn a_second_instance_on_the_same_store_exits_75() {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(10));
    fx.fake.set_delay(Duration::from_millis(300));
    let mut first = fx.spawn(&["--once"]);
    let sending = fx
        .wait_for(Duration::from_secs(60), |fx| fx.fake.request_count() > 0)
        .await;
    assert!(sending, "the first instance never sent");
    let second = fx.run(&["--once"]).await;
    assert_eq!(second.code, 75, "{}", second.stderr);
    let pid = first.id().expect("pid");
    assert!(
        second.stderr.contains(&format!("pid {pid}")),
        "{}",
        second.stderr
    );
    let status = first.wait().await.expect("first");
    assert_eq!(status.code(), Some(0));
}

#[tokio::test]
async fn config_from_the_environment_variable_and_run_subcommand() {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(2));
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_bluetape-sync"));
    let output = cmd
        .arg("--once")
        .env("BLUETAPE_SYNC_CONFIG", fx.config_path())
        .env_remove("BLUETAPE_API_KEY")
        .output()
        .await
        .expect("run");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(fx.count_in("created"), 2);
}

#[tokio::test]
async fn the_key_comes_from_the_environment_first() {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(1));
    std::fs::write(fx.path("api.key"), "wrong-key-in-file\n").expect("key file");
    let run = fx
        .run_with_env(&["--once"], &[("BLUETAPE_API_KEY", KEY)])
        .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fx.fake.received()[0].headers["x-bluetape-key"], KEY);
}

#[tokio::test]
async fn config_problems_exit_78_with_the_key_and_file_named() {
    let fx = Fixture::with_config("colour = \"blue\"").await;
    fx.write_export(&export_of(1));
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 78, "{}", run.stderr);
    assert!(run.stderr.contains("source.colour"), "{}", run.stderr);
    assert!(
        run.stderr.contains(&fx.config_path().display().to_string()),
        "{}",
        run.stderr
    );
    assert_eq!(run.stderr.lines().count(), 1, "one line: {}", run.stderr);

    let fx = Fixture::new().await;
    let run = fx
        .run_with_env(&["--once"], &[("BLUETAPE_SYNC__API__CONCURRENCY", "lots")])
        .await;
    assert_eq!(run.code, 78, "{}", run.stderr);
    assert!(run.stderr.contains("api.concurrency"), "{}", run.stderr);
    assert!(
        run.stderr.contains("BLUETAPE_SYNC__API__CONCURRENCY"),
        "{}",
        run.stderr
    );

    std::fs::remove_file(fx.path("api.key")).expect("remove key");
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 78, "{}", run.stderr);
    assert!(run.stderr.contains("api.key"), "{}", run.stderr);

    let run = fx
        .run_with_env(
            &["--once"],
            &[(
                "BLUETAPE_SYNC__API__BASE_URL",
                "http://bluetape.example.com",
            )],
        )
        .await;
    assert_eq!(run.code, 78, "{}", run.stderr);
}

#[tokio::test]
async fn a_missing_export_is_78_and_earlier_queued_customers_still_go() {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(3));
    fx.fake.set_always(Some(Fault::status(503)));
    assert_eq!(fx.run(&["--once"]).await.code, 69);
    fx.fake.set_always(None);
    std::fs::remove_file(fx.path("export.csv")).expect("remove export");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 78, "{}", run.stderr);
    assert!(run.stderr.contains("does not exist"), "{}", run.stderr);
    assert_eq!(fx.count_in("created"), 3);
}

#[tokio::test]
async fn a_missing_column_is_78_naming_the_field() {
    let fx = Fixture::with_config("[source.fields]\nemailAddress = \"E-mail\"").await;
    fx.write_export(&export_of(1));
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 78, "{}", run.stderr);
    assert!(run.stderr.contains("E-mail"), "{}", run.stderr);
    assert!(
        run.stderr.contains("source.fields.emailAddress"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn a_response_slower_than_the_timeout_is_retried_and_the_resend_is_exists() {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(2));
    // The fake creates the customer but answers after the client gave up.
    fx.fake.push_faults([Fault::Slow(Duration::from_secs(5))]);
    let run = fx
        .run_with_env(
            &["--once"],
            &[
                ("BLUETAPE_SYNC__API__TIMEOUT", "1s"),
                ("BLUETAPE_SYNC__API__CONCURRENCY", "1"),
            ],
        )
        .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fx.record("C0001").expect("stored").state, "exists");
    assert_eq!(fx.record("C0002").expect("stored").state, "created");
    assert_eq!(fx.fake.creations("C0001"), 1);
    assert_eq!(run.count("exists"), 1);
}

#[tokio::test]
async fn connection_dropped_after_the_customer_was_created_ends_as_exists() {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(1));
    fx.fake.push_faults([Fault::CreateThenDrop]);
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let statuses: Vec<_> = fx.fake.received().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [None, Some(409)]);
    assert_eq!(fx.record("C0001").expect("stored").state, "exists");
    assert_eq!(fx.fake.creations("C0001"), 1);
}

#[tokio::test]
async fn sigterm_finishes_requests_in_flight_records_them_and_exits_0() {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(40));
    fx.fake.set_delay(Duration::from_millis(400));
    let child = fx.spawn(&["--once"]);
    let sending = fx
        .wait_for(Duration::from_secs(60), |fx| fx.fake.request_count() >= 4)
        .await;
    assert!(sending, "the pass never sent 4 requests");
    support::terminate(&child);
    let run = support::Run::from(child.wait_with_output().await.expect("wait"));
    assert_eq!(run.code, 0, "{}", run.stderr);
    // Every request that reached BlueTape was answered and recorded; no new one started.
    let sent = fx.fake.request_count() as u64;
    assert!(sent < 40, "{sent} requests: it stopped early");
    assert_eq!(fx.count_in("created"), sent);
    assert_eq!(fx.count_in("pending"), 40 - sent);
    assert_eq!(run.count("queued"), 40 - sent);
}

#[tokio::test]
async fn the_key_can_come_from_the_systemd_credential() {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(1));
    let config = std::fs::read_to_string(fx.config_path()).expect("config");
    std::fs::write(
        fx.config_path(),
        config.replace("key_file = \"api.key\"\n", ""),
    )
    .expect("config");
    let credentials = fx.path("credentials");
    std::fs::create_dir(&credentials).expect("dir");
    std::fs::write(credentials.join("bluetape-api-key"), format!("{KEY}\n")).expect("key");
    let run = fx
        .run_with_env(
            &["--once"],
            &[(
                "CREDENTIALS_DIRECTORY",
                credentials.to_str().expect("utf-8"),
            )],
        )
        .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fx.fake.received()[0].headers["x-bluetape-key"], KEY);

    // No key anywhere: 78, saying where a key may come from.
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 78, "{}", run.stderr);
    assert!(run.stderr.contains("BLUETAPE_API_KEY"), "{}", run.stderr);
}

#[cfg(unix)]
#[tokio::test]
async fn the_store_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let fx = Fixture::new().await;
    fx.write_export(&export_of(1));
    assert_eq!(fx.run(&["--once"]).await.code, 0);
    let mode = std::fs::metadata(fx.store_path())
        .expect("store")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
}

#[tokio::test]
async fn json_logs_are_one_object_per_line_without_contact_details() {
    let fx = Fixture::with_config("[log]\nformat = \"json\"\nlevel = \"info\"").await;
    fx.write_export(&format!(
        "{HEADER}\n{}\nBAD,Bad,Phone,bad@example.com,+11234567890,2024-03-01T00:00:00Z,\n",
        row("A", "2024-03-01T00:00:00Z")
    ));
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 65, "{}", run.stderr);
    let events: Vec<serde_json::Value> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).expect("a JSON object per line"))
        .collect();
    assert!(events.len() >= 3, "{}", run.stderr);
    let rejected = events
        .iter()
        .find(|e| e["fields"]["id"] == "BAD")
        .expect("the rejection names the id");
    assert_eq!(rejected["level"], "WARN");
    for text in [
        "A@example.com",
        "bad@example.com",
        "+11234567890",
        "555-0100",
        KEY,
    ] {
        assert!(!run.stderr.contains(text), "{text} in {}", run.stderr);
    }
}

#[tokio::test]
async fn a_long_pass_logs_its_progress_every_ten_seconds() {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(12));
    fx.fake.set_delay(Duration::from_secs(1));
    let run = fx
        .run_with_env(&["--once"], &[("BLUETAPE_SYNC__API__CONCURRENCY", "1")])
        .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let progress: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("progress: "))
        .collect();
    // About 12 s of sending: one line at 10 s (more on a slow machine).
    assert!(!progress.is_empty(), "{}", run.stderr);
    assert!(
        progress[0].contains("progress: read 12 records, sent ")
            && progress[0].contains(" of 12 ("),
        "{}",
        progress[0]
    );
}

/// New records are stored many at a time; ids already known and ids twice in the export
/// among them still follow the export's order: the later date wins, on a tie the later row.
#[tokio::test]
async fn in_a_large_export_known_and_repeated_ids_keep_the_export_order() {
    let fx = Fixture::new().await;
    let date = |i: i64| {
        chrono::DateTime::from_timestamp(1_700_000_000 + i, 0)
            .expect("date")
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string()
    };
    let named = |id: &str, first: &str, i: i64| {
        format!(
            "{id},{first},Last,{id}@example.com,(626) 555-0100,{},",
            date(i)
        )
    };
    let mut first = format!("{HEADER}\n");
    for i in 0..150 {
        first.push_str(&row(&format!("K{i:03}"), &date(i)));
        first.push('\n');
    }
    fx.write_export(&first);
    assert_eq!(fx.run(&["--once"]).await.code, 0);
    assert_eq!(fx.fake.request_count(), 150);

    // Known ids unchanged, one known id changed, then 150 new ids with three repeated.
    let mut second = format!("{HEADER}\n");
    for i in 100..150 {
        let i = i64::from(i);
        let when = if i == 120 { 10_000 } else { i };
        second.push_str(&named(&format!("K{i:03}"), &format!("First{i}"), when));
        second.push('\n');
    }
    for i in 200..350i64 {
        let line = match i {
            // The same id again, later in the same batch of new records.
            210 => named("N210", "Older", 1_000),
            215 => named("N210", "Newer", 1_001),
            220 => named("N220", "Kept", 1_001),
            225 => named("N220", "Earlier", 1_000),
            230 => named("N230", "TieFirst", 1_000),
            235 => named("N230", "TieLater", 1_000),
            _ => named(&format!("N{i}"), "Plain", 1_000 + i),
        };
        second.push_str(&line);
        second.push('\n');
    }
    fx.write_export(&second);
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.count("new"), 147, "{}", run.stderr);
    assert_eq!(run.count("changed upstream"), 1, "{}", run.stderr);

    let received = fx.fake.received();
    let second_pass = &received[150..];
    assert_eq!(second_pass.len(), 147);
    let mut ids: Vec<&str> = second_pass.iter().filter_map(|r| r.id()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 147, "each new customer sent once");
    assert!(ids.iter().all(|id| id.starts_with('N')), "no known id sent");
    let first_name = |id: &str| {
        second_pass
            .iter()
            .find(|r| r.id() == Some(id))
            .map(|r| r.body["firstName"].clone())
    };
    assert_eq!(first_name("N210"), Some("Newer".into()));
    assert_eq!(first_name("N220"), Some("Kept".into()));
    assert_eq!(first_name("N230"), Some("TieLater".into()));
}
