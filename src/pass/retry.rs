//! What to do after an answer (SPEC §2, §5): record it, try again and when, create an update's
//! customer again, or stop the pass. Pure, and tested as a table; the loop that waits and sends
//! is `send.rs`.

use std::time::Duration;

use super::config::RetrySection;
use super::pace::backoff;
use super::report::StopReason;
use crate::client::Outcome;
use crate::store::SendResult;

/// The step after an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// The record is done with for this pass: record this.
    Record(SendResult),
    /// Try again after `wait`; `hold`: the server asked the whole client to wait that long.
    Retry {
        wait: Duration,
        hold: bool,
        reason: String,
    },
    /// An update's customer is gone from BlueTape: create it again, at once.
    Recreate,
    /// Nothing more is sent in this pass.
    Stop(StopReason),
}

/// `[retry]` applied to one record's answers.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
}

impl RetryPolicy {
    pub fn new(retry: &RetrySection) -> Self {
        Self {
            max_attempts: retry.max_attempts,
            initial_backoff: retry.initial_backoff,
            max_backoff: retry.max_backoff,
        }
    }

    /// After attempt number `attempt` (from 1) of a create, or of an update when `update`,
    /// was answered with `outcome` at `now_ms`.
    pub fn next(&self, attempt: u32, outcome: Outcome, update: bool, now_ms: i64) -> Next {
        match outcome {
            Outcome::Created {
                blue_tape_id,
                sign_up_url,
            } => Next::Record(SendResult::Created {
                blue_tape_id,
                sign_up_url,
            }),
            Outcome::Exists => Next::Record(SendResult::Exists),
            Outcome::Updated { blue_tape_id } => Next::Record(SendResult::Updated { blue_tape_id }),
            Outcome::Accepted { blue_tape_id } => {
                Next::Record(SendResult::Accepted { blue_tape_id })
            }
            Outcome::Cancelled => Next::Record(SendResult::Cancelled),
            Outcome::Refused { reason } => Next::Record(SendResult::Refused { reason }),
            // The customer may be a draft in BlueTape until it is fixed: not before the
            // longest backoff (SPEC §9).
            Outcome::Waiting { reason } => Next::Record(SendResult::Waiting {
                reason,
                next_attempt_ms: now_ms.saturating_add(self.max_backoff_ms()),
            }),
            Outcome::Rejected { reason } => Next::Record(SendResult::Rejected { reason }),
            Outcome::Unauthorized { reason } => Next::Stop(StopReason::Unauthorized(reason)),
            Outcome::NotFound { .. } if update => Next::Recreate,
            Outcome::NotFound { reason } => Next::Stop(StopReason::EndpointNotFound(reason)),
            Outcome::Redirected { reason } => Next::Stop(StopReason::Redirected(reason)),
            Outcome::TlsFailed { reason } => Next::Stop(StopReason::TlsFailed(reason)),
            Outcome::Retry { reason, .. } if attempt >= self.max_attempts => {
                Next::Record(SendResult::Failed {
                    reason,
                    next_attempt_ms: now_ms.saturating_add(self.max_backoff_ms()),
                })
            }
            Outcome::Retry {
                reason,
                after: Some(after),
            } => Next::Retry {
                wait: after.min(self.max_backoff),
                hold: true,
                reason,
            },
            Outcome::Retry {
                reason,
                after: None,
            } => Next::Retry {
                wait: backoff(attempt, self.initial_backoff, self.max_backoff),
                hold: false,
                reason,
            },
        }
    }
}

impl RetryPolicy {
    fn max_backoff_ms(&self) -> i64 {
        i64::try_from(self.max_backoff.as_millis()).unwrap_or(i64::MAX / 2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(60),
        }
    }

    fn retry(after: Option<u64>) -> Outcome {
        Outcome::Retry {
            reason: "503 Service Unavailable".into(),
            after: after.map(Duration::from_secs),
        }
    }

