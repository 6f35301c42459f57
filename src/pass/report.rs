//! What a pass did: its counts, why it stopped, its outcome, and the lines that say so.

use std::time::Duration;

use crate::source::SourceError;
use crate::store::PassCounts;

/// Why sending stopped before the queue was empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReason {
    /// 401/403.
    Unauthorized(String),
    /// 404.
    EndpointNotFound(String),
    /// A 3xx: BlueTape answered from somewhere else; never followed.
    Redirected(String),
    /// `retry.stop_after` records in a row exhausted their retries.
    Unavailable(String),
    /// SIGTERM/SIGINT.
    Shutdown,
    /// Results could no longer be recorded.
    StoreFailed,
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StopReason::Unauthorized(reason) => {
                write!(f, "BlueTape refused the API key ({reason})")
            }
            StopReason::EndpointNotFound(reason) | StopReason::Redirected(reason) => {
                write!(f, "BlueTape answered {reason}")
            }
            StopReason::Unavailable(reason) => {
                write!(f, "the BlueTape API keeps failing (last answer: {reason})")
            }
            StopReason::Shutdown => f.write_str("asked to stop"),
            StopReason::StoreFailed => f.write_str("results can no longer be recorded"),
        }
    }
}

/// What a pass did.
#[derive(Debug)]
pub struct PassReport {
    pub counts: PassCounts,
    /// Records older than the watermark minus lookback, skipped unread.
    pub skipped: u64,
    /// Records still pending or failed in the store when the pass ended.
    pub left_pending: u64,
    pub left_failed: u64,
    pub stop: Option<StopReason>,
    /// The export could not be read; what was already queued was still sent.
    pub source_error: Option<SourceError>,
    pub dry_run: bool,
    /// Dry run: how many records a real pass would send.
    pub would_send: u64,
    pub duration: Duration,
    pub endpoint: String,
    /// Requests sent, by answer.
    pub requests: RequestCounts,
}

/// Requests by the class of their answer; `none` got no answer (timeout, connection).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestCounts {
    pub success: u64,
    pub redirect: u64,
    pub client_error: u64,
    pub server_error: u64,
    pub none: u64,
    /// Attempts that were retried after a transient failure.
    pub retried: u64,
}

impl RequestCounts {
    pub(super) fn count(&mut self, status: Option<u16>) {
        match status {
            Some(200..=299) => self.success += 1,
            Some(300..=399) => self.redirect += 1,
            Some(400..=499) => self.client_error += 1,
            Some(_) => self.server_error += 1,
            None => self.none += 1,
        }
    }
}

/// SPEC §6's exit codes.
pub mod exit {
    pub const OK: u8 = 0;
    pub const REJECTED: u8 = 65;
    pub const UNAVAILABLE: u8 = 69;
    pub const LOCKED: u8 = 75;
    pub const UNAUTHORIZED: u8 = 77;
    pub const CONFIG: u8 = 78;
    pub const OTHER: u8 = 1;
}

impl PassReport {
    pub fn exit_code(&self) -> u8 {
        match &self.stop {
            Some(StopReason::Unauthorized(_)) => return exit::UNAUTHORIZED,
            Some(StopReason::EndpointNotFound(_) | StopReason::Redirected(_)) => {
                return exit::CONFIG;
            }
            _ => {}
        }
        if self.source_error.is_some() {
            return exit::CONFIG;
        }
        let interrupted = self.stop == Some(StopReason::Shutdown);
        if !self.dry_run
            && (self.counts.failed > 0
                || self.left_failed > 0
                || (self.left_pending > 0 && !interrupted))
        {
            return exit::UNAVAILABLE;
        }
        if self.counts.rejected > 0 {
            return exit::REJECTED;
        }
        exit::OK
    }

    /// The pass's outcome as stored in `passes`.
    pub fn outcome(&self) -> &'static str {
        match (&self.stop, self.exit_code()) {
            (Some(StopReason::Shutdown), _) => "interrupted",
            (_, exit::UNAUTHORIZED) => "unauthorized",
            (Some(StopReason::EndpointNotFound(_)), _) => "endpoint_not_found",
            (Some(StopReason::Redirected(_)), _) => "redirected",
            (_, exit::CONFIG) => "source_error",
            (_, exit::UNAVAILABLE) => "unavailable",
            (_, exit::REJECTED) => "rejected",
            _ => "ok",
        }
    }

    /// The one-line summary printed at the end of every pass.
    pub fn summary(&self) -> String {
        let c = &self.counts;
        let head = if self.dry_run {
            format!("would send {}; ", self.would_send)
        } else {
            String::new()
        };
        format!(
            "{head}read {}, new {}, created {}, exists {}, rejected {}, failed {}, changed upstream {}, \
             updated {}, skipped {}, inactive {}, queued {}, in {:.1}s",
            c.read,
            c.new,
            c.created,
            c.exists,
            c.rejected,
            c.failed,
            c.changed_upstream,
            c.updated,
            self.skipped,
            c.inactive,
            self.left_pending + self.left_failed,
            self.duration.as_secs_f64()
        )
    }

    /// For a non-zero exit: what is wrong and what to do, in one line.
    pub fn problem(&self) -> Option<String> {
        let queued = self.left_pending + self.left_failed;
        let line = match (&self.stop, self.exit_code()) {
            (_, exit::OK) => return None,
            (Some(StopReason::Unauthorized(reason)), _) => format!(
                "BlueTape refused the API key ({reason}) for {}: check the key and api.account_id; \
                 {queued} customers stay queued and nothing was marked",
                self.endpoint
            ),
            (Some(StopReason::EndpointNotFound(reason)), _) => format!(
                "BlueTape answered {reason} for {}: check api.base_url and api.account_id; \
                 {queued} customers stay queued",
                self.endpoint
            ),
            (Some(StopReason::Redirected(reason)), _) => format!(
                "BlueTape answered {reason} (redirects are not followed: the key goes only to \
                 api.base_url); {queued} customers stay queued and nothing was marked"
            ),
            (_, exit::CONFIG) => match &self.source_error {
                Some(e) => format!("{e}; {queued} customers from earlier passes stay queued"),
                None => "configuration problem".into(),
            },
            (Some(StopReason::Unavailable(reason)), _) => format!(
                "BlueTape API unavailable (last answer: {reason}); stopped early with {queued} \
                 customers queued: they are sent on the next pass"
            ),
            (_, exit::UNAVAILABLE) => format!(
                "{} customers failed and {queued} are still queued because the BlueTape API was \
                 unavailable: they are retried on the next pass",
                self.counts.failed
            ),
            (_, exit::REJECTED) => format!(
                "{} records were rejected in this pass: the warnings above name each id and field; \
                 fix them in the accounting system and they are sent once their modified date changes",
                self.counts.rejected
            ),
            _ => return None,
        };
        Some(line)
    }
}
