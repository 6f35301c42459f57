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

use chrono::{DateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_cron_scheduler::{Job, JobScheduler, JobSchedulerError};
use tracing::{error, info, warn};
use uuid::Uuid;

use crate::commands::{DAEMON_NEXT_PASS, DAEMON_PID};
use crate::config::Config;
use crate::lock::InstanceLock;
use crate::metrics::Metrics;
use crate::store::Store;
use crate::sync::{PassError, PassOptions, PassReport, run_locked_pass};

/// A cron expression as the scheduler reads it: seconds first, 6 or 7 fields. A classic
/// 5-field crontab line (minutes first) gets second 0, so `* * * * *` is every minute.
pub fn normalise_cron(expression: &str) -> Result<String, String> {
    let fields: Vec<&str> = expression.split_whitespace().collect();
    let normalised = match fields.len() {
        5 => format!("0 {}", fields.join(" ")),
        6 | 7 => fields.join(" "),
        n => {
            return Err(format!(
                "has {n} fields: write 5 (minute hour day-of-month month day-of-week) or 6 \
                 (second first)"
            ));
        }
    };
    Job::new_async_tz(normalised.as_str(), Utc, |_, _| Box::pin(async {}))
        .map_err(|_| "not a valid cron expression".to_owned())?;
    Ok(normalised)
}

/// The schedule's UTC offset now; when it differs from the offset the job was made with, the
/// zone changed (daylight saving time) and the job must be rebuilt.
fn offset_seconds(timezone: Tz, at: DateTime<Utc>) -> i32 {
    timezone
        .offset_from_utc_datetime(&at.naive_utc())
        .fix()
        .local_minus_utc()
}

/// What the scheduler tells the daemon.
#[derive(Debug)]
struct Tick;

/// The cron job, and the offset it was made with.
struct ScheduledJob {
    id: Uuid,
    offset: i32,
}

struct Schedule {
    scheduler: JobScheduler,
    expression: String,
    timezone: Tz,
    ticks: mpsc::Sender<Tick>,
    job: Option<ScheduledJob>,
}

impl Schedule {
    async fn new(config: &Config, ticks: mpsc::Sender<Tick>) -> Result<Self, JobSchedulerError> {
        let timezone: Tz = config.schedule.timezone.parse().unwrap_or(chrono_tz::UTC);
        let mut schedule = Self::unstarted(&config.schedule.cron, timezone, ticks).await?;
        schedule.rebuild(Utc::now()).await?;
        schedule.scheduler.start().await?;
        Ok(schedule)
    }

    async fn unstarted(
        cron: &str,
        timezone: Tz,
        ticks: mpsc::Sender<Tick>,
    ) -> Result<Self, JobSchedulerError> {
        let expression = normalise_cron(cron).unwrap_or_default();
        Ok(Self {
            scheduler: JobScheduler::new().await?,
            expression,
            timezone,
            ticks,
            job: None,
        })
    }

    /// Makes the job afresh, with the zone's offset as it is `now`.
    async fn rebuild(&mut self, now: DateTime<Utc>) -> Result<(), JobSchedulerError> {
        if let Some(old) = self.job.take() {
            self.scheduler.remove(&old.id).await?;
        }
        let ticks = self.ticks.clone();
        let job = Job::new_async_tz(self.expression.as_str(), self.timezone, move |_, _| {
            let ticks = ticks.clone();
            // Never blocks: a tick while the daemon is busy is seen as soon as it looks.
            Box::pin(async move {
                let _ = ticks.try_send(Tick);
            })
        })?;
        let id = self.scheduler.add(job).await?;
        self.job = Some(ScheduledJob {
            id,
            offset: offset_seconds(self.timezone, now),
        });
        Ok(())
    }

    /// Rebuilds the job if the zone's offset at `now` differs from the one it was made with;
    /// says whether it did.
    async fn follow_offset(&mut self, now: DateTime<Utc>) -> Result<bool, JobSchedulerError> {
        let offset = offset_seconds(self.timezone, now);
        if self.job.as_ref().is_none_or(|j| j.offset == offset) {
            return Ok(false);
        }
        info!(timezone = %self.timezone, "the schedule's time zone changed its UTC offset: schedule rebuilt");
        self.rebuild(now).await?;
        Ok(true)
    }

    async fn next(&mut self) -> Option<DateTime<Utc>> {
        let id = self.job.as_ref()?.id;
        self.scheduler.next_tick_for_job(id).await.ok().flatten()
    }
}

/// Tells systemd (when it is listening) how the daemon is doing.
fn notify(state: &[sd_notify::NotifyState<'_>]) {
    if std::env::var_os("NOTIFY_SOCKET").is_some()
        && let Err(e) = sd_notify::notify(state)
    {
        warn!("cannot notify systemd: {e}");
    }
}

/// Runs passes on the schedule until `shutdown` resolves. A pass in flight at shutdown stops
/// starting requests, records the answers to those already sent, and ends; the rest stays
/// queued for the next start.
pub async fn run(config: Config, shutdown: impl Future<Output = ()>) -> Result<(), PassError> {
    let _lock = InstanceLock::acquire(&config.store_path)?;
    drop(Store::open(&config.store_path)?);
    let config = Arc::new(config);
    let (tick_tx, mut ticks) = mpsc::channel(16);
    let mut schedule = Schedule::new(&config, tick_tx)
        .await
        .map_err(|e| PassError::Internal(format!("cannot start the schedule: {e}")))?;
    notify(&[
        sd_notify::NotifyState::Ready,
        sd_notify::NotifyState::Status("waiting for the first pass"),
    ]);
    info!(
        cron = %schedule.expression,
        timezone = %schedule.timezone,
        store = %config.store_path.display(),
        "daemon started"
    );

    let metrics = Metrics::new(
        config.store_path.clone(),
        config.source.name.clone(),
        config.metrics.unhealthy_after,
    );
    if let Some(listen) = config.metrics.listen {
        crate::metrics::serve(listen, Arc::clone(&metrics))
            .await
            .map_err(|e| {
                PassError::Internal(format!("cannot listen on metrics.listen {listen}: {e}"))
            })?;
    }
    let (stop_tx, stop_rx) = watch::channel(false);
    let (done_tx, mut done) = mpsc::channel::<()>(1);
    let mut running: Option<JoinHandle<()>> = None;
    let mut shutdown = std::pin::pin!(shutdown);
    // With WatchdogSec= set, ping at half the period.
    let watchdog_period = sd_notify::watchdog_enabled().map(|d| d / 2);
    let mut watchdog = tokio::time::interval(watchdog_period.unwrap_or(Duration::from_secs(3600)));
    let mut zone_check = tokio::time::interval(Duration::from_secs(60));
    if config.schedule.run_at_startup {
        running = Some(start_pass(&config, &metrics, &stop_rx, &done_tx));
    } else {
        log_next(&mut schedule, &config).await;
    }

    loop {
        tokio::select! {
            () = &mut shutdown => break,
            Some(Tick) = ticks.recv() => {
                if running.as_ref().is_some_and(|p| !p.is_finished()) {
                    warn!("a scheduled pass is due but the previous one is still running: skipped");
                    record_skipped(&config);
                    metrics.outcome("skipped");
                } else {
                    running = Some(start_pass(&config, &metrics, &stop_rx, &done_tx));
                }
            }
            Some(()) = done.recv() => {
                running = None;
                log_next(&mut schedule, &config).await;
            }
            _ = watchdog.tick(), if watchdog_period.is_some() => {
                notify(&[sd_notify::NotifyState::Watchdog]);
            }
            _ = zone_check.tick() => {
                if let Err(e) = schedule.follow_offset(Utc::now()).await {
                    error!("cannot rebuild the schedule: {e}");
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
    if let Some(pass) = running {
        let _ = pass.await;
    }
    let _ = schedule.scheduler.shutdown().await;
    forget_daemon(&config);
    info!("stopped");
    Ok(())
}

/// Starts a pass; `done` hears when it ends.
fn start_pass(
    config: &Arc<Config>,
    metrics: &Arc<Metrics>,
    stop: &watch::Receiver<bool>,
    done: &mpsc::Sender<()>,
) -> JoinHandle<()> {
    let config = Arc::clone(config);
    let metrics = Arc::clone(metrics);
    let mut stop = stop.clone();
    let done = done.clone();
    tokio::spawn(async move {
        let shutdown = async move {
            let _ = stop.wait_for(|s| *s).await;
        };
        let result = run_locked_pass(&config, PassOptions::default(), shutdown).await;
        match &result {
            Ok(report) => metrics.pass(report),
            Err(_) => metrics.outcome("error"),
        }
        report(&result);
        let _ = done.send(()).await;
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

fn record_skipped(config: &Config) {
    let now = crate::record::timestamp::now_ms();
    if let Err(e) = Store::open(&config.store_path)
        .and_then(|store| store.record_skipped_pass(&config.source.name, now))
    {
        error!("cannot record the skipped pass: {e}");
    }
}

/// Logs when the next pass is due, and keeps it in the store for `status`.
async fn log_next(schedule: &mut Schedule, config: &Config) {
    let next = schedule.next().await;
    match next {
        Some(next) => {
            info!(next = %next.with_timezone(&schedule.timezone).to_rfc3339(), "next pass due")
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
fn forget_daemon(config: &Config) {
    let source = &config.source.name;
    let cleared = Store::open(&config.store_path).and_then(|store| {
        store.clear_setting(source, DAEMON_PID)?;
        store.clear_setting(source, DAEMON_NEXT_PASS)
    });
    if let Err(e) = cleared {
        warn!("cannot clear the daemon's entry in the store: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_field_crontab_lines_get_second_zero() {
        assert_eq!(normalise_cron("* * * * *").as_deref(), Ok("0 * * * * *"));
        assert_eq!(
            normalise_cron("*/15 * * * *").as_deref(),
            Ok("0 */15 * * * *")
        );
        assert_eq!(
            normalise_cron("0 */15 * * * *").as_deref(),
            Ok("0 */15 * * * *")
        );
        assert_eq!(
            normalise_cron(" 30  2 * * 1-5 ").as_deref(),
            Ok("0 30 2 * * 1-5")
        );
        assert!(normalise_cron("* * *").is_err());
        assert!(normalise_cron("61 * * * *").is_err());
        assert!(normalise_cron("every hour").is_err());
    }

    #[tokio::test]
    async fn the_job_is_rebuilt_when_the_zone_changes_its_offset() {
        let ny: Tz = "America/New_York".parse().expect("tz");
        let (ticks, _rx) = mpsc::channel(1);
        let mut schedule = Schedule::unstarted("0 30 2 * * *", ny, ticks)
            .await
            .expect("schedule");
        let winter = "2024-03-09T12:00:00Z"
            .parse::<DateTime<Utc>>()
            .expect("time");
        let summer = "2024-03-10T12:00:00Z"
            .parse::<DateTime<Utc>>()
            .expect("time");
        schedule.rebuild(winter).await.expect("job");
        let first = schedule
            .job
            .as_ref()
            .map(|j| (j.id, j.offset))
            .expect("job");
        assert_eq!(first.1, -5 * 3600);
        assert!(!schedule.follow_offset(winter).await.expect("same offset"));
        assert!(schedule.follow_offset(summer).await.expect("new offset"));
        let second = schedule
            .job
            .as_ref()
            .map(|j| (j.id, j.offset))
            .expect("job");
        assert_eq!(second.1, -4 * 3600);
        assert_ne!(first.0, second.0, "a new job replaced the old one");
    }

    #[test]
    fn a_dst_change_is_noticed_as_an_offset_change() {
        let ny: Tz = "America/New_York".parse().expect("tz");
        let before = "2024-03-10T06:59:00Z"
            .parse::<DateTime<Utc>>()
            .expect("time");
        let after = "2024-03-10T07:01:00Z"
            .parse::<DateTime<Utc>>()
            .expect("time");
        assert_eq!(offset_seconds(ny, before), -5 * 3600);
        assert_eq!(offset_seconds(ny, after), -4 * 3600);
        assert_eq!(offset_seconds(chrono_tz::UTC, after), 0);
    }
}
