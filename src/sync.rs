//! One pass (SPEC §4, §5): source -> record -> diff -> store, then the queue -> client -> store,
//! with the rate, the concurrency and the retries. `run --once` and the daemon both call
//! [`run_pass`].

use std::future::Future;
use std::io::{IsTerminal as _, Write as _};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use chrono::DateTime;

use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, watch};
use tokio::task::JoinSet;
use tracing::{debug, error, info, warn};

use crate::client::{BlueTapeClient, Outcome};
use crate::config::{Config, LogFormat, RetrySection};
use crate::daemon::lock::{InstanceLock, LockError};
use crate::diff::{Decision, Incoming, RecordState, decide, is_candidate};
use crate::pace::{Pacer, backoff};
use crate::progress::{Progress, Reporter};
use crate::record::phone::PhoneNormaliser;
use crate::record::timestamp::{TimestampParser, now_ms};
use crate::record::{Customer, Field, Normaliser, RawRecord, Rejection};
use crate::source::config::SourceConfig;
use crate::source::{self, Item, OlderThan, SourceError};
use crate::store::{
    Attempt, FULL_NEXT_PASS, NEW_BATCH, NewRecord, PassCounts, QueueCursor, Queued, SendRecord,
    SendResult, Staging, Store, StoreError,
};

/// How a pass is run.
#[derive(Debug, Clone, Copy, Default)]
pub struct PassOptions {
    /// Read, validate and diff; print what would be sent; send nothing, change nothing.
    pub dry_run: bool,
    /// Compare every record with the store, ignoring the watermark.
    pub full: bool,
    /// Wait for an export that is still being written to settle, instead of leaving it for a
    /// later pass (`--once`: there is no later pass).
    pub wait_to_settle: bool,
}

/// How many times `source.settle` a pass that waits for the export gives it to settle.
pub const SETTLE_WAITS: u32 = 12;

/// Why sending stopped before the queue was empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReason {
    /// 401/403.
    Unauthorized(String),
    /// 404.
    EndpointNotFound(String),
    /// A 3xx: BlueTape answered from somewhere else; never followed.
    Redirected(String),
    /// `retry.stop_after` records in a row exhausted their retries.
    Unavailable(String),
    /// SIGTERM/SIGINT.
    Shutdown,
    /// Results could no longer be recorded.
    StoreFailed,
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StopReason::Unauthorized(reason) => {
                write!(f, "BlueTape refused the API key ({reason})")
            }
            StopReason::EndpointNotFound(reason) | StopReason::Redirected(reason) => {
                write!(f, "BlueTape answered {reason}")
            }
            StopReason::Unavailable(reason) => {
                write!(f, "the BlueTape API keeps failing (last answer: {reason})")
            }
            StopReason::Shutdown => f.write_str("asked to stop"),
            StopReason::StoreFailed => f.write_str("results can no longer be recorded"),
        }
    }
}

/// A pass that could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum PassError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Locked(#[from] LockError),
    #[error("cannot start the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
    #[error(
        "export still being written: {files} changed within source.settle ({settle:?}) for {waited:?} \
         (12 × source.settle); nothing was read: run again once the export job has finished, or \
         raise source.settle"
    )]
    StillChanging {
        files: String,
        settle: Duration,
        waited: Duration,
    },
    /// Asked to stop before anything was read.
    #[error("asked to stop before the export settled: nothing was read")]
    Interrupted,
    #[error("internal error: {0}")]
    Internal(String),
}

/// What a pass did.
#[derive(Debug)]
pub struct PassReport {
    pub counts: PassCounts,
    /// Records older than the watermark minus lookback, skipped unread.
    pub skipped: u64,
    /// Records still pending or failed in the store when the pass ended.
    pub left_pending: u64,
    pub left_failed: u64,
    pub stop: Option<StopReason>,
    /// The export could not be read; what was already queued was still sent.
    pub source_error: Option<SourceError>,
    pub dry_run: bool,
    /// Dry run: how many records a real pass would send.
    pub would_send: u64,
    pub duration: Duration,
    pub endpoint: String,
    /// Requests sent, by answer.
    pub requests: RequestCounts,
}

/// Requests by the class of their answer; `none` got no answer (timeout, connection).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestCounts {
    pub success: u64,
    pub redirect: u64,
    pub client_error: u64,
    pub server_error: u64,
    pub none: u64,
    /// Attempts that were retried after a transient failure.
    pub retried: u64,
}

impl RequestCounts {
    fn count(&mut self, status: Option<u16>) {
        match status {
            Some(200..=299) => self.success += 1,
            Some(300..=399) => self.redirect += 1,
            Some(400..=499) => self.client_error += 1,
            Some(_) => self.server_error += 1,
            None => self.none += 1,
        }
    }
}

