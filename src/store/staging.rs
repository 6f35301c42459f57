//! Staging (SPEC §4): one pass's reading of the export, written in one transaction with the
//! watermark, each file in a savepoint of its own.

use std::path::PathBuf;
use std::sync::LazyLock;

use rusqlite::{OptionalExtension, Transaction, params};

use super::outbox::{QueueCursor, Queued, add_event, next_queue_page};
use super::{Store, StoreError, state_at};
use crate::diff::{RecordState, Stored};
use crate::source::Kind;

/// How many new records [`Staging::queue_new_batch`] stores in one statement.
pub const NEW_BATCH: usize = 64;

/// [`Staging::queue_new_batch`]'s insert: ?1 to ?4 are the lane, the pass, the time and the
/// kind, then six parameters for each record.
static QUEUE_NEW_BATCH: LazyLock<String> = LazyLock::new(|| {
    let rows = (0..NEW_BATCH)
        .map(|k| {
            let p = 5 + 6 * k;
            format!(
                "(?1, ?{p}, 'pending', ?{}, ?{}, ?2, ?2, ?3, ?{}, ?{}, ?{}, ?4)",
                p + 1,
                p + 2,
                p + 3,
                p + 4,
                p + 5
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "INSERT INTO records (source, id, state, source_modified_ms, body, first_seen_pass,
                              staged_pass, updated_at_ms, content_hash, name, email, kind)
         VALUES {rows}
         ON CONFLICT (source, id) DO NOTHING
         RETURNING id"
    )
});

/// A record read in this pass, then what to do when its id is stored already: ?1 source, ?2 id,
/// ?3 state, ?4 source_modified_ms, ?5 body, ?6 content_hash, ?7 reason, ?8 the pass, ?9 now,
/// ?10 name, ?11 email, ?12 kind.
macro_rules! insert_record {
    ($on_conflict:literal) => {
        concat!(
            "INSERT INTO records (source, id, state, source_modified_ms, body, content_hash,
                                  reason, first_seen_pass, staged_pass, updated_at_ms, name,
                                  email, kind)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9, ?10, ?11, ?12) ",
            $on_conflict
        )
    };
}

/// For an id the store does not have yet.
const INSERT_NEW: &str = insert_record!("ON CONFLICT (source, id) DO NOTHING");

/// Over what the store has for the id: read afresh, nothing tried yet.
const INSERT_OR_REPLACE: &str = insert_record!(
    "ON CONFLICT (source, id) DO UPDATE SET
        state = excluded.state, source_modified_ms = excluded.source_modified_ms,
        body = excluded.body, content_hash = excluded.content_hash, reason = excluded.reason,
        attempts = 0, next_attempt_ms = NULL,
        last_status = CASE excluded.state WHEN 'rejected' THEN NULL ELSE last_status END,
        staged_pass = excluded.staged_pass, updated_at_ms = excluded.updated_at_ms,
        name = excluded.name, email = excluded.email"
);

/// What to do when the id is already stored.
enum Conflict {
    /// Change nothing.
    Keep,
    /// Replace what was read before.
    Replace,
}

/// How a bookkeeper finds a record: the name the accounting system shows, and a customer's
/// email as the export writes it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Label<'a> {
    pub name: Option<&'a str>,
    pub email: Option<&'a str>,
}

/// One record as staging writes it.
struct Row<'a> {
    id: &'a str,
    label: Label<'a>,
    state: RecordState,
    modified_ms: Option<i64>,
    body: Option<&'a str>,
    content_hash: Option<&'a str>,
    reason: Option<&'a str>,
}

impl<'a> Row<'a> {
    fn pending(
        id: &'a str,
        modified_ms: i64,
        body: &'a str,
        content_hash: Option<&'a str>,
        label: Label<'a>,
    ) -> Self {
        Self {
            id,
            label,
            state: RecordState::Pending,
            modified_ms: Some(modified_ms),
            body: Some(body),
            content_hash,
            reason: None,
        }
    }

