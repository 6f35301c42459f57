//! The invoice diff (SPEC §9): what an invoice's standing in the export (open, draft, paid,
//! void) adds to the customer's diff. Pure.

use super::{Decision, Incoming, RecordState, Stored, Verdict, decide};
use crate::source::Standing;

pub fn decide_invoice(
    stored: Option<&Stored>,
    incoming: Incoming<'_>,
    standing: Standing,
) -> Verdict {
    let state = stored.map(|s| s.state);
    let sent = matches!(state, Some(RecordState::Created | RecordState::Exists));
    let newer = stored.is_some_and(|s| incoming.is_newer_than(s));
    if stored.is_some_and(|s| s.staged_this_pass && incoming.modified_ms < s.modified_ms) {
        // The same id twice in one export: the later date wins.
        return Verdict::Plain(Decision::Unchanged);
    }
    match standing {
        // Cancelled is final.
        _ if state == Some(RecordState::Cancelled) => Verdict::Plain(Decision::Unchanged),
        Standing::Open => Verdict::Plain(decide(stored, incoming)),
        // A paid invoice BlueTape has is brought up to date (its amount due).
        Standing::Paid if sent => Verdict::Plain(decide(stored, incoming)),
        Standing::Void if sent && newer => Verdict::Cancel,
        // A sent invoice cannot go back to draft; a void one seen again is handled already.
        Standing::Void | Standing::Draft if sent => Verdict::Plain(Decision::Unchanged),
        Standing::Draft | Standing::Paid | Standing::Void => Verdict::LeftOut {
            withdraw: stored.is_some(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Decision::*;
    use RecordState::*;
    use Verdict::*;

    fn stored(state: RecordState, modified: i64) -> Stored {
        Stored {
            state,
            modified_ms: Some(modified),
            staged_this_pass: false,
            content_hash: None,
        }
    }

    fn this_pass(state: RecordState, modified: i64) -> Stored {
        Stored {
            staged_this_pass: true,
            ..stored(state, modified)
        }
    }

    fn read(ms: i64, valid: bool) -> Incoming<'static> {
        Incoming {
            modified_ms: Some(ms),
            valid,
            content_hash: "h",
            future_after_ms: None,
        }
    }

    #[test]
    fn decision_table() {
        let cases: &[(Option<Stored>, Incoming<'_>, Standing, Verdict)] = &[
            // New: open ones are queued (or rejected); the others are never sent.
            (None, read(10, true), Standing::Open, Plain(Queue)),
            (None, read(10, false), Standing::Open, Plain(Reject)),
            (
                None,
                read(10, true),
                Standing::Draft,
                LeftOut { withdraw: false },
            ),
            (
                None,
                read(10, true),
                Standing::Paid,
                LeftOut { withdraw: false },
            ),
            (
                None,
                read(10, false),
                Standing::Void,
                LeftOut { withdraw: false },
            ),
            // Never sent, now void, paid or a draft: withdrawn from the queue.
            (
                Some(stored(Pending, 10)),
                read(11, true),
                Standing::Void,
                LeftOut { withdraw: true },
            ),
            (
                Some(stored(Waiting, 10)),
                read(11, true),
                Standing::Paid,
                LeftOut { withdraw: true },
            ),
            (
                Some(stored(Rejected, 10)),
                read(11, true),
                Standing::Draft,
                LeftOut { withdraw: true },
            ),
            (
                Some(stored(Failed, 10)),
                read(10, true),
                Standing::Void,
                LeftOut { withdraw: true },
            ),
            // Sent: a change is an update, paid included; void cancels once.
            (
                Some(stored(Created, 10)),
                read(11, true),
                Standing::Open,
                Plain(ChangedUpstream),
            ),
            (
                Some(stored(Exists, 10)),
                read(11, true),
                Standing::Paid,
                Plain(ChangedUpstream),
            ),
            (
                Some(stored(Created, 10)),
                read(10, true),
                Standing::Paid,
                Plain(Unchanged),
            ),
            (
                Some(stored(Created, 10)),
                read(11, true),
                Standing::Void,
                Cancel,
            ),
            (
                Some(stored(Exists, 10)),
                read(11, false),
                Standing::Void,
                Cancel,
            ),
            (
                Some(stored(Created, 11)),
                read(11, true),
                Standing::Void,
                Plain(Unchanged),
            ),
            (
                Some(stored(Created, 10)),
                read(11, true),
                Standing::Draft,
                Plain(Unchanged),
            ),
            // Cancelled is final, whatever comes.
            (
                Some(stored(Cancelled, 10)),
                read(12, true),
                Standing::Open,
                Plain(Unchanged),
            ),
            (
                Some(stored(Cancelled, 10)),
                read(12, true),
                Standing::Void,
                Plain(Unchanged),
            ),
            // Waiting for its customer: a change is queued again, like a pending one.
            (
                Some(stored(Waiting, 10)),
                read(11, true),
                Standing::Open,
                Plain(Queue),
            ),
            (
                Some(stored(Waiting, 10)),
                read(10, true),
                Standing::Open,
                Plain(Unchanged),
            ),
            // The same id twice in one export: an older row changes nothing, a later one
            // replaces the first (a draft withdraws what the first row queued).
            (
                Some(this_pass(Pending, 11)),
                read(10, true),
                Standing::Draft,
                Plain(Unchanged),
            ),
            (
                Some(this_pass(Pending, 11)),
                read(12, true),
                Standing::Draft,
                LeftOut { withdraw: true },
            ),
        ];
        for (stored, incoming, standing, expected) in cases {
            assert_eq!(
                decide_invoice(stored.as_ref(), *incoming, *standing),
                *expected,
                "{stored:?} {incoming:?} {standing:?}"
            );
        }
    }
}
