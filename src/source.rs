//! Reading the supplier's export (SPEC §3) into [`RawRecord`]s. The source knows nothing of
//! BlueTape or the store.

pub mod config;
mod csv;
pub mod decode;
pub mod detect;
mod fields;
mod guard;
pub mod invoices;
mod json;
mod keep;
pub mod leave_out;
pub mod lines;
pub mod mapping;
pub mod presets;
mod raw;
pub mod size;
pub mod timestamp;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use self::config::{SourceConfig, SourceFormat};
pub use self::fields::{Field, Kind, LineField, Standing};
pub use self::json::walk::{PageError, records_in};
pub use self::keep::Keep;
pub use self::raw::{Oversized, RawLine, RawRecord};

/// A problem with an export file as a whole (a bad record is a rejection, not a
/// `SourceError`).
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("source file {} does not exist: check source.path, or whether the accounting system wrote its export", path.display())]
    NotFound { path: PathBuf },
    #[error("no file matches source.path `{}`: check the pattern, or whether the accounting system wrote its export", pattern.display())]
    NoMatch { pattern: PathBuf },
    #[error("source.path `{}` is not a valid pattern: {detail}", pattern.display())]
    BadPattern { pattern: PathBuf, detail: String },
    #[error("source file {} is {what}, not a regular file: point the export's path at the file the accounting system writes; nothing was read", path.display())]
    NotRegular { path: PathBuf, what: &'static str },
    #[error("cannot read source file {}: {error}", path.display())]
    Unreadable {
        path: PathBuf,
        #[source]
        error: std::io::Error,
    },
    #[error("source file {}: no column `{column}` for {field} in the header row: {advice}", path.display())]
    MissingColumn {
        path: PathBuf,
        field: Field,
        column: String,
        /// The fix: the delimiter, when the header is one column that another would split,
        /// else the mapping.
        advice: String,
    },
    #[error("source file {}: no column `{column}` for the {key} rule `{rule}` in the header row: set the rule's `field` to the export's column name", path.display())]
    MissingRuleColumn {
        path: PathBuf,
        /// `source.leave_out`, `source.organisation`.
        key: String,
        rule: String,
        column: String,
    },
    #[error("source file {}: not {} at {at}: {advice}; none of its records were taken", path.display(), encoding.name())]
    Undecodable {
        path: PathBuf,
        /// `row 2` or `line 2`.
        at: String,
        encoding: &'static encoding_rs::Encoding,
        advice: String,
    },
    #[error("source file {} at {at}: {detail}; none of its records were taken, it is read again on the next pass", path.display())]
    Malformed {
        path: PathBuf,
        at: String,
        detail: String,
    },
}

/// What reading an export yields.
#[derive(Debug)]
pub enum Item {
    Record(RawRecord),
    /// Left out by the export's rule number `rule` (an inactive or archived customer, a
    /// bill), with its id where it has one and it may not have been handled yet (a queued
    /// record the export now leaves out is withdrawn).
    LeftOut {
        rule: usize,
        id: Option<String>,
        /// The customer it belongs to, for a sub-customer (`parentId`).
        parent: Option<String>,
    },
    /// Modified before [`OlderThan::threshold_ms`] (then in ms): handled by an earlier pass,
    /// so not read any further.
    Old(i64),
}

/// Reads a date as the export writes it, in ms since the epoch, the way the pass reads it.
pub type DateReader = std::sync::Arc<dyn Fn(&str) -> Option<i64> + Send + Sync>;

/// Lets a reader skip records an earlier pass handled, reading only their date.
#[derive(Clone)]
pub struct OlderThan {
    pub threshold_ms: i64,
    pub date: DateReader,
}

/// The records of one file, in order; after an `Err` nothing more comes.
pub type Records = Box<dyn Iterator<Item = Result<Item, SourceError>> + Send>;

/// One file of the export, as it was when the pass found it.
#[derive(Debug, Clone)]
pub struct ExportFile {
    pub path: PathBuf,
    len: u64,
    modified: Option<SystemTime>,
    /// What identifies this version of the file, where the platform says.
    pub version: Option<FileVersion>,
}

/// One version of a file: its size, modification and change times, and inode. A file whose
/// four are the same has not been written to, replaced or touched since (SPEC §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileVersion {
    pub len: u64,
    pub modified_ns: i64,
    pub changed_ns: i64,
    pub inode: u64,
}

impl FileVersion {
    #[cfg(unix)]
    fn of(meta: &std::fs::Metadata) -> Option<Self> {
        use std::os::unix::fs::MetadataExt as _;
        let ns = |s: i64, n: i64| s.checked_mul(1_000_000_000)?.checked_add(n);
        Some(Self {
            len: meta.len(),
            modified_ns: ns(meta.mtime(), meta.mtime_nsec())?,
            changed_ns: ns(meta.ctime(), meta.ctime_nsec())?,
            inode: meta.ino(),
        })
    }

    #[cfg(not(unix))]
    fn of(_meta: &std::fs::Metadata) -> Option<Self> {
        None
    }
}

impl ExportFile {
    /// The file as it is now, settled or not (`init` reads a file as it finds it).
    pub fn at(path: &Path) -> Result<Self, SourceError> {
        Self::stat(path.to_owned())
    }