/// SPEC §6's exit codes.
pub mod exit {
    pub const OK: u8 = 0;
    pub const REJECTED: u8 = 65;
    pub const UNAVAILABLE: u8 = 69;
    pub const LOCKED: u8 = 75;
    pub const UNAUTHORIZED: u8 = 77;
    pub const CONFIG: u8 = 78;
    pub const OTHER: u8 = 1;
}

impl PassReport {
    pub fn exit_code(&self) -> u8 {
        match &self.stop {
            Some(StopReason::Unauthorized(_)) => return exit::UNAUTHORIZED,
            Some(StopReason::EndpointNotFound(_) | StopReason::Redirected(_)) => {
                return exit::CONFIG;
            }
            _ => {}
        }
        if self.source_error.is_some() {
            return exit::CONFIG;
        }
        let interrupted = self.stop == Some(StopReason::Shutdown);
        if !self.dry_run
            && (self.counts.failed > 0
                || self.left_failed > 0
                || (self.left_pending > 0 && !interrupted))
        {
            return exit::UNAVAILABLE;
        }
        if self.counts.rejected > 0 {
            return exit::REJECTED;
        }
        exit::OK
    }

    /// The pass's outcome as stored in `passes`.
    pub fn outcome(&self) -> &'static str {
        match (&self.stop, self.exit_code()) {
            (Some(StopReason::Shutdown), _) => "interrupted",
            (_, exit::UNAUTHORIZED) => "unauthorized",
            (Some(StopReason::EndpointNotFound(_)), _) => "endpoint_not_found",
            (Some(StopReason::Redirected(_)), _) => "redirected",
            (_, exit::CONFIG) => "source_error",
            (_, exit::UNAVAILABLE) => "unavailable",
            (_, exit::REJECTED) => "rejected",
            _ => "ok",
        }
    }

    /// The one-line summary printed at the end of every pass.
    pub fn summary(&self) -> String {
        let c = &self.counts;
        let head = if self.dry_run {
            format!("would send {}; ", self.would_send)
        } else {
            String::new()
        };
        format!(
            "{head}read {}, new {}, created {}, exists {}, rejected {}, failed {}, changed upstream {}, \
             updated {}, skipped {}, inactive {}, queued {}, in {:.1}s",
            c.read,
            c.new,
            c.created,
            c.exists,
            c.rejected,
            c.failed,
            c.changed_upstream,
            c.updated,
            self.skipped,
            c.inactive,
            self.left_pending + self.left_failed,
            self.duration.as_secs_f64()
        )
    }

    /// For a non-zero exit: what is wrong and what to do, in one line.
    pub fn problem(&self) -> Option<String> {
        let queued = self.left_pending + self.left_failed;
        let line = match (&self.stop, self.exit_code()) {
            (_, exit::OK) => return None,
            (Some(StopReason::Unauthorized(reason)), _) => format!(
                "BlueTape refused the API key ({reason}) for {}: check the key and api.account_id; \
                 {queued} customers stay queued and nothing was marked",
                self.endpoint
            ),
            (Some(StopReason::EndpointNotFound(reason)), _) => format!(
                "BlueTape answered {reason} for {}: check api.base_url and api.account_id; \
                 {queued} customers stay queued",
                self.endpoint
            ),
            (Some(StopReason::Redirected(reason)), _) => format!(
                "BlueTape answered {reason} (redirects are not followed: the key goes only to \
                 api.base_url); {queued} customers stay queued and nothing was marked"
            ),
            (_, exit::CONFIG) => match &self.source_error {
                Some(e) => format!("{e}; {queued} customers from earlier passes stay queued"),
                None => "configuration problem".into(),
            },
            (Some(StopReason::Unavailable(reason)), _) => format!(
                "BlueTape API unavailable (last answer: {reason}); stopped early with {queued} \
                 customers queued: they are sent on the next pass"
            ),
            (_, exit::UNAVAILABLE) => format!(
                "{} customers failed and {queued} are still queued because the BlueTape API was \
                 unavailable: they are retried on the next pass",
                self.counts.failed
            ),
            (_, exit::REJECTED) => format!(
                "{} records were rejected in this pass: the warnings above name each id and field; \
                 fix them in the accounting system and they are sent once their modified date changes",
                self.counts.rejected
            ),
            _ => return None,
        };
        Some(line)
    }
}

