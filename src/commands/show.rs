//! `show --id`: one customer's state, BlueTape's ids, the reason, and its history.

use std::io::Write;

use serde::Serialize;
use serde_json::{Value, json};

use super::{CommandError, io, open_store, rfc3339, table};
use crate::cli::exit::Exit;
use crate::config::Config;
use crate::store::Event;

#[derive(Debug, Serialize)]
pub struct Shown {
    pub id: String,
    pub state: String,
    pub source_modified: Option<String>,
    pub reason: Option<String>,
    pub attempts: u32,
    pub last_status: Option<u16>,
    pub next_attempt: Option<String>,
    pub blue_tape_id: Option<String>,
    pub sign_up_url: Option<String>,
    pub history: Vec<Value>,
}

pub fn show(
    config: &Config,
    id: &str,
    json_out: bool,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let source = &config.pass.source.name;
    let not_found = || {
        CommandError::failed(
            Exit::Other,
            format!(
                "no customer {id} in the store: it was never read from the export, or is older than the watermark (try run --once --full)"
            ),
        )
    };
    let store = open_store(config)?.ok_or_else(not_found)?;
    let row = store.record(source, id)?.ok_or_else(not_found)?;
    let history: Vec<Event> = store.events(source, id)?;
    let shown = Shown {
        id: row.id.clone(),
        state: row.state.to_string(),
        source_modified: rfc3339(row.source_modified_ms),
        reason: row.reason.clone(),
        attempts: row.attempts,
        last_status: row.last_status,
        next_attempt: rfc3339(row.next_attempt_ms),
        blue_tape_id: row.blue_tape_id.clone(),
        sign_up_url: row.sign_up_url.clone(),
        history: history
            .iter()
            .map(|e| {
                json!({"at": rfc3339(Some(e.at_ms)), "pass": e.pass, "what": e.kind,
                       "status": e.status, "outcome": e.outcome, "reason": e.reason})
            })
            .collect(),
    };
    if json_out {
        serde_json::to_writer_pretty(&mut *out, &shown)
            .map_err(|e| CommandError::failed(Exit::Other, e.to_string()))?;
        return writeln!(out).map_err(io);
    }
    let field = |out: &mut dyn Write, name: &str, value: Option<&str>| {
        writeln!(out, "{name:<16}{}", value.unwrap_or("-"))
    };
    (|| -> std::io::Result<()> {
        field(out, "id", Some(&shown.id))?;
        field(out, "state", Some(&shown.state))?;
        field(out, "modified", shown.source_modified.as_deref())?;
        field(out, "reason", shown.reason.as_deref())?;
        field(out, "attempts", Some(&shown.attempts.to_string()))?;
        field(
            out,
            "last status",
            shown.last_status.map(|s| s.to_string()).as_deref(),
        )?;
        field(out, "next attempt", shown.next_attempt.as_deref())?;
        field(out, "blueTapeId", shown.blue_tape_id.as_deref())?;
        field(out, "signUpUrl", shown.sign_up_url.as_deref())?;
        writeln!(out)?;
        let rows: Vec<Vec<String>> = history
            .iter()
            .map(|e| {
                vec![
                    rfc3339(Some(e.at_ms)).unwrap_or_default(),
                    e.pass.map(|p| p.to_string()).unwrap_or_else(|| "-".into()),
                    e.kind.clone(),
                    e.status.map(|s| s.to_string()).unwrap_or_default(),
                    e.outcome.clone().unwrap_or_default(),
                    e.reason.clone().unwrap_or_default(),
                ]
            })
            .collect();
        table(
            out,
            &["at", "pass", "what", "status", "outcome", "reason"],
            &rows,
        )
    })()
    .map_err(io)
}
