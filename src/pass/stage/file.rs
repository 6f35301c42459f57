//! Staging one export file: its records read and checked on one thread while this one stores
//! them, each decided against what the store holds.

use tracing::debug;

use super::Staged;
use crate::diff::{Decision, Incoming, RecordState, Verdict};
use crate::pass::notices::record_line;
use crate::pass::prepare::{
    PREPARED_BATCH, PREPARED_BYTES, Prepared, PreparedRecord, Preparer, Quiet,
};
use crate::pass::progress::Progress;
use crate::record::Field;
use crate::record::RawRecord;
use crate::source::{self, OlderThan, SourceError};
use crate::store::{Label, NEW_BATCH, NewRecord, Staging, StoreError};

/// How a bookkeeper finds a rejected `raw`: `name` (its [`RawRecord::shown_name`]) and its
/// email as written.
fn label<'a>(raw: &'a RawRecord, name: Option<&'a str>) -> Label<'a> {
    Label {
        name,
        email: raw.get(Field::EmailAddress),
    }
}

/// How a bookkeeper finds a valid `raw`: its display name; its names, number and email are in
/// its body, which the store reads them from (nothing is kept twice for most records).
fn with_body(raw: &RawRecord) -> Label<'_> {
    Label {
        name: raw.get(Field::DisplayName),
        email: None,
    }
}

/// What crosses from the reading thread to the store's: a record to decide, or the id of a
/// left-out one: its queued version, if any, is withdrawn, and a sub-customer's parent kept.
enum Ready {
    Record(Box<PreparedRecord>),
    LeftOut { id: String, parent: Option<String> },
}

/// Why staging a file stopped: the store failed (the pass stops), or the file could not be
/// read (it is rolled back; the pass goes on).
pub(super) enum StageError {
    Store(StoreError),
    Source(SourceError),
}

impl From<StoreError> for StageError {
    fn from(e: StoreError) -> Self {
        StageError::Store(e)
    }
}

/// What staging one file needs to know.
pub(super) struct FileStaging<'a> {
    pub(super) staging: &'a Staging<'a>,
    /// Reads and checks each file's records.
    pub(super) preparer: Preparer<'a>,
    pub(super) progress: &'a Progress,
}

