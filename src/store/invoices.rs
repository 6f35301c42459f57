//! Invoices in the outbox (SPEC §9): what staging does for them beyond what it does for
//! customers, and the hold on invoices whose customer BlueTape does not have yet.

use rusqlite::params;

use super::outbox::add_event;
use super::staging::Staging;
use super::{Store, StoreError};

/// What [`Store::hold_for_customers`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Hold {
    /// Queued invoices put to wait for their customer.
    pub held: u64,
    /// Waiting invoices whose customer is now in BlueTape, queued again.
    pub released: u64,
}

impl Staging<'_> {
    /// Notes the customer each invoice this staging wrote names.
    pub fn mark_invoices(&self, pass: i64, customers: &str) -> Result<(), StoreError> {
        self.execute(
            "UPDATE records SET customer_id = json_extract(body, '$.customerId')
             WHERE source = ?1 AND (staged_pass = ?2 OR changed_pass = ?2)",
            params![self.lane, pass],
        )?;
        // An invoice billed to a sub-customer (a job) goes under its top-level customer: the
        // first in its chain of parents that has none (a chain that loops stops after 32).
        self.execute(
            "WITH RECURSIVE chain (job, up, depth) AS (
                 SELECT id, parent_id, 1 FROM parents WHERE source = ?3
                 UNION ALL
                 SELECT chain.job, p.parent_id, chain.depth + 1
                 FROM chain JOIN parents p ON p.source = ?3 AND p.id = chain.up
                 WHERE chain.depth < 32
             ),
             top (job, customer) AS (
                 SELECT job, up FROM chain
                 WHERE NOT EXISTS (SELECT 1 FROM parents p WHERE p.source = ?3 AND p.id = chain.up)
             )
             UPDATE records SET customer_id = top.customer,
                 body = json_set(body, '$.customerId', top.customer)
             FROM top
             WHERE records.source = ?1 AND (records.staged_pass = ?2 OR records.changed_pass = ?2)
               AND records.customer_id = top.job",
            params![self.lane, pass, customers],
        )
    }

    /// Keeps the customer a left-out sub-customer (a job) belongs to.
    pub fn set_parent(&self, id: &str, parent: &str) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO parents (source, id, parent_id) VALUES (?1, ?2, ?3)
             ON CONFLICT (source, id) DO UPDATE SET parent_id = excluded.parent_id
             WHERE parent_id IS NOT excluded.parent_id",
            params![self.lane, id, parent],
        )
    }

    /// Forgets an invoice that was never sent (queued, waiting, failed or rejected) and that
    /// the export now leaves out (a draft, paid or void): it is not sent. Whether it had one.
    pub fn withdraw(&self, id: &str) -> Result<bool, StoreError> {
        let withdrawn = self
            .tx
            .prepare_cached(
                "DELETE FROM records WHERE source = ?1 AND id = ?2
                   AND state IN ('pending', 'failed', 'waiting', 'rejected')",
            )
            .and_then(|mut stmt| stmt.execute(params![self.lane, id]))
            .map_err(|e| self.err(e))?
            == 1;
        if withdrawn {
            self.event(id, "withdrawn: left out by the export", None)?;
        }
        Ok(withdrawn)
    }

    /// Whether the customer `id` of the customers' store name `customers` is created or
    /// exists.
    pub fn in_bluetape(&self, customers: &str, id: &str) -> Result<bool, StoreError> {
        self.tx
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM records WHERE source = ?1 AND id = ?2
                                  AND state IN ('created', 'exists'))",
            )
            .and_then(|mut stmt| stmt.query_row(params![customers, id], |r| r.get(0)))
            .map_err(|e| self.err(e))
    }

    /// Queues the cancel of an invoice BlueTape has, which the export now says is void.
    pub fn cancel(&self, id: &str, modified_ms: i64) -> Result<(), StoreError> {
        self.execute(
            "UPDATE records SET source_modified_ms = ?3, cancel_pending = 1, update_pending = 0,
                refused = NULL, refused_reason = NULL, next_attempt_ms = NULL,
                changed_pass = ?4, updated_at_ms = ?5
             WHERE source = ?1 AND id = ?2 AND state IN ('created', 'exists')",
            params![self.lane, id, modified_ms, self.pass, self.now_ms],
        )?;
        self.event(id, "void: cancel queued", None)
    }
}

