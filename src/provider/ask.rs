//! Asking a provider for one page (SPEC §11): the access token refreshed once on a 401, a 429
//! waiting its `Retry-After`, an unavailable provider asked again with backoff, the providers'
//! limits honoured before each request, every answer read up to [`PAGE_BYTES`]. What a read
//! asks for and why it stopped are here too, shared by the reads of records and of deletions.

use std::time::Duration;

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use super::Provider;
use super::limits::{Limits, Wait};
use super::requests::PageRead;
use crate::source::size::ByteSize;
use crate::source::timestamp::TimestampParser;
use crate::source::{Keep, Kind};

/// The most one page may take (SPEC §11): a page is up to 1,000 records.
pub const PAGE_BYTES: usize = 64 * 1024 * 1024;

/// How many times a page is asked for when the provider is unavailable, before the read stops.
const ATTEMPTS: u32 = 5;

/// Why a read stopped.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The access token was refused, after a refresh too: the link must be renewed (exit 77).
    #[error("{system} refused the connection's access token: run bluetape-sync connect {name}")]
    Unauthorized {
        system: &'static str,
        name: &'static str,
    },
    /// `check --online` beside the running daemon, which alone refreshes: the access token it
    /// last stored is expired or refused.
    #[error(
        "the running daemon holds the {system} connection and the access token it last stored \
         has expired: not tested now (the daemon refreshes it on its next pass; or stop the \
         service and check again)"
    )]
    Held { system: &'static str },
    /// The provider revoked the link or let it expire (`invalid_grant`): it must be made again
    /// (exit 77).
    #[error("the {system} connection has expired or was revoked: run bluetape-sync connect {name}")]
    Expired {
        system: &'static str,
        name: &'static str,
    },
    /// A record's kept values are longer than `source.max_row_bytes` (exit 78).
    #[error(
        "{system} answered a {kind} longer than {section}.max_row_bytes ({limit}): raise \
         {section}.max_row_bytes if the records really are this long"
    )]
    TooLong {
        system: &'static str,
        kind: &'static str,
        section: &'static str,
        limit: ByteSize,
    },
    /// The day's request budget is spent: the rest waits for tomorrow (exit 69).
    #[error(
        "{system}'s daily request limit for this organisation is spent: the rest is read tomorrow"
    )]
    DayBudget { system: &'static str },
    /// No answer after every attempt (exit 69).
    #[error("{system} did not answer: {detail}; nothing was staged, the next pass reads again")]
    Unavailable {
        system: &'static str,
        detail: String,
    },
    /// Wrong company, tenant or base URL (exit 78).
    #[error(
        "{system} answered {status} to {what}: check the [{name}] section and the linked company"
    )]
    NotFound {
        system: &'static str,
        name: &'static str,
        status: u16,
        what: String,
    },
    /// The provider refused a query this program wrote: a bug (exit 1).
    #[error("{system} refused the query: {detail}")]
    Refused {
        system: &'static str,
        detail: String,
    },
    #[error("cannot write the spool file {path}: {error}")]
    Spool { path: String, error: std::io::Error },
}

/// Fresh access tokens, when the one in use is refused or about to expire: the pass refreshes
/// through the store (the new refresh token kept before use).
pub trait Tokens {
    fn access(
        &mut self,
    ) -> impl std::future::Future<Output = Result<SecretString, FetchError>> + Send;
    fn refreshed(
        &mut self,
    ) -> impl std::future::Future<Output = Result<SecretString, FetchError>> + Send;
}

/// One read of one kind of record.
#[derive(Clone)]
pub struct Read<'a> {
    pub provider: Provider,
    pub base: &'a url::Url,
    /// QuickBooks' realm id, Xero's tenant id.
    pub company: &'a str,
    pub kind: Kind,
    /// What of each record is kept (everything the lane reads, and the paging keys), and the
    /// most one record's kept values may take (`source.max_row_bytes`).
    pub keep: &'a Keep,
    pub max_record_bytes: ByteSize,
    pub since: DateTime<Utc>,
    /// When the last read of deletions began (QuickBooks' invoices), less the lookback;
    /// `None` for a first or full read.
    pub deletions_since: Option<DateTime<Utc>>,
    /// Only the first page, of this many records (`check --online`'s sample).
    pub sample: Option<usize>,
}

/// What a read came to.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Fetched {
    pub records: u64,
    pub requests: u64,
    /// When this read of deletions began, if it made one.
    pub deletions_read: Option<DateTime<Utc>>,
}