impl FileStaging<'_> {
    /// Reads and checks the file's records on one thread while this one stores them.
    pub(super) fn stage_file(
        &self,
        file: &source::ExportFile,
        staged: &mut Staged,
        newest: &mut Option<i64>,
    ) -> Result<(), StageError> {
        let preparer = &self.preparer;
        let older = preparer.threshold.map(|threshold_ms| {
            let parser = preparer.lane.timestamps().clone();
            OlderThan {
                threshold_ms,
                date: std::sync::Arc::new(move |text: &str| {
                    parser.parse(text).ok().map(|t| t.timestamp_millis())
                }),
            }
        });
        let records =
            source::read(&preparer.lane.source, file, older).map_err(StageError::Source)?;
        let progress = self.progress;
        std::thread::scope(|scope| {
            let (batches, prepared) = std::sync::mpsc::sync_channel(4);
            // The reading thread: records with nothing to store (old, left out and handled)
            // are only counted there; the others cross to this thread in batches.
            let producer = scope.spawn(move || {
                let mut quiet = Quiet {
                    left_out: vec![0; preparer.lane.source.leave_out.len()],
                    ..Quiet::default()
                };
                let mut batch = Vec::with_capacity(PREPARED_BATCH);
                let mut batch_bytes = 0;
                for item in records {
                    let prepared = item
                        .map_err(StageError::Source)
                        .and_then(|item| preparer.prepare(item).map_err(StageError::Store));
                    let record = match prepared {
                        Ok(Prepared::Record(record)) => Ok(Ready::Record(record)),
                        Ok(Prepared::Old(ms)) => {
                            quiet.count(progress);
                            quiet.skipped += 1;
                            quiet.newest = quiet.newest.max(Some(ms));
                            continue;
                        }
                        Ok(Prepared::LeftOut { rule, id, parent }) => {
                            quiet.count(progress);
                            if let Some(n) = quiet.left_out.get_mut(rule) {
                                *n += 1;
                            }
                            match id {
                                // Its queued version, if any, is withdrawn on the store's side.
                                Some(id) => Ok(Ready::LeftOut { id, parent }),
                                None => continue,
                            }
                        }
                        Err(e) => Err(e),
                    };
                    let failed = record.is_err();
                    batch_bytes += match &record {
                        Ok(Ready::Record(r)) => r.held_bytes(),
                        Ok(Ready::LeftOut { id, .. }) => id.len(),
                        Err(_) => 0,
                    };
                    batch.push(record);
                    if failed || batch.len() == PREPARED_BATCH || batch_bytes >= PREPARED_BYTES {
                        batch_bytes = 0;
                        let full =
                            std::mem::replace(&mut batch, Vec::with_capacity(PREPARED_BATCH));
                        // After an error nothing more is read; if the store side stopped,
                        // nothing more is wanted.
                        if batches.send(full).is_err() || failed {
                            return quiet;
                        }
                    }
                }
                let _ = batches.send(batch);
                quiet
            });
            // Valid records wait here to be stored NEW_BATCH at a time; anything else that
            // touches the store goes after them, so the export's order is kept.
            let mut waiting: Vec<PreparedRecord> = Vec::with_capacity(NEW_BATCH);
            let mut waiting_bytes = 0;
            for batch in prepared {
                for item in batch {
                    let record = match item? {
                        Ready::Record(record) => record,
                        Ready::LeftOut { id, parent } => {
                            // Counted as read on the reading thread. The export's order is
                            // kept for its id: a row of it still waiting is stored first.
                            if waiting.iter().any(|r| r.raw.get(Field::Id) == Some(&id)) {
                                waiting_bytes = 0;
                                self.store_batch(&mut waiting, staged, newest)?;
                            }
                            self.withdraw(&id)?;
                            // A sub-customer's invoices go under its top-level customer.
                            if let Some(parent) = parent {
                                self.staging.set_parent(&id, &parent)?;
                            }
                            continue;
                        }
                    };
                    staged.counts.read += 1;
                    progress.read_one();
                    if record.future {
                        staged.counts.future += 1;
                    }
                    if record.batchable() {
                        waiting_bytes += record.held_bytes();
                        waiting.push(*record);
                        if waiting.len() == NEW_BATCH || waiting_bytes >= PREPARED_BYTES {
                            waiting_bytes = 0;
                            self.store_batch(&mut waiting, staged, newest)?;
                        }
                    } else {
                        waiting_bytes = 0;
                        self.store_batch(&mut waiting, staged, newest)?;
                        self.store_record(*record, staged, newest)?;
                    }
                }
            }
            self.store_batch(&mut waiting, staged, newest)?;
            // A panic on the reading thread is a bug: it goes on here.
            let mut quiet = producer
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            quiet.finish(progress);
            staged.counts.read += quiet.read;
            staged.skipped += quiet.skipped;
            staged.counts.inactive += quiet.left_out.iter().sum::<u64>();
            if staged.left_out.len() < quiet.left_out.len() {
                staged.left_out.resize(quiet.left_out.len(), 0);
            }
            for (total, n) in staged.left_out.iter_mut().zip(&quiet.left_out) {
                *total += n;
            }
            *newest = (*newest).max(quiet.newest);
            Ok(())
        })
    }

    /// Withdraws a record the export now leaves out, if it waits to be sent and never was.
    fn withdraw(&self, id: &str) -> Result<(), StageError> {
        if self.staging.withdraw(id)? {
            record_line!(
                self.progress.notices,
                "withdrawn",
                info!(
                    id,
                    "{} withdrawn before it was sent: the export now leaves it out",
                    self.noun()
                )
            );
        }
        Ok(())
    }

    /// Stores the waiting valid records: the new ones in one go, then each whose id the
    /// store already knows through the diff, in the export's order.
    fn store_batch(
        &self,
        waiting: &mut Vec<PreparedRecord>,
        staged: &mut Staged,
        newest: &mut Option<i64>,
    ) -> Result<(), StageError> {
        if waiting.is_empty() {
            return Ok(());
        }
        let batch: Vec<NewRecord<'_>> = waiting
            .iter()
            .map(|r| NewRecord {
                id: r.raw.get(Field::Id).unwrap_or_default(),
                modified_ms: r.modified_ms.unwrap_or_default(),
                body: r.body().unwrap_or_default(),
                content_hash: r.content_hash.as_deref().filter(|_| r.by_content),
                label: with_body(&r.raw),
            })
            .collect();
        let new = self.staging.queue_new_batch(&batch)?;
        drop(batch);
        for (record, new) in waiting.drain(..).zip(new) {
            *newest = (*newest).max(record.dated());
            if new {
                staged.counts.new += 1;
                self.say_if_future(&record);
            } else {
                self.store_known(record, staged)?;
            }
        }
        Ok(())
    }

    /// Stores a record that does not wait in a batch: one without an id, or an invalid one.
    fn store_record(
        &self,
        record: PreparedRecord,
        staged: &mut Staged,
        newest: &mut Option<i64>,
    ) -> Result<(), StageError> {
        *newest = (*newest).max(record.dated());
        let Some(id) = record.raw.get(Field::Id) else {
            staged.counts.rejected += 1;
            *staged
                .rejections
                .entry("id: missing".to_owned())
                .or_default() += 1;
            record_line!(
                self.progress.notices,
                "rejected",
                warn!(at = %record.raw.location, "record rejected: id: missing")
            );
            return Ok(());
        };
        // A new id is stored at once; only an id the store knows is looked up and decided.
        if let Err(rejection) = &record.checked {
            let reason = rejection.to_string();
            let hash = record.content_hash.as_deref().unwrap_or_default();
            let name = record.raw.shown_name();
            let label = label(&record.raw, name.as_deref());
            if self
                .staging
                .reject_new(id, record.modified_ms, &reason, hash, label)?
            {
                record_line!(
                    self.progress.notices,
                    "rejected",
                    warn!(id, at = %record.raw.location, "{} rejected: {reason}", self.noun())
                );
                self.say_if_future(&record);
                staged.counts.rejected += 1;
                *staged.rejections.entry(reason).or_default() += 1;
                return Ok(());
            }
        }
        self.store_known(record, staged)
    }

    fn noun(&self) -> &'static str {
        self.preparer.lane.noun()
    }

    /// Says, once per version of a record (when it is stored), that it is dated in the
    /// future: it is sent, but does not move the watermark.
    fn say_if_future(&self, record: &PreparedRecord) {
        if !record.future {
            return;
        }
        let id = record.raw.get(Field::Id).unwrap_or_default();
        let dated = record
            .modified_ms
            .and_then(chrono::DateTime::from_timestamp_millis)
            .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_default();
        record_line!(
            self.progress.notices,
            "dated in the future",
            warn!(
                id,
                at = %record.raw.location,
                "{} dated {dated}, in the future (more than source.clock_skew ahead of this \
                 host's clock): sent, but it does not move the watermark",
                self.noun()
            )
        );
    }

    /// Stores a record whose id the store already holds, as the diff decides.
    fn store_known(&self, record: PreparedRecord, staged: &mut Staged) -> Result<(), StageError> {
        let staging = self.staging;
        let (raw, by_content, modified_ms) = (&record.raw, record.by_content, record.modified_ms);
        let (body, content_hash) = (record.body(), &record.content_hash);
        let Some(id) = raw.get(Field::Id) else {
            return Ok(());
        };
        let noun = self.noun();
        let hash = content_hash.as_deref();
        let stored = staging.lookup(id)?;
        if by_content
            && let Some(s) = &stored
            && s.content_hash.is_some()
            && s.content_hash == *content_hash
        {
            staged.skipped += 1;
            return Ok(());
        }
        let incoming = Incoming {
            modified_ms,
            valid: record.checked.is_ok(),
            content_hash: hash.unwrap_or_default(),
            future_after_ms: Some(self.preparer.future_after),
        };
        let decision =
            (self.preparer.lane.rules()).decide(stored.as_ref(), incoming, record.standing());
        if let Some(s) = stored.as_ref().filter(|s| s.staged_this_pass)
            && matches!(
                decision,
                Verdict::Plain(Decision::Queue | Decision::Reject)
                    | Verdict::LeftOut { withdraw: true }
            )
        {
            // The id's earlier row in this export is replaced: it no longer counts.
            match s.state {
                RecordState::Rejected => {
                    staged.counts.rejected = staged.counts.rejected.saturating_sub(1)
                }
                _ => staged.counts.new = staged.counts.new.saturating_sub(1),
            }
        }
        let decision = match decision {
            Verdict::Plain(decision) => decision,
            Verdict::LeftOut { withdraw } => {
                if withdraw {
                    self.withdraw(id)?;
                }
                staged.counts.inactive += 1;
                return Ok(());
            }
            Verdict::Cancel => {
                staging.cancel(id, modified_ms.unwrap_or_default())?;
                record_line!(
                    self.progress.notices,
                    "cancels queued",
                    info!(
                        id,
                        "{} void or deleted in the export: its cancel is queued",
                        self.noun()
                    )
                );
                return Ok(());
            }
        };
        if decision != Decision::Unchanged {
            self.say_if_future(&record);
        }
        let name = raw.shown_name();
        let label = match &record.checked {
            Ok(_) => with_body(raw),
            Err(_) => label(raw, name.as_deref()),
        };
        match (decision, &record.checked) {
            (Decision::Queue, Ok(_)) => {
                let body = body.unwrap_or_default();
                staging.queue(
                    id,
                    modified_ms.unwrap_or_default(),
                    body,
                    hash.filter(|_| by_content),
                    label,
                )?;
                staged.counts.new += 1;
            }
            (Decision::Reject, Err(rejection)) => {
                staging.reject(
                    id,
                    modified_ms,
                    &rejection.to_string(),
                    hash.unwrap_or_default(),
                    label,
                )?;
                staged.counts.rejected += 1;
                *staged.rejections.entry(rejection.to_string()).or_default() += 1;
                record_line!(
                    self.progress.notices,
                    "rejected",
                    warn!(id, at = %raw.location, "{noun} rejected: {rejection}")
                );
            }
            (Decision::ChangedUpstream, _) => {
                let updates = self.preparer.lane.updates;
                if updates && body.is_none() {
                    record_line!(
                        self.progress.notices,
                        "not sent as updates",
                        warn!(id, at = %raw.location, "changed {noun} not sent as an update: it is now invalid")
                    );
                }
                staging.changed_upstream(
                    id,
                    modified_ms.unwrap_or_default(),
                    body,
                    hash.filter(|_| by_content),
                    updates,
                )?;
                staged.counts.changed_upstream += 1;
                debug!(id, "{noun} changed upstream after it was created");
            }
            _ => {}
        }
        Ok(())
    }
}
