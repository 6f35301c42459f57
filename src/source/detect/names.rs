//! Which column holds each field, from the names real exports give them.

use super::super::mapping::{FieldMap, FieldSource};
use super::super::{Field, Kind};

mod invoices;

pub(super) use self::invoices::looks_like_invoices;

/// Names of each field's column in real exports, compared with case, spaces, `_`, `-` and
/// other punctuation ignored; the better names first.
fn names(kind: Kind, field: Field) -> &'static [&'static str] {
    match kind {
        Kind::Customer => customer_names(field),
        Kind::Invoice => invoices::names(field),
    }
}

/// A customer export's columns, as [`names`].
fn customer_names(field: Field) -> &'static [&'static str] {
    match field {
        Field::Id => IDS,
        Field::FirstName => FIRST_NAMES,
        Field::LastName => LAST_NAMES,
        Field::EmailAddress => EMAILS,
        Field::CellPhoneNumber => MOBILES,
        Field::SourceModifiedDate => MODIFIED,
        // Only a column that is plainly a BlueTape company id.
        Field::CompanyId => &["companyid", "bluetapecompanyid"],
        Field::DisplayName => DISPLAY_NAMES,
        // Only a column plainly a person's whole name: a customer's `Name` may be a company's.
        Field::FullName => &[
            "fullname",
            "contactname",
            "contactperson",
            "contactfullname",
        ],
        Field::Country => COUNTRIES,
        _ => &[],
    }
}

#[rustfmt::skip]
const IDS: &[&str] = &[
    "internalid", "id", "customerid", "customerno", "customernumber", "customercode", "customerref", "custid",
    "custno", "accountno", "accountnumber", "accountid", "accountcode", "clientid", "clientno",
    "clientnumber", "contactid", "debtorid", "debtorno", "debtorcode", "externalid", "uid",
    "recordid",
];
#[rustfmt::skip]
const FIRST_NAMES: &[&str] = &[
    "firstname", "fname", "givenname", "forename", "first", "contactfirstname",
];
#[rustfmt::skip]
const LAST_NAMES: &[&str] = &[
    "lastname", "lname", "familyname", "surname", "last", "contactlastname",
];
#[rustfmt::skip]
const DISPLAY_NAMES: &[&str] = &[
    "displayname", "customername", "name", "companyname", "company", "clientname",
    "accountname",
];
#[rustfmt::skip]
const COUNTRIES: &[&str] = &[
    "country", "countrycode", "billingcountry", "billtocountry", "pocountry", "sacountry",
    "countryid", "billingaddresscountry", "addresscountry",
];
#[rustfmt::skip]
const EMAILS: &[&str] = &[
    "emailaddress", "email", "mail", "emailaddr", "primaryemail", "primaryemailaddress",
    "contactemail", "email1", "customeremail",
];
#[rustfmt::skip]
const MOBILES: &[&str] = &[
    "cellphonenumber", "mobile", "mobilephone", "mobileno", "mobilenumber", "mobilephonenumber",
    "cellphone", "cell", "cellnumber", "cellno", "mob", "mobphone",
];
#[rustfmt::skip]
const MODIFIED: &[&str] = &[
    "sourcemodifieddate", "lastmodified", "datelastmodified", "modified", "modifiedat",
    "modifieddate", "modifiedon", "modifiedtime", "datemodified", "lastmodifieddate",
    "lastmodifiedtime", "lastmodifiedat", "lastmodifieddatetime", "updated", "updatedat",
    "updatedon", "updatedtime", "updateddate", "lastupdated", "lastupdatedtime", "lastupdatedat",
    "dateupdated", "updateddateutc", "whenmodified", "changed", "changedat", "lastchanged",
    "datechanged",
];
/// Landline and general phone columns: the mobile's fallback, never its first choice.
#[rustfmt::skip]
const PHONES: &[&str] = &[
    "phone", "phonenumber", "telephone", "telephonenumber", "tel", "phone1", "primaryphone",
    "contactphone", "businessphone", "workphone", "phoneno",
];

