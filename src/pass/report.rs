//! What a pass did: its counts, why it stopped, its outcome, and the lines that say so.

use std::time::Duration;

use super::stage::Staged;
use crate::source::{Kind, SourceError};
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
    /// A certificate or protocol error reaching `api.base_url`: no retry can fix it.
    TlsFailed(String),
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
            StopReason::TlsFailed(reason) => f.write_str(reason),
            StopReason::Unavailable(reason) => {
                write!(f, "the BlueTape API keeps failing (last answer: {reason})")
            }
            StopReason::Shutdown => f.write_str("asked to stop"),
            StopReason::StoreFailed => f.write_str("results can no longer be recorded"),
        }
    }
}

/// What a pass did: one report per lane, and what the pass as a whole met.
#[derive(Debug)]
pub struct PassReport {
    /// One per lane, in the order they ran (customers first).
    pub lanes: Vec<LaneReport>,
    pub stop: Option<StopReason>,
    pub dry_run: bool,
    pub duration: Duration,
    pub endpoint: String,
    /// Requests sent, by answer.
    pub requests: RequestCounts,
}

/// What a pass did with one kind of record.
#[derive(Debug)]
pub struct LaneReport {
    pub kind: Kind,
    /// Read, new, created, exists, updated, cancelled, rejected, failed, refused; `inactive`
    /// counts those left out (inactive customers; drafts, bills, invoices paid or void
    /// before they were sent).
    pub counts: PassCounts,
    /// Records older than the watermark minus lookback, skipped unread.
    pub skipped: u64,
    /// Records still pending or failed in the store when the pass ended.
    pub left_pending: u64,
    pub left_failed: u64,
    /// Waiting for the lane they follow after the pass (dry run: would wait).
    pub waiting: u64,
    /// Dry run: how many records a real pass would send.
    pub would_send: u64,
    /// The export could not be read; what was already queued was still sent.
    pub source_error: Option<SourceError>,
    /// A file was left because it was still being written: when it will have settled.
    pub settles_in: Option<Duration>,
}

impl LaneReport {
    /// A lane that has staged, before anything is sent.
    pub(super) fn staged(kind: Kind, staged: Staged, source_error: Option<SourceError>) -> Self {
        Self {
            kind,
            counts: staged.counts,
            skipped: staged.skipped,
            left_pending: 0,
            left_failed: 0,
            waiting: staged.would_wait,
            would_send: staged.would_send,
            source_error,
            settles_in: staged.settles_in,
        }
    }

    /// The counts kept in the pass history: this pass's, with those waiting after it.
    pub fn kept_counts(&self) -> PassCounts {
        PassCounts {
            waiting: self.waiting,
            ..self.counts.clone()
        }
    }

    fn queued(&self) -> u64 {
        self.left_pending + self.left_failed
    }

    /// A later lane's part of the summary line: `; invoices: created 3, ...`.
    fn summary_part(&self) -> String {
        let c = &self.counts;
        let mut part = format!(
            "; {}: created {}, exists {}, updated {}, cancelled {}, waiting {}, rejected {}, \
             left out {}",
            self.kind.plural(),
            c.created,
            c.exists,
            c.updated,
            c.cancelled,
            self.waiting,
            c.rejected,
            c.inactive
        );
        if c.failed > 0 {
            part.push_str(&format!(", failed {}", c.failed));
        }
        if c.refused > 0 {
            part.push_str(&format!(", refused {}", c.refused));
        }
        part
    }
}

/// Requests by the class of their answer; `none` got no answer (timeout, connection).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, derive_more::AddAssign)]
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

/// How a pass ended. The store's `passes`, the metrics and the exit code all read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PassOutcome {
    /// Everything read was sent, or had been.
    Ok,
    /// The pass finished, but records were rejected in it.
    Rejected,
    /// Records are still failed or queued because the API was unavailable.
    Unavailable,
    /// 401/403.
    Unauthorized,
    /// 404.
    EndpointNotFound,
    /// A 3xx, not followed.
    Redirected,
    /// The TLS handshake failed (a certificate for another name, https to a plain port):
    /// retrying cannot fix it.
    TlsFailed,
    /// The export, or part of it, could not be read.
    SourceError,
    /// Asked to stop: what was in flight was recorded, the rest stays queued.
    Interrupted,
}

impl PassOutcome {
    /// The word kept in `passes.outcome` and in the metrics.
    pub fn label(self) -> &'static str {
        match self {
            PassOutcome::Ok => "ok",
            PassOutcome::Rejected => "rejected",
            PassOutcome::Unavailable => "unavailable",
            PassOutcome::Unauthorized => "unauthorized",
            PassOutcome::EndpointNotFound => "endpoint_not_found",
            PassOutcome::Redirected => "redirected",
            PassOutcome::TlsFailed => "tls_failed",
            PassOutcome::SourceError => "source_error",
            PassOutcome::Interrupted => "interrupted",
        }
    }
}

/// `1 customer`, `3 customers`: a count that agrees with its noun.
fn counted(n: u64, one: &str, many: &str) -> String {
    match n {
        1 => format!("1 {one}"),
        n => format!("{n} {many}"),
    }
}

impl std::fmt::Display for PassOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

impl PassReport {
    pub fn outcome(&self) -> PassOutcome {
        match &self.stop {
            Some(StopReason::Unauthorized(_)) => return PassOutcome::Unauthorized,
            Some(StopReason::EndpointNotFound(_)) => return PassOutcome::EndpointNotFound,
            Some(StopReason::TlsFailed(_)) => return PassOutcome::TlsFailed,
            Some(StopReason::Redirected(_)) => return PassOutcome::Redirected,
            Some(StopReason::Shutdown) => return PassOutcome::Interrupted,
            Some(StopReason::Unavailable(_) | StopReason::StoreFailed) | None => {}
        }
        if self.source_error().is_some() {
            return PassOutcome::SourceError;
        }
        if !self.dry_run && (self.failed() > 0 || self.queued() > 0) {
            return PassOutcome::Unavailable;
        }
        if self.rejected() > 0 {
            return PassOutcome::Rejected;
        }
        PassOutcome::Ok
    }

