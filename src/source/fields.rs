//! What a record is and what it holds: the kinds (customer, invoice), the API fields of each,
//! and an invoice line's fields. The vocabulary every station shares.

use std::fmt;

/// What the export says of a record beyond its fields: a customer is always open; an
/// invoice's status may say it is a draft, paid or void (SPEC §9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Sent, and kept in step.
    Open,
    /// Not sent yet: left out until it changes.
    Draft,
    /// Left out if never sent; an update if it was.
    Paid,
    /// Left out if never sent; cancelled if it was.
    Void,
}

/// What a record is: a customer, or one of a customer's invoices (SPEC §9). Each kind has
/// its own export, its own fields and its own records in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Customer,
    Invoice,
}

/// What a kind is, all in one place: adding a kind is adding one of these.
struct About {
    /// As the store and the commands name it.
    name: &'static str,
    /// Its records, as lines, `status` and the pass history name them.
    plural: &'static str,
    /// The config section of its export.
    section: &'static str,
    /// The store name its export has unless the section names one.
    default_name: &'static str,
    /// The largest request body BlueTape is sent for one record (SPEC §10).
    body_limit: usize,
    /// Its API fields, in body order.
    fields: &'static [Field],
    /// The fields a record cannot be sent without (what `init` must find).
    required: &'static [Field],
}

const CUSTOMER: About = About {
    name: "customer",
    plural: "customers",
    section: "source",
    default_name: "default",
    body_limit: 64 * 1024,
    fields: &[
        Field::Id,
        Field::FirstName,
        Field::LastName,
        Field::EmailAddress,
        Field::CellPhoneNumber,
        Field::SourceModifiedDate,
        Field::CompanyId,
        Field::DisplayName,
        Field::FullName,
        Field::Country,
        Field::ParentId,
    ],
    required: &[
        Field::Id,
        Field::FirstName,
        Field::LastName,
        Field::EmailAddress,
        Field::CellPhoneNumber,
    ],
};

const INVOICE: About = About {
    name: "invoice",
    plural: "invoices",
    section: "invoices",
    default_name: "invoices",
    body_limit: 1024 * 1024,
    fields: &[
        Field::Id,
        Field::InvoiceNumber,
        Field::CustomerId,
        Field::InvoiceDate,
        Field::DueDate,
        Field::ExpirationDate,
        Field::SubTotal,
        Field::TaxAmount,
        Field::TotalAmount,
        Field::AmountDue,
        Field::SourceModifiedDate,
        Field::Status,
        Field::Lines,
        Field::LineAmounts,
    ],
    required: &[
        Field::Id,
        Field::InvoiceNumber,
        Field::CustomerId,
        Field::InvoiceDate,
        Field::DueDate,
        Field::TotalAmount,
        Field::AmountDue,
    ],
};

impl Kind {
    pub const ALL: [Kind; 2] = [Kind::Customer, Kind::Invoice];

    fn about(self) -> &'static About {
        match self {
            Kind::Customer => &CUSTOMER,
            Kind::Invoice => &INVOICE,
        }
    }

    /// Its API fields, in body order.
    pub fn fields(self) -> &'static [Field] {
        self.about().fields
    }

    /// `customer` or `invoice`, as the store and the commands name it.
    pub fn name(self) -> &'static str {
        self.about().name
    }

    /// `customers` or `invoices`: the kind's records, as lines, `status` and the pass history
    /// name them.
    pub fn plural(self) -> &'static str {
        self.about().plural
    }

    /// The fields a record of this kind cannot be sent without (what `init` must find).
    pub fn required(self) -> &'static [Field] {
        self.about().required
    }

    /// The store name its export has unless the section names one (`name`).
    pub fn default_name(self) -> &'static str {
        self.about().default_name
    }

    /// The largest request body BlueTape is sent for one record of this kind (SPEC §10).
    pub fn body_limit(self) -> usize {
        self.about().body_limit
    }

    /// The config section of its export: `source` or `invoices`.
    pub fn section(self) -> &'static str {
        self.about().section
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Kind {
    type Err = String;

    /// A kind by its [`Kind::name`].
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Kind::ALL
            .into_iter()
            .find(|kind| kind.name() == name)
            .ok_or_else(|| format!("`{name}` is not a kind of record"))
    }
}

/// As its name (`customer`), in `failures` and `show`'s JSON.
impl serde::Serialize for Kind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

/// The API's fields of every kind; [`Kind::fields`] says which are whose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    Id,
    FirstName,
    LastName,
    EmailAddress,
    CellPhoneNumber,
    SourceModifiedDate,
    CompanyId,
    InvoiceNumber,
    CustomerId,
    InvoiceDate,
    DueDate,
    ExpirationDate,
    SubTotal,
    TaxAmount,
    TotalAmount,
    AmountDue,
    /// Where the source's status is (not sent: it decides what is sent).
    Status,
    /// Where the list of lines is.
    Lines,
    /// Whether the lines' `amount` includes tax: `Inclusive`, else it does not (Xero's
    /// `LineAmountTypes`; not sent).
    LineAmounts,
    /// The name the accounting system shows (an organisation's, or a person's), for
    /// `failures` and `show` (not sent).
    DisplayName,
    /// A person's whole name, split into first and last name when those are absent (not sent).
    FullName,
    /// The customer's country, for its phone number when written without `+country` (not sent).
    Country,
    /// The customer a sub-customer (a job) belongs to: its invoices go to BlueTape under the
    /// top-level customer (not sent).
    ParentId,
}

