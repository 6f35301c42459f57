//! The export files a pass read whole (SPEC §3): one not changed since, read with the same
//! settings, is not opened again.

use rusqlite::{OptionalExtension as _, params};

use super::StoreError;
use super::staging::Staging;
use crate::source::FileVersion;

impl Staging<'_> {
    /// Whether `path` is, and was read as, it was when last read whole.
    pub fn read_before(
        &self,
        path: &str,
        version: FileVersion,
        reading: &str,
    ) -> Result<bool, StoreError> {
        let stored = self
            .tx
            .query_row(
                "SELECT len, modified_ns, changed_ns, inode, reading FROM files
                 WHERE source = ?1 AND path = ?2",
                params![self.lane, path],
                |r| {
                    let version = FileVersion {
                        len: r.get::<_, i64>(0)? as u64,
                        modified_ns: r.get(1)?,
                        changed_ns: r.get(2)?,
                        inode: r.get::<_, i64>(3)? as u64,
                    };
                    Ok((version, r.get::<_, String>(4)?))
                },
            )
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(stored.is_some_and(|(v, r)| v == version && r == reading))
    }

    /// Keeps `path` as read whole now, in this staging's transaction.
    pub fn read_whole(
        &self,
        path: &str,
        version: FileVersion,
        reading: &str,
    ) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO files (source, path, len, modified_ns, changed_ns, inode, reading,
                                read_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (source, path) DO UPDATE SET
                len = excluded.len, modified_ns = excluded.modified_ns,
                changed_ns = excluded.changed_ns, inode = excluded.inode,
                reading = excluded.reading, read_at_ms = excluded.read_at_ms",
            params![
                self.lane,
                path,
                version.len as i64,
                version.modified_ns,
                version.changed_ns,
                version.inode as i64,
                reading,
                self.now_ms
            ],
        )
    }

    /// Forgets the files of the export that are no longer there (a glob's file removed):
    /// one that comes back is read.
    pub fn keep_only_files(&self, paths: &[String]) -> Result<(), StoreError> {
        let listed =
            serde_json::to_string(paths).map_err(|e| StoreError::Serialize(e.to_string()))?;
        self.execute(
            "DELETE FROM files WHERE source = ?1
               AND path NOT IN (SELECT value FROM json_each(?2))",
            params![self.lane, listed],
        )
    }
}
