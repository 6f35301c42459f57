//! One pass (SPEC §4, §5): the export is staged (source -> record -> diff -> store), then the
//! queue is sent (store -> client -> store) with the rate, the concurrency and the retries.
//! `run --once` and the daemon both call [`run_pass`].

mod api;
pub mod config;
mod ids;
mod lane;
mod notices;
pub mod pace;
mod prepare;
mod preview;
pub mod progress;
mod rekey;
mod report;
mod retry;
mod send;
mod stage;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use tracing::{info, warn};

use self::config::PassConfig;
use self::progress::{Progress, Reporter};
use crate::client::BlueTapeClient;
use crate::source;
use crate::source::config::SourceConfig;
use crate::source::timestamp::{duration_ms, now_ms};
use crate::store::{Store, StoreError};

pub use self::api::LinkUse;
use self::lane::Lane;
pub use self::lane::{CUSTOMERS, INVOICES};
use self::preview::dry_run;
pub use self::preview::inspect;
pub use self::report::{LaneReport, PassOutcome, PassReport, RequestCounts, StopReason};
use self::send::{SendCounts, send_queue};
pub use self::stage::Staged;
use self::stage::{StageMode, StageResult, stage};

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
    /// Ids now read from another field than the store's records were sent with: send under
    /// the new ids (`--accept-new-ids`), instead of stopping.
    pub accept_new_ids: bool,
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
    /// The store refused the answers of a pass that was sending.
    #[error("{}", results_not_kept(error, *kept, *unkept))]
    ResultsNotKept {
        error: StoreError,
        /// Records sent in this pass whose answer is in the store.
        kept: u64,
        /// Records sent whose answer is not: they may be sent again (and answered 409).
        unkept: u64,
    },
    #[error(
        "{what} ids are now read from `{new}` ({key}), but this store's {what}s were sent with \
         ids from `{old}`: a pass would send every {what} again under new ids, creating each \
         twice in BlueTape; nothing was read or sent. Set {key} back to `{old}`, or if the new \
         ids are the ones BlueTape should have, run `bluetape-sync run --once --accept-new-ids` \
         once"
    )]
    IdFieldChanged {
        what: &'static str,
        key: String,
        old: String,
        new: String,
    },
    /// A move to an API's ids found stored records no record of the API matches (exit 78).
    #[error(
        "stored {what}s that match no record of the API by {by}: {count} (the first: {ids}); \
         nothing was staged or sent, so that none is created twice under a new id. If they are \
         gone from the accounting system, run `bluetape-sync run --once --accept-new-ids` once \
         to move the rest"
    )]
    MoveUnmatched {
        what: &'static str,
        count: u64,
        ids: String,
        by: &'static str,
    },
    /// `from = "api"` without a link: `connect` makes one.
    #[error("{} is not connected: run bluetape-sync connect {}", provider.system(), provider.name())]
    NotConnected { provider: crate::provider::Provider },
    /// The provider's app cannot be used (its client secret).
    #[error("{detail}")]
    Provider { detail: String },
    /// Reading the accounting system's API stopped; nothing was staged.
    #[error(transparent)]
    Fetch(crate::provider::fetch::FetchError),
    #[error("internal error: {0}")]
    Internal(String),
}

/// What is kept and what may be sent again when the store refuses a pass's answers.
fn results_not_kept(error: &StoreError, kept: u64, unkept: u64) -> String {
    let what = format!(
        "the results of {kept} requests were kept; up to {unkept} may be sent again (BlueTape \
         answers 409 `exists`; their sign-up URLs come with `export --fetch-missing`)"
    );
    match error.is_disk_full() {
        true => format!(
            "disk full: {what}: free space for {} and run again",
            error.store_path().display()
        ),
        false => format!("{error}: {what}"),
    }
}

/// Whether every kind's ids are read from the field its stored records were sent with
/// ([`PassError::IdFieldChanged`] if not). Changes nothing.
pub fn check_id_fields(store: &Store, config: &PassConfig) -> Result<(), PassError> {
    ids::IdFields::of(config).check(store)
}

