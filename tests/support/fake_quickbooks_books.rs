//! The fake QuickBooks company's records, and its answers to a query and to change data
//! capture.

use std::time::Duration;

use chrono::{DateTime, FixedOffset, Utc};
use serde_json::{Value, json};

use super::query::{Entity, parse};
use crate::support::fake_provider::{ProviderRequest, Reply};

/// The company's records, as the API returns them.
#[derive(Default)]
pub struct Books {
    pub customers: Vec<Value>,
    pub invoices: Vec<Value>,
    /// Deleted objects as CDC reports them, with their entity.
    pub deleted: Vec<(Entity, Value)>,
}

/// Intuit writes times in the company's zone; the fake's company is in California.
pub fn intuit_time(at: DateTime<Utc>) -> String {
    let pacific = FixedOffset::west_opt(8 * 3600).expect("offset");
    at.with_timezone(&pacific)
        .format("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

fn updated_of(record: &Value) -> Option<DateTime<FixedOffset>> {
    let text = record.pointer("/MetaData/LastUpdatedTime")?.as_str()?;
    DateTime::parse_from_rfc3339(text).ok()
}

fn id_of(record: &Value) -> &str {
    record.get("Id").and_then(Value::as_str).unwrap_or("")
}

/// Ids sort as numbers, as Intuit's are.
fn id_key(record: &Value) -> (usize, String) {
    let id = id_of(record);
    (id.len(), id.to_owned())
}

impl Books {
    fn list(&mut self, entity: Entity) -> &mut Vec<Value> {
        match entity {
            Entity::Customer => &mut self.customers,
            Entity::Invoice => &mut self.invoices,
        }
    }

    /// Adds a record as given (its `MetaData.LastUpdatedTime` kept).
    pub fn add(&mut self, entity: Entity, record: Value) {
        self.list(entity).push(record);
    }

    /// Merges `patch` into the record `id` (top-level keys), bumps its `SyncToken` and sets
    /// `MetaData.LastUpdatedTime` to now, as an edit in QuickBooks does.
    pub fn update(&mut self, entity: Entity, id: &str, patch: Value) {
        let record = (self.list(entity).iter_mut())
            .find(|r| id_of(r) == id)
            .unwrap_or_else(|| panic!("no {} {id}", entity.name()));
        if let (Some(record), Value::Object(patch)) = (record.as_object_mut(), patch) {
            record.extend(patch);
        }
        let sync = (record.get("SyncToken").and_then(Value::as_str))
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(0);
        record["SyncToken"] = json!((sync + 1).to_string());
        record["MetaData"]["LastUpdatedTime"] = json!(intuit_time(Utc::now()));
    }

    /// Deletes the record `id`: queries no longer return it, CDC reports it `Deleted`.
    pub fn delete(&mut self, entity: Entity, id: &str) {
        self.list(entity).retain(|r| id_of(r) != id);
        let tombstone = json!({
            "domain": "QBO",
            "status": "Deleted",
            "Id": id,
            "MetaData": {"LastUpdatedTime": intuit_time(Utc::now())},
        });
        self.deleted.push((entity, tombstone));
    }

    /// `n` active customers `Id` 1..=n (`GivenName` `First{i}`, a mobile, an email), the
    /// i-th last updated at `first + (i - 1) * step`.
    pub fn generate_customers(&mut self, n: usize, first: DateTime<Utc>, step: Duration) {
        for i in 1..=n {
            let at = first + step * (i as u32 - 1);
            self.customers.push(json!({
                "Id": i.to_string(),
                "SyncToken": "0",
                "domain": "QBO",
                "MetaData": {"CreateTime": intuit_time(first), "LastUpdatedTime": intuit_time(at)},
                "GivenName": format!("First{i}"),
                "FamilyName": format!("Last{i}"),
                "DisplayName": format!("First{i} Last{i}"),
                "Active": true,
                "Job": false,
                "Mobile": {"FreeFormNumber": "(650) 555-0100"},
                "PrimaryEmailAddr": {"Address": format!("c{i}@example.com")},
            }));
        }
    }
}

pub(super) fn fault_reply(status: u16, kind: &str, code: &str, message: &str) -> Reply {
    Reply::json(
        status,
        &json!({
            "Fault": {
                "Error": [{"Message": message, "Detail": message, "code": code}],
                "type": kind,
            },
            "time": intuit_time(Utc::now()),
        }),
    )
}

pub(super) fn query(books: &Books, text: &str) -> Reply {
    let query = match parse(text) {
        Ok(query) => query,
        Err(why) => {
            return fault_reply(
                400,
                "ValidationFault",
                "4000",
                &format!("QueryParserError: {why}"),
            );
        }
    };
    let list = match query.entity {
        Entity::Customer => &books.customers,
        Entity::Invoice => &books.invoices,
    };
    let mut found: Vec<&Value> = (list.iter())
        .filter(|r| {
            let at = updated_of(r);
            (query.updated.iter()).all(|(op, bound)| at.is_some_and(|at| op.holds(at, *bound)))
        })
        .filter(|r| {
            let active = r.get("Active").and_then(Value::as_bool).unwrap_or(true);
            match &query.active {
                // Intuit returns only active customers unless the query asks about `Active`.
                None => query.entity == Entity::Invoice || active,
                Some(values) => values.contains(&active),
            }
        })
        .collect();
    found.sort_by_key(|r| id_key(r));
    if let Some(desc) = query.order_by_updated {
        found.sort_by_key(|r| updated_of(r));
        if desc {
            found.reverse();
        }
    }
    let page: Vec<Value> = (found.into_iter())
        .skip(query.start - 1)
        .take(query.max)
        .cloned()
        .collect();
    let mut response = json!({});
    if !page.is_empty() {
        response = json!({
            "startPosition": query.start,
            "maxResults": page.len(),
        });
        response[query.entity.name()] = Value::Array(page);
    }
    Reply::json(
        200,
        &json!({"QueryResponse": response, "time": intuit_time(Utc::now())}),
    )
}

/// What changed since `changedSince` (at most 30 days back, at most 1,000 objects).
pub(super) fn cdc(books: &Books, req: &ProviderRequest) -> Reply {
    let since = req.param("changedSince").unwrap_or("");
    let since = (DateTime::parse_from_rfc3339(since).ok()).or_else(|| {
        let date = chrono::NaiveDate::parse_from_str(since, "%Y-%m-%d").ok()?;
        Some(date.and_hms_opt(0, 0, 0)?.and_utc().fixed_offset())
    });
    let Some(since) = since else {
        return fault_reply(400, "ValidationFault", "4000", "changedSince is not a date");
    };
    if Utc::now().signed_duration_since(since) > chrono::Duration::days(30) {
        return fault_reply(
            400,
            "ValidationFault",
            "4000",
            "changedSince is more than 30 days ago",
        );
    }
    let mut responses = Vec::new();
    let entities = req.param("entities").unwrap_or("");
    for name in entities.split(',').map(str::trim) {
        let entity = match name {
            n if n.eq_ignore_ascii_case("Customer") => Entity::Customer,
            n if n.eq_ignore_ascii_case("Invoice") => Entity::Invoice,
            _ => continue,
        };
        let list = match entity {
            Entity::Customer => &books.customers,
            Entity::Invoice => &books.invoices,
        };
        let deleted = (books.deleted.iter())
            .filter(|(e, _)| *e == entity)
            .map(|(_, v)| v);
        // Intuit does not say which 1,000 it keeps: the fake keeps the oldest.
        let mut changed: Vec<Value> = (list.iter().chain(deleted))
            .filter(|r| updated_of(r).is_some_and(|at| at >= since))
            .cloned()
            .collect();
        changed.sort_by_key(updated_of);
        changed.truncate(1000);
        let count = changed.len();
        let mut response = json!({"startPosition": 1, "maxResults": count, "totalCount": count});
        response[entity.name()] = Value::Array(changed);
        responses.push(response);
    }
    Reply::json(
        200,
        &json!({
            "CDCResponse": [{"QueryResponse": responses}],
            "time": intuit_time(Utc::now()),
        }),
    )
}
