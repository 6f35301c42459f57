//! The presets' invoice exports (SPEC §9, the table): QuickBooks Online's and Xero's invoice
//! queries. The other systems have none yet; their invoices are mapped by hand.

use super::super::invoices::StatusRules;
use super::super::leave_out::RuleText;
use super::super::mapping::{FieldMap, SourceFormat};
use super::super::{Field, LineField};
use super::{Preset, PresetDefaults, left_out, one};

/// What a preset fills in for its invoice export.
pub struct InvoicePresetDefaults {
    pub export: PresetDefaults,
    /// Each line field's path inside one line.
    pub lines: &'static [(LineField, &'static str)],
    pub statuses: StatusRules,
}

impl Preset {
    /// The presets with an invoice export, for messages.
    pub fn with_invoices() -> String {
        Preset::ALL
            .into_iter()
            .filter(|p| p.invoice_defaults().is_some())
            .map(Preset::name)
            .collect::<Vec<_>>()
            .join(" or ")
    }

    /// What the preset fills in for `[invoices]`, when the system has an invoice export.
    pub fn invoice_defaults(self) -> Option<InvoicePresetDefaults> {
        match self {
            // `{"QueryResponse": {"Invoice": [...]}}`. subTotal is TotalAmt less the tax (the
            // sub-total left unmapped is worked out so); a void invoice keeps its lines with a
            // "Voided" note; the sub-total line (`SubTotalLineDetail`) is not a line. A deleted
            // one is `{"Id", "status": "Deleted", "MetaData"}` (change data capture).
            Preset::QuickbooksOnline => Some(InvoicePresetDefaults {
                export: PresetDefaults {
                    format: SourceFormat::Json,
                    records_path: "QueryResponse.Invoice",
                    fields: FieldMap::from([
                        (Field::Id, one("Id")),
                        (Field::InvoiceNumber, one("DocNumber")),
                        (Field::CustomerId, one("CustomerRef.value")),
                        (Field::InvoiceDate, one("TxnDate")),
                        (Field::DueDate, one("DueDate")),
                        (Field::TaxAmount, one("TxnTaxDetail.TotalTax")),
                        (Field::TotalAmount, one("TotalAmt")),
                        (Field::AmountDue, one("Balance")),
                        (Field::SourceModifiedDate, one("MetaData.LastUpdatedTime")),
                        // `status` is only on a deleted invoice, as change data capture
                        // lists it.
                        (Field::Status, one("status | PrivateNote")),
                        (Field::Lines, one("Line[DetailType=SalesItemLineDetail]")),
                    ]),
                    left_out: vec![],
                    timezone: None,
                    default_country: None,
                    ..PresetDefaults::base(SourceFormat::Json, "")
                },
                lines: &[
                    (LineField::Description, "Description"),
                    (LineField::UnitAmount, "SalesItemLineDetail.UnitPrice"),
                    (LineField::Quantity, "SalesItemLineDetail.Qty"),
                    (LineField::SubTotal, "Amount"),
                    (LineField::TotalAmount, "Amount"),
                ],
                statuses: StatusRules {
                    draft: Vec::new(),
                    void: vec!["Deleted".into()],
                    paid: Vec::new(),
                    void_prefix: Some("Voided"),
                    paid_when_nothing_due: true,
                },
            }),
            // `{"Invoices": [...]}`: sales invoices (`ACCREC`) and bills (`ACCPAY`). A line's
            // LineAmount includes tax when the invoice's LineAmountTypes is `Inclusive`.
            Preset::Xero => Some(InvoicePresetDefaults {
                export: PresetDefaults {
                    format: SourceFormat::Json,
                    records_path: "Invoices",
                    fields: FieldMap::from([
                        (Field::Id, one("InvoiceID")),
                        (Field::InvoiceNumber, one("InvoiceNumber")),
                        (Field::CustomerId, one("Contact.ContactID")),
                        (Field::InvoiceDate, one("Date")),
                        (Field::DueDate, one("DueDate")),
                        (Field::SubTotal, one("SubTotal")),
                        (Field::TaxAmount, one("TotalTax")),
                        (Field::TotalAmount, one("Total")),
                        (Field::AmountDue, one("AmountDue")),
                        (Field::SourceModifiedDate, one("UpdatedDateUTC")),
                        (Field::Status, one("Status")),
                        (Field::Lines, one("LineItems")),
                        (Field::LineAmounts, one("LineAmountTypes")),
                    ]),
                    left_out: vec![left_out("bill", RuleText::not_equals("Type", &["ACCREC"]))],
                    timezone: None,
                    default_country: None,
                    ..PresetDefaults::base(SourceFormat::Json, "")
                },
                lines: &[
                    (LineField::Description, "Description"),
                    (LineField::UnitAmount, "UnitAmount"),
                    (LineField::Quantity, "Quantity"),
                    (LineField::TaxAmount, "TaxAmount"),
                    (LineField::Amount, "LineAmount"),
                ],
                statuses: StatusRules {
                    draft: vec!["DRAFT".into(), "SUBMITTED".into()],
                    void: vec!["VOIDED".into(), "DELETED".into()],
                    paid: vec!["PAID".into()],
                    void_prefix: None,
                    paid_when_nothing_due: true,
                },
            }),
            Preset::Netsuite => Some(super::exports::netsuite_invoices()),
            Preset::ZohoBooks
            | Preset::Freshbooks
            | Preset::SageIntacct
            | Preset::Myob
            | Preset::XeroCsv
            | Preset::ZohoBooksCsv
            | Preset::QuickbooksDesktop
            | Preset::Sage50Us
            | Preset::BusinessCentral
            | Preset::Odoo => None,
        }
    }
}