/// Runs one pass. `shutdown` resolving stops it gracefully: no new request starts, answers to
/// requests already sent are recorded, the rest stays queued. The caller holds the store's
/// instance lock (a dry run changes nothing and needs none).
///
/// The lanes run in order: customers first, then invoices (SPEC §9), each
/// staged, then held for what it follows, then sent.
pub async fn run_pass(
    config: &PassConfig,
    options: PassOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<PassReport, PassError> {
    let started = Instant::now();
    let mut shutdown = std::pin::pin!(shutdown);
    if options.wait_to_settle {
        // An API's change set is written by the pass itself: nothing to wait for.
        for export in config.exports().filter(|e| !e.from_api) {
            wait_to_settle(export, shutdown.as_mut()).await?;
        }
    }
    let lanes = Lane::all(config);
    let client = BlueTapeClient::new(&config.api)?;
    let endpoint = client.create_url().to_string();

    if options.dry_run {
        return dry_run(config, &lanes, options, started, endpoint).await;
    }

    let mut store = Store::open(&config.store_path)?;
    let kept = ids::IdFields::of(config).keep(&store, options.accept_new_ids)?;
    let options = PassOptions {
        full: options.full || kept.full,
        ..options
    };
    let pass = store.begin_pass(&config.source.name, options.full, now_ms())?;
    let source = match (&config.provider, config.source.from_api) {
        (Some(provider), true) => format!("{} API", provider.provider.system()),
        _ => config.source.path.display().to_string(),
    };
    info!(pass, source, full = options.full, "pass started");

    let progress = Progress::new();
    let _reporter = Reporter::start(Arc::clone(&progress), options.progress_bar);
    let run = Run {
        config,
        pass,
        options,
        progress,
        client,
        kept: AtomicU64::new(0),
        moving: kept.moving,
    };
    let mut report = PassReport {
        lanes: Vec::with_capacity(lanes.len()),
        stop: None,
        dry_run: false,
        duration: started.elapsed(),
        endpoint,
        requests: RequestCounts::default(),
    };
    // Lane by lane: staged, then what must hold before sending, then sent, unless an
    // earlier lane's sending stopped the pass (a refused key, an unreachable API, a
    // signal): then its records stay queued.
    for lane in &lanes {
        let staged;
        (store, staged) = run.stage(store, lane).await?;
        let mut done = LaneReport::staged(lane.kind, staged.staged, staged.source_error);
        (lane.rules()).before_sending(&mut store, lane, pass, now_ms())?;
        if report.stop.is_none() {
            let sent = run.send(&mut store, lane, shutdown.as_mut()).await?;
            done.counts += sent.counts;
            report.requests += sent.requests;
            report.stop = sent.stop;
        }
        let left = store.queue_counts(lane.name())?;
        (done.left_pending, done.left_failed, done.waiting) =
            (left.pending, left.failed, left.waiting);
        report.lanes.push(done);
    }
    report.duration = started.elapsed();
    let problem = report.problem();
    let counts: Vec<_> = (report.lanes.iter())
        .map(|l| (l.kind, l.kept_counts()))
        .collect();
    store.finish_pass(
        pass,
        report.outcome().label(),
        &counts,
        problem.as_deref(),
        now_ms(),
    )?;
    if let Some(rest) = run.progress.notices.rest() {
        warn!("{rest}");
    }
    if let Err(e) = store.prune_history(now_ms().saturating_sub(duration_ms(config.keep_history))) {
        warn!("cannot prune the store's history (store.keep_history): {e}");
    }
    info!(
        pass,
        outcome = report.outcome().label(),
        "pass finished: {}",
        report.summary()
    );
    Ok(report)
}

/// One real pass's parts, run lane by lane.
struct Run<'a> {
    config: &'a PassConfig,
    pass: i64,
    options: PassOptions,
    progress: Arc<Progress>,
    client: BlueTapeClient,
    /// Sent records whose answers the store kept, in the lanes sent so far.
    kept: AtomicU64,
    /// A kind whose stored records move to an API's ids this pass.
    moving: Option<ids::Moving>,
}

