//! Presets: the shape of accounting systems' API exports, so an operator names the system
//! instead of mapping every field. Any `[source]` key set explicitly overrides the preset's.

use serde::Deserialize;
use serde_json::Value;

use super::mapping::{FieldMap, SourceFormat};
use super::mapping::{FieldSource, Path};

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

fn rule(path: &str, equals: &'static str, what: &'static str) -> Result<SkipRule, String> {
    let path = Path::parse(path, true).map_err(|e| format!("its rule for {what} records: {e}"))?;
    Ok(SkipRule { path, equals, what })
}

impl Preset {
    pub const ALL: [Preset; 2] = [Preset::QuickbooksOnline, Preset::Xero];

    pub fn name(self) -> &'static str {
        match self {
            Preset::QuickbooksOnline => "quickbooks-online",
            Preset::Xero => "xero",
        }
    }

    /// What the preset fills in; an error only if the preset itself is written wrong.
    pub fn defaults(self) -> Result<PresetDefaults, String> {
        Ok(match self {
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
                skip: Some(rule("Active", "false", "inactive")?),
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
                    skip: Some(rule("ContactStatus", "ARCHIVED", "archived")?),
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::phone::{PhoneError, PhoneNormaliser};
    use crate::source::mapping::FieldSpec;
    use serde_json::json;

    /// Xero's MOBILE phone in every combination of empty parts, through the preset's mapping
    /// and the phone normaliser: what is sent, or why the record is rejected.
    #[test]
    fn xero_mobile_in_every_combination_of_empty_parts() {
        let source = Preset::Xero
            .defaults()
            .expect("the preset")
            .fields
            .cell_phone_number
            .expect("the preset maps the mobile");
        let spec = FieldSpec::parse(&source, true).expect("valid");
        let phones = PhoneNormaliser::new(phonenumber::country::Id::US);
        // (country code, area code, number) -> what is sent, the phone error, or missing.
        type Case = (
            (&'static str, &'static str, &'static str),
            Option<Result<&'static str, PhoneError>>,
        );
        let cases: [Case; 8] = [
            (("1", "(626)", "555-0100"), Some(Ok("+16265550100"))),
            (("1", "(626)", ""), Some(Err(PhoneError::Invalid))),
            (("1", "", "6265550100"), Some(Ok("+16265550100"))),
            (("1", "", ""), Some(Err(PhoneError::Unparseable))),
            (("", "(626)", "555-0100"), Some(Ok("+16265550100"))),
            (("", "(626)", ""), Some(Err(PhoneError::Invalid))),
            (("", "", "6265550100"), Some(Ok("+16265550100"))),
            // Nothing at all: the field is missing.
            (("", "", ""), None),
        ];
        for ((cc, area, number), expected) in cases {
            let contact = json!({"Phones": [
                {"PhoneType": "DEFAULT", "PhoneNumber": "999", "PhoneAreaCode": "1", "PhoneCountryCode": "64"},
                {"PhoneType": "MOBILE", "PhoneNumber": number, "PhoneAreaCode": area, "PhoneCountryCode": cc}
            ]});
            let joined = spec.resolve(|p| p.lookup(&contact));
            let normalised = joined.as_deref().map(|j| phones.normalise(j));
            let expected = expected.map(|e| e.map(str::to_owned));
            assert_eq!(
                normalised, expected,
                "{cc:?} {area:?} {number:?} -> {joined:?}"
            );
        }
        // A country code other than the default one.
        let uk = json!({"Phones": [{"PhoneType": "MOBILE", "PhoneNumber": "7911 123456",
                                    "PhoneAreaCode": "", "PhoneCountryCode": "44"}]});
        let joined = spec.resolve(|p| p.lookup(&uk)).expect("joined");
        assert_eq!(phones.normalise(&joined).as_deref(), Ok("+447911123456"));
    }

    #[test]
    fn every_preset_is_written_right() {
        for preset in Preset::ALL {
            let defaults = preset
                .defaults()
                .unwrap_or_else(|e| panic!("{preset:?}: {e}"));
            for field in crate::source::Field::ALL {
                if let Some(source) = defaults.fields.get(field) {
                    FieldSpec::parse(source, true)
                        .unwrap_or_else(|e| panic!("{preset:?} {field}: {e}"));
                }
            }
        }
        assert!(rule("Phones[PhoneType=", "x", "broken").is_err());
    }

    #[test]
    fn quickbooks_leaves_out_inactive_customers_only() {
        let rule = Preset::QuickbooksOnline
            .defaults()
            .expect("the preset")
            .skip
            .expect("a rule");
        assert!(rule.skips(&json!({"Active": false})));
        assert!(!rule.skips(&json!({"Active": true})));
        assert!(!rule.skips(&json!({})));
    }
}
