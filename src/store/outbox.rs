//! The outbox (SPEC §4): the queue a pass sends from, and each answer recorded as it arrives,
//! several in one commit, with a line of history per request.

use rusqlite::{Connection, Transaction, params};

use super::{Store, StoreError};
use crate::diff::RecordState;

/// What a queued record asks of BlueTape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    Create,
    /// Already in BlueTape and changed since: send as an update.
    Update,
    /// An invoice BlueTape has, void or deleted in the export since.
    Cancel,
}

impl Request {
    /// How its requests are named in the history.
    fn attempt(self) -> &'static str {
        match self {
            Request::Create => "attempt",
            Request::Update => "update attempt",
            Request::Cancel => "cancel attempt",
        }
    }
}

/// One record waiting to be sent.
#[derive(Debug, Clone)]
pub struct Queued {
    pub id: String,
    pub source_modified_ms: i64,
    pub body: String,
    pub request: Request,
}
/// What a send came to, as recorded in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendResult {
    Created {
        blue_tape_id: String,
        /// `None` when BlueTape sent none that is safe to keep.
        sign_up_url: Option<String>,
    },
    Exists,
    /// An update was accepted (202).
    Updated {
        blue_tape_id: Option<String>,
    },
    /// An invoice created (any 2xx).
    Accepted {
        blue_tape_id: Option<String>,
    },
    /// An invoice cancelled (or found cancelled or gone).
    Cancelled,
    /// An invoice whose customer BlueTape lacks or holds as a draft: tried again from
    /// `next_attempt_ms`.
    Waiting {
        reason: String,
        next_attempt_ms: i64,
    },
    /// An invoice's update or cancel refused for its state: not tried again until the source
    /// changes it.
    Refused {
        reason: String,
    },
    Rejected {
        reason: String,
    },
    Failed {
        reason: String,
        next_attempt_ms: i64,
    },
    /// The pass stopped before the record got an answer; it stays pending.
    Unfinished {
        reason: String,
    },
}
/// A send's result with what identifies the record and the attempt.
#[derive(Debug, Clone)]
pub struct SendRecord {
    pub id: String,
    pub pass: i64,
    /// What it was queued for.
    pub request: Request,
    pub attempts: u32,
    pub last_status: Option<u16>,
    pub at_ms: i64,
    pub result: SendResult,
    /// Each request made for it in this pass, in order.
    pub history: Vec<Attempt>,
}
/// One request and its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub at_ms: i64,
    /// `None`: no answer (timeout, connection).
    pub status: Option<u16>,
    /// `created`, `exists`, `updated`, `rejected`, `retry`, `stopped`.
    pub outcome: &'static str,
    pub reason: Option<String>,
}
/// The records still to send.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueCounts {
    pub pending: u64,
    pub failed: u64,
    /// Invoices waiting for their customer.
    pub waiting: u64,
}

