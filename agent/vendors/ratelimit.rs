//! Client-side request budgets: at most N requests in any 60-second window, shared by every
//! source that talks to the same vendor host (Syncro limits per IP address, so two sources
//! on one account must split one budget, not each spend a full one).
//!
//! It is a sliding-window log: a request may start at `t` when fewer than N requests started
//! in the window before `t`. That lets a run burst through its budget and then continue at
//! exactly the rate the vendor allows, which is the fastest schedule the limit permits. The
//! window is a little longer than a minute, so network jitter between our clock and the
//! vendor's cannot push two requests into one of its windows.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// The vendor's window plus a margin for latency jitter.
const WINDOW: Duration = Duration::from_millis(60_000 + 750);

pub struct RateLimiter {
    per_window: AtomicU32,
    started: Mutex<VecDeque<Instant>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl RateLimiter {
    pub fn new(per_minute: u32) -> RateLimiter {
        RateLimiter {
            per_window: AtomicU32::new(per_minute.max(1)),
            started: Mutex::new(VecDeque::new()),
        }
    }

    /// The limiter for `host` (e.g. `acme.syncromsp.com:443`), created on first use. When
    /// sources on one host ask for different budgets, the smallest wins.
    ///
    /// Limiters live as long as the process: a source restarted by a reload must find the
    /// requests of the last minute still counted, or it would spend a fresh budget the vendor
    /// has already seen used (one per host; a few KB each).
    pub fn shared(host: &str, per_minute: u32) -> Arc<RateLimiter> {
        static REGISTRY: OnceLock<Mutex<HashMap<String, Arc<RateLimiter>>>> = OnceLock::new();
        let mut registry = lock(REGISTRY.get_or_init(Default::default));
        let per_minute = per_minute.max(1);
        if let Some(existing) = registry.get(host) {
            if Arc::strong_count(existing) == 1 {
                // No source uses it now: the budget is the new source's, the history stays.
                existing.per_window.store(per_minute, Ordering::Relaxed);
            } else {
                existing.per_window.fetch_min(per_minute, Ordering::Relaxed);
            }
            return existing.clone();
        }
        let limiter = Arc::new(RateLimiter::new(per_minute));
        registry.insert(host.to_string(), limiter.clone());
        limiter
    }

    pub fn per_minute(&self) -> u32 {
        self.per_window.load(Ordering::Relaxed)
    }

    /// Waits until a request may start, and records that it did. `false` when cancelled.
    pub async fn acquire(&self, cancel: &CancellationToken) -> bool {
        loop {
            let wait_until = {
                let mut started = lock(&self.started);
                let now = Instant::now();
                while started
                    .front()
                    .is_some_and(|t| now.duration_since(*t) >= WINDOW)
                {
                    started.pop_front();
                }
                if started.len() < self.per_minute() as usize {
                    started.push_back(now);
                    return true;
                }
                // Full: the oldest start leaves the window first.
                started.front().map(|t| *t + WINDOW).unwrap_or(now)
            };
            tokio::select! {
                _ = cancel.cancelled() => return false,
                _ = tokio::time::sleep_until(wait_until) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn bursts_the_budget_then_never_exceeds_it_in_any_window() {
        let limiter = RateLimiter::new(10);
        let cancel = CancellationToken::new();
        let t0 = Instant::now();
        let mut starts = Vec::new();
        for _ in 0..35 {
            assert!(limiter.acquire(&cancel).await);
            starts.push(Instant::now() - t0);
        }
        // The first ten go at once; then ten per window.
        assert!(starts[9] < Duration::from_millis(1));
        assert_eq!(starts[10], WINDOW);
        assert_eq!(starts[20], WINDOW * 2);
        assert_eq!(starts[34], WINDOW * 3);
        for (i, t) in starts.iter().enumerate() {
            let in_window = starts[..=i]
                .iter()
                .filter(|s| *t - **s < Duration::from_secs(60))
                .count();
            assert!(
                in_window <= 10,
                "request {i}: {in_window} in the minute before it"
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn sources_on_one_host_share_the_smallest_budget() {
        let a = RateLimiter::shared("shared-test.example:443", 180);
        let b = RateLimiter::shared("shared-test.example:443", 60);
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(a.per_minute(), 60);
        let other = RateLimiter::shared("other-test.example:443", 180);
        assert!(!Arc::ptr_eq(&a, &other));
    }

    #[tokio::test(start_paused = true)]
    async fn a_restarted_source_finds_the_last_minute_still_counted() {
        let cancel = CancellationToken::new();
        let first = RateLimiter::shared("restart-test.example:443", 3);
        for _ in 0..3 {
            assert!(first.acquire(&cancel).await);
        }
        drop(first);
        // The source comes back (a reload) with a larger budget: the history stays, the
        // budget is the new one.
        let again = RateLimiter::shared("restart-test.example:443", 4);
        assert_eq!(again.per_minute(), 4);
        let t0 = Instant::now();
        assert!(again.acquire(&cancel).await);
        assert!(Instant::now() - t0 < Duration::from_millis(1), "one left");
        assert!(again.acquire(&cancel).await);
        assert_eq!(Instant::now() - t0, WINDOW, "then the window must pass");
    }

    #[tokio::test(start_paused = true)]
    async fn a_waiting_request_stops_on_cancel() {
        let limiter = RateLimiter::new(1);
        let cancel = CancellationToken::new();
        assert!(limiter.acquire(&cancel).await);
        cancel.cancel();
        assert!(!limiter.acquire(&cancel).await);
    }
}