/// Runs one pass. `shutdown` resolving stops it gracefully: no new request starts, answers to
/// requests already sent are recorded, the rest stays queued.
pub async fn run_pass(
    config: &Config,
    options: PassOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<PassReport, PassError> {
    if options.dry_run {
        return run_locked_pass(config, options, shutdown).await;
    }
    let _lock = InstanceLock::acquire(&config.store_path)?;
    run_locked_pass(config, options, shutdown).await
}

/// A pass by a process that already holds the store's instance lock (the daemon).
pub(crate) async fn run_locked_pass(
    config: &Config,
    options: PassOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<PassReport, PassError> {
    let started = Instant::now();
    let mut shutdown = std::pin::pin!(shutdown);
    if options.wait_to_settle {
        wait_to_settle(&config.source, shutdown.as_mut()).await?;
    }
    let source_name = config.source.name.clone();
    let client = BlueTapeClient::new(&config.api)?;
    let endpoint = client.create_url().to_string();

    if options.dry_run {
        return dry_run(config, options, started, endpoint).await;
    }

    let mut store = Store::open(&config.store_path)?;
    let pass = store.begin_pass(&source_name, options.full, now_ms())?;
    info!(pass, source = %config.source.path.display(), full = options.full, "pass started");

    let source_config = config.source.clone();
    let updates = config.sync.updates;
    let progress = Progress::new();
    let terminal = std::io::stderr().is_terminal()
        && config.log.format == LogFormat::Text
        && std::env::var_os("JOURNAL_STREAM").is_none();
    let _reporter = Reporter::start(Arc::clone(&progress), terminal);
    let staging_progress = Arc::clone(&progress);
    let (store_back, staged) = tokio::task::spawn_blocking(move || {
        let staged = stage(
            &mut store,
            &source_config,
            pass,
            options,
            updates,
            StageMode::Commit,
            &staging_progress,
        );
        (store, staged)
    })
    .await
    .map_err(|e| PassError::Internal(e.to_string()))?;
    let mut store = store_back;
    let StageResult {
        staged,
        source_error,
    } = staged?;

    let sent = send_queue(pass, &mut store, config, client, &progress, shutdown).await?;

    let left = store.queue_counts(&source_name)?;
    let report = PassReport {
        counts: PassCounts {
            read: staged.read,
            new: staged.new,
            created: sent.created,
            exists: sent.exists,
            rejected: staged.rejected + sent.rejected,
            failed: sent.failed,
            changed_upstream: staged.changed_upstream,
            updated: sent.updated,
            inactive: staged.inactive,
        },
        skipped: staged.skipped,
        left_pending: left.pending,
        left_failed: left.failed,
        stop: sent.stop,
        source_error,
        dry_run: false,
        would_send: 0,
        duration: started.elapsed(),
        endpoint,
        requests: sent.requests,
    };
    let problem = report.problem();
    store.finish_pass(
        pass,
        report.outcome(),
        &report.counts,
        problem.as_deref(),
        now_ms(),
    )?;
    info!(
        pass,
        outcome = report.outcome(),
        "pass finished: {}",
        report.summary()
    );
    Ok(report)
}

/// Waits, saying so, until every file of the export has been still for `source.settle`; an
/// error when one is still changing after [`SETTLE_WAITS`] × `source.settle`. Problems with
/// the export itself are left for the pass to report.
async fn wait_to_settle(
    config: &SourceConfig,
    mut shutdown: std::pin::Pin<&mut impl Future<Output = ()>>,
) -> Result<(), PassError> {
    let limit = config.settle * SETTLE_WAITS;
    let started = Instant::now();
    let mut said = false;
    loop {
        let Ok(discovery) = source::discover(config, SystemTime::now()) else {
            return Ok(());
        };
        let Some(left) = discovery.settles_in else {
            return Ok(());
        };
        let files = discovery
            .unsettled
            .iter()
            .map(|f| f.path.display().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let waited = started.elapsed();
        if waited >= limit {
            return Err(PassError::StillChanging {
                files,
                settle: config.settle,
                waited: limit,
            });
        }
        if !said {
            info!(
                files,
                "export changed within source.settle ({:?}), still being written? waiting for it \
                 to settle (at most {limit:?})",
                config.settle
            );
            said = true;
        }
        // A little past the moment it settles, so the next look finds it settled.
        let wait = left.min(limit - waited) + Duration::from_millis(20);
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = shutdown.as_mut() => return Err(PassError::Interrupted),
        }
    }
}

/// What `check` learns from reading the export: the counts, rejections by reason, a sample of
/// what would be sent, and the export's first problem. Changes nothing.
pub async fn inspect(config: &Config) -> Result<(Staged, Option<SourceError>), PassError> {
    let path = config.store_path.clone();
    let source_config = config.source.clone();
    let updates = config.sync.updates;
    let result = tokio::task::spawn_blocking(move || -> Result<_, PassError> {
        let mut store = Store::open_or_temporary(&path)?;
        let options = PassOptions::default();
        Ok(stage(
            &mut store,
            &source_config,
            0,
            options,
            updates,
            StageMode::Inspect,
            &Progress::new(),
        )?)
    })
    .await
    .map_err(|e| PassError::Internal(e.to_string()))??;
    Ok((result.staged, result.source_error))
}

/// Stages in a transaction that is rolled back, and lists what a real pass would send.
async fn dry_run(
    config: &Config,
    options: PassOptions,
    started: Instant,
    endpoint: String,
) -> Result<PassReport, PassError> {
    let path = config.store_path.clone();
    let source_config = config.source.clone();
    let updates = config.sync.updates;
    let result = tokio::task::spawn_blocking(move || -> Result<_, PassError> {
        let mut store = Store::open_or_temporary(&path)?;
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        for line in source_config.describe() {
            let _ = writeln!(out, "{line}");
        }
        // Pass 0 is never a real pass (those count from 1); its staging is rolled back.
        let staged = stage(
            &mut store,
            &source_config,
            0,
            options,
            updates,
            StageMode::DryRun(&mut out),
            &Progress::new(),
        );
        let _ = out.flush();
        Ok(staged?)
    })
    .await
    .map_err(|e| PassError::Internal(e.to_string()))??;
    let StageResult {
        staged,
        source_error,
    } = result;
    let report = PassReport {
        counts: PassCounts {
            read: staged.read,
            new: staged.new,
            rejected: staged.rejected,
            changed_upstream: staged.changed_upstream,
            inactive: staged.inactive,
            ..PassCounts::default()
        },
        skipped: staged.skipped,
        left_pending: 0,
        left_failed: 0,
        stop: None,
        source_error,
        dry_run: true,
        would_send: staged.would_send,
        duration: started.elapsed(),
        endpoint,
        requests: RequestCounts::default(),
    };
    info!(
        "dry run finished, nothing sent or changed: {}",
        report.summary()
    );
    Ok(report)
}

#[derive(Debug, Default, Clone)]
pub struct Staged {
    pub read: u64,
    pub skipped: u64,
    pub inactive: u64,
    pub new: u64,
    pub rejected: u64,
    pub changed_upstream: u64,
    pub would_send: u64,
    /// Rejections in this read, by reason.
    pub rejections: std::collections::BTreeMap<String, u64>,
    /// `check`: the first records of the queue, as a pass would send them.
    pub samples: Vec<Customer>,
}

/// Whether staging keeps what it did.
enum StageMode<'a> {
    Commit,
    /// Roll back, listing what a real pass would send.
    DryRun(&'a mut dyn std::io::Write),
    /// Roll back, listing nothing (`check`).
    Inspect,
}

/// How many queued records `check` shows.
const SAMPLES: usize = 5;

/// What staging came to: the counts, and the first problem with the export, if any (the
/// files without one were still staged).
struct StageResult {
    staged: Staged,
    source_error: Option<SourceError>,
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
    updates: bool,
    progress: &'a Progress,
}

/// Reads the export, decides each record, and queues them and advances the watermark in one
/// transaction, each file in a savepoint of its own. With `dry_run_out`, lists the queue and
/// rolls everything back.
fn stage(
    store: &mut Store,
    config: &SourceConfig,
    pass: i64,
    options: PassOptions,
    updates: bool,
    mode: StageMode<'_>,
    progress: &Progress,
) -> Result<StageResult, StoreError> {
    let discovery = match source::discover(config, SystemTime::now()) {
        Ok(d) => d,
        Err(e) => {
            return Ok(StageResult {
                staged: Staged::default(),
                source_error: Some(e),
            });
        }
    };
    let normaliser = Normaliser::new(
        TimestampParser::new(config.timezone, config.datetime_format.clone()),
        PhoneNormaliser::new(config.default_country),
    );
    let watermark = store.watermark(&config.name)?;
    let lookback_ms = i64::try_from(config.lookback.as_millis()).unwrap_or(i64::MAX);
    // `retry` or `forget` asked for a full read, so the records they reset are seen again.
    let full = options.full || store.setting(&config.name, FULL_NEXT_PASS)?.is_some();
    let now = now_ms();
    let staging = store.staging(&config.name, pass, now)?;
    let files = FileStaging {
        staging: &staging,
        preparer: Preparer {
            config,
            normaliser: &normaliser,
            threshold: match (full, watermark) {
                (false, Some(w)) => Some(w.saturating_sub(lookback_ms)),
                _ => None,
            },
            now,
        },
        updates,
        progress,
    };
    let mut staged = Staged::default();
    let mut newest: Option<i64> = None;
    let mut source_error = None;
    // The watermark moves only when every file of the export was read whole.
    let mut complete = true;
    for file in &discovery.unsettled {
        complete = false;
        info!(
            file = %file.path.display(),
            "export file changed within source.settle (still being written?): read on a later pass"
        );
    }
    for file in &discovery.files {
        staging.begin_file()?;
        let before = (staged.clone(), newest);
        match files.stage_file(file, &mut staged, &mut newest) {
            Ok(()) if file.unchanged() => staging.release()?,
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
    if complete && let Some(newest) = newest {
        // A date in the future must not hide records written later: never past now.
        staging.set_watermark(newest.min(now))?;
    }
    if complete && full {
        staging.clear_setting(FULL_NEXT_PASS)?;
    }
    match mode {
        StageMode::Commit => staging.commit()?,
        StageMode::Inspect => {
            // The queue's head as a pass would send it: a row that a later row of the same id
            // replaced is not there.
            let mut cursor = QueueCursor::new(now, updates);
            for queued in staging.next_queue_page(&mut cursor, SAMPLES)? {
                let customer = serde_json::from_str(&queued.body).map_err(|e| {
                    StoreError::Serialize(format!("queued customer {}: {e}", queued.id))
                })?;
                staged.samples.push(customer);
            }
        }
        StageMode::DryRun(out) => {
            let mut cursor = QueueCursor::new(now, updates);
            loop {
                let page = staging.next_queue_page(&mut cursor, 1000)?;
                if page.is_empty() {
                    break;
                }
                for q in &page {
                    let verb = if q.update { "update" } else { "send" };
                    let _ = writeln!(out, "would {verb} {}", q.id);
                    staged.would_send += 1;
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

/// One record read and checked, ready for the store.
enum Prepared {
    Record(Box<PreparedRecord>),
    /// Inactive or archived in the accounting system.
    Inactive,
    /// Older than the watermark minus lookback, with its date.
    Old(i64),
}

struct PreparedRecord {
    raw: RawRecord,
    /// Dated when this version was first seen; a change is found by its content.
    by_content: bool,
    modified_ms: Option<i64>,
    customer: Result<Customer, Rejection>,
    /// The API body, for a valid record.
    body: Option<String>,
    content_hash: Option<String>,
}

impl PreparedRecord {
    /// A valid record with an id: stored in a batch if new.
    fn batchable(&self) -> bool {
        self.customer.is_ok() && self.body.is_some() && self.raw.get(Field::Id).is_some()
    }

    /// Its date, when it counts for the watermark (a date read from the export).
    fn dated(&self) -> Option<i64> {
        self.modified_ms.filter(|_| !self.by_content)
    }
}

/// What the reading thread counted without sending on: records older than the watermark
/// minus lookback, and inactive ones.
#[derive(Debug, Default)]
struct Quiet {
    read: u64,
    skipped: u64,
    inactive: u64,
    newest: Option<i64>,
    /// Counted but not yet shown in the progress.
    unreported: u64,
}

impl Quiet {
    fn count(&mut self, progress: &Progress) {
        self.read += 1;
        self.unreported += 1;
        if self.unreported == 4096 {
            self.finish(progress);
        }
    }

    fn finish(&mut self, progress: &Progress) {
        progress.read_many(std::mem::take(&mut self.unreported));
    }
}

/// How many prepared records go to the store at a time.
const PREPARED_BATCH: usize = 256;

/// Reads and checks records: everything staging does that needs no store. It runs on a
/// thread of its own, beside the one that writes the store.
struct Preparer<'a> {
    config: &'a SourceConfig,
    normaliser: &'a Normaliser,
    /// Records older than this were handled by earlier passes.
    threshold: Option<i64>,
    now: i64,
}

impl Preparer<'_> {
    fn prepare(&self, item: Item) -> Result<Prepared, StoreError> {
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

impl FileStaging<'_> {
    /// Reads and checks the file's records on one thread while this one stores them.
    fn stage_file(
        &self,
        file: &source::ExportFile,
        staged: &mut Staged,
        newest: &mut Option<i64>,
    ) -> Result<(), StageError> {
        let preparer = &self.preparer;
        let older = preparer.threshold.map(|threshold_ms| OlderThan {
            threshold_ms,
            parser: preparer.normaliser.timestamps().clone(),
        });
        let records = source::read(preparer.config, file, older).map_err(StageError::Source)?;
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
                    staged.read += 1;
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
            staged.read += quiet.read;
            staged.skipped += quiet.skipped;
            staged.inactive += quiet.inactive;
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
                body: r.body.as_deref().unwrap_or_default(),
                content_hash: r.content_hash.as_deref().filter(|_| r.by_content),
            })
            .collect();
        let new = self.staging.queue_new_batch(&batch)?;
        drop(batch);
        for (record, new) in waiting.drain(..).zip(new) {
            *newest = (*newest).max(record.dated());
            if new {
                staged.new += 1;
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
            staged.rejected += 1;
            *staged
                .rejections
                .entry("id: missing".to_owned())
                .or_default() += 1;
            warn!(at = %record.raw.location, "record rejected: id: missing");
            return Ok(());
        };
        // A new id is stored at once; only an id the store knows is looked up and decided.
        if let Err(rejection) = &record.customer {
            let reason = rejection.to_string();
            let hash = record.content_hash.as_deref().unwrap_or_default();
            if self
                .staging
                .reject_new(id, record.modified_ms, &reason, hash)?
            {
                warn!(id, at = %record.raw.location, "customer rejected: {reason}");
                staged.rejected += 1;
                *staged.rejections.entry(reason).or_default() += 1;
                return Ok(());
            }
        }
        self.store_known(record, staged)
    }

    /// Stores a record whose id the store already holds, as the diff decides.
    fn store_known(&self, record: PreparedRecord, staged: &mut Staged) -> Result<(), StageError> {
        let staging = self.staging;
        let PreparedRecord {
            raw,
            by_content,
            modified_ms,
            customer,
            body,
            content_hash,
        } = record;
        let Some(id) = raw.get(Field::Id) else {
            return Ok(());
        };
        let hash = content_hash.as_deref();
        let stored = staging.lookup(id)?;
        if by_content
            && let Some(s) = &stored
            && s.content_hash.is_some()
            && s.content_hash == content_hash
        {
            staged.skipped += 1;
            return Ok(());
        }
        let decision = decide(
            stored.as_ref(),
            Incoming {
                modified_ms,
                valid: customer.is_ok(),
                content_hash: hash.unwrap_or_default(),
            },
        );
        if let Some(s) = stored.as_ref().filter(|s| s.staged_this_pass)
            && matches!(decision, Decision::Queue | Decision::Reject)
        {
            // The id's earlier row in this export is replaced: it no longer counts.
            match s.state {
                RecordState::Rejected => staged.rejected = staged.rejected.saturating_sub(1),
                _ => staged.new = staged.new.saturating_sub(1),
            }
        }
        match (decision, customer) {
            (Decision::Queue, Ok(_)) => {
                let body = body.as_deref().unwrap_or_default();
                staging.queue(
                    id,
                    modified_ms.unwrap_or_default(),
                    body,
                    hash.filter(|_| by_content),
                )?;
                staged.new += 1;
            }
            (Decision::Reject, Err(rejection)) => {
                staging.reject(
                    id,
                    modified_ms,
                    &rejection.to_string(),
                    hash.unwrap_or_default(),
                )?;
                staged.rejected += 1;
                *staged.rejections.entry(rejection.to_string()).or_default() += 1;
                warn!(id, at = %raw.location, "customer rejected: {rejection}");
            }
            (Decision::ChangedUpstream, _) => {
                if self.updates && body.is_none() {
                    warn!(id, at = %raw.location, "changed customer not sent as an update: it is now invalid");
                }
                staging.changed_upstream(
                    id,
                    modified_ms.unwrap_or_default(),
                    body.as_deref(),
                    hash.filter(|_| by_content),
                    self.updates,
                )?;
                staged.changed_upstream += 1;
                debug!(id, "customer changed upstream after it was created");
            }
            _ => {}
        }
        Ok(())
    }
}

fn body_of(customer: &Customer) -> Result<String, StoreError> {
    serde_json::to_string(customer).map_err(|e| StoreError::Serialize(e.to_string()))
}

/// What sending came to.
#[derive(Debug, Default)]
struct SendCounts {
    created: u64,
    exists: u64,
    updated: u64,
    rejected: u64,
    failed: u64,
    /// Records in a row that exhausted their retries.
    exhausted_in_a_row: u32,
    requests: RequestCounts,
    stop: Option<StopReason>,
}

/// What a send holds: its place among the requests in flight, and among the records sent whose
/// answer is not yet committed; the writer gives that one back after its commit.
struct Slot {
    _in_flight: OwnedSemaphorePermit,
    sent: OwnedSemaphorePermit,
}

/// A send's result on its way to the store.
struct Unrecorded {
    record: SendRecord,
    sent: OwnedSemaphorePermit,
}

/// What every in-flight send shares.
struct Sender {
    pass: i64,
    progress: Arc<Progress>,
    client: BlueTapeClient,
    retry: RetrySection,
    pacer: Pacer,
    results: mpsc::Sender<Unrecorded>,
    counts: Mutex<SendCounts>,
    stop: watch::Sender<bool>,
}

impl Sender {
    fn counts(&self) -> std::sync::MutexGuard<'_, SendCounts> {
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn stopped(&self) -> bool {
        *self.stop.borrow()
    }

    /// The first reason to stop wins; nothing new starts after it.
    fn stop(&self, reason: StopReason) {
        let mut counts = self.counts();
        if counts.stop.is_none() {
            match &reason {
                StopReason::Shutdown => {
                    info!("stopping: no new requests, waiting for those in flight")
                }
                other => warn!("stopping the pass: {other}"),
            }
            counts.stop = Some(reason);
        }
        drop(counts);
        self.stop.send_replace(true);
    }

    /// Counts an answer that shows the API works.
    fn answered(&self, count: impl FnOnce(&mut SendCounts)) {
        let mut c = self.counts();
        count(&mut c);
        c.exhausted_in_a_row = 0;
    }

    /// Sends one record until it is answered, retries run out, or the pass stops.
    async fn send(self: Arc<Self>, queued: Queued, slot: Slot) {
        let id = queued.id.as_str();
        let mut stop = self.stop.subscribe();
        let mut attempts = 0u32;
        let mut last_status = None;
        let mut last_reason = String::new();
        let mut history = Vec::new();
        // An update whose customer is gone from BlueTape becomes a create.
        let mut update = queued.update;
        let update_body = match update.then(|| Customer::update_body_of(&queued.body)) {
            None => String::new(),
            Some(Ok(body)) => body,
            Some(Err(e)) => {
                let reason = format!(
                    "the store's copy of this customer cannot be read ({e}): it is sent again \
                     once the accounting system changes it"
                );
                warn!(id, "changed customer not sent as an update: {reason}");
                let result = SendResult::Rejected { reason };
                self.record(&queued, 0, None, result, history, slot).await;
                return;
            }
        };
        loop {
            if !self.stopped() {
                tokio::select! {
                    () = self.pacer.ready() => {}
                    _ = stop.wait_for(|s| *s) => {}
                }
            }
            if self.stopped() {
                if attempts > 0 {
                    let result = SendResult::Unfinished {
                        reason: last_reason,
                    };
                    self.record(&queued, attempts, last_status, result, history, slot)
                        .await;
                }
                return;
            }
            attempts += 1;
            let answer = if update {
                self.client.update(id, update_body.clone()).await
            } else {
                self.client.create(queued.body.clone()).await
            };
            last_status = answer.status.or(last_status);
            self.counts().requests.count(answer.status);
            history.push(Attempt {
                at_ms: now_ms(),
                status: answer.status,
                outcome: answer.outcome.label(),
                reason: answer.outcome.reason().map(redact),
            });
            let result = match answer.outcome {
                Outcome::Created {
                    blue_tape_id,
                    sign_up_url,
                } => {
                    self.answered(|c| c.created += 1);
                    debug!(id, "customer created");
                    SendResult::Created {
                        blue_tape_id,
                        sign_up_url,
                    }
                }
                Outcome::Exists => {
                    self.answered(|c| c.exists += 1);
                    debug!(id, "customer already in BlueTape");
                    SendResult::Exists
                }
                Outcome::Updated { blue_tape_id } => {
                    self.answered(|c| c.updated += 1);
                    debug!(id, "customer updated");
                    SendResult::Updated { blue_tape_id }
                }
                Outcome::Rejected { reason } => {
                    self.answered(|c| c.rejected += 1);
                    warn!(id, "customer rejected by BlueTape: {}", redact(&reason));
                    SendResult::Rejected { reason }
                }
                Outcome::Unauthorized { reason } => {
                    self.stop(StopReason::Unauthorized(reason));
                    return;
                }
                Outcome::NotFound { .. } if update => {
                    info!(id, "customer no longer in BlueTape: creating it again");
                    update = false;
                    attempts -= 1;
                    continue;
                }
                Outcome::NotFound { reason } => {
                    self.stop(StopReason::EndpointNotFound(reason));
                    return;
                }
                Outcome::Redirected { reason } => {
                    self.stop(StopReason::Redirected(reason));
                    return;
                }
                Outcome::Retry { reason, after } => {
                    let reason = redact(&reason);
                    let expected = answer
                        .status
                        .is_none_or(|s| matches!(s, 408 | 429 | 500..=599));
                    if !expected {
                        warn!(
                            id,
                            "unexpected answer from BlueTape, treated as transient: {reason}"
                        );
                    }
                    let wait = match after {
                        Some(after) => {
                            // The server asked everyone to wait: hold the whole pass.
                            let after = after.min(self.retry.max_backoff);
                            self.pacer.hold_until(tokio::time::Instant::now() + after);
                            after
                        }
                        None => {
                            backoff(attempts, self.retry.initial_backoff, self.retry.max_backoff)
                        }
                    };
                    if attempts < self.retry.max_attempts {
                        debug!(
                            id,
                            attempt = attempts,
                            "transient failure ({reason}), retrying in {wait:?}"
                        );
                        self.counts().requests.retried += 1;
                        last_reason = reason;
                        tokio::select! {
                            () = tokio::time::sleep(wait) => {}
                            _ = stop.wait_for(|s| *s) => {}
                        }
                        continue;
                    }
                    warn!(
                        id,
                        attempts, "customer failed after {attempts} attempts: {reason}"
                    );
                    let give_up = {
                        let mut c = self.counts();
                        c.failed += 1;
                        c.exhausted_in_a_row += 1;
                        c.exhausted_in_a_row >= self.retry.stop_after
                    };
                    if give_up {
                        self.stop(StopReason::Unavailable(reason.clone()));
                    }
                    let wait_ms =
                        i64::try_from(self.retry.max_backoff.as_millis()).unwrap_or(i64::MAX / 2);
                    SendResult::Failed {
                        reason,
                        next_attempt_ms: now_ms().saturating_add(wait_ms),
                    }
                }
            };
            self.record(&queued, attempts, last_status, result, history, slot)
                .await;
            return;
        }
    }

    async fn record(
        &self,
        queued: &Queued,
        attempts: u32,
        last_status: Option<u16>,
        result: SendResult,
        history: Vec<Attempt>,
        slot: Slot,
    ) {
        let record = SendRecord {
            id: queued.id.clone(),
            pass: self.pass,
            history,
            update: queued.update,
            attempts,
            last_status,
            at_ms: now_ms(),
            result,
        };
        self.progress.sent_one();
        let unrecorded = Unrecorded {
            record,
            sent: slot.sent,
        };
        if self.results.send(unrecorded).await.is_err() {
            // The writer returns its error at the end of the pass; send nothing more.
            self.stop(StopReason::StoreFailed);
        }
    }
}

/// Hides what looks like an email or phone number in a server's message before it is logged.
fn redact(message: &str) -> String {
    message
        .split(' ')
        .map(|word| {
            let digits = word.bytes().filter(u8::is_ascii_digit).count();
            if word.contains('@') || digits >= 7 {
                "***"
            } else {
                word
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Sends the queue with `api.concurrency` in flight; results are recorded by a writer thread
/// as they arrive, in group commits.
async fn send_queue(
    pass: i64,
    store: &mut Store,
    config: &Config,
    client: BlueTapeClient,
    progress: &Arc<Progress>,
    shutdown: impl Future<Output = ()>,
) -> Result<SendCounts, PassError> {
    let source = config.source.name.clone();
    let queue = store.queue_counts(&source)?;
    progress.sending(queue.pending + queue.failed);
    let concurrency = config.api.concurrency;
    // After a crash at most 2 x concurrency records may be sent again (SPEC §4): no record
    // starts while that many were sent and their answers are not committed.
    let unrecorded = Arc::new(Semaphore::new(2 * concurrency));
    let (results_tx, results_rx) = mpsc::channel::<Unrecorded>(2 * concurrency);
    let writer = spawn_writer(store.path().to_owned(), source.clone(), results_rx);
    let (stop, _) = watch::channel(false);
    let sender = Arc::new(Sender {
        pass,
        progress: Arc::clone(progress),
        client,
        retry: config.retry.clone(),
        pacer: Pacer::new(config.api.max_requests_per_second),
        results: results_tx,
        counts: Mutex::new(SendCounts::default()),
        stop,
    });
    let permits = Arc::new(Semaphore::new(concurrency));
    let mut tasks = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    let mut shutdown_seen = false;
    let mut cursor = QueueCursor::new(now_ms(), config.sync.updates);

    'queue: loop {
        let page = store.next_queue_page(&source, &mut cursor, 256)?;
        if page.is_empty() {
            break;
        }
        for queued in page {
            let slot = async {
                let sent = unrecorded.clone().acquire_owned().await?;
                let in_flight = permits.clone().acquire_owned().await?;
                Ok::<_, tokio::sync::AcquireError>(Slot {
                    _in_flight: in_flight,
                    sent,
                })
            };
            let slot = tokio::select! {
                slot = slot => slot.map_err(|e| PassError::Internal(e.to_string()))?,
                () = &mut shutdown, if !shutdown_seen => {
                    shutdown_seen = true;
                    sender.stop(StopReason::Shutdown);
                    break 'queue;
                }
            };
            if sender.stopped() {
                break 'queue;
            }
            tasks.spawn(sender.clone().send(queued, slot));
            while let Some(done) = tasks.try_join_next() {
                if let Err(e) = done {
                    error!("a send task failed: {e}");
                }
            }
        }
    }
    loop {
        tokio::select! {
            done = tasks.join_next() => match done {
                None => break,
                Some(Err(e)) => error!("a send task failed: {e}"),
                Some(Ok(())) => {}
            },
            () = &mut shutdown, if !shutdown_seen => {
                shutdown_seen = true;
                sender.stop(StopReason::Shutdown);
            }
        }
    }
    let counts = std::mem::take(&mut *sender.counts());
    drop(sender);
    writer
        .await
        .map_err(|e| PassError::Internal(e.to_string()))??;
    Ok(counts)
}

/// The one writer of send results: drains what has arrived and commits it together.
fn spawn_writer(
    path: std::path::PathBuf,
    source: String,
    mut results: mpsc::Receiver<Unrecorded>,
) -> tokio::task::JoinHandle<Result<(), StoreError>> {
    tokio::task::spawn_blocking(move || {
        let mut store = Store::open(&path)?;
        let mut batch = Vec::new();
        let mut slots = Vec::new();
        while let Some(first) = results.blocking_recv() {
            let mut take = |unrecorded: Unrecorded| {
                batch.push(unrecorded.record);
                slots.push(unrecorded.sent);
            };
            take(first);
            while let Ok(more) = results.try_recv() {
                take(more);
            }
            store.record_results(&source, &batch)?;
            // Committed: these records can no longer be sent twice.
            batch.clear();
            slots.clear();
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_hides_emails_and_numbers() {
        assert_eq!(
            redact("400: email ada@example.com or phone +16265550100 invalid"),
            "400: email *** or phone *** invalid"
        );
        assert_eq!(redact("503 Service Unavailable"), "503 Service Unavailable");
    }
}
