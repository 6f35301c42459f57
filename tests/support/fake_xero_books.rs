//! The fake Xero organisation's records, and its answers: a list, a problem, a throttle.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::support::fake_provider::{Fault, ProviderRequest, Reply};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Contacts,
    Invoices,
}

impl Kind {
    pub fn id_field(self) -> &'static str {
        match self {
            Kind::Contacts => "ContactID",
            Kind::Invoices => "InvoiceID",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Contacts => "Contacts",
            Kind::Invoices => "Invoices",
        }
    }
}

/// Xero's JSON date: `/Date(1488338552390+0000)/`.
pub fn xero_date(at: DateTime<Utc>) -> String {
    format!("/Date({}+0000)/", at.timestamp_millis())
}

fn millis_of(record: &Value) -> Option<i64> {
    let text = record
        .get("UpdatedDateUTC")?
        .as_str()?
        .strip_prefix("/Date(")?;
    let end = text.find(['+', ')']).filter(|&i| i > 0)?;
    text[..end].parse().ok()
}

/// The first organisation's records (any other organisation has none).
#[derive(Default)]
pub struct XeroBooks {
    pub contacts: Vec<Value>,
    pub invoices: Vec<Value>,
}

impl XeroBooks {
    fn list(&mut self, kind: Kind) -> &mut Vec<Value> {
        match kind {
            Kind::Contacts => &mut self.contacts,
            Kind::Invoices => &mut self.invoices,
        }
    }

    pub fn add(&mut self, kind: Kind, record: Value) {
        self.list(kind).push(record);
    }

    /// Merges `patch` (top-level keys) into the record `id` and sets its `UpdatedDateUTC` to
    /// now (archiving a contact is `{"ContactStatus": "ARCHIVED"}`, deleting an invoice
    /// `{"Status": "DELETED"}`: Xero keeps both).
    pub fn update(&mut self, kind: Kind, id: &str, patch: Value) {
        let record = (self.list(kind).iter_mut())
            .find(|r| r.get(kind.id_field()).and_then(Value::as_str) == Some(id))
            .unwrap_or_else(|| panic!("no {} {id}", kind.name()));
        if let (Some(record), Value::Object(patch)) = (record.as_object_mut(), patch) {
            record.extend(patch);
        }
        record["UpdatedDateUTC"] = json!(xero_date(Utc::now()));
    }

    /// `n` active customer contacts `ContactID` `c-00001`.., the i-th updated at
    /// `first + (i - 1) * step`.
    pub fn generate_contacts(&mut self, n: usize, first: DateTime<Utc>, step: Duration) {
        for i in 1..=n {
            let at = first + step * (i as u32 - 1);
            self.contacts.push(json!({
                "ContactID": format!("c-{i:05}"),
                "ContactStatus": "ACTIVE",
                "Name": format!("Contact {i}"),
                "FirstName": format!("First{i}"),
                "LastName": format!("Last{i}"),
                "EmailAddress": format!("c{i}@example.com"),
                "Phones": [{"PhoneType": "MOBILE", "PhoneNumber": "555-0100",
                            "PhoneAreaCode": "626", "PhoneCountryCode": "1"}],
                "UpdatedDateUTC": xero_date(at),
                "IsCustomer": true,
                "IsSupplier": false,
            }));
        }
    }
}

