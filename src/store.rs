//! The SQLite store: migrations, the watermark, the outbox of record states, and passes.
//!
//! Each kind of record is kept under its lane: the `name` of the export it is read from
//! (`default` for customers unless `[source] name` says otherwise, `invoices`). Records,
//! watermarks, settings, files and aliases are all keyed by it (the tables' `source` column);
//! every method that reads or writes one kind takes it as `lane`.

mod aliases;
pub mod config;
mod connections;
mod files;
mod invoices;
mod migrations;
mod open;
mod operator;
mod outbox;
mod owner;
mod passes;
mod settings;
mod staging;

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension};

pub use self::aliases::Rekeyed;
pub use self::connections::{Link, Tokens};
pub use self::invoices::Hold;
pub use self::migrations::MIGRATIONS;
pub use self::open::identity;
pub use self::operator::{Event, ExportEntry, FailureEntry, RecordRow, RetryTarget, StateCounts};
pub use self::outbox::{
    Attempt, QueueCounts, QueueCursor, Queued, Request, SendRecord, SendResult,
};
pub use self::owner::keep_owner;
pub use self::passes::{KEPT_PASSES, KindPassCounts, PassCounts, PassEntry};
pub use self::settings::{DAEMON_NEXT_PASS, DAEMON_PID, FULL_NEXT_PASS};
pub use self::staging::{Label, NEW_BATCH, NewRecord, Staging};
use crate::diff::RecordState;
use crate::source::timestamp::Millis;

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
    #[error("store {} is empty (0 bytes): it was truncated, or made by another program; {AFRESH}", path.display())]
    Empty { path: PathBuf },
    #[error("store {} holds no bluetape-sync data: it was made by another program; {AFRESH}", path.display())]
    Foreign { path: PathBuf },
    #[error("store {} is not a file: set store.path to a file (it is created on the first pass)", path.display())]
    NotAFile { path: PathBuf },
    #[error("store {} has {links} names (hard links): SQLite cannot keep a database with two names safe (its -wal follows the name); remove the other names (`find / -xdev -samefile {}`) and run again", path.display(), path.display())]
    HardLinked { path: PathBuf, links: u64 },
    #[error("store {} has schema version {found}, which no bluetape-sync writes: it was changed by another program; move it aside and run again (customers already in BlueTape come back as `exists`)", path.display())]
    BadSchema { path: PathBuf, found: i64 },
    #[error("store {} was written by a newer bluetape-sync (schema {found}, this one knows {known}): upgrade bluetape-sync", path.display())]
    NewerSchema {
        path: PathBuf,
        found: i64,
        known: usize,
    },
}

impl StoreError {
    /// The disk (or the file system's quota) is full.
    pub fn is_disk_full(&self) -> bool {
        matches!(self, StoreError::Sqlite { source, .. }
            if source.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull))
    }

    /// The store the error is about, where there is one.
    pub fn store_path(&self) -> &Path {
        match self {
            StoreError::Sqlite { path, .. }
            | StoreError::Create { path, .. }
            | StoreError::Empty { path }
            | StoreError::Foreign { path }
            | StoreError::NotAFile { path }
            | StoreError::HardLinked { path, .. }
            | StoreError::BadSchema { path, .. }
            | StoreError::NewerSchema { path, .. } => path,
            StoreError::Serialize(_) => Path::new(""),
        }
    }
}

/// What moving a store aside costs: said wherever one is refused, never done silently.
const AFRESH: &str = "nothing was changed. Moving it aside starts afresh: every customer and \
invoice is sent again (BlueTape answers 409 `exists`) and their sign-up URLs must be fetched \
again with `bluetape-sync export --fetch-missing`";

/// The record state in column `index`; a state this program does not know is an error.
fn state_at(row: &rusqlite::Row<'_>, index: usize) -> rusqlite::Result<RecordState> {
    row.get::<_, String>(index)?.parse().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, Box::new(e))
    })
}

/// The kind of record in column `index`.
fn kind_at(row: &rusqlite::Row<'_>, index: usize) -> rusqlite::Result<crate::source::Kind> {
    row.get::<_, String>(index)?.parse().map_err(|e: String| {
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, e.into())
    })
}

/// The instant in column `index`, which may be empty.
fn millis_at(row: &rusqlite::Row<'_>, index: usize) -> rusqlite::Result<Option<Millis>> {
    Ok(row.get::<_, Option<i64>>(index)?.map(Millis))
}

/// What an operator can do about a store error, when there is something.
fn hint(error: &rusqlite::Error) -> &'static str {
    use rusqlite::ErrorCode;
    match error.sqlite_error_code() {
        Some(ErrorCode::DiskFull) => {
            ": the disk is full; what was being written was not kept (the next pass reads it \
             again): free space and run again"
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

pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl Store {
    /// A throwaway store, for dry runs on a machine that has none yet: SQLite's private
    /// temporary database, on disk (so a large export stays out of memory) and deleted on
    /// close.
    fn open_temporary() -> Result<Self, StoreError> {
        let conn = Connection::open("").map_err(|source| StoreError::Sqlite {
            path: PathBuf::from("(temporary)"),
            source,
        })?;
        let mut store = Self {
            conn,
            path: PathBuf::from("(temporary)"),
        };
        store.setup(false)?;
        store.migrate(0)?;
        Ok(store)
    }

    /// A store of ours on `conn`, set up and migrated.
    fn init(conn: Connection, path: PathBuf, wal: bool) -> Result<Self, StoreError> {
        let mut store = Self { conn, path };
        store.setup(wal)?;
        store.check_and_migrate()?;
        Ok(store)
    }

    /// The connection's settings; `wal`: the store's own file, written beside readers.
    fn setup(&self, wal: bool) -> Result<(), StoreError> {
        let setup = |conn: &Connection| -> rusqlite::Result<()> {
            conn.busy_timeout(std::time::Duration::from_secs(10))?;
            if wal {
                conn.pragma_update(None, "journal_mode", "WAL")?;
                conn.pragma_update(None, "synchronous", "NORMAL")?;
            }
            conn.pragma_update(None, "foreign_keys", "ON")?;
            Ok(())
        };
        setup(&self.conn).map_err(|e| self.err(e))
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

    /// Applies the migrations after the first `applied`.
    fn migrate(&mut self, applied: usize) -> Result<(), StoreError> {
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

    pub fn watermark(&self, lane: &str) -> Result<Option<i64>, StoreError> {
        self.conn
            .query_row(
                "SELECT value_ms FROM watermarks WHERE source = ?1",
                [lane],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests;
