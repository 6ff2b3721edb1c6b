//! Signal names for messages ("killed by SIGKILL").

use nix::sys::signal::Signal;

/// `SIGTERM`, `SIGKILL` …; `signal N` for a number this system does not name.
pub(crate) fn signal_name(number: i32) -> String {
    Signal::try_from(number).map_or_else(|_| format!("signal {number}"), |s| s.as_str().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_classic_signals() {
        assert_eq!(signal_name(9), "SIGKILL");
        assert_eq!(signal_name(15), "SIGTERM");
        assert_eq!(signal_name(1000), "signal 1000");
    }
}
