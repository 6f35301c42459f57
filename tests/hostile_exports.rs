//! Exports as hostile input (SPEC §10): what is not a regular file, rows and values of any
//! size, a stray quote, control characters, ids no URL can carry, keys written twice, numbers
//! and dates as written. Each case runs the real binary with a bound on its time and, where
//! the input is large, on its peak memory as the kernel counts it.

mod support;

use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde_json::json;
use support::measured::Measured;
use support::{Fixture, HEADER, row};

/// A generous bound on any one run.
const LIMIT: Duration = Duration::from_secs(120);

/// Runs the binary with `args` (after `--config`, unless it is `init`), measured for its peak
/// RSS; a run past [`LIMIT`] fails the test.
async fn measured(fx: &Fixture, args: &[&str]) -> Measured {
    let mut command = if args.first() == Some(&"init") {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_bluetape-sync"));
        command
            .args(args)
            .env_remove("BLUETAPE_API_KEY")
            .env_remove("BLUETAPE_SYNC_CONFIG")
            .env_remove("RUST_LOG")
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        command
    } else {
        fx.command(args, &[])
    };
    command.stdin(Stdio::null());
    support::measured::measured(command, LIMIT).await
}

/// Writes `name` in the fixture's directory from `chunks` pieces made by `chunk`, without
/// holding the file in memory.
fn write_lazily(fx: &Fixture, name: &str, head: &str, chunks: usize, chunk: &str, tail: &str) {
    let file = std::fs::File::create(fx.path(name)).expect("create");
    let mut out = std::io::BufWriter::new(file);
    out.write_all(head.as_bytes()).expect("write");
    for _ in 0..chunks {
        out.write_all(chunk.as_bytes()).expect("write");
    }
    out.write_all(tail.as_bytes()).expect("write");
    out.flush().expect("flush");
}

fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("run mkfifo");
    assert!(status.success(), "mkfifo {}", path.display());
}

fn good_rows(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("{}\n", row(&format!("C{i:04}"), "2024-01-02T03:04:05Z")))
        .collect()
}

/// A JSON customer with the test config's default mapping.
fn customer(id: serde_json::Value) -> serde_json::Value {
    json!({"id": id, "firstName": "Ann", "lastName": "Lee", "emailAddress": "ann@example.com",
           "cellPhoneNumber": "(626) 555-0100", "sourceModifiedDate": "2024-01-02T03:04:05Z"})
}

#[tokio::test]
async fn a_fifo_as_the_export_is_refused_at_once_and_a_glob_skips_one() {
    let fx = Fixture::new().await;
    mkfifo(&fx.path("export.csv"));
    let m = measured(&fx, &["--once"]).await;
    assert_eq!(m.run.code, 78, "{}", m.run.stderr);
    assert!(m.took < Duration::from_secs(30), "took {:?}", m.took);
    assert!(m.run.stderr.contains("export.csv"), "{}", m.run.stderr);
    assert!(m.run.stderr.contains("FIFO"), "{}", m.run.stderr);
    assert!(fx.fake.received().is_empty());

    let fx = Fixture::with_export("customers_*.csv", "").await;
    fx.write_file("customers_1.csv", &format!("{HEADER}\n{}", good_rows(1, 2)));
    mkfifo(&fx.path("customers_2.csv"));
    let m = measured(&fx, &["--once"]).await;
    assert_eq!(m.run.code, 0, "{}", m.run.stderr);
    assert_eq!(fx.posted_bodies().len(), 2);
}

#[tokio::test]
async fn dev_zero_as_the_export_is_refused_in_bounded_memory() {
    let fx = Fixture::new().await;
    std::os::unix::fs::symlink("/dev/zero", fx.path("export.csv")).expect("symlink");
    let m = measured(&fx, &["--once"]).await;
    m.assert_bounded("/dev/zero, --once");
    assert_eq!(m.run.code, 78, "{}", m.run.stderr);
    assert!(m.run.stderr.contains("a device"), "{}", m.run.stderr);
    assert!(fx.fake.received().is_empty());

    let export = fx.path("export.csv");
    let m = measured(&fx, &["init", export.to_str().expect("utf-8")]).await;
    m.assert_bounded("/dev/zero, init");
    assert_eq!(m.run.code, 78, "{}", m.run.stderr);
}

