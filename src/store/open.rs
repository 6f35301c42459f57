//! Opening the store (SPEC §10). SQLite's locks are POSIX locks, which a process loses when it
//! closes *any* descriptor of the database file; so nothing here opens the store's file but
//! SQLite itself. A new store is built under a temporary name and renamed into place once its
//! schema is written, which is why an empty or schema-less file is never a store of ours.
//! Readers open it read-only: they never create, migrate or write it.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use super::{Store, StoreError};

/// What is at a store's path before SQLite opens it.
enum Found {
    Missing,
    /// The file, by its canonical path (a symlink to the store is the store).
    Store(PathBuf),
}

/// The store file's identity: its canonical path, or, when it does not exist yet, its
/// folder's canonical path and its name. The instance lock is keyed on it.
pub fn identity(path: &Path) -> std::io::Result<PathBuf> {
    match std::fs::canonicalize(path) {
        Ok(canonical) => Ok(canonical),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let name = path.file_name().ok_or(e)?;
            let dir = match path.parent().filter(|d| !d.as_os_str().is_empty()) {
                Some(dir) => std::fs::canonicalize(dir)?,
                None => std::env::current_dir()?,
            };
            Ok(dir.join(name))
        }
        Err(e) => Err(e),
    }
}

/// Looks at the store's path by its metadata only (no descriptor is opened).
fn look(path: &Path) -> Result<Found, StoreError> {
    let metadata = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Found::Missing),
        Err(source) => return Err(create_error(path, source)),
    };
    if !metadata.is_file() {
        return Err(StoreError::NotAFile {
            path: path.to_owned(),
        });
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        if metadata.nlink() > 1 {
            return Err(StoreError::HardLinked {
                path: path.to_owned(),
                links: metadata.nlink(),
            });
        }
    }
    if metadata.len() == 0 {
        return Err(StoreError::Empty {
            path: path.to_owned(),
        });
    }
    let canonical = std::fs::canonicalize(path).map_err(|e| create_error(path, e))?;
    Ok(Found::Store(canonical))
}

fn create_error(path: &Path, source: std::io::Error) -> StoreError {
    StoreError::Create {
        path: path.to_owned(),
        source,
    }
}

impl Store {
    /// Opens the store at `path` to write it, creating it when there is none, and migrates
    /// it. The caller holds the instance lock.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let canonical = match look(path)? {
            Found::Store(canonical) => canonical,
            Found::Missing => {
                create(path)?;
                match look(path)? {
                    Found::Store(canonical) => canonical,
                    Found::Missing => return Err(create_error(path, not_found())),
                }
            }
        };
        let conn =
            Connection::open_with_flags(&canonical, write_flags()).map_err(|e| opening(path, e))?;
        Self::init(conn, path.to_owned(), true)
    }

    /// Opens an existing store to write beside the daemon (`retry`, `forget`, `export
    /// --fetch-missing`); `None` when there is none: it is never created here.
    pub fn open_existing(path: &Path) -> Result<Option<Self>, StoreError> {
        let Found::Store(canonical) = look(path)? else {
            return Ok(None);
        };
        let conn =
            Connection::open_with_flags(&canonical, write_flags()).map_err(|e| opening(path, e))?;
        Self::init(conn, path.to_owned(), true).map(Some)
    }

    /// Opens an existing store read-only; `None` when there is none. It is never created,
    /// migrated or written: a store on a read-only file system or a copy can be read too. A
    /// store of an earlier schema is read from a migrated copy.
    pub fn open_read_only(path: &Path) -> Result<Option<Self>, StoreError> {
        let Found::Store(canonical) = look(path)? else {
            return Ok(None);
        };
        let conn = read_only(path, &canonical)?;
        let store = Self {
            conn,
            path: path.to_owned(),
        };
        if store.schema()? < super::MIGRATIONS.len() {
            return store.copy().map(Some);
        }
        store.setup(false)?;
        Ok(Some(store))
    }

    /// A private copy of the store at `path` (an empty store when there is none), for passes
    /// that stage and roll back (a dry run, `check`): they read a snapshot, and never take
    /// the store's write lock or change it.
    pub fn snapshot(path: &Path) -> Result<Self, StoreError> {
        match look(path)? {
            Found::Missing => Self::open_temporary(),
            Found::Store(canonical) => {
                let store = Self {
                    conn: read_only(path, &canonical)?,
                    path: path.to_owned(),
                };
                store.schema()?;
                store.copy()
            }
        }
    }

    /// This store copied whole, in one read transaction, into a private temporary database
    /// (on disk, deleted on close), then migrated.
    fn copy(self) -> Result<Self, StoreError> {
        let path = self.path.clone();
        let mut conn = Connection::open("").map_err(|e| opening(&path, e))?;
        {
            let backup = rusqlite::backup::Backup::new(&self.conn, &mut conn)
                .map_err(|e| opening(&path, e))?;
            // All pages in one step: one read transaction, a consistent snapshot.
            backup.step(-1).map_err(|e| opening(&path, e))?;
        }
        drop(self);
        Self::init(conn, path, false)
    }

    /// The schema version, after checking that this is a bluetape-sync store at all.
    fn schema(&self) -> Result<usize, StoreError> {
        let version: i64 = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(|e| self.err(e))?;
        let tables: i64 = self
            .conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'
                 AND name IN ('records', 'passes', 'watermarks')",
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))?;
        if version == 0 || tables < 3 {
            return Err(StoreError::Foreign {
                path: self.path.clone(),
            });
        }
        let known = super::MIGRATIONS.len();
        match usize::try_from(version) {
            Ok(v) if v <= known => Ok(v),
            Ok(_) => Err(StoreError::NewerSchema {
                path: self.path.clone(),
                found: version,
                known,
            }),
            Err(_) => Err(StoreError::BadSchema {
                path: self.path.clone(),
                found: version,
            }),
        }
    }

    /// Checks the schema, then brings it up to date.
    pub(super) fn check_and_migrate(&mut self) -> Result<(), StoreError> {
        let applied = self.schema()?;
        self.migrate(applied)
    }
}

