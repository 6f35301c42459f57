//! Staging: the export read, each record checked and diffed, the queue and the watermark
//! written in one transaction (SPEC §3, §4).

use std::time::SystemTime;

use tracing::{debug, info, warn};

use super::PassOptions;
use super::lane::Lane;
use super::prepare::{PREPARED_BATCH, Prepared, PreparedRecord, Preparer, Quiet};
use super::progress::Progress;
use crate::diff::invoice::{InvoiceDecision, decide_invoice};
use crate::diff::{Decision, Incoming, RecordState, decide};
use crate::record::Field;
use crate::record::timestamp::now_ms;
use crate::source::{self, Kind, OlderThan, SourceError};
use crate::store::{
    FULL_NEXT_PASS, NEW_BATCH, NewRecord, PassCounts, QueueCursor, Request, Staging, Store,
    StoreError,
};

#[derive(Debug, Default, Clone)]
pub struct Staged {
    /// Read, new, rejected locally, changed upstream, inactive (for invoices: left out).
    pub counts: PassCounts,
    pub skipped: u64,
    pub would_send: u64,
    /// Rejections in this read, by reason.
    pub rejections: std::collections::BTreeMap<String, u64>,
    /// `check`: the first records of the queue, as a pass would send them (their bodies).
    pub samples: Vec<String>,
    /// Dry run: the ids a real pass would create or update.
    pub would_send_ids: Vec<String>,
    /// Dry run: invoices that would wait for their customer.
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

/// A dry run's view of invoices' customers: those in BlueTape, and those the dry run would
/// send first.
pub(super) struct DryHold<'a> {
    /// The customers' store name.
    pub(super) customers: &'a str,
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

enum StageError {
    Store(StoreError),
    Source(SourceError),
}

impl From<StoreError> for StageError {
    fn from(e: StoreError) -> Self {
        StageError::Store(e)
    }
}

/// What staging one file needs to know.
struct FileStaging<'a> {
    staging: &'a Staging<'a>,
    /// Reads and checks each file's records.
    preparer: Preparer<'a>,
    progress: &'a Progress,
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
    let lookback_ms = i64::try_from(config.lookback.as_millis()).unwrap_or(i64::MAX);
    // `retry` or `forget` asked for a full read, so the records they reset are seen again.
    let full = options.full || store.setting(&config.name, FULL_NEXT_PASS)?.is_some();
    let now = now_ms();
    let staging = store.staging(&config.name, pass, now)?;
    let files = FileStaging {
        staging: &staging,
        preparer: Preparer {
            lane,
            threshold: match (full, watermark) {
                (false, Some(w)) => Some(w.saturating_sub(lookback_ms)),
                _ => None,
            },
            now,
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
        // A date in the future must not hide records written later: never past now.
        staging.set_watermark(newest.min(now))?;
    }
    if complete && full {
        staging.clear_setting(FULL_NEXT_PASS)?;
    }
    if lane.kind == Kind::Invoice {
        staging.mark_invoices(pass)?;
    }
    let updates = lane.updates;
    match mode {
        StageMode::Commit => staging.commit()?,
        StageMode::Inspect { keep_ids } => {
            // The queue's head as a pass would send it: a row that a later row of the same id
            // replaced is not there.
            let mut cursor = QueueCursor::new(now, updates);
            loop {
                let page = staging.next_queue_page(&mut cursor, 1000)?;
                if page.is_empty() || (!keep_ids && staged.samples.len() >= SAMPLES) {
                    break;
                }
                for queued in page {
                    if queued.request == Request::Cancel {
                        continue;
                    }
                    if keep_ids {
                        staged.would_send_ids.push(queued.id);
                    }
                    if staged.samples.len() < SAMPLES {
                        staged.samples.push(queued.body);
                    }
                }
            }
        }
        StageMode::DryRun {
            out,
            keep_ids,
            hold,
        } => {
            let mut cursor = QueueCursor::new(now, updates);
            loop {
                let page = staging.next_queue_page(&mut cursor, 1000)?;
                if page.is_empty() {
                    break;
                }
                for q in page {
                    if let Some(hold) = hold
                        && q.request == Request::Create
                        && let Some(customer) = customer_id(&q.body)
                        && !hold.would_send.contains(&customer)
                        && !staging.in_bluetape(hold.customers, &customer)?
                    {
                        let _ = writeln!(
                            out,
                            "would hold invoice {} until customer {customer} is in BlueTape",
                            q.id
                        );
                        staged.would_wait += 1;
                        continue;
                    }
                    let verb = match q.request {
                        Request::Create => "send",
                        Request::Update => "update",
                        Request::Cancel => "cancel",
                    };
                    // Customers as `would send C1`; invoices named as such.
                    let noun = match lane.kind {
                        Kind::Customer => "",
                        Kind::Invoice => "invoice ",
                    };
                    let _ = writeln!(out, "would {verb} {noun}{}", q.id);
                    staged.would_send += 1;
                    if keep_ids && q.request != Request::Cancel {
                        staged.would_send_ids.push(q.id);
                    }
                }
            }
            // Dropping the staging transaction rolls it back.
        }
    }
    Ok(StageResult {
        staged,
        source_error,
    })
}

/// The customer an invoice's body names.
fn customer_id(body: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Named {
        #[serde(rename = "customerId")]
        customer_id: String,
    }
    serde_json::from_str::<Named>(body)
        .ok()
        .map(|n| n.customer_id)
}

impl FileStaging<'_> {
    /// Reads and checks the file's records on one thread while this one stores them.
    fn stage_file(
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
            // The reading thread: records with nothing to store (old, inactive) are only
            // counted there; the others cross to this thread in batches.
            let producer = scope.spawn(move || {
                let mut quiet = Quiet::default();
                let mut batch = Vec::with_capacity(PREPARED_BATCH);
                for item in records {
                    let prepared = item
                        .map_err(StageError::Source)
                        .and_then(|item| preparer.prepare(item).map_err(StageError::Store));
                    let record = match prepared {
                        Ok(Prepared::Record(record)) => Ok(record),
                        Ok(Prepared::Old(ms)) => {
                            quiet.count(progress);
                            quiet.skipped += 1;
                            quiet.newest = quiet.newest.max(Some(ms));
                            continue;
                        }
                        Ok(Prepared::Inactive) => {
                            quiet.count(progress);
                            quiet.inactive += 1;
                            continue;
                        }
                        Err(e) => Err(e),
                    };
                    let failed = record.is_err();
                    batch.push(record);
                    if failed || batch.len() == PREPARED_BATCH {
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
            for batch in prepared {
                for item in batch {
                    staged.counts.read += 1;
                    progress.read_one();
                    let record = item?;
                    if record.batchable() {
                        waiting.push(*record);
                        if waiting.len() == NEW_BATCH {
                            self.store_batch(&mut waiting, staged, newest)?;
                        }
                    } else {
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
            staged.counts.inactive += quiet.inactive;
            *newest = (*newest).max(quiet.newest);
            Ok(())
        })
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
            })
            .collect();
        let new = self.staging.queue_new_batch(&batch)?;
        drop(batch);
        for (record, new) in waiting.drain(..).zip(new) {
            *newest = (*newest).max(record.dated());
            if new {
                staged.counts.new += 1;
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
            warn!(at = %record.raw.location, "record rejected: id: missing");
            return Ok(());
        };
        // A new id is stored at once; only an id the store knows is looked up and decided.
        if let Err(rejection) = &record.checked {
            let reason = rejection.to_string();
            let hash = record.content_hash.as_deref().unwrap_or_default();
            if self
                .staging
                .reject_new(id, record.modified_ms, &reason, hash)?
            {
                warn!(id, at = %record.raw.location, "{} rejected: {reason}", self.noun());
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
        };
        let decision = match self.preparer.lane.kind {
            Kind::Customer => InvoiceDecision::Plain(decide(stored.as_ref(), incoming)),
            Kind::Invoice => decide_invoice(stored.as_ref(), incoming, record.standing()),
        };
        if let Some(s) = stored.as_ref().filter(|s| s.staged_this_pass)
            && matches!(
                decision,
                InvoiceDecision::Plain(Decision::Queue | Decision::Reject)
                    | InvoiceDecision::LeftOut { withdraw: true }
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
            InvoiceDecision::Plain(decision) => decision,
            InvoiceDecision::LeftOut { withdraw } => {
                if withdraw && staging.withdraw(id)? {
                    info!(
                        id,
                        "invoice withdrawn before it was sent: the export now leaves it out"
                    );
                }
                staged.counts.inactive += 1;
                return Ok(());
            }
            InvoiceDecision::Cancel => {
                staging.cancel(id, modified_ms.unwrap_or_default())?;
                info!(
                    id,
                    "invoice void or deleted in the export: its cancel is queued"
                );
                return Ok(());
            }
        };
        match (decision, &record.checked) {
            (Decision::Queue, Ok(_)) => {
                let body = body.unwrap_or_default();
                staging.queue(
                    id,
                    modified_ms.unwrap_or_default(),
                    body,
                    hash.filter(|_| by_content),
                )?;
                staged.counts.new += 1;
            }
            (Decision::Reject, Err(rejection)) => {
                staging.reject(
                    id,
                    modified_ms,
                    &rejection.to_string(),
                    hash.unwrap_or_default(),
                )?;
                staged.counts.rejected += 1;
                *staged.rejections.entry(rejection.to_string()).or_default() += 1;
                warn!(id, at = %raw.location, "{noun} rejected: {rejection}");
            }
            (Decision::ChangedUpstream, _) => {
                let updates = self.preparer.lane.updates;
                if updates && body.is_none() {
                    warn!(id, at = %raw.location, "changed {noun} not sent as an update: it is now invalid");
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
