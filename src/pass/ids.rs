//! The id guard (SPEC §12): ids must stay the same ids. The store remembers, per record kind,
//! which field the ids were read from; a pass whose mapping reads them from another would send
//! every record again under new ids, creating each customer twice in BlueTape.

use tracing::warn;

use super::PassError;
use super::config::PassConfig;
use crate::source::config::{SourceConfig, SourceFormat};
use crate::source::presets::MovedIds;
use crate::source::{Field, Kind};
use crate::store::{Store, StoreError};

/// The `settings` key of the field a kind's ids are read from.
const ID_FIELD: &str = "id_field";

/// Where each kind of a config reads its ids.
#[derive(Debug, Clone)]
pub(super) struct IdFields(Vec<IdField>);

#[derive(Debug, Clone)]
struct IdField {
    kind: Kind,
    /// The kind's name in the store.
    name: String,
    /// The field as resolved ([`SourceConfig::id_field`]).
    field: String,
    /// CSV columns are found ignoring case: `ID` and `id` are one field.
    any_case: bool,
    /// Read from an API whose ids a store may be moved to from an export's.
    moves: Option<MovedIds>,
}

/// A kind whose ids move to an API's this pass.
#[derive(Debug, Clone)]
pub(super) struct Moving {
    /// The kind's store name.
    pub(super) name: String,
    /// The id field the store remembers once the move is done.
    pub(super) field: String,
    pub(super) ids: MovedIds,
}

/// What the guard decided for a pass.
#[derive(Debug, Default)]
pub(super) struct Kept {
    /// Records are now sent under new ids: the pass reads the whole export.
    pub(super) full: bool,
    /// A kind whose stored records move to an API's ids this pass.
    pub(super) moving: Option<Moving>,
}

/// Remembers that the kind kept under `name` reads its ids from `field`.
pub(super) fn remember(store: &Store, name: &str, field: &str) -> Result<(), StoreError> {
    store.set_setting(name, ID_FIELD, field)
}

impl IdFields {
    pub(super) fn of(config: &PassConfig) -> Self {
        Self(config.exports().map(IdField::of).collect())
    }

    /// Every kind's field checked against the one its stored records were sent with, and
    /// remembered (for a kind with nothing stored yet, or with `accept` after a change).
    /// Changes nothing on the way to an error. True when records are now sent under new ids:
    /// the pass reads the whole export, as every record is new under its new id.
    pub(super) fn keep(&self, store: &Store, accept: bool) -> Result<Kept, PassError> {
        let mut kept = Kept::default();
        for id in &self.0 {
            match id.changed(store)? {
                None => continue,
                Some(old) if old.is_empty() || !store.has_records(&id.name)? => {}
                // Remembered once the API's records are matched to the stored ones.
                Some(old) if let Some(ids) = id.moved_from(&old) => {
                    kept.full = true;
                    kept.moving = Some(Moving {
                        name: id.name.clone(),
                        field: id.field.clone(),
                        ids,
                    });
                    continue;
                }
                Some(old) if accept => {
                    kept.full = true;
                    warn!(
                        kind = %id.kind,
                        "{} ids are now read from `{}` instead of `{old}` (--accept-new-ids): \
                         every record is read and sent under its new id",
                        id.kind,
                        id.field
                    );
                }
                Some(old) => return Err(id.error(old)),
            }
            remember(store, &id.name, &id.field)?;
        }
        Ok(kept)
    }

    /// [`PassError::IdFieldChanged`] for the first kind whose field changed while the store
    /// holds its records, for `check`, `--dry-run` and the daemon's start; changes nothing.
    pub(super) fn check(&self, store: &Store) -> Result<(), PassError> {
        for id in &self.0 {
            if let Some(old) = id.changed(store)?
                && !old.is_empty()
                && id.moved_from(&old).is_none()
                && store.has_records(&id.name)?
            {
                return Err(id.error(old));
            }
        }
        Ok(())
    }
}

impl IdField {
    fn of(source: &SourceConfig) -> Self {
        Self {
            kind: source.kind,
            name: source.name.clone(),
            field: source.id_field(),
            any_case: source.format == SourceFormat::Csv,
            moves: (source.preset)
                .filter(|_| source.from_api)
                .and_then(|p| p.moved_ids()),
        }
    }

    /// How the store moves to this field's ids from `old`, when it is the field of the
    /// export this API replaces.
    fn moved_from(&self, old: &str) -> Option<MovedIds> {
        self.moves
            .filter(|moves| moves.from_field.eq_ignore_ascii_case(old))
    }

    /// The field the store remembers when it differs from this one (`""` when it remembers
    /// none).
    fn changed(&self, store: &Store) -> Result<Option<String>, StoreError> {
        let old = store.setting(&self.name, ID_FIELD)?;
        Ok(match old {
            Some(old) if self.any_case && old.eq_ignore_ascii_case(&self.field) => None,
            Some(old) if old == self.field => None,
            Some(old) => Some(old),
            None => Some(String::new()),
        })
    }

    fn error(&self, old: String) -> PassError {
        PassError::IdFieldChanged {
            what: self.kind.name(),
            key: format!("{}.fields.{}", self.kind.section(), Field::Id),
            old,
            new: self.field.clone(),
        }
    }
}
