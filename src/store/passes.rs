//! Passes: when each began and ended, how, and what it counted.

use rusqlite::params;

use super::{Store, StoreError};

/// The counts a pass ends with, as kept in `passes`; two parts of a pass add up field by field.
#[derive(
    Debug, Clone, Default, PartialEq, Eq, serde::Serialize, derive_more::Add, derive_more::AddAssign,
)]
pub struct PassCounts {
    pub read: u64,
    pub new: u64,
    pub created: u64,
    pub exists: u64,
    pub rejected: u64,
    pub failed: u64,
    pub changed_upstream: u64,
    pub updated: u64,
    /// Left out by the preset's rule (inactive or archived customers).
    pub inactive: u64,
    /// Read dated in the future (more than `source.clock_skew` ahead of this host's clock):
    /// sent, but never moving the watermark.
    pub future: u64,
    /// Invoices cancelled in BlueTape (a customer source shows none: not kept in `passes`).
    #[serde(skip_serializing_if = "is_zero")]
    pub cancelled: u64,
    /// Invoices BlueTape answered that their customer is missing or a draft.
    #[serde(skip_serializing_if = "is_zero")]
    pub waiting: u64,
    /// Invoices' updates or cancels BlueTape refused.
    #[serde(skip_serializing_if = "is_zero")]
    pub refused: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Passes kept whatever their age, so `status` always has a history to show.
pub const KEPT_PASSES: i64 = 100;
impl Store {
    pub fn begin_pass(&self, source: &str, full: bool, now_ms: i64) -> Result<i64, StoreError> {
        self.conn
            .execute(
                "INSERT INTO passes (source, started_at_ms, outcome, full) VALUES (?1, ?2, 'running', ?3)",
                params![source, now_ms, full],
            )
            .map_err(|e| self.err(e))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Counts a scheduled tick that found the latest pass still running, on that pass.
    pub fn count_skipped_tick(&self, source: &str) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE passes SET skipped_ticks = skipped_ticks + 1
                 WHERE id = (SELECT max(id) FROM passes WHERE source = ?1)
                   AND outcome = 'running'",
                params![source],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Forgets passes started and record events made before `before_ms`; the last
    /// [`KEPT_PASSES`] passes stay whatever their age.
    pub fn prune_history(&self, before_ms: i64) -> Result<(), StoreError> {
        // Events are numbered as they are made: the old ones are a prefix, found by walking
        // from the first until one is recent enough (no index on time is kept for this).
        self.conn
            .execute(
                "DELETE FROM events WHERE seq < coalesce(
                    (SELECT seq FROM events WHERE at_ms >= ?1 ORDER BY seq LIMIT 1),
                    (SELECT max(seq) + 1 FROM events))",
                params![before_ms],
            )
            .and_then(|_| {
                self.conn.execute(
                    "DELETE FROM passes WHERE started_at_ms < ?1 AND outcome != 'running'
                       AND id < (SELECT min(id) FROM
                                 (SELECT id FROM passes ORDER BY id DESC LIMIT ?2))",
                    params![before_ms, KEPT_PASSES],
                )
            })
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    pub fn finish_pass(
        &self,
        pass: i64,
        outcome: &str,
        counts: &PassCounts,
        invoices: Option<&PassCounts>,
        message: Option<&str>,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let i = invoices.cloned().unwrap_or_default();
        self.conn
            .execute(
                "UPDATE passes SET finished_at_ms = ?2, outcome = ?3, read = ?4, new = ?5,
                    created = ?6, \"exists\" = ?7, rejected = ?8, failed = ?9,
                    changed_upstream = ?10, message = ?11, updated = ?12, inactive = ?13,
                    invoices_created = ?14, invoices_exists = ?15, invoices_updated = ?16,
                    invoices_cancelled = ?17, invoices_waiting = ?18, invoices_rejected = ?19,
                    invoices_failed = ?20, invoices_left_out = ?21, future = ?22
                 WHERE id = ?1",
                params![
                    pass,
                    now_ms,
                    outcome,
                    counts.read as i64,
                    counts.new as i64,
                    counts.created as i64,
                    counts.exists as i64,
                    counts.rejected as i64,
                    counts.failed as i64,
                    counts.changed_upstream as i64,
                    message,
                    counts.updated as i64,
                    counts.inactive as i64,
                    i.created as i64,
                    i.exists as i64,
                    i.updated as i64,
                    i.cancelled as i64,
                    i.waiting as i64,
                    i.rejected as i64,
                    i.failed as i64,
                    i.inactive as i64,
                    (counts.future + i.future) as i64,
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }
}
