//! `status`: the watermark, records per state, recent passes, and the daemon if one runs.

use std::io::Write;
use std::path::Path;

use serde::Serialize;

use super::{CommandError, io, open_store, rfc3339, table};
use crate::cli::exit::Exit;
use crate::config::Config;
use crate::record::timestamp::now_ms;
use crate::store::{
    DAEMON_NEXT_PASS, DAEMON_PID, PassCounts, PassEntry, StateCounts, Store, StoreError,
};

#[derive(Debug, Clone, Serialize)]
pub struct PassRow {
    pub id: i64,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub outcome: String,
    #[serde(flatten)]
    pub counts: PassCounts,
    pub message: Option<String>,
}

impl From<PassEntry> for PassRow {
    fn from(pass: PassEntry) -> Self {
        Self {
            id: pass.id,
            started_at: rfc3339(pass.started_at_ms),
            finished_at: rfc3339(pass.finished_at_ms),
            outcome: pass.outcome,
            counts: pass.counts,
            message: pass.message,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Daemon {
    pub pid: u32,
    pub next_pass: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Status {
    pub store: String,
    pub watermark: Option<String>,
    pub counts: StateCounts,
    pub oldest_pending_age_seconds: Option<i64>,
    pub last_pass: Option<PassRow>,
    pub passes: Vec<PassRow>,
    pub daemon: Option<Daemon>,
}

pub fn status(config: &Config, json_out: bool, out: &mut dyn Write) -> Result<(), CommandError> {
    let source = &config.pass.source.name;
    let mut status = Status {
        store: config.pass.store_path.display().to_string(),
        watermark: None,
        counts: StateCounts::default(),
        oldest_pending_age_seconds: None,
        last_pass: None,
        passes: Vec::new(),
        daemon: None,
    };
    if let Some(store) = open_store(config)? {
        status.watermark = rfc3339(store.watermark(source)?);
        status.counts = store.counts(source)?;
        status.oldest_pending_age_seconds = store
            .oldest_waiting_ms(source)?
            .map(|ms| (now_ms() - ms).max(0) / 1000);
        status.passes = store
            .recent_passes(source, 10)?
            .into_iter()
            .map(PassRow::from)
            .collect();
        status.daemon = running_daemon(&store, source, &config.pass.store_path)?;
    }
    status.last_pass = status.passes.first().cloned();
    if json_out {
        serde_json::to_writer_pretty(&mut *out, &status)
            .map_err(|e| CommandError::failed(Exit::Other, e.to_string()))?;
        writeln!(out).map_err(io)?;
        return Ok(());
    }
    print_status(&status, out).map_err(io)
}

/// The daemon that says it is running, if its process is alive and holds the lock.
fn running_daemon(
    store: &Store,
    source: &str,
    store_path: &Path,
) -> Result<Option<Daemon>, StoreError> {
    let Some(pid) = store
        .setting(source, DAEMON_PID)?
        .and_then(|p| p.parse::<u32>().ok())
    else {
        return Ok(None);
    };
    let alive = Path::new(&format!("/proc/{pid}")).exists();
    let holder = crate::daemon::lock::holder(store_path) == Some(pid);
    if !alive || !holder {
        return Ok(None);
    }
    let next_pass = store
        .setting(source, DAEMON_NEXT_PASS)?
        .and_then(|v| v.parse().ok())
        .and_then(|ms| rfc3339(Some(ms)));
    Ok(Some(Daemon { pid, next_pass }))
}

fn print_status(status: &Status, out: &mut dyn Write) -> std::io::Result<()> {
    let c = &status.counts;
    writeln!(out, "store       {}", status.store)?;
    writeln!(
        out,
        "watermark   {}",
        status
            .watermark
            .as_deref()
            .unwrap_or("none (no export read yet)")
    )?;
    writeln!(
        out,
        "records     pending {}, created {}, exists {}, rejected {}, failed {}",
        c.pending, c.created, c.exists, c.rejected, c.failed
    )?;
    if let Some(age) = status.oldest_pending_age_seconds {
        writeln!(
            out,
            "queue       oldest waiting for {}",
            humantime::format_duration(std::time::Duration::from_secs(age as u64))
        )?;
    }
    match &status.daemon {
        Some(d) => writeln!(
            out,
            "daemon      running (pid {}), next pass {}",
            d.pid,
            d.next_pass.as_deref().unwrap_or("not scheduled")
        )?,
        None => writeln!(out, "daemon      not running")?,
    }
    if status.passes.is_empty() {
        return writeln!(out, "passes      none yet");
    }
    writeln!(out)?;
    let rows: Vec<Vec<String>> = status
        .passes
        .iter()
        .map(|p| {
            vec![
                p.id.to_string(),
                p.started_at.clone().unwrap_or_default(),
                p.finished_at.clone().unwrap_or_else(|| "-".into()),
                p.outcome.clone(),
                p.counts.read.to_string(),
                p.counts.new.to_string(),
                p.counts.created.to_string(),
                p.counts.exists.to_string(),
                p.counts.rejected.to_string(),
                p.counts.failed.to_string(),
            ]
        })
        .collect();
    table(
        out,
        &[
            "pass", "started", "finished", "outcome", "read", "new", "created", "exists",
            "rejected", "failed",
        ],
        &rows,
    )
}
