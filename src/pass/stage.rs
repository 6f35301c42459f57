//! Staging: the export read, each record checked and diffed, the queue and the watermark
//! written in one transaction (SPEC §3, §4).

use std::time::SystemTime;

use tracing::{info, warn};

use self::file::{FileStaging, StageError};
use super::PassOptions;
use super::lane::Lane;
use super::prepare::Preparer;
use super::progress::Progress;
use crate::source::timestamp::{duration_ms, now_ms};
use crate::source::{self, SourceError};
use crate::store::{FULL_NEXT_PASS, PassCounts, Store, StoreError};

mod file;
mod listing;

#[derive(Debug, Default, Clone)]
pub struct Staged {
    /// Read, new, rejected locally, changed upstream, inactive (for invoices: left out).
    pub counts: PassCounts,
    pub skipped: u64,
    /// Left out, by the lane's rule (`check` shows each).
    pub left_out: Vec<u64>,
    pub would_send: u64,
    /// Rejections in this read, by reason.
    pub rejections: std::collections::BTreeMap<String, u64>,
    /// `check`: the first records of the queue, as a pass would send them (their bodies).
    pub samples: Vec<String>,
    /// Dry run: the ids a real pass would create or update.
    pub would_send_ids: std::collections::HashSet<String>,
    /// Dry run: records that would wait for the record they follow (an invoice's customer).
    pub would_wait: u64,
    /// A file was left because it was still being written: when it will have settled.
    pub settles_in: Option<std::time::Duration>,
}

/// Whether staging keeps what it did.
pub(super) enum StageMode<'a> {
    Commit,
    /// Roll back, listing what a real pass would send; `keep_ids`: in [`Staged::would_send_ids`]
    /// too.
    DryRun {
        out: &'a mut dyn std::io::Write,
        keep_ids: bool,
        hold: Option<&'a DryHold<'a>>,
    },
    /// Roll back, listing nothing (`check`); `keep_ids`: the ids a pass would send in
    /// [`Staged::would_send_ids`].
    Inspect {
        keep_ids: bool,
    },
}

/// A dry run's view of the lane a lane follows (invoices, customers): its records in
/// BlueTape, and those the dry run would send first.
pub(super) struct DryHold<'a> {
    /// Its store name.
    pub(super) lane: &'a str,
    /// Its records' noun (`customer`).
    pub(super) noun: &'static str,
    pub(super) would_send: &'a std::collections::HashSet<String>,
}

/// How many queued records `check` shows.
const SAMPLES: usize = 5;

/// What staging came to: the counts, and the first problem with the export, if any (the
/// files without one were still staged).
pub(super) struct StageResult {
    pub(super) staged: Staged,
    pub(super) source_error: Option<SourceError>,
}

/// Reads the export, decides each record, and queues them and advances the watermark in one
/// transaction, each file in a savepoint of its own. With `dry_run_out`, lists the queue and
/// rolls everything back.
pub(super) fn stage(
    store: &mut Store,
    lane: &Lane,
    pass: i64,
    options: PassOptions,
    mode: StageMode<'_>,
    progress: &Progress,
) -> Result<StageResult, StoreError> {
    let config = &lane.source;
    let discovery = match source::discover(config, SystemTime::now()) {
        Ok(d) => d,
        Err(e) => {
            return Ok(StageResult {
                staged: Staged::default(),
                source_error: Some(e),
            });
        }
    };
    let watermark = store.watermark(&config.name)?;
    let lookback_ms = duration_ms(config.lookback);
    // `retry` or `forget` asked for a full read, so the records they reset are seen again.
    let full = options.full || store.setting(&config.name, FULL_NEXT_PASS)?.is_some();
    let now = now_ms();
    let staging = store.staging(&config.name, lane.kind, pass, now)?;
    let files = FileStaging {
        staging: &staging,
        preparer: Preparer {
            lane,
            threshold: match (full, watermark) {
                (false, Some(w)) => Some(w.saturating_sub(lookback_ms)),
                _ => None,
            },
            now,
            future_after: now.saturating_add(duration_ms(config.clock_skew)),
        },
        progress,
    };
    let mut staged = Staged::default();
    let mut newest: Option<i64> = None;
    let mut source_error = None;
    // The watermark moves only when every file of the export was read whole.
    let mut complete = true;
    staged.settles_in = discovery.settles_in;
    for file in &discovery.unsettled {
        complete = false;
        info!(
            file = %file.path.display(),
            "export file changed within source.settle (still being written?): read on a later pass"
        );
    }
    let reading = config.reading();
    let commit = matches!(mode, StageMode::Commit);
    for file in &discovery.files {
        let path = file.path.display().to_string();
        // A real pass does not open a file that cannot have changed (a dry run and `check`
        // read it, to show what it holds).
        if commit
            && !full
            && let Some(version) = file.version
            && staging.read_before(&path, version, &reading)?
        {
            info!(file = %path, "export file unchanged since it was read whole: not opened");
            continue;
        }
        staging.begin_file()?;
        let before = (staged.clone(), newest);
        match files.stage_file(file, &mut staged, &mut newest) {
            Ok(()) if file.unchanged() => {
                staging.release()?;
                if let Some(version) = file.version {
                    staging.read_whole(&path, version, &reading)?;
                }
            }
            Ok(()) => {
                staging.rollback_file()?;
                (staged, newest) = before;
                complete = false;
                info!(
                    file = %file.path.display(),
                    "export file changed while it was read (still being written?): read on a later pass"
                );
            }
            Err(StageError::Source(e)) => {
                staging.rollback_file()?;
                (staged, newest) = before;
                complete = false;
                warn!("{e}");
                source_error.get_or_insert(e);
            }
            Err(StageError::Store(e)) => return Err(e),
        }
    }
    // A file of a glob that is gone is forgotten: if it comes back, it is read.
    let present: Vec<String> = (discovery.files.iter())
        .chain(&discovery.unsettled)
        .map(|f| f.path.display().to_string())
        .collect();
    staging.keep_only_files(&present)?;
    if complete && let Some(newest) = newest {
        // `newest` holds no date in the future; nor can the clock skew move it past now.
        staging.set_watermark(newest.min(now))?;
    }
    if complete && full {
        staging.clear_setting(FULL_NEXT_PASS)?;
    }
    (lane.rules()).after_staging(&staging, pass, lane.after.as_deref())?;
    match mode {
        StageMode::Commit => staging.commit()?,
        StageMode::Inspect { keep_ids } => {
            listing::samples(&staging, lane, now, keep_ids, &mut staged)?;
        }
        StageMode::DryRun {
            out,
            keep_ids,
            hold,
        } => {
            listing::would_send(&staging, lane, now, out, keep_ids, hold, &mut staged)?;
            // Dropping the staging transaction rolls it back.
        }
    }
    Ok(StageResult {
        staged,
        source_error,
    })
}
