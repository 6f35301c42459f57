//! The reads SPEC §11 makes of each provider, as URLs and headers: QuickBooks' query and CDC,
//! Xero's Contacts and Invoices with `If-Modified-Since`. Pure, so each is tested as written.

use chrono::{DateTime, SecondsFormat, Utc};
use url::Url;

use super::Provider;
use super::paging::{Bounds, PageRequest};
use crate::source::Kind;

/// QuickBooks' largest page, and Xero's.
pub const PAGE_SIZE: usize = 1000;

/// Intuit ignores minor versions below 75 since August 2025.
const MINOR_VERSION: &str = "75";

/// How each provider's bound works (see [`super::paging`]).
pub fn bounds(provider: Provider) -> Bounds {
    match provider {
        // `Metadata.LastUpdatedTime` is written to the second.
        Provider::Quickbooks => Bounds {
            whole_seconds: true,
            step_back: chrono::TimeDelta::zero(),
        },
        // `If-Modified-Since` is an HTTP date, to the second; a second earlier, whatever
        // Xero's comparison is.
        Provider::Xero => Bounds {
            whole_seconds: true,
            step_back: chrono::TimeDelta::seconds(1),
        },
    }
}

/// One page's request: its URL, and the `If-Modified-Since` header Xero takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRead {
    pub url: Url,
    pub if_modified_since: Option<String>,
}

/// The entity a kind of record is, in the provider's API.
fn entity(provider: Provider, kind: Kind) -> &'static str {
    match (provider, kind) {
        (Provider::Quickbooks, Kind::Customer) => "Customer",
        (Provider::Quickbooks, Kind::Invoice) => "Invoice",
        (Provider::Xero, Kind::Customer) => "Contacts",
        (Provider::Xero, Kind::Invoice) => "Invoices",
    }
}

/// Where a record of `kind` holds its id and the time it last changed: what paging reads.
pub fn key_paths(provider: Provider, kind: Kind) -> [&'static str; 2] {
    match (provider, kind) {
        (Provider::Quickbooks, _) => ["Id", "MetaData.LastUpdatedTime"],
        (Provider::Xero, Kind::Customer) => ["ContactID", "UpdatedDateUTC"],
        (Provider::Xero, Kind::Invoice) => ["InvoiceID", "UpdatedDateUTC"],
    }
}

/// Where the records of `kind` are in one page's JSON: the path a preset's `records_path` reads.
pub fn records_path(provider: Provider, kind: Kind) -> String {
    match provider {
        Provider::Quickbooks => format!("QueryResponse.{}", entity(provider, kind)),
        Provider::Xero => entity(provider, kind).to_owned(),
    }
}

/// The request for one page of `size` of `kind`'s records changed at or after `page.since`,
/// of the company `company` (QuickBooks' realm id; Xero's tenant goes in a header).
pub fn page(
    provider: Provider,
    base: &Url,
    company: &str,
    kind: Kind,
    page: PageRequest,
    size: usize,
) -> PageRead {
    match provider {
        Provider::Quickbooks => {
            let since = page.since.to_rfc3339_opts(SecondsFormat::Secs, true);
            // Inactive customers are returned only when asked for: the preset leaves them
            // out by its rule, and one made inactive after it was queued is withdrawn.
            let active = match kind {
                Kind::Customer => " AND Active IN (true, false)",
                Kind::Invoice => "",
            };
            let start = match page.page {
                1 => String::new(),
                n => format!(" STARTPOSITION {}", (n as usize - 1) * size + 1),
            };
            let query = format!(
                "SELECT * FROM {} WHERE Metadata.LastUpdatedTime >= '{since}'{active} ORDERBY \
                 Metadata.LastUpdatedTime{start} MAXRESULTS {size}",
                entity(provider, kind)
            );
            let mut url = company_url(base, company, "query");
            url.query_pairs_mut()
                .append_pair("query", &query)
                .append_pair("minorversion", MINOR_VERSION);
            PageRead {
                url,
                if_modified_since: None,
            }
        }
        Provider::Xero => {
            let mut url = join(base, &["api.xro", "2.0", entity(provider, kind)]);
            {
                let mut pairs = url.query_pairs_mut();
                pairs
                    .append_pair("page", &page.page.to_string())
                    .append_pair("pageSize", &size.to_string())
                    .append_pair("order", "UpdatedDateUTC");
                match kind {
                    Kind::Customer => pairs.append_pair("includeArchived", "true"),
                    Kind::Invoice => pairs.append_pair("where", "Type==\"ACCREC\""),
                };
            }
            PageRead {
                url,
                if_modified_since: Some(httpdate::fmt_http_date(page.since.into())),
            }
        }
    }
}

