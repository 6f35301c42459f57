//! Presets: the shape of accounting systems' exports, so an operator names the system instead
//! of mapping every field (SPEC §3, the table). Any `[source]` key set explicitly overrides the
//! preset's.

use std::fmt;

use chrono_tz::Tz;

use super::Field;
use super::leave_out::{PresetRule, RuleText};
use super::mapping::{FieldMap, FieldSource, SourceFormat};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// QuickBooks Online's customer query: `{"QueryResponse": {"Customer": [...]}}`.
    QuickbooksOnline,
    /// Xero's contacts: `{"Contacts": [...]}`.
    Xero,
    /// Zoho Books' `GET /contacts`: `{"code": 0, "contacts": [...], "page_context": {...}}`.
    ZohoBooks,
    /// FreshBooks' clients: `{"response": {"result": {"clients": [...]}}}`.
    Freshbooks,
    /// Sage Intacct's customer list, exported as CSV.
    SageIntacct,
    /// MYOB AccountRight's `GET /Contact/Customer`: `{"Items": [...], "Count": n}`.
    Myob,
    /// Xero's "Export contacts" CSV.
    XeroCsv,
    /// Zoho Books' contacts export CSV.
    ZohoBooksCsv,
    /// NetSuite saved searches as CSV (customers; invoices as `[invoices]`).
    Netsuite,
    /// QuickBooks Desktop's customer list as IIF.
    QuickbooksDesktop,
    /// Sage 50 US `CUSTOMER.CSV`.
    Sage50Us,
    /// Business Central API v2.0 customers: `{"value": [...]}`.
    BusinessCentral,
    /// Odoo's `res.partner`: JSON-RPC `search_read`, or the list view's CSV export.
    Odoo,
}

/// What a preset fills in.
pub struct PresetDefaults {
    pub format: SourceFormat,
    pub records_path: &'static str,
    pub fields: FieldMap,
    /// Records it leaves out, counted as "inactive" (customers) or "left out" (invoices).
    pub left_out: Vec<PresetRule>,
    /// The zone of the export's naive dates, unless `source.timezone` is set.
    pub timezone: Option<Tz>,
    /// Where national phone numbers are from, unless `source.default_country` is set.
    pub default_country: Option<&'static str>,
    /// How the export writes naive dates when none of the usual forms fits, unless
    /// `source.datetime_format` is set.
    pub datetime_format: Option<&'static str>,
    /// The encoding of files without a BOM, unless `source.encoding` is set.
    pub encoding: Option<&'static str>,
    /// The CSV delimiter, unless `source.delimiter` is set.
    pub delimiter: Option<u8>,
    /// The header row is the one whose first cell is this, and records are the rows whose
    /// first cell is it without the `!` (QuickBooks Desktop's IIF: `!CUST` and `CUST`).
    pub header_tag: Option<&'static str>,
    /// Phone cells written as Xero's CSV writes them: country, area and number, each
    /// possibly empty, separated by single spaces.
    pub phone_parts: bool,
    /// What marks a record as an organisation's (its whole name is never split).
    pub organisation: Option<RuleText>,
}

impl PresetDefaults {
    /// A preset of `format` with nothing filled in yet, the base of each.
    pub fn base(format: SourceFormat, records_path: &'static str) -> Self {
        Self {
            format,
            records_path,
            fields: FieldMap::default(),
            left_out: Vec::new(),
            timezone: None,
            default_country: None,
            datetime_format: None,
            encoding: None,
            delimiter: None,
            header_tag: None,
            phone_parts: false,
            organisation: None,
        }
    }
}

/// An unknown preset name, with the names there are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown preset `{0}`: use one of {names}", names = Preset::names())]
pub struct UnknownPreset(pub String);

/// A field read from one path (or `a | b`: the first that has a value).
pub(super) fn one(path: &str) -> FieldSource {
    FieldSource::from(path)
}

/// A preset's rule for records it leaves out, and what it calls them.
pub(super) fn left_out(what: &'static str, rule: RuleText) -> PresetRule {
    PresetRule { what, rule }
}