impl Store {
    /// Before a pass sends invoices (after its customers): a queued invoice whose customer is
    /// not created or existing in `customers` waits, with a reason that names the customer;
    /// a waiting one whose customer now is, and whose next try is due, is queued again.
    pub fn hold_for_customers(
        &mut self,
        invoices: &str,
        customers: &str,
        pass: i64,
        now_ms: i64,
    ) -> Result<Hold, StoreError> {
        let path = self.path.clone();
        let wrap = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(wrap)?;
        let in_bluetape = "EXISTS (SELECT 1 FROM records c WHERE c.source = ?2
                             AND c.id = i.customer_id AND c.state IN ('created', 'exists'))";
        let held: Vec<(String, String)> = tx
            .prepare(&format!(
                "UPDATE records AS i SET state = 'waiting', updated_at_ms = ?3,
                    reason = 'customer ' || i.customer_id || COALESCE(
                        (SELECT CASE c.state
                            WHEN 'rejected' THEN ' is rejected: ' || COALESCE(c.reason, '')
                            WHEN 'failed' THEN ' could not be sent yet: '
                                || COALESCE(c.reason, '')
                            ELSE ' is not in BlueTape yet' END
                         FROM records c WHERE c.source = ?2 AND c.id = i.customer_id),
                        ' is not in the customer export')
                 WHERE i.source = ?1 AND i.state IN ('pending', 'failed')
                   AND i.customer_id IS NOT NULL AND NOT {in_bluetape}
                 RETURNING id, reason"
            ))
            .and_then(|mut stmt| {
                stmt.query_map(params![invoices, customers, now_ms], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?
                .collect()
            })
            .map_err(wrap)?;
        let released: Vec<String> = tx
            .prepare(&format!(
                "UPDATE records AS i SET state = 'pending', reason = NULL, next_attempt_ms = NULL,
                    updated_at_ms = ?3
                 WHERE i.source = ?1 AND i.state = 'waiting'
                   AND COALESCE(i.next_attempt_ms, 0) <= ?3 AND {in_bluetape}
                 RETURNING id"
            ))
            .and_then(|mut stmt| {
                stmt.query_map(params![invoices, customers, now_ms], |r| r.get(0))?
                    .collect()
            })
            .map_err(wrap)?;
        for (id, reason) in &held {
            add_event(
                &tx,
                invoices,
                id,
                Some(pass),
                now_ms,
                "waiting",
                None,
                None,
                Some(reason),
            )
            .map_err(wrap)?;
        }
        for id in &released {
            let reason = Some("its customer is in BlueTape");
            add_event(
                &tx,
                invoices,
                id,
                Some(pass),
                now_ms,
                "released",
                None,
                None,
                reason,
            )
            .map_err(wrap)?;
        }
        tx.commit().map_err(wrap)?;
        Ok(Hold {
            held: held.len() as u64,
            released: released.len() as u64,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::RecordState;
    use crate::source::Kind;
    use crate::store::{Request, SendResult};

    fn invoice(id: &str, customer: &str) -> String {
        format!(r#"{{"id":"{id}","customerId":"{customer}","amountDue":1.10}}"#)
    }

    fn state(store: &Store, lane: &str, id: &str) -> (RecordState, Option<String>) {
        let row = store.record(lane, id).expect("read").expect("stored");
        (row.state, row.reason)
    }

    use crate::store::tests::result as answer;

    #[test]
    fn an_invoice_waits_for_its_customer_and_goes_when_it_is_created() {
        let mut store = Store::open_temporary().expect("store");
        let pass = store.begin_pass("default", false, 10).expect("pass");
        {
            let staging = store
                .staging("default", Kind::Customer, pass, 10)
                .expect("staging");
            for id in ["C1", "C2", "C3"] {
                staging
                    .queue_new(id, 1000, "{}", None, Default::default())
                    .expect("customer");
            }
            staging
                .reject_new(
                    "C4",
                    Some(1000),
                    "cellPhoneNumber: missing",
                    "h",
                    Default::default(),
                )
                .expect("rejected customer");
            staging.commit().expect("commit");
        }
        {
            let staging = store
                .staging("invoices", Kind::Invoice, pass, 10)
                .expect("staging");
            for (id, customer) in [("I1", "C1"), ("I2", "C2"), ("I4", "C4"), ("I9", "C9")] {
                staging
                    .queue_new(id, 1000, &invoice(id, customer), None, Default::default())
                    .expect("invoice");
            }
            staging.mark_invoices(pass, "default").expect("mark");
            staging.commit().expect("commit");
        }
        // C1 is created; C2's create failed; C3 never was anything to an invoice.
        store
            .record_results(
                "default",
                &[
                    answer(
                        "C1",
                        SendResult::Created {
                            blue_tape_id: "b".into(),
                            sign_up_url: Some("u".into()),
                        },
                    ),
                    answer(
                        "C2",
                        SendResult::Failed {
                            reason: "503 Service Unavailable".into(),
                            next_attempt_ms: 99,
                        },
                    ),
                ],
            )
            .expect("answers");
        let hold = store
            .hold_for_customers("invoices", "default", pass, 30)
            .expect("hold");
        assert_eq!(
            hold,
            Hold {
                held: 3,
                released: 0
            }
        );
        assert_eq!(state(&store, "invoices", "I1").0, RecordState::Pending);
        assert_eq!(
            state(&store, "invoices", "I2"),
            (
                RecordState::Waiting,
                Some("customer C2 could not be sent yet: 503 Service Unavailable".into())
            )
        );
        assert_eq!(
            state(&store, "invoices", "I4"),
            (
                RecordState::Waiting,
                Some("customer C4 is rejected: cellPhoneNumber: missing".into())
            )
        );
        assert_eq!(
            state(&store, "invoices", "I9"),
            (
                RecordState::Waiting,
                Some("customer C9 is not in the customer export".into())
            )
        );
        // C2 goes through on a later pass: its invoice is queued again, the others wait on.
        store
            .record_results("default", &[answer("C2", SendResult::Exists)])
            .expect("answer");
        let hold = store
            .hold_for_customers("invoices", "default", pass + 1, 40)
            .expect("hold");
        assert_eq!(
            hold,
            Hold {
                held: 0,
                released: 1
            }
        );
        assert_eq!(
            state(&store, "invoices", "I2"),
            (RecordState::Pending, None)
        );
        assert_eq!(state(&store, "invoices", "I4").0, RecordState::Waiting);
        // An invoice BlueTape made wait (its customer a draft there) goes only when its next
        // try is due.
        store
            .record_results(
                "invoices",
                &[answer(
                    "I1",
                    SendResult::Waiting {
                        reason: "400: Customer of invoice is draft.".into(),
                        next_attempt_ms: 60_000,
                    },
                )],
            )
            .expect("answer");
        let hold = store
            .hold_for_customers("invoices", "default", pass + 2, 59_999)
            .expect("hold");
        assert_eq!(hold, Hold::default());
        let hold = store
            .hold_for_customers("invoices", "default", pass + 3, 60_000)
            .expect("hold");
        assert_eq!(
            hold,
            Hold {
                held: 0,
                released: 1
            }
        );
    }

    #[test]
    fn a_never_sent_invoice_is_withdrawn_and_a_sent_one_cancelled() {
        let mut store = Store::open_temporary().expect("store");
        let pass = store.begin_pass("invoices", false, 10).expect("pass");
        {
            let staging = store
                .staging("invoices", Kind::Invoice, pass, 10)
                .expect("staging");
            staging
                .queue_new("I1", 1000, &invoice("I1", "C1"), None, Default::default())
                .expect("queue");
            staging
                .queue_new("I2", 1000, &invoice("I2", "C1"), None, Default::default())
                .expect("queue");
            staging.commit().expect("commit");
        }
        store
            .record_results(
                "invoices",
                &[answer("I2", SendResult::Accepted { blue_tape_id: None })],
            )
            .expect("created");
        let staging = store
            .staging("invoices", Kind::Invoice, pass + 1, 20)
            .expect("staging");
        assert!(staging.withdraw("I1").expect("withdraw"));
        assert!(!staging.withdraw("I2").expect("a sent one is not withdrawn"));
        staging.cancel("I2", 2000).expect("cancel");
        staging.commit().expect("commit");
        assert_eq!(store.record("invoices", "I1").expect("read"), None);
        let cancel_pending: i64 = store
            .conn
            .query_row(
                "SELECT cancel_pending FROM records WHERE id = 'I2'",
                [],
                |r| r.get(0),
            )
            .expect("row");
        assert_eq!(cancel_pending, 1);
        // The queue walks the cancel last, as a cancel.
        let mut cursor = crate::store::QueueCursor::new(30, true);
        let page = store
            .next_queue_page("invoices", &mut cursor, 10)
            .expect("page");
        let queued: Vec<(&str, Request)> =
            page.iter().map(|q| (q.id.as_str(), q.request)).collect();
        assert_eq!(queued, [("I2", Request::Cancel)]);
    }
}
