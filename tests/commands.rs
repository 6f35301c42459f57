//! The operator's commands (SPEC §6) against stores made by real passes at the fake BlueTape.

mod support;

use std::time::Duration;

use serde_json::Value;
use support::{Fault, Fixture, HEADER, KEY, export_of, row, stop};

/// Three created, one rejected by BlueTape, one rejected locally.
async fn a_store_after_one_pass() -> Fixture {
    let fx = Fixture::new().await;
    fx.write_export(&format!(
        "{}BAD,Bad,Phone,bad@example.com,+11234567890,2024-03-01T00:00:00Z,\n",
        export_of(4)
    ));
    fx.fake.reject_id("C0004", "Invalid customer");
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 65, "set-up pass: {}", run.stderr);
    fx
}

#[tokio::test]
async fn status_json_has_the_documented_shape() {
    let fx = Fixture::new().await;
    fx.write_export(&format!(
        "{}BAD,Bad,Phone,bad@example.com,+11234567890,2024-03-01T00:00:00Z,\n",
        export_of(3)
    ));
    fx.fake.reject_id("C0003", "Invalid customer");
    assert_eq!(fx.run(&["--once"]).await.code, 65);
    let run = fx.run(&["status", "--json"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let status: Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(status["watermark"], "2024-03-01T00:00:00.000Z");
    assert_eq!(
        status["counts"],
        serde_json::json!({"pending": 0, "created": 2, "exists": 0, "rejected": 2, "failed": 0})
    );
    let last = &status["last_pass"];
    assert_eq!(last["outcome"], "rejected");
    assert!(
        last["started_at"]
            .as_str()
            .is_some_and(|s| s.ends_with('Z'))
    );
    assert!(last["finished_at"].as_str().is_some());
    assert_eq!(last["created"], 2);
    assert_eq!(last["rejected"], 2);
    assert_eq!(status["daemon"], Value::Null);

    let table = fx.run(&["status"]).await;
    assert!(
        table
            .stdout
            .contains("pending 0, created 2, exists 0, rejected 2, failed 0"),
        "{}",
        table.stdout
    );
    assert!(
        table.stdout.contains("daemon      not running"),
        "{}",
        table.stdout
    );
}

#[tokio::test]
async fn status_before_any_pass_creates_nothing() {
    let fx = Fixture::new().await;
    let run = fx.run(&["status", "--json"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let status: Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(status["last_pass"], Value::Null);
    assert_eq!(status["watermark"], Value::Null);
    assert!(!fx.store_path().exists());
}

#[tokio::test]
async fn failures_in_every_format() {
    let fx = Fixture::new().await;
    fx.write_export(&format!(
        "{}BAD,Bad,Phone,bad@example.com,+11234567890,2024-03-01T00:00:00Z,\n",
        export_of(2)
    ));
    fx.fake.reject_id("C0002", "Invalid customer");
    assert_eq!(fx.run(&["--once"]).await.code, 65);

    let run = fx.run(&["failures", "--format", "json"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut failures: Vec<Value> = serde_json::from_str(&run.stdout).expect("JSON");
    failures.sort_by_key(|f| f["id"].as_str().map(str::to_owned));
    assert_eq!(failures.len(), 2);
    assert_eq!(failures[0]["id"], "BAD");
    assert_eq!(failures[0]["state"], "rejected");
    assert_eq!(
        failures[0]["reason"],
        "cellPhoneNumber: not a valid number for its region"
    );
    assert_eq!(failures[0]["source_modified"], "2024-03-01T00:00:00.000Z");
    assert_eq!(failures[0]["attempts"], 0);
    assert_eq!(failures[1]["id"], "C0002");
    assert_eq!(failures[1]["reason"], "400: Invalid customer");
    assert_eq!(failures[1]["attempts"], 1);
    assert_eq!(failures[1]["last_status"], 400);

    let csv = fx.run(&["failures", "--format", "csv"]).await;
    assert!(csv.stdout.starts_with("id,state,reason,"), "{}", csv.stdout);
    assert_eq!(csv.stdout.lines().count(), 3);

    let table = fx.run(&["failures"]).await;
    assert!(
        table
            .stdout
            .lines()
            .next()
            .is_some_and(|h| h.starts_with("id ")),
        "{}",
        table.stdout
    );
    assert!(table.stdout.contains("400: Invalid customer"));

    let only_failed = fx
        .run(&["failures", "--format", "json", "--state", "failed"])
        .await;
    assert_eq!(only_failed.stdout.trim(), "[]");
    let future = fx
        .run(&["failures", "--format", "json", "--since", "2099-01-01"])
        .await;
    assert_eq!(future.stdout.trim(), "[]");
    let recent = fx
        .run(&["failures", "--format", "json", "--since", "1h"])
        .await;
    assert_eq!(
        serde_json::from_str::<Vec<Value>>(&recent.stdout)
            .expect("JSON")
            .len(),
        2
    );
}

#[tokio::test]
async fn export_lists_what_bluetape_returned_and_fetches_missing_urls() {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(3));
    fx.fake.preload("C0003");
    assert_eq!(fx.run(&["--once"]).await.code, 0);

    let run = fx.run(&["export"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines[0], "id,emailAddress,blueTapeId,signUpUrl,created_at");
    assert_eq!(lines.len(), 3, "created customers only: {lines:?}");
    // Listed in the order they were created, which concurrency may shuffle.
    let c0001 = lines
        .iter()
        .find(|l| l.starts_with("C0001,"))
        .expect("C0001");
    assert!(
        c0001.starts_with(
            "C0001,C0001@example.com,bt-C0001,https://www.bluetape.com/signup?id=C0001,"
        ),
        "{c0001}"
    );

    let json = fx.run(&["export", "--format", "json"]).await;
    let rows: Vec<Value> = serde_json::from_str(&json.stdout).expect("JSON");
    let c0002 = rows.iter().find(|r| r["id"] == "C0002").expect("C0002");
    assert_eq!(c0002["blueTapeId"], "bt-C0002");
    assert_eq!(
        c0002["signUpUrl"],
        "https://www.bluetape.com/signup?id=C0002"
    );
    assert!(
        c0002["created_at"]
            .as_str()
            .is_some_and(|s| s.ends_with('Z'))
    );

    // C0003 was already in BlueTape (409): --fetch-missing asks for its URL, once.
    let gets = |fx: &Fixture| {
        fx.fake
            .received()
            .iter()
            .filter(|r| r.method == "GET")
            .count()
    };
    let fetched = fx.run(&["export", "--fetch-missing"]).await;
    assert_eq!(fetched.code, 0, "{}", fetched.stderr);
    assert!(
        fetched.stdout.contains(
            "C0003,C0003@example.com,,https://www.bluetape.com/signup?id=C0003&fetched=1,"
        ),
        "{}",
        fetched.stdout
    );
    assert_eq!(gets(&fx), 1);
    let get = fx
        .fake
        .received()
        .into_iter()
        .find(|r| r.method == "GET")
        .expect("GET");
    assert_eq!(
        get.path,
        "/genericBthubService/integration/customer/C0003/signup"
    );
    assert_eq!(get.headers["x-bluetape-key"], KEY);
    let again = fx.run(&["export", "--fetch-missing"]).await;
    assert_eq!(again.code, 0);
    assert_eq!(gets(&fx), 1, "the fetched URL was kept");
}

#[tokio::test]
async fn retry_then_a_pass_sends_exactly_the_retried_records() {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(3));
    fx.fake.reject_id("C0001", "Invalid customer");
    fx.fake.reject_id("C0002", "Invalid customer");
    assert_eq!(fx.run(&["--once"]).await.code, 65);
    let before = fx.fake.request_count();

    let run = fx.run(&["retry", "--id", "C0002"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("1 queued again"), "{}", run.stdout);
    assert_eq!(fx.record("C0002").expect("C0002").state, "pending");
    assert_eq!(fx.record("C0001").expect("C0001").state, "rejected");

    let pass = fx.run(&["--once"]).await;
    let sent: Vec<_> = fx.fake.received()[before..]
        .iter()
        .map(|r| r.id().expect("id").to_owned())
        .collect();
    assert_eq!(sent, ["C0002"]);
    assert_eq!(pass.code, 65, "rejected again: {}", pass.stderr);

    let unknown = fx.run(&["retry", "--id", "NOPE"]).await;
    assert_eq!(unknown.code, 1);
    assert!(unknown.stderr.contains("NOPE"), "{}", unknown.stderr);

    // A known id beside an unknown one is queued, and one error line says both: no success
    // line before it.
    let both = fx.run(&["retry", "--id", "C0001", "--id", "NOPE"]).await;
    assert_eq!(both.code, 1, "{}", both.stderr);
    assert_eq!(both.stdout, "", "no success line");
    assert_eq!(
        both.stderr.trim(),
        "error: no such id in the store: NOPE (of the others, 1 queued again, 0 to be read \
         again from the export: the next pass sends them)"
    );
    assert_eq!(fx.record("C0001").expect("C0001").state, "pending");
}

#[tokio::test]
async fn retry_without_an_id_queues_every_rejected_and_failed_record() {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(4));
    fx.fake.reject_id("C0002", "Invalid customer");
    // C0001, sent first, exhausts its three attempts; the others go through.
    fx.fake
        .push_faults([Fault::status(503), Fault::status(503), Fault::status(503)]);
    let run = fx
        .run_with_env(&["--once"], &[("BLUETAPE_SYNC__API__CONCURRENCY", "1")])
        .await;
    assert_eq!(run.code, 69, "{}", run.stderr);
    let states: Vec<_> = ["C0001", "C0002", "C0003", "C0004"]
        .iter()
        .map(|id| fx.record(id).expect("stored").state)
        .collect();
    assert_eq!(states, ["failed", "rejected", "created", "created"]);
    let before = fx.fake.request_count();

    let run = fx.run(&["retry"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("2 queued again"), "{}", run.stdout);
    assert_eq!(fx.count_in("pending"), 2);

    fx.fake.reject_id("C0002", "Still invalid");
    let pass = fx.run(&["--once"]).await;
    assert_eq!(pass.code, 65, "{}", pass.stderr);
    let mut sent: Vec<_> = fx.fake.received()[before..]
        .iter()
        .map(|r| r.id().expect("id").to_owned())
        .collect();
    sent.sort();
    assert_eq!(sent, ["C0001", "C0002"]);
    assert_eq!(fx.record("C0001").expect("C0001").state, "created");
}

#[tokio::test]
async fn retry_of_a_record_rejected_locally_reads_it_again_after_a_config_fix() {
    let fx = Fixture::new().await;
    // A UK mobile written without +44: invalid as a US number.
    fx.write_export(&format!(
        "{HEADER}\nUK,Ann,Lee,ann@example.co.uk,07911 123456,2024-03-01T00:00:00Z,\n{}\n",
        row("LATER", "2024-03-05T00:00:00Z")
    ));
    assert_eq!(fx.run(&["--once"]).await.code, 65);
    let gb = [("BLUETAPE_SYNC__SOURCE__DEFAULT_COUNTRY", "GB")];
    // Unchanged in the export and older than the watermark: a plain pass does not see it.
    assert_eq!(fx.run_with_env(&["--once"], &gb).await.code, 0);
    assert_eq!(fx.fake.creations("UK"), 0);

    let run = fx.run_with_env(&["retry", "--all-rejected"], &gb).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("1 to be read again"), "{}", run.stdout);
    let pass = fx.run_with_env(&["--once"], &gb).await;
    assert_eq!(pass.code, 0, "{}", pass.stderr);
    assert_eq!(fx.fake.creations("UK"), 1);
    let uk = fx
        .fake
        .received()
        .into_iter()
        .find(|r| r.id() == Some("UK"))
        .expect("UK");
    assert_eq!(uk.body["cellPhoneNumber"], "+447911123456");
}

#[tokio::test]
async fn show_lists_the_history_in_order() {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(1));
    fx.fake.push_faults([Fault::status(503), Fault::Drop]);
    assert_eq!(fx.run(&["--once"]).await.code, 0);
    let run = fx.run(&["show", "--id", "C0001", "--json"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let shown: Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(shown["state"], "created");
    assert_eq!(shown["blue_tape_id"], "bt-C0001");
    assert_eq!(
        shown["sign_up_url"],
        "https://www.bluetape.com/signup?id=C0001"
    );
    let history = shown["history"].as_array().expect("history");
    let steps: Vec<(String, Value, Value)> = history
        .iter()
        .map(|e| {
            (
                e["what"].as_str().unwrap_or("").to_owned(),
                e["status"].clone(),
                e["outcome"].clone(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("queued".to_owned(), Value::Null, Value::Null),
            ("attempt".to_owned(), Value::from(503), Value::from("retry")),
            ("attempt".to_owned(), Value::Null, Value::from("retry")),
            (
                "attempt".to_owned(),
                Value::from(201),
                Value::from("created")
            ),
        ]
    );
    assert!(history.iter().all(|e| e["pass"] == 1));

    let text = fx.run(&["show", "--id", "C0001"]).await;
    assert!(text.stdout.contains("bt-C0001"), "{}", text.stdout);
    let unknown = fx.run(&["show", "--id", "NOPE"]).await;
    assert_ne!(unknown.code, 0);
    assert!(
        unknown.stderr.contains("no customer NOPE"),
        "{}",
        unknown.stderr
    );
}

#[tokio::test]
async fn commands_work_while_a_daemon_holds_the_store() {
    let fx = a_store_after_one_pass().await;
    fx.write_export(&export_of(2));
    let child = fx.spawn_with_env(
        &["run"],
        &[("BLUETAPE_SYNC__SCHEDULE__CRON", "0 0 0 1 1 *")],
    );
    assert!(
        fx.wait_for(Duration::from_secs(30), |f| f.passes().len() >= 2)
            .await,
        "the daemon's first pass"
    );
    // The daemon records its next pass once the first has finished: wait for it, bounded.
    let until = std::time::Instant::now() + Duration::from_secs(30);
    let status = loop {
        let run = fx.run(&["status", "--json"]).await;
        assert_eq!(run.code, 0, "{}", run.stderr);
        let status: Value = serde_json::from_str(&run.stdout).expect("JSON");
        if status["daemon"]["next_pass"].is_string() || std::time::Instant::now() > until {
            break status;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(status["daemon"]["pid"], child.id().expect("pid"));
    assert!(
        status["daemon"]["next_pass"]
            .as_str()
            .is_some_and(|n| n.contains("-01-01T00:00:00"))
    );
    assert_eq!(fx.run(&["failures", "--format", "json"]).await.code, 0);
    assert_eq!(fx.run(&["export"]).await.code, 0);
    assert_eq!(fx.run(&["show", "--id", "C0001"]).await.code, 0);
    let retry = fx.run(&["retry", "--id", "C0004"]).await;
    assert_eq!(retry.code, 0, "{}", retry.stderr);
    assert_eq!(fx.record("C0004").expect("C0004").state, "pending");
    let run = stop(child).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let after = fx.run(&["status", "--json"]).await;
    let after: Value = serde_json::from_str(&after.stdout).expect("JSON");
    assert_eq!(
        after["daemon"],
        Value::Null,
        "a stopped daemon is not shown"
    );
}

#[tokio::test]
async fn check_lists_every_problem_of_a_broken_config() {
    let fx = Fixture::with_config(
        "delimiter = \"::\"\ntimezone = \"Mars/Olympus\"\n[log]\nlevel = \"loud\"",
    )
    .await;
    let run = fx
        .run_with_env(&["check"], &[("BLUETAPE_SYNC__RETRY__MAX_BACKOFF", "soon")])
        .await;
    assert_eq!(run.code, 78, "{}", run.stderr);
    for key in [
        "source.delimiter",
        "source.timezone",
        "retry.max_backoff",
        "log.level",
    ] {
        assert!(
            run.stdout.contains(&format!("key `{key}`")),
            "{key} not listed:\n{}",
            run.stdout
        );
    }
    assert!(run.stderr.contains("4 problems"), "{}", run.stderr);
    assert!(!fx.store_path().exists(), "check changes nothing");
}

#[tokio::test]
async fn check_shows_a_masked_sample_and_what_would_be_rejected() {
    let fx = Fixture::new().await;
    fx.write_export(&format!(
        "{}E1,Eve,A,eve-at-example,(626) 555-0100,2024-03-01T00:00:00Z,\nE2,Eve,B,eve2-at-example,(626) 555-0100,2024-03-01T00:00:00Z,\n",
        export_of(2)
    ));
    let run = fx.run(&["check"]).await;
    assert_eq!(run.code, 65, "{}", run.stderr);
    assert!(run.stdout.contains("C***@example.com"), "{}", run.stdout);
    assert!(run.stdout.contains("+1******0100"), "{}", run.stdout);
    assert!(!run.stdout.contains("C0001@example.com"), "{}", run.stdout);
    assert!(
        run.stdout.contains("would queue 2, rejected 2"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "  2 customers have an email address that is not valid: correct it in the \
             accounting system (the export's `emailAddress`)"
        ),
        "{}",
        run.stdout
    );
    assert_eq!(fx.fake.request_count(), 0);
    assert!(!fx.store_path().exists());
}

#[tokio::test]
async fn check_shows_what_a_pass_would_send_not_a_row_a_later_one_replaces() {
    let fx = Fixture::new().await;
    fx.write_export(&format!(
        "{HEADER}\nD1,Old,Row,d1@example.com,(626) 555-0100,2024-03-01T00:00:00Z,\n\
         D2,Gone,Invalid,d2@example.com,(626) 555-0100,2024-03-01T00:00:00Z,\n\
         D1,New,Row,d1@example.com,(626) 555-0100,2024-03-02T00:00:00Z,\n\
         D2,Now,Invalid,not-an-email,(626) 555-0100,2024-03-02T00:00:00Z,\n"
    ));
    let run = fx.run(&["check"]).await;
    assert_eq!(run.code, 65, "{}", run.stderr);
    let sample: Vec<&str> = run
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("first records"))
        .skip(2)
        .take_while(|l| !l.is_empty())
        .collect();
    assert_eq!(sample.len(), 1, "{}", run.stdout);
    assert!(sample[0].starts_with("D1  New Row"), "{}", run.stdout);
    assert!(
        run.stdout.contains("would queue 1, rejected 1"),
        "{}",
        run.stdout
    );

    // What a pass then sends is what check showed.
    let pass = fx.run(&["--once"]).await;
    assert_eq!(pass.code, 65, "{}", pass.stderr);
    let sent: Vec<_> = fx.fake.received().into_iter().map(|r| r.body).collect();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["firstName"], "New");
}

#[tokio::test]
async fn check_online_confirms_or_refuses_the_key() {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(1));
    let run = fx.run(&["check", "--online"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("BlueTape accepted the key"),
        "{}",
        run.stdout
    );
    let probe = fx.fake.received().pop().expect("one request");
    assert_eq!(probe.method, "GET");
    assert_eq!(
        probe.path,
        "/genericBthubService/integration/customer/bluetape-sync-check/signup"
    );
    assert!(fx.fake.created_ids().is_empty(), "nothing created");

    fx.fake.set_key("another-key");
    let refused = fx.run(&["check", "--online"]).await;
    assert_eq!(refused.code, 77, "{}", refused.stderr);
    fx.fake.set_key(KEY);
    let wrong = format!("{}/v2", fx.fake.base_url());
    let endpoint = fx
        .run_with_env(
            &["check", "--online"],
            &[("BLUETAPE_SYNC__API__BASE_URL", &wrong)],
        )
        .await;
    assert_eq!(endpoint.code, 78, "{}", endpoint.stderr);
}

#[tokio::test]
async fn forget_asks_and_then_the_record_is_treated_as_new() {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(2));
    assert_eq!(fx.run(&["--once"]).await.code, 0);
    let unconfirmed = fx.run(&["forget", "--id", "C0001"]).await;
    assert_eq!(
        unconfirmed.code, 1,
        "no terminal, no --yes: {}",
        unconfirmed.stderr
    );
    assert!(fx.record("C0001").is_some());

    let run = fx.run(&["forget", "--id", "C0001", "--yes"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(fx.record("C0001").is_none());
    let before = fx.fake.request_count();
    assert_eq!(fx.run(&["--once"]).await.code, 0);
    let sent: Vec<_> = fx.fake.received()[before..]
        .iter()
        .map(|r| (r.id().expect("id").to_owned(), r.status))
        .collect();
    assert_eq!(
        sent,
        [("C0001".to_owned(), Some(409))],
        "sent again: it is in BlueTape"
    );
    assert_eq!(fx.record("C0001").expect("C0001").state, "exists");
}

#[tokio::test]
async fn check_waits_for_an_export_still_being_written_instead_of_reading_nothing() {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(3));
    // Written a moment ago: within source.settle, as right after the export job ran.
    let run = fx
        .run_with_env(&["check"], &[("BLUETAPE_SYNC__SOURCE__SETTLE", "2s")])
        .await;
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("export: read 3, would queue 3"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("export changed within source.settle (2s): waiting for it to settle"),
        "{}",
        run.stdout
    );
}

/// `failures` and `show` name each record as the accounting system shows it, and `show VALUE`
/// finds records by id, email or that name (SPEC §12).
#[tokio::test]
async fn failures_and_show_name_records_and_show_finds_them_by_email_or_name() {
    let fx = Fixture::new().await;
    fx.write_export(&format!(
        "{HEADER}\n{}\nC2,Jane,Doe,not-an-email,(626) 555-0100,2024-03-01T10:00:01Z,\n\
         C3,Jane,Doe,jane.doe@example.com,(626) 555-0101,2024-03-01T10:00:02Z,\n",
        row("C1", "2024-03-01T10:00:00Z")
    ));
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 65, "{}", run.stderr);

    let table = fx.run(&["failures"]).await;
    let line = (table.stdout.lines())
        .find(|l| l.starts_with("C2"))
        .unwrap_or_else(|| panic!("{}", table.stdout));
    assert!(
        line.split_whitespace().take(3).eq(["C2", "Jane", "Doe"]),
        "the name beside the id: {line}"
    );
    let csv = fx.run(&["failures", "--format", "csv"]).await;
    let mut lines = csv.stdout.lines();
    assert!(
        lines.next().is_some_and(|h| h.ends_with(",kind,name")),
        "{}",
        csv.stdout
    );
    assert!(
        lines
            .next()
            .is_some_and(|l| l.ends_with(",customer,Jane Doe")),
        "{}",
        csv.stdout
    );

    // By email, in any case.
    let by_email = fx.run(&["show", "c1@EXAMPLE.com"]).await;
    assert_eq!(by_email.code, 0, "{}", by_email.stderr);
    assert!(
        by_email
            .stdout
            .starts_with("id              C1\nname            FirstC1 LastC1\n"),
        "{}",
        by_email.stdout
    );
    // By name: both Jane Does are listed.
    let by_name = fx.run(&["show", "jane doe", "--json"]).await;
    assert_eq!(by_name.code, 0, "{}", by_name.stderr);
    let found: Vec<Value> = serde_json::from_str(&by_name.stdout).expect("JSON");
    let ids: Vec<&str> = found.iter().filter_map(|r| r["id"].as_str()).collect();
    assert_eq!(ids, ["C2", "C3"]);
    assert_eq!(found[0]["name"], "Jane Doe");
    // By id, as --id does.
    let by_id = fx.run(&["show", "C3"]).await;
    assert!(
        by_id.stdout.starts_with("id              C3\n"),
        "{}",
        by_id.stdout
    );
    // Nothing: exit 1, saying what was looked for.
    let none = fx.run(&["show", "nobody@example.com"]).await;
    assert_eq!(none.code, 1);
    assert!(
        none.stderr
            .contains("no customer with the id, email or name \"nobody@example.com\" in the store"),
        "{}",
        none.stderr
    );
}
