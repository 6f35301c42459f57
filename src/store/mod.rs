//! The SQLite store: migrations, the watermark, the outbox of record states, and passes.

pub mod config;
mod migrations;
mod operator;

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use rusqlite::{Connection, OptionalExtension, Transaction, params};

pub use self::migrations::MIGRATIONS;
pub use self::operator::{ExportEntry, FailureEntry, PassEntry, RetryTarget};
use crate::diff::{RecordState, Stored};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store {}: {source}{}", path.display(), hint(source))]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("cannot create the store {}: {source}", path.display())]
    Create {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot encode a record for the store: {0}")]
    Serialize(String),
    #[error("store {} has schema version {found}, which no bluetape-sync writes: it was changed by another program; move it aside and run again (customers already in BlueTape come back as `exists`)", path.display())]
    BadSchema { path: PathBuf, found: i64 },
    #[error("store {} was written by a newer bluetape-sync (schema {found}, this one knows {known}): upgrade bluetape-sync", path.display())]
    NewerSchema {
        path: PathBuf,
        found: i64,
        known: usize,
    },
}

/// The `settings` keys the daemon keeps for `status`: its pid and its next pass.
pub const DAEMON_PID: &str = "daemon_pid";
pub const DAEMON_NEXT_PASS: &str = "daemon_next_pass_ms";

/// The `settings` key that makes the next pass read the whole export (after `retry` of a
/// record rejected locally, or `forget`).
pub const FULL_NEXT_PASS: &str = "full_next_pass";

/// The record state in column `index`; a state this program does not know is an error.
fn state_at(row: &rusqlite::Row<'_>, index: usize) -> rusqlite::Result<RecordState> {
    row.get::<_, String>(index)?.parse().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, Box::new(e))
    })
}

/// What an operator can do about a store error, when there is something.
fn hint(error: &rusqlite::Error) -> &'static str {
    use rusqlite::ErrorCode;
    match error.sqlite_error_code() {
        Some(ErrorCode::DiskFull) => {
            ": the disk is full; nothing of this pass was kept: free space and run again"
        }
        Some(ErrorCode::ReadOnly | ErrorCode::PermissionDenied | ErrorCode::CannotOpen) => {
            ": it cannot be written; check that the store and its directory are writable by this user"
        }
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            ": another program kept it locked for over 10 s; stop it and run again"
        }
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => {
            ": the file is damaged; move it aside and run again: the next pass reads the export \
             afresh, and customers already in BlueTape come back as `exists`"
        }
        _ => "",
    }
}

/// One record waiting to be sent.
#[derive(Debug, Clone)]
pub struct Queued {
    pub id: String,
    pub source_modified_ms: i64,
    pub body: String,
    /// Already in BlueTape and changed since: send as an update.
    pub update: bool,
}

/// What a send came to, as recorded in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendResult {
    Created {
        blue_tape_id: String,
        sign_up_url: String,
    },
    Exists,
    /// An update was accepted (202).
    Updated {
        blue_tape_id: Option<String>,
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
    /// The record was queued as an update (it is created or exists).
    pub update: bool,
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

/// One line of a record's history, as `show --id` prints it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Event {
    pub at_ms: i64,
    pub pass: Option<i64>,
    pub kind: String,
    pub status: Option<u16>,
    pub outcome: Option<String>,
    pub reason: Option<String>,
}

/// Records per state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct StateCounts {
    pub pending: u64,
    pub created: u64,
    pub exists: u64,
    pub rejected: u64,
    pub failed: u64,
}

/// The records still to send.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueCounts {
    pub pending: u64,
    pub failed: u64,
}

/// One row of the outbox, as `status`-style readers see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordRow {
    pub id: String,
    pub state: RecordState,
    pub source_modified_ms: Option<i64>,
    pub reason: Option<String>,
    pub attempts: u32,
    pub last_status: Option<u16>,
    pub next_attempt_ms: Option<i64>,
    pub blue_tape_id: Option<String>,
    pub sign_up_url: Option<String>,
    pub body: Option<String>,
}

