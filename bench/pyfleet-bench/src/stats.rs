//! Summaries of samples: the best is the least disturbed run, the median the
//! typical one; on a noisy 2-core machine both are worth keeping.

use serde_json::{Value, json};

/// `{"samples": [...], "n": .., "best": min, "median": ..}` for `samples`.
pub fn summary(samples: &[f64]) -> Value {
    json!({
        "samples": samples,
        "n": samples.len(),
        "best": best(samples),
        "median": median(samples),
    })
}

/// The smallest sample.
pub fn best(samples: &[f64]) -> f64 {
    samples.iter().copied().fold(f64::INFINITY, f64::min)
}

/// The middle sample (mean of the two middle ones for an even count).
pub fn median(samples: &[f64]) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => sorted[n / 2],
        _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// Merge `extra`'s fields into `report` (both JSON objects).
pub fn with(mut report: Value, extra: Value) -> Value {
    if let (Some(target), Value::Object(fields)) = (report.as_object_mut(), extra) {
        target.extend(fields);
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(best(&[4.0, 1.0, 3.0]), 1.0);
    }
}