#[tokio::test]
async fn a_200_mb_header_is_a_broken_export_read_in_bounded_memory() {
    let fx = Fixture::new().await;
    let wide = ",a_column_nobody_maps_0123456789".repeat(1024);
    let chunks = 200 * 1024 * 1024 / wide.len();
    write_lazily(
        &fx,
        "export.csv",
        HEADER,
        chunks,
        &wide,
        &format!("\n{}", good_rows(1, 3)),
    );
    let m = measured(&fx, &["--once"]).await;
    m.assert_bounded("200 MB header, --once");
    assert_eq!(m.run.code, 78, "{}", m.run.stderr);
    assert!(m.run.stderr.contains("at line 1"), "{}", m.run.stderr);
    assert!(
        m.run.stderr.contains("source.max_row_bytes (1MiB)"),
        "{}",
        m.run.stderr
    );
    assert!(fx.fake.received().is_empty());

    let export = fx.path("export.csv");
    let m = measured(&fx, &["init", export.to_str().expect("utf-8")]).await;
    m.assert_bounded("200 MB header, init");
    assert_eq!(m.run.code, 78, "{}", m.run.stderr);
    assert!(m.run.stderr.contains("line 1"), "{}", m.run.stderr);
    std::fs::remove_file(fx.path("export.csv")).expect("remove");
}

/// Four good rows around `C9999`, whose first name is 10 MB: line 4.
fn write_with_a_10_mb_name(fx: &Fixture) {
    let long = "x".repeat(1024 * 1024);
    write_lazily(
        fx,
        "export.csv",
        &format!("{HEADER}\n{}C9999,", good_rows(1, 2)),
        10,
        &long,
        &format!(
            ",Lee,a@example.com,(626) 555-0100,2024-01-02,\n{}",
            good_rows(3, 2)
        ),
    );
}

#[tokio::test]
async fn a_10_mb_line_is_a_broken_export_naming_the_line_and_the_key() {
    let fx = Fixture::new().await;
    write_with_a_10_mb_name(&fx);
    let m = measured(&fx, &["--once"]).await;
    m.assert_bounded("10 MB CSV row");
    assert_eq!(m.run.code, 78, "{}", m.run.stderr);
    assert!(
        m.run
            .stderr
            .contains("at line 4: longer than source.max_row_bytes (1MiB)"),
        "{}",
        m.run.stderr
    );
    assert!(
        fx.fake.received().is_empty(),
        "nothing of the file is taken"
    );

    // Raised, the same file is read: the long name is then one customer's problem (a body
    // over 64 KiB), not the file's.
    let fx = Fixture::with_config("max_row_bytes = \"16MiB\"").await;
    write_with_a_10_mb_name(&fx);
    let m = measured(&fx, &["--once"]).await;
    assert_eq!(m.run.code, 65, "{}", m.run.stderr);
    assert_eq!(fx.posted_bodies().len(), 4);
    let rejected = fx.record("C9999").expect("stored");
    assert!(
        rejected
            .reason
            .as_deref()
            .is_some_and(|r| r.starts_with("firstName: the record's values take 10485")),
        "{rejected:?}"
    );

    // An NDJSON line, likewise.
    let fx = Fixture::with_export("export.ndjson", "format = \"ndjson\"").await;
    let good = customer(json!("N1")).to_string();
    write_lazily(
        &fx,
        "export.ndjson",
        &format!("{good}\n{{\"id\": \"N2\", \"note\": \""),
        10,
        &"x".repeat(1024 * 1024),
        "\"}\n",
    );
    let m = measured(&fx, &["--once"]).await;
    m.assert_bounded("10 MB NDJSON line");
    assert_eq!(m.run.code, 78, "{}", m.run.stderr);
    assert!(
        m.run
            .stderr
            .contains("at line 2: longer than source.max_row_bytes"),
        "{}",
        m.run.stderr
    );
    assert!(fx.fake.received().is_empty());
}

