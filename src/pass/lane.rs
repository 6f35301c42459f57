//! A lane: one kind of record as a pass carries it. Staging and sending are the same for
//! every kind; what a kind does differently is its [`Rules`], one file each under `lane/`:
//! how a record is checked and what its body is, what the diff makes of its standing, what
//! staging and sending do around it, and where BlueTape takes it. A pass is the list of its
//! lanes ([`Lane::all`]), run in order.

mod customers;
mod invoices;

pub use self::customers::CUSTOMERS;
pub use self::invoices::INVOICES;

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::config::{PassConfig, RetrySection};
use crate::client::Resource;
use crate::diff::{Incoming, Stored, Verdict, decide};
use crate::record::{RawRecord, Rejection};
use crate::source::Kind;
use crate::source::Standing;
use crate::source::config::SourceConfig;
use crate::source::timestamp::TimestampParser;
use crate::store::{Staging, Store, StoreError};

/// What one kind of record does that the others do not.
pub(super) trait Rules: fmt::Debug + Send + Sync {
    /// Where BlueTape takes its records, and how its answers are read.
    fn resource(&self) -> Resource;

    /// Checks a record whose date has been read: its body, or why it is rejected.
    fn check(&self, raw: &RawRecord, modified: DateTime<Utc>) -> Result<Checked, Rejection>;

    /// The body of an update, from the create body the store keeps.
    fn update_body(&self, stored: &str) -> Result<String, serde_json::Error>;

    /// What to do with a record read: the plain diff, unless the kind's standing adds more.
    fn decide(
        &self,
        stored: Option<&Stored>,
        incoming: Incoming<'_>,
        _standing: Standing,
    ) -> Verdict {
        Verdict::Plain(decide(stored, incoming))
    }

    /// The id of the record of the lane before that this one follows (an invoice's
    /// customer), from its body.
    fn follows(&self, _body: &str) -> Option<String> {
        None
    }

    /// What staging does with this pass's records before it commits them; `after` is the
    /// store name of the lane this one follows.
    fn after_staging(
        &self,
        _staging: &Staging<'_>,
        _pass: i64,
        _after: Option<&str>,
    ) -> Result<(), StoreError> {
        Ok(())
    }

    /// What must hold before the lane sends (records waiting for the lane before).
    fn before_sending(
        &self,
        _store: &mut Store,
        _lane: &Lane,
        _pass: i64,
        _now_ms: i64,
    ) -> Result<(), StoreError> {
        Ok(())
    }
}

/// One kind's settings and rules, for one pass.
#[derive(Debug, Clone)]
pub(super) struct Lane {
    pub(super) kind: Kind,
    pub(super) source: SourceConfig,
    /// Send records BlueTape has that changed since as updates.
    pub(super) updates: bool,
    /// How its requests are retried.
    pub(super) retry: RetrySection,
    /// The store name of the lane whose records this one's follow (an invoice's customer):
    /// that lane is sent first, and a record of this one waits while its own is not in
    /// BlueTape.
    pub(super) after: Option<String>,
    /// How its export writes dates.
    timestamps: TimestampParser,
    rules: Arc<dyn Rules>,
}

/// A valid record: its create body, and what the export says of it.
#[derive(Debug)]
pub(super) struct Checked {
    pub(super) body: String,
    /// Always open for a kind without a standing (a customer).
    pub(super) standing: Standing,
}

impl Lane {
    /// The lanes of a pass, in the order they are staged and sent: customers, then invoices
    /// when `[invoices]` is configured.
    pub(super) fn all(config: &PassConfig) -> Vec<Lane> {
        let customers = customers::lane(config);
        let invoices = (config.invoices.as_ref()).map(|i| invoices::lane(config, i, &customers));
        std::iter::once(customers).chain(invoices).collect()
    }

    /// A lane of `kind` reading `source`, retried as `retry` says, that follows no other.
    fn new(
        kind: Kind,
        source: &SourceConfig,
        updates: bool,
        retry: &RetrySection,
        rules: impl Rules + 'static,
    ) -> Self {
        Self {
            kind,
            source: source.clone(),
            updates,
            retry: retry.clone(),
            after: None,
            timestamps: TimestampParser::new(source.timezone, source.datetime_format.clone()),
            rules: Arc::new(rules),
        }
    }

    /// The same lane reading its records from `source` (a spool of what an API answered).
    pub(super) fn with_source(&self, source: SourceConfig) -> Self {
        Self {
            source,
            ..self.clone()
        }
    }

    /// `customer` or `invoice`, for messages.
    pub(super) fn noun(&self) -> &'static str {
        self.kind.name()
    }

    /// The store's name for this kind's records, watermark and files.
    pub(super) fn name(&self) -> &str {
        &self.source.name
    }

    /// Whether a lane of `lanes` follows this one (its records wait for this one's).
    pub(super) fn is_followed_in(&self, lanes: &[Lane]) -> bool {
        lanes
            .iter()
            .any(|l| l.after.as_deref() == Some(self.name()))
    }

    pub(super) fn rules(&self) -> &dyn Rules {
        self.rules.as_ref()
    }

    pub(super) fn timestamps(&self) -> &TimestampParser {
        &self.timestamps
    }

    /// The record's `sourceModifiedDate`.
    pub(super) fn modified(&self, raw: &RawRecord) -> Result<DateTime<Utc>, Rejection> {
        crate::record::modified(&self.timestamps, raw)
    }

    pub(super) fn check(
        &self,
        raw: &RawRecord,
        modified: DateTime<Utc>,
    ) -> Result<Checked, Rejection> {
        self.rules.check(raw, modified)
    }

    pub(super) fn update_body(&self, stored: &str) -> Result<String, serde_json::Error> {
        self.rules.update_body(stored)
    }
}

/// A body written as JSON, or the record rejected alone.
fn written(body: serde_json::Result<String>) -> Result<String, Rejection> {
    body.map_err(|e| Rejection::unwritable(&e))
}
