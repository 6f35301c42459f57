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

use super::ask::{FetchError, Fetched, Read, Tokens, get_page, key};
use super::limits::Limits;
use super::paging::Pager;
use super::requests::{self, PageRead};
use crate::record::timestamp::TimestampParser;

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
        let changed = invoices_of(&body, read.provider.system())?;
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

/// The invoices of a CDC answer: `CDCResponse[].QueryResponse[].Invoice[]`.
fn invoices_of(body: &[u8], system: &'static str) -> Result<Vec<Value>, FetchError> {
    let answer: Value = serde_json::from_slice(body).map_err(|e| FetchError::Unavailable {
        system,
        detail: format!("a change data capture answer that is not JSON ({e})"),
    })?;
    let mut invoices = Vec::new();
    for response in items(answer, "CDCResponse") {
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
                {"Invoice": [{"Id": "1", "status": "Deleted"}], "startPosition": 1},
                {"Invoice": [{"Id": "2"}]},
            ]}],
            "time": "2024-03-01T10:00:00-08:00",
        });
        let found = invoices_of(body.to_string().as_bytes(), "QuickBooks Online").expect("json");
        let ids: Vec<_> = found.iter().filter_map(|r| r.get("Id")).collect();
        assert_eq!(ids, ["1", "2"]);
        let empty = invoices_of(br#"{"CDCResponse": [{"QueryResponse": [{}]}]}"#, "QBO");
        assert_eq!(empty.expect("json"), Vec::<Value>::new());
        assert!(invoices_of(b"<html>", "QBO").is_err());
    }
}
