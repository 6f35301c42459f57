//! The providers' answers as hostile input (SPEC §11, §10): a page is read record by record,
//! keeping only what the lane reads, in bounded memory; a record too long, a wrong company, a
//! refused query, a page that is not JSON and an unavailable provider each end the pass with
//! its exit code and one line, nothing staged; transient faults are asked again.

mod support;

use std::time::Duration;

use serde_json::json;

use support::fake_provider::{Fault, Reply};
use support::fake_xero::{FakeXero, Kind};
use support::linked::{connect_by_pasting, first_change, xero_fixture};
use support::measured::measured;

const LIMIT: Duration = Duration::from_secs(120);

/// A Xero company of `n` contacts, each with `notes` bytes in a field no preset reads.
async fn xero_with_notes(n: usize, notes: usize) -> FakeXero {
    let xero = FakeXero::start_empty().await;
    let first = first_change();
    xero.books(|b| {
        b.generate_contacts(n, first, Duration::from_secs(1));
        for contact in &mut b.contacts {
            contact["Notes"] = json!("n".repeat(notes));
        }
    });
    xero
}

#[tokio::test]
async fn a_page_of_large_records_is_read_in_bounded_memory_keeping_only_what_is_mapped() {
    // 1,000 contacts of 56 KiB each: a 56 MB page, every value but the mapped ones skipped.
    let xero = xero_with_notes(1000, 56 * 1024).await;
    let fx = xero_fixture(&xero).await;
    assert_eq!(connect_by_pasting(&fx, "xero", &[]).await.code, 0);
    let mut command = fx.command(&["--once"], &[]);
    command.kill_on_drop(true);
    let measured = measured(command, LIMIT).await;
    assert_eq!(measured.run.code, 0, "{}", measured.run.stderr);
    measured.assert_bounded("a 56 MB Xero page");
    assert_eq!(fx.fake.created_ids().len(), 1000);
    let spool = std::fs::read_dir(fx.dir.path())
        .expect("dir")
        .filter_map(Result::ok)
        .any(|e| e.file_name().to_string_lossy().ends_with(".spool"));
    assert!(!spool, "the spool is removed after the pass");
}

#[tokio::test]
async fn a_record_whose_mapped_values_are_too_long_stops_the_pass_naming_the_key() {
    let xero = xero_with_notes(3, 0).await;
    xero.books(|b| b.contacts[1]["EmailAddress"] = json!("e".repeat(2 * 1024 * 1024)));
    let fx = xero_fixture(&xero).await;
    assert_eq!(connect_by_pasting(&fx, "xero", &[]).await.code, 0);
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 78, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("Xero answered a customer longer than source.max_row_bytes (1MiB)"),
        "{}",
        run.stderr
    );
    assert_eq!(fx.fake.request_count(), 0, "nothing staged, nothing sent");
    assert_eq!(fx.watermark_ms(), None);
}

#[tokio::test]
async fn each_kind_of_refusal_ends_the_pass_with_its_code_and_nothing_staged() {
    let xero = xero_with_notes(3, 0).await;
    let fx = xero_fixture(&xero).await;
    assert_eq!(connect_by_pasting(&fx, "xero", &[]).await.code, 0);
    let html = Reply {
        status: 200,
        headers: vec![("content-type".into(), "text/html".into())],
        body: "<html>a proxy's login page</html>".into(),
    };
    let query_refused = Reply::json(400, &json!({"Message": "bad where clause"}));
    let cases: [(&str, Vec<Fault>, i32, &str); 4] = [
        (
            "a wrong tenant",
            vec![Fault::status(403)],
            78,
            "Xero answered 403 to /api.xro/2.0/Contacts: check the [xero] section",
        ),
        (
            "a wrong base URL",
            vec![Fault::status(404)],
            78,
            "Xero answered 404",
        ),
        (
            "a query refused",
            vec![Fault::Reply(query_refused)],
            1,
            "Xero refused the query: {\"Message\":\"bad where clause\"}",
        ),
        (
            "a page that is not JSON",
            vec![Fault::Reply(html)],
            69,
            "a page that is not JSON",
        ),
    ];
    for (case, faults, code, line) in cases {
        xero.push_faults(faults);
        let run = fx.run(&["--once"]).await;
        assert_eq!(run.code, code, "{case}: {}", run.stderr);
        assert!(run.stderr.contains(line), "{case}: {}", run.stderr);
        assert_eq!(fx.fake.request_count(), 0, "{case}: nothing sent");
        assert_eq!(fx.watermark_ms(), None, "{case}: no watermark moved");
    }
}

#[tokio::test]
async fn transient_faults_are_asked_again_and_lose_nothing() {
    let xero = xero_with_notes(3, 0).await;
    let fx = xero_fixture(&xero).await;
    assert_eq!(connect_by_pasting(&fx, "xero", &[]).await.code, 0);
    xero.push_faults([Fault::status(503), Fault::Drop, Fault::status(500)]);
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fx.fake.created_ids().len(), 3);
    let reads = xero.data_requests().len();
    assert_eq!(reads, 4, "three faults, then the page");

    // Unavailable for good: 69 after the attempts, nothing staged, the pass kept as such.
    xero.books(|b| b.update(Kind::Contacts, "c-00002", json!({"FirstName": "Changed"})));
    xero.push_faults((0..5).map(|_| Fault::status(503)));
    let down = fx.run(&["--once"]).await;
    assert_eq!(down.code, 69, "{}", down.stderr);
    assert!(
        down.stderr
            .contains("Xero did not answer: HTTP 503; nothing was staged"),
        "{}",
        down.stderr
    );
    let passes = fx.passes();
    assert_eq!(passes.last().map(|p| p.0.as_str()), Some("unavailable"));
    let after = fx.run(&["--once"]).await;
    assert_eq!(after.code, 0, "{}", after.stderr);
    assert_eq!(after.count("changed upstream"), 1, "{}", after.stderr);
}
