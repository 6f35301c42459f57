//! Reading and checking records: everything staging does that needs no store. It runs on a
//! thread of its own, beside the one that writes the store.

use chrono::DateTime;

use super::lane::{Checked, Lane};
use super::progress::Progress;
use crate::diff::is_candidate;
use crate::record::{Field, RawRecord, Rejection};
use crate::source::Item;
use crate::source::Standing;
use crate::store::StoreError;

/// One record read and checked, ready for the store.
pub(super) enum Prepared {
    Record(Box<PreparedRecord>),
    /// Left out by the export's rule number `rule`: an inactive or archived customer, a bill;
    /// with its id when a queued record of it may need withdrawing.
    LeftOut {
        rule: usize,
        id: Option<String>,
        parent: Option<String>,
    },
    /// Older than the watermark minus lookback, with its date.
    Old(i64),
}

pub(super) struct PreparedRecord {
    pub(super) raw: RawRecord,
    /// Dated when this version was first seen; a change is found by its content.
    pub(super) by_content: bool,
    pub(super) modified_ms: Option<i64>,
    /// The API body, or why it is rejected.
    pub(super) checked: Result<Checked, Rejection>,
    pub(super) content_hash: Option<String>,
    /// Dated in the future: sent, but its date never moves the watermark.
    pub(super) future: bool,
}

impl PreparedRecord {
    /// A valid record to be sent, with an id: stored in a batch if new.
    pub(super) fn batchable(&self) -> bool {
        self.checked
            .as_ref()
            .is_ok_and(|c| c.standing == Standing::Open)
            && self.raw.get(Field::Id).is_some()
    }

    /// About how many bytes it holds: its raw values and its body.
    pub(super) fn held_bytes(&self) -> usize {
        self.raw.held_bytes() + self.body().map_or(0, str::len)
    }

    pub(super) fn body(&self) -> Option<&str> {
        self.checked.as_ref().ok().map(|c| c.body.as_str())
    }

    /// What the export says of it; an invalid record counts as open.
    pub(super) fn standing(&self) -> Standing {
        self.checked.as_ref().map_or(Standing::Open, |c| c.standing)
    }

    /// Its date, when it counts for the watermark (a date read from the export, not in the
    /// future: one mistyped year must never hide the records that follow it).
    pub(super) fn dated(&self) -> Option<i64> {
        self.modified_ms
            .filter(|_| !self.by_content && !self.future)
    }
}

/// What the reading thread counted without sending on: records older than the watermark
/// minus lookback, and left-out ones.
#[derive(Debug, Default)]
pub(super) struct Quiet {
    pub(super) read: u64,
    pub(super) skipped: u64,
    /// Left out, by rule.
    pub(super) left_out: Vec<u64>,
    pub(super) newest: Option<i64>,
    /// Counted but not yet shown in the progress.
    pub(super) unreported: u64,
}

impl Quiet {
    pub(super) fn count(&mut self, progress: &Progress) {
        self.read += 1;
        self.unreported += 1;
        if self.unreported == 4096 {
            self.finish(progress);
        }
    }

    pub(super) fn finish(&mut self, progress: &Progress) {
        progress.read_many(std::mem::take(&mut self.unreported));
    }
}

/// How many prepared records go to the store at a time, at most.
pub(super) const PREPARED_BATCH: usize = 256;

/// How many bytes of prepared records go to the store at a time, at most: with records near
/// BlueTape's body limits (an invoice may be 1 MiB), a count alone would let memory follow
/// the export.
pub(super) const PREPARED_BYTES: usize = 1024 * 1024;

/// Reads and checks records: everything staging does that needs no store. It runs on a
/// thread of its own, beside the one that writes the store.
pub(super) struct Preparer<'a> {
    pub(super) lane: &'a Lane,
    /// Records older than this were handled by earlier passes.
    pub(super) threshold: Option<i64>,
    pub(super) now: i64,
    /// Dates after this are in the future: the pass's start plus `source.clock_skew`.
    pub(super) future_after: i64,
}

impl Preparer<'_> {
    pub(super) fn prepare(&self, item: Item) -> Result<Prepared, StoreError> {
        let raw = match item {
            Item::Record(raw) => raw,
            Item::LeftOut { rule, id, parent } => {
                return Ok(Prepared::LeftOut { rule, id, parent });
            }
            Item::Old(ms) => return Ok(Prepared::Old(ms)),
        };
        // Without a modified date, a record is dated when this version was first seen, and a
        // change is found by its content (SPEC §3).
        let by_content =
            self.lane.source.dates_by_first_seen() && raw.get(Field::SourceModifiedDate).is_none();
        let modified = if by_content {
            Ok(DateTime::from_timestamp_millis(self.now).unwrap_or_default())
        } else {
            self.lane.modified(&raw)
        };
        let modified_ms = modified.as_ref().ok().map(DateTime::timestamp_millis);
        if !by_content
            && let Some(ms) = modified_ms
            && !is_candidate(ms, self.threshold)
        {
            return Ok(Prepared::Old(ms));
        }
        let checked = match modified {
            Ok(m) => self.lane.check(&raw, m),
            Err(rejection) => Err(rejection),
        };
        let content_hash = (by_content || checked.is_err()).then(|| raw.content_hash());
        let future = !by_content && modified_ms.is_some_and(|ms| ms > self.future_after);
        Ok(Prepared::Record(Box::new(PreparedRecord {
            raw,
            by_content,
            modified_ms,
            checked,
            content_hash,
            future,
        })))
    }
}