pub(super) fn list(books: &XeroBooks, kind: Kind, req: &ProviderRequest) -> Reply {
    let since = (req.header("if-modified-since"))
        .and_then(|h| httpdate::parse_http_date(h).ok())
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_millis() as i64);
    let archived = req.param("includeArchived") == Some("true");
    let wanted_type = match req.param("where") {
        None => None,
        Some(clause) => {
            let compact: String = clause.chars().filter(|c| !c.is_whitespace()).collect();
            let value = (compact.strip_prefix("Type==\""))
                .and_then(|v| v.strip_suffix('"'))
                .filter(|_| kind == Kind::Invoices);
            match value {
                Some(value) => Some(value.to_owned()),
                None => {
                    return Reply::json(
                        400,
                        &json!({
                            "ErrorNumber": 16,
                            "Type": "QueryParseException",
                            "Message": format!("unsupported where: {clause}"),
                        }),
                    );
                }
            }
        }
    };
    let mut found: Vec<&Value> = (match kind {
        Kind::Contacts => &books.contacts,
        Kind::Invoices => &books.invoices,
    })
    .iter()
    .filter(|r| since.is_none_or(|s| millis_of(r).is_some_and(|at| at >= s)))
    .filter(|r| {
        archived || kind == Kind::Invoices || r.get("ContactStatus") != Some(&json!("ARCHIVED"))
    })
    .filter(|r| {
        (wanted_type.as_deref()).is_none_or(|t| r.get("Type").and_then(Value::as_str) == Some(t))
    })
    .collect();
    // Xero's default order is not documented: the fake's is the id's, not the time's.
    found.sort_by_key(|r| r.get(kind.id_field()).and_then(Value::as_str).unwrap_or(""));
    match req.param("order").map(str::trim) {
        None => {}
        Some(order)
            if order.eq_ignore_ascii_case("UpdatedDateUTC")
                || order.eq_ignore_ascii_case("UpdatedDateUTC ASC") =>
        {
            found.sort_by_key(|r| millis_of(r));
        }
        Some(order) if order.eq_ignore_ascii_case("UpdatedDateUTC DESC") => {
            found.sort_by_key(|r| std::cmp::Reverse(millis_of(r)));
        }
        Some(order) => {
            return Reply::json(
                400,
                &json!({
                    "ErrorNumber": 16,
                    "Type": "QueryParseException",
                    "Message": format!("unsupported order: {order}"),
                }),
            );
        }
    }
    let total = found.len();
    let mut body = json!({
        "Id": format!("fake-{}", rand::random::<u32>()),
        "Status": "OK",
        "ProviderName": "bluetape-sync tests",
        "DateTimeUTC": format!("/Date({})/", SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_millis()),
    });
    let page: Vec<Value> = match req.param("page").and_then(|p| p.parse::<usize>().ok()) {
        None => found.into_iter().cloned().collect(),
        Some(page) => {
            let page = page.max(1);
            let size = (req.param("pageSize").and_then(|s| s.parse::<usize>().ok()))
                .unwrap_or(100)
                .clamp(1, 1000);
            body["pagination"] = json!({
                "page": page,
                "pageSize": size,
                "pageCount": total.div_ceil(size),
                "itemCount": total,
            });
            (found
                .into_iter()
                .skip((page - 1) * size)
                .take(size)
                .cloned())
            .collect()
        }
    };
    body[kind.name()] = Value::Array(page);
    Reply::json(200, &body)
}

/// An injected 429 as Xero sends it: `Retry-After` and which limit (`minute`, `day`,
/// `concurrent`, `appminute`).
pub fn throttled(retry_after_secs: u64, limit: &str) -> Fault {
    Fault::Reply(
        problem(429, "Too Many Requests", "rate limit exceeded")
            .with("retry-after", retry_after_secs.to_string())
            .with("x-rate-limit-problem", limit),
    )
}

/// Xero's problem answer (401, 403, 404, 429).
pub fn problem(status: u16, title: &str, detail: &str) -> Reply {
    Reply::json(
        status,
        &json!({
            "Type": null,
            "Title": title,
            "Status": status,
            "Detail": detail,
            "Instance": format!("fake-{}", rand::random::<u32>()),
            "Extensions": {},
        }),
    )
}

pub(super) fn unauthorized(why: &str) -> Reply {
    problem(401, "Unauthorized", &format!("TokenExpired: {why}"))
        .with("www-authenticate", r#"Bearer error="invalid_token""#)
}
