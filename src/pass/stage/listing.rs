//! What staging lists when it changes nothing: the head of the queue for `check`, and every
//! request a real pass would make for `--dry-run`.

use std::io::Write;

use super::{DryHold, SAMPLES, Staged};
use crate::pass::lane::Lane;
use crate::source::Kind;
use crate::store::{QueueCursor, Request, Staging, StoreError};

/// The queue's head as a pass would send it (a row that a later row of the same id replaced is
/// not there), as bodies in [`Staged::samples`]; `keep_ids`: every id it would send, in
/// [`Staged::would_send_ids`].
pub(super) fn samples(
    staging: &Staging<'_>,
    lane: &Lane,
    now: i64,
    keep_ids: bool,
    staged: &mut Staged,
) -> Result<(), StoreError> {
    let mut cursor = QueueCursor::new(now, lane.updates);
    loop {
        let page = staging.next_queue_page(&mut cursor, 1000)?;
        if page.is_empty() || (!keep_ids && staged.samples.len() >= SAMPLES) {
            return Ok(());
        }
        for queued in page {
            if queued.request == Request::Cancel {
                continue;
            }
            if keep_ids {
                staged.would_send_ids.insert(queued.id);
            }
            if staged.samples.len() < SAMPLES {
                staged.samples.push(queued.body);
            }
        }
    }
}

/// Lists each request a real pass would make (`would send C1`, `would update invoice I1`), or
/// for an invoice whose customer is neither in BlueTape nor sent first, that it would wait.
pub(super) fn would_send(
    staging: &Staging<'_>,
    lane: &Lane,
    now: i64,
    out: &mut dyn Write,
    keep_ids: bool,
    hold: Option<&DryHold<'_>>,
    staged: &mut Staged,
) -> Result<(), StoreError> {
    let mut cursor = QueueCursor::new(now, lane.updates);
    loop {
        let page = staging.next_queue_page(&mut cursor, 1000)?;
        if page.is_empty() {
            return Ok(());
        }
        for q in page {
            if let Some(hold) = hold
                && q.request == Request::Create
                && let Some(customer) = customer_id(&q.body)
                && !hold.would_send.contains(&customer)
                && !staging.in_bluetape(hold.customers, &customer)?
            {
                let _ = writeln!(
                    out,
                    "would hold invoice {} until customer {customer} is in BlueTape",
                    q.id
                );
                staged.would_wait += 1;
                continue;
            }
            let verb = match q.request {
                Request::Create => "send",
                Request::Update => "update",
                Request::Cancel => "cancel",
            };
            // Customers as `would send C1`; invoices named as such.
            let noun = match lane.kind {
                Kind::Customer => "",
                Kind::Invoice => "invoice ",
            };
            let _ = writeln!(out, "would {verb} {noun}{}", q.id);
            staged.would_send += 1;
            if keep_ids && q.request != Request::Cancel {
                staged.would_send_ids.insert(q.id);
            }
        }
    }
}

/// The customer an invoice's body names.
fn customer_id(body: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Named {
        #[serde(rename = "customerId")]
        customer_id: String,
    }
    serde_json::from_str::<Named>(body)
        .ok()
        .map(|n| n.customer_id)
}
