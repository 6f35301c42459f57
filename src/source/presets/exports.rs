//! The presets for what a bookkeeper can export by clicking (SPEC §12, the table): Xero's and
//! Zoho Books' contacts CSV, NetSuite saved searches, QuickBooks Desktop's IIF, Sage 50 US
//! `CUSTOMER.CSV`, and Business Central's and Odoo's customers.

use super::super::Field;
use super::super::invoices::StatusRules;
use super::super::leave_out::RuleText;
use super::super::mapping::{FieldMap, SourceFormat};
use super::{InvoicePresetDefaults, Preset, PresetDefaults, left_out, one};

impl Preset {
    /// Where a person fixes `field` in a clicked export's system; `None` for the API presets.
    pub(super) fn export_where_to_edit(self, field: Field) -> Option<&'static str> {
        use Field::*;
        Some(match (self, field) {
            (Preset::XeroCsv, CellPhoneNumber) => "the contact's Phones \u{2192} Mobile",
            (Preset::XeroCsv, EmailAddress) => "the contact's primary person \u{2192} Email",
            (Preset::XeroCsv, FirstName | LastName) => "the contact's People (primary person)",
            (Preset::ZohoBooksCsv, CellPhoneNumber) => "the contact's Mobile (or Work Phone)",
            (Preset::ZohoBooksCsv, EmailAddress) => "the contact's Email Address",
            (Preset::ZohoBooksCsv, FirstName | LastName) => "the contact's Primary Contact name",
            (Preset::Netsuite, CellPhoneNumber) => "the customer's Mobile Phone",
            (Preset::Netsuite, EmailAddress) => "the customer's Email",
            (Preset::Netsuite, FirstName | LastName) => {
                "the customer's Individual name (First Name, Last Name), or a contact"
            }
            (Preset::QuickbooksDesktop, CellPhoneNumber) => "the customer's Mobile (Alt. Phone)",
            (Preset::QuickbooksDesktop, EmailAddress) => "the customer's Main Email",
            (Preset::QuickbooksDesktop, FirstName | LastName) => {
                "the customer's Full Name (First, Last)"
            }
            (Preset::Sage50Us, CellPhoneNumber) => "the customer's Telephone 1",
            (Preset::Sage50Us, EmailAddress) => "the customer's E-mail",
            (Preset::Sage50Us, FirstName | LastName) => "the customer's Bill to Contact",
            (Preset::BusinessCentral, CellPhoneNumber) => "the customer's Mobile Phone No.",
            (Preset::BusinessCentral, EmailAddress) => "the customer's Email",
            (Preset::BusinessCentral, FirstName | LastName) => {
                "a customer of type Person (a company's contact person is not exported)"
            }
            (Preset::Odoo, CellPhoneNumber) => "the contact's Mobile",
            (Preset::Odoo, EmailAddress) => "the contact's Email",
            (Preset::Odoo, FirstName | LastName) => "an Individual contact (not a Company)",
            _ => return None,
        })
    }
}

/// Xero's "Export contacts" CSV: no modified date (changes are found by content), no
/// immutable id (`AccountNumber`, else the contact's name).
pub(super) fn xero_csv() -> PresetDefaults {
    PresetDefaults {
        fields: FieldMap::from([
            (Field::Id, one("AccountNumber | *ContactName")),
            (Field::FirstName, one("FirstName | Person1FirstName")),
            (Field::LastName, one("LastName | Person1LastName")),
            (Field::EmailAddress, one("EmailAddress | Person1Email")),
            (Field::CellPhoneNumber, one("MobileNumber | PhoneNumber")),
            (Field::DisplayName, one("*ContactName")),
            (Field::Country, one("POCountry | SACountry")),
        ]),
        phone_parts: true,
        ..PresetDefaults::base(SourceFormat::Csv, "")
    }
}

/// Zoho Books' contacts export (UTF-8 with a BOM); its modified time has no zone.
pub(super) fn zoho_books_csv() -> PresetDefaults {
    PresetDefaults {
        fields: FieldMap::from([
            (Field::Id, one("Contact ID")),
            (Field::FirstName, one("First Name")),
            (Field::LastName, one("Last Name")),
            (Field::EmailAddress, one("EmailID")),
            (Field::CellPhoneNumber, one("MobilePhone | Phone")),
            (Field::SourceModifiedDate, one("Last Modified Time")),
            (Field::DisplayName, one("Display Name")),
            (Field::Country, one("Billing Country")),
        ]),
        left_out: vec![
            left_out("vendor", RuleText::equals("Contact Type", &["vendor"])),
            left_out("inactive", RuleText::equals("Status", &["inactive"])),
        ],
        ..PresetDefaults::base(SourceFormat::Csv, "")
    }
}

/// A NetSuite customer saved search as CSV: `Internal ID` is immutable, `ID` is not.
pub(super) fn netsuite() -> PresetDefaults {
    PresetDefaults {
        fields: FieldMap::from([
            (Field::Id, one("Internal ID")),
            (Field::FirstName, one("First Name")),
            (Field::LastName, one("Last Name")),
            (Field::EmailAddress, one("Email")),
            (Field::CellPhoneNumber, one("Mobile Phone | Phone")),
            (Field::SourceModifiedDate, one("Last Modified")),
            (Field::DisplayName, one("Name")),
        ]),
        left_out: vec![left_out("inactive", RuleText::equals("Inactive", &["yes"]))],
        ..PresetDefaults::base(SourceFormat::Csv, "")
    }
}