#[allow(clippy::too_many_arguments)] // one column each
pub(super) fn add_event(
    conn: &Connection,
    lane: &str,
    id: &str,
    pass: Option<i64>,
    at_ms: i64,
    kind: &str,
    status: Option<u16>,
    outcome: Option<&str>,
    reason: Option<&str>,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO events (source, record_id, pass_id, at_ms, kind, status, outcome, reason)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        lane, id, pass, at_ms, kind, status, outcome, reason
    ])?;
    Ok(())
}
fn record_result(tx: &Transaction<'_>, lane: &str, r: &SendRecord) -> rusqlite::Result<()> {
    // Only a record still waiting may change: never overwrite a created customer with an
    // answer meant for another request.
    let waiting = match r.request {
        Request::Update => "source = ?1 AND id = ?2 AND update_pending = 1",
        Request::Cancel => "source = ?1 AND id = ?2 AND cancel_pending = 1",
        Request::Create => "source = ?1 AND id = ?2 AND state IN ('pending', 'failed', 'waiting')",
    };
    let update = r.request != Request::Create;
    let common = "attempts = attempts + ?3, last_status = COALESCE(?4, last_status), \
                  updated_at_ms = ?5";
    let (set, extra): (&str, Vec<Option<&str>>) = match &r.result {
        SendResult::Created {
            blue_tape_id,
            sign_up_url,
        } => (
            "state = 'created', done_at_ms = ?5, reason = NULL, next_attempt_ms = NULL,
             update_pending = 0, blue_tape_id = ?6, sign_up_url = ?7",
            vec![Some(blue_tape_id), sign_up_url.as_deref()],
        ),
        SendResult::Exists => (
            "state = 'exists', done_at_ms = COALESCE(done_at_ms, ?5), reason = NULL,
             next_attempt_ms = NULL, update_pending = 0",
            vec![],
        ),
        SendResult::Updated { blue_tape_id } => (
            "reason = NULL, next_attempt_ms = NULL, update_pending = 0,
             blue_tape_id = COALESCE(?6, blue_tape_id)",
            vec![blue_tape_id.as_deref()],
        ),
        SendResult::Accepted { blue_tape_id } => (
            "state = 'created', done_at_ms = ?5, reason = NULL, next_attempt_ms = NULL,
             update_pending = 0, blue_tape_id = COALESCE(?6, blue_tape_id)",
            vec![blue_tape_id.as_deref()],
        ),
        // Only a cancel's answer cancels: the client reads no create or update answer so.
        SendResult::Cancelled if r.request != Request::Cancel => return Ok(()),
        SendResult::Cancelled => (
            "state = 'cancelled', reason = NULL, next_attempt_ms = NULL, update_pending = 0,
             cancel_pending = 0, refused = NULL, refused_reason = NULL",
            vec![],
        ),
        SendResult::Refused { reason } => match r.request {
            Request::Cancel => (
                "refused = 'cancel', refused_reason = ?6, cancel_pending = 0,
                 next_attempt_ms = NULL",
                vec![Some(reason)],
            ),
            Request::Update => (
                "refused = 'update', refused_reason = ?6, update_pending = 0,
                 next_attempt_ms = NULL",
                vec![Some(reason)],
            ),
            Request::Create => (
                "state = 'rejected', reason = ?6, next_attempt_ms = NULL",
                vec![Some(reason)],
            ),
        },
        SendResult::Rejected { reason } if update => (
            "reason = 'update rejected: ' || ?6, next_attempt_ms = NULL, update_pending = 0",
            vec![Some(reason)],
        ),
        SendResult::Rejected { reason } => (
            "state = 'rejected', reason = ?6, next_attempt_ms = NULL",
            vec![Some(reason)],
        ),
        // Tried again from `next_attempt_ms`: a failed record, or an invoice waiting for its
        // customer; an update or cancel keeps its state.
        SendResult::Failed {
            reason,
            next_attempt_ms,
        }
        | SendResult::Waiting {
            reason,
            next_attempt_ms,
        } => {
            let state = match (&r.result, update) {
                (_, true) => "",
                (SendResult::Waiting { .. }, false) => "state = 'waiting', ",
                (_, false) => "state = 'failed', ",
            };
            let sql = format!(
                "UPDATE records SET {state}{common}, reason = ?6, next_attempt_ms = ?7 WHERE {waiting}"
            );
            tx.prepare_cached(&sql)?.execute(params![
                lane,
                r.id,
                r.attempts,
                r.last_status,
                r.at_ms,
                reason,
                next_attempt_ms
            ])?;
            return Ok(());
        }
        SendResult::Unfinished { reason } => ("reason = ?6", vec![Some(reason)]),
    };
    let sql = format!("UPDATE records SET {set}, {common} WHERE {waiting}");
    let mut stmt = tx.prepare_cached(&sql)?;
    let base: [&dyn rusqlite::ToSql; 5] = [&lane, &r.id, &r.attempts, &r.last_status, &r.at_ms];
    let extra: Vec<&dyn rusqlite::ToSql> =
        extra.iter().map(|v| v as &dyn rusqlite::ToSql).collect();
    let all: Vec<&dyn rusqlite::ToSql> = base.into_iter().chain(extra).collect();
    stmt.execute(all.as_slice())?;
    Ok(())
}
/// Where a walk through the queue is: which part, and the last record returned.
#[derive(Debug, Clone)]
pub struct QueueCursor {
    state: QueuePart,
    after: Option<(i64, String)>,
    now_ms: i64,
    updates: bool,
}
/// The queue's parts, walked in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum QueuePart {
    Pending,
    Failed,
    Updates,
    /// Records to cancel (invoices the export now says are void).
    Cancels,
}
impl QueuePart {
    fn as_str(self) -> &'static str {
        match self {
            QueuePart::Pending => "pending",
            QueuePart::Failed => "failed",
            QueuePart::Updates => "updates",
            QueuePart::Cancels => "cancels",
        }
    }
}
impl QueueCursor {
    /// A walk that takes failed records (and, with `updates`, updates) whose next attempt is
    /// due by `now_ms`.
    pub fn new(now_ms: i64, updates: bool) -> Self {
        Self {
            state: QueuePart::Pending,
            after: None,
            now_ms,
            updates,
        }
    }
}

/// The most bytes of bodies one page of the queue holds (after its first record).
const QUEUE_PAGE_BYTES: usize = 1024 * 1024;

