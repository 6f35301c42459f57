//! Validation and normalisation (SPEC §4): a raw record from the export becomes the API body,
//! or a rejection naming the field and what is wrong with it (never the value itself).

pub mod amount;
pub mod country;
pub mod invoice;
pub mod names;
pub mod phone;

mod values;

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use self::phone::PhoneNormaliser;
use crate::source::config::SourceConfig;
use crate::source::timestamp::{TimestampParser, format_api};
pub use crate::source::{Field, Kind, RawRecord};

/// The API body of `POST /integration/customer` (SPEC §2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    pub id: String,
    pub first_name: String,
    pub last_name: String,
    pub email_address: String,
    pub cell_phone_number: String,
    pub source_modified_date: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company_id: Option<String>,
}

/// The body of `PUT /integration/customer/{id}`: the create body without `id` and `companyId`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CustomerUpdate<'a> {
    first_name: &'a str,
    last_name: &'a str,
    email_address: &'a str,
    cell_phone_number: &'a str,
    source_modified_date: &'a str,
}

impl Customer {
    /// The body of `POST /integration/customer`; the store keeps the customer as this text.
    pub fn create_body(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }

    /// The body of `PUT /integration/customer/{id}`.
    pub fn update_body(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(&CustomerUpdate {
            first_name: &self.first_name,
            last_name: &self.last_name,
            email_address: &self.email_address,
            cell_phone_number: &self.cell_phone_number,
            source_modified_date: &self.source_modified_date,
        })
    }

    /// A customer as the store keeps it (its create body); an error when the text is not one.
    pub fn from_stored(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }
}

/// Why a record is not sent: the field and the problem, never the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub field: Field,
    pub problem: String,
}

impl Rejection {
    const MISSING: &str = "missing";

    fn new(field: Field, problem: impl fmt::Display) -> Self {
        Self {
            field,
            problem: problem.to_string(),
        }
    }

    /// A body that cannot be written as JSON: that record alone is not sent.
    pub fn unwritable(error: &serde_json::Error) -> Self {
        Self::new(
            Field::Id,
            format!("its body cannot be written as JSON: {error}"),
        )
    }

    /// The field has no value.
    pub fn is_missing(&self) -> bool {
        self.problem == Self::MISSING
    }

    /// A reason as the store keeps it (this type's text) read back; `None` for a reason that
    /// is not about a field of the record (BlueTape's own answer, say).
    pub fn from_stored(reason: &str) -> Option<Self> {
        let (name, problem) = reason.split_once(": ")?;
        let field = Field::ALL.into_iter().find(|f| f.api_name() == name)?;
        Some(Self::new(field, problem))
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.problem)
    }
}

/// Validates and normalises raw records with the source's settings.
#[derive(Debug, Clone)]
pub struct Normaliser {
    timestamps: TimestampParser,
    phones: PhoneNormaliser,
}

impl Normaliser {
    pub fn new(timestamps: TimestampParser, phones: PhoneNormaliser) -> Self {
        Self { timestamps, phones }
    }

    /// With the source's zone, date form and default country.
    pub fn for_source(config: &SourceConfig) -> Self {
        Self::new(
            TimestampParser::new(config.timezone, config.datetime_format.clone()),
            PhoneNormaliser::new(config.default_country),
        )
    }

    pub fn timestamps(&self) -> &TimestampParser {
        &self.timestamps
    }

    /// The record's `sourceModifiedDate`, read first because it decides whether the record
    /// needs any more work.
    pub fn modified(&self, raw: &RawRecord) -> Result<DateTime<Utc>, Rejection> {
        modified(&self.timestamps, raw)
    }

    /// The API body for a record whose date has been read.
    pub fn customer(
        &self,
        raw: &RawRecord,
        modified: DateTime<Utc>,
    ) -> Result<Customer, Rejection> {
        values::check(raw)?;
        let id = required(raw, Field::Id)?;
        let (first_name, last_name) = names::person_name(raw)?;
        let email = first_deliverable_email(required(raw, Field::EmailAddress)?)
            .ok_or_else(|| Rejection::new(Field::EmailAddress, "not a valid email address"))?;
        let phone = required(raw, Field::CellPhoneNumber)?;
        // A country of the record's own wins over source.default_country.
        let phone = match raw.get(Field::Country).and_then(country::country_id) {
            Some(country) => self.phones.normalise_in(phone, country),
            None => self.phones.normalise(phone),
        }
        .map_err(|e| Rejection::new(Field::CellPhoneNumber, e))?;
        let customer = Customer {
            id: id.to_owned(),
            first_name: first_name.into_owned(),
            last_name: last_name.into_owned(),
            email_address: email.to_owned(),
            cell_phone_number: phone,
            source_modified_date: format_api(modified),
            company_id: raw.get(Field::CompanyId).map(str::to_owned),
        };
        values::check_size(&customer, raw)?;
        Ok(customer)
    }
}

/// The address to send: the field itself, or, where it holds several separated by `,` or `;`
/// (as QuickBooks allows), the first of them that is deliverable.
fn first_deliverable_email(field: &str) -> Option<&str> {
    if is_deliverable_email(field) {
        return Some(field);
    }
    field
        .split([',', ';'])
        .map(str::trim)
        .find(|one| is_deliverable_email(one))
}

/// RFC 5321 syntax, and a domain with a dot: BlueTape sends invitations to it.
fn is_deliverable_email(email: &str) -> bool {
    email_address::EmailAddress::is_valid(email)
        && email
            .rsplit_once('@')
            .is_some_and(|(_, domain)| domain.contains('.') && !domain.ends_with('.'))
}

