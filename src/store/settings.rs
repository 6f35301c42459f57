//! Per-lane settings the program keeps for itself: the daemon's pid and next pass for
//! `status`, and a request from `retry`/`forget` that the next pass read the whole export.

use rusqlite::OptionalExtension;

use super::{Store, StoreError};

/// The `settings` keys the daemon keeps for `status`: its pid and its next pass.
pub const DAEMON_PID: &str = "daemon_pid";
pub const DAEMON_NEXT_PASS: &str = "daemon_next_pass_ms";
/// The `settings` key that makes the next pass read the whole export (after `retry` of a
/// record rejected locally, or `forget`).
pub const FULL_NEXT_PASS: &str = "full_next_pass";
impl Store {
    pub fn setting(&self, lane: &str, key: &str) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row(
                "SELECT value FROM settings WHERE source = ?1 AND key = ?2",
                [lane, key],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    pub fn set_setting(&self, lane: &str, key: &str, value: &str) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO settings (source, key, value) VALUES (?1, ?2, ?3)
                 ON CONFLICT (source, key) DO UPDATE SET value = excluded.value",
                [lane, key, value],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    pub fn clear_setting(&self, lane: &str, key: &str) -> Result<(), StoreError> {
        self.conn
            .execute(
                "DELETE FROM settings WHERE source = ?1 AND key = ?2",
                [lane, key],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Whether the store holds any record of the kind kept under `lane`.
    pub fn has_records(&self, lane: &str) -> Result<bool, StoreError> {
        self.conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM records WHERE source = ?1)",
                [lane],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))
    }
}
