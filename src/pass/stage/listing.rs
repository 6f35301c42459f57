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
/// for a record whose record in the lane before is neither in BlueTape nor sent first (an
/// invoice's customer), that it would wait.
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
                && let Some(first) = lane.rules().follows(&q.body)
                && !hold.would_send.contains(&first)
                && !staging.in_bluetape(hold.lane, &first)?
            {
                let _ = writeln!(
                    out,
                    "would hold {} {} until {} {first} is in BlueTape",
                    lane.noun(),
                    q.id,
                    hold.noun
                );
                staged.would_wait += 1;
                continue;
            }
            let verb = match q.request {
                Request::Create => "send",
                Request::Update => "update",
                Request::Cancel => "cancel",
            };
            // Customers as `would send C1`; other kinds named (`would send invoice I1`).
            let _ = match lane.kind {
                Kind::Customer => writeln!(out, "would {verb} {}", q.id),
                kind => writeln!(out, "would {verb} {kind} {}", q.id),
            };
            staged.would_send += 1;
            if keep_ids && q.request != Request::Cancel {
                staged.would_send_ids.insert(q.id);
            }
        }
    }
}
