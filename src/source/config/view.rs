//! What a resolved export config says of itself: the mapping for `--dry-run`, the digest of
//! how it reads, which fields it requires, and which field its ids come from.

use super::{SourceConfig, SourceFormat};
use crate::source::Field;
use crate::source::mapping::FieldSource;

impl SourceConfig {
    /// With `sourceModifiedDate` unmapped, a record without one is dated by when it was first
    /// seen, and changes are found by content (SPEC §3).
    pub fn dates_by_first_seen(&self) -> bool {
        self.fields.get(Field::SourceModifiedDate).is_none()
    }

    /// The field ids are read from, as resolved: a preset's default and the same mapping
    /// written out are one field (`Id`, `AccountNumber | *ContactName`).
    pub fn id_field(&self) -> String {
        let source = self
            .fields
            .get(Field::Id)
            .cloned()
            .unwrap_or_else(|| FieldSource::from(Field::Id.api_name()));
        let parts = match &source {
            FieldSource::One(one) => std::slice::from_ref(one),
            FieldSource::Parts(parts) => parts.as_slice(),
        };
        let parts: Vec<String> = parts
            .iter()
            .map(|part| {
                let alternatives: Vec<&str> = part.split('|').map(str::trim).collect();
                alternatives.join(" | ")
            })
            .collect();
        parts.join(" + ")
    }

    /// The effective mapping, for `--dry-run`: a line per field and what is left out.
    pub fn describe(&self) -> Vec<String> {
        let format = match self.format {
            SourceFormat::Csv => "csv".to_owned(),
            SourceFormat::Ndjson => "ndjson".to_owned(),
            SourceFormat::Json if self.records_path.is_empty() => "json".to_owned(),
            SourceFormat::Json => format!("json, records at {}", self.records_path.join(".")),
        };
        let preset = self
            .preset
            .map(|p| format!(", preset {}", p.name()))
            .unwrap_or_default();
        let from = match (&self.origin, self.from_api) {
            (Some(api), true) => api.clone(),
            _ => self.path.display().to_string(),
        };
        let mut lines = vec![format!("source {from}: {format}{preset}")];
        for ((field, _), origin) in self.specs.iter().zip(&self.origins) {
            let from = match self.fields.get(*field) {
                Some(source) => format!("{source} ({origin})"),
                None if *field == Field::SourceModifiedDate => {
                    "sourceModifiedDate if present, else when first seen (changes found by content)"
                        .to_owned()
                }
                None if *field == Field::CompanyId => "companyId if present".to_owned(),
                // Read only where mapped.
                None if matches!(
                    field,
                    Field::DisplayName | Field::FullName | Field::Country | Field::ParentId
                ) =>
                {
                    continue;
                }
                None => format!("{} (default)", field.api_name()),
            };
            lines.push(format!("  {:<19} <- {from}", field.api_name()));
        }
        for rule in &self.leave_out {
            lines.push(format!("  left out: {}", rule.label()));
        }
        lines
    }

    /// A digest of everything that decides how the export is read: a file read whole with
    /// another is read again.
    pub fn reading(&self) -> String {
        use sha2::{Digest, Sha256};
        let settings = format!(
            "{:?} {:?} {:?} {:?} {:?} {} {} {:?} {:?} {:?}",
            self.format,
            self.records_path,
            self.specs,
            (&self.leave_out, &self.organisation),
            self.delimiter,
            self.encoding.name(),
            self.timezone,
            self.datetime_format,
            self.default_country,
            self.preset,
        );
        Sha256::digest(settings.as_bytes())
            .iter()
            .take(16)
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Whether the export must have `field`: unmapped optional fields may be absent.
    pub fn requires(&self, field: Field) -> bool {
        match field {
            Field::SourceModifiedDate => !self.dates_by_first_seen(),
            // Worked out or defaulted when unmapped (SPEC §9), or simply absent.
            Field::CompanyId
            | Field::ExpirationDate
            | Field::SubTotal
            | Field::TaxAmount
            | Field::Status
            | Field::Lines
            | Field::LineAmounts
            | Field::DisplayName
            | Field::FullName
            | Field::Country
            | Field::ParentId => self.fields.get(field).is_some(),
            // With a whole name mapped, names default to it.
            Field::FirstName | Field::LastName => {
                self.fields.get(field).is_some() || self.fields.get(Field::FullName).is_none()
            }
            _ => true,
        }
    }
}
