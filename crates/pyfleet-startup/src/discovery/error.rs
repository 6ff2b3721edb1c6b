//! What can go wrong while looking for an interpreter, each with what to do next.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use crate::constraint::ConstraintParseError;

/// Interpreter discovery failed, or found nothing suitable.
#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    /// The shell that runs the probe could not be started.
    #[error(
        "cannot start {} to look for Python interpreters: {source}; check that a POSIX shell \
         is installed there, or pass --python PATH",
        shell.display()
    )]
    ShellUnavailable {
        /// The shell program.
        shell: PathBuf,
        /// Why it did not start.
        source: std::io::Error,
    },

    /// The probe as a whole ran past its bound (each candidate has its own, shorter
    /// one, so something outside the candidates hung: a filesystem, the shell).
    #[error(
        "looking for Python interpreters did not finish within {}; a directory on PATH or \
         the shell hangs. Pass --python PATH to name the interpreter directly",
        seconds(*after)
    )]
    ProbeTimedOut {
        /// The bound that was reached.
        after: Duration,
    },

    /// The probe could not do its work (it says why).
    #[error("the interpreter discovery probe failed: {message}")]
    ProbeFailed {
        /// The probe's own message, or its exit status and error output.
        message: String,
    },

    /// The text is not a discovery report.
    #[error("the interpreter discovery report is unreadable: {detail}")]
    MalformedReport {
        /// What is wrong with it.
        detail: String,
    },

    /// Interpreters were looked for, but none satisfies the constraint.
    #[error("{}", no_match_message(constraint, found, skipped))]
    NoMatch {
        /// The constraint, as text.
        constraint: String,
        /// What was found: "CPython 3.11.2  /usr/bin/python3".
        found: Vec<String>,
        /// What was found but could not be used: "PATH: reason".
        skipped: Vec<String>,
    },

    /// A path given as the interpreter does not work as one.
    #[error(
        "{} is not a usable Python interpreter: {reason}. Pass the path of a working python \
         executable, or a version such as --python-version 3.11",
        path.display()
    )]
    NotAnInterpreter {
        /// The path given.
        path: PathBuf,
        /// Why it cannot be used.
        reason: String,
    },

    /// A pyenv shim was named, but the version pyenv would select does not provide it.
    #[error(
        "the pyenv shim {} runs no installed interpreter: pyenv selects {versions} (from \
         {origin}), which does not provide it. Install it with pyenv, select another version \
         (pyenv shell/local/global), or pass a real interpreter's path",
        shim.display()
    )]
    UnresolvedShim {
        /// The shim.
        shim: PathBuf,
        /// The version names pyenv selects.
        versions: String,
        /// Where the selection came from.
        origin: String,
    },

    /// A bare command name was given and it is not on PATH.
    #[error(
        "{name:?} is not on PATH; pass the interpreter's full path, or a version such as \"3.11\""
    )]
    CommandNotFound {
        /// The command name given.
        name: String,
    },

    /// A version constraint could not be read.
    #[error(transparent)]
    Constraint(#[from] ConstraintParseError),
}

/// "2 s", "1.5 s": how long a bound was, for messages.
pub(crate) fn seconds(duration: Duration) -> String {
    let secs = duration.as_secs_f64();
    if secs.fract() == 0.0 {
        format!("{secs:.0} s")
    } else {
        format!("{secs:.1} s")
    }
}

fn no_match_message(constraint: &str, found: &[String], skipped: &[String]) -> String {
    let mut message = if found.is_empty() {
        format!(
            "no Python interpreter matches {constraint:?}: none was found (searched PATH, pyenv \
             versions, /usr/bin, /usr/local/bin, /opt/python*/bin and Homebrew)."
        )
    } else {
        format!("no Python interpreter matches {constraint:?}. Found:")
    };
    for line in found {
        let _ = write!(message, "\n  {line}");
    }
    if !skipped.is_empty() {
        message.push_str("\nFound but unusable:");
        for line in skipped {
            let _ = write!(message, "\n  {line}");
        }
    }
    message.push_str(
        "\nInstall a matching Python (for example with pyenv or the system package manager), \
         pass --python PATH, or ask for one of the versions found.",
    );
    message
}
