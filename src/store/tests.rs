use super::*;
use crate::source::Kind;

const SOURCE: &str = "default";

#[test]
fn a_store_of_customers_keeps_every_record_through_the_invoices_migration() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("state.db");
    {
        let conn = rusqlite::Connection::open(&path).expect("open");
        for (_, sql) in &MIGRATIONS[..4] {
            conn.execute_batch(sql).expect("migration");
        }
        conn.pragma_update(None, "user_version", 4)
            .expect("version");
        conn.execute_batch(
            "INSERT INTO records (source, id, state, source_modified_ms, body, attempts,
                                  first_seen_pass, updated_at_ms, update_pending,
                                  blue_tape_id)
             VALUES ('default', 'C1', 'created', 1000, '{}', 1, 1, 5, 1, 'bt-C1'),
                    ('default', 'C2', 'rejected', NULL, NULL, 0, 1, 5, 0, NULL),
                    ('default', 'C3', 'pending', 3000, '{}', 2, 1, 5, 0, NULL)",
        )
        .expect("rows");
    }
    let store = Store::open(&path).expect("migrated");
    let counts = store.counts(SOURCE).expect("counts");
    assert_eq!((counts.created, counts.rejected, counts.pending), (1, 1, 1));
    let c1 = store.record(SOURCE, "C1").expect("read").expect("kept");
    assert_eq!(c1.state, RecordState::Created);
    assert_eq!(c1.attempts, 1);
    let (kind, update_pending, blue_tape_id): (String, i64, String) = store
        .conn
        .query_row(
            "SELECT kind, update_pending, blue_tape_id FROM records WHERE id = 'C1'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .expect("row");
    assert_eq!(
        (kind.as_str(), update_pending, blue_tape_id.as_str()),
        ("customer", 1, "bt-C1")
    );
    // The new states are allowed, and no other.
    for (state, allowed) in [("waiting", true), ("cancelled", true), ("lost", false)] {
        let result = store.conn.execute(
            "INSERT INTO records (source, id, kind, state, first_seen_pass, updated_at_ms)
             VALUES ('invoices', ?1, 'invoice', ?1, 1, 5)",
            [state],
        );
        assert_eq!(result.is_ok(), allowed, "{state}");
    }
}