#[tokio::test]
async fn many_rows_just_under_the_limit_are_rejected_in_bounded_memory() {
    let fx = Fixture::new().await;
    // 200 rows of 1000 KiB: each within max_row_bytes, each far over what a body may hold.
    let file = std::fs::File::create(fx.path("export.csv")).expect("create");
    let mut out = std::io::BufWriter::new(file);
    writeln!(out, "{HEADER}").expect("write");
    let long = "x".repeat(1000 * 1024);
    for i in 1..=200 {
        writeln!(
            out,
            "C{i:04},{long},Lee,a@example.com,(626) 555-0100,2024-01-02,"
        )
        .expect("write");
    }
    write!(out, "{}", good_rows(201, 1)).expect("write");
    out.flush().expect("flush");
    drop(out);
    let m = measured(&fx, &["--once"]).await;
    m.assert_bounded("200 rows of 1000 KiB");
    assert_eq!(m.run.code, 65, "{}", m.run.stderr);
    assert_eq!(fx.posted_bodies().keys().collect::<Vec<_>>(), ["C0201"]);
    let reason = fx
        .record("C0001")
        .expect("stored")
        .reason
        .unwrap_or_default();
    assert!(
        reason.starts_with("firstName: the record's values take 1024") && reason.contains("64 KiB"),
        "{reason}"
    );
    std::fs::remove_file(fx.path("export.csv")).expect("remove");
}

#[tokio::test]
async fn an_unclosed_quote_is_a_broken_export_naming_its_line_and_check_says_so() {
    let fx = Fixture::new().await;
    let text = format!(
        "{HEADER}\n{}C0006,\"Ann,Lee,ann@example.com,(626) 555-0100,2024-01-02,\n{}",
        good_rows(1, 5),
        good_rows(7, 1000)
    );
    fx.write_export(&text);
    let m = measured(&fx, &["--once"]).await;
    assert_eq!(m.run.code, 78, "{}", m.run.stderr);
    let expected = "at line 7: a quoted field opened here is never closed";
    assert!(m.run.stderr.contains(expected), "{}", m.run.stderr);
    assert!(m.run.stderr.contains("export.csv"), "{}", m.run.stderr);
    assert!(
        fx.fake.received().is_empty(),
        "nothing of the file is taken"
    );

    let m = measured(&fx, &["check"]).await;
    assert_eq!(m.run.code, 78, "{}\n{}", m.run.stdout, m.run.stderr);
    let printed = format!("{}{}", m.run.stdout, m.run.stderr);
    assert!(printed.contains(expected), "{printed}");
}

#[tokio::test]
async fn a_64_mb_unmapped_json_value_is_skipped_without_being_held() {
    let fx = Fixture::with_export("export.json", "format = \"json\"").await;
    let mut first = customer(json!("J1")).to_string();
    first.pop(); // the closing brace: the image follows
    let base64 = "QUJDRA==".repeat(8 * 1024);
    let chunks = 64 * 1024 * 1024 / base64.len();
    let rest = [customer(json!("J2")), customer(json!("J3"))]
        .map(|c| c.to_string())
        .join(", ");
    write_lazily(
        &fx,
        "export.json",
        &format!("[{first}, \"image_1920\": \""),
        chunks,
        &base64,
        &format!("\"}}, {rest}]"),
    );
    let m = measured(&fx, &["--once"]).await;
    m.assert_bounded("64 MB unmapped JSON value");
    assert_eq!(m.run.code, 0, "{}", m.run.stderr);
    let sent = fx.posted_bodies();
    assert_eq!(sent.len(), 3);
    assert_eq!(sent["J1"]["firstName"], "Ann");
}