fn normalise(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The column whose name (or, for a nested key, whose last key) is the best of `wanted`.
fn best<'c>(columns: &'c [String], wanted: &[&str]) -> Option<&'c String> {
    let rank = |column: &String| {
        let whole = normalise(column);
        let leaf = normalise(column.rsplit('.').next().unwrap_or(column));
        wanted
            .iter()
            .position(|w| *w == whole)
            .map(|i| (i, 0))
            .or_else(|| wanted.iter().position(|w| *w == leaf).map(|i| (i, 1)))
    };
    columns
        .iter()
        .filter_map(|c| Some((rank(c)?, c)))
        .min_by_key(|(rank, _)| *rank)
        .map(|(_, c)| c)
}

pub(super) fn map_columns(columns: &[String], kind: Kind) -> (FieldMap, Vec<(Field, String)>) {
    let mut fields = FieldMap::default();
    let mut reasons = Vec::new();
    for &field in kind.fields() {
        let found = best(columns, names(kind, field));
        let source = match (field, found) {
            (Field::CellPhoneNumber, mobile) if kind == Kind::Customer => {
                let phone = best(columns, PHONES);
                match (mobile, phone) {
                    (Some(m), Some(p)) => {
                        reasons.push((
                            field,
                            format!("`{m}`, else `{p}` (a phone that may be a landline)"),
                        ));
                        Some(format!("{m} | {p}"))
                    }
                    (Some(m), None) => {
                        reasons.push((field, format!("`{m}`: a common name for a mobile")));
                        Some(m.clone())
                    }
                    (None, Some(p)) => {
                        reasons.push((
                            field,
                            format!(
                                "`{p}`: no mobile column, a general phone (a landline is rejected)"
                            ),
                        ));
                        Some(p.clone())
                    }
                    (None, None) => None,
                }
            }
            (_, Some(column)) => {
                reasons.push((
                    field,
                    format!("`{column}`: a common name for {}", field.api_name()),
                ));
                Some(column.clone())
            }
            (_, None) => None,
        };
        if let Some(source) = source {
            fields.set(field, FieldSource::One(source));
        }
    }
    // An invoice export without an id column: the invoice number, which an issued invoice
    // keeps.
    if kind == Kind::Invoice
        && fields.get(Field::Id).is_none()
        && let Some(number) = fields.get(Field::InvoiceNumber).cloned()
    {
        reasons.push((
            Field::Id,
            format!("`{number}`: no id column; an issued invoice keeps its number"),
        ));
        fields.set(Field::Id, number);
    }
    (fields, reasons)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| (*v).to_owned()).collect()
    }

    fn mapped(columns: &[&str]) -> Vec<String> {
        let (fields, _) = map_columns(&strings(columns), Kind::Customer);
        Kind::Customer
            .fields()
            .iter()
            .map(|f| fields.get(*f).map(ToString::to_string).unwrap_or_default())
            .collect()
    }

    /// The header spellings of whole exports are tested end to end with `init`
    /// (tests/init.rs); here, the choices between columns.
    #[test]
    fn the_better_name_wins_and_punctuation_and_case_do_not_matter() {
        assert_eq!(
            mapped(&[
                "Notes",
                "Account No.",
                "Customer_ID",
                "E-MAIL",
                "FIRST NAME",
                "Surname"
            ]),
            [
                "Customer_ID",
                "FIRST NAME",
                "Surname",
                "E-MAIL",
                "",
                "",
                "",
                "",
                "",
                "",
                ""
            ]
        );
        // A mobile and a general phone: the mobile, else the phone; a phone alone is taken.
        assert_eq!(mapped(&["Phone", "Mobile"])[4], "Mobile | Phone");
        assert_eq!(mapped(&["Telephone"])[4], "Telephone");
        // Nested JSON keys by their last key, a top-level key first.
        assert_eq!(mapped(&["contact.email", "email"])[3], "email");
        assert_eq!(
            mapped(&["meta.updated_at", "contact.email"])[5],
            "meta.updated_at"
        );
        // A company name is not a BlueTape company id.
        assert_eq!(
            mapped(&["Company", "Company Name", "CompanyId"])[6],
            "CompanyId"
        );
        assert_eq!(mapped(&["Company", "Company Name"])[6], "");
        // The name the system shows, a person's whole name, and the country.
        let all = mapped(&["Name", "Contact Name", "Bill to Country", "Company Name"]);
        assert_eq!(all[7..10], ["Name", "Contact Name", "Bill to Country"]);
    }
}
