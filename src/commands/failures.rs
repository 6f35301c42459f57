//! `failures`: rejected and failed records with their reasons.

use std::io::Write;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{CommandError, Format, csv_out, io, open_store, rfc3339, table};
use crate::cli::exit::Exit;
use crate::config::Config;
use crate::diff::RecordState;

#[derive(Debug, Serialize)]
pub struct Failure {
    pub id: String,
    pub state: String,
    pub reason: Option<String>,
    pub source_modified: Option<String>,
    pub attempts: u32,
    pub last_status: Option<u16>,
    pub next_attempt: Option<String>,
    pub updated_at: Option<String>,
}

pub fn failures(
    config: &Config,
    format: Format,
    state: Option<RecordState>,
    since: Option<DateTime<Utc>>,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let rows: Vec<Failure> = match open_store(config)? {
        None => Vec::new(),
        Some(store) => store
            .failures(
                &config.pass.source.name,
                state,
                since.map(|s| s.timestamp_millis()),
            )?
            .into_iter()
            .map(|f| Failure {
                id: f.id,
                state: f.state.as_str().to_owned(),
                reason: f.reason,
                source_modified: rfc3339(f.source_modified_ms),
                attempts: f.attempts,
                last_status: f.last_status,
                next_attempt: rfc3339(f.next_attempt_ms),
                updated_at: rfc3339(f.updated_at_ms),
            })
            .collect(),
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
    let cells = |f: &Failure| {
        vec![
            f.id.clone(),
            f.state.clone(),
            f.reason.clone().unwrap_or_default(),
            f.source_modified.clone().unwrap_or_default(),
            f.attempts.to_string(),
            f.last_status.map(|s| s.to_string()).unwrap_or_default(),
            f.next_attempt.clone().unwrap_or_default(),
        ]
    };
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, &rows)
                .map_err(|e| CommandError::failed(Exit::Other, e.to_string()))?;
            writeln!(out).map_err(io)
        }
        Format::Csv => csv_out(out, &headers, &rows.iter().map(cells).collect::<Vec<_>>()),
        Format::Table if rows.is_empty() => {
            writeln!(out, "no rejected or failed records").map_err(io)
        }
        Format::Table => {
            table(out, &headers, &rows.iter().map(cells).collect::<Vec<_>>()).map_err(io)
        }
    }
}