    /// The lane of `kind`, if the pass carried it.
    pub fn lane(&self, kind: Kind) -> Option<&LaneReport> {
        self.lanes.iter().find(|l| l.kind == kind)
    }

    /// Every lane's counts added up.
    pub fn totals(&self) -> PassCounts {
        (self.lanes.iter()).fold(PassCounts::default(), |sum, l| sum + l.counts.clone())
    }

    /// The first export that could not be read.
    pub fn source_error(&self) -> Option<&SourceError> {
        self.lanes.iter().find_map(|l| l.source_error.as_ref())
    }

    /// When the last file left because it was still being written will have settled.
    pub fn settles_in(&self) -> Option<Duration> {
        self.lanes.iter().filter_map(|l| l.settles_in).max()
    }

    /// Dry run: how many records a real pass would send.
    pub fn would_send(&self) -> u64 {
        self.lanes.iter().map(|l| l.would_send).sum()
    }

    /// Records still to send after the pass, every lane.
    fn queued(&self) -> u64 {
        self.lanes.iter().map(LaneReport::queued).sum()
    }

    fn failed(&self) -> u64 {
        self.lanes.iter().map(|l| l.counts.failed).sum()
    }

    fn rejected(&self) -> u64 {
        self.lanes.iter().map(|l| l.counts.rejected).sum()
    }

    /// What stays queued, as the problem line says it: `3 customers`, or with invoices
    /// `3 customers and 2 invoices`.
    fn queued_records(&self) -> String {
        let parts: Vec<String> = (self.lanes.iter())
            .map(|l| counted(l.queued(), l.kind.name(), l.kind.plural()))
            .collect();
        match parts.split_last() {
            None => counted(0, "customer", "customers"),
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        }
    }

    /// The one-line summary printed at the end of every pass: the first lane's counts, then
    /// each later lane's part.
    pub fn summary(&self) -> String {
        let head = match self.dry_run {
            true => format!("would send {}; ", self.would_send()),
            false => String::new(),
        };
        // Told only when there are some: a record dated in the future is a mistake to fix.
        let future = match self.totals().future {
            0 => String::new(),
            n => format!(", future {n}"),
        };
        let (first, later) = match self.lanes.split_first() {
            Some((first, later)) => (Some(first), later),
            None => (None, &[][..]),
        };
        let c = first.map(|l| l.counts.clone()).unwrap_or_default();
        let later: String = later.iter().map(LaneReport::summary_part).collect();
        format!(
            "{head}read {}, new {}, created {}, exists {}, rejected {}, failed {}, changed upstream {}, \
             updated {}, skipped {}, inactive {}{future}, queued {}, in {:.1}s{later}",
            c.read,
            c.new,
            c.created,
            c.exists,
            c.rejected,
            c.failed,
            c.changed_upstream,
            c.updated,
            first.map_or(0, |l| l.skipped),
            c.inactive,
            first.map_or(0, LaneReport::queued),
            self.duration.as_secs_f64()
        )
    }

    /// For a non-zero exit: what is wrong and what to do, in one line.
    pub fn problem(&self) -> Option<String> {
        let queued = self.queued_records();
        let line = match (self.outcome(), &self.stop) {
            (PassOutcome::Ok | PassOutcome::Interrupted, _) => return None,
            (PassOutcome::Unauthorized, Some(StopReason::Unauthorized(reason))) => format!(
                "BlueTape refused the API key ({reason}) for {}: check the key and api.account_id; \
                 {queued} stay queued and nothing was marked",
                self.endpoint
            ),
            (PassOutcome::EndpointNotFound, Some(StopReason::EndpointNotFound(reason))) => format!(
                "BlueTape answered {reason} for {}: check api.base_url and api.account_id; \
                 {queued} stay queued",
                self.endpoint
            ),
            (PassOutcome::TlsFailed, Some(StopReason::TlsFailed(reason))) => format!(
                "{reason}: check api.base_url ({}), retrying cannot fix this; {queued} stay \
                 queued and nothing was marked",
                self.endpoint
            ),
            (PassOutcome::Redirected, Some(StopReason::Redirected(reason))) => format!(
                "BlueTape answered {reason} (redirects are not followed: the key goes only to \
                 api.base_url); {queued} stay queued and nothing was marked"
            ),
            (PassOutcome::SourceError, _) => match self.source_error() {
                Some(e) => format!("{e}; {queued} from earlier passes stay queued"),
                None => "the export could not be read".into(),
            },
            (PassOutcome::Unavailable, Some(StopReason::Unavailable(reason))) => format!(
                "BlueTape API unavailable (last answer: {reason}); stopped early with {queued} \
                 queued: they are sent on the next pass"
            ),
            (PassOutcome::Unavailable, _) => format!(
                "{} failed and {queued} stay queued because the BlueTape API was unavailable: \
                 they are retried on the next pass",
                counted(self.failed(), "record", "records")
            ),
            (PassOutcome::Rejected, _) => format!(
                "{} rejected in this pass: the warnings above name each id and field; fix them \
                 in the accounting system and they are sent once their modified date changes",
                match self.rejected() {
                    1 => "1 record was".to_owned(),
                    n => format!("{n} records were"),
                }
            ),
            (outcome, _) => format!("the pass ended {outcome}"),
        };
        Some(line)
    }
}
