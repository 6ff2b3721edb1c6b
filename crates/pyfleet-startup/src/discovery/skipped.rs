//! Candidates that were found but cannot be used, and why.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use super::error::seconds;
use crate::signals::signal_name;

/// A candidate that was found but is not a usable interpreter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedCandidate {
    /// The path it was found at.
    pub path: PathBuf,
    /// Why it was skipped.
    pub reason: SkipReason,
}

/// Why a candidate was skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// An explicit path that is missing or not an executable file.
    NotExecutable,
    /// It did not answer within the per-candidate bound and was killed.
    TimedOut {
        /// The bound.
        after: Duration,
    },
    /// It exited with a failure status.
    Exited {
        /// The exit code.
        code: i32,
        /// The last line it wrote to stderr.
        message: String,
    },
    /// A signal ended it.
    Killed {
        /// The signal number.
        signal: i32,
        /// The last line it wrote to stderr.
        message: String,
    },
    /// It ran and succeeded but did not print the probe's answer (not a Python, or a
    /// wrapper that ignores its arguments).
    UnexpectedOutput {
        /// The first line it printed (shortened).
        output: String,
    },
    /// A Python implementation pyfleet does not drive (GraalPy, Jython …).
    UnsupportedImplementation {
        /// `sys.implementation.name`.
        name: String,
    },
    /// The probe ended before this candidate's result was reported.
    NoResult,
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn with_message(f: &mut fmt::Formatter<'_>, message: &str) -> fmt::Result {
            if message.is_empty() {
                Ok(())
            } else {
                write!(f, ": {message}")
            }
        }
        match self {
            SkipReason::NotExecutable => f.write_str("not an executable file"),
            SkipReason::TimedOut { after } => {
                write!(f, "timed out: no answer within {}, killed", seconds(*after))
            }
            SkipReason::Exited { code, message } => {
                write!(f, "exited with code {code}")?;
                with_message(f, message)
            }
            SkipReason::Killed { signal, message } => {
                write!(f, "killed by {}", signal_name(*signal))?;
                with_message(f, message)
            }
            SkipReason::UnexpectedOutput { output } if output.is_empty() => {
                f.write_str("printed nothing: not a Python interpreter?")
            }
            SkipReason::UnexpectedOutput { output } => {
                write!(f, "not a Python interpreter? It printed {output:?}")
            }
            SkipReason::UnsupportedImplementation { name } => {
                write!(
                    f,
                    "{name} is not a supported implementation (CPython and PyPy are)"
                )
            }
            SkipReason::NoResult => f.write_str("the probe ended before this candidate answered"),
        }
    }
}

impl fmt::Display for SkippedCandidate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.reason)
    }
}
