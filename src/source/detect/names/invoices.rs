//! The names real invoice exports give their columns (SPEC §9).

use super::super::super::Field;
use super::{FIRST_NAMES, MODIFIED, best};

/// An invoice export's columns, as [`super::names`].
#[rustfmt::skip]
pub(super) fn names(field: Field) -> &'static [&'static str] {
    match field {
        Field::Id => &["invoiceid", "internalid", "id", "transactionid", "documentid", "txnid"],
        Field::InvoiceNumber => &[
            "invoicenumber", "invoiceno", "documentnumber", "docnumber", "number", "invoicenum",
            "refnumber", "invoice",
        ],
        Field::CustomerId => &[
            "customerid", "customerinternalid", "customerno", "customernumber", "customercode",
            "accountno", "accountnumber", "clientid", "contactid", "customerref", "debtorno",
        ],
        Field::InvoiceDate => &["invoicedate", "date", "txndate", "documentdate", "issuedate"],
        Field::DueDate => &["duedate", "paymentdue", "due", "dateDue"],
        Field::SubTotal => &["subtotal", "amountnet", "netamount", "net", "totalnet"],
        Field::TaxAmount => &["taxamount", "amounttax", "tax", "totaltax", "vat", "vatamount"],
        Field::TotalAmount => &["totalamount", "total", "amount", "grandtotal", "totalamt", "gross"],
        Field::AmountDue => &[
            "amountdue", "balance", "amountremaining", "balancedue", "outstanding", "amountopen",
            "openbalance",
        ],
        Field::SourceModifiedDate => MODIFIED,
        Field::Status => &["status", "invoicestatus", "state"],
        _ => &[],
    }
}

/// Whether the columns are an invoice export's: an invoice number and an amount, and no
/// person's first name.
pub(in crate::source::detect) fn looks_like_invoices(columns: &[String]) -> bool {
    let has = |field| best(columns, names(field)).is_some();
    has(Field::InvoiceNumber)
        && (has(Field::AmountDue) || has(Field::TotalAmount))
        && best(columns, FIRST_NAMES).is_none()
}
