//! Passes that change nothing: `--dry-run`, which lists what a real pass would send, and what
//! `check` learns from reading the exports. Both stage in a transaction that is rolled back.

use std::io::Write as _;
use std::time::Instant;

use tracing::info;

use super::api::LinkUse;
use super::config::PassConfig;
use super::lane::Lane;
use super::progress::Progress;
use super::stage::{DryHold, StageMode, StageResult, Staged, stage};
use super::{LaneReport, PassError, PassOptions, PassReport, RequestCounts, blocking};
use crate::source::{Kind, SourceError};
use crate::store::Store;

/// What `check` learns from reading the export of `kind`'s lane: the counts, rejections by
/// reason, a sample of what would be sent, and the export's first problem; `None` when the
/// pass carries no such lane. Changes nothing.
///
/// For a lane another follows (customers, with `[invoices]`), [`Staged::would_send_ids`]
/// lists every record a pass would send. An export read from an API (`from = "api"`) is a
/// sample of its first records, read as `link_use` allows.
pub async fn inspect(
    config: &PassConfig,
    kind: Kind,
    link_use: LinkUse,
) -> Result<Option<(Staged, Option<SourceError>)>, PassError> {
    let lanes = Lane::all(config);
    let Some(lane) = lanes.iter().find(|l| l.kind == kind) else {
        return Ok(None);
    };
    let followed = lane.is_followed_in(&lanes);
    Ok(Some(
        inspect_lane(config, lane.clone(), followed, link_use).await?,
    ))
}

async fn inspect_lane(
    config: &PassConfig,
    lane: Lane,
    keep_ids: bool,
    link_use: LinkUse,
) -> Result<(Staged, Option<SourceError>), PassError> {
    // A sample of what the API lists, spooled as a pass spools its change set.
    let (lane, _spool) = match lane.source.from_api {
        true => {
            let store = match link_use {
                LinkUse::Owner => Store::open(&config.store_path)?,
                LinkUse::Borrowed => Store::snapshot(&config.store_path)?,
            };
            let (_, lane, spool) = super::api::sample_lane(config, store, &lane, link_use).await?;
            (lane, Some(spool))
        }
        false => (lane, None),
    };
    // An export still being written is waited for, as `--once` does, never read as empty.
    super::wait_to_settle(&lane.source, std::pin::pin!(std::future::pending::<()>())).await?;
    let path = config.store_path.clone();
    let ids = super::ids::IdFields::of(config);
    let result = blocking(move || -> Result<_, PassError> {
        let mut store = Store::snapshot(&path)?;
        ids.check(&store)?;
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
pub(super) async fn dry_run(
    config: &PassConfig,
    lanes: &[Lane],
    options: PassOptions,
    started: Instant,
    endpoint: String,
) -> Result<PassReport, PassError> {
    let path = config.store_path.clone();
    let ids = super::ids::IdFields::of(config);
    let lanes = lanes.to_vec();
    let reports = blocking(move || -> Result<_, PassError> {
        let mut store = Store::snapshot(&path)?;
        if !options.accept_new_ids {
            ids.check(&store)?;
        }
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        let mut reports = Vec::with_capacity(lanes.len());
        // What each lane would send: a record of a later lane goes when the record it
        // follows is in BlueTape, or would be sent first.
        let mut would_send = std::collections::HashMap::new();
        let none = std::collections::HashSet::new();
        for lane in &lanes {
            for line in lane.source.describe() {
                let _ = writeln!(out, "{line}");
            }
            let hold = (lane.after.as_deref()).map(|after| DryHold {
                lane: after,
                noun: (lanes.iter())
                    .find(|l| l.name() == after)
                    .map_or("record", Lane::noun),
                would_send: would_send.get(after).unwrap_or(&none),
            });
            let followed = lane.is_followed_in(&lanes);
            // Pass 0 is never a real pass (those count from 1); its staging is rolled back.
            let StageResult {
                mut staged,
                source_error,
            } = stage(
                &mut store,
                lane,
                0,
                options,
                StageMode::DryRun {
                    out: &mut out,
                    keep_ids: followed,
                    hold: hold.as_ref(),
                },
                &Progress::new(),
            )?;
            let ids = std::mem::take(&mut staged.would_send_ids);
            reports.push(LaneReport::staged(lane.kind, staged, source_error));
            if followed {
                would_send.insert(lane.name().to_owned(), ids);
            }
        }
        let _ = out.flush();
        Ok(reports)
    })
    .await??;
    let report = PassReport {
        lanes: reports,
        stop: None,
        dry_run: true,
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
