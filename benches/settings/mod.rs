//! The settings every bench reads from the environment.

use std::time::Duration;

/// `BENCH_SCALE`: how much data a bench fills in (default 1).
pub fn scale() -> f64 {
    std::env::var("BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0)
}

/// `BENCH_SECONDS`: the time per measurement (default 1 s).
pub fn seconds() -> Duration {
    Duration::from_secs_f64(
        std::env::var("BENCH_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(1.0),
    )
}
