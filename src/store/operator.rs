//! What the operator's commands read and change (SPEC §6): typed methods, one statement each,
//! so that no command writes SQL of its own.

use rusqlite::{OptionalExtension as _, params};
use serde::Serialize;

use super::outbox::add_event;
use super::{Store, StoreError, kind_at, millis_at, state_at};
use crate::diff::RecordState;
use crate::source::Kind;
use crate::source::timestamp::Millis;

/// A rejected, failed or waiting record, as `failures` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailureEntry {
    pub id: String,
    /// How the accounting system shows it (a display name, first and last name, an invoice's
    /// number), when the export had one.
    pub name: Option<String>,
    pub kind: Kind,
    pub state: RecordState,
    pub reason: Option<String>,
    pub source_modified: Option<Millis>,
    pub attempts: u32,
    pub last_status: Option<u16>,
    pub next_attempt: Option<Millis>,
    pub updated_at: Option<Millis>,
}

/// A customer in BlueTape, as `export` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportEntry {
    pub id: String,
    pub email_address: Option<String>,
    pub blue_tape_id: Option<String>,
    pub sign_up_url: Option<String>,
    #[serde(rename = "created_at")]
    pub done_at: Option<Millis>,
    pub state: RecordState,
}

/// A record `retry` may queue again: whether the store holds its body (BlueTape refused or
/// never answered it) or not (refused before sending: it must be read from the export again).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RetryTarget {
    pub id: String,
    pub state: RecordState,
    pub has_body: bool,
}

/// One line of a record's history, as `show --id` prints it (fields in the JSON's order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    pub at: Millis,
    pub outcome: Option<String>,
    pub pass: Option<i64>,
    pub reason: Option<String>,
    pub status: Option<u16>,
    #[serde(rename = "what")]
    pub kind: String,
}

/// Records per state. Only a kind that follows another waits, and only an invoice is
/// cancelled: customers show neither.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct StateCounts {
    pub pending: u64,
    pub created: u64,
    pub exists: u64,
    pub rejected: u64,
    pub failed: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub waiting: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub cancelled: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// One record of the outbox, as `show --id` prints it (the body is not printed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordRow {
    pub id: String,
    /// How the accounting system shows it, when the export had a name.
    pub name: Option<String>,
    pub kind: Kind,
    pub state: RecordState,
    pub source_modified: Option<Millis>,
    pub reason: Option<String>,
    pub attempts: u32,
    pub last_status: Option<u16>,
    pub next_attempt: Option<Millis>,
    pub blue_tape_id: Option<String>,
    pub sign_up_url: Option<String>,
    /// An invoice's change BlueTape refused (`update` or `cancel`), until the source
    /// changes it again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused_reason: Option<String>,
    #[serde(skip)]
    pub body: Option<String>,
}

/// A record's name as `failures` and `show` give it: the one the store keeps (a display name,
/// or a rejected record's names), else its body's first and last name, else an invoice's
/// number.
const SHOWN_NAME: &str = "COALESCE(name, json_extract(body, '$.firstName') || ' '
    || json_extract(body, '$.lastName'), json_extract(body, '$.invoiceNumber'))";

