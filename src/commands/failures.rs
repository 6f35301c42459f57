//! `failures`: rejected and failed records with their reasons.

use std::io::Write;

use chrono::{DateTime, Utc};

use super::{CommandError, Format, advice, cell, io, listing, open_store};
use crate::config::Config;
use crate::diff::RecordState;
use crate::store::FailureEntry;

pub fn failures(
    config: &Config,
    format: Format,
    state: Option<RecordState>,
    since: Option<DateTime<Utc>>,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let rows = match open_store(config)? {
        None => Vec::new(),
        Some(store) => store.failures(
            &config.pass.source.name,
            state,
            since.map(|s| s.timestamp_millis()),
        )?,
    };
    let headers = [
        "id",
        "state",
        "reason",
        "source_modified",
        "attempts",
        "last_status",
        "next_attempt",
    ];
    let cells = |f: &FailureEntry| {
        vec![
            f.id.clone(),
            f.state.to_string(),
            cell(f.reason.as_ref()),
            cell(f.source_modified),
            f.attempts.to_string(),
            cell(f.last_status),
            cell(f.next_attempt),
        ]
    };
    listing(
        out,
        format,
        &headers,
        &rows,
        cells,
        Some("no rejected or failed records"),
    )?;
    if format == Format::Table && !rows.is_empty() {
        let reasons = rows.iter().filter_map(|f| Some((f.reason.as_deref()?, 1)));
        writeln!(out, "\nby reason:").map_err(io)?;
        for line in advice::by_reason(reasons, &config.pass.source) {
            writeln!(out, "  {line}").map_err(io)?;
        }
    }
    Ok(())
}
