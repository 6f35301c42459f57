//! What BlueTape's answers mean (SPEC §2): pure functions from a response to a typed answer,
//! each tested as a table.

use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use serde::Deserialize;

/// What an answer means for the record and the pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Created {
        blue_tape_id: String,
        /// `None` when BlueTape's was not an `https://` URL without control characters.
        sign_up_url: Option<String>,
    },
    /// 409: already in BlueTape; success.
    Exists,
    /// 202 to an update (any 2xx, for an invoice).
    Updated { blue_tape_id: Option<String> },
    /// Any 2xx to an invoice's create, whatever its body.
    Accepted { blue_tape_id: Option<String> },
    /// An invoice cancelled, or found cancelled or gone already.
    Cancelled,
    /// BlueTape does not have the invoice's customer, or holds it as a draft: the invoice
    /// waits for it.
    Waiting { reason: String },
    /// A 400 to an invoice's update or cancel: refused for the invoice's state, not tried
    /// again until the source changes it.
    Refused { reason: String },
    /// 400: BlueTape refuses this record.
    Rejected { reason: String },
    /// 401/403: the credentials are wrong; stop the pass.
    Unauthorized { reason: String },
    /// 404: the endpoint or account is wrong; stop the pass.
    NotFound { reason: String },
    /// 3xx: BlueTape is elsewhere; never followed (the key goes only to `api.base_url`), and
    /// the pass stops like 404.
    Redirected { reason: String },
    /// A certificate or protocol error on the way to `api.base_url`: retrying cannot fix it,
    /// and the pass stops like 404.
    TlsFailed { reason: String },
    /// Try again later, after `after` when the server said so.
    Retry {
        reason: String,
        after: Option<Duration>,
    },
}

impl Outcome {
    /// A word for the history.
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Created { .. } => "created",
            Outcome::Exists => "exists",
            Outcome::Updated { .. } => "updated",
            Outcome::Accepted { .. } => "created",
            Outcome::Cancelled => "cancelled",
            Outcome::Waiting { .. } => "waiting",
            Outcome::Refused { .. } => "refused",
            Outcome::Rejected { .. } => "rejected",
            Outcome::Unauthorized { .. } => "unauthorized",
            Outcome::NotFound { .. } => "not found",
            Outcome::Redirected { .. } => "redirected",
            Outcome::TlsFailed { .. } => "tls failed",
            Outcome::Retry { .. } => "retry",
        }
    }

    /// The server's reason, or what went wrong, when there is one.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Outcome::Rejected { reason }
            | Outcome::Waiting { reason }
            | Outcome::Refused { reason }
            | Outcome::Unauthorized { reason }
            | Outcome::NotFound { reason }
            | Outcome::Redirected { reason }
            | Outcome::TlsFailed { reason }
            | Outcome::Retry { reason, .. } => Some(reason),
            _ => None,
        }
    }
}

/// An answer with the HTTP status it came with (`None` when no response arrived).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: Option<u16>,
    pub outcome: Outcome,
}