    fn rejected(
        id: &'a str,
        modified_ms: Option<i64>,
        reason: &'a str,
        content_hash: &'a str,
        label: Label<'a>,
    ) -> Self {
        Self {
            id,
            label,
            state: RecordState::Rejected,
            modified_ms,
            body: None,
            content_hash: Some(content_hash),
            reason: Some(reason),
        }
    }
}

/// The history of a batch whose records were all new: ?1 to ?3 as above, then each id.
static QUEUED_EVENTS_BATCH: LazyLock<String> = LazyLock::new(|| {
    let rows = (0..NEW_BATCH)
        .map(|k| format!("(?1, ?{}, ?2, ?3, 'queued')", 4 + k))
        .collect::<Vec<_>>()
        .join(", ");
    format!("INSERT INTO events (source, record_id, pass_id, at_ms, kind) VALUES {rows}")
});

/// A valid record to queue if the store has never seen its id.
#[derive(Debug, Clone, Copy)]
pub struct NewRecord<'a> {
    pub id: &'a str,
    pub modified_ms: i64,
    pub body: &'a str,
    /// When its date is when it was first seen.
    pub content_hash: Option<&'a str>,
    pub label: Label<'a>,
}

/// The staging transaction of one pass: dropped without `commit`, it changes nothing.
pub struct Staging<'a> {
    pub(super) tx: Transaction<'a>,
    path: PathBuf,
    pub(super) lane: String,
    /// What its records are, written with each.
    kind: Kind,
    pub(super) pass: i64,
    pub(super) now_ms: i64,
}

