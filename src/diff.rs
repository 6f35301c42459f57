//! The diff (SPEC §4): what to do with one record read from the export, given what the store
//! holds for its id. Pure: no I/O.

pub mod invoice;

use std::fmt;
use std::str::FromStr;

/// A record's state in the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RecordState {
    Pending,
    Created,
    Exists,
    Rejected,
    Failed,
    /// An invoice whose customer is not in BlueTape yet (SPEC §9).
    Waiting,
    /// An invoice cancelled in BlueTape.
    Cancelled,
}

impl RecordState {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordState::Pending => "pending",
            RecordState::Created => "created",
            RecordState::Exists => "exists",
            RecordState::Rejected => "rejected",
            RecordState::Failed => "failed",
            RecordState::Waiting => "waiting",
            RecordState::Cancelled => "cancelled",
        }
    }
}

impl fmt::Display for RecordState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for RecordState {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// A state this program does not know, found in a store.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown record state `{0}`: the store was changed by another program or a newer \
     bluetape-sync; nothing is guessed for it"
)]
pub struct UnknownState(pub String);

impl FromStr for RecordState {
    type Err = UnknownState;

    fn from_str(s: &str) -> Result<Self, UnknownState> {
        Ok(match s {
            "pending" => RecordState::Pending,
            "created" => RecordState::Created,
            "exists" => RecordState::Exists,
            "rejected" => RecordState::Rejected,
            "failed" => RecordState::Failed,
            "waiting" => RecordState::Waiting,
            "cancelled" => RecordState::Cancelled,
            _ => return Err(UnknownState(s.to_owned())),
        })
    }
}

/// What the store holds for an id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub state: RecordState,
    pub modified_ms: Option<i64>,
    /// Queued or rejected earlier in this same pass: the id is in the export twice.
    pub staged_this_pass: bool,
    pub content_hash: Option<String>,
}

/// The record read from the export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Incoming<'a> {
    /// `None` when its date could not be read.
    pub modified_ms: Option<i64>,
    pub valid: bool,
    pub content_hash: &'a str,
    /// Dates after this are in the future (more than `source.clock_skew` ahead of the host's
    /// clock when the pass began).
    pub future_after_ms: Option<i64>,
}

impl Incoming<'_> {
    /// Whether this version is newer than the stored one. A stored date in the future was a
    /// mistake (a mistyped year): any change of it counts, in either direction.
    pub fn is_newer_than(&self, stored: &Stored) -> bool {
        let stored_in_future = matches!(
            (stored.modified_ms, self.future_after_ms),
            (Some(at), Some(horizon)) if at > horizon
        );
        self.modified_ms > stored.modified_ms
            || (stored_in_future
                && self.modified_ms.is_some()
                && self.modified_ms != stored.modified_ms)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Store it as pending, to be sent.
    Queue,
    /// Store it as rejected with its reason.
    Reject,
    /// Already in BlueTape and changed since: record the new date, count it.
    ChangedUpstream,
    /// Nothing to do.
    Unchanged,
}

/// A record needs work only when it is at or after `watermark - lookback` (inclusive, so
/// records that tie with the watermark are never lost).
pub fn is_candidate(modified_ms: i64, threshold_ms: Option<i64>) -> bool {
    threshold_ms.is_none_or(|t| modified_ms >= t)
}

/// What to do with a record read, given what the export says of its standing (a customer's
/// is always open: [`Verdict::Plain`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The plain diff: queue, reject, nothing, or (for one BlueTape has, changed since) an
    /// update.
    Plain(Decision),
    /// Not sent and not kept: a draft, or a record void or paid before it was ever sent,
    /// counted as left out. `withdraw`: the store has it, never sent (queued, waiting,
    /// failed or rejected), and forgets it.
    LeftOut { withdraw: bool },
    /// BlueTape has it, and the export now says it is void: cancel it.
    Cancel,
}

