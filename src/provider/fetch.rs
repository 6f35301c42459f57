//! Reading the records changed since a bound from a provider's API into a spool file (SPEC
//! §11): pages asked by key ([`super::paging`]), each record written as one NDJSON line, so
//! the change set is never held in memory and the source's reader then reads the spool as it
//! reads an export. A failed read leaves nothing to stage: the caller drops the spool.

use std::io::Write as _;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::Provider;
use super::ask::get_page;
pub use super::ask::{FetchError, Fetched, Read, Tokens};
use super::limits::Limits;
use super::paging::Pager;
use super::requests::{self, PAGE_SIZE};
use crate::source::Kind;
use crate::source::timestamp::TimestampParser;

/// Reads every record of `read` changed since its bound into `spool` (NDJSON).
pub async fn fetch(
    http: &reqwest::Client,
    read: &Read<'_>,
    tokens: &mut impl Tokens,
    limits: &Limits,
    spool: &Path,
) -> Result<Fetched, FetchError> {
    let spool_error = |error| FetchError::Spool {
        path: spool.display().to_string(),
        error,
    };
    let file = std::fs::File::create(spool).map_err(spool_error)?;
    let mut out = std::io::BufWriter::new(file);
    let size = read.sample.unwrap_or(PAGE_SIZE);
    let mut pager = Pager::new(read.since, size, requests::bounds(read.provider));
    let mut fetched = Fetched::default();
    let dates = TimestampParser::new(chrono_tz::UTC, None);
    while let Some(request) = pager.next_request() {
        let page = requests::page(
            read.provider,
            read.base,
            read.company,
            read.kind,
            request,
            size,
        );
        let body = get_page(http, read, &page, tokens, limits, &mut fetched).await?;
        let records = records_of(read, &body)?;
        let keys: Vec<(String, DateTime<Utc>)> = records
            .iter()
            .map(|r| super::ask::key(read.provider, read.kind, r, &dates))
            .collect();
        for i in pager.take(&keys) {
            serde_json::to_writer(&mut out, &records[i]).map_err(|e| spool_error(e.into()))?;
            out.write_all(b"\n").map_err(spool_error)?;
            fetched.records += 1;
        }
        if read.sample.is_some() {
            break;
        }
    }
    if read.sample.is_none() && (read.provider, read.kind) == (Provider::Quickbooks, Kind::Invoice)
    {
        let began = super::deleted_invoices::read(
            http,
            read,
            tokens,
            limits,
            &mut out,
            &mut fetched,
            spool_error,
        )
        .await?;
        fetched.deletions_read = Some(began);
    }
    out.flush().map_err(spool_error)?;
    Ok(fetched)
}

/// The records of one page: the array at the kind's records path.
fn records_of(read: &Read<'_>, body: &[u8]) -> Result<Vec<Value>, FetchError> {
    let path = requests::records_path(read.provider, read.kind);
    let path: Vec<String> = path.split('.').map(str::to_owned).collect();
    // A page with no records has no array at all (QuickBooks): an empty list.
    super::ask::records_at(read, body, &path)
}