fn not_found() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::NotFound,
        "the new store vanished after it was renamed into place",
    )
}

/// Read and write, never create: a store is created only by [`create`].
fn write_flags() -> OpenFlags {
    OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX
}

/// A failure to open: a file that is not SQLite at all is foreign.
fn opening(path: &Path, source: rusqlite::Error) -> StoreError {
    match source.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase) => StoreError::Foreign {
            path: path.to_owned(),
        },
        _ => StoreError::Sqlite {
            path: path.to_owned(),
            source,
        },
    }
}

/// A read-only connection. A store in WAL mode needs its `-shm` to be read; where that cannot
/// be made (a read-only file system) and no writer is at work (no `-wal`), the file is read as
/// immutable.
fn read_only(path: &Path, canonical: &Path) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let opened = Connection::open_with_flags(canonical, flags).and_then(|conn| {
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        // The first read is what needs the `-shm`.
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))?;
        Ok(conn)
    });
    let error = match opened {
        Ok(conn) => return Ok(conn),
        Err(e) => e,
    };
    let no_writer = !sibling(canonical, "-wal").exists();
    let cannot_share = matches!(
        error.sqlite_error_code(),
        Some(rusqlite::ErrorCode::CannotOpen | rusqlite::ErrorCode::ReadOnly)
    );
    if !(no_writer && cannot_share) {
        return Err(opening(path, error));
    }
    let uri = format!("file:{}?immutable=1", uri_path(canonical));
    Connection::open_with_flags(uri, flags | OpenFlags::SQLITE_OPEN_URI)
        .map_err(|e| opening(path, e))
}

/// `path` with `suffix` added to its file name (`state.db-wal`).
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// A path as the path of a `file:` URI: the characters a URI gives meaning escaped.
fn uri_path(path: &Path) -> String {
    let text = path.to_string_lossy();
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '%' => out.push_str("%25"),
            '?' => out.push_str("%3f"),
            '#' => out.push_str("%23"),
            c => out.push(c),
        }
    }
    out
}

/// Builds a new store under a temporary name in its folder, readable by its owner only (it
/// holds customers' contact details), and renames it into place once its schema is written.
fn create(path: &Path) -> Result<(), StoreError> {
    let io = |e| create_error(path, e);
    let dir = match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => dir.to_owned(),
        None => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(io)?;
    let name = path.file_name().ok_or_else(|| {
        io(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "store.path names no file",
        ))
    })?;
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(name);
    temp_name.push(".new");
    let temp = dir.join(temp_name);
    // A build a crash interrupted; only an instance-lock holder creates, so none is at work.
    for leftover in ["", "-wal", "-shm", "-journal"] {
        match std::fs::remove_file(sibling(&temp, leftover)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(e)),
            _ => {}
        }
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    // Made and closed before SQLite opens it: the mode is set once, before any connection.
    drop(options.open(&temp).map_err(io)?);
    let conn = Connection::open_with_flags(&temp, write_flags()).map_err(|e| opening(path, e))?;
    let mut store = Store {
        conn,
        path: temp.clone(),
    };
    store.setup(true)?;
    store.migrate(0)?;
    let Store { conn, .. } = store;
    // Closing the only connection checkpoints and removes the temporary `-wal`.
    conn.close().map_err(|(_, e)| opening(path, e))?;
    std::fs::rename(&temp, path).map_err(io)?;
    // The rename itself must survive a power cut.
    std::fs::File::open(&dir)
        .and_then(|d| d.sync_all())
        .map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_uri_path_escapes_what_a_uri_reads() {
        assert_eq!(
            uri_path(Path::new("/var/lib/a?b#c%d/state.db")),
            "/var/lib/a%3fb%23c%25d/state.db"
        );
    }
}