pub fn decide(stored: Option<&Stored>, incoming: Incoming<'_>) -> Decision {
    let store_it = if incoming.valid {
        Decision::Queue
    } else {
        Decision::Reject
    };
    let Some(stored) = stored else {
        return store_it;
    };
    // `None` (no readable date) sorts before every date.
    let newer = incoming.is_newer_than(stored);
    if stored.staged_this_pass {
        // The same id twice in one export: the later date wins; on a tie the later row does.
        return if incoming.modified_ms >= stored.modified_ms {
            store_it
        } else {
            Decision::Unchanged
        };
    }
    match stored.state {
        RecordState::Created | RecordState::Exists | RecordState::Cancelled => {
            if newer {
                Decision::ChangedUpstream
            } else {
                Decision::Unchanged
            }
        }
        RecordState::Pending | RecordState::Waiting => {
            if newer {
                store_it
            } else {
                Decision::Unchanged
            }
        }
        RecordState::Rejected | RecordState::Failed => {
            // Without a usable date on either side, a change of content is the only signal.
            let undated_and_changed = incoming.modified_ms.is_none()
                && stored.modified_ms.is_none()
                && stored.content_hash.as_deref() != Some(incoming.content_hash);
            if newer || undated_and_changed {
                store_it
            } else {
                Decision::Unchanged
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Decision::*;
    use RecordState::*;

    fn stored(state: RecordState, modified: Option<i64>) -> Stored {
        Stored {
            state,
            modified_ms: modified,
            staged_this_pass: false,
            content_hash: Some("h1".into()),
        }
    }

    fn valid(ms: i64) -> Incoming<'static> {
        Incoming {
            modified_ms: Some(ms),
            valid: true,
            content_hash: "h1",
            future_after_ms: None,
        }
    }

    fn invalid(ms: Option<i64>, hash: &'static str) -> Incoming<'static> {
        Incoming {
            modified_ms: ms,
            valid: false,
            content_hash: hash,
            future_after_ms: None,
        }
    }

    #[test]
    fn decision_table() {
        let cases: &[(Option<Stored>, Incoming<'_>, Decision)] = &[
            (None, valid(10), Queue),
            (None, invalid(Some(10), "h1"), Reject),
            (Some(stored(Created, Some(10))), valid(10), Unchanged),
            (Some(stored(Created, Some(10))), valid(11), ChangedUpstream),
            (Some(stored(Exists, Some(10))), valid(9), Unchanged),
            (
                Some(stored(Exists, Some(10))),
                invalid(Some(11), "h2"),
                ChangedUpstream,
            ),
            (Some(stored(Pending, Some(10))), valid(10), Unchanged),
            (Some(stored(Pending, Some(10))), valid(11), Queue),
            (Some(stored(Rejected, Some(10))), valid(10), Unchanged),
            (Some(stored(Rejected, Some(10))), valid(11), Queue),
            (
                Some(stored(Rejected, Some(10))),
                invalid(Some(11), "h2"),
                Reject,
            ),
            (
                Some(stored(Rejected, Some(10))),
                invalid(Some(10), "h2"),
                Unchanged,
            ),
            (Some(stored(Failed, Some(10))), valid(10), Unchanged),
            (Some(stored(Failed, Some(10))), valid(12), Queue),
            (Some(stored(Rejected, None)), valid(1), Queue),
            (Some(stored(Rejected, None)), invalid(None, "h1"), Unchanged),
            (Some(stored(Rejected, None)), invalid(None, "h2"), Reject),
        ];
        for (s, incoming, expected) in cases {
            assert_eq!(
                decide(s.as_ref(), *incoming),
                *expected,
                "{s:?} {incoming:?}"
            );
        }
    }

    #[test]
    fn duplicates_in_one_export_keep_the_later_date() {
        let earlier = Stored {
            staged_this_pass: true,
            ..stored(Pending, Some(10))
        };
        assert_eq!(decide(Some(&earlier), valid(9)), Unchanged);
        assert_eq!(decide(Some(&earlier), valid(10)), Queue);
        assert_eq!(decide(Some(&earlier), invalid(Some(11), "h2")), Reject);
        let rejected = Stored {
            staged_this_pass: true,
            ..stored(Rejected, Some(10))
        };
        assert_eq!(decide(Some(&rejected), valid(11)), Queue);
    }

    #[test]
    fn a_stored_date_in_the_future_changes_in_either_direction() {
        let horizon = Some(100);
        let at = |ms: i64| Incoming {
            future_after_ms: horizon,
            ..valid(ms)
        };
        // Corrected downwards: a rejected record is queued again, a sent one changed.
        assert_eq!(decide(Some(&stored(Rejected, Some(5000))), at(50)), Queue);
        assert_eq!(
            decide(Some(&stored(Created, Some(5000))), at(50)),
            ChangedUpstream
        );
        // The same date read again is no change; a past date is compared as always.
        assert_eq!(
            decide(Some(&stored(Rejected, Some(5000))), at(5000)),
            Unchanged
        );
        assert_eq!(decide(Some(&stored(Rejected, Some(60))), at(50)), Unchanged);
    }

    #[test]
    fn candidates_include_ties() {
        assert!(is_candidate(5, None));
        assert!(is_candidate(5, Some(5)));
        assert!(!is_candidate(4, Some(5)));
    }
}
