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
        sign_up_url: String,
    },
    /// 409: already in BlueTape; success.
    Exists,
    /// 202 to an update.
    Updated { blue_tape_id: Option<String> },
    /// 400: BlueTape refuses this record.
    Rejected { reason: String },
    /// 401/403: the credentials are wrong; stop the pass.
    Unauthorized { reason: String },
    /// 404: the endpoint or account is wrong; stop the pass.
    NotFound { reason: String },
    /// 3xx: BlueTape is elsewhere; never followed (the key goes only to `api.base_url`), and
    /// the pass stops like 404.
    Redirected { reason: String },
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
            Outcome::Rejected { .. } => "rejected",
            Outcome::Unauthorized { .. } => "unauthorized",
            Outcome::NotFound { .. } => "not found",
            Outcome::Redirected { .. } => "redirected",
            Outcome::Retry { .. } => "retry",
        }
    }

    /// The server's reason, or what went wrong, when there is one.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Outcome::Rejected { reason }
            | Outcome::Unauthorized { reason }
            | Outcome::NotFound { reason }
            | Outcome::Redirected { reason }
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
struct ErrorBody {
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
                sign_up_url: b.sign_up_url,
            },
            Err(_) => Outcome::Retry {
                reason: "201 with a body that is not {blueTapeId, signUpUrl}".into(),
                after: None,
            },
        },
        409 => Outcome::Exists,
        400 => Outcome::Rejected { reason: reason() },
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