/// QuickBooks Desktop's customer list as IIF: tab-separated, the `!CUST` header after other
/// blocks, rows tagged `CUST`. Jobs are `Customer:Job` names.
pub(super) fn quickbooks_desktop() -> PresetDefaults {
    PresetDefaults {
        fields: FieldMap::from([
            (Field::Id, one("REFNUM | NAME")),
            (Field::FirstName, one("FIRSTNAME")),
            (Field::LastName, one("LASTNAME")),
            (Field::EmailAddress, one("EMAIL")),
            (Field::CellPhoneNumber, one("PHONE2 | PHONE1")),
            (Field::DisplayName, one("NAME")),
        ]),
        left_out: vec![
            left_out("hidden", RuleText::equals("HIDDEN", &["y"])),
            left_out("job", RuleText::contains("NAME", ":")),
        ],
        delimiter: Some(b'\t'),
        header_tag: Some("!CUST"),
        ..PresetDefaults::base(SourceFormat::Csv, "")
    }
}

/// Sage 50 US `CUSTOMER.CSV` (File > Select Import/Export), in Windows-1252.
pub(super) fn sage_50_us() -> PresetDefaults {
    PresetDefaults {
        fields: FieldMap::from([
            (Field::Id, one("Customer ID")),
            (Field::FirstName, one("Bill to Contact First Name")),
            (Field::LastName, one("Bill to Contact Last Name")),
            (Field::EmailAddress, one("Customer E-mail")),
            (Field::CellPhoneNumber, one("Telephone 1")),
            (Field::DisplayName, one("Customer Name")),
            (Field::Country, one("Bill to Country")),
        ]),
        left_out: vec![
            left_out("prospect", RuleText::equals("Prospect", &["true"])),
            left_out("inactive", RuleText::equals("Inactive", &["true"])),
        ],
        encoding: Some("windows-1252"),
        ..PresetDefaults::base(SourceFormat::Csv, "")
    }
}

/// Business Central API v2.0 `customers`: `{"value": [...]}`.
pub(super) fn business_central() -> PresetDefaults {
    PresetDefaults {
        fields: FieldMap::from([
            (Field::Id, one("id")),
            (Field::FullName, one("displayName")),
            (Field::EmailAddress, one("email")),
            (Field::CellPhoneNumber, one("phoneNumber")),
            (Field::SourceModifiedDate, one("lastModifiedDateTime")),
            (Field::DisplayName, one("displayName")),
            (Field::Country, one("country")),
        ]),
        left_out: vec![left_out("blocked", RuleText::is_blank("blocked", false))],
        organisation: Some(RuleText::equals("type", &["company"])),
        ..PresetDefaults::base(SourceFormat::Json, "value")
    }
}

/// Odoo's `res.partner` from JSON-RPC `search_read`: the `result` list, `false` for every
/// empty field, `write_date` in UTC without a zone.
pub(super) fn odoo_json() -> PresetDefaults {
    PresetDefaults {
        fields: FieldMap::from([
            (Field::Id, one("id")),
            (Field::FullName, one("name")),
            (Field::EmailAddress, one("email")),
            (Field::CellPhoneNumber, one("mobile | phone")),
            (Field::SourceModifiedDate, one("write_date")),
            (Field::DisplayName, one("name")),
            (Field::Country, one("country_id[1]")),
        ]),
        left_out: vec![
            left_out("archived", RuleText::equals("active", &["false"])),
            left_out("not a customer", RuleText::equals("customer_rank", &["0"])),
        ],
        organisation: Some(RuleText::equals("is_company", &["true"])),
        timezone: Some(chrono_tz::UTC),
        ..PresetDefaults::base(SourceFormat::Json, "result")
    }
}

/// Odoo's export of a contacts list view as CSV: `Active` is `True` or empty, and
/// `Last Updated on` is in the exporting user's zone (set `source.timezone`).
pub(super) fn odoo_csv() -> PresetDefaults {
    PresetDefaults {
        fields: FieldMap::from([
            (Field::Id, one("ID")),
            (Field::FullName, one("Display Name")),
            (Field::EmailAddress, one("Email")),
            (Field::CellPhoneNumber, one("Mobile | Phone")),
            (Field::SourceModifiedDate, one("Last Updated on")),
            (Field::DisplayName, one("Display Name")),
        ]),
        left_out: vec![left_out(
            "archived",
            RuleText::not_equals("Active", &["true"]),
        )],
        organisation: Some(RuleText::equals("Company Type", &["company"])),
        ..PresetDefaults::base(SourceFormat::Csv, "")
    }
}

/// A NetSuite invoice saved search as CSV: money as `"$1,353.13"`, `Amount Remaining` what is
/// due; `Paid In Full` is paid, `Voided` void; no lines.
pub(super) fn netsuite_invoices() -> InvoicePresetDefaults {
    InvoicePresetDefaults {
        export: PresetDefaults {
            fields: FieldMap::from([
                (Field::Id, one("Internal ID")),
                (Field::InvoiceNumber, one("Document Number")),
                (Field::CustomerId, one("Customer Internal ID")),
                (Field::InvoiceDate, one("Date")),
                (Field::DueDate, one("Due Date")),
                (Field::SubTotal, one("Amount (Net)")),
                (Field::TaxAmount, one("Amount (Tax)")),
                (Field::TotalAmount, one("Amount")),
                (Field::AmountDue, one("Amount Remaining")),
                (Field::SourceModifiedDate, one("Last Modified")),
                (Field::Status, one("Status")),
            ]),
            ..PresetDefaults::base(SourceFormat::Csv, "")
        },
        lines: &[],
        statuses: StatusRules {
            paid: vec!["paid in full".into()],
            void: vec!["voided".into()],
            ..StatusRules::default()
        },
    }
}