/// One page's body, asked until it is answered: a refused access token is refreshed once, a
/// 429 waits its `Retry-After`, an unavailable provider is asked again with backoff.
pub(super) async fn get_page(
    http: &reqwest::Client,
    read: &Read<'_>,
    page: &PageRead,
    tokens: &mut impl Tokens,
    limits: &Limits,
    fetched: &mut Fetched,
) -> Result<Vec<u8>, FetchError> {
    let system = read.provider.system();
    let mut token = tokens.access().await?;
    let mut refreshed = false;
    let mut attempt = 0;
    loop {
        attempt += 1;
        loop {
            match limits.before_request() {
                Wait::Now => break,
                Wait::For(pause) => tokio::time::sleep(pause).await,
                Wait::Tomorrow => return Err(FetchError::DayBudget { system }),
            }
        }
        let mut request = http
            .get(page.url.clone())
            .bearer_auth(token.expose_secret())
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(since) = &page.if_modified_since {
            request = request.header(reqwest::header::IF_MODIFIED_SINCE, since);
        }
        if read.provider == Provider::Xero {
            request = request.header("xero-tenant-id", read.company);
        }
        fetched.requests += 1;
        let answer = request.send().await;
        let retry_in = backoff(attempt);
        let answer = match answer {
            Ok(answer) => answer,
            Err(_) if attempt < ATTEMPTS => {
                tokio::time::sleep(retry_in).await;
                continue;
            }
            Err(e) => {
                return Err(FetchError::Unavailable {
                    system,
                    detail: e.without_url().to_string(),
                });
            }
        };
        limits.after_answer(answer.headers());
        let status = answer.status().as_u16();
        match status {
            200..=299 => return body(answer, system).await,
            401 if !refreshed => {
                refreshed = true;
                token = tokens.refreshed().await?;
            }
            401 => {
                return Err(FetchError::Unauthorized {
                    system,
                    name: read.provider.name(),
                });
            }
            429 if limits.day_spent(answer.headers()) => {
                return Err(FetchError::DayBudget { system });
            }
            429 => {
                let wait = retry_after(answer.headers()).unwrap_or(retry_in);
                tokio::time::sleep(wait).await;
            }
            403 | 404 => {
                return Err(FetchError::NotFound {
                    system,
                    name: read.provider.name(),
                    status,
                    what: page.url.path().to_owned(),
                });
            }
            400 => {
                let detail = String::from_utf8_lossy(&body(answer, system).await?)
                    .chars()
                    .take(512)
                    .collect();
                return Err(FetchError::Refused { system, detail });
            }
            _ if attempt < ATTEMPTS => tokio::time::sleep(retry_in).await,
            _ => {
                return Err(FetchError::Unavailable {
                    system,
                    detail: format!("HTTP {status}"),
                });
            }
        }
    }
}

/// An answer's body, read up to [`PAGE_BYTES`].
async fn body(answer: reqwest::Response, system: &'static str) -> Result<Vec<u8>, FetchError> {
    super::http::body(answer, PAGE_BYTES)
        .await
        .map_err(|detail| FetchError::Unavailable { system, detail })
}

/// A record's id and when it last changed, for paging.
pub(super) fn key(
    provider: Provider,
    kind: Kind,
    record: &Value,
    dates: &TimestampParser,
) -> (String, DateTime<Utc>) {
    let text = |path: &str| {
        let pointer = format!("/{}", path.replace('.', "/"));
        match record.pointer(&pointer) {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => String::new(),
        }
    };
    let [id, changed] = super::requests::key_paths(provider, kind);
    // A record without a readable date sorts first: read again at worst, never skipped.
    let changed = dates
        .parse(&text(changed))
        .unwrap_or(DateTime::<Utc>::MIN_UTC);
    (text(id), changed)
}

/// How long to wait before attempt `attempt + 1`: 1 s, 2 s, 4 s, ... at most 60 s.
fn backoff(attempt: u32) -> Duration {
    Duration::from_secs(1u64 << attempt.min(6).saturating_sub(1)).min(Duration::from_secs(60))
}

/// A `Retry-After` in seconds or as an HTTP date, at most an hour.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let text = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    let wait = match text.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => httpdate::parse_http_date(text)
            .ok()?
            .duration_since(std::time::SystemTime::now())
            .unwrap_or_default(),
    };
    Some(wait.min(Duration::from_secs(3600)))
}

/// The records at `path` of a page: each only what `read` keeps, under its budget.
pub(super) fn records_at(
    read: &Read<'_>,
    body: &[u8],
    path: &[String],
) -> Result<Vec<Value>, FetchError> {
    let system = read.provider.system();
    crate::source::records_in(body, path, read.keep, read.max_record_bytes).map_err(|e| match e {
        crate::source::PageError::TooLong(_) => FetchError::TooLong {
            system,
            kind: read.kind.name(),
            section: read.kind.section(),
            limit: read.max_record_bytes,
        },
        crate::source::PageError::Malformed(detail) => FetchError::Unavailable {
            system,
            detail: format!("a page that is not JSON ({detail})"),
        },
    })
}