impl Answer {
    /// A transient answer that SPEC §2 does not list as one (not 408, 429, 5xx, or no
    /// answer): retried all the same, and worth a warning.
    pub fn is_unexpected(&self) -> bool {
        matches!(self.outcome, Outcome::Retry { .. })
            && self
                .status
                .is_some_and(|s| !matches!(s, 408 | 429 | 500..=599))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreatedBody {
    blue_tape_id: String,
    sign_up_url: String,
}

#[derive(Deserialize)]
pub(crate) struct ErrorBody {
    code: Option<serde_json::Value>,
    reason: Option<String>,
}

/// What classification needs of a response.
#[derive(Debug, Clone, Copy)]
pub struct Reply<'a> {
    pub status: u16,
    pub retry_after: Option<&'a str>,
    /// For a 3xx: where it pointed, resolved, with what to set `api.base_url` to.
    pub location: Option<&'a str>,
    pub body: &'a [u8],
}

/// Classifies a response to `POST /integration/customer`. Pure, so the table is testable.
pub fn classify(reply: Reply<'_>, now: SystemTime) -> Outcome {
    let Reply {
        status,
        retry_after,
        location,
        body,
    } = reply;
    let reason = || error_reason(status, body);
    match status {
        201 => match serde_json::from_slice::<CreatedBody>(body) {
            Ok(b) => Outcome::Created {
                blue_tape_id: b.blue_tape_id,
                sign_up_url: Some(b.sign_up_url).filter(|url| is_safe_url(url)),
            },
            Err(_) => Outcome::Retry {
                reason: "201 with a body that is not {blueTapeId, signUpUrl}".into(),
                after: None,
            },
        },
        409 => Outcome::Exists,
        400 => Outcome::Rejected { reason: reason() },
        413 => Outcome::Rejected {
            reason: TOO_LARGE.into(),
        },
        401 | 403 => Outcome::Unauthorized { reason: reason() },
        404 => Outcome::NotFound { reason: reason() },
        300..=399 => Outcome::Redirected {
            reason: redirect_reason(status, location),
        },
        _ => Outcome::Retry {
            reason: reason(),
            after: retry_after.and_then(|v| parse_retry_after(v, now)),
        },
    }
}

/// A 413's reason: the record, not the service, is the problem; sending it again cannot help.
pub(crate) const TOO_LARGE: &str = "413: BlueTape refused the record as too large";

/// A sign-up URL that may be handed to a customer, printed, or put in a spreadsheet: an
/// `https://` URL, and not one control character (C0, DEL, C1) that a URL parser would drop.
pub fn is_safe_url(url: &str) -> bool {
    !url.chars().any(char::is_control)
        && url
            .get(..8)
            .is_some_and(|s| s.eq_ignore_ascii_case("https://"))
        && url::Url::parse(url).is_ok_and(|u| u.scheme() == "https" && u.host().is_some())
}

/// "301 Moved Permanently -> <where>", or that the answer named nowhere.
pub(crate) fn redirect_reason(status: u16, location: Option<&str>) -> String {
    let canonical = StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .map(|c| format!("{status} {c}"))
        .unwrap_or_else(|| format!("HTTP {status}"));
    match location {
        Some(location) => format!("{canonical} -> {location}"),
        None => format!("{canonical} without a Location: check api.base_url"),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdatedBody {
    blue_tape_id: Option<String>,
}

/// Classifies a response to `PUT /integration/customer/{id}`: 202 is success; 404 means the
/// customer is gone from BlueTape (the caller creates it again); the rest as for a create.
pub fn classify_update(reply: Reply<'_>, now: SystemTime) -> Outcome {
    let Reply { status, body, .. } = reply;
    match status {
        202 => match serde_json::from_slice::<UpdatedBody>(body) {
            Ok(b) => Outcome::Updated {
                blue_tape_id: b.blue_tape_id,
            },
            Err(_) => Outcome::Retry {
                reason: "202 with a body that is not {blueTapeId}".into(),
                after: None,
            },
        },
        200..=299 | 409 => Outcome::Retry {
            reason: error_reason(status, body),
            after: None,
        },
        _ => classify(reply, now),
    }
}

/// `Retry-After` as seconds or an HTTP date.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// "<status> <reason>", the reason from the error body when there is one, kept short.
pub(crate) fn error_reason(status: u16, body: &[u8]) -> String {
    let canonical = StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    let detail = match serde_json::from_slice::<ErrorBody>(body) {
        Ok(ErrorBody {
            reason: Some(reason),
            ..
        }) => reason,
        Ok(ErrorBody {
            code: Some(code), ..
        }) => code.to_string(),
        _ => String::new(),
    };
    let detail: String = detail.chars().take(300).collect();
    match (canonical, detail.is_empty()) {
        (_, false) => format!("{status}: {detail}"),
        ("", true) => format!("HTTP {status}"),
        (c, true) => format!("{status} {c}"),
    }
}

/// BlueTape's answer to `GET /integration/customer/{id}/signup`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignUp {
    Url(String),
    /// 404 "Customer not found.": no such customer in this account.
    NotFound,
    /// 401/403: the key or the account is refused.
    Unauthorized(String),
    /// A 404 that is not about the customer: `api.base_url` or the account is wrong.
    WrongEndpoint(String),
    /// A 3xx, never followed: `api.base_url` is not where BlueTape answers.
    Redirected(String),
    /// The TLS handshake failed: `api.base_url` is wrong, and retrying cannot fix it.
    TlsFailed(String),
    /// Anything transient.
    Unavailable(String),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SignUpBody {
    sign_up_url: String,
}

/// Classifies an answer to the sign-up URL request. A 404 whose reason is about the customer
/// means the key and account were accepted; any other 404 is a wrong endpoint.
pub fn classify_sign_up(reply: Reply<'_>) -> SignUp {
    let Reply {
        status,
        location,
        body,
        ..
    } = reply;
    match status {
        200 => match serde_json::from_slice::<SignUpBody>(body) {
            Ok(b) if is_safe_url(&b.sign_up_url) => SignUp::Url(b.sign_up_url),
            Ok(_) => SignUp::Unavailable(
                "200 with a signUpUrl that is not an https:// URL without control characters"
                    .into(),
            ),
            Err(_) => SignUp::Unavailable("200 with a body that is not {signUpUrl}".into()),
        },
        404 => {
            let reason = error_reason(status, body);
            if reason.to_ascii_lowercase().contains("customer not found") {
                SignUp::NotFound
            } else {
                SignUp::WrongEndpoint(reason)
            }
        }
        300..=399 => SignUp::Redirected(redirect_reason(status, location)),
        401 | 403 => SignUp::Unauthorized(error_reason(status, body)),
        _ => SignUp::Unavailable(error_reason(status, body)),
    }
}

pub mod invoice;

#[cfg(test)]
mod tests;
