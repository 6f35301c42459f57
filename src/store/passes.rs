//! Passes: when each began and ended, how, and what it counted.

use std::collections::BTreeMap;

use rusqlite::params;
use serde::Serialize;

use super::{Store, StoreError, kind_at, millis_at};
use crate::source::Kind;
use crate::source::timestamp::Millis;

/// The counts one lane of a pass ends with, as kept in `pass_counts`; two parts of a pass add up field by field.
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
    /// Records cancelled in BlueTape (invoices the export now says are void).
    #[serde(skip_serializing_if = "is_zero")]
    pub cancelled: u64,
    /// Records waiting for the lane they follow (an invoice for its customer).
    #[serde(skip_serializing_if = "is_zero")]
    pub waiting: u64,
    /// Updates or cancels BlueTape refused.
    #[serde(skip_serializing_if = "is_zero")]
    pub refused: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A pass as `status` lists it (and prints it as JSON). Its counts are the customers' (and
/// `future` every kind's, as the pass's summary line says it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PassEntry {
    pub id: i64,
    pub started_at: Option<Millis>,
    pub finished_at: Option<Millis>,
    pub outcome: String,
    #[serde(flatten)]
    pub counts: PassCounts,
    pub message: Option<String>,
    /// Scheduled ticks that came while this pass was running (no pass started for them).
    pub skipped_ticks: u64,
    /// The counts of every kind after the first (customers), under its plural (`invoices`):
    /// waiting counts those waiting after the pass. Absent for a kind the pass counted none of.
    #[serde(flatten)]
    pub kinds: BTreeMap<&'static str, KindPassCounts>,
}

/// A later kind's counts in a pass, with those left out under the name the summary line
/// gives them (`left_out`) as well as the customers' (`inactive`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KindPassCounts {
    #[serde(flatten)]
    pub counts: PassCounts,
    pub left_out: u64,
}

/// Passes kept whatever their age, so `status` always has a history to show.
pub const KEPT_PASSES: i64 = 100;
impl Store {
    pub fn begin_pass(&self, lane: &str, full: bool, now_ms: i64) -> Result<i64, StoreError> {
        self.conn
            .execute(
                "INSERT INTO passes (source, started_at_ms, outcome, full) VALUES (?1, ?2, 'running', ?3)",
                params![lane, now_ms, full],
            )
            .map_err(|e| self.err(e))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Counts a scheduled tick that found the latest pass still running, on that pass.
    pub fn count_skipped_tick(&self, lane: &str) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE passes SET skipped_ticks = skipped_ticks + 1
                 WHERE id = (SELECT max(id) FROM passes WHERE source = ?1)
                   AND outcome = 'running'",
                params![lane],
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
            .and_then(|_| {
                self.conn.execute(
                    "DELETE FROM pass_counts WHERE pass NOT IN (SELECT id FROM passes)",
                    [],
                )
            })
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Ends a pass: how, why (its problem line), and what each of its lanes counted.
    pub fn finish_pass(
        &mut self,
        pass: i64,
        outcome: &str,
        lanes: &[(Kind, PassCounts)],
        message: Option<&str>,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let path = self.path.clone();
        let wrap = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(wrap)?;
        tx.execute(
            "UPDATE passes SET finished_at_ms = ?2, outcome = ?3, message = ?4 WHERE id = ?1",
            params![pass, now_ms, outcome, message],
        )
        .map_err(wrap)?;
        for (kind, c) in lanes {
            tx.execute(
                "INSERT OR REPLACE INTO pass_counts (pass, kind, read, new, created, \"exists\",
                    rejected, failed, changed_upstream, updated, inactive, future, cancelled,
                    waiting, refused)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
                params![
                    pass,
                    kind.name(),
                    c.read as i64,
                    c.new as i64,
                    c.created as i64,
                    c.exists as i64,
                    c.rejected as i64,
                    c.failed as i64,
                    c.changed_upstream as i64,
                    c.updated as i64,
                    c.inactive as i64,
                    c.future as i64,
                    c.cancelled as i64,
                    c.waiting as i64,
                    c.refused as i64,
                ],
            )
            .map_err(wrap)?;
        }
        tx.commit().map_err(wrap)
    }