/// A record's `sourceModifiedDate`, read with `parser`: what every kind reads first, because
/// it decides whether the record needs any more work.
pub fn modified(parser: &TimestampParser, raw: &RawRecord) -> Result<DateTime<Utc>, Rejection> {
    // Its values were not kept: the date is not there to read.
    values::check_oversized(raw)?;
    let text = required(raw, Field::SourceModifiedDate)?;
    parser
        .parse(text)
        .map_err(|e| Rejection::new(Field::SourceModifiedDate, e))
}

fn required(raw: &RawRecord, field: Field) -> Result<&str, Rejection> {
    match raw.get(field) {
        Some(v) => Ok(v),
        None => Err(Rejection::new(field, Rejection::MISSING)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::timestamp::TimestampError;

    fn normaliser() -> Normaliser {
        Normaliser::new(
            TimestampParser::new(chrono_tz::UTC, None),
            PhoneNormaliser::new(phonenumber::country::Id::US),
        )
    }

    fn raw(values: [&str; 7]) -> RawRecord {
        let mut r = RawRecord::new(Kind::Customer, "test row 2".into());
        for (field, value) in Kind::Customer.fields().iter().zip(values) {
            r.set(*field, value);
        }
        r
    }

    fn check(r: &RawRecord) -> Result<Customer, Rejection> {
        let n = normaliser();
        let modified = n.modified(r)?;
        n.customer(r, modified)
    }

    const GOOD: [&str; 7] = [
        "C1",
        " Ada ",
        "Lovelace",
        "ada@example.com",
        "(626) 555-0100",
        "2023-01-04 09:47:57.477",
        "",
    ];

    #[test]
    fn an_update_body_is_the_create_body_without_id_and_company() {
        let mut raw = raw(GOOD);
        raw.set(Field::CompanyId, "CO-1");
        let stored = check(&raw).expect("valid").create_body().expect("json");
        let customer = Customer::from_stored(&stored).expect("a customer");
        let update: serde_json::Value =
            serde_json::from_str(&customer.update_body().expect("json")).expect("json");
        assert_eq!(
            update,
            serde_json::json!({
                "firstName": "Ada", "lastName": "Lovelace",
                "emailAddress": "ada@example.com", "cellPhoneNumber": "+16265550100",
                "sourceModifiedDate": "2023-01-04T09:47:57.477Z"
            })
        );
        for broken in ["[1, 2]", "\"text\"", "{\"id\": \"C1\"}", "not json"] {
            assert!(Customer::from_stored(broken).is_err(), "{broken}");
        }
    }

    #[test]
    fn a_good_record_becomes_the_api_body() {
        let c = check(&raw(GOOD)).expect("valid");
        assert_eq!(
            serde_json::to_value(&c).expect("json"),
            serde_json::json!({
                "id": "C1", "firstName": "Ada", "lastName": "Lovelace",
                "emailAddress": "ada@example.com", "cellPhoneNumber": "+16265550100",
                "sourceModifiedDate": "2023-01-04T09:47:57.477Z"
            })
        );
        let mut with_company = GOOD;
        with_company[6] = "ACME-1";
        let c = check(&raw(with_company)).expect("valid");
        assert_eq!(c.company_id.as_deref(), Some("ACME-1"));
    }

    #[test]
    fn each_problem_names_its_field_and_not_the_value() {
        let cases = [
            (1, "", "firstName: missing"),
            (2, "   ", "lastName: missing"),
            (
                3,
                "ada.example.com",
                "emailAddress: not a valid email address",
            ),
            (
                3,
                "ada@localhost",
                "emailAddress: not a valid email address",
            ),
            (
                4,
                "+11234567890",
                "cellPhoneNumber: not a valid number for its region",
            ),
            (4, "n/a", "cellPhoneNumber: not a phone number"),
            (
                5,
                "someday",
                "sourceModifiedDate: not a recognised date-time format",
            ),
            (0, "", "id: missing"),
        ];
        for (index, value, expected) in cases {
            let mut values = GOOD;
            values[index] = value;
            let err = check(&raw(values)).expect_err(expected);
            assert_eq!(err.to_string(), expected);
            if !value.trim().is_empty() {
                assert!(!err.to_string().contains(value.trim()), "{err}");
            }
        }
    }

    #[test]
    fn a_field_of_several_addresses_sends_the_first_deliverable_one() {
        let cases = [
            ("ada@example.com", Some("ada@example.com")),
            ("ada@example.com, bob@example.com", Some("ada@example.com")),
            ("ada@example.com;bob@example.com", Some("ada@example.com")),
            ("not-an-address; bob@example.com", Some("bob@example.com")),
            ("ada@localhost, ", None),
            (";,", None),
        ];
        for (field, expected) in cases {
            assert_eq!(first_deliverable_email(field), expected, "{field}");
        }
    }

    #[test]
    fn content_hash_changes_with_content_only() {
        let a = raw(GOOD);
        let mut b = raw(GOOD);
        b.location = "other row 9".into();
        assert_eq!(a.content_hash(), b.content_hash());
        let mut values = GOOD;
        values[3] = "ada@example.org";
        assert_ne!(a.content_hash(), raw(values).content_hash());
    }

    #[test]
    fn a_stored_reason_reads_back_as_its_rejection() {
        for rejection in [
            Rejection::new(Field::CellPhoneNumber, Rejection::MISSING),
            Rejection::new(Field::EmailAddress, "not a valid email address"),
            Rejection::new(Field::SourceModifiedDate, TimestampError::Unrecognised),
        ] {
            assert_eq!(
                Rejection::from_stored(&rejection.to_string()),
                Some(rejection)
            );
        }
        assert!(
            Rejection::from_stored("cellPhoneNumber: missing")
                .expect("parsed")
                .is_missing()
        );
        assert_eq!(Rejection::from_stored("BlueTape answered 400: bad"), None);
        assert_eq!(Rejection::from_stored("no field here"), None);
    }
}
