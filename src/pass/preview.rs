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
use super::{InvoiceReport, PassError, PassOptions, PassReport, RequestCounts, blocking};
use crate::source::SourceError;
use crate::store::Store;

/// What `check` learns from reading the export: the counts, rejections by reason, a sample of
/// what would be sent, and the export's first problem. Changes nothing.
///
/// With `[invoices]`, [`Staged::would_send_ids`] lists every customer a pass would send. An
/// export read from an API (`from = "api"`) is a sample of its first records, read as
/// `link_use` allows.
pub async fn inspect(
    config: &PassConfig,
    link_use: LinkUse,
) -> Result<(Staged, Option<SourceError>), PassError> {
    let keep_ids = config.invoices.is_some();
    inspect_lane(config, Lane::customers(config), keep_ids, link_use).await
}

/// [`inspect`] for the invoice export; `None` without `[invoices]`.
pub async fn inspect_invoices(
    config: &PassConfig,
    link_use: LinkUse,
) -> Result<Option<(Staged, Option<SourceError>)>, PassError> {
    match &config.invoices {
        Some(invoices) => {
            let lane = Lane::invoices(invoices, &config.source.name);
            Ok(Some(inspect_lane(config, lane, false, link_use).await?))
        }
        None => Ok(None),
    }
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
    customers: Lane,
    invoices: Option<Lane>,
    options: PassOptions,
    started: Instant,
    endpoint: String,
) -> Result<PassReport, PassError> {
    let path = config.store_path.clone();
    let ids = super::ids::IdFields::of(config);
    let result = blocking(move || -> Result<_, PassError> {
        let mut store = Store::snapshot(&path)?;
        if !options.accept_new_ids {
            ids.check(&store)?;
        }
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
                let hold = DryHold {
                    customers: customers.name(),
                    would_send: &staged.staged.would_send_ids,
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
