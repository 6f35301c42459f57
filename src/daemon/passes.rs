//! The daemon's passes: at most one runs; a tick while one runs starts nothing (logged once a
//! pass, counted on it); a change to an export starts one once it has been quiet for its
//! `settle` (a burst of writes, one pass), and one seen during a pass starts one more after it.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tracing::{error, info, warn};

use super::metrics::Metrics;
use super::{DaemonConfig, notify};
use crate::pass::config::PassConfig;
use crate::pass::{PassError, PassOptions, PassReport, run_pass};
use crate::store::Store;

/// The shortest quiet time before a change starts a pass, so that a burst of writes (even with
/// `source.settle = "0s"`) starts one pass.
const MIN_QUIET: Duration = Duration::from_millis(100);

/// A pass has ended: its number, and when a file it left (still being written) will have
/// settled.
pub(super) type Finished = (u64, Option<Duration>);

/// The daemon's passes, and what starts the next.
pub(super) struct Passes {
    config: Arc<DaemonConfig>,
    options: PassOptions,
    metrics: Arc<Metrics>,
    stop: watch::Receiver<bool>,
    done: mpsc::Sender<Finished>,
    /// Each pass's number, so that its end is told from an earlier one's.
    started: u64,
    running: Option<JoinHandle<()>>,
    /// The pass during which a tick was last skipped.
    skipped_during: u64,
    /// When a change has been quiet long enough to start a pass.
    due: Option<Instant>,
    /// A change seen during the running pass: one more pass after it.
    again: bool,
    /// How long an export must be quiet after a change: the longest `settle`.
    quiet: Duration,
}

impl Passes {
    pub(super) fn new(
        config: Arc<DaemonConfig>,
        options: PassOptions,
        metrics: Arc<Metrics>,
        stop: watch::Receiver<bool>,
        done: mpsc::Sender<Finished>,
    ) -> Self {
        let quiet = (config.pass.exports().map(|export| export.settle))
            .max()
            .unwrap_or_default()
            .max(MIN_QUIET);
        Self {
            config,
            options,
            metrics,
            stop,
            done,
            started: 0,
            running: None,
            skipped_during: 0,
            due: None,
            again: false,
            quiet,
        }
    }

    fn is_running(&self) -> bool {
        self.running.as_ref().is_some_and(|p| !p.is_finished())
    }

    /// Starts the next pass.
    pub(super) fn start(&mut self) {
        self.started += 1;
        self.running = Some(start_pass(
            self.started,
            &self.config,
            self.options,
            &self.metrics,
            &self.stop,
            &self.done,
        ));
    }

    /// The schedule's tick: a pass, unless one is running.
    pub(super) fn tick(&mut self) {
        if !self.is_running() {
            return self.start();
        }
        // One line per running pass; later ticks are only counted on it.
        if std::mem::replace(&mut self.skipped_during, self.started) != self.started {
            warn!(
                "a scheduled pass is due but the previous one is still running: skipped (ticks \
                 skipped during this pass are counted in status)"
            );
        }
        count_skipped(&self.config.pass);
        self.metrics.outcome("skipped");
    }

    /// An export changed: a pass once it has been quiet for its `settle`.
    pub(super) fn changed(&mut self) {
        self.due = Some(Instant::now() + self.quiet);
    }

    /// A pass as soon as none runs (a folder appeared: what is in it is read).
    pub(super) fn read_now(&mut self) {
        self.due = Some(Instant::now());
    }

    pub(super) fn is_settling(&self) -> bool {
        self.due.is_some()
    }

    /// Resolves when a change has settled.
    pub(super) async fn settling(&self) {
        tokio::time::sleep_until(self.due.unwrap_or_else(Instant::now)).await;
    }

    /// A change has settled: a pass now, or after the running one.
    pub(super) fn settled(&mut self) {
        self.due = None;
        if self.is_running() {
            self.again = true;
        } else {
            info!("the export changed and has settled: a pass starts");
            self.start();
        }
    }

    /// A pass ended. True when nothing follows it until the schedule's next tick.
    pub(super) fn finished(&mut self, (pass, settles_in): Finished, watching: bool) -> bool {
        // The end of an earlier pass, heard after the next one started (a pass may start once
        // the last one's task has finished, before its end is heard here): the running one
        // stays running.
        if pass != self.started {
            return false;
        }
        self.running = None;
        // A file left because it was still being written: a pass once it has settled.
        if let Some(left) = settles_in.filter(|_| watching) {
            self.due = Some(Instant::now() + left.max(MIN_QUIET));
        }
        if std::mem::take(&mut self.again) {
            info!("the export changed during the last pass: a pass starts");
            self.start();
            return false;
        }
        true
    }

    /// Stopping: the running pass finishes the requests it has in flight.
    pub(super) async fn stopped(self) {
        if let Some(pass) = self.running {
            let _ = pass.await;
        }
    }
}

fn start_pass(
    number: u64,
    config: &Arc<DaemonConfig>,
    options: PassOptions,
    metrics: &Arc<Metrics>,
    stop: &watch::Receiver<bool>,
    done: &mpsc::Sender<(u64, Option<Duration>)>,
) -> JoinHandle<()> {
    let config = Arc::clone(config);
    let metrics = Arc::clone(metrics);
    let mut stop = stop.clone();
    let done = done.clone();
    tokio::spawn(async move {
        let shutdown = async move {
            let _ = stop.wait_for(|s| *s).await;
        };
        let result = run_pass(&config.pass, options, shutdown).await;
        match &result {
            Ok(report) => metrics.pass(report),
            Err(_) => metrics.outcome("error"),
        }
        report(&result);
        let settles_in = result.as_ref().ok().and_then(PassReport::settles_in);
        let _ = done.send((number, settles_in)).await;
    })
}

fn report(result: &Result<PassReport, PassError>) {
    match result {
        Ok(report) => {
            let status = format!("last pass {}: {}", report.outcome(), report.summary());
            notify(&[sd_notify::NotifyState::Status(&status)]);
            if let Some(problem) = report.problem() {
                warn!("{problem}");
            }
        }
        Err(e) => {
            let status = format!("last pass failed: {e}");
            notify(&[sd_notify::NotifyState::Status(&status)]);
            error!("pass failed: {e}");
        }
    }
}

fn count_skipped(config: &PassConfig) {
    if let Err(e) = Store::open(&config.store_path)
        .and_then(|store| store.count_skipped_tick(&config.source.name))
    {
        error!("cannot count the skipped tick: {e}");
    }
}