fn body(id: &str) -> String {
    format!(r#"{{"id":"{id}"}}"#)
}

/// A store whose pass 1 queued `ids` (dated 1000, 2000, ...) and moved the watermark.
fn queued(ids: &[&str]) -> Store {
    let mut store = Store::open_temporary().expect("store");
    let pass = store.begin_pass(SOURCE, false, 10).expect("pass");
    let staging = store
        .staging(SOURCE, Kind::Customer, pass, 10)
        .expect("staging");
    for (i, id) in ids.iter().enumerate() {
        let ms = 1000 * (i as i64 + 1);
        assert!(
            staging
                .queue_new(id, ms, &body(id), None, Default::default())
                .expect("queue")
        );
    }
    staging
        .set_watermark(1000 * ids.len() as i64)
        .expect("watermark");
    staging.commit().expect("commit");
    store
}

/// A create's answer for `id`, as a pass records it.
pub(super) fn result(id: &str, result: SendResult) -> SendRecord {
    SendRecord {
        id: id.to_owned(),
        pass: 1,
        request: Request::Create,
        attempts: 1,
        last_status: Some(201),
        at_ms: 20,
        result,
        history: Vec::new(),
    }
}

#[test]
fn the_queue_is_walked_oldest_first_and_a_result_takes_a_record_out_of_it() {
    let mut store = queued(&["B", "A", "C"]);
    let mut cursor = QueueCursor::new(100, false);
    let page = store.next_queue_page(SOURCE, &mut cursor, 2).expect("page");
    let ids: Vec<_> = page.iter().map(|q| q.id.as_str()).collect();
    assert_eq!(ids, ["B", "A"]);
    assert_eq!(page[0].body, body("B"));
    let created = SendResult::Created {
        blue_tape_id: "bt-B".into(),
        sign_up_url: Some("https://s/B".into()),
    };
    store
        .record_results(SOURCE, &[result("B", created)])
        .expect("record");
    let b = store.record(SOURCE, "B").expect("read").expect("B");
    assert_eq!(b.state, RecordState::Created);
    assert_eq!(b.blue_tape_id.as_deref(), Some("bt-B"));
    assert_eq!(store.queue_counts(SOURCE).expect("counts").pending, 2);
    assert_eq!(store.watermark(SOURCE).expect("watermark"), Some(3000));
}

#[test]
fn a_late_answer_never_overwrites_a_created_customer() {
    let mut store = queued(&["A"]);
    let created = SendResult::Created {
        blue_tape_id: "bt-A".into(),
        sign_up_url: Some("https://s/A".into()),
    };
    store
        .record_results(SOURCE, &[result("A", created)])
        .expect("record");
    let failed = SendResult::Failed {
        reason: "503".into(),
        next_attempt_ms: 99,
    };
    store
        .record_results(SOURCE, &[result("A", failed)])
        .expect("record");
    assert_eq!(
        store.record(SOURCE, "A").expect("read").expect("A").state,
        RecordState::Created
    );
}

#[test]
fn an_invoice_waits_then_is_created_and_a_cancel_or_update_is_recorded_or_refused() {
    let mut store = queued(&["I1", "I2"]);
    let row = |store: &Store, id: &str| -> (String, Option<String>, Option<i64>, i64, i64) {
        store
            .conn
            .query_row(
                "SELECT state, COALESCE(refused_reason, reason), next_attempt_ms,
                        update_pending, cancel_pending
                 FROM records WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .expect("row")
    };
    let waiting = SendResult::Waiting {
        reason: "400: Customer does not exist.".into(),
        next_attempt_ms: 60_020,
    };
    store
        .record_results(SOURCE, &[result("I1", waiting)])
        .expect("record");
    assert_eq!(
        row(&store, "I1"),
        (
            "waiting".into(),
            Some("400: Customer does not exist.".into()),
            Some(60_020),
            0,
            0
        )
    );
    // A waiting invoice is created by a later create.
    let accepted = SendResult::Accepted { blue_tape_id: None };
    store
        .record_results(SOURCE, &[result("I1", accepted)])
        .expect("record");
    assert_eq!(row(&store, "I1"), ("created".into(), None, None, 0, 0));
    // A cancel is recorded only for an invoice with one pending, an answer to a create
    // never cancels.
    store
        .record_results(SOURCE, &[result("I2", SendResult::Cancelled)])
        .expect("record");
    assert_eq!(row(&store, "I2").0, "pending");
    store
        .conn
        .execute_batch(
            "UPDATE records SET state = 'created', cancel_pending = 1 WHERE id = 'I2';
             UPDATE records SET update_pending = 1 WHERE id = 'I1'",
        )
        .expect("queue a cancel and an update");
    let mut cancel = result("I2", SendResult::Cancelled);
    cancel.request = Request::Cancel;
    let mut refused = result(
        "I1",
        SendResult::Refused {
            reason: "400: Invoice is paid.".into(),
        },
    );
    refused.request = Request::Update;
    store
        .record_results(SOURCE, &[cancel, refused])
        .expect("record");
    assert_eq!(row(&store, "I2"), ("cancelled".into(), None, None, 0, 0));
    assert_eq!(
        row(&store, "I1"),
        (
            "created".into(),
            Some("400: Invoice is paid.".into()),
            None,
            0,
            0
        )
    );
    let refused_flag: Option<String> = store
        .conn
        .query_row("SELECT refused FROM records WHERE id = 'I1'", [], |r| {
            r.get(0)
        })
        .expect("flag");
    assert_eq!(refused_flag.as_deref(), Some("update"));
}

#[test]
fn staging_that_is_not_committed_leaves_nothing() {
    let mut store = queued(&["A"]);
    let pass = store.begin_pass(SOURCE, false, 30).expect("pass");
    {
        let staging = store
            .staging(SOURCE, Kind::Customer, pass, 30)
            .expect("staging");
        assert!(
            staging
                .queue_new("B", 5000, &body("B"), None, Default::default())
                .expect("queue")
        );
        staging.set_watermark(5000).expect("watermark");
    }
    assert_eq!(store.record(SOURCE, "B").expect("read"), None);
    assert_eq!(store.watermark(SOURCE).expect("watermark"), Some(1000));
}

#[test]
fn the_operator_reads_are_typed() {
    let mut store = queued(&["A", "B"]);
    let rejected = SendResult::Rejected {
        reason: "400: Invalid phone".into(),
    };
    store
        .record_results(SOURCE, &[result("A", rejected)])
        .expect("record");
    let failures = store.failures(SOURCE, None, None).expect("failures");
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].state, RecordState::Rejected);
    assert_eq!(failures[0].reason.as_deref(), Some("400: Invalid phone"));
    let target = store.retry_target(SOURCE, "A").expect("read").expect("A");
    assert!(target.has_body);
    store.requeue(SOURCE, "A", 40).expect("requeue");
    assert_eq!(store.counts(SOURCE).expect("counts").pending, 2);
    assert!(store.forget(SOURCE, "B", 50).expect("forget"));
    assert!(!store.forget(SOURCE, "B", 60).expect("forget"));
    let history: Vec<_> = store
        .events(SOURCE, "B")
        .expect("events")
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(history, ["queued", "forgotten"]);
}