    fn stat(path: PathBuf) -> Result<Self, SourceError> {
        let meta = std::fs::metadata(&path).map_err(|error| match error.kind() {
            std::io::ErrorKind::NotFound => SourceError::NotFound { path: path.clone() },
            _ => SourceError::Unreadable {
                path: path.clone(),
                error,
            },
        })?;
        if let Some(what) = not_regular(&meta) {
            return Err(SourceError::NotRegular { path, what });
        }
        Ok(Self {
            len: meta.len(),
            modified: meta.modified().ok(),
            version: FileVersion::of(&meta),
            path,
        })
    }

    /// Still the same size and modification time: nobody wrote to it while it was read.
    pub fn unchanged(&self) -> bool {
        Self::stat(self.path.clone()).is_ok_and(|now| {
            now.len == self.len && now.modified == self.modified && now.version == self.version
        })
    }

    /// Written to within `settle` of `now` (probably still being written): how long until it
    /// has been still for `settle`.
    fn settles_in(&self, settle: Duration, now: SystemTime) -> Option<Duration> {
        // A time ahead of `now` is another machine's clock (a network mount): it says nothing.
        let age = now.duration_since(self.modified?).ok()?;
        settle.checked_sub(age).filter(|left| !left.is_zero())
    }
}

/// The files of the export: those ready to read, and those still being written.
#[derive(Debug, Default)]
pub struct Discovery {
    pub files: Vec<ExportFile>,
    pub unsettled: Vec<ExportFile>,
    /// How long until the last unsettled file settles, if none is written to meanwhile.
    pub settles_in: Option<Duration>,
}

/// Finds the export's files (`source.path` may be a glob), sorted by name.
pub fn discover(config: &SourceConfig, now: SystemTime) -> Result<Discovery, SourceError> {
    let pattern = &config.path;
    let text = pattern.to_string_lossy();
    let paths: Vec<PathBuf> = if text.contains(['*', '?', '[']) {
        let bad = |detail: String| SourceError::BadPattern {
            pattern: pattern.clone(),
            detail,
        };
        let mut paths = glob::glob(&text)
            .map_err(|e| bad(e.to_string()))?
            .filter_map(Result::ok)
            // A FIFO, socket, device or folder among the matches is not an export.
            .filter(|p| p.is_file())
            .collect::<Vec<_>>();
        if paths.is_empty() {
            return Err(SourceError::NoMatch {
                pattern: pattern.clone(),
            });
        }
        paths.sort();
        paths
    } else {
        vec![pattern.clone()]
    };
    let mut discovery = Discovery::default();
    for path in paths {
        let file = ExportFile::stat(path)?;
        // The clock read after the file: a write between the two would otherwise look like a
        // time ahead of the clock, and the file like one that has settled.
        let now = now.max(SystemTime::now());
        match file.settles_in(config.settle, now) {
            Some(left) => {
                discovery.settles_in = discovery.settles_in.max(Some(left));
                discovery.unsettled.push(file);
            }
            None => discovery.files.push(file),
        }
    }
    Ok(discovery)
}

/// Reads one file of the export, streaming.
pub fn read(
    config: &SourceConfig,
    file: &ExportFile,
    older: Option<OlderThan>,
) -> Result<Records, SourceError> {
    match config.format {
        SourceFormat::Csv => Ok(Box::new(
            csv::CsvExport::open(config, &file.path)?.skipping(older),
        )),
        SourceFormat::Json | SourceFormat::Ndjson => json::read(config, &file.path),
    }
}

/// Opens an export file for reading: only a regular file. Opened without blocking, so a FIFO
/// with no writer cannot hang the pass, and checked on the open descriptor, so a file swapped
/// after a check by path is still caught. (`O_NONBLOCK` changes nothing for a regular file's
/// reads, so it stays set.)
pub fn open_regular(path: &Path) -> Result<std::fs::File, SourceError> {
    match open_without_blocking(path).map_err(|e| unreadable(path, e))? {
        (_, Some(what)) => Err(SourceError::NotRegular {
            path: path.to_owned(),
            what,
        }),
        (file, None) => Ok(file),
    }
}

/// A file opened for reading without blocking, and what it is by its open descriptor: `None`
/// for a regular file, else its kind in words (`a FIFO (named pipe)`). For any file a
/// program reads that someone else may have put a FIFO or a device in place of.
pub fn open_without_blocking(
    path: &Path,
) -> std::io::Result<(std::fs::File, Option<&'static str>)> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path)?;
    let what = not_regular(&file.metadata()?);
    Ok((file, what))
}

/// What a file that is not a regular file is, for the message; `None` for a regular file.
fn not_regular(meta: &std::fs::Metadata) -> Option<&'static str> {
    let kind = meta.file_type();
    if kind.is_file() {
        return None;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if kind.is_fifo() {
            return Some("a FIFO (named pipe)");
        }
        if kind.is_socket() {
            return Some("a socket");
        }
        if kind.is_char_device() || kind.is_block_device() {
            return Some("a device");
        }
    }
    Some(if kind.is_dir() {
        "a folder"
    } else {
        "not a file"
    })
}

fn unreadable(path: &Path, error: std::io::Error) -> SourceError {
    match error.kind() {
        std::io::ErrorKind::NotFound => SourceError::NotFound {
            path: path.to_owned(),
        },
        _ => SourceError::Unreadable {
            path: path.to_owned(),
            error,
        },
    }
}