impl Staging<'_> {
    pub(super) fn err(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    /// Runs one of the staging statements (prepared once per transaction).
    pub(super) fn execute(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(sql)
            .and_then(|mut stmt| stmt.execute(params))
            .map(drop)
            .map_err(|e| self.err(e))
    }

    pub fn lookup(&self, id: &str) -> Result<Option<Stored>, StoreError> {
        let mut stmt = self
            .tx
            .prepare_cached(
                "SELECT state, source_modified_ms, staged_pass, content_hash
                 FROM records WHERE source = ?1 AND id = ?2",
            )
            .map_err(|e| self.err(e))?;
        stmt.query_row(params![self.lane, id], |r| {
            Ok(Stored {
                state: state_at(r, 0)?,
                modified_ms: r.get(1)?,
                staged_this_pass: r.get::<_, Option<i64>>(2)? == Some(self.pass),
                content_hash: r.get(3)?,
            })
        })
        .optional()
        .map_err(|e| self.err(e))
    }

    /// Marks the start of one export file: [`Staging::release`] keeps what it staged,
    /// [`Staging::rollback_file`] undoes it.
    pub fn begin_file(&self) -> Result<(), StoreError> {
        self.tx
            .execute_batch("SAVEPOINT export_file")
            .map_err(|e| self.err(e))
    }

    pub fn release(&self) -> Result<(), StoreError> {
        self.tx
            .execute_batch("RELEASE export_file")
            .map_err(|e| self.err(e))
    }

    pub fn rollback_file(&self) -> Result<(), StoreError> {
        self.tx
            .execute_batch("ROLLBACK TO export_file; RELEASE export_file")
            .map_err(|e| self.err(e))
    }

    pub(super) fn event(
        &self,
        id: &str,
        kind: &str,
        reason: Option<&str>,
    ) -> Result<(), StoreError> {
        add_event(
            &self.tx,
            &self.lane,
            id,
            Some(self.pass),
            self.now_ms,
            kind,
            None,
            None,
            reason,
        )
        .map_err(|e| self.err(e))
    }

    /// Runs one of the staging statements; the number of rows it changed.
    fn changes(&self, sql: &str, params: impl rusqlite::Params) -> Result<usize, StoreError> {
        self.tx
            .prepare_cached(sql)
            .and_then(|mut stmt| stmt.execute(params))
            .map_err(|e| self.err(e))
    }

    /// Queues a record the store has never seen; `false`, changing nothing, if it has one
    /// with this id. Most records of a large pass are new: this spares them the lookup.
    pub fn queue_new(
        &self,
        id: &str,
        modified_ms: i64,
        body: &str,
        content_hash: Option<&str>,
        label: Label<'_>,
    ) -> Result<bool, StoreError> {
        let row = Row::pending(id, modified_ms, body, content_hash, label);
        self.insert(&row, Conflict::Keep)
    }

    /// [`Staging::queue_new`] for [`NEW_BATCH`] records in one statement (and their history
    /// in another): whether each was queued, in order. A batch of another size is queued one
    /// record at a time. Of an id twice in the batch, only the first can be new.
    pub fn queue_new_batch(&self, batch: &[NewRecord<'_>]) -> Result<Vec<bool>, StoreError> {
        if batch.len() != NEW_BATCH {
            return batch
                .iter()
                .map(|r| self.queue_new(r.id, r.modified_ms, r.body, r.content_hash, r.label))
                .collect();
        }
        let kind = self.kind.name();
        let mut values: Vec<&dyn rusqlite::ToSql> =
            vec![&self.lane, &self.pass, &self.now_ms, &kind];
        for r in batch {
            values.extend([
                &r.id as &dyn rusqlite::ToSql,
                &r.modified_ms,
                &r.body,
                &r.content_hash,
                &r.label.name,
                &r.label.email,
            ]);
        }
        let inserted = self
            .tx
            .prepare_cached(&QUEUE_NEW_BATCH)
            .and_then(|mut stmt| {
                stmt.query_map(rusqlite::params_from_iter(values), |row| {
                    row.get::<_, String>(0)
                })?
                .collect::<rusqlite::Result<std::collections::HashSet<String>>>()
            })
            .map_err(|e| self.err(e))?;
        let mut seen = std::collections::HashSet::with_capacity(batch.len());
        let new: Vec<bool> = batch
            .iter()
            .map(|r| inserted.contains(r.id) && seen.insert(r.id))
            .collect();
        if inserted.len() == NEW_BATCH {
            let mut values: Vec<&dyn rusqlite::ToSql> = vec![&self.lane, &self.pass, &self.now_ms];
            values.extend(batch.iter().map(|r| &r.id as &dyn rusqlite::ToSql));
            self.changes(&QUEUED_EVENTS_BATCH, rusqlite::params_from_iter(values))?;
        } else {
            for (r, _) in batch.iter().zip(&new).filter(|(_, new)| **new) {
                self.event(r.id, "queued", None)?;
            }
        }
        Ok(new)
    }

    /// Records a rejection of a record the store has never seen; `false`, changing nothing,
    /// if it has one with this id.
    pub fn reject_new(
        &self,
        id: &str,
        modified_ms: Option<i64>,
        reason: &str,
        content_hash: &str,
        label: Label<'_>,
    ) -> Result<bool, StoreError> {
        let row = Row::rejected(id, modified_ms, reason, content_hash, label);
        self.insert(&row, Conflict::Keep)
    }

    /// Queues (or re-queues) a valid record as pending with its API body; `content_hash`
    /// when its date is when it was first seen.
    pub fn queue(
        &self,
        id: &str,
        modified_ms: i64,
        body: &str,
        content_hash: Option<&str>,
        label: Label<'_>,
    ) -> Result<(), StoreError> {
        let row = Row::pending(id, modified_ms, body, content_hash, label);
        self.insert(&row, Conflict::Replace).map(drop)
    }

    /// Records a record refused locally, with its reason.
    pub fn reject(
        &self,
        id: &str,
        modified_ms: Option<i64>,
        reason: &str,
        content_hash: &str,
        label: Label<'_>,
    ) -> Result<(), StoreError> {
        let row = Row::rejected(id, modified_ms, reason, content_hash, label);
        self.insert(&row, Conflict::Replace).map(drop)
    }

    /// Writes a record read in this pass, pending or rejected, with a line of its history;
    /// whether it was written (with [`Conflict::Keep`], not when the id is already stored).
    fn insert(&self, row: &Row<'_>, conflict: Conflict) -> Result<bool, StoreError> {
        let sql = match conflict {
            Conflict::Keep => INSERT_NEW,
            Conflict::Replace => INSERT_OR_REPLACE,
        };
        let written = self.changes(
            sql,
            params![
                self.lane,
                row.id,
                row.state.as_str(),
                row.modified_ms,
                row.body,
                row.content_hash,
                row.reason,
                self.pass,
                self.now_ms,
                row.label.name,
                row.label.email,
                self.kind.name()
            ],
        )? == 1;
        if written {
            let kind = match row.state {
                RecordState::Rejected => "rejected",
                _ => "queued",
            };
            self.event(row.id, kind, row.reason)?;
        }
        Ok(written)
    }

    /// Records the newer date (and body) of a record already in BlueTape; with `update`,
    /// queues the body to be sent as an update. A refusal of an earlier change is forgotten:
    /// this is another one.
    pub fn changed_upstream(
        &self,
        id: &str,
        modified_ms: i64,
        body: Option<&str>,
        content_hash: Option<&str>,
        update: bool,
    ) -> Result<(), StoreError> {
        self.execute(
            "UPDATE records SET source_modified_ms = ?3, body = COALESCE(?4, body),
                changed_pass = ?5, updated_at_ms = ?6, content_hash = COALESCE(?7, content_hash),
                update_pending = ?8, next_attempt_ms = NULL, refused = NULL,
                refused_reason = NULL
             WHERE source = ?1 AND id = ?2",
            params![
                self.lane,
                id,
                modified_ms,
                body,
                self.pass,
                self.now_ms,
                content_hash,
                update && body.is_some()
            ],
        )?;
        let kind = if update && body.is_some() {
            "changed upstream: update queued"
        } else {
            "changed upstream"
        };
        self.event(id, kind, None)
    }

    /// Clears a setting as part of this staging.
    pub fn clear_setting(&self, key: &str) -> Result<(), StoreError> {
        self.execute(
            "DELETE FROM settings WHERE source = ?1 AND key = ?2",
            params![self.lane, key],
        )
    }

    pub fn set_watermark(&self, value_ms: i64) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO watermarks (source, value_ms, updated_at_ms) VALUES (?1, ?2, ?3)
             ON CONFLICT (source) DO UPDATE SET
                value_ms = MAX(value_ms, excluded.value_ms),
                updated_at_ms = excluded.updated_at_ms",
            params![self.lane, value_ms, self.now_ms],
        )
    }

    /// The queue as it would be after this staging, for a dry run.
    pub fn next_queue_page(
        &self,
        cursor: &mut QueueCursor,
        limit: usize,
    ) -> Result<Vec<Queued>, StoreError> {
        next_queue_page(&self.tx, &self.lane, cursor, limit).map_err(|e| self.err(e))
    }

    pub fn commit(self) -> Result<(), StoreError> {
        let path = self.path.clone();
        self.tx
            .commit()
            .map_err(|source| StoreError::Sqlite { path, source })
    }
}

impl Store {
    /// Starts the one transaction in which a pass queues records and advances the watermark.
    pub fn staging(
        &mut self,
        lane: &str,
        kind: Kind,
        pass: i64,
        now_ms: i64,
    ) -> Result<Staging<'_>, StoreError> {
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|source| StoreError::Sqlite {
                path: path.clone(),
                source,
            })?;
        Ok(Staging {
            tx,
            path,
            lane: lane.to_owned(),
            kind,
            pass,
            now_ms,
        })
    }
}