/// QuickBooks' change data capture of invoices changed since `since` (deleted ones are only
/// seen here). CDC reaches 30 days back.
pub fn invoice_changes(base: &Url, company: &str, since: DateTime<Utc>) -> Url {
    let mut url = company_url(base, company, "cdc");
    url.query_pairs_mut()
        .append_pair("entities", "Invoice")
        .append_pair(
            "changedSince",
            &since.to_rfc3339_opts(SecondsFormat::Secs, true),
        )
        .append_pair("minorversion", MINOR_VERSION);
    url
}

fn company_url(base: &Url, company: &str, what: &str) -> Url {
    join(base, &["v3", "company", company, what])
}

/// `base` with `segments` after its path (each escaped as one segment).
fn join(base: &Url, segments: &[&str]) -> Url {
    let mut url = base.clone();
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().extend(segments);
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    fn since() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2024-03-01T10:00:00.750Z")
            .expect("time")
            .to_utc()
    }

    #[test]
    fn quickbooks_asks_by_last_update_with_inactive_customers_and_pages_within_an_instant() {
        let base = Url::parse("https://quickbooks.api.intuit.com").expect("url");
        let first = page(
            Provider::Quickbooks,
            &base,
            "9130",
            Kind::Customer,
            PageRequest {
                since: since(),
                page: 1,
            },
            PAGE_SIZE,
        );
        assert_eq!(first.url.path(), "/v3/company/9130/query");
        let pairs: Vec<(String, String)> = first.url.query_pairs().into_owned().collect();
        assert_eq!(
            pairs,
            [
                (
                    "query".to_owned(),
                    "SELECT * FROM Customer WHERE Metadata.LastUpdatedTime >= \
                     '2024-03-01T10:00:00Z' AND Active IN (true, false) ORDERBY \
                     Metadata.LastUpdatedTime MAXRESULTS 1000"
                        .to_owned()
                ),
                ("minorversion".to_owned(), "75".to_owned()),
            ]
        );
        let third = page(
            Provider::Quickbooks,
            &base,
            "9130",
            Kind::Invoice,
            PageRequest {
                since: since(),
                page: 3,
            },
            PAGE_SIZE,
        );
        let query = third.url.query_pairs().next().map(|(_, q)| q.into_owned());
        assert_eq!(
            query.as_deref(),
            Some(
                "SELECT * FROM Invoice WHERE Metadata.LastUpdatedTime >= '2024-03-01T10:00:00Z' \
                 ORDERBY Metadata.LastUpdatedTime STARTPOSITION 2001 MAXRESULTS 1000"
            )
        );
        let cdc = invoice_changes(&base, "9130", since());
        assert_eq!(
            cdc.as_str(),
            "https://quickbooks.api.intuit.com/v3/company/9130/cdc?entities=Invoice&\
             changedSince=2024-03-01T10%3A00%3A00Z&minorversion=75"
        );
    }

    #[test]
    fn xero_pages_with_if_modified_since_archived_contacts_and_sales_invoices() {
        let base = Url::parse("http://127.0.0.1:4000/xero/").expect("url");
        let contacts = page(
            Provider::Xero,
            &base,
            "tenant",
            Kind::Customer,
            PageRequest {
                since: since(),
                page: 2,
            },
            PAGE_SIZE,
        );
        assert_eq!(
            contacts.url.as_str(),
            "http://127.0.0.1:4000/xero/api.xro/2.0/Contacts?page=2&pageSize=1000&\
             order=UpdatedDateUTC&includeArchived=true"
        );
        assert_eq!(
            contacts.if_modified_since.as_deref(),
            Some("Fri, 01 Mar 2024 10:00:00 GMT")
        );
        let invoices = page(
            Provider::Xero,
            &base,
            "tenant",
            Kind::Invoice,
            PageRequest {
                since: since(),
                page: 1,
            },
            PAGE_SIZE,
        );
        let filter = invoices
            .url
            .query_pairs()
            .find(|(k, _)| k == "where")
            .map(|(_, v)| v.into_owned());
        assert_eq!(filter.as_deref(), Some("Type==\"ACCREC\""));
        assert_eq!(records_path(Provider::Xero, Kind::Invoice), "Invoices");
        assert_eq!(
            records_path(Provider::Quickbooks, Kind::Customer),
            "QueryResponse.Customer"
        );
    }
}
