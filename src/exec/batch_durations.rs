//! Batch-duration statistics for backfills: how long each small transaction held its row
//! locks is what a concurrent workload feels, so `apply` reports p50, p99 and the maximum.

use serde::Serialize;

/// Percentiles of a set of batch durations, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BatchDurations {
    pub batches: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl BatchDurations {
    /// `None` for an empty set. Percentiles are nearest-rank (the smallest value with at
    /// least p% of the batches at or below it), so every figure is a real batch's duration.
    pub fn of(durations_ms: &[f64]) -> Option<BatchDurations> {
        if durations_ms.is_empty() {
            return None;
        }
        let mut sorted = durations_ms.to_vec();
        sorted.sort_by(f64::total_cmp);
        let rank = |p: f64| {
            let index = (p / 100.0 * sorted.len() as f64).ceil() as usize;
            sorted[index.clamp(1, sorted.len()) - 1]
        };
        Some(BatchDurations {
            batches: sorted.len(),
            p50_ms: round(rank(50.0)),
            p99_ms: round(rank(99.0)),
            max_ms: round(sorted[sorted.len() - 1]),
        })
    }

    /// The statistics over every backfill's batches in one run.
    pub fn over<'a>(sets: impl IntoIterator<Item = &'a [f64]>) -> Option<BatchDurations> {
        let all: Vec<f64> = sets.into_iter().flatten().copied().collect();
        BatchDurations::of(&all)
    }
}

/// One decimal is enough for milliseconds and keeps the JSON readable.
fn round(ms: f64) -> f64 {
    (ms * 10.0).round() / 10.0
}

impl std::fmt::Display for BatchDurations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "batch p50 {} ms, p99 {} ms, max {} ms",
            self.p50_ms, self.p99_ms, self.max_ms
        )
    }
}

#[cfg(test)]
mod tests {
    use super::BatchDurations;

    #[test]
    fn nearest_rank_percentiles() {
        let hundred: Vec<f64> = (1..=100).rev().map(f64::from).collect();
        let stats = BatchDurations::of(&hundred).unwrap();
        assert_eq!(
            (stats.p50_ms, stats.p99_ms, stats.max_ms),
            (50.0, 99.0, 100.0)
        );
        let one = BatchDurations::of(&[7.25]).unwrap();
        assert_eq!(
            (one.p50_ms, one.p99_ms, one.max_ms, one.batches),
            (7.3, 7.3, 7.3, 1)
        );
        assert_eq!(BatchDurations::of(&[]), None);
    }

    #[test]
    fn over_several_backfills() {
        let a = [1.0, 2.0];
        let b = [30.0];
        let stats = BatchDurations::over([&a[..], &b[..]]).unwrap();
        assert_eq!((stats.batches, stats.p50_ms, stats.max_ms), (3, 2.0, 30.0));
    }
}