impl Preset {
    pub const ALL: [Preset; 13] = [
        Preset::QuickbooksOnline,
        Preset::Xero,
        Preset::ZohoBooks,
        Preset::Freshbooks,
        Preset::SageIntacct,
        Preset::Myob,
        Preset::XeroCsv,
        Preset::ZohoBooksCsv,
        Preset::Netsuite,
        Preset::QuickbooksDesktop,
        Preset::Sage50Us,
        Preset::BusinessCentral,
        Preset::Odoo,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Preset::QuickbooksOnline => "quickbooks-online",
            Preset::Xero => "xero",
            Preset::ZohoBooks => "zoho-books",
            Preset::Freshbooks => "freshbooks",
            Preset::SageIntacct => "sage-intacct",
            Preset::Myob => "myob",
            Preset::XeroCsv => "xero-csv",
            Preset::ZohoBooksCsv => "zoho-books-csv",
            Preset::Netsuite => "netsuite",
            Preset::QuickbooksDesktop => "quickbooks-desktop",
            Preset::Sage50Us => "sage-50-us",
            Preset::BusinessCentral => "business-central",
            Preset::Odoo => "odoo",
        }
    }

    /// The accounting system's name, as its users know it.
    pub fn system(self) -> &'static str {
        match self {
            Preset::QuickbooksOnline => "QuickBooks Online",
            Preset::Xero => "Xero",
            Preset::ZohoBooks => "Zoho Books",
            Preset::Freshbooks => "FreshBooks",
            Preset::SageIntacct => "Sage Intacct",
            Preset::Myob => "MYOB",
            Preset::XeroCsv => "Xero",
            Preset::ZohoBooksCsv => "Zoho Books",
            Preset::Netsuite => "NetSuite",
            Preset::QuickbooksDesktop => "QuickBooks Desktop",
            Preset::Sage50Us => "Sage 50",
            Preset::BusinessCentral => "Business Central",
            Preset::Odoo => "Odoo",
        }
    }

    /// For a store moved to this preset from an export whose ids differ (SPEC §11), the id
    /// field that export's records were stored under, and where this preset's records carry
    /// the same value: the move matches them by it.
    pub fn moved_ids(self) -> Option<MovedIds> {
        match self {
            // Xero's CSV keys a contact by its AccountNumber, else its name; the API carries
            // both, and its own ContactID.
            Preset::Xero => Some(MovedIds {
                from_field: "AccountNumber | *ContactName",
                same_value: "AccountNumber | Name",
            }),
            _ => None,
        }
    }

    /// Every preset's name, for messages: `quickbooks-online, xero, ...`.
    pub fn names() -> String {
        Preset::ALL.map(Preset::name).join(", ")
    }

    /// Where a person fixes `field` of a customer in the accounting system, for the advice
    /// that follows a rejection.
    pub fn where_to_edit(self, field: Field) -> &'static str {
        use Field::*;
        if let Some(place) = self.export_where_to_edit(field) {
            return place;
        }
        match (self, field) {
            (Preset::QuickbooksOnline, CellPhoneNumber) => "the customer's Mobile (or Phone)",
            (Preset::QuickbooksOnline, EmailAddress) => "the customer's Email",
            (Preset::QuickbooksOnline, FirstName | LastName) => {
                "the customer's Name (First name, Last name)"
            }
            (Preset::Xero, CellPhoneNumber) => "the contact's Phones \u{2192} Mobile",
            (Preset::Xero, EmailAddress) => "the contact's primary person \u{2192} Email",
            (Preset::Xero, FirstName | LastName) => {
                "the contact's primary person (First name, Last name)"
            }
            (Preset::ZohoBooks, CellPhoneNumber) => "the contact's Mobile (or Work Phone)",
            (Preset::ZohoBooks, EmailAddress) => "the contact's Email Address",
            (Preset::ZohoBooks, FirstName | LastName) => "the contact's Primary Contact name",
            (Preset::Freshbooks, CellPhoneNumber) => "the client's Mobile Phone",
            (Preset::Freshbooks, EmailAddress) => "the client's Email",
            (Preset::Freshbooks, FirstName | LastName) => "the client's First and Last Name",
            (Preset::SageIntacct, CellPhoneNumber) => {
                "the customer's display contact \u{2192} Mobile phone"
            }
            (Preset::SageIntacct, EmailAddress) => {
                "the customer's display contact \u{2192} Primary email address"
            }
            (Preset::SageIntacct, FirstName | LastName) => {
                "the customer's display contact (First name, Last name)"
            }
            (Preset::Myob, CellPhoneNumber) => "the card's Address 1 \u{2192} Phone 1 (a mobile)",
            (Preset::Myob, EmailAddress) => "the card's Address 1 \u{2192} Email",
            (Preset::Myob, FirstName | LastName) => "the card's First Name and Last Name",
            (_, Id) => "the record's id",
            (_, SourceModifiedDate) => "the record's last-modified date",
            (_, CompanyId) => "the customer's company id",
            (_, DisplayName | FullName) => "the customer's name",
            (_, Country) => "the customer's address (country)",
            (_, ParentId) => "the sub-customer's parent",
            (
                _,
                InvoiceNumber | CustomerId | InvoiceDate | DueDate | ExpirationDate | SubTotal
                | TaxAmount | TotalAmount | AmountDue | Status | Lines | LineAmounts,
            ) => "the invoice",
            // Each clicked export's own places are above (`export_where_to_edit`).
            (_, CellPhoneNumber | EmailAddress | FirstName | LastName) => "the customer's record",
        }
    }

    /// What the preset fills in.
    pub fn defaults(self) -> PresetDefaults {
        self.defaults_for(None)
    }

    /// What the preset fills in for an export of `format`, when the config names one (Odoo
    /// writes JSON-RPC answers and CSV list exports).
    pub fn defaults_for(self, format: Option<SourceFormat>) -> PresetDefaults {
        match self {
            Preset::XeroCsv => exports::xero_csv(),
            Preset::ZohoBooksCsv => exports::zoho_books_csv(),
            Preset::Netsuite => exports::netsuite(),
            Preset::QuickbooksDesktop => exports::quickbooks_desktop(),
            Preset::Sage50Us => exports::sage_50_us(),
            Preset::BusinessCentral => exports::business_central(),
            Preset::Odoo if format == Some(SourceFormat::Csv) => exports::odoo_csv(),
            Preset::Odoo => exports::odoo_json(),
            Preset::QuickbooksOnline => PresetDefaults {
                format: SourceFormat::Json,
                records_path: "QueryResponse.Customer",
                fields: FieldMap::from([
                    (Field::Id, one("Id")),
                    (Field::FirstName, one("GivenName")),
                    (Field::LastName, one("FamilyName")),
                    (Field::EmailAddress, one("PrimaryEmailAddr.Address")),
                    (
                        Field::CellPhoneNumber,
                        one("Mobile.FreeFormNumber | PrimaryPhone.FreeFormNumber"),
                    ),
                    (Field::SourceModifiedDate, one("MetaData.LastUpdatedTime")),
                    (Field::DisplayName, one("DisplayName")),
                    (Field::ParentId, one("ParentRef.value")),
                    // companyId: a CompanyName is not a BlueTape company id, mapped only on purpose.
                ]),
                left_out: vec![
                    left_out("inactive", RuleText::equals("Active", &["false"])),
                    // Jobs: a customer's projects, not a second person.
                    left_out("job", RuleText::equals("Job", &["true"])),
                    left_out("job", RuleText::is_blank("ParentRef.value", false)),
                ],
                timezone: None,
                default_country: None,
                ..PresetDefaults::base(SourceFormat::Csv, "")
            },
            Preset::Xero => {
                let mobile = "Phones[PhoneType=MOBILE]";
                PresetDefaults {
                    format: SourceFormat::Json,
                    records_path: "Contacts",
                    fields: FieldMap::from([
                        (Field::Id, one("ContactID")),
                        (
                            Field::FirstName,
                            one("FirstName | ContactPersons[0].FirstName"),
                        ),
                        (
                            Field::LastName,
                            one("LastName | ContactPersons[0].LastName"),
                        ),
                        (
                            Field::EmailAddress,
                            one("EmailAddress | ContactPersons[0].EmailAddress"),
                        ),
                        (
                            Field::CellPhoneNumber,
                            FieldSource::Parts(vec![
                                format!("+{mobile}.PhoneCountryCode"),
                                format!("{mobile}.PhoneAreaCode"),
                                format!("{mobile}.PhoneNumber"),
                            ]),
                        ),
                        (Field::SourceModifiedDate, one("UpdatedDateUTC")),
                    ]),
                    left_out: vec![
                        left_out("archived", RuleText::equals("ContactStatus", &["ARCHIVED"])),
                        left_out(
                            "supplier",
                            RuleText::all(vec![
                                RuleText::equals("IsSupplier", &["true"]),
                                RuleText::equals("IsCustomer", &["false"]),
                            ]),
                        ),
                    ],
                    timezone: None,
                    default_country: None,
                    ..PresetDefaults::base(SourceFormat::Csv, "")
                }
            }
            Preset::ZohoBooks => PresetDefaults {
                format: SourceFormat::Json,
                records_path: "contacts",
                fields: FieldMap::from([
                    (Field::Id, one("contact_id")),
                    (Field::FirstName, one("first_name")),
                    (Field::LastName, one("last_name")),
                    (Field::EmailAddress, one("email")),
                    (Field::CellPhoneNumber, one("mobile | phone")),
                    (Field::SourceModifiedDate, one("last_modified_time")),
                ]),
                left_out: vec![
                    left_out("vendor", RuleText::equals("contact_type", &["vendor"])),
                    left_out("inactive", RuleText::equals("status", &["inactive"])),
                ],
                timezone: None,
                default_country: None,
                ..PresetDefaults::base(SourceFormat::Csv, "")
            },
            Preset::Freshbooks => PresetDefaults {
                format: SourceFormat::Json,
                records_path: "response.result.clients",
                fields: FieldMap::from([
                    (Field::Id, one("id")),
                    (Field::FirstName, one("fname")),
                    (Field::LastName, one("lname")),
                    (Field::EmailAddress, one("email")),
                    (
                        Field::CellPhoneNumber,
                        one("mob_phone | bus_phone | home_phone"),
                    ),
                    (Field::SourceModifiedDate, one("updated")),
                ]),
                left_out: vec![left_out(
                    "deleted or archived",
                    RuleText::equals("vis_state", &["1", "2"]),
                )],
                timezone: Some(chrono_tz::America::New_York),
                default_country: None,
                ..PresetDefaults::base(SourceFormat::Csv, "")
            },
            Preset::SageIntacct => PresetDefaults {
                format: SourceFormat::Csv,
                records_path: "",
                fields: FieldMap::from([
                    (Field::Id, one("CUSTOMERID")),
                    (Field::FirstName, one("DISPLAYCONTACT.FIRSTNAME")),
                    (Field::LastName, one("DISPLAYCONTACT.LASTNAME")),
                    (Field::EmailAddress, one("DISPLAYCONTACT.EMAIL1")),
                    (
                        Field::CellPhoneNumber,
                        one("DISPLAYCONTACT.CELLPHONE | DISPLAYCONTACT.PHONE1"),
                    ),
                    (Field::SourceModifiedDate, one("WHENMODIFIED")),
                ]),
                left_out: vec![left_out(
                    "inactive",
                    RuleText::equals("STATUS", &["inactive"]),
                )],
                timezone: None,
                default_country: None,
                ..PresetDefaults::base(SourceFormat::Csv, "")
            },
            Preset::Myob => {
                let address = "Addresses[Location=1]";
                PresetDefaults {
                    format: SourceFormat::Json,
                    records_path: "Items",
                    fields: FieldMap::from([
                        (Field::Id, one("UID")),
                        (Field::FirstName, one("FirstName")),
                        (Field::LastName, one("LastName")),
                        (
                            Field::EmailAddress,
                            FieldSource::One(format!("{address}.Email")),
                        ),
                        (
                            Field::CellPhoneNumber,
                            FieldSource::One(format!(
                                "{address}.Phone1 | {address}.Phone2 | {address}.Phone3"
                            )),
                        ),
                        (Field::SourceModifiedDate, one("LastModified")),
                    ]),
                    left_out: vec![left_out(
                        "inactive",
                        RuleText::equals("IsActive", &["false"]),
                    )],
                    timezone: None,
                    default_country: Some("AU"),
                    ..PresetDefaults::base(SourceFormat::Csv, "")
                }
            }
        }
    }
}

impl std::str::FromStr for Preset {
    type Err = UnknownPreset;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        let wanted = name.trim();
        Preset::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| UnknownPreset(wanted.to_owned()))
    }
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// See [`Preset::moved_ids`].
#[derive(Debug, Clone, Copy)]
pub struct MovedIds {
    pub from_field: &'static str,
    pub same_value: &'static str,
}

mod exports;
mod invoices;
pub use self::invoices::InvoicePresetDefaults;

#[cfg(test)]
mod tests;