impl Field {
    /// The field in words, as advice names it: `mobile number`, `invoice date`.
    pub fn words(self) -> &'static str {
        match self {
            Field::Id => "id",
            Field::FirstName => "first name",
            Field::LastName => "last name",
            Field::EmailAddress => "email address",
            Field::CellPhoneNumber => "mobile number",
            Field::SourceModifiedDate => "modified date",
            Field::CompanyId => "company id",
            Field::InvoiceNumber => "invoice number",
            Field::CustomerId => "customer id",
            Field::InvoiceDate => "invoice date",
            Field::DueDate => "due date",
            Field::ExpirationDate => "expiration date",
            Field::SubTotal => "sub-total",
            Field::TaxAmount => "tax amount",
            Field::TotalAmount => "total amount",
            Field::AmountDue => "amount due",
            Field::Status => "status",
            Field::Lines => "lines",
            Field::LineAmounts => "line amount type",
            Field::DisplayName => "display name",
            Field::FullName => "whole name",
            Field::Country => "country",
            Field::ParentId => "parent customer",
        }
    }

    /// Every field of every kind.
    pub const ALL: [Field; 23] = [
        Field::Id,
        Field::FirstName,
        Field::LastName,
        Field::EmailAddress,
        Field::CellPhoneNumber,
        Field::SourceModifiedDate,
        Field::CompanyId,
        Field::InvoiceNumber,
        Field::CustomerId,
        Field::InvoiceDate,
        Field::DueDate,
        Field::ExpirationDate,
        Field::SubTotal,
        Field::TaxAmount,
        Field::TotalAmount,
        Field::AmountDue,
        Field::Status,
        Field::Lines,
        Field::LineAmounts,
        Field::DisplayName,
        Field::FullName,
        Field::Country,
        Field::ParentId,
    ];

    /// The API's name of the field, as in `[source.fields]` and `[invoices.fields]`.
    pub fn api_name(self) -> &'static str {
        match self {
            Field::Id => "id",
            Field::FirstName => "firstName",
            Field::LastName => "lastName",
            Field::EmailAddress => "emailAddress",
            Field::CellPhoneNumber => "cellPhoneNumber",
            Field::SourceModifiedDate => "sourceModifiedDate",
            Field::CompanyId => "companyId",
            Field::InvoiceNumber => "invoiceNumber",
            Field::CustomerId => "customerId",
            Field::InvoiceDate => "invoiceDate",
            Field::DueDate => "dueDate",
            Field::ExpirationDate => "expirationDate",
            Field::SubTotal => "subTotal",
            Field::TaxAmount => "taxAmount",
            Field::TotalAmount => "totalAmount",
            Field::AmountDue => "amountDue",
            Field::Status => "status",
            Field::Lines => "lines",
            Field::LineAmounts => "lineAmounts",
            Field::DisplayName => "displayName",
            Field::FullName => "fullName",
            Field::Country => "country",
            Field::ParentId => "parentId",
        }
    }

    /// Where a record of `kind` keeps this field: its place in [`Kind::fields`], or `None`
    /// when the kind has no such field.
    pub(super) fn slot(self, kind: Kind) -> Option<usize> {
        kind.fields().iter().position(|f| *f == self)
    }

    /// Read only where mapped, and then only to help with the fields sent: a record without
    /// it hashes as it did before the field existed.
    pub(super) fn only_when_mapped(self) -> bool {
        matches!(
            self,
            Field::DisplayName | Field::FullName | Field::Country | Field::ParentId
        )
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.api_name())
    }
}

/// The fields of an invoice's line, in body order, and `amount`: the line's amount as written,
/// with or without tax as the invoice's `lineAmounts` says (not sent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LineField {
    Description,
    UnitAmount,
    Quantity,
    SubTotal,
    TaxAmount,
    TotalAmount,
    Amount,
}

impl LineField {
    pub const ALL: [LineField; 7] = [
        LineField::Description,
        LineField::UnitAmount,
        LineField::Quantity,
        LineField::SubTotal,
        LineField::TaxAmount,
        LineField::TotalAmount,
        LineField::Amount,
    ];

    /// The API's name, as in `[invoices.line_fields]`.
    pub fn api_name(self) -> &'static str {
        match self {
            LineField::Description => "description",
            LineField::UnitAmount => "unitAmount",
            LineField::Quantity => "quantity",
            LineField::SubTotal => "subTotal",
            LineField::TaxAmount => "taxAmount",
            LineField::TotalAmount => "totalAmount",
            LineField::Amount => "amount",
        }
    }
}

impl fmt::Display for LineField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.api_name())
    }
}
