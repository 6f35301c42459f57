//! BlueTape's answers as hostile input (SPEC §10): a body that never ends or claims 1 GiB, a 413,
//! a sign-up URL that is not https or carries a control character, and the network failures
//! that must be named (and the one that must stop the pass), against the servers of
//! `hostile/mod.rs`.

mod hostile;
mod support;

use std::sync::atomic::Ordering;

use hostile::{
    LIMIT, MAX_RSS_KIB, RawServer, Script, command_measured, run_measured, run_measured_with_env,
    tls_server,
};
use serde_json::Value;
use support::{Fixture, HEADER, export_of, row};

/// Runs one customer against a body that is too large; the record stays failed, named.
async fn too_large_a_body(script: Script, label: &str) {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(1));
    let server = RawServer::start(script).await;
    let (run, peak, elapsed) = run_measured(&fx, &server.base_url("http")).await;
    println!(
        "{label}: peak RSS {:.1} MiB, {} requests, {:.1}s",
        peak as f64 / 1024.0,
        server.posted().len(),
        elapsed.as_secs_f64()
    );
    assert!(
        peak <= MAX_RSS_KIB,
        "{label}: peak RSS {peak} KiB over {MAX_RSS_KIB} KiB"
    );
    assert!(elapsed < LIMIT, "{label}: still running after {elapsed:?}");
    assert_eq!(run.code, 69, "{label}: {}", run.stderr);
    assert!(
        run.stderr.contains("response too large"),
        "{label}: {}",
        run.stderr
    );
    let stored = fx.record("C0001").expect("C0001 is in the store");
    assert_eq!(stored.state, "failed", "{label}");
    assert!(
        stored
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("response too large")),
        "{label}: {stored:?}"
    );
    assert!(stored.blue_tape_id.is_none(), "{label}: {stored:?}");
    // Retried as a transient answer: max_attempts (3) requests, no more.
    assert_eq!(server.posted(), vec!["C0001"; 3], "{label}");
}

#[tokio::test]
async fn an_endless_chunked_answer_is_cut_at_1_mib_and_retried() {
    too_large_a_body(Script::EndlessChunked, "endless chunked 201").await;
}

#[tokio::test]
async fn a_1_gib_answer_is_not_read_and_retried() {
    too_large_a_body(Script::GiB, "1 GiB Content-Length 201").await;
}

#[tokio::test]
async fn an_endless_sign_up_answer_is_cut_at_1_mib() {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(1));
    // Already in BlueTape (409): created without a sign-up URL, which export can fetch.
    let exists = r#"{"code":"409","reason":"Customer already exists."}"#.to_owned();
    let first = RawServer::start(Script::Status(409, exists)).await;
    let (run, _, _) = run_measured(&fx, &first.base_url("http")).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let endless = RawServer::start(Script::EndlessChunked).await;
    let (run, peak, elapsed) = command_measured(
        &fx,
        &["export", "--fetch-missing"],
        &endless.base_url("http"),
        &[],
    )
    .await;
    println!(
        "endless chunked sign-up 200: peak RSS {:.1} MiB, {:.1}s",
        peak as f64 / 1024.0,
        elapsed.as_secs_f64()
    );
    assert!(peak <= MAX_RSS_KIB, "peak RSS {peak} KiB");
    assert!(elapsed < LIMIT);
    assert_eq!(run.code, 69, "{}", run.stderr);
    assert!(run.stderr.contains("response too large"), "{}", run.stderr);
    assert_eq!(
        endless.posted(),
        vec!["GET /genericBthubService/integration/customer/C0001/signup"]
    );
    assert_eq!(fx.record("C0001").expect("C0001").sign_up_url, None);
}

#[tokio::test]
async fn a_413_rejects_that_record_only() {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(2));
    let body = r#"{"code":"413","reason":"Payload Too Large"}"#.to_owned();
    let server = RawServer::start(Script::Status(413, body)).await;
    let (run, peak, elapsed) = run_measured(&fx, &server.base_url("http")).await;
    println!("413: peak RSS {:.1} MiB", peak as f64 / 1024.0);
    assert!(elapsed < LIMIT);
    assert_eq!(run.code, 65, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("BlueTape refused the record as too large"),
        "{}",
        run.stderr
    );
    for id in ["C0001", "C0002"] {
        let stored = fx.record(id).expect("in the store");
        assert_eq!(stored.state, "rejected", "{id}: {stored:?}");
        assert_eq!(
            stored.reason.as_deref(),
            Some("413: BlueTape refused the record as too large")
        );
    }
    // A rejection, not a transient failure: each record sent once.
    let mut posted = server.posted();
    posted.sort();
    assert_eq!(posted, vec!["C0001", "C0002"]);
}

