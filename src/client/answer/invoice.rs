//! What BlueTape's answers to the invoice calls mean (SPEC §9). For invoices any 2xx is
//! success whatever its body; an error's body `code` says more than its status:
//! `invoice_already_exist` is exists, `customer_does_not_exist` and
//! `customer_of_invoice_is_draft` make the invoice wait for its customer. The rest is read as
//! for customers.

use std::time::SystemTime;

use serde::Deserialize;

use super::{Outcome, Reply, TOO_LARGE, classify, error_reason};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AcceptedBody {
    blue_tape_id: Option<serde_json::Value>,
}

/// The `blueTapeId` of a 2xx body, when it has one (a string, or a number as written).
fn blue_tape_id(body: &[u8]) -> Option<String> {
    let id = serde_json::from_slice::<AcceptedBody>(body)
        .ok()?
        .blue_tape_id?;
    match id {
        serde_json::Value::String(s) if !s.is_empty() => Some(s),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// An error body's `code`, as text.
fn code(body: &[u8]) -> Option<String> {
    let code = serde_json::from_slice::<super::ErrorBody>(body)
        .ok()?
        .code?;
    Some(match code {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    })
}

/// The answers every invoice call reads alike: the codes that say exists or waiting.
fn by_code(reply: &Reply<'_>) -> Option<Outcome> {
    if (200..=299).contains(&reply.status) {
        return None;
    }
    match code(reply.body)?.as_str() {
        "invoice_already_exist" => Some(Outcome::Exists),
        "customer_does_not_exist" | "customer_of_invoice_is_draft" => Some(Outcome::Waiting {
            reason: error_reason(reply.status, reply.body),
        }),
        _ => None,
    }
}

/// `POST /integration/invoice`.
pub fn classify_create(reply: Reply<'_>, now: SystemTime) -> Outcome {
    if let Some(outcome) = by_code(&reply) {
        return outcome;
    }
    match reply.status {
        200..=299 => Outcome::Accepted {
            blue_tape_id: blue_tape_id(reply.body),
        },
        _ => classify(reply, now),
    }
}

/// `PUT /integration/invoice/{id}`: any 400 is refused (BlueTape will not change an invoice
/// past its due date, paid, cancelled, or moved to another customer); a 404 means BlueTape no
/// longer has it (the caller creates it again).
pub fn classify_update(reply: Reply<'_>, now: SystemTime) -> Outcome {
    if let Some(outcome) = by_code(&reply) {
        return outcome;
    }
    match reply.status {
        200..=299 => Outcome::Updated {
            blue_tape_id: blue_tape_id(reply.body),
        },
        400 => Outcome::Refused {
            reason: error_reason(reply.status, reply.body),
        },
        // Too large a change to an invoice BlueTape has: refused like a 400, not rejected.
        413 => Outcome::Refused {
            reason: TOO_LARGE.into(),
        },
        409 => Outcome::Retry {
            reason: error_reason(reply.status, reply.body),
            after: None,
        },
        _ => classify(reply, now),
    }
}

/// `PUT /integration/invoice/{id}/cancel`: done when cancelled, already cancelled (409), or
/// no longer there (a 404 about the invoice); a 404 not about the invoice is a wrong endpoint.
pub fn classify_cancel(reply: Reply<'_>, now: SystemTime) -> Outcome {
    match reply.status {
        200..=299 | 409 => Outcome::Cancelled,
        404 => {
            let reason = error_reason(reply.status, reply.body);
            if reason.to_ascii_lowercase().contains("invoice") {
                Outcome::Cancelled
            } else {
                Outcome::NotFound { reason }
            }
        }
        400 => Outcome::Refused {
            reason: error_reason(reply.status, reply.body),
        },
        413 => Outcome::Refused {
            reason: TOO_LARGE.into(),
        },
        _ => classify(reply, now),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    use super::super::tests::reply;

    fn now() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)
    }

    const DUPLICATE: &[u8] =
        br#"{"code":"invoice_already_exist","reason":"Invoice already exists."}"#;
    const NO_CUSTOMER: &[u8] =
        br#"{"code":"customer_does_not_exist","reason":"Customer does not exist."}"#;
    const DRAFT: &[u8] =
        br#"{"code":"customer_of_invoice_is_draft","reason":"Customer of invoice is draft."}"#;

    #[test]
    fn creates() {
        let waiting = |reason: &str| Outcome::Waiting {
            reason: reason.into(),
        };
        let cases: Vec<(u16, &[u8], Outcome)> = vec![
            (
                201,
                br#"{"blueTapeId":"inv-1"}"#,
                Outcome::Accepted {
                    blue_tape_id: Some("inv-1".into()),
                },
            ),
            (
                200,
                br#"{"blueTapeId":42}"#,
                Outcome::Accepted {
                    blue_tape_id: Some("42".into()),
                },
            ),
            (204, b"", Outcome::Accepted { blue_tape_id: None }),
            (200, b"<html>", Outcome::Accepted { blue_tape_id: None }),
            (202, b"{}", Outcome::Accepted { blue_tape_id: None }),
            (409, b"", Outcome::Exists),
            (400, DUPLICATE, Outcome::Exists),
            (409, DUPLICATE, Outcome::Exists),
            (400, NO_CUSTOMER, waiting("400: Customer does not exist.")),
            (422, DRAFT, waiting("422: Customer of invoice is draft.")),
            (
                400,
                br#"{"code":"400","reason":"Invalid dueDate"}"#,
                Outcome::Rejected {
                    reason: "400: Invalid dueDate".into(),
                },
            ),
            (
                401,
                b"",
                Outcome::Unauthorized {
                    reason: "401 Unauthorized".into(),
                },
            ),
            (
                404,
                b"",
                Outcome::NotFound {
                    reason: "404 Not Found".into(),
                },
            ),
            (
                503,
                b"",
                Outcome::Retry {
                    reason: "503 Service Unavailable".into(),
                    after: None,
                },
            ),
            (
                413,
                b"<html>Request Entity Too Large</html>",
                Outcome::Rejected {
                    reason: TOO_LARGE.into(),
                },
            ),
        ];
        for (status, body, expected) in cases {
            assert_eq!(
                classify_create(reply(status, body), now()),
                expected,
                "{status} {}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn updates() {
        let cases: Vec<(u16, &[u8], Outcome)> = vec![
            (
                202,
                br#"{"blueTapeId":"inv-1"}"#,
                Outcome::Updated {
                    blue_tape_id: Some("inv-1".into()),
                },
            ),
            (200, b"", Outcome::Updated { blue_tape_id: None }),
            (
                400,
                br#"{"code":"400","reason":"Invoice is paid."}"#,
                Outcome::Refused {
                    reason: "400: Invoice is paid.".into(),
                },
            ),
            (
                404,
                br#"{"code":"404","reason":"Invoice not exists."}"#,
                Outcome::NotFound {
                    reason: "404: Invoice not exists.".into(),
                },
            ),
            (
                400,
                NO_CUSTOMER,
                Outcome::Waiting {
                    reason: "400: Customer does not exist.".into(),
                },
            ),
            (
                409,
                b"",
                Outcome::Retry {
                    reason: "409 Conflict".into(),
                    after: None,
                },
            ),
            (
                413,
                b"",
                Outcome::Refused {
                    reason: TOO_LARGE.into(),
                },
            ),
        ];
        for (status, body, expected) in cases {
            assert_eq!(
                classify_update(reply(status, body), now()),
                expected,
                "{status}"
            );
        }
    }

    #[test]
    fn cancels() {
        let cases: Vec<(u16, &[u8], Outcome)> = vec![
            (200, b"{}", Outcome::Cancelled),
            (204, b"", Outcome::Cancelled),
            (
                409,
                br#"{"code":"409","reason":"Invoice already canceled."}"#,
                Outcome::Cancelled,
            ),
            (
                404,
                br#"{"code":"404","reason":"Invoice not exists."}"#,
                Outcome::Cancelled,
            ),
            (
                404,
                br#"{"code":"404","reason":"Not found."}"#,
                Outcome::NotFound {
                    reason: "404: Not found.".into(),
                },
            ),
            (
                400,
                br#"{"code":"400","reason":"Invoice is paid."}"#,
                Outcome::Refused {
                    reason: "400: Invoice is paid.".into(),
                },
            ),
            (
                403,
                b"",
                Outcome::Unauthorized {
                    reason: "403 Forbidden".into(),
                },
            ),
            (
                413,
                b"",
                Outcome::Refused {
                    reason: TOO_LARGE.into(),
                },
            ),
        ];
        for (status, body, expected) in cases {
            assert_eq!(
                classify_cancel(reply(status, body), now()),
                expected,
                "{status}"
            );
        }
    }
}
