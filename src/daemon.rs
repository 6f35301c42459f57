//! `run`: passes on the schedule, for months, under systemd (SPEC §8).
//!
//! tokio-cron-scheduler only tells us when a tick is due; everything that makes a daemon
//! trustworthy is here: a tick starts a pass only when none is running (a skipped tick is
//! logged and recorded), a long pass never stops the schedule, the job is rebuilt when the
//! schedule's time zone changes its UTC offset (the crate fixes the offset when a job is made),
//! 5-field crontab expressions are accepted, and systemd hears READY, STATUS, WATCHDOG and
//! STOPPING.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

pub mod lock;
pub mod metrics;
mod passes;
pub mod schedule;
pub mod watcher;

use chrono::Utc;
use tokio::sync::{mpsc, watch};
use tracing::{error, info, warn};

use self::lock::{InstanceLock, LockError};
use self::metrics::{Metrics, MetricsSection};
use self::passes::{Finished, Passes};
use self::schedule::{Schedule, ScheduleConfig, Tick};
use self::watcher::Watch;
use crate::pass::config::PassConfig;
use crate::pass::{PassError, PassOptions};
use crate::store::{DAEMON_NEXT_PASS, DAEMON_PID, Store, StoreError};

/// Tells systemd (when it is listening) how the daemon is doing.
fn notify(state: &[sd_notify::NotifyState<'_>]) {
    if std::env::var_os("NOTIFY_SOCKET").is_some()
        && let Err(e) = sd_notify::notify(state)
    {
        warn!("cannot notify systemd: {e}");
    }
}

/// What the daemon reads: its own settings, and what each pass reads.
#[derive(Debug)]
pub struct DaemonConfig {
    pub schedule: ScheduleConfig,
    pub metrics: MetricsSection,
    pub pass: PassConfig,
}

/// Why the daemon could not run.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error(transparent)]
    Locked(#[from] LockError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Pass(#[from] PassError),
    #[error("cannot start the schedule: {0}")]
    Schedule(String),
    #[error("cannot listen on metrics.listen {listen}: {error}")]
    Metrics {
        listen: std::net::SocketAddr,
        error: std::io::Error,
    },
}

/// Runs passes on the schedule until `shutdown` resolves. A pass in flight at shutdown stops
/// starting requests, records the answers to those already sent, and ends; the rest stays
/// queued for the next start.
pub async fn run(
    config: DaemonConfig,
    options: PassOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<(), DaemonError> {
    let _lock = InstanceLock::acquire(&config.pass.store_path)?;
    // The id guard before the first pass: a daemon whose mapping would create every record
    // again stops at once (exit 78) rather than fail pass after pass.
    crate::pass::check_id_fields(&Store::open(&config.pass.store_path)?, &config.pass)?;
    let config = Arc::new(config);
    let (tick_tx, mut ticks) = mpsc::channel(16);
    let mut schedule = Schedule::start(&config.schedule, tick_tx)
        .await
        .map_err(|e| DaemonError::Schedule(e.to_string()))?;
    notify(&[
        sd_notify::NotifyState::Ready,
        sd_notify::NotifyState::Status("waiting for the first pass"),
    ]);
    info!(
        cron = %schedule.cron(),
        timezone = %schedule.timezone(),
        store = %config.pass.store_path.display(),
        "daemon started"
    );

    let kinds = (config.pass.exports()).map(|export| (export.kind, export.name.clone()));
    let provider = (config.pass.provider.as_ref()).map(|p| p.provider.name());
    let metrics = Metrics::new(
        config.pass.store_path.clone(),
        kinds.collect(),
        provider,
        config.metrics.unhealthy_after,
    );
    if let Some(listen) = config.metrics.listen {
        metrics::serve(listen, Arc::clone(&metrics))
            .await
            .map_err(|error| DaemonError::Metrics { listen, error })?;
    }
    let (stop_tx, stop_rx) = watch::channel(false);
    let (done_tx, mut done) = mpsc::channel::<Finished>(1);
    let mut shutdown = std::pin::pin!(shutdown);
    // With WatchdogSec= set, ping at half the period.
    let watchdog_period = sd_notify::watchdog_enabled().map(|d| d / 2);
    let mut watchdog = tokio::time::interval(watchdog_period.unwrap_or(Duration::from_secs(3600)));
    let mut zone_check = tokio::time::interval(Duration::from_secs(60));
    let (change_tx, mut changes) = mpsc::channel::<()>(1);
    let mut watch = Watching::new(&config, change_tx);
    let mut folder_check = tokio::time::interval(FOLDER_CHECK);
    let mut passes = Passes::new(Arc::clone(&config), options, metrics, stop_rx, done_tx);
    if config.schedule.run_at_startup {
        passes.start();
    } else {
        log_next(&mut schedule, &config.pass).await;
    }

    loop {
        tokio::select! {
            () = &mut shutdown => break,
            Some(Tick) = ticks.recv() => passes.tick(),
            Some(()) = changes.recv() => passes.changed(),
            () = passes.settling(), if passes.is_settling() => passes.settled(),
            Some(finished) = done.recv() => {
                if passes.finished(finished, watch.on()) {
                    log_next(&mut schedule, &config.pass).await;
                }
            }
            _ = watchdog.tick(), if watchdog_period.is_some() => {
                notify(&[sd_notify::NotifyState::Watchdog]);
            }
            _ = zone_check.tick() => {
                if let Err(e) = schedule.follow_offset(Utc::now()).await {
                    error!("cannot rebuild the schedule: {e}");
                }
            }
            _ = folder_check.tick() => {
                // A folder that appeared (a pass reads what is in it) or went away.
                if watch.check() {
                    passes.read_now();
                }
            }
        }
    }

    notify(&[
        sd_notify::NotifyState::Stopping,
        sd_notify::NotifyState::Status("stopping: finishing requests in flight"),
    ]);
    info!("stopping: no new pass starts");
    let _ = stop_tx.send(true);
    passes.stopped().await;
    let _ = schedule.shutdown().await;
    forget_daemon(&config.pass);
    info!("stopped");
    Ok(())
}

/// How often the daemon looks whether the export's folder appeared or went away.
const FOLDER_CHECK: Duration = Duration::from_secs(5);

/// The watch on each export (customers, and invoices when configured), when `[schedule] watch`
/// is on and its folder can be watched.
struct Watching {
    exports: Vec<(std::path::PathBuf, Option<Watch>)>,
    changes: Option<mpsc::Sender<()>>,
}

impl Watching {
    fn new(config: &DaemonConfig, changes: mpsc::Sender<()>) -> Self {
        if !config.schedule.watch {
            info!("schedule.watch is off: passes run on the schedule alone");
            return Self {
                exports: Vec::new(),
                changes: None,
            };
        }
        // An export read from an API has no file to watch: the schedule reads it.
        let exports = (config.pass.exports())
            .filter(|export| !export.from_api)
            .map(|export| &export.path)
            .map(|path| {
                let watch = Watch::start(path, changes.clone())
                    .inspect_err(|why| {
                        warn!("{why}: passes run on the schedule, and the folder is watched once it can be")
                    })
                    .ok();
                (path.clone(), watch)
            })
            .collect();
        Self {
            exports,
            changes: Some(changes),
        }
    }

    fn on(&self) -> bool {
        self.changes.is_some()
    }

    /// Follows the folders: each watched again once it is back. True when a watch began (a
    /// folder appeared: a pass should read it).
    fn check(&mut self) -> bool {
        let Some(changes) = &self.changes else {
            return false;
        };
        let mut began = false;
        for (path, watch) in &mut self.exports {
            match watch {
                Some(w) if w.alive() => {}
                Some(_) => {
                    warn!(
                        export = %path.display(),
                        "the export's folder is gone: passes run on the schedule until it is back"
                    );
                    *watch = None;
                }
                None => {
                    *watch = Watch::start(path, changes.clone()).ok();
                    began |= watch.is_some();
                }
            }
        }
        began
    }
}

/// Starts pass `number`; `done` hears when it ends.
/// Logs when the next pass is due, and keeps it in the store for `status`.
async fn log_next(schedule: &mut Schedule, config: &PassConfig) {
    let next = schedule.next().await;
    match next {
        Some(next) => {
            info!(next = %next.with_timezone(&schedule.timezone()).to_rfc3339(), "next pass due")
        }
        None => warn!("the schedule has no next pass"),
    }
    let source = &config.source.name;
    let kept = Store::open(&config.store_path).and_then(|store| {
        store.set_setting(source, DAEMON_PID, &std::process::id().to_string())?;
        match next {
            Some(next) => store.set_setting(
                source,
                DAEMON_NEXT_PASS,
                &next.timestamp_millis().to_string(),
            ),
            None => store.clear_setting(source, DAEMON_NEXT_PASS),
        }
    });
    if let Err(e) = kept {
        warn!("cannot keep the next pass's time for status: {e}");
    }
}

/// The daemon is gone: `status` must not show its schedule.
fn forget_daemon(config: &PassConfig) {
    let source = &config.source.name;
    let cleared = Store::open(&config.store_path).and_then(|store| {
        store.clear_setting(source, DAEMON_PID)?;
        store.clear_setting(source, DAEMON_NEXT_PASS)
    });
    if let Err(e) = cleared {
        warn!("cannot clear the daemon's entry in the store: {e}");
    }
}
