//! A simulator's wall clock, which may run ahead of or behind the host's (clock skew), and the
//! HTTP `Date` header it writes.
//!
//! A real vendor's servers keep their own time. A client that compares a server-written time
//! (an absolute token expiry, a `lastModified` stamp) with its own clock misjudges it by the
//! difference between the clocks; a simulator with a skewed clock lets tests show that.

use std::sync::atomic::{AtomicI64, Ordering};

use axum::http::{HeaderValue, header};
use axum::response::Response;
use chrono::{DateTime, Duration, Utc};

/// The host's clock plus a skew, settable while the simulator serves.
#[derive(Debug, Default)]
pub struct SkewClock {
    /// Milliseconds added to the host's clock (negative: behind it).
    skew_ms: AtomicI64,
}

impl SkewClock {
    pub fn new(skew: Duration) -> Self {
        let clock = Self::default();
        clock.set_skew(skew);
        clock
    }

    /// From now on the clock reads the host's time plus `skew` (millisecond precision).
    pub fn set_skew(&self, skew: Duration) {
        self.skew_ms
            .store(skew.num_milliseconds(), Ordering::SeqCst);
    }

    pub fn skew(&self) -> Duration {
        Duration::milliseconds(self.skew_ms.load(Ordering::SeqCst))
    }

    /// The simulator's "now".
    pub fn now(&self) -> DateTime<Utc> {
        let now = Utc::now();
        now.checked_add_signed(self.skew()).unwrap_or(now)
    }
}

/// RFC 7231 IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
pub fn http_date(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// Sets the response's `Date` header to `now` (hyper adds the host's time only where a response
/// has none).
pub fn set_date(resp: &mut Response, now: DateTime<Utc>) {
    if let Ok(v) = HeaderValue::from_str(&http_date(now)) {
        resp.headers_mut().insert(header::DATE, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn dates_are_imf_fixdate() {
        let t = Utc
            .with_ymd_and_hms(1994, 11, 6, 8, 49, 37)
            .single()
            .expect("valid");
        assert_eq!(http_date(t), "Sun, 06 Nov 1994 08:49:37 GMT");
    }

    #[test]
    fn skew_moves_the_clock_both_ways() {
        let clock = SkewClock::new(Duration::minutes(10));
        let ahead = clock.now() - Utc::now();
        assert!(
            ahead > Duration::minutes(9) && ahead <= Duration::minutes(10),
            "{ahead}"
        );
        clock.set_skew(Duration::hours(-2));
        assert_eq!(clock.skew(), Duration::hours(-2));
        let reading = clock.now();
        let behind = Utc::now() - reading;
        assert!(
            behind >= Duration::hours(2) && behind < Duration::minutes(121),
            "{behind}"
        );
        clock.set_skew(Duration::zero());
        assert!((Utc::now() - clock.now()).abs() < Duration::seconds(1));
    }
}
