//! `retry` and `forget`: queue rejected or failed records again, or forget one altogether.

use std::io::Write;

use super::{CommandError, io, open_store};
use crate::cli::exit::Exit;
use crate::config::Config;
use crate::diff::RecordState;
use crate::record::timestamp::now_ms;
use crate::store::{FULL_NEXT_PASS, RetryTarget};

/// Which records `retry` queues again.
#[derive(Debug, Default)]
pub struct RetrySelection {
    pub ids: Vec<String>,
    pub all_failed: bool,
    pub all_rejected: bool,
}

pub fn retry(
    config: &Config,
    selection: &RetrySelection,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let source = &config.pass.source.name;
    let store = open_store(config)?
        .ok_or_else(|| CommandError::failed(Exit::Other, "no store yet: nothing to retry"))?;
    let mut targets: Vec<RetryTarget> = Vec::new();
    let mut unknown = Vec::new();
    for id in &selection.ids {
        match store.retry_target(source, id)? {
            Some(t) if matches!(t.state, RecordState::Rejected | RecordState::Failed) => {
                targets.push(t);
            }
            Some(t) => writeln!(out, "{id}: {}, nothing to retry", t.state).map_err(io)?,
            None => unknown.push(id.clone()),
        }
    }
    for (wanted, state) in [
        (selection.all_failed, RecordState::Failed),
        (selection.all_rejected, RecordState::Rejected),
    ] {
        if wanted {
            targets.extend(store.retry_targets(source, state)?);
        }
    }
    targets.sort();
    targets.dedup();
    let now = now_ms();
    let (mut queued, mut reread) = (0, 0);
    for target in &targets {
        if target.has_body {
            // Sent as it is on the next pass.
            store.requeue(source, &target.id, now)?;
            queued += 1;
        } else {
            // Refused before sending: read from the export again on the next pass.
            store.reread(source, &target.id, now)?;
            reread += 1;
        }
    }
    if reread > 0 {
        store.set_setting(source, FULL_NEXT_PASS, "retry")?;
    }
    writeln!(
        out,
        "{queued} queued again, {reread} to be read again from the export: the next pass sends them"
    )
    .map_err(io)?;
    if !unknown.is_empty() {
        return Err(CommandError::failed(
            Exit::Other,
            format!("no such id in the store: {}", unknown.join(", ")),
        ));
    }
    Ok(())
}

pub fn forget(config: &Config, id: &str, out: &mut dyn Write) -> Result<(), CommandError> {
    let source = &config.pass.source.name;
    let store =
        open_store(config)?.ok_or_else(|| CommandError::failed(Exit::Other, "no store yet"))?;
    if !store.forget(source, id, now_ms())? {
        return Err(CommandError::failed(
            Exit::Other,
            format!("no customer {id} in the store"),
        ));
    }
    store.set_setting(source, FULL_NEXT_PASS, "forget")?;
    writeln!(
        out,
        "{id} forgotten: the next pass reads the whole export and treats it as new"
    )
    .map_err(io)
}