impl Store {
    pub fn counts(&self, lane: &str) -> Result<StateCounts, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT state, COUNT(*) FROM records WHERE source = ?1 GROUP BY state")
            .map_err(|e| self.err(e))?;
        let mut counts = StateCounts::default();
        let rows = stmt
            .query_map([lane], |r| Ok((state_at(r, 0)?, r.get::<_, i64>(1)?)))
            .map_err(|e| self.err(e))?;
        for row in rows {
            let (state, n) = row.map_err(|e| self.err(e))?;
            let n = n as u64;
            match state {
                RecordState::Pending => counts.pending = n,
                RecordState::Created => counts.created = n,
                RecordState::Exists => counts.exists = n,
                RecordState::Rejected => counts.rejected = n,
                RecordState::Failed => counts.failed = n,
                RecordState::Waiting => counts.waiting = n,
                RecordState::Cancelled => counts.cancelled = n,
            }
        }
        Ok(counts)
    }

    /// One record, or `None` when the id was never seen.
    pub fn record(&self, lane: &str, id: &str) -> Result<Option<RecordRow>, StoreError> {
        self.conn
            .query_row(
                &format!(
                    "SELECT id, state, source_modified_ms, reason, attempts, last_status,
                        next_attempt_ms, blue_tape_id, sign_up_url, body, kind, refused,
                        refused_reason, {SHOWN_NAME}
                 FROM records WHERE source = ?1 AND id = ?2"
                ),
                [lane, id],
                |r| {
                    Ok(RecordRow {
                        id: r.get(0)?,
                        state: state_at(r, 1)?,
                        source_modified: millis_at(r, 2)?,
                        reason: r.get(3)?,
                        attempts: r.get(4)?,
                        last_status: r.get(5)?,
                        next_attempt: millis_at(r, 6)?,
                        blue_tape_id: r.get(7)?,
                        sign_up_url: r.get(8)?,
                        body: r.get(9)?,
                        kind: kind_at(r, 10)?,
                        refused: r.get(11)?,
                        refused_reason: r.get(12)?,
                        name: r.get(13)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// The ids of records whose id, email or name (as the export wrote them, any case) is
    /// `value`, at most `limit` of them.
    pub fn find(&self, lane: &str, value: &str, limit: u32) -> Result<Vec<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT id FROM records
                 WHERE source = ?1
                   AND (id = ?2 OR COALESCE(email, json_extract(body, '$.emailAddress'))
                                    = ?2 COLLATE NOCASE
                        OR {SHOWN_NAME} = ?2 COLLATE NOCASE)
                 ORDER BY id LIMIT ?3"
            ))
            .map_err(|e| self.err(e))?;
        let ids = stmt
            .query_map(params![lane, value.trim(), limit], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        ids.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// How many records carry the refused flag `what` (`update` or `cancel`).
    pub fn refused_count(&self, lane: &str, what: &str) -> Result<u64, StoreError> {
        self.conn
            .query_row(
                "SELECT COUNT(*) FROM records WHERE source = ?1 AND refused = ?2",
                [lane, what],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n as u64)
            .map_err(|e| self.err(e))
    }

    /// What happened to one record, oldest first.
    pub fn events(&self, lane: &str, id: &str) -> Result<Vec<Event>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT at_ms, pass_id, kind, status, outcome, reason FROM events
                 WHERE source = ?1 AND record_id = ?2 ORDER BY seq",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([lane, id], |r| {
                Ok(Event {
                    at: Millis(r.get(0)?),
                    pass: r.get(1)?,
                    kind: r.get(2)?,
                    status: r.get(3)?,
                    outcome: r.get(4)?,
                    reason: r.get(5)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Adds a line to a record's history from outside a pass (`retry`, `forget`).
    pub fn note(&self, lane: &str, id: &str, kind: &str, at_ms: i64) -> Result<(), StoreError> {
        add_event(&self.conn, lane, id, None, at_ms, kind, None, None, None)
            .map_err(|e| self.err(e))
    }
}

impl Store {
    /// When the oldest record still waiting to be sent last changed.
    pub fn oldest_waiting_ms(&self, lane: &str) -> Result<Option<i64>, StoreError> {
        self.conn
            .query_row(
                "SELECT MIN(updated_at_ms) FROM records
                 WHERE source = ?1 AND state IN ('pending', 'failed')",
                [lane],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))
    }

    /// Rejected, failed and waiting records (only `state`, when given) changed since
    /// `since_ms`, most recently changed first.
    pub fn failures(
        &self,
        lane: &str,
        state: Option<RecordState>,
        since_ms: Option<i64>,
    ) -> Result<Vec<FailureEntry>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT id, state, reason, source_modified_ms, attempts, last_status,
                        next_attempt_ms, updated_at_ms, kind, {SHOWN_NAME}
                 FROM records
                 WHERE source = ?1 AND state IN ('rejected', 'failed', 'waiting')
                   AND (?2 IS NULL OR state = ?2) AND updated_at_ms >= ?3
                 ORDER BY updated_at_ms DESC, id"
            ))
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(
                params![
                    lane,
                    state.map(RecordState::as_str),
                    since_ms.unwrap_or(i64::MIN)
                ],
                |r| {
                    Ok(FailureEntry {
                        id: r.get(0)?,
                        state: state_at(r, 1)?,
                        reason: r.get(2)?,
                        source_modified: millis_at(r, 3)?,
                        attempts: r.get(4)?,
                        last_status: r.get(5)?,
                        next_attempt: millis_at(r, 6)?,
                        updated_at: millis_at(r, 7)?,
                        kind: kind_at(r, 8)?,
                        name: r.get(9)?,
                    })
                },
            )
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Customers created in BlueTape (and, with `with_exists`, those that were already there),
    /// in the order they were done.
    pub fn exported(&self, lane: &str, with_exists: bool) -> Result<Vec<ExportEntry>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, json_extract(body, '$.emailAddress'), blue_tape_id, sign_up_url,
                        done_at_ms, state
                 FROM records
                 WHERE source = ?1 AND (state = 'created' OR (?2 AND state = 'exists'))
                 ORDER BY done_at_ms, id",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![lane, with_exists], |r| {
                Ok(ExportEntry {
                    id: r.get(0)?,
                    email_address: r.get(1)?,
                    blue_tape_id: r.get(2)?,
                    sign_up_url: r.get(3)?,
                    done_at: millis_at(r, 4)?,
                    state: state_at(r, 5)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Keeps a sign-up URL fetched from BlueTape.
    pub fn set_sign_up_url(&self, lane: &str, id: &str, url: &str) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE records SET sign_up_url = ?3 WHERE source = ?1 AND id = ?2",
                params![lane, id, url],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// The records in `state`, as `retry` would queue them.
    pub fn retry_targets(
        &self,
        lane: &str,
        state: RecordState,
    ) -> Result<Vec<RetryTarget>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, state, body IS NOT NULL FROM records WHERE source = ?1 AND state = ?2",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![lane, state.as_str()], retry_target_at)
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// One record as `retry` sees it, or `None` when the id was never seen.
    pub fn retry_target(&self, lane: &str, id: &str) -> Result<Option<RetryTarget>, StoreError> {
        self.conn
            .query_row(
                "SELECT id, state, body IS NOT NULL FROM records WHERE source = ?1 AND id = ?2",
                params![lane, id],
                retry_target_at,
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Queues a record again as it is stored: the next pass sends it.
    pub fn requeue(&self, lane: &str, id: &str, now_ms: i64) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE records SET state = 'pending', next_attempt_ms = NULL, updated_at_ms = ?3
                 WHERE source = ?1 AND id = ?2",
                params![lane, id, now_ms],
            )
            .map_err(|e| self.err(e))?;
        self.note(lane, id, "retry: queued again", now_ms)
    }

    /// Forgets what was read of a record, so that the next pass reads it from the export again.
    pub fn reread(&self, lane: &str, id: &str, now_ms: i64) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE records SET source_modified_ms = NULL, content_hash = NULL,
                    updated_at_ms = ?3
                 WHERE source = ?1 AND id = ?2",
                params![lane, id, now_ms],
            )
            .map_err(|e| self.err(e))?;
        self.note(lane, id, "retry: read again from the export", now_ms)
    }

    /// Removes a record, keeping its history; whether there was one.
    pub fn forget(&self, lane: &str, id: &str, now_ms: i64) -> Result<bool, StoreError> {
        let removed = self
            .conn
            .execute(
                "DELETE FROM records WHERE source = ?1 AND id = ?2",
                params![lane, id],
            )
            .map_err(|e| self.err(e))?;
        if removed > 0 {
            self.note(lane, id, "forgotten", now_ms)?;
        }
        Ok(removed > 0)
    }
}

/// A row of `SELECT id, state, body IS NOT NULL`.
fn retry_target_at(row: &rusqlite::Row<'_>) -> rusqlite::Result<RetryTarget> {
    Ok(RetryTarget {
        id: row.get(0)?,
        state: state_at(row, 1)?,
        has_body: row.get(2)?,
    })
}