#[tokio::test]
async fn a_json_record_with_a_key_twice_is_rejected_naming_the_key() {
    let fx = Fixture::with_export("export.json", "format = \"json\"").await;
    let good = customer(json!("D1")).to_string();
    let mut twice = customer(json!("D2")).to_string();
    twice.pop();
    let mut unmapped = customer(json!("D3")).to_string();
    unmapped.pop();
    fx.write_file(
        "export.json",
        &format!(
            "[{good}, {twice}, \"emailAddress\": \"other@example.com\"}}, \
             {unmapped}, \"note\": 1, \"note\": 2}}]"
        ),
    );
    let m = measured(&fx, &["--once"]).await;
    assert_eq!(m.run.code, 65, "{}", m.run.stderr);
    assert_eq!(
        fx.posted_bodies().keys().collect::<Vec<_>>(),
        ["D1"],
        "the others are rejected"
    );
    let reason = |id: &str| fx.record(id).expect("stored").reason.unwrap_or_default();
    assert_eq!(
        reason("D2"),
        "emailAddress: the record holds the key `emailAddress` twice: which value is meant is unknown"
    );
    assert_eq!(
        reason("D3"),
        "id: the record holds the key `note` twice: which value is meant is unknown"
    );
}

#[tokio::test]
async fn control_characters_and_dot_ids_reject_only_their_record() {
    let fx = Fixture::new().await;
    let text = format!(
        "{HEADER}\n{}C0002,A\0nn,Lee,a@example.com,(626) 555-0100,2024-01-02,\n\
         C0003,Ann,\"Lee\u{1b}[2J\",a@example.com,(626) 555-0100,2024-01-02,\n\
         C0004,\"Ann\r\nMarie\",Lee\t,a@example.com,(626) 555-0100,2024-01-02,\n\
         .,Ann,Lee,a@example.com,(626) 555-0100,2024-01-02,\n\
         ..,Ann,Lee,a@example.com,(626) 555-0100,2024-01-02,\n",
        good_rows(1, 1)
    );
    fx.write_export(&text);
    let m = measured(&fx, &["--once"]).await;
    assert_eq!(m.run.code, 65, "{}", m.run.stderr);
    let sent = fx.posted_bodies();
    assert_eq!(sent.keys().collect::<Vec<_>>(), ["C0001", "C0004"]);
    assert_eq!(sent["C0004"]["firstName"], "Ann\r\nMarie");
    let reason = |id: &str| fx.record(id).expect("stored").reason.unwrap_or_default();
    let control = "holds a control character (only tab, CR and LF are allowed)";
    assert_eq!(reason("C0002"), format!("firstName: {control}"));
    assert_eq!(reason("C0003"), format!("lastName: {control}"));
    for id in [".", ".."] {
        assert_eq!(
            reason(id),
            format!("id: `{id}` cannot be an id: no URL path can carry it")
        );
    }

    // A NUL written as a JSON escape is a NUL all the same.
    let fx = Fixture::with_export("export.json", "format = \"json\"").await;
    let mut nul = customer(json!("J1"));
    nul["lastName"] = json!("Lee\u{0}");
    fx.write_file(
        "export.json",
        &json!([nul, customer(json!("J2"))]).to_string(),
    );
    let m = measured(&fx, &["--once"]).await;
    assert_eq!(m.run.code, 65, "{}", m.run.stderr);
    assert_eq!(fx.posted_bodies().keys().collect::<Vec<_>>(), ["J2"]);
    assert_eq!(
        fx.record("J1").expect("stored").reason.unwrap_or_default(),
        format!("lastName: {control}")
    );
}

