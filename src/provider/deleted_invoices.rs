//! QuickBooks' deleted invoices (SPEC §11): a query never returns a deleted record, so they are
//! read from change data capture (`GET .../cdc?entities=Invoice&changedSince=`), which lists
//! every invoice changed since a time, a deleted one as `{"Id", "status": "Deleted",
//! "MetaData"}`. The tombstones go into the spool with the invoices, where the preset reads
//! them as void: cancelled if BlueTape has the invoice, forgotten if it was never sent.
//!
//! CDC reaches 30 days back and answers at most 1,000 objects with no way to ask for the next
//! ones, so it is read by key as the query is: a full answer moves the bound to the last change
//! it holds and asks again.

use std::io::Write;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;

use super::ask::{FetchError, Fetched, Read, Tokens, get_page, key, records_at};
use super::limits::Limits;
use super::paging::Pager;
use super::requests::{self, PageRead};
use crate::source::Keep;
use crate::source::mapping::Path;
use crate::source::timestamp::TimestampParser;

/// How far back CDC answers, less a margin for the clocks of both ends.
const REACH: TimeDelta = TimeDelta::minutes(30 * 24 * 60 - 10);

/// The most objects one CDC answer holds.
const ANSWER_SIZE: usize = 1000;

/// Appends to `out` the invoices deleted since `read.deletions_since` (at most 30 days back);
/// when this read began, for the next one's bound.
pub(super) async fn read(
    http: &reqwest::Client,
    read: &Read<'_>,
    tokens: &mut impl Tokens,
    limits: &Limits,
    out: &mut impl Write,
    fetched: &mut Fetched,
    spool_error: impl Fn(std::io::Error) -> FetchError,
) -> Result<DateTime<Utc>, FetchError> {
    let began = Utc::now();
    let reach = began - REACH;
    let since = match read.deletions_since {
        Some(since) if since >= reach => since,
        // A connection idle for longer may have missed some.
        Some(_) => {
            tracing::warn!(
                "the last read of QuickBooks invoices was more than 30 days ago: invoices \
                 deleted before {} were not seen (cancel any of them in BlueTape by hand)",
                reach.format("%Y-%m-%d")
            );
            reach
        }
        // A first or full read: nothing deleted before it was sent by an earlier one.
        None => reach,
    };
    let dates = TimestampParser::new(chrono_tz::UTC, None);
    let mut pager = Pager::new(since, ANSWER_SIZE, requests::bounds(read.provider));
    while let Some(request) = pager.next_request() {
        if request.page > 1 {
            tracing::warn!(
                "more than 1,000 QuickBooks invoices changed within one second: deletions \
                 among them may not be seen this pass"
            );
            break;
        }
        let page = PageRead {
            url: requests::invoice_changes(read.base, read.company, request.since),
            if_modified_since: None,
        };
        let body = get_page(http, read, &page, tokens, limits, fetched).await?;
        let changed = invoices_of(read, &body)?;
        let keys: Vec<_> = (changed.iter())
            .map(|r| key(read.provider, read.kind, r, &dates))
            .collect();
        for i in pager.take(&keys) {
            let record = &changed[i];
            if record.get("status").and_then(Value::as_str) != Some("Deleted") {
                // Changed, not deleted: the query read it.
                continue;
            }
            serde_json::to_writer(&mut *out, record).map_err(|e| spool_error(e.into()))?;
            out.write_all(b"\n").map_err(&spool_error)?;
            fetched.records += 1;
        }
    }
    Ok(began)
}

/// The array at `key` of `value`, taken out of it.
fn items(mut value: Value, key: &str) -> Vec<Value> {
    match value.get_mut(key).map(Value::take) {
        Some(Value::Array(items)) => items,
        _ => Vec::new(),
    }
}

/// What a CDC answer keeps of each invoice: what paging and a tombstone read.
const KEPT: [&str; 3] = [
    "QueryResponse.Invoice.Id",
    "QueryResponse.Invoice.status",
    "QueryResponse.Invoice.MetaData.LastUpdatedTime",
];

/// The invoices of a CDC answer: `CDCResponse[].QueryResponse[].Invoice[]`, each response
/// read under `read`'s budget.
fn invoices_of(read: &Read<'_>, body: &[u8]) -> Result<Vec<Value>, FetchError> {
    let mut keep = Keep::default();
    for path in KEPT {
        let path = Path::parse(path, true).map_err(|detail| FetchError::Refused {
            system: read.provider.system(),
            detail,
        })?;
        keep.also(&path);
    }
    let cdc = Read {
        keep: &keep,
        ..read.clone()
    };
    let mut invoices = Vec::new();
    for response in records_at(&cdc, body, &["CDCResponse".to_owned()])? {
        for query in items(response, "QueryResponse") {
            invoices.extend(items(query, "Invoice"));
        }
    }
    Ok(invoices)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cdc_answer_s_invoices_are_found_in_every_response() {
        let body = serde_json::json!({
            "CDCResponse": [{"QueryResponse": [
                {"Invoice": [{"Id": "1", "status": "Deleted", "Big": "x".repeat(4096)}],
                 "startPosition": 1},
                {"Invoice": [{"Id": "2", "MetaData": {"LastUpdatedTime": "2024-03-01"}}]},
            ]}],
            "time": "2024-03-01T10:00:00-08:00",
        });
        let base = url::Url::parse("http://127.0.0.1:1").expect("url");
        let keep = Keep::default();
        let read = Read {
            provider: crate::provider::Provider::Quickbooks,
            base: &base,
            company: "1",
            kind: crate::source::Kind::Invoice,
            keep: &keep,
            max_record_bytes: crate::source::size::ByteSize(1024),
            since: chrono::DateTime::UNIX_EPOCH,
            deletions_since: None,
            sample: None,
        };
        let found = invoices_of(&read, body.to_string().as_bytes()).expect("json");
        assert_eq!(
            found,
            [
                serde_json::json!({"Id": "1", "status": "Deleted"}),
                serde_json::json!({"Id": "2", "MetaData": {"LastUpdatedTime": "2024-03-01"}}),
            ],
            "only what paging and a tombstone read, within the budget"
        );
        let empty = invoices_of(&read, br#"{"CDCResponse": [{"QueryResponse": [{}]}]}"#);
        assert_eq!(empty.expect("json"), Vec::<Value>::new());
        assert!(invoices_of(&read, b"<html>").is_err());
    }
}
