//! Counting the vendor-API requests a simulator receives, in all and per path, so tests can
//! assert how many calls a connector made (and that it made none after a rejection).

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Default)]
pub struct RequestLog {
    total: AtomicU64,
    by_path: Mutex<HashMap<String, u64>>,
}

impl RequestLog {
    pub fn record(&self, path: &str) {
        self.total.fetch_add(1, Ordering::SeqCst);
        // A poisoned map is still a consistent map of counts.
        let mut by_path = self.by_path.lock().unwrap_or_else(|e| e.into_inner());
        // Look up before inserting: `entry` would allocate a key per request.
        match by_path.get_mut(path) {
            Some(n) => *n += 1,
            None => {
                by_path.insert(path.to_owned(), 1);
            }
        }
    }

    pub fn total(&self) -> u64 {
        self.total.load(Ordering::SeqCst)
    }

    /// Requests whose path starts with `prefix`.
    pub fn for_prefix(&self, prefix: &str) -> u64 {
        let by_path = self.by_path.lock().unwrap_or_else(|e| e.into_inner());
        by_path
            .iter()
            .filter(|(p, _)| p.starts_with(prefix))
            .map(|(_, n)| *n)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::RequestLog;

    #[test]
    fn counts_in_all_and_by_prefix() {
        let log = RequestLog::default();
        for p in ["/v1/a", "/v1/a", "/v1/b", "/v2/c"] {
            log.record(p);
        }
        assert_eq!(log.total(), 4);
        assert_eq!(
            (
                log.for_prefix("/v1/"),
                log.for_prefix("/v1/a"),
                log.for_prefix("/x")
            ),
            (3, 2, 0)
        );
    }
}
