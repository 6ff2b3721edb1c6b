//! A bound on how much output and logging one child may push into the master.
//!
//! Frames are bounded in size and arrive with backpressure, so memory is safe; but
//! every event costs the master formatting and I/O, so a child that prints in a
//! tight loop is held to a budget: a token bucket in bytes and in events. What
//! exceeds it is dropped and counted, and one summary per second says so.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Sustained bytes per second a child may send as output or log records.
pub const BYTES_PER_SECOND: f64 = 8.0 * 1024.0 * 1024.0;
/// Bytes it may send in a burst.
pub const BURST_BYTES: f64 = 64.0 * 1024.0 * 1024.0;
/// Sustained events per second.
pub const EVENTS_PER_SECOND: f64 = 20_000.0;
/// Events in a burst.
pub const BURST_EVENTS: f64 = 100_000.0;

struct Bucket {
    bytes: f64,
    events: f64,
    refilled: Instant,
    dropped_events: u64,
    dropped_bytes: u64,
    reported: Instant,
}

/// One child's output budget.
pub struct OutputBudget {
    bucket: Mutex<Bucket>,
}

/// Events and bytes dropped since the last report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dropped {
    /// Events.
    pub events: u64,
    /// Bytes.
    pub bytes: u64,
}

impl Default for OutputBudget {
    fn default() -> Self {
        let now = Instant::now();
        OutputBudget {
            bucket: Mutex::new(Bucket {
                bytes: BURST_BYTES,
                events: BURST_EVENTS,
                refilled: now,
                dropped_events: 0,
                dropped_bytes: 0,
                reported: now,
            }),
        }
    }
}

impl OutputBudget {
    /// Take `len` bytes from the budget: true if the event may go on. The second
    /// value, when set, reports drops to log (at most once a second).
    pub fn admit(&self, len: usize) -> (bool, Option<Dropped>) {
        let mut b = self.bucket.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let elapsed = now.duration_since(b.refilled).as_secs_f64();
        b.refilled = now;
        b.bytes = (b.bytes + elapsed * BYTES_PER_SECOND).min(BURST_BYTES);
        b.events = (b.events + elapsed * EVENTS_PER_SECOND).min(BURST_EVENTS);
        let admitted = b.bytes >= len as f64 && b.events >= 1.0;
        if admitted {
            b.bytes -= len as f64;
            b.events -= 1.0;
        } else {
            b.dropped_events += 1;
            b.dropped_bytes += len as u64;
        }
        let report = (b.dropped_events > 0
            && now.duration_since(b.reported) >= Duration::from_secs(1))
        .then(|| {
            let dropped = Dropped {
                events: b.dropped_events,
                bytes: b.dropped_bytes,
            };
            b.dropped_events = 0;
            b.dropped_bytes = 0;
            b.reported = now;
            dropped
        });
        (admitted, report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_passes_then_excess_is_dropped_and_reported() {
        let budget = OutputBudget::default();
        let chunk = 1024 * 1024;
        let mut passed = 0;
        for _ in 0..100 {
            if budget.admit(chunk).0 {
                passed += 1;
            }
        }
        // The burst, plus what refills during the loop.
        assert!((64..=70).contains(&passed), "{passed}");
        budget.bucket.lock().unwrap().reported -= Duration::from_secs(2);
        let (_, report) = budget.admit(BURST_BYTES as usize * 2);
        let report = report.expect("drops are reported");
        assert!(report.events >= 30, "{report:?}");
    }
}
