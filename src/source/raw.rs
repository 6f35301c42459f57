//! A record as the export holds it: the API fields it maps, as text, before any checking.

use std::fmt;

use sha2::{Digest, Sha256};

/// The API's fields, in body order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    Id,
    FirstName,
    LastName,
    EmailAddress,
    CellPhoneNumber,
    SourceModifiedDate,
    CompanyId,
}

impl Field {
    pub const ALL: [Field; 7] = [
        Field::Id,
        Field::FirstName,
        Field::LastName,
        Field::EmailAddress,
        Field::CellPhoneNumber,
        Field::SourceModifiedDate,
        Field::CompanyId,
    ];

    /// The API's name of the field, as in `[source.fields]`.
    pub fn api_name(self) -> &'static str {
        match self {
            Field::Id => "id",
            Field::FirstName => "firstName",
            Field::LastName => "lastName",
            Field::EmailAddress => "emailAddress",
            Field::CellPhoneNumber => "cellPhoneNumber",
            Field::SourceModifiedDate => "sourceModifiedDate",
            Field::CompanyId => "companyId",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.api_name())
    }
}

/// One record as read from the export: the mapped fields, trimmed, `None` when absent or empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawRecord {
    /// Where it was read, for messages: `file:line`.
    pub location: String,
    values: [Option<String>; 7],
}

impl RawRecord {
    pub fn new(location: String) -> Self {
        Self {
            location,
            ..Self::default()
        }
    }

    pub fn set(&mut self, field: Field, value: &str) {
        let value = value.trim();
        self.values[field.index()] = (!value.is_empty()).then(|| value.to_owned());
    }

    pub fn get(&self, field: Field) -> Option<&str> {
        self.values[field.index()].as_deref()
    }

    /// A digest of the record's content, to notice a changed record that has no usable date.
    pub fn content_hash(&self) -> String {
        let mut hasher = Sha256::new();
        for value in &self.values {
            hasher.update(value.as_deref().unwrap_or("").as_bytes());
            hasher.update([0x1f]);
        }
        hasher
            .finalize()
            .iter()
            .take(16)
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}
