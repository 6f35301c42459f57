//! How fast a pass sends: the request pacer shared by all in-flight sends, and the backoff
//! between attempts of one record (SPEC §5).

use std::sync::Mutex;
use std::time::Duration;

use rand::Rng;
use tokio::time::Instant;

/// Spaces request starts evenly at `1 / rate` from the first one (no initial burst), so no
/// one-second window holds more than `rate` starts; a `Retry-After` holds every start back,
/// including one already waiting for its slot.
#[derive(Debug)]
pub struct Pacer {
    interval: Duration,
    slots: Mutex<Slots>,
}

#[derive(Debug, Default)]
struct Slots {
    /// The earliest start of the next slot.
    next: Option<Instant>,
    /// Nothing starts before this (the server's `Retry-After`).
    hold: Option<Instant>,
}

impl Pacer {
    /// `per_second` of 0 means no rate limit (only `Retry-After` holds apply).
    pub fn new(per_second: f64) -> Self {
        let interval = if per_second > 0.0 {
            Duration::from_secs_f64(1.0 / per_second)
        } else {
            Duration::ZERO
        };
        Self {
            interval,
            slots: Mutex::new(Slots::default()),
        }
    }

    fn slots(&self) -> std::sync::MutexGuard<'_, Slots> {
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits for this caller's start slot.
    pub async fn ready(&self) {
        loop {
            let slot = {
                let mut slots = self.slots();
                let now = Instant::now();
                let slot = [slots.next, slots.hold]
                    .into_iter()
                    .flatten()
                    .fold(now, Instant::max);
                slots.next = Some(slot + self.interval);
                (slot > now).then_some(slot)
            };
            // A timer rounds up to the next millisecond: a slot that is already due starts now.
            let Some(slot) = slot else { return };
            tokio::time::sleep_until(slot).await;
            // A hold announced while this caller waited applies to it too.
            if self.slots().hold.is_none_or(|hold| hold <= Instant::now()) {
                return;
            }
        }
    }

    /// Starts nothing before `until` (the server asked the whole client to slow down).
    pub fn hold_until(&self, until: Instant) {
        let mut slots = self.slots();
        slots.hold = Some(slots.hold.map_or(until, |h| h.max(until)));
    }
}

/// Exponential backoff with full jitter: the wait before retry number `attempt` (1 = the
/// first retry) is uniform between `initial` and `min(max, initial * 2^attempt)`.
pub fn backoff(attempt: u32, initial: Duration, max: Duration) -> Duration {
    let ceiling = initial
        .checked_mul(2u32.saturating_pow(attempt.min(31)))
        .unwrap_or(max)
        .min(max);
    if ceiling <= initial {
        return ceiling;
    }
    rand::rng().random_range(initial..=ceiling)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Without a rate limit a send starts at once, not at the timer's next millisecond: the
    /// slot is ready on its first poll, with no timer (and no runtime) involved.
    #[test]
    fn a_due_slot_starts_without_a_timer() {
        use std::future::Future as _;
        use std::task::{Context, Waker};
        let pacer = Pacer::new(0.0);
        let mut cx = Context::from_waker(Waker::noop());
        for _ in 0..3 {
            let ready = std::pin::pin!(pacer.ready());
            assert!(ready.poll(&mut cx).is_ready());
        }
    }

    #[tokio::test(start_paused = true)]
    async fn starts_are_evenly_spaced_from_the_first() {
        let pacer = Pacer::new(10.0);
        let t0 = Instant::now();
        let mut starts = Vec::new();
        for _ in 0..5 {
            pacer.ready().await;
            starts.push(Instant::now() - t0);
        }
        let expected: Vec<_> = (0..5).map(|i| Duration::from_millis(100 * i)).collect();
        assert_eq!(starts, expected);
    }

    #[tokio::test(start_paused = true)]
    async fn a_hold_delays_every_later_start() {
        let pacer = Pacer::new(0.0);
        let t0 = Instant::now();
        pacer.ready().await;
        pacer.hold_until(t0 + Duration::from_secs(3));
        pacer.ready().await;
        assert_eq!(Instant::now() - t0, Duration::from_secs(3));
        pacer.ready().await;
        assert_eq!(Instant::now() - t0, Duration::from_secs(3));
    }

    #[tokio::test(start_paused = true)]
    async fn a_hold_announced_while_a_start_waits_delays_it() {
        let pacer = std::sync::Arc::new(Pacer::new(1.0));
        let t0 = Instant::now();
        pacer.ready().await;
        // The second start waits for its slot at 1 s; a 5-s hold arrives at 0.5 s.
        let waiting = tokio::spawn({
            let pacer = pacer.clone();
            async move {
                pacer.ready().await;
                Instant::now()
            }
        });
        tokio::time::sleep(Duration::from_millis(500)).await;
        pacer.hold_until(Instant::now() + Duration::from_secs(5));
        let started = waiting.await.expect("task");
        assert_eq!(started - t0, Duration::from_millis(5500));
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let (initial, max) = (Duration::from_secs(1), Duration::from_secs(60));
        for attempt in 1..40 {
            let d = backoff(attempt, initial, max);
            let ceiling = Duration::from_secs(2u64.saturating_pow(attempt).min(60));
            assert!(d >= initial && d <= ceiling, "attempt {attempt}: {d:?}");
        }
        assert_eq!(
            backoff(3, Duration::from_secs(5), Duration::from_secs(5)),
            Duration::from_secs(5)
        );
    }
}
