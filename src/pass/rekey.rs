//! A store moved from an export to an API whose ids differ (SPEC §11: Xero's CSV keys a
//! contact by AccountNumber, else its name; Xero's API by ContactID). BlueTape knows the
//! records by their stored ids, so those stay: the first API pass matches each API record to
//! a stored one by the value both carry ([`crate::source::presets::MovedIds`]) and keeps the
//! API's id as an alias; every pass after reads an aliased record (and an invoice billed to
//! it) under the stored id. Stored records nothing matched stop the move, named, until
//! `--accept-new-ids`.

use std::io::{BufRead as _, BufReader, BufWriter, Write as _};
use std::path::Path;

use serde_json::Value;
use tracing::{info, warn};

use super::PassError;
use super::ids::{Moving, remember};
use super::lane::Lane;
use crate::source::Field;
use crate::source::mapping::{FieldSource, FieldSpec};
use crate::store::Store;

/// Matches the records the API listed (the spool of a whole read) to the stored ones, and
/// keeps the matches as aliases. Stored records nothing matched stop the pass (nothing staged)
/// unless `accept`.
pub(super) fn rekey(
    store: &mut Store,
    lane: &Lane,
    spool: &Path,
    moving: &Moving,
    accept: bool,
) -> Result<(), PassError> {
    let api_id = spec_of(lane, Field::Id)?;
    let same = FieldSpec::parse(&FieldSource::from(moving.ids.same_value), true)
        .map_err(PassError::Internal)?;
    // Read as the store takes them: the spool is never held in memory.
    let mut failed = None;
    let pairs = records(spool)?
        .map_while(|record| record.map_err(|e| failed = Some(e)).ok())
        .filter_map(|record| {
            let read = |spec: &FieldSpec| spec.resolve(|p| p.lookup_text(&record));
            Some((read(&api_id)?, read(&same)?))
        });
    let rekeyed = store.rekey(&moving.name, pairs, accept)?;
    if let Some(e) = failed {
        return Err(e);
    }
    if !rekeyed.kept {
        return Err(PassError::MoveUnmatched {
            what: lane.noun(),
            count: rekeyed.unmatched,
            ids: rekeyed.unmatched_ids.join(", "),
            by: moving.ids.same_value,
        });
    }
    if rekeyed.unmatched > 0 {
        warn!(
            "{} stored {}s matched no record of the API (--accept-new-ids): they stay as they \
             are, never sent again: {}",
            rekeyed.unmatched,
            lane.noun(),
            rekeyed.unmatched_ids.join(", ")
        );
    }
    info!(
        "{} stored {}s matched by {}: BlueTape keeps knowing them by their ids",
        rekeyed.matched,
        lane.noun(),
        moving.ids.same_value
    );
    remember(store, &moving.name, &moving.field)?;
    Ok(())
}

/// Rewrites the spool so that each record an alias names is read under the stored id: a
/// record's own id for `customers`' lane, the customer an invoice is billed to for theirs.
pub(super) fn apply_aliases(
    store: &Store,
    lane: &Lane,
    customers: &str,
    spool: &Path,
) -> Result<(), PassError> {
    if !store.has_aliases(customers)? {
        return Ok(());
    }
    let field = match lane.name() == customers {
        true => Field::Id,
        false => Field::CustomerId,
    };
    let pointer = pointer_of(lane, field)?;
    let rewritten = spool.with_extension("rekeyed");
    let io = |e: std::io::Error| PassError::Internal(format!("{}: {e}", spool.display()));
    let write = || -> Result<(), PassError> {
        let mut out = BufWriter::new(std::fs::File::create(&rewritten).map_err(io)?);
        for record in records(spool)? {
            let mut record = record?;
            if let Some(Value::String(api_id)) = record.pointer(&pointer)
                && let Some(id) = store.alias(customers, api_id)?
                && let Some(at) = record.pointer_mut(&pointer)
            {
                *at = Value::String(id);
            }
            serde_json::to_writer(&mut out, &record).map_err(|e| io(e.into()))?;
            out.write_all(b"\n").map_err(io)?;
        }
        out.flush().map_err(io)
    };
    // Never left beside the store: it holds the records' contact details.
    let written = write().and_then(|()| std::fs::rename(&rewritten, spool).map_err(io));
    if written.is_err() {
        let _ = std::fs::remove_file(&rewritten);
    }
    written
}

/// The spool's records, one JSON value a line.
fn records(spool: &Path) -> Result<impl Iterator<Item = Result<Value, PassError>>, PassError> {
    let io = |e: std::io::Error| PassError::Internal(format!("{}: {e}", spool.display()));
    let file = std::fs::File::open(spool).map_err(io)?;
    Ok(BufReader::new(file).lines().map(move |line| {
        let line = line.map_err(io)?;
        serde_json::from_str(&line).map_err(|e| io(e.into()))
    }))
}

/// The lane's path to `field`, parsed.
fn spec_of(lane: &Lane, field: Field) -> Result<FieldSpec, PassError> {
    let source = lane.source.fields.get(field).ok_or_else(|| {
        PassError::Internal(format!("no {} mapped for a move of ids", field.api_name()))
    })?;
    FieldSpec::parse(source, true).map_err(PassError::Internal)
}

/// The JSON pointer of the lane's `field`, a plain path of keys (as the presets that move
/// map it: `ContactID`, `Contact.ContactID`).
fn pointer_of(lane: &Lane, field: Field) -> Result<String, PassError> {
    let spec = spec_of(lane, field)?;
    let path = spec
        .first_path()
        .filter(|_| spec.is_single())
        .ok_or_else(|| PassError::Internal(format!("{} is not one path", field.api_name())))?;
    let mut pointer = String::new();
    for (key, select) in path.steps() {
        if select.is_some() {
            return Err(PassError::Internal(format!(
                "{} is not a plain path",
                field.api_name()
            )));
        }
        pointer.push('/');
        pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
    }
    Ok(pointer)
}