#[tokio::test]
async fn a_sign_up_url_that_is_not_https_or_carries_a_control_character_is_dropped() {
    let fx = Fixture::new().await;
    let mut export = format!("{HEADER}\n");
    for id in ["PLAIN", "BELL", "GOOD"] {
        export.push_str(&row(id, "2024-03-01T00:00:00Z"));
        export.push('\n');
    }
    fx.write_export(&export);
    let server = RawServer::start(Script::Created(|id| match id {
        "PLAIN" => format!("http://www.bluetape.com/signup?id={id}"),
        "BELL" => format!("https://www.bluetape.com/signup?id={id}\u{7}\r\nX: y"),
        _ => format!("https://www.bluetape.com/signup?id={id}"),
    }))
    .await;
    let (run, _, _) = run_measured(&fx, &server.base_url("http")).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    for id in ["PLAIN", "BELL", "GOOD"] {
        let stored = fx.record(id).expect("in the store");
        assert_eq!(stored.state, "created", "{id}");
        assert_eq!(stored.blue_tape_id.as_deref(), Some(&*format!("bt-{id}")));
    }
    let warned = |id: &str| {
        run.stderr
            .lines()
            .any(|l| l.contains("signUpUrl was not kept") && l.contains(id))
    };
    for id in ["PLAIN", "BELL"] {
        assert_eq!(fx.record(id).expect(id).sign_up_url, None, "{id}");
        assert!(warned(id), "no warning naming {id}: {}", run.stderr);
    }
    assert!(!warned("GOOD"), "{}", run.stderr);
    let export = fx.run(&["export", "--format", "json"]).await;
    assert_eq!(export.code, 0, "{}", export.stderr);
    let rows: Vec<Value> = serde_json::from_str(&export.stdout).expect("JSON");
    let url = |id: &str| {
        rows.iter()
            .find(|r| r["id"] == id)
            .unwrap_or_else(|| panic!("{id} in {rows:?}"))["signUpUrl"]
            .clone()
    };
    assert_eq!(url("PLAIN"), Value::Null);
    assert_eq!(url("BELL"), Value::Null);
    assert_eq!(
        url("GOOD"),
        Value::from("https://www.bluetape.com/signup?id=GOOD")
    );
}

#[tokio::test]
async fn tls_to_a_plain_http_port_stops_the_pass_naming_api_base_url() {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(20));
    let server = RawServer::start(Script::Plain).await;
    let (run, _, elapsed) = run_measured(&fx, &server.base_url("https")).await;
    assert!(elapsed < LIMIT);
    assert_eq!(run.code, 78, "{}", run.stderr);
    assert!(
        run.stderr.contains("TLS handshake with 127.0.0.1 failed"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("api.base_url"), "{}", run.stderr);
    // Stopped at the first failure: at most one handshake per concurrent sender (4), none
    // retried.
    let connections = server.connections.load(Ordering::SeqCst);
    assert!((1..=4).contains(&connections), "{connections} connections");
    assert_eq!(fx.count_in("pending"), 20, "nothing marked");
    let outcome = fx.passes().last().expect("the pass").0.clone();
    assert_eq!(outcome, "tls_failed");
}

#[tokio::test]
async fn a_refused_connection_is_named_and_transient() {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(1));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let base_url = format!("http://127.0.0.1:{port}/genericBthubService");
    let (run, _, elapsed) = run_measured(&fx, &base_url).await;
    assert!(elapsed < LIMIT);
    assert_eq!(run.code, 69, "{}", run.stderr);
    assert!(run.stderr.contains("connection refused"), "{}", run.stderr);
    let stored = fx.record("C0001").expect("in the store");
    assert_eq!(stored.state, "failed");
    assert!(
        stored
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("connection refused")),
        "{stored:?}"
    );
}

#[tokio::test]
async fn a_name_that_does_not_resolve_is_named_and_transient() {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(1));
    // `.invalid` never resolves (RFC 6761): the lookup fails at once, offline or not.
    let (run, _, elapsed) =
        run_measured(&fx, "https://nonexistent.invalid/genericBthubService").await;
    assert!(elapsed < LIMIT);
    assert_eq!(run.code, 69, "{}", run.stderr);
    assert!(
        run.stderr.contains("cannot resolve nonexistent.invalid"),
        "{}",
        run.stderr
    );
    assert_eq!(fx.record("C0001").expect("in the store").state, "failed");
}

#[tokio::test]
async fn a_certificate_for_another_name_stops_the_pass_naming_api_base_url() {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(20));
    let (port, handshakes) = tls_server().await;
    let ca = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls/ca.pem");
    let base_url = format!("https://127.0.0.1:{port}/genericBthubService");
    // The test CA is the only one trusted, so the one fault is the name.
    let env = [("SSL_CERT_FILE", ca.to_str().expect("utf-8"))];
    let (run, _, elapsed) = run_measured_with_env(&fx, &base_url, &env).await;
    assert!(elapsed < LIMIT);
    assert_eq!(run.code, 78, "{}", run.stderr);
    assert!(
        run.stderr.contains("TLS handshake with 127.0.0.1 failed")
            && run.stderr.contains("not valid for name"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("api.base_url"), "{}", run.stderr);
    let handshakes = handshakes.load(Ordering::SeqCst);
    assert!((1..=4).contains(&handshakes), "{handshakes} handshakes");
    assert_eq!(fx.count_in("pending"), 20, "nothing marked");
}

#[tokio::test]
async fn check_online_stops_on_a_tls_failure_too() {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(1));
    let server = RawServer::start(Script::Plain).await;
    let (run, _, _) =
        command_measured(&fx, &["check", "--online"], &server.base_url("https"), &[]).await;
    assert_eq!(run.code, 78, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("TLS handshake with 127.0.0.1 failed")
            && run.stderr.contains("check api.base_url"),
        "{}",
        run.stderr
    );
}
