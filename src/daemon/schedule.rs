//! When the daemon runs a pass (SPEC §8): `[schedule]`, and the cron job that ticks.
//!
//! tokio-cron-scheduler only says when a tick is due. Here: 5-field crontab lines are read as
//! every minute (second 0), and the job is rebuilt when the schedule's time zone changes its UTC
//! offset, since the crate fixes the offset when a job is made.

use chrono::{DateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Deserialize;
use tokio::sync::mpsc;
use tokio_cron_scheduler::{Job, JobScheduler, JobSchedulerError};
use tracing::info;
use uuid::Uuid;

use crate::setting::SettingError;

/// `[schedule]` (SPEC §8), as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScheduleSection {
    pub cron: String,
    pub timezone: String,
    pub run_at_startup: bool,
    pub watch: bool,
}

impl Default for ScheduleSection {
    fn default() -> Self {
        Self {
            cron: "0 */15 * * * *".into(),
            timezone: "UTC".into(),
            run_at_startup: true,
            watch: true,
        }
    }
}

impl ScheduleSection {
    pub fn validate(self) -> Result<ScheduleConfig, SettingError> {
        let cron = Cron::parse(&self.cron).map_err(|e| SettingError::new("schedule.cron", e))?;
        let timezone = self.timezone.parse::<Tz>().map_err(|_| {
            SettingError::new(
                "schedule.timezone",
                "not an IANA time zone name (e.g. `America/New_York`)",
            )
        })?;
        Ok(ScheduleConfig {
            cron,
            timezone,
            run_at_startup: self.run_at_startup,
            watch: self.watch,
        })
    }
}

/// `[schedule]`, resolved.
#[derive(Debug, Clone)]
pub struct ScheduleConfig {
    pub cron: Cron,
    pub timezone: Tz,
    pub run_at_startup: bool,
    /// Also run a pass as soon as the export changes and settles ([`super::watcher`]).
    pub watch: bool,
}

/// A cron expression the scheduler accepts: seconds first, 6 or 7 fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron(String);

impl Cron {
    /// A classic 5-field crontab line (minutes first) gets second 0, so `* * * * *` is every
    /// minute.
    pub fn parse(expression: &str) -> Result<Self, String> {
        normalise_cron(expression).map(Cron)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Cron {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A cron expression as the scheduler reads it: seconds first, 6 or 7 fields. A classic
/// 5-field crontab line (minutes first) gets second 0, so `* * * * *` is every minute.
fn normalise_cron(expression: &str) -> Result<String, String> {
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
pub struct Tick;

/// The cron job, and the offset it was made with.
struct ScheduledJob {
    id: Uuid,
    offset: i32,
}

/// The running cron job that sends a [`Tick`] when a pass is due.
pub struct Schedule {
    scheduler: JobScheduler,
    cron: Cron,
    timezone: Tz,
    ticks: mpsc::Sender<Tick>,
    job: Option<ScheduledJob>,
}

impl Schedule {
    pub async fn start(
        config: &ScheduleConfig,
        ticks: mpsc::Sender<Tick>,
    ) -> Result<Self, JobSchedulerError> {
        let mut schedule = Self::unstarted(config.cron.clone(), config.timezone, ticks).await?;
        schedule.rebuild(Utc::now()).await?;
        schedule.scheduler.start().await?;
        Ok(schedule)
    }

    async fn unstarted(
        cron: Cron,
        timezone: Tz,
        ticks: mpsc::Sender<Tick>,
    ) -> Result<Self, JobSchedulerError> {
        Ok(Self {
            scheduler: JobScheduler::new().await?,
            cron,
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
        let job = Job::new_async_tz(self.cron.as_str(), self.timezone, move |_, _| {
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
    pub async fn follow_offset(&mut self, now: DateTime<Utc>) -> Result<bool, JobSchedulerError> {
        let offset = offset_seconds(self.timezone, now);
        if self.job.as_ref().is_none_or(|j| j.offset == offset) {
            return Ok(false);
        }
        info!(timezone = %self.timezone, "the schedule's time zone changed its UTC offset: schedule rebuilt");
        self.rebuild(now).await?;
        Ok(true)
    }

    /// When the next tick is due.
    pub async fn next(&mut self) -> Option<DateTime<Utc>> {
        let id = self.job.as_ref()?.id;
        self.scheduler.next_tick_for_job(id).await.ok().flatten()
    }

    pub fn cron(&self) -> &Cron {
        &self.cron
    }

    pub fn timezone(&self) -> Tz {
        self.timezone
    }

    pub async fn shutdown(mut self) -> Result<(), JobSchedulerError> {
        self.scheduler.shutdown().await
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
        let cron = Cron::parse("0 30 2 * * *").expect("cron");
        let mut schedule = Schedule::unstarted(cron, ny, ticks)
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
