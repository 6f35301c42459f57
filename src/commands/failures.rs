//! `failures`: rejected and failed records with their reasons, and invoices waiting for their
//! customer, each with its kind.

use std::io::Write;

use chrono::{DateTime, Utc};

use super::{CommandError, CsvCells, Format, advice, cell, io, listing, open_store};
use crate::config::Config;
use crate::diff::RecordState;
use crate::shown::shown;
use crate::store::FailureEntry;

pub fn failures(
    config: &Config,
    format: Format,
    state: Option<RecordState>,
    since: Option<DateTime<Utc>>,
    csv: CsvCells,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let mut rows = Vec::new();
    if let Some(store) = open_store(config)? {
        let since = since.map(|s| s.timestamp_millis());
        for export in config.pass.exports() {
            rows.extend(store.failures(&export.name, state, since)?);
        }
    }
    // Most recently changed first, whatever their kind.
    rows.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then(a.id.cmp(&b.id)));
    // The name beside the id on a terminal; last in CSV and JSON, so readers of the columns
    // before it keep theirs.
    let name_second = format == Format::Table;
    let mut headers = vec![
        "id",
        "state",
        "reason",
        "source_modified",
        "attempts",
        "last_status",
        "next_attempt",
        "kind",
    ];
    headers.insert(if name_second { 1 } else { headers.len() }, "name");
    let cells = |f: &FailureEntry| {
        let mut cells = vec![
            f.id.clone(),
            f.state.to_string(),
            cell(f.reason.as_ref()),
            cell(f.source_modified),
            f.attempts.to_string(),
            cell(f.last_status),
            cell(f.next_attempt),
            f.kind.to_string(),
        ];
        let at = if name_second { 1 } else { cells.len() };
        cells.insert(at, cell(f.name.as_ref()));
        cells
    };
    listing(
        out,
        format,
        &headers,
        &rows,
        cells,
        Some("no rejected, failed or waiting records"),
        csv,
    )?;
    if format == Format::Table && !rows.is_empty() {
        writeln!(out, "\nby reason:").map_err(io)?;
        for source in config.pass.exports() {
            let reasons = (rows.iter())
                .filter(|f| f.kind == source.kind)
                .filter_map(|f| Some((f.reason.as_deref()?, 1)));
            for line in advice::by_reason(reasons, source) {
                writeln!(out, "  {}", shown(&line)).map_err(io)?;
            }
        }
    }
    Ok(())
}
