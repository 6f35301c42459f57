//! Reading and checking records: everything staging does that needs no store. It runs on a
//! thread of its own, beside the one that writes the store.

use chrono::DateTime;

use super::progress::Progress;
use crate::diff::is_candidate;
use crate::record::{Customer, Field, Normaliser, RawRecord, Rejection};
use crate::source::Item;
use crate::source::config::SourceConfig;
use crate::store::StoreError;

/// One record read and checked, ready for the store.
pub(super) enum Prepared {
    Record(Box<PreparedRecord>),
    /// Inactive or archived in the accounting system.
    Inactive,
    /// Older than the watermark minus lookback, with its date.
    Old(i64),
}

pub(super) struct PreparedRecord {
    pub(super) raw: RawRecord,
    /// Dated when this version was first seen; a change is found by its content.
    pub(super) by_content: bool,
    pub(super) modified_ms: Option<i64>,
    pub(super) customer: Result<Customer, Rejection>,
    /// The API body, for a valid record.
    pub(super) body: Option<String>,
    pub(super) content_hash: Option<String>,
}

impl PreparedRecord {
    /// A valid record with an id: stored in a batch if new.
    pub(super) fn batchable(&self) -> bool {
        self.customer.is_ok() && self.body.is_some() && self.raw.get(Field::Id).is_some()
    }

    /// Its date, when it counts for the watermark (a date read from the export).
    pub(super) fn dated(&self) -> Option<i64> {
        self.modified_ms.filter(|_| !self.by_content)
    }
}

/// What the reading thread counted without sending on: records older than the watermark
/// minus lookback, and inactive ones.
#[derive(Debug, Default)]
pub(super) struct Quiet {
    pub(super) read: u64,
    pub(super) skipped: u64,
    pub(super) inactive: u64,
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

/// How many prepared records go to the store at a time.
pub(super) const PREPARED_BATCH: usize = 256;

/// Reads and checks records: everything staging does that needs no store. It runs on a
/// thread of its own, beside the one that writes the store.
pub(super) struct Preparer<'a> {
    pub(super) config: &'a SourceConfig,
    pub(super) normaliser: &'a Normaliser,
    /// Records older than this were handled by earlier passes.
    pub(super) threshold: Option<i64>,
    pub(super) now: i64,
}

impl Preparer<'_> {
    pub(super) fn prepare(&self, item: Item) -> Result<Prepared, StoreError> {
        let raw = match item {
            Item::Record(raw) => raw,
            Item::Skipped(_) => return Ok(Prepared::Inactive),
            Item::Old(ms) => return Ok(Prepared::Old(ms)),
        };
        // Without a modified date, a record is dated when this version was first seen, and a
        // change is found by its content (SPEC §3).
        let by_content =
            self.config.dates_by_first_seen() && raw.get(Field::SourceModifiedDate).is_none();
        let modified = if by_content {
            Ok(DateTime::from_timestamp_millis(self.now).unwrap_or_default())
        } else {
            self.normaliser.modified(&raw)
        };
        let modified_ms = modified.as_ref().ok().map(DateTime::timestamp_millis);
        if !by_content
            && let Some(ms) = modified_ms
            && !is_candidate(ms, self.threshold)
        {
            return Ok(Prepared::Old(ms));
        }
        let customer = modified.and_then(|m| self.normaliser.customer(&raw, m));
        let content_hash = (by_content || customer.is_err()).then(|| raw.content_hash());
        let body = customer.as_ref().ok().map(body_of).transpose()?;
        Ok(Prepared::Record(Box::new(PreparedRecord {
            raw,
            by_content,
            modified_ms,
            customer,
            body,
            content_hash,
        })))
    }
}

fn body_of(customer: &Customer) -> Result<String, StoreError> {
    customer
        .create_body()
        .map_err(|e| StoreError::Serialize(e.to_string()))
}
