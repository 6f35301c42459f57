//! One pass (SPEC §4, §5): the export is staged (source -> record -> diff -> store), then the
//! queue is sent (store -> client -> store) with the rate, the concurrency and the retries.
//! `run --once` and the daemon both call [`run_pass`].

pub mod config;
mod lane;
pub mod pace;
mod prepare;
pub mod progress;
mod report;
mod retry;
mod send;
mod stage;

use std::collections::HashSet;
use std::future::Future;
use std::io::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tracing::info;

use self::config::PassConfig;
use self::progress::{Progress, Reporter};
use crate::client::BlueTapeClient;
use crate::record::timestamp::now_ms;
use crate::source::config::SourceConfig;
use crate::source::{self, SourceError};
use crate::store::{Store, StoreError};

use self::lane::Lane;
pub use self::report::{InvoiceReport, PassOutcome, PassReport, RequestCounts, StopReason};
use self::send::send_queue;
pub use self::stage::Staged;
use self::stage::{DryHold, StageMode, StageResult, stage};

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
    /// Show progress as a bar (a terminal showing text logs) instead of a line every 10 s.
    pub progress_bar: bool,
}

/// How many times `source.settle` a pass that waits for the export gives it to settle.
pub const SETTLE_WAITS: u32 = 12;

/// A pass that could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum PassError {
    #[error(transparent)]
    Store(#[from] StoreError),
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

/// Runs one pass. `shutdown` resolving stops it gracefully: no new request starts, answers to
/// requests already sent are recorded, the rest stays queued. The caller holds the store's
/// instance lock (a dry run changes nothing and needs none).
///
/// Customers go first (staged, then sent); invoices after them (SPEC §9): staged, held while
/// their customer is not in BlueTape, then sent, unless sending customers stopped the pass.
pub async fn run_pass(
    config: &PassConfig,
    options: PassOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<PassReport, PassError> {
    let started = Instant::now();
    let mut shutdown = std::pin::pin!(shutdown);
    if options.wait_to_settle {
        wait_to_settle(&config.source, shutdown.as_mut()).await?;
        if let Some(invoices) = &config.invoices {
            wait_to_settle(&invoices.source, shutdown.as_mut()).await?;
        }
    }
    let customers = Lane::customers(config);
    let invoices = config.invoices.as_ref().map(Lane::invoices);
    let client = BlueTapeClient::new(&config.api)?;
    let endpoint = client.create_url().to_string();

    if options.dry_run {
        return dry_run(config, customers, invoices, options, started, endpoint).await;
    }

    let store = Store::open(&config.store_path)?;
    let pass = store.begin_pass(customers.name(), options.full, now_ms())?;
    info!(pass, source = %config.source.path.display(), full = options.full, "pass started");

    let progress = Progress::new();
    let _reporter = Reporter::start(Arc::clone(&progress), options.progress_bar);
    let (mut store, staged) = stage_lane(store, &customers, pass, options, &progress).await?;
    let StageResult {
        staged,
        source_error,
    } = staged?;
    let sent = send_queue(
        pass,
        &mut store,
        config,
        &customers,
        client.clone(),
        &progress,
        shutdown.as_mut(),
    )
    .await?;
    let left = store.queue_counts(customers.name())?;
    let mut report = PassReport {
        counts: staged.counts + sent.counts,
        skipped: staged.skipped,
        settles_in: staged.settles_in,
        left_pending: left.pending,
        left_failed: left.failed,
        stop: sent.stop,
        source_error,
        dry_run: false,
        would_send: 0,
        duration: started.elapsed(),
        endpoint,
        requests: sent.requests,
        invoices: None,
    };
    if let Some(lane) = &invoices {
        let (store_back, staged) = stage_lane(store, lane, pass, options, &progress).await?;
        store = store_back;
        let StageResult {
            staged,
            source_error,
        } = staged?;
        if report.source_error.is_none() {
            report.source_error = source_error;
        }
        report.settles_in = report.settles_in.max(staged.settles_in);
        let hold = store.hold_for_customers(lane.name(), customers.name(), pass, now_ms())?;
        if hold.held + hold.released > 0 {
            info!(
                held = hold.held,
                released = hold.released,
                "invoices held for their customers"
            );
        }
        let mut counts = staged.counts;
        // Sending customers stopped the pass (a refused key, an unreachable API, a signal):
        // the invoices stay queued for the next.
        if report.stop.is_none() {
            let sent = send_queue(
                pass,
                &mut store,
                config,
                lane,
                client,
                &progress,
                shutdown.as_mut(),
            )
            .await?;
            counts += sent.counts;
            report.requests += sent.requests;
            report.stop = sent.stop;
        }
        let left = store.queue_counts(lane.name())?;
        report.invoices = Some(InvoiceReport {
            counts,
            skipped: staged.skipped,
            left_pending: left.pending,
            left_failed: left.failed,
            waiting: left.waiting,
            would_send: 0,
        });
    }
    report.duration = started.elapsed();
    let problem = report.problem();
    store.finish_pass(
        pass,
        report.outcome().label(),
        &report.counts,
        report
            .invoices
            .as_ref()
            .map(InvoiceReport::kept_counts)
            .as_ref(),
        problem.as_deref(),
        now_ms(),
    )?;
    info!(
        pass,
        outcome = report.outcome().label(),
        "pass finished: {}",
        report.summary()
    );
    Ok(report)
}

/// Stages one lane's export off the async threads.
async fn stage_lane(
    mut store: Store,
    lane: &Lane,
    pass: i64,
    options: PassOptions,
    progress: &Arc<Progress>,
) -> Result<(Store, Result<StageResult, StoreError>), PassError> {
    let lane = lane.clone();
    let progress = Arc::clone(progress);
    blocking(move || {
        let staged = stage(
            &mut store,
            &lane,
            pass,
            options,
            StageMode::Commit,
            &progress,
        );
        (store, staged)
    })
    .await
}

/// Runs staging's blocking work (SQLite, the export's files) off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, PassError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| PassError::Internal(e.to_string()))
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
/// With `[invoices]`, [`Staged::would_send_ids`] lists every customer a pass would send.
pub async fn inspect(config: &PassConfig) -> Result<(Staged, Option<SourceError>), PassError> {
    let keep_ids = config.invoices.is_some();
    inspect_lane(config, Lane::customers(config), keep_ids).await
}

/// [`inspect`] for the invoice export; `None` without `[invoices]`.
pub async fn inspect_invoices(
    config: &PassConfig,
) -> Result<Option<(Staged, Option<SourceError>)>, PassError> {
    match &config.invoices {
        Some(invoices) => Ok(Some(
            inspect_lane(config, Lane::invoices(invoices), false).await?,
        )),
        None => Ok(None),
    }
}

async fn inspect_lane(
    config: &PassConfig,
    lane: Lane,
    keep_ids: bool,
) -> Result<(Staged, Option<SourceError>), PassError> {
    let path = config.store_path.clone();
    let result = blocking(move || -> Result<_, PassError> {
        let mut store = Store::open_or_temporary(&path)?;
        let options = PassOptions::default();
        Ok(stage(
            &mut store,
            &lane,
            0,
            options,
            StageMode::Inspect { keep_ids },
            &Progress::new(),
        )?)
    })
    .await??;
    Ok((result.staged, result.source_error))
}

/// Stages in a transaction that is rolled back, and lists what a real pass would send.
async fn dry_run(
    config: &PassConfig,
    customers: Lane,
    invoices: Option<Lane>,
    options: PassOptions,
    started: Instant,
    endpoint: String,
) -> Result<PassReport, PassError> {
    let path = config.store_path.clone();
    let result = blocking(move || -> Result<_, PassError> {
        let mut store = Store::open_or_temporary(&path)?;
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        for line in customers.source.describe() {
            let _ = writeln!(out, "{line}");
        }
        // Pass 0 is never a real pass (those count from 1); its staging is rolled back.
        let staged = stage(
            &mut store,
            &customers,
            0,
            options,
            StageMode::DryRun {
                out: &mut out,
                keep_ids: invoices.is_some(),
                hold: None,
            },
            &Progress::new(),
        )?;
        let invoices = match &invoices {
            None => None,
            Some(lane) => {
                for line in lane.source.describe() {
                    let _ = writeln!(out, "{line}");
                }
                // An invoice goes when its customer is in BlueTape, or would be sent first.
                let would_send: HashSet<String> =
                    staged.staged.would_send_ids.iter().cloned().collect();
                let hold = DryHold {
                    customers: customers.name(),
                    would_send: &would_send,
                };
                Some(stage(
                    &mut store,
                    lane,
                    0,
                    options,
                    StageMode::DryRun {
                        out: &mut out,
                        keep_ids: false,
                        hold: Some(&hold),
                    },
                    &Progress::new(),
                )?)
            }
        };
        let _ = out.flush();
        Ok((staged, invoices))
    })
    .await??;
    let (customers, invoices) = result;
    let StageResult {
        staged,
        source_error,
    } = customers;
    let mut report = PassReport {
        counts: staged.counts,
        skipped: staged.skipped,
        settles_in: staged.settles_in,
        left_pending: 0,
        left_failed: 0,
        stop: None,
        source_error,
        dry_run: true,
        would_send: staged.would_send,
        duration: started.elapsed(),
        endpoint,
        requests: RequestCounts::default(),
        invoices: None,
    };
    if let Some(StageResult {
        staged,
        source_error,
    }) = invoices
    {
        if report.source_error.is_none() {
            report.source_error = source_error;
        }
        report.invoices = Some(InvoiceReport {
            counts: staged.counts,
            skipped: staged.skipped,
            waiting: staged.would_wait,
            would_send: staged.would_send,
            ..InvoiceReport::default()
        });
    }
    info!(
        "dry run finished, nothing sent or changed: {}",
        report.summary()
    );
    Ok(report)
}