    /// The last `limit` passes, newest first.
    pub fn recent_passes(&self, lane: &str, limit: u32) -> Result<Vec<PassEntry>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, started_at_ms, finished_at_ms, outcome, message, skipped_ticks
                 FROM passes WHERE source = ?1 ORDER BY id DESC LIMIT ?2",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![lane, limit], |r| {
                Ok(PassEntry {
                    id: r.get(0)?,
                    started_at: millis_at(r, 1)?,
                    finished_at: millis_at(r, 2)?,
                    outcome: r.get(3)?,
                    counts: PassCounts::default(),
                    message: r.get(4)?,
                    skipped_ticks: r.get(5)?,
                    kinds: BTreeMap::new(),
                })
            })
            .map_err(|e| self.err(e))?;
        let mut passes: Vec<PassEntry> = rows.collect::<Result<_, _>>().map_err(|e| self.err(e))?;
        for pass in &mut passes {
            let lanes = self.pass_counts(pass.id)?;
            let future = lanes.iter().map(|(_, c)| c.future).sum();
            for (kind, counts) in lanes {
                match kind {
                    Kind::Customer => pass.counts = counts,
                    kind if counts != PassCounts::default() => {
                        let left_out = counts.inactive;
                        (pass.kinds).insert(kind.plural(), KindPassCounts { counts, left_out });
                    }
                    _ => {}
                }
            }
            pass.counts.future = future;
        }
        Ok(passes)
    }

    /// What each lane of a pass counted.
    fn pass_counts(&self, pass: i64) -> Result<Vec<(Kind, PassCounts)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT kind, read, new, created, \"exists\", rejected, failed, changed_upstream,
                        updated, inactive, future, cancelled, waiting, refused
                 FROM pass_counts WHERE pass = ?1",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([pass], |r| {
                Ok((
                    kind_at(r, 0)?,
                    PassCounts {
                        read: r.get(1)?,
                        new: r.get(2)?,
                        created: r.get(3)?,
                        exists: r.get(4)?,
                        rejected: r.get(5)?,
                        failed: r.get(6)?,
                        changed_upstream: r.get(7)?,
                        updated: r.get(8)?,
                        inactive: r.get(9)?,
                        future: r.get(10)?,
                        cancelled: r.get(11)?,
                        waiting: r.get(12)?,
                        refused: r.get(13)?,
                    },
                ))
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MIGRATIONS;

    #[test]
    fn the_counts_of_passes_kept_before_each_kind_had_its_own_row_are_carried_over() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("state.db");
        {
            let conn = rusqlite::Connection::open(&path).expect("open");
            for (_, sql) in &MIGRATIONS[..9] {
                conn.execute_batch(sql).expect("migration");
            }
            conn.pragma_update(None, "user_version", 9)
                .expect("version");
            conn.execute_batch(
                "INSERT INTO passes (id, source, started_at_ms, finished_at_ms, outcome, read,
                                     new, created, \"exists\", rejected, failed, future,
                                     invoices_created, invoices_waiting, invoices_left_out)
                 VALUES (1, 'default', 10, 20, 'ok', 5, 4, 3, 1, 0, 0, 0, 0, 0, 0),
                        (2, 'default', 30, 40, 'rejected', 7, 6, 5, 0, 1, 0, 2, 3, 2, 1),
                        (3, 'default', 50, NULL, 'running', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)",
            )
            .expect("rows");
        }
        let store = Store::open(&path).expect("migrated");
        let passes = store.recent_passes("default", 10).expect("passes");
        let ids: Vec<i64> = passes.iter().map(|p| p.id).collect();
        assert_eq!(ids, [3, 2, 1]);
        let (running, with_invoices, customers_only) = (&passes[0], &passes[1], &passes[2]);
        assert_eq!(running.counts, PassCounts::default());
        assert!(running.kinds.is_empty());
        let c = &with_invoices.counts;
        assert_eq!(
            (c.read, c.new, c.created, c.rejected, c.future),
            (7, 6, 5, 1, 2)
        );
        let invoices = &with_invoices.kinds["invoices"];
        assert_eq!(
            (
                invoices.counts.created,
                invoices.counts.waiting,
                invoices.left_out
            ),
            (3, 2, 1)
        );
        assert_eq!(
            (customers_only.counts.read, customers_only.counts.exists),
            (5, 1)
        );
        assert!(customers_only.kinds.is_empty(), "no invoices counted");
        // The JSON `status` prints keeps its shape: the customers' counts flat, a later
        // kind's under its plural.
        let json = serde_json::to_value(with_invoices).expect("json");
        assert_eq!(json["created"], 5);
        assert_eq!(json["invoices"]["left_out"], 1);
        assert_eq!(json["invoices"]["waiting"], 2);
    }

    #[test]
    fn a_pass_keeps_each_lane_s_counts_and_pruning_forgets_them_with_the_pass() {
        let mut store = Store::open_temporary().expect("store");
        let pass = store.begin_pass("default", false, 10).expect("pass");
        let customers = PassCounts {
            read: 3,
            created: 2,
            future: 1,
            ..PassCounts::default()
        };
        let invoices = PassCounts {
            created: 4,
            future: 2,
            waiting: 1,
            ..PassCounts::default()
        };
        let lanes = [(Kind::Customer, customers), (Kind::Invoice, invoices)];
        (store.finish_pass(pass, "ok", &lanes, None, 20)).expect("finished");
        let kept = store.recent_passes("default", 1).expect("passes");
        assert_eq!((kept[0].counts.read, kept[0].counts.created), (3, 2));
        // `future` is the whole pass's, as its summary line says it.
        assert_eq!(kept[0].counts.future, 3);
        assert_eq!(kept[0].kinds["invoices"].counts.waiting, 1);
        // Passes beyond the ones always kept go with their counts.
        for n in 0..KEPT_PASSES {
            let later = store.begin_pass("default", false, 30 + n).expect("pass");
            (store.finish_pass(later, "ok", &[], None, 40 + n)).expect("finished");
        }
        store.prune_history(1_000).expect("pruned");
        let rows: i64 = (store.conn)
            .query_row(
                "SELECT count(*) FROM pass_counts WHERE pass = ?1",
                [pass],
                |r| r.get(0),
            )
            .expect("count");
        assert_eq!(rows, 0);
    }
}
