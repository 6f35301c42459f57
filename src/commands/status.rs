//! `status`: the watermark, records per state, recent passes, and the daemon if one runs.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use serde::Serialize;

use super::{CommandError, cell, io, json, open_store, table};
use crate::config::Config;
use crate::source::config::SourceConfig;
use crate::source::timestamp::{Millis, now_ms};
use crate::store::{DAEMON_NEXT_PASS, DAEMON_PID, PassEntry, StateCounts, Store, StoreError};

#[derive(Debug, Serialize)]
pub struct Daemon {
    pub pid: u32,
    pub next_pass: Option<Millis>,
}

#[derive(Debug, Serialize)]
pub struct Status {
    pub store: String,
    pub watermark: Option<Millis>,
    pub counts: StateCounts,
    pub oldest_pending_age_seconds: Option<i64>,
    pub last_pass: Option<PassEntry>,
    pub passes: Vec<PassEntry>,
    pub daemon: Option<Daemon>,
    /// Every kind after the first (customers), under its plural (`invoices`), when
    /// configured.
    #[serde(flatten)]
    pub kinds: BTreeMap<&'static str, KindStatus>,
    /// With `from = "api"` (SPEC §11): the link, `null` until `connect` made one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection: Option<Option<Connection>>,
}

/// The link to an accounting system's API, as `status --json` shows it.
#[derive(Debug, Serialize)]
pub struct Connection {
    pub provider: &'static str,
    pub company: String,
    pub linked_at: Millis,
    pub refresh_expires_at: Option<Millis>,
}

#[derive(Debug, Default, Serialize)]
pub struct KindStatus {
    pub counts: KindCounts,
}

/// A kind's records per state, and how many carry the update refused flag (SPEC §9).
#[derive(Debug, Default, Serialize)]
pub struct KindCounts {
    pub pending: u64,
    pub created: u64,
    pub exists: u64,
    pub waiting: u64,
    pub rejected: u64,
    pub failed: u64,
    pub cancelled: u64,
    pub update_refused: u64,
}

fn kind_counts(store: &Store, lane: &str) -> Result<KindCounts, StoreError> {
    let c = store.counts(lane)?;
    Ok(KindCounts {
        pending: c.pending,
        created: c.created,
        exists: c.exists,
        waiting: c.waiting,
        rejected: c.rejected,
        failed: c.failed,
        cancelled: c.cancelled,
        update_refused: store.refused_count(lane, "update")?,
    })
}

pub fn status(config: &Config, json_out: bool, out: &mut dyn Write) -> Result<(), CommandError> {
    let lane = &config.pass.source.name;
    let mut status = Status {
        store: config.pass.store_path.display().to_string(),
        watermark: None,
        counts: StateCounts::default(),
        oldest_pending_age_seconds: None,
        last_pass: None,
        passes: Vec::new(),
        daemon: None,
        kinds: later(config)
            .map(|e| (e.kind.plural(), KindStatus::default()))
            .collect(),
        connection: config.pass.provider.as_ref().map(|_| None),
    };
    if let Some(store) = open_store(config)? {
        status.watermark = store.watermark(lane)?.map(Millis);
        status.counts = store.counts(lane)?;
        status.oldest_pending_age_seconds = store
            .oldest_waiting_ms(lane)?
            .map(|ms| (now_ms() - ms).max(0) / 1000);
        status.passes = store.recent_passes(lane, 10)?;
        status.daemon = running_daemon(&store, lane, &config.pass.store_path)?;
        for export in later(config) {
            let counts = kind_counts(&store, &export.name)?;
            status
                .kinds
                .insert(export.kind.plural(), KindStatus { counts });
        }
        if let Some(provider) = &config.pass.provider {
            let link = store.link(provider.provider.name(), now_ms())?;
            status.connection = Some(link.map(|link| Connection {
                provider: provider.provider.name(),
                company: link.company_name.unwrap_or(link.company_id),
                linked_at: Millis(link.linked_at_ms),
                refresh_expires_at: link.tokens.refresh_expires_ms.map(Millis),
            }));
        }
    }
    status.last_pass = status.passes.first().cloned();
    if json_out {
        return json(out, &status);
    }
    print_status(&status, out).map_err(io)
}

/// The exports of the lanes after the first (customers).
fn later(config: &Config) -> impl Iterator<Item = &SourceConfig> {
    config.pass.exports().skip(1)
}

/// The daemon that says it is running, if its process is alive and holds the lock.
fn running_daemon(
    store: &Store,
    lane: &str,
    store_path: &Path,
) -> Result<Option<Daemon>, StoreError> {
    let Some(pid) = store
        .setting(lane, DAEMON_PID)?
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
        .setting(lane, DAEMON_NEXT_PASS)?
        .and_then(|v| v.parse().ok())
        .map(Millis);
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
            .map_or_else(|| "none (no export read yet)".into(), |t| t.to_string())
    )?;
    writeln!(
        out,
        "records     pending {}, created {}, exists {}, rejected {}, failed {}",
        c.pending, c.created, c.exists, c.rejected, c.failed
    )?;
    for (kind, later) in &status.kinds {
        let i = &later.counts;
        writeln!(
            out,
            "{kind:<11} pending {}, created {}, exists {}, waiting {}, rejected {}, failed {}, \
             cancelled {}, update refused {}",
            i.pending,
            i.created,
            i.exists,
            i.waiting,
            i.rejected,
            i.failed,
            i.cancelled,
            i.update_refused
        )?;
    }
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
            d.next_pass
                .map_or_else(|| "not scheduled".into(), |t| t.to_string())
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
                cell(p.started_at),
                p.finished_at.map_or_else(|| "-".into(), |t| t.to_string()),
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
