//! The providers' request limits, honoured before they are hit (SPEC §11): QuickBooks 500 a
//! minute per company; Xero 60 a minute and 5,000 a day per organisation, whose remaining day
//! budget its answers carry (`X-DayLimit-Remaining`; `X-MinLimit-Remaining` for the minute's).

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;

use super::Provider;

/// What a request must wait for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    Now,
    /// The minute's budget is spent: this long, then ask again.
    For(Duration),
    /// The day's budget is spent.
    Tomorrow,
}

/// One company's limits, as this process has used them.
#[derive(Debug)]
pub struct Limits {
    per_minute: usize,
    started: Mutex<VecDeque<Instant>>,
    /// What the provider last said is left of the day's budget.
    day_left: Mutex<Option<u64>>,
    /// When the provider said the minute's budget was spent (`X-MinLimit-Remaining: 0`):
    /// its minute may have begun before this process's first request.
    minute_spent: Mutex<Option<Instant>>,
}

impl Limits {
    pub fn for_provider(provider: Provider) -> Self {
        let per_minute = match provider {
            Provider::Quickbooks => 500,
            Provider::Xero => 60,
        };
        Self::per_minute(per_minute)
    }

    pub fn per_minute(per_minute: usize) -> Self {
        Self {
            per_minute: per_minute.max(1),
            started: Mutex::new(VecDeque::new()),
            day_left: Mutex::new(None),
            minute_spent: Mutex::new(None),
        }
    }

    /// Whether a request may start now; one that may is counted.
    pub fn before_request(&self) -> Wait {
        if *lock(&self.day_left) == Some(0) {
            return Wait::Tomorrow;
        }
        let now = Instant::now();
        let minute = Duration::from_secs(60);
        if let Some(at) = *lock(&self.minute_spent)
            && now.duration_since(at) < minute
        {
            return Wait::For(minute.saturating_sub(now.duration_since(at)));
        }
        let mut started = lock(&self.started);
        while started
            .front()
            .is_some_and(|t| now.duration_since(*t) >= minute)
        {
            started.pop_front();
        }
        if started.len() >= self.per_minute
            && let Some(oldest) = started.front()
        {
            return Wait::For(minute.saturating_sub(now.duration_since(*oldest)));
        }
        started.push_back(now);
        Wait::Now
    }

    /// Reads what an answer says of the budget.
    pub fn after_answer(&self, headers: &HeaderMap) {
        if let Some(left) = number(headers, "x-daylimit-remaining") {
            *lock(&self.day_left) = Some(left);
        }
        if number(headers, "x-minlimit-remaining") == Some(0) {
            *lock(&self.minute_spent) = Some(Instant::now());
        }
    }

    /// Whether a 429 says the day's budget is spent (Xero's `X-Rate-Limit-Problem: day`).
    pub fn day_spent(&self, headers: &HeaderMap) -> bool {
        let problem = headers
            .get("x-rate-limit-problem")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("day"));
        if problem {
            *lock(&self.day_left) = Some(0);
        }
        problem
    }
}

fn number(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// The lock, even if another thread panicked holding it: the counts stay usable.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_minute_s_budget_waits_and_the_day_s_stops() {
        let limits = Limits::per_minute(3);
        for _ in 0..3 {
            assert_eq!(limits.before_request(), Wait::Now);
        }
        match limits.before_request() {
            Wait::For(wait) => assert!(wait > Duration::from_secs(59), "{wait:?}"),
            other => panic!("{other:?}"),
        }
        let provider_said = Limits::per_minute(60);
        let mut minute = HeaderMap::new();
        minute.insert("x-minlimit-remaining", "0".parse().expect("value"));
        provider_said.after_answer(&minute);
        match provider_said.before_request() {
            Wait::For(wait) => assert!(wait > Duration::from_secs(59), "{wait:?}"),
            other => panic!("the provider's own count is honoured: {other:?}"),
        }
        let mut headers = HeaderMap::new();
        headers.insert("x-daylimit-remaining", "0".parse().expect("value"));
        limits.after_answer(&headers);
        assert_eq!(limits.before_request(), Wait::Tomorrow);
        let day = Limits::per_minute(60);
        let mut problem = HeaderMap::new();
        problem.insert("x-rate-limit-problem", "Day".parse().expect("value"));
        assert!(day.day_spent(&problem));
        assert_eq!(day.before_request(), Wait::Tomorrow);
    }
}