pub(super) fn next_queue_page(
    conn: &Connection,
    lane: &str,
    cursor: &mut QueueCursor,
    limit: usize,
) -> rusqlite::Result<Vec<Queued>> {
    // Each part is a keyset walk along an index on (lane, [state,] source_modified_ms, id).
    loop {
        let (after_ms, after_id) = cursor
            .after
            .as_ref()
            .map_or((i64::MIN, ""), |(ms, id)| (*ms, id.as_str()));
        let request = match cursor.state {
            QueuePart::Pending | QueuePart::Failed => Request::Create,
            QueuePart::Updates => Request::Update,
            QueuePart::Cancels => Request::Cancel,
        };
        let mut stmt = conn.prepare_cached(match request {
            Request::Update => {
                "SELECT id, source_modified_ms, body FROM records
                 WHERE source = ?1 AND update_pending = 1 AND ?2 = 'updates'
                   AND (source_modified_ms, id) > (?3, ?4)
                   AND body IS NOT NULL AND COALESCE(next_attempt_ms, 0) <= ?5
                 ORDER BY source_modified_ms, id
                 LIMIT ?6"
            }
            Request::Cancel => {
                "SELECT id, source_modified_ms, COALESCE(body, '') FROM records
                 WHERE source = ?1 AND cancel_pending = 1 AND ?2 = 'cancels'
                   AND (source_modified_ms, id) > (?3, ?4)
                   AND COALESCE(next_attempt_ms, 0) <= ?5
                 ORDER BY source_modified_ms, id
                 LIMIT ?6"
            }
            Request::Create => {
                "SELECT id, source_modified_ms, body FROM records
             WHERE source = ?1 AND state = ?2 AND (source_modified_ms, id) > (?3, ?4)
               AND body IS NOT NULL AND COALESCE(next_attempt_ms, 0) <= ?5
             ORDER BY source_modified_ms, id
             LIMIT ?6"
            }
        })?;
        let rows = stmt.query_map(
            params![
                lane,
                cursor.state.as_str(),
                after_ms,
                after_id,
                cursor.now_ms,
                limit as i64
            ],
            |r| {
                Ok(Queued {
                    id: r.get(0)?,
                    source_modified_ms: r.get(1)?,
                    body: r.get(2)?,
                    request,
                })
            },
        )?;
        // A page ends at `limit` records or [`QUEUE_PAGE_BYTES`] of bodies, whichever comes
        // first (an invoice's body may be 1 MiB).
        let mut page = Vec::new();
        let mut bytes = 0;
        for row in rows {
            let queued = row?;
            bytes += queued.body.len();
            page.push(queued);
            if bytes >= QUEUE_PAGE_BYTES {
                break;
            }
        }
        if let Some(last) = page.last() {
            cursor.after = Some((last.source_modified_ms, last.id.clone()));
            return Ok(page);
        }
        cursor.after = None;
        cursor.state = match cursor.state {
            QueuePart::Pending => QueuePart::Failed,
            QueuePart::Failed if cursor.updates => QueuePart::Updates,
            QueuePart::Failed | QueuePart::Updates => QueuePart::Cancels,
            QueuePart::Cancels => return Ok(page),
        };
    }
}
impl Store {
    /// The next page of the queue, oldest first: pending records, then failed ones whose
    /// next attempt is due. An empty page means the queue is done.
    pub fn next_queue_page(
        &self,
        lane: &str,
        cursor: &mut QueueCursor,
        limit: usize,
    ) -> Result<Vec<Queued>, StoreError> {
        next_queue_page(&self.conn, lane, cursor, limit).map_err(|e| self.err(e))
    }

    /// The records still to send, pending and failed: counted in the queue's index, so
    /// without reading the records already done.
    pub fn queue_counts(&self, lane: &str) -> Result<QueueCounts, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT COUNT(*) FROM records WHERE source = ?1 AND state = ?2")
            .map_err(|e| self.err(e))?;
        let mut count = |state: RecordState| {
            stmt.query_row(params![lane, state.as_str()], |r| r.get::<_, i64>(0))
                .map(|n| n as u64)
                .map_err(|e| self.err(e))
        };
        Ok(QueueCounts {
            pending: count(RecordState::Pending)?,
            failed: count(RecordState::Failed)?,
            waiting: count(RecordState::Waiting)?,
        })
    }

    /// Records a batch of send results in one transaction (the group commit).
    pub fn record_results(&mut self, lane: &str, results: &[SendRecord]) -> Result<(), StoreError> {
        let path = self.path.clone();
        let wrap = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(wrap)?;
        for r in results {
            record_result(&tx, lane, r).map_err(wrap)?;
            for a in &r.history {
                let kind = r.request.attempt();
                add_event(
                    &tx,
                    lane,
                    &r.id,
                    Some(r.pass),
                    a.at_ms,
                    kind,
                    a.status,
                    Some(a.outcome),
                    a.reason.as_deref(),
                )
                .map_err(wrap)?;
            }
        }
        tx.commit().map_err(wrap)
    }
}
