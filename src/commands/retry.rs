//! `retry` and `forget`: queue rejected or failed records again, or forget one altogether.

use std::io::Write;

use super::{CommandError, io, open_store_to_write};
use crate::commands::exit::Exit;
use crate::config::Config;
use crate::diff::RecordState;
use crate::source::timestamp::now_ms;
use crate::store::{FULL_NEXT_PASS, RetryTarget};

/// Which records `retry` queues again.
#[derive(Debug, Default)]
pub struct RetrySelection {
    pub ids: Vec<String>,
    pub all_failed: bool,
    pub all_rejected: bool,
}

/// The store names `retry` and `forget` look in: customers', and invoices' when configured.
fn sources(config: &Config) -> Vec<&str> {
    config.pass.exports().map(|s| s.name.as_str()).collect()
}

pub fn retry(
    config: &Config,
    selection: &RetrySelection,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let store = open_store_to_write(config)?
        .ok_or_else(|| CommandError::failed(Exit::Other, "no store yet: nothing to retry"))?;
    // Per store name (customers, invoices): what to queue again.
    let mut targets: Vec<(&str, RetryTarget)> = Vec::new();
    let mut unknown = Vec::new();
    for id in &selection.ids {
        let mut found = false;
        for source in sources(config) {
            match store.retry_target(source, id)? {
                Some(t) if matches!(t.state, RecordState::Rejected | RecordState::Failed) => {
                    targets.push((source, t));
                }
                Some(t) => writeln!(out, "{id}: {}, nothing to retry", t.state).map_err(io)?,
                None => continue,
            }
            found = true;
        }
        if !found {
            unknown.push(id.clone());
        }
    }
    for (wanted, state) in [
        (selection.all_failed, RecordState::Failed),
        (selection.all_rejected, RecordState::Rejected),
    ] {
        if wanted {
            for source in sources(config) {
                let all = store.retry_targets(source, state)?;
                targets.extend(all.into_iter().map(|t| (source, t)));
            }
        }
    }
    targets.sort();
    targets.dedup();
    let now = now_ms();
    let (mut queued, mut reread) = (0, 0);
    let mut read_again: Vec<&str> = Vec::new();
    for (source, target) in &targets {
        if target.has_body {
            // Sent as it is on the next pass.
            store.requeue(source, &target.id, now)?;
            queued += 1;
        } else {
            // Refused before sending: read from the export again on the next pass.
            store.reread(source, &target.id, now)?;
            reread += 1;
            read_again.push(source);
        }
    }
    read_again.dedup();
    for source in read_again {
        store.set_setting(source, FULL_NEXT_PASS, "retry")?;
    }
    let done = format!(
        "{queued} queued again, {reread} to be read again from the export: the next pass sends \
         them"
    );
    // One line either way: an unknown id is the error, and the line says what was done too.
    if !unknown.is_empty() {
        return Err(CommandError::failed(
            Exit::Other,
            format!(
                "no such id in the store: {} (of the others, {done})",
                unknown.join(", ")
            ),
        ));
    }
    writeln!(out, "{done}").map_err(io)
}

/// Forgets `id` in every kind that has it (a customer and an invoice may share an id).
pub fn forget(config: &Config, id: &str, out: &mut dyn Write) -> Result<(), CommandError> {
    let store = open_store_to_write(config)?
        .ok_or_else(|| CommandError::failed(Exit::Other, "no store yet"))?;
    let mut forgotten = false;
    for source in sources(config) {
        let kind = match store.record(source, id)? {
            Some(row) => row.kind,
            None => continue,
        };
        if store.forget(source, id, now_ms())? {
            store.set_setting(source, FULL_NEXT_PASS, "forget")?;
            writeln!(
                out,
                "{kind} {id} forgotten: the next pass reads the whole export and treats it as new"
            )
            .map_err(io)?;
            forgotten = true;
        }
    }
    if !forgotten {
        return Err(CommandError::failed(
            Exit::Other,
            format!("no record {id} in the store"),
        ));
    }
    Ok(())
}
