//! The one writer of a lane's send results (SPEC §4): each answer is committed as it arrives,
//! in group commits, and no more records are sent than `2 × api.concurrency` ahead of what is
//! committed. When the store refuses a commit (a full disk), nothing more starts, and what was
//! kept and what may be sent again is counted exactly.

use std::sync::Arc;

use tokio::sync::{Semaphore, mpsc};

use super::Unrecorded;
use crate::store::{SendRecord, Store, StoreError};

/// Why the writer stopped: the store refused a commit. `kept`: records whose answer was
/// committed; `unkept`: records sent whose answer was not (they may be sent again).
pub(super) struct WriterFailed {
    pub(super) error: StoreError,
    pub(super) kept: u64,
    pub(super) unkept: u64,
}

/// Records a request was made for.
fn requested(records: &[SendRecord]) -> u64 {
    records.iter().filter(|r| r.attempts > 0).count() as u64
}

/// The one writer of send results: drains what has arrived and commits it together. Returns
/// how many sent records it kept.
pub(super) fn spawn_writer(
    path: std::path::PathBuf,
    source: String,
    mut results: mpsc::Receiver<Unrecorded>,
    unrecorded: Arc<Semaphore>,
) -> tokio::task::JoinHandle<Result<u64, WriterFailed>> {
    tokio::task::spawn_blocking(move || {
        let mut kept = 0;
        let mut batch = Vec::new();
        let mut slots = Vec::new();
        let failure = match Store::open(&path) {
            Err(error) => error,
            Ok(mut store) => loop {
                let Some(first) = results.blocking_recv() else {
                    return Ok(kept);
                };
                let mut take = |unrecorded: Unrecorded| {
                    batch.push(unrecorded.record);
                    slots.push(unrecorded.sent);
                };
                take(first);
                while let Ok(more) = results.try_recv() {
                    take(more);
                }
                if let Err(error) = store.record_results(&source, &batch) {
                    break error;
                }
                // Committed: these records can no longer be sent twice.
                kept += requested(&batch);
                batch.clear();
                slots.clear();
            },
        };
        // Nothing more may start: the slots of what was not kept are never given back, and
        // what is still in flight is counted as it ends.
        unrecorded.close();
        let mut unkept = requested(&batch);
        while let Some(late) = results.blocking_recv() {
            unkept += requested(std::slice::from_ref(&late.record));
        }
        Err(WriterFailed {
            error: failure,
            kept,
            unkept,
        })
    })
}
