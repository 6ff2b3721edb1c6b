//! Where the log level comes from: one place for the library, the CLI and tests.

use crate::messages::LOG_ENV;

/// The default when neither variable is set.
pub const DEFAULT_LOG_FILTER: &str = "warn";

/// The tracing filter directive: `PYFLEET_LOG`, else `RUST_LOG`, else "warn".
/// Empty values count as unset.
pub fn log_filter() -> String {
    filter_from(std::env::var(LOG_ENV).ok(), std::env::var("RUST_LOG").ok())
}

fn filter_from(pyfleet: Option<String>, rust: Option<String>) -> String {
    [pyfleet, rust]
        .into_iter()
        .flatten()
        .find(|value| !value.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_LOG_FILTER.to_string())
}

#[cfg(test)]
mod tests {
    use super::filter_from;

    #[test]
    fn pyfleet_log_wins_then_rust_log_then_warn() {
        let s = |v: &str| Some(v.to_string());
        assert_eq!(filter_from(s("debug"), s("trace")), "debug");
        assert_eq!(filter_from(None, s("trace")), "trace");
        assert_eq!(filter_from(s(" "), s("info")), "info");
        assert_eq!(filter_from(None, None), "warn");
    }
}