/// "301 Moved Permanently -> <where>", or that the answer named nowhere.
fn redirect_reason(status: u16, location: Option<&str>) -> String {
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
fn error_reason(status: u16, body: &[u8]) -> String {
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
            Ok(b) => SignUp::Url(b.sign_up_url),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_response_class() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let created = br#"{"blueTapeId":"fb56","signUpUrl":"https://x/s?id=1"}"#;
        let cases: Vec<(u16, Option<&str>, &[u8], Outcome)> = vec![
            (
                201,
                None,
                created,
                Outcome::Created {
                    blue_tape_id: "fb56".into(),
                    sign_up_url: "https://x/s?id=1".into(),
                },
            ),
            (
                201,
                None,
                b"<html>",
                Outcome::Retry {
                    reason: "201 with a body that is not {blueTapeId, signUpUrl}".into(),
                    after: None,
                },
            ),
            (
                409,
                None,
                br#"{"code":"409","reason":"Customer already exists."}"#,
                Outcome::Exists,
            ),
            (
                400,
                None,
                br#"{"code":"BadRequest","reason":"Invalid phone"}"#,
                Outcome::Rejected {
                    reason: "400: Invalid phone".into(),
                },
            ),
            (
                400,
                None,
                b"",
                Outcome::Rejected {
                    reason: "400 Bad Request".into(),
                },
            ),
            (
                401,
                None,
                b"",
                Outcome::Unauthorized {
                    reason: "401 Unauthorized".into(),
                },
            ),
            (
                403,
                None,
                br#"{"code":"forbidden"}"#,
                Outcome::Unauthorized {
                    reason: "403: \"forbidden\"".into(),
                },
            ),
            (
                404,
                None,
                b"",
                Outcome::NotFound {
                    reason: "404 Not Found".into(),
                },
            ),
            (
                500,
                None,
                b"oops",
                Outcome::Retry {
                    reason: "500 Internal Server Error".into(),
                    after: None,
                },
            ),
            (
                503,
                Some("7"),
                b"",
                Outcome::Retry {
                    reason: "503 Service Unavailable".into(),
                    after: Some(Duration::from_secs(7)),
                },
            ),
            (
                429,
                Some("Tue, 14 Nov 2023 22:13:30 GMT"),
                b"",
                Outcome::Retry {
                    reason: "429 Too Many Requests".into(),
                    after: Some(Duration::from_secs(10)),
                },
            ),
            (
                408,
                None,
                b"",
                Outcome::Retry {
                    reason: "408 Request Timeout".into(),
                    after: None,
                },
            ),
            (
                302,
                None,
                b"",
                Outcome::Redirected {
                    reason: "302 Found without a Location: check api.base_url".into(),
                },
            ),
            (
                200,
                None,
                created,
                Outcome::Retry {
                    reason: "200 OK".into(),
                    after: None,
                },
            ),
        ];
        for (status, retry_after, body, expected) in cases {
            let reply = Reply {
                status,
                retry_after,
                location: None,
                body,
            };
            assert_eq!(classify(reply, now), expected, "{status}");
        }
    }

    fn reply(status: u16, body: &[u8]) -> Reply<'_> {
        Reply {
            status,
            retry_after: None,
            location: None,
            body,
        }
    }

    #[test]
    fn redirects_stop_and_say_where() {
        let now = SystemTime::UNIX_EPOCH;
        for status in [301, 302, 303, 307, 308] {
            let reply = Reply {
                location: Some("https://b.example/x"),
                ..reply(status, b"")
            };
            let Outcome::Redirected { reason } = classify(reply, now) else {
                panic!("{status} is not a redirect");
            };
            assert!(reason.starts_with(&format!("{status} ")), "{reason}");
            assert!(reason.ends_with("-> https://b.example/x"), "{reason}");
            assert!(matches!(
                classify_update(reply, now),
                Outcome::Redirected { .. }
            ));
            assert!(matches!(classify_sign_up(reply), SignUp::Redirected(_)));
        }
    }

    #[test]
    fn only_an_unlisted_transient_answer_is_unexpected() {
        let now = SystemTime::UNIX_EPOCH;
        let answer = |status: Option<u16>| Answer {
            status,
            outcome: match status {
                Some(s) => classify(reply(s, b""), now),
                None => Outcome::Retry {
                    reason: "timed out".into(),
                    after: None,
                },
            },
        };
        // A 201 without the documented body, a 200, a teapot: retried, with a warning.
        for status in [Some(201), Some(200), Some(418)] {
            assert!(answer(status).is_unexpected(), "{status:?}");
        }
        // Transient as SPEC lists them, or not transient at all (a 3xx stops the pass).
        for status in [
            None,
            Some(408),
            Some(429),
            Some(500),
            Some(503),
            Some(302),
            Some(400),
        ] {
            assert!(!answer(status).is_unexpected(), "{status:?}");
        }
    }

    #[test]
    fn sign_up_answers() {
        assert_eq!(
            classify_sign_up(reply(200, br#"{"signUpUrl":"https://x/s?id=1"}"#)),
            SignUp::Url("https://x/s?id=1".into())
        );
        assert_eq!(
            classify_sign_up(reply(
                404,
                br#"{"code":"404","reason":"Customer not found."}"#
            )),
            SignUp::NotFound
        );
        assert!(matches!(
            classify_sign_up(reply(404, b"")),
            SignUp::WrongEndpoint(_)
        ));
        assert!(matches!(
            classify_sign_up(reply(401, b"")),
            SignUp::Unauthorized(_)
        ));
        assert!(matches!(
            classify_sign_up(reply(403, b"")),
            SignUp::Unauthorized(_)
        ));
        assert!(matches!(
            classify_sign_up(reply(503, b"")),
            SignUp::Unavailable(_)
        ));
    }

    #[test]
    fn update_answers() {
        let now = SystemTime::UNIX_EPOCH;
        assert_eq!(
            classify_update(reply(202, br#"{"blueTapeId":"b1"}"#), now),
            Outcome::Updated {
                blue_tape_id: Some("b1".into())
            }
        );
        assert_eq!(
            classify_update(
                reply(404, br#"{"code":"404","reason":"Customer not found."}"#),
                now
            ),
            Outcome::NotFound {
                reason: "404: Customer not found.".into()
            }
        );
        assert!(matches!(
            classify_update(reply(201, b"{}"), now),
            Outcome::Retry { .. }
        ));
        let busy = Reply {
            retry_after: Some("2"),
            ..reply(503, b"")
        };
        assert!(matches!(
            classify_update(busy, now),
            Outcome::Retry { after: Some(_), .. }
        ));
        assert!(matches!(
            classify_update(reply(400, b""), now),
            Outcome::Rejected { .. }
        ));
    }

    #[test]
    fn retry_after_forms() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Tue, 14 Nov 2023 22:12:20 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
