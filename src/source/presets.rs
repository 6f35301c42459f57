//! Presets: the shape of accounting systems' API exports, so an operator names the system
//! instead of mapping every field. Any `[source]` key set explicitly overrides the preset's.

use serde::Deserialize;
use serde_json::Value;

use crate::config::{FieldMap, SourceFormat};
use crate::mapping::{FieldSource, Path};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Preset {
    /// QuickBooks Online's customer query: `{"QueryResponse": {"Customer": [...]}}`.
    QuickbooksOnline,
    /// Xero's contacts: `{"Contacts": [...]}`.
    Xero,
}

/// Records a preset leaves out, counted as "inactive".
#[derive(Debug, Clone)]
pub struct SkipRule {
    path: Path,
    equals: &'static str,
    /// How the log and the README name such records.
    pub what: &'static str,
}

impl SkipRule {
    pub fn skips(&self, record: &Value) -> bool {
        self.path.lookup(record).as_deref() == Some(self.equals)
    }
}

/// What a preset fills in.
pub struct PresetDefaults {
    pub format: SourceFormat,
    pub records_path: &'static str,
    pub fields: FieldMap,
    pub skip: Option<SkipRule>,
}

fn one(path: &str) -> Option<FieldSource> {
    Some(FieldSource::from(path))
}

fn rule(path: &str, equals: &'static str, what: &'static str) -> Option<SkipRule> {
    Path::parse(path, true)
        .ok()
        .map(|path| SkipRule { path, equals, what })
}

impl Preset {
    pub fn name(self) -> &'static str {
        match self {
            Preset::QuickbooksOnline => "quickbooks-online",
            Preset::Xero => "xero",
        }
    }

    pub fn defaults(self) -> PresetDefaults {
        match self {
            Preset::QuickbooksOnline => PresetDefaults {
                format: SourceFormat::Json,
                records_path: "QueryResponse.Customer",
                fields: FieldMap {
                    id: one("Id"),
                    first_name: one("GivenName"),
                    last_name: one("FamilyName"),
                    email_address: one("PrimaryEmailAddr.Address"),
                    cell_phone_number: one("Mobile.FreeFormNumber | PrimaryPhone.FreeFormNumber"),
                    source_modified_date: one("MetaData.LastUpdatedTime"),
                    // A CompanyName is not a BlueTape company id: map it only on purpose.
                    company_id: None,
                },
                skip: rule("Active", "false", "inactive"),
            },
            Preset::Xero => {
                let mobile = "Phones[PhoneType=MOBILE]";
                PresetDefaults {
                    format: SourceFormat::Json,
                    records_path: "Contacts",
                    fields: FieldMap {
                        id: one("ContactID"),
                        first_name: one("FirstName"),
                        last_name: one("LastName"),
                        email_address: one("EmailAddress"),
                        cell_phone_number: Some(FieldSource::Parts(vec![
                            format!("+{mobile}.PhoneCountryCode"),
                            format!("{mobile}.PhoneAreaCode"),
                            format!("{mobile}.PhoneNumber"),
                        ])),
                        source_modified_date: one("UpdatedDateUTC"),
                        company_id: None,
                    },
                    skip: rule("ContactStatus", "ARCHIVED", "archived"),
                }
            }
        }
    }
}
