//! Record-level log lines are bounded per pass (SPEC §10): the first [`RECORD_LINES`] are
//! logged, the rest only counted and told in one line at the end, so that journald's rate
//! limit (10,000 lines in 30 s by default) can never drop the pass summary or an error.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Record-level lines one pass logs at most.
pub const RECORD_LINES: u64 = 100;

/// What a pass has logged about single records, and what it held back.
#[derive(Debug, Default)]
pub struct RecordNotices {
    logged: AtomicU64,
    /// Lines held back, by what they would have said (`rejected`, `failed`, ...).
    held: Mutex<BTreeMap<&'static str, u64>>,
}

impl RecordNotices {
    /// Whether a line about one record (`what` happened to it) may be logged; once the
    /// pass has logged its share, it is counted instead.
    pub fn admit(&self, what: &'static str) -> bool {
        if self.logged.fetch_add(1, Ordering::Relaxed) < RECORD_LINES {
            return true;
        }
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        *held.entry(what).or_default() += 1;
        false
    }

    /// The one line for what was held back: `… and 299,900 more rejected, 12 more failed:
    /// bluetape-sync failures`.
    pub fn rest(&self) -> Option<String> {
        let held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        if held.is_empty() {
            return None;
        }
        let parts: Vec<String> = held
            .iter()
            .map(|(what, n)| format!("{} more {what}", thousands(*n)))
            .collect();
        Some(format!(
            "… and {} (not logged one by one: see `bluetape-sync failures` and `show`)",
            parts.join(", ")
        ))
    }
}

/// `299900` as `299,900`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Logs a line about one record at `level` when the pass's [`RecordNotices`] admit it.
macro_rules! record_line {
    ($notices:expr, $what:literal, $level:ident!($($arg:tt)+)) => {
        if $notices.admit($what) {
            tracing::$level!($($arg)+);
        }
    };
}
pub(crate) use record_line;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_the_first_hundred_lines_the_rest_are_counted_by_kind() {
        let notices = RecordNotices::default();
        let admitted = (0..300_000)
            .filter(|i| notices.admit(if i % 2 == 0 { "rejected" } else { "failed" }))
            .count();
        assert_eq!(admitted as u64, RECORD_LINES);
        assert_eq!(
            notices.rest().as_deref(),
            Some(
                "… and 149,950 more failed, 149,950 more rejected (not logged one by one: see \
                 `bluetape-sync failures` and `show`)"
            )
        );
        assert_eq!(RecordNotices::default().rest(), None);
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(999), "999");
    }
}
