//! Syncro's documented rate limit, "180 requests per minute per IP address", as a strict
//! sliding-window log.
//!
//! Syncro documents neither the window (fixed or rolling) nor what counts, so the simulator takes
//! the strictest reading a well-behaved client must still pass:
//!
//! * Every API request counts, whatever its path or outcome (401s, 404s and faulted requests
//!   too), except the ones the limiter itself rejects: a rejected request is not *admitted*.
//! * A request arriving at time `t` is admitted if fewer than `N` requests were admitted in the
//!   half-open window `(t - 60 s, t]`; otherwise it gets 429. So a client that sends one request
//!   every `60/N` seconds is never refused (its request `k + N` arrives exactly 60 s after request
//!   `k`, which has just left the window), and `N + 1` requests within any 60 s never all pass.
//! * The retry delay is the time until enough admitted requests have left the window.
//!
//! Requests are keyed by client IP when the server knows it (see `api::peer_ip`); otherwise all
//! share one window, which on loopback is the same thing.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The length of the window `requests_per_minute` applies to.
pub const WINDOW: Duration = Duration::from_secs(60);

/// Monotonic time for the limiter, as time since the simulator started. Tests use a manual
/// clock so that window boundaries can be hit exactly, in microseconds of real time.
pub enum Clock {
    Real(Instant),
    /// Nanoseconds since the start; moves only when advanced.
    #[cfg_attr(not(test), allow(dead_code))]
    Manual(AtomicU64),
}

impl Clock {
    pub fn real() -> Self {
        Clock::Real(Instant::now())
    }

    #[cfg(test)]
    pub fn manual() -> Self {
        Clock::Manual(AtomicU64::new(0))
    }

    pub fn now(&self) -> Duration {
        match self {
            Clock::Real(start) => start.elapsed(),
            Clock::Manual(nanos) => Duration::from_nanos(nanos.load(Ordering::SeqCst)),
        }
    }

    /// Moves a manual clock forward; a real clock cannot be moved.
    #[cfg(test)]
    pub fn advance(&self, by: Duration) {
        if let Clock::Manual(nanos) = self {
            let by = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
            nanos.fetch_add(by, Ordering::SeqCst);
        }
    }
}

/// The limiter's answer for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Admit,
    /// Over the limit; a request would be admitted again after this long.
    Reject {
        retry_in: Duration,
    },
}

/// Admission times per client, oldest first.
#[derive(Default)]
pub struct RateLimiter {
    windows: Mutex<HashMap<Option<IpAddr>, VecDeque<Duration>>>,
}

impl RateLimiter {
    /// Decides on a request from `client` arriving at `now` under a limit of `limit` requests per
    /// [`WINDOW`] (0: no limit), and records it if admitted.
    pub fn check(&self, client: Option<IpAddr>, now: Duration, limit: u32) -> Verdict {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if limit == 0 {
            // Off: forget the history, so turning it back on starts from a clean window.
            windows.clear();
            return Verdict::Admit;
        }
        let admitted = windows.entry(client).or_default();
        // Admissions at or before `now - WINDOW` are outside `(now - WINDOW, now]`.
        while admitted.front().is_some_and(|&t| t + WINDOW <= now) {
            admitted.pop_front();
        }
        let limit = limit as usize;
        if admitted.len() < limit {
            admitted.push_back(now);
            return Verdict::Admit;
        }
        // After a lowered limit more than `limit` may still be in the window: the request can
        // pass once all but `limit - 1` of them have left, i.e. when this one leaves.
        let blocker = admitted.get(admitted.len() - limit).copied().unwrap_or(now);
        Verdict::Reject {
            retry_in: (blocker + WINDOW).saturating_sub(now),
        }
    }
}

/// `Retry-After` seconds for a delay: rounded up, at least 1 (0 would invite a busy loop).
pub fn retry_after_secs(d: Duration) -> u64 {
    let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    secs.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn at(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    #[test]
    fn pacing_exactly_at_the_limit_is_never_refused() {
        let rl = RateLimiter::default();
        // 60 per minute, one every second, for five minutes.
        for k in 0..300 {
            assert_eq!(
                rl.check(None, at(k * 1000), 60),
                Verdict::Admit,
                "request {k}"
            );
        }
    }

    #[test]
    fn the_window_is_half_open() {
        let rl = RateLimiter::default();
        for _ in 0..3 {
            assert_eq!(rl.check(None, at(0), 3), Verdict::Admit);
        }
        // Just inside the window of the three at t=0.
        assert_eq!(
            rl.check(None, at(59_999), 3),
            Verdict::Reject { retry_in: MS }
        );
        // Exactly 60 s later they have left it.
        for _ in 0..3 {
            assert_eq!(rl.check(None, at(60_000), 3), Verdict::Admit);
        }
        assert!(matches!(
            rl.check(None, at(60_000), 3),
            Verdict::Reject { .. }
        ));
    }

    #[test]
    fn a_burst_gets_exactly_the_limit_through() {
        let rl = RateLimiter::default();
        let admitted = (0..200)
            .filter(|i| rl.check(None, at(*i), 180) == Verdict::Admit)
            .count();
        assert_eq!(admitted, 180);
        // Refused requests do not extend the wait: the first admission leaves at 60 s.
        assert_eq!(
            rl.check(None, at(500), 180),
            Verdict::Reject {
                retry_in: at(59_500)
            }
        );
        assert_eq!(rl.check(None, at(60_000), 180), Verdict::Admit);
    }

    #[test]
    fn clients_are_limited_separately() {
        let rl = RateLimiter::default();
        let a = Some(IpAddr::from([10, 0, 0, 1]));
        let b = Some(IpAddr::from([10, 0, 0, 2]));
        assert_eq!(rl.check(a, at(0), 1), Verdict::Admit);
        assert!(matches!(rl.check(a, at(1), 1), Verdict::Reject { .. }));
        assert_eq!(rl.check(b, at(1), 1), Verdict::Admit);
    }

    #[test]
    fn lowering_the_limit_counts_what_is_already_in_the_window() {
        let rl = RateLimiter::default();
        for i in 0..10 {
            assert_eq!(rl.check(None, at(i * 1000), 100), Verdict::Admit);
        }
        // Ten in the window, limit now 4: passes once the 7th (t=6 s) has left, at 66 s.
        assert_eq!(
            rl.check(None, at(10_000), 4),
            Verdict::Reject {
                retry_in: at(56_000)
            }
        );
        assert_eq!(rl.check(None, at(66_000), 4), Verdict::Admit);
        // Off admits everything and forgets.
        for _ in 0..50 {
            assert_eq!(rl.check(None, at(66_001), 0), Verdict::Admit);
        }
        assert_eq!(rl.check(None, at(66_002), 1), Verdict::Admit);
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
        assert_eq!(retry_after_secs(MS), 1);
        assert_eq!(retry_after_secs(at(1000)), 1);
        assert_eq!(retry_after_secs(at(1001)), 2);
        assert_eq!(retry_after_secs(at(59_500)), 60);
    }
}
