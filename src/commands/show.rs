//! `show VALUE` and `show --id ID`: a record's state, name, BlueTape's ids, the reason, and
//! its history; found by id, email or name (every match is shown), or by its exact id (a
//! customer and an invoice sharing the id are both shown).

use std::fmt::Display;
use std::io::Write;

use serde::Serialize;

use super::{CommandError, cell, io, json, open_store, table};
use crate::commands::exit::Exit;
use crate::config::Config;
use crate::shown::shown;
use crate::store::{Event, RecordRow};

/// One record as `show --json` prints it: its row, then its history.
#[derive(Debug, Serialize)]
struct Shown {
    #[serde(flatten)]
    row: RecordRow,
    history: Vec<Event>,
}

/// What `show` looks for.
pub enum Wanted {
    /// An exact id (`--id`).
    Id(String),
    /// An id, an email address or a name, in any case.
    Any(String),
}

/// How many records `show VALUE` lists at most, per kind.
const MATCHES: u32 = 20;

pub fn show(
    config: &Config,
    wanted: &Wanted,
    json_out: bool,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let what = (config.pass.exports())
        .map(|e| e.kind.name())
        .collect::<Vec<_>>()
        .join(" or ");
    let not_found = || {
        let message = match wanted {
            Wanted::Id(id) => format!(
                "no {what} {id} in the store: it was never read from the export, or is older than the watermark (try run --once --full)"
            ),
            Wanted::Any(value) => format!(
                "no {what} with the id, email or name {value:?} in the store: it was never read from the export, or is older than the watermark (try run --once --full)"
            ),
        };
        CommandError::failed(Exit::Other, message)
    };
    let store = open_store(config)?.ok_or_else(not_found)?;
    // A customer and an invoice may share an id: every kind that has it is shown.
    let mut shown = Vec::new();
    for source in config.pass.exports().map(|e| &e.name) {
        let ids = match wanted {
            Wanted::Id(id) => vec![id.clone()],
            Wanted::Any(value) => store.find(source, value, MATCHES)?,
        };
        for id in ids {
            if let Some(row) = store.record(source, &id)? {
                let history = store.events(source, &id)?;
                shown.push(Shown { row, history });
            }
        }
    }
    if json_out {
        return match shown.as_slice() {
            [] => Err(not_found()),
            [one] => json(out, one),
            several => json(out, &several),
        };
    }
    if shown.is_empty() {
        return Err(not_found());
    }
    for (i, one) in shown.iter().enumerate() {
        if i > 0 {
            writeln!(out).map_err(io)?;
        }
        print(&one.row, &one.history, out).map_err(io)?;
    }
    Ok(())
}

fn print(row: &RecordRow, history: &[Event], out: &mut dyn Write) -> std::io::Result<()> {
    field(out, "id", Some(&row.id))?;
    field(out, "name", row.name.as_ref())?;
    field(out, "kind", Some(&row.kind))?;
    field(out, "state", Some(row.state))?;
    field(out, "modified", row.source_modified)?;
    field(out, "reason", row.reason.as_ref())?;
    field(out, "attempts", Some(row.attempts))?;
    field(out, "last status", row.last_status)?;
    field(out, "next attempt", row.next_attempt)?;
    field(out, "blueTapeId", row.blue_tape_id.as_ref())?;
    field(out, "signUpUrl", row.sign_up_url.as_ref())?;
    if let Some(what) = &row.refused {
        let reason = row.refused_reason.as_deref().unwrap_or_default();
        field(out, "refused", Some(format!("{what}: {reason}")))?;
    }
    writeln!(out)?;
    let rows: Vec<Vec<String>> = history
        .iter()
        .map(|e| {
            vec![
                e.at.to_string(),
                e.pass.map_or_else(|| "-".into(), |p| p.to_string()),
                e.kind.clone(),
                cell(e.status),
                cell(e.outcome.as_ref()),
                cell(e.reason.as_ref()),
            ]
        })
        .collect();
    table(
        out,
        &["at", "pass", "what", "status", "outcome", "reason"],
        &rows,
    )
}

/// One `name  value` line, `-` for no value.
fn field(out: &mut dyn Write, name: &str, value: Option<impl Display>) -> std::io::Result<()> {
    match value {
        Some(value) => writeln!(out, "{name:<16}{}", shown(&value.to_string())),
        None => writeln!(out, "{name:<16}-"),
    }
}