    #[test]
    fn every_answer_has_its_next_step() {
        let reason = |r: &str| r.to_owned();
        let cases: Vec<(u32, Outcome, bool, Next)> = vec![
            (
                1,
                Outcome::Created {
                    blue_tape_id: "b".into(),
                    sign_up_url: Some("u".into()),
                },
                false,
                Next::Record(SendResult::Created {
                    blue_tape_id: "b".into(),
                    sign_up_url: Some("u".into()),
                }),
            ),
            (2, Outcome::Exists, false, Next::Record(SendResult::Exists)),
            (
                1,
                Outcome::Updated { blue_tape_id: None },
                true,
                Next::Record(SendResult::Updated { blue_tape_id: None }),
            ),
            (
                1,
                Outcome::Rejected {
                    reason: reason("400: bad"),
                },
                false,
                Next::Record(SendResult::Rejected {
                    reason: reason("400: bad"),
                }),
            ),
            (
                1,
                Outcome::Unauthorized {
                    reason: reason("401"),
                },
                false,
                Next::Stop(StopReason::Unauthorized(reason("401"))),
            ),
            (
                1,
                Outcome::NotFound {
                    reason: reason("404"),
                },
                true,
                Next::Recreate,
            ),
            (
                1,
                Outcome::NotFound {
                    reason: reason("404"),
                },
                false,
                Next::Stop(StopReason::EndpointNotFound(reason("404"))),
            ),
            (
                1,
                Outcome::Redirected {
                    reason: reason("301"),
                },
                true,
                Next::Stop(StopReason::Redirected(reason("301"))),
            ),
            (
                1,
                Outcome::TlsFailed {
                    reason: reason("TLS handshake with h failed: x"),
                },
                false,
                Next::Stop(StopReason::TlsFailed(reason(
                    "TLS handshake with h failed: x",
                ))),
            ),
            // Invoices: created by any 2xx, cancelled, refused, or waiting for their customer
            // no earlier than max_backoff later, on the first attempt.
            (
                1,
                Outcome::Accepted { blue_tape_id: None },
                false,
                Next::Record(SendResult::Accepted { blue_tape_id: None }),
            ),
            (
                1,
                Outcome::Cancelled,
                true,
                Next::Record(SendResult::Cancelled),
            ),
            (
                1,
                Outcome::Refused {
                    reason: reason("400: Invoice is paid."),
                },
                true,
                Next::Record(SendResult::Refused {
                    reason: reason("400: Invoice is paid."),
                }),
            ),
            (
                1,
                Outcome::Waiting {
                    reason: reason("400: Customer does not exist."),
                },
                false,
                Next::Record(SendResult::Waiting {
                    reason: reason("400: Customer does not exist."),
                    next_attempt_ms: 1_000 + 60_000,
                }),
            ),
            // A Retry-After holds the whole pass, capped at max_backoff.
            (
                1,
                retry(Some(7)),
                false,
                Next::Retry {
                    wait: Duration::from_secs(7),
                    hold: true,
                    reason: reason("503 Service Unavailable"),
                },
            ),
            (
                2,
                retry(Some(86_400)),
                false,
                Next::Retry {
                    wait: Duration::from_secs(60),
                    hold: true,
                    reason: reason("503 Service Unavailable"),
                },
            ),
            // The last attempt: failed, tried again no earlier than max_backoff later.
            (
                3,
                retry(Some(7)),
                false,
                Next::Record(SendResult::Failed {
                    reason: reason("503 Service Unavailable"),
                    next_attempt_ms: 1_000 + 60_000,
                }),
            ),
        ];
        for (attempt, outcome, update, expected) in cases {
            let label = format!("{attempt} {outcome:?} {update}");
            assert_eq!(
                policy().next(attempt, outcome, update, 1_000),
                expected,
                "{label}"
            );
        }
    }

    #[test]
    fn without_retry_after_the_wait_is_a_jittered_backoff() {
        for attempt in 1..3 {
            let Next::Retry { wait, hold, .. } = policy().next(attempt, retry(None), false, 0)
            else {
                panic!("attempt {attempt} is retried");
            };
            assert!(!hold);
            let ceiling = Duration::from_secs(2u64.pow(attempt));
            assert!(
                (Duration::from_secs(1)..=ceiling).contains(&wait),
                "{attempt}: {wait:?}"
            );
        }
    }
}