impl Run<'_> {
    /// Stages one lane's export off the async threads.
    async fn stage(&self, store: Store, lane: &Lane) -> Result<(Store, StageResult), PassError> {
        // An export read from an API is fetched into a spool first, then staged from it.
        let (mut store, spooled, spool) = match lane.source.from_api {
            true => {
                let fetched = api::fetch_lane(self.config, store, lane, self.options.full).await;
                let (store, spooled, spool) = fetched.map_err(|e| self.ended_by(e))?;
                let store = self.apply_ids(store, lane, &spool).await?;
                (store, spooled, Some(spool))
            }
            false => (store, lane.clone(), None),
        };
        let (pass, options) = (self.pass, self.options);
        let progress = Arc::clone(&self.progress);
        let (store, staged) = blocking(move || {
            let staged = stage(
                &mut store,
                &spooled,
                pass,
                options,
                StageMode::Commit,
                &progress,
            );
            (store, staged)
        })
        .await?;
        let staged = staged?;
        if let Some(spool) = spool
            && staged.source_error.is_none()
        {
            spool.staged(&store, lane)?;
        }
        Ok((store, staged))
    }

    /// The ids of records read from an API, where they move from an export's (the first
    /// pass after the move matches them) or moved before: the stored ids BlueTape knows.
    async fn apply_ids(
        &self,
        mut store: Store,
        lane: &Lane,
        spool: &api::Spool,
    ) -> Result<Store, PassError> {
        let moving = (self.moving.clone()).filter(|m| m.name == lane.name());
        let (lane, path) = (lane.clone(), spool.path().to_owned());
        let customers = self.config.source.name.clone();
        let accept = self.options.accept_new_ids;
        let (store, done) = blocking(move || {
            let done = match &moving {
                Some(moving) => rekey::rekey(&mut store, &lane, &path, moving, accept),
                None => Ok(()),
            }
            .and_then(|()| rekey::apply_aliases(&store, &lane, &customers, &path));
            (store, done)
        })
        .await?;
        done.map_err(|e| self.ended_by(e))?;
        Ok(store)
    }

    /// Keeps a pass that a failed API read ended in the history, with why, instead of
    /// leaving it `running`; the error goes on.
    fn ended_by(&self, error: PassError) -> PassError {
        use crate::provider::fetch::FetchError;
        let outcome = match &error {
            PassError::Fetch(FetchError::Unauthorized { .. } | FetchError::Expired { .. }) => {
                PassOutcome::Unauthorized
            }
            PassError::Fetch(FetchError::DayBudget { .. } | FetchError::Unavailable { .. }) => {
                PassOutcome::Unavailable
            }
            _ => PassOutcome::SourceError,
        };
        let kept = Store::open(&self.config.store_path).and_then(|mut store| {
            let message = error.to_string();
            store.finish_pass(self.pass, outcome.label(), &[], Some(&message), now_ms())
        });
        if let Err(e) = kept {
            warn!("cannot keep the pass's end in the store's history: {e}");
        }
        error
    }

    async fn send(
        &self,
        store: &mut Store,
        lane: &Lane,
        shutdown: impl Future<Output = ()>,
    ) -> Result<SendCounts, PassError> {
        let sent = send_queue(
            self.pass,
            store,
            self.config,
            lane,
            self.client.clone(),
            &self.progress,
            shutdown,
        )
        .await;
        // What the store kept is told for the whole pass, every lane so far.
        match sent {
            Ok(counts) => {
                self.kept.fetch_add(counts.kept, Ordering::Relaxed);
                Ok(counts)
            }
            Err(PassError::ResultsNotKept {
                error,
                kept,
                unkept,
            }) => Err(PassError::ResultsNotKept {
                error,
                kept: kept + self.kept.load(Ordering::Relaxed),
                unkept,
            }),
            Err(e) => Err(e),
        }
    }
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
pub(super) async fn wait_to_settle(
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