#[tokio::test]
async fn json_number_ids_are_sent_as_their_exact_text() {
    let fx = Fixture::with_export("export.json", "format = \"json\"").await;
    let records: Vec<String> = ["1e400", "1.0", "1", "460000000026049"]
        .iter()
        .map(|id| {
            let mut record = customer(json!("x")).to_string();
            record = record.replacen("\"id\":\"x\"", &format!("\"id\":{id}"), 1);
            assert!(record.contains(&format!("\"id\":{id}")), "{record}");
            record
        })
        .collect();
    fx.write_file("export.json", &format!("[{}]", records.join(",\n")));
    let m = measured(&fx, &["--once"]).await;
    assert_eq!(m.run.code, 0, "{}", m.run.stderr);
    let sent = fx.posted_bodies();
    assert_eq!(
        sent.keys().map(String::as_str).collect::<Vec<_>>(),
        ["1", "1.0", "1e400", "460000000026049"]
    );
    let mut expected = customer(json!("1e400"));
    expected["cellPhoneNumber"] = json!("+16265550100");
    expected["sourceModifiedDate"] = json!("2024-01-02T03:04:05.000Z");
    assert_eq!(sent["1e400"], expected);
}

#[tokio::test]
async fn years_0001_and_9999_are_rejected_as_implausible_dates() {
    let fx = Fixture::new().await;
    let text = format!(
        "{HEADER}\n{}{}\n{}\n{}\n",
        good_rows(1, 1),
        row("C0002", "0001-01-01T00:00:00Z"),
        row("C0003", "9999-12-31T23:59:59Z"),
        row("C0004", "1900-01-01T00:00:00Z"),
    );
    fx.write_export(&text);
    let m = measured(&fx, &["--once"]).await;
    assert_eq!(m.run.code, 65, "{}", m.run.stderr);
    assert_eq!(
        fx.posted_bodies().keys().collect::<Vec<_>>(),
        ["C0001", "C0004"]
    );
    for (id, date) in [
        ("C0002", "0001-01-01T00:00:00Z"),
        ("C0003", "9999-12-31T23:59:59Z"),
    ] {
        assert_eq!(
            fx.record(id).expect("stored").reason.unwrap_or_default(),
            format!(
                "sourceModifiedDate: not a plausible date: `{date}` is before 1900-01-01 or \
                 from 2200 on"
            )
        );
    }
}

#[tokio::test]
async fn many_large_valid_invoices_are_staged_in_bounded_memory() {
    let fx = Fixture::with_config(
        "\n[invoices]\npath = \"invoices.csv\"\nlookback = \"0s\"\nsettle = \"0s\"\n",
    )
    .await;
    fx.write_export(&format!("{HEADER}\n{}", good_rows(1, 1)));
    // 200 invoices of about 900 KiB each, every one within BlueTape's 1 MiB body: valid, so
    // each is held with its body until it is stored.
    let file = std::fs::File::create(fx.path("invoices.csv")).expect("create");
    let mut out = std::io::BufWriter::new(file);
    writeln!(
        out,
        "id,invoiceNumber,customerId,invoiceDate,dueDate,subTotal,taxAmount,totalAmount,\
         amountDue,sourceModifiedDate,status,lines"
    )
    .expect("write");
    let description = "x".repeat(900 * 1024);
    for i in 1..=200 {
        writeln!(
            out,
            "I{i:04},N-{i},C0001,2024-03-01,2024-03-31,10,0,10,10,2024-03-01T10:00:00Z,open,\
             \"[{{\"\"description\"\":\"\"{description}\"\",\"\"unitAmount\"\":10,\"\"quantity\"\":1,\"\"subTotal\"\":10,\"\"taxAmount\"\":0,\"\"totalAmount\"\":10}}]\""
        )
        .expect("write");
    }
    out.flush().expect("flush");
    drop(out);
    let m = measured(&fx, &["--once", "--dry-run"]).await;
    m.assert_bounded("200 invoices of 900 KiB");
    assert_eq!(m.run.code, 0, "{}", m.run.stderr);
    assert_eq!(
        m.run.stdout.matches("would send invoice").count(),
        200,
        "{}",
        m.run.stderr
    );
    std::fs::remove_file(fx.path("invoices.csv")).expect("remove");
}
