//! Reading the supplier's export (SPEC §3) into [`RawRecord`]s. The source knows nothing of
//! BlueTape or the store.

mod csv;

use std::path::PathBuf;

pub use self::csv::CsvExport;
use crate::config::SourceConfig;
use crate::record::Field;

/// A problem with the export as a whole (a bad record is a rejection, not a `SourceError`).
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("source file {} does not exist: check source.path, or whether the accounting system wrote its export", path.display())]
    NotFound { path: PathBuf },
    #[error("cannot read source file {}: {error}", path.display())]
    Unreadable {
        path: PathBuf,
        #[source]
        error: std::io::Error,
    },
    #[error("source file {}: no column `{column}` for {field} in the header row: set source.fields.{field} to the export's column name", path.display())]
    MissingColumn {
        path: PathBuf,
        field: Field,
        column: String,
    },
    #[error("source file {} near line {line}: {detail}", path.display())]
    Malformed {
        path: PathBuf,
        line: u64,
        detail: String,
    },
}

/// Opens the export the config names.
pub fn open(config: &SourceConfig) -> Result<CsvExport, SourceError> {
    CsvExport::open(config)
}

/// The column the config maps `field` to (the API name when unmapped).
fn column_for(config: &SourceConfig, field: Field) -> Option<&str> {
    let f = &config.fields;
    match field {
        Field::Id => f.id.as_deref(),
        Field::FirstName => f.first_name.as_deref(),
        Field::LastName => f.last_name.as_deref(),
        Field::EmailAddress => f.email_address.as_deref(),
        Field::CellPhoneNumber => f.cell_phone_number.as_deref(),
        Field::SourceModifiedDate => f.source_modified_date.as_deref(),
        Field::CompanyId => f.company_id.as_deref(),
    }
}