/// The counts a pass ends with, as kept in `passes`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct PassCounts {
    pub read: u64,
    pub new: u64,
    pub created: u64,
    pub exists: u64,
    pub rejected: u64,
    pub failed: u64,
    pub changed_upstream: u64,
    pub updated: u64,
    /// Left out by the preset's rule (inactive or archived customers).
    pub inactive: u64,
}

pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl Store {
    /// Opens (creating it 0600 if needed) and migrates the store at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        create_private(path)?;
        let conn = Connection::open(path).map_err(|source| StoreError::Sqlite {
            path: path.to_owned(),
            source,
        })?;
        Self::init(conn, path.to_owned(), true)
    }

    /// The store at `path` if there is one, else a throwaway one: for passes that change
    /// nothing (a dry run, `check`) and must not create a store either.
    pub fn open_or_temporary(path: &Path) -> Result<Self, StoreError> {
        if path.exists() {
            Self::open(path)
        } else {
            Self::open_temporary()
        }
    }

    /// A throwaway store, for dry runs on a machine that has none yet: SQLite's private
    /// temporary database, on disk (so a large export stays out of memory) and deleted on
    /// close.
    fn open_temporary() -> Result<Self, StoreError> {
        let conn = Connection::open("").map_err(|source| StoreError::Sqlite {
            path: PathBuf::from("(temporary)"),
            source,
        })?;
        Self::init(conn, PathBuf::from("(temporary)"), false)
    }

    fn init(conn: Connection, path: PathBuf, wal: bool) -> Result<Self, StoreError> {
        let mut store = Self { conn, path };
        let setup = |conn: &Connection| -> rusqlite::Result<()> {
            conn.busy_timeout(std::time::Duration::from_secs(10))?;
            if wal {
                conn.pragma_update(None, "journal_mode", "WAL")?;
            }
            conn.pragma_update(None, "synchronous", "NORMAL")?;
            conn.pragma_update(None, "foreign_keys", "ON")?;
            Ok(())
        };
        setup(&store.conn).map_err(|e| store.err(e))?;
        store.migrate()?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let version: i64 = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(|e| self.err(e))?;
        let known = MIGRATIONS.len();
        let applied = usize::try_from(version).map_err(|_| StoreError::BadSchema {
            path: self.path.clone(),
            found: version,
        })?;
        if applied > known {
            return Err(StoreError::NewerSchema {
                path: self.path.clone(),
                found: version,
                known,
            });
        }
        for (index, (_name, sql)) in MIGRATIONS.iter().enumerate().skip(applied) {
            let tx = self.conn.transaction().map_err(|e| StoreError::Sqlite {
                path: self.path.clone(),
                source: e,
            })?;
            tx.execute_batch(sql)
                .and_then(|()| tx.pragma_update(None, "user_version", (index + 1) as i64))
                .and_then(|()| tx.commit())
                .map_err(|e| StoreError::Sqlite {
                    path: self.path.clone(),
                    source: e,
                })?;
        }
        Ok(())
    }

    pub fn watermark(&self, source: &str) -> Result<Option<i64>, StoreError> {
        self.conn
            .query_row(
                "SELECT value_ms FROM watermarks WHERE source = ?1",
                [source],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    pub fn begin_pass(&self, source: &str, full: bool, now_ms: i64) -> Result<i64, StoreError> {
        self.conn
            .execute(
                "INSERT INTO passes (source, started_at_ms, outcome, full) VALUES (?1, ?2, 'running', ?3)",
                params![source, now_ms, full],
            )
            .map_err(|e| self.err(e))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Records a scheduled pass that did not start because the previous one was still running.
    pub fn record_skipped_pass(&self, source: &str, now_ms: i64) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO passes (source, started_at_ms, finished_at_ms, outcome, message)
                 VALUES (?1, ?2, ?2, 'skipped', 'the previous pass was still running')",
                params![source, now_ms],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    pub fn finish_pass(
        &self,
        pass: i64,
        outcome: &str,
        counts: &PassCounts,
        message: Option<&str>,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE passes SET finished_at_ms = ?2, outcome = ?3, read = ?4, new = ?5,
                    created = ?6, \"exists\" = ?7, rejected = ?8, failed = ?9,
                    changed_upstream = ?10, message = ?11, updated = ?12, inactive = ?13
                 WHERE id = ?1",
                params![
                    pass,
                    now_ms,
                    outcome,
                    counts.read as i64,
                    counts.new as i64,
                    counts.created as i64,
                    counts.exists as i64,
                    counts.rejected as i64,
                    counts.failed as i64,
                    counts.changed_upstream as i64,
                    message,
                    counts.updated as i64,
                    counts.inactive as i64,
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Starts the one transaction in which a pass queues records and advances the watermark.
    pub fn staging(
        &mut self,
        source: &str,
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
            source: source.to_owned(),
            pass,
            now_ms,
        })
    }

    /// The next page of the queue, oldest first: pending records, then failed ones whose
    /// next attempt is due. An empty page means the queue is done.
    pub fn next_queue_page(
        &self,
        source: &str,
        cursor: &mut QueueCursor,
        limit: usize,
    ) -> Result<Vec<Queued>, StoreError> {
        next_queue_page(&self.conn, source, cursor, limit).map_err(|e| self.err(e))
    }

    /// The records still to send, pending and failed: counted in the queue's index, so
    /// without reading the records already done.
    pub fn queue_counts(&self, source: &str) -> Result<QueueCounts, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT COUNT(*) FROM records WHERE source = ?1 AND state = ?2")
            .map_err(|e| self.err(e))?;
        let mut count = |state: RecordState| {
            stmt.query_row(params![source, state.as_str()], |r| r.get::<_, i64>(0))
                .map(|n| n as u64)
                .map_err(|e| self.err(e))
        };
        Ok(QueueCounts {
            pending: count(RecordState::Pending)?,
            failed: count(RecordState::Failed)?,
        })
    }

    pub fn counts(&self, source: &str) -> Result<StateCounts, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT state, COUNT(*) FROM records WHERE source = ?1 GROUP BY state")
            .map_err(|e| self.err(e))?;
        let mut counts = StateCounts::default();
        let rows = stmt
            .query_map([source], |r| Ok((state_at(r, 0)?, r.get::<_, i64>(1)?)))
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
            }
        }
        Ok(counts)
    }

    /// One record, or `None` when the id was never seen.
    pub fn record(&self, source: &str, id: &str) -> Result<Option<RecordRow>, StoreError> {
        self.conn
            .query_row(
                "SELECT id, state, source_modified_ms, reason, attempts, last_status,
                        next_attempt_ms, blue_tape_id, sign_up_url, body
                 FROM records WHERE source = ?1 AND id = ?2",
                [source, id],
                |r| {
                    Ok(RecordRow {
                        id: r.get(0)?,
                        state: state_at(r, 1)?,
                        source_modified_ms: r.get(2)?,
                        reason: r.get(3)?,
                        attempts: r.get(4)?,
                        last_status: r.get(5)?,
                        next_attempt_ms: r.get(6)?,
                        blue_tape_id: r.get(7)?,
                        sign_up_url: r.get(8)?,
                        body: r.get(9)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// What happened to one record, oldest first.
    pub fn events(&self, source: &str, id: &str) -> Result<Vec<Event>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT at_ms, pass_id, kind, status, outcome, reason FROM events
                 WHERE source = ?1 AND record_id = ?2 ORDER BY seq",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([source, id], |r| {
                Ok(Event {
                    at_ms: r.get(0)?,
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
    pub fn note(&self, source: &str, id: &str, kind: &str, at_ms: i64) -> Result<(), StoreError> {
        add_event(&self.conn, source, id, None, at_ms, kind, None, None, None)
            .map_err(|e| self.err(e))
    }

    pub fn setting(&self, source: &str, key: &str) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row(
                "SELECT value FROM settings WHERE source = ?1 AND key = ?2",
                [source, key],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    pub fn set_setting(&self, source: &str, key: &str, value: &str) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO settings (source, key, value) VALUES (?1, ?2, ?3)
                 ON CONFLICT (source, key) DO UPDATE SET value = excluded.value",
                [source, key, value],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    pub fn clear_setting(&self, source: &str, key: &str) -> Result<(), StoreError> {
        self.conn
            .execute(
                "DELETE FROM settings WHERE source = ?1 AND key = ?2",
                [source, key],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Records a batch of send results in one transaction (the group commit).
    pub fn record_results(
        &mut self,
        source: &str,
        results: &[SendRecord],
    ) -> Result<(), StoreError> {
        let path = self.path.clone();
        let wrap = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(wrap)?;
        for r in results {
            record_result(&tx, source, r).map_err(wrap)?;
            for a in &r.history {
                let kind = if r.update {
                    "update attempt"
                } else {
                    "attempt"
                };
                add_event(
                    &tx,
                    source,
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

#[allow(clippy::too_many_arguments)] // one column each
fn add_event(
    conn: &Connection,
    source: &str,
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
        source, id, pass, at_ms, kind, status, outcome, reason
    ])?;
    Ok(())
}

fn record_result(tx: &Transaction<'_>, source: &str, r: &SendRecord) -> rusqlite::Result<()> {
    // Only a record still waiting may change: never overwrite a created customer with an
    // answer meant for another request.
    let waiting = if r.update {
        "source = ?1 AND id = ?2 AND update_pending = 1"
    } else {
        "source = ?1 AND id = ?2 AND state IN ('pending', 'failed')"
    };
    let common = "attempts = attempts + ?3, last_status = COALESCE(?4, last_status), \
                  updated_at_ms = ?5";
    let (set, extra): (&str, Vec<Option<&str>>) = match &r.result {
        SendResult::Created {
            blue_tape_id,
            sign_up_url,
        } => (
            "state = 'created', done_at_ms = ?5, reason = NULL, next_attempt_ms = NULL,
             update_pending = 0, blue_tape_id = ?6, sign_up_url = ?7",
            vec![Some(blue_tape_id), Some(sign_up_url)],
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
        SendResult::Rejected { reason } if r.update => (
            "reason = 'update rejected: ' || ?6, next_attempt_ms = NULL, update_pending = 0",
            vec![Some(reason)],
        ),
        SendResult::Rejected { reason } => (
            "state = 'rejected', reason = ?6, next_attempt_ms = NULL",
            vec![Some(reason)],
        ),
        SendResult::Failed {
            reason,
            next_attempt_ms,
        } => {
            let state = if r.update { "" } else { "state = 'failed', " };
            let sql = format!(
                "UPDATE records SET {state}{common}, reason = ?6, next_attempt_ms = ?7 WHERE {waiting}"
            );
            tx.prepare_cached(&sql)?.execute(params![
                source,
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
    let base: [&dyn rusqlite::ToSql; 5] = [&source, &r.id, &r.attempts, &r.last_status, &r.at_ms];
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
}

impl QueuePart {
    fn as_str(self) -> &'static str {
        match self {
            QueuePart::Pending => "pending",
            QueuePart::Failed => "failed",
            QueuePart::Updates => "updates",
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

fn next_queue_page(
    conn: &Connection,
    source: &str,
    cursor: &mut QueueCursor,
    limit: usize,
) -> rusqlite::Result<Vec<Queued>> {
    // Each part is a keyset walk along an index on (source, [state,] source_modified_ms, id).
    loop {
        let (after_ms, after_id) = cursor
            .after
            .as_ref()
            .map_or((i64::MIN, ""), |(ms, id)| (*ms, id.as_str()));
        let update = cursor.state == QueuePart::Updates;
        let mut stmt = conn.prepare_cached(if update {
            "SELECT id, source_modified_ms, body FROM records
             WHERE source = ?1 AND update_pending = 1 AND ?2 = 'updates'
               AND (source_modified_ms, id) > (?3, ?4)
               AND body IS NOT NULL AND COALESCE(next_attempt_ms, 0) <= ?5
             ORDER BY source_modified_ms, id
             LIMIT ?6"
        } else {
            "SELECT id, source_modified_ms, body FROM records
             WHERE source = ?1 AND state = ?2 AND (source_modified_ms, id) > (?3, ?4)
               AND body IS NOT NULL AND COALESCE(next_attempt_ms, 0) <= ?5
             ORDER BY source_modified_ms, id
             LIMIT ?6"
        })?;
        let page = stmt
            .query_map(
                params![
                    source,
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
                        update,
                    })
                },
            )?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        if let Some(last) = page.last() {
            cursor.after = Some((last.source_modified_ms, last.id.clone()));
            return Ok(page);
        }
        cursor.after = None;
        cursor.state = match cursor.state {
            QueuePart::Pending => QueuePart::Failed,
            QueuePart::Failed if cursor.updates => QueuePart::Updates,
            _ => return Ok(page),
        };
    }
}

/// How many new records [`Staging::queue_new_batch`] stores in one statement.
pub const NEW_BATCH: usize = 64;

/// [`Staging::queue_new_batch`]'s insert: ?1 to ?3 are the source, the pass and the time, then
/// four parameters for each record.
static QUEUE_NEW_BATCH: LazyLock<String> = LazyLock::new(|| {
    let rows = (0..NEW_BATCH)
        .map(|k| {
            let p = 4 + 4 * k;
            format!(
                "(?1, ?{p}, 'pending', ?{}, ?{}, ?2, ?2, ?3, ?{})",
                p + 1,
                p + 2,
                p + 3
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "INSERT INTO records (source, id, state, source_modified_ms, body, first_seen_pass,
                              staged_pass, updated_at_ms, content_hash)
         VALUES {rows}
         ON CONFLICT (source, id) DO NOTHING
         RETURNING id"
    )
});

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
}

/// The staging transaction of one pass: dropped without `commit`, it changes nothing.
pub struct Staging<'a> {
    tx: Transaction<'a>,
    path: PathBuf,
    source: String,
    pass: i64,
    now_ms: i64,
}

impl Staging<'_> {
    fn err(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    /// Runs one of the staging statements (prepared once per transaction).
    fn execute(&self, sql: &str, params: impl rusqlite::Params) -> Result<(), StoreError> {
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
        stmt.query_row(params![self.source, id], |r| {
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

    fn event(&self, id: &str, kind: &str, reason: Option<&str>) -> Result<(), StoreError> {
        add_event(
            &self.tx,
            &self.source,
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
    ) -> Result<bool, StoreError> {
        let inserted = self.changes(
            "INSERT INTO records (source, id, state, source_modified_ms, body, first_seen_pass,
                                  staged_pass, updated_at_ms, content_hash)
             VALUES (?1, ?2, 'pending', ?3, ?4, ?5, ?5, ?6, ?7)
             ON CONFLICT (source, id) DO NOTHING",
            params![
                self.source,
                id,
                modified_ms,
                body,
                self.pass,
                self.now_ms,
                content_hash
            ],
        )? == 1;
        if inserted {
            self.event(id, "queued", None)?;
        }
        Ok(inserted)
    }

    /// [`Staging::queue_new`] for [`NEW_BATCH`] records in one statement (and their history
    /// in another): whether each was queued, in order. A batch of another size is queued one
    /// record at a time. Of an id twice in the batch, only the first can be new.
    pub fn queue_new_batch(&self, batch: &[NewRecord<'_>]) -> Result<Vec<bool>, StoreError> {
        if batch.len() != NEW_BATCH {
            return batch
                .iter()
                .map(|r| self.queue_new(r.id, r.modified_ms, r.body, r.content_hash))
                .collect();
        }
        let mut values: Vec<&dyn rusqlite::ToSql> = vec![&self.source, &self.pass, &self.now_ms];
        for r in batch {
            values.extend([
                &r.id as &dyn rusqlite::ToSql,
                &r.modified_ms,
                &r.body,
                &r.content_hash,
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
            let mut values: Vec<&dyn rusqlite::ToSql> =
                vec![&self.source, &self.pass, &self.now_ms];
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
    ) -> Result<bool, StoreError> {
        let inserted = self.changes(
            "INSERT INTO records (source, id, state, source_modified_ms, content_hash, reason,
                                  first_seen_pass, staged_pass, updated_at_ms)
             VALUES (?1, ?2, 'rejected', ?3, ?4, ?5, ?6, ?6, ?7)
             ON CONFLICT (source, id) DO NOTHING",
            params![
                self.source,
                id,
                modified_ms,
                content_hash,
                reason,
                self.pass,
                self.now_ms
            ],
        )? == 1;
        if inserted {
            self.event(id, "rejected", Some(reason))?;
        }
        Ok(inserted)
    }

    /// Queues (or re-queues) a valid record as pending with its API body; `content_hash`
    /// when its date is when it was first seen.
    pub fn queue(
        &self,
        id: &str,
        modified_ms: i64,
        body: &str,
        content_hash: Option<&str>,
    ) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO records (source, id, state, source_modified_ms, body, first_seen_pass,
                                  staged_pass, updated_at_ms, content_hash)
             VALUES (?1, ?2, 'pending', ?3, ?4, ?5, ?5, ?6, ?7)
             ON CONFLICT (source, id) DO UPDATE SET
                state = 'pending', source_modified_ms = excluded.source_modified_ms,
                body = excluded.body, content_hash = excluded.content_hash, reason = NULL,
                attempts = 0, next_attempt_ms = NULL, staged_pass = excluded.staged_pass,
                updated_at_ms = excluded.updated_at_ms",
            params![
                self.source,
                id,
                modified_ms,
                body,
                self.pass,
                self.now_ms,
                content_hash
            ],
        )?;
        self.event(id, "queued", None)
    }

    /// Records a record refused locally, with its reason.
    pub fn reject(
        &self,
        id: &str,
        modified_ms: Option<i64>,
        reason: &str,
        content_hash: &str,
    ) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO records (source, id, state, source_modified_ms, content_hash, reason,
                                      first_seen_pass, staged_pass, updated_at_ms)
                 VALUES (?1, ?2, 'rejected', ?3, ?4, ?5, ?6, ?6, ?7)
                 ON CONFLICT (source, id) DO UPDATE SET
                    state = 'rejected', source_modified_ms = excluded.source_modified_ms,
                    body = NULL, content_hash = excluded.content_hash, reason = excluded.reason,
                    attempts = 0, next_attempt_ms = NULL, last_status = NULL,
                    staged_pass = excluded.staged_pass, updated_at_ms = excluded.updated_at_ms",
            params![
                self.source,
                id,
                modified_ms,
                content_hash,
                reason,
                self.pass,
                self.now_ms
            ],
        )?;
        self.event(id, "rejected", Some(reason))
    }

    /// Records the newer date (and body) of a customer already in BlueTape; with `update`,
    /// queues the body to be sent as an update.
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
                update_pending = ?8, next_attempt_ms = NULL
             WHERE source = ?1 AND id = ?2",
            params![
                self.source,
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
            params![self.source, key],
        )
    }

    pub fn set_watermark(&self, value_ms: i64) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO watermarks (source, value_ms, updated_at_ms) VALUES (?1, ?2, ?3)
             ON CONFLICT (source) DO UPDATE SET
                value_ms = MAX(value_ms, excluded.value_ms),
                updated_at_ms = excluded.updated_at_ms",
            params![self.source, value_ms, self.now_ms],
        )
    }

    /// The queue as it would be after this staging, for a dry run.
    pub fn next_queue_page(
        &self,
        cursor: &mut QueueCursor,
        limit: usize,
    ) -> Result<Vec<Queued>, StoreError> {
        next_queue_page(&self.tx, &self.source, cursor, limit).map_err(|e| self.err(e))
    }

    pub fn commit(self) -> Result<(), StoreError> {
        let path = self.path.clone();
        self.tx
            .commit()
            .map_err(|source| StoreError::Sqlite { path, source })
    }
}

/// Creates the store file readable by its owner only (it holds customers' contact details).
fn create_private(path: &Path) -> Result<(), StoreError> {
    let create = |e| StoreError::Create {
        path: path.to_owned(),
        source: e,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(create)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path).map(drop).map_err(create)
}
