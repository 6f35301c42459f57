//! Records an API knows by other ids than the store (SPEC §11). A store moved from an export
//! to an API whose ids differ (Xero's CSV keys contacts by AccountNumber, its API by
//! ContactID) keeps the ids BlueTape knows: each API id the move matched to a stored record is
//! an alias of it, read as that record's id from then on.

use rusqlite::{OptionalExtension as _, params};

use super::{Store, StoreError};

/// What matching an API's records to the stored ones came to.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Rekeyed {
    /// Stored records an API record matched.
    pub matched: u64,
    /// Stored records none matched: how many, and the first few ids.
    pub unmatched: u64,
    pub unmatched_ids: Vec<String>,
    /// Whether the aliases were kept: always when nothing is unmatched, else only with
    /// `accept`.
    pub kept: bool,
}

/// How many unmatched ids are named.
const NAMED: usize = 10;

impl Store {
    /// Whether any record of the kind kept under `lane` has an alias.
    pub fn has_aliases(&self, lane: &str) -> Result<bool, StoreError> {
        self.conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM id_aliases WHERE source = ?1)",
                [lane],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))
    }

    /// The stored id the API's `api_id` is an alias of.
    pub fn alias(&self, lane: &str, api_id: &str) -> Result<Option<String>, StoreError> {
        self.conn
            .prepare_cached("SELECT id FROM id_aliases WHERE source = ?1 AND api_id = ?2")
            .and_then(|mut stmt| {
                stmt.query_row(params![lane, api_id], |r| r.get(0))
                    .optional()
            })
            .map_err(|e| self.err(e))
    }

    /// Matches the API's records, each as its API id and the id the export it replaces gave
    /// it, to the records stored under `lane`: each match becomes an alias (a stored record
    /// is matched once; a second API record with its id stays a record of its own). Kept in
    /// one transaction, and only when every stored record was matched or with `accept`.
    pub fn rekey(
        &mut self,
        lane: &str,
        pairs: impl IntoIterator<Item = (String, String)>,
        accept: bool,
    ) -> Result<Rekeyed, StoreError> {
        let path = self.path.clone();
        let wrap = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(wrap)?;
        let mut rekeyed = Rekeyed::default();
        {
            let mut alias = tx
                .prepare(
                    "INSERT INTO id_aliases (source, api_id, id)
                     SELECT ?1, ?2, ?3 WHERE EXISTS (
                        SELECT 1 FROM records WHERE source = ?1 AND id = ?3)
                     ON CONFLICT DO NOTHING",
                )
                .map_err(wrap)?;
            for (api_id, id) in pairs {
                rekeyed.matched += alias.execute(params![lane, api_id, id]).map_err(wrap)? as u64;
            }
            let mut unmatched = tx
                .prepare(
                    "SELECT id FROM records r WHERE source = ?1 AND NOT EXISTS (
                        SELECT 1 FROM id_aliases a WHERE a.source = ?1 AND a.id = r.id)
                     ORDER BY id",
                )
                .map_err(wrap)?;
            let mut rows = unmatched.query([lane]).map_err(wrap)?;
            while let Some(row) = rows.next().map_err(wrap)? {
                rekeyed.unmatched += 1;
                if rekeyed.unmatched_ids.len() < NAMED {
                    rekeyed.unmatched_ids.push(row.get(0).map_err(wrap)?);
                }
            }
        }
        rekeyed.kept = rekeyed.unmatched == 0 || accept;
        if rekeyed.kept {
            tx.commit().map_err(wrap)?;
        }
        Ok(rekeyed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_move_keeps_matched_ids_and_names_the_rest() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Store::open(&dir.path().join("state.db")).expect("store");
        for id in ["CUST-1", "Jane Doe", "CUST-9"] {
            store
                .conn
                .execute(
                    "INSERT INTO records (source, id, state, first_seen_pass, updated_at_ms)
                     VALUES ('default', ?1, 'created', 1, 0)",
                    [id],
                )
                .expect("record");
        }
        let pairs = || {
            [
                ("c-1", "CUST-1"),
                ("c-2", "Jane Doe"),
                // A second contact with the same name is a record of its own.
                ("c-3", "Jane Doe"),
                ("c-4", "NEW-1"),
            ]
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
        };
        let refused = store.rekey("default", pairs(), false).expect("rekey");
        assert_eq!(
            refused,
            Rekeyed {
                matched: 2,
                unmatched: 1,
                unmatched_ids: vec!["CUST-9".into()],
                kept: false,
            }
        );
        assert!(
            !store.has_aliases("default").expect("aliases"),
            "rolled back"
        );
        let accepted = store.rekey("default", pairs(), true).expect("rekey");
        assert!(accepted.kept);
        assert_eq!(
            store.alias("default", "c-2").expect("alias").as_deref(),
            Some("Jane Doe")
        );
        assert_eq!(store.alias("default", "c-3").expect("alias"), None);
        assert_eq!(store.alias("default", "c-4").expect("alias"), None);
    }
}
