//! Why a spawn failed.

use std::fmt;
use std::io;
use std::path::PathBuf;

use crate::messages::{INTERPRETER_NOT_FOUND, INTERPRETER_NOT_FOUND_HINT, PTY_EXHAUSTED};

/// Why a child process could not be started (or a PTY could not be opened).
///
/// Every message names the problem and, where there is one, what to do about it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SpawnError {
    /// The program does not exist (`ENOENT` from `execve`, or a bare name that is not
    /// on the child's `PATH`).
    #[error("{}: {}: {}", INTERPRETER_NOT_FOUND, .path.display(), INTERPRETER_NOT_FOUND_HINT)]
    InterpreterNotFound {
        /// The program as it was given.
        path: PathBuf,
    },

    /// The program exists but the kernel refuses to run it (a directory, a file
    /// without execute permission, a text file without a `#!` line, a `#!` naming a
    /// missing interpreter, a binary for another machine).
    #[error("cannot execute {}: {}", .path.display(), .reason)]
    NotExecutable {
        /// The program as it was given.
        path: PathBuf,
        /// What the file is and why it cannot be executed.
        reason: String,
    },

    /// `execve` failed for a reason not covered above (`E2BIG`, `ETXTBSY`, `ENOMEM`, …).
    #[error("cannot execute {}: {}", .path.display(), .source)]
    Exec {
        /// The program as it was given.
        path: PathBuf,
        /// The error `execve` reported.
        source: io::Error,
    },

    /// A step between `fork` and `execve` failed in the child: a working directory
    /// that does not exist, `setsid`, or a pre-exec hook that returned an error.
    #[error("{step} failed in the child before exec: {source}")]
    ChildSetup {
        /// Which step failed.
        step: ChildSetupStep,
        /// The OS error the step reported. Only an OS error code survives the trip
        /// from the forked child to the parent.
        source: io::Error,
    },

    /// Opening a pseudo-terminal failed. The message starts with
    /// [`PTY_EXHAUSTED`] when the error means the system ran out of them.
    #[error("{}", pty_message(.0))]
    Pty(io::Error),

    /// The options cannot be turned into an `execve` call (a NUL byte in an argument,
    /// an environment name containing `=`, …).
    #[error("invalid spawn options: {reason}")]
    InvalidOptions {
        /// What is wrong, naming the offending value.
        reason: String,
    },

    /// Setting up the parent's side failed (creating pipes, `fork`, starting the
    /// spawner thread, …).
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The OS error.
        source: io::Error,
    },
}

/// The step of child set-up that failed, see [`SpawnError::ChildSetup`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChildSetupStep {
    /// Resetting signal dispositions and the signal mask.
    Signals,
    /// Moving the transport and stderr onto fds 0, 1 and 2.
    Stdio,
    /// `setsid()` for [`SpawnOptions::new_session`](super::SpawnOptions::new_session).
    NewSession,
    /// `prctl(PR_SET_PDEATHSIG)`.
    ParentDeathSignal,
    /// `chdir` into [`SpawnOptions::cwd`](super::SpawnOptions::cwd).
    WorkingDirectory(PathBuf),
    /// The hook installed with [`set_process_pre_exec_hook`](super::set_process_pre_exec_hook).
    ProcessHook,
    /// The hook at this index of [`SpawnOptions::pre_exec`](super::SpawnOptions::pre_exec).
    Hook(usize),
}

impl fmt::Display for ChildSetupStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Signals => f.write_str("resetting signal handling"),
            Self::Stdio => f.write_str("setting up stdin/stdout/stderr"),
            Self::NewSession => f.write_str("setsid() (new_session)"),
            Self::ParentDeathSignal => f.write_str("prctl(PR_SET_PDEATHSIG)"),
            Self::WorkingDirectory(dir) => {
                write!(f, "changing to the working directory {}", dir.display())
            }
            Self::ProcessHook => f.write_str("the process-wide pre-exec hook"),
            Self::Hook(index) => write!(f, "the pre-exec hook at index {index}"),
        }
    }
}

/// `true` for the errors `posix_openpt` and friends report when no PTY is left.
fn means_pty_exhausted(error: &io::Error) -> bool {
    matches!(
        error.raw_os_error(),
        Some(libc::EAGAIN | libc::ENOSPC | libc::ENXIO)
    )
}

fn pty_message(error: &io::Error) -> String {
    if means_pty_exhausted(error) {
        format!("{PTY_EXHAUSTED} ({error})")
    } else {
        format!("openpty failed: {error}")
    }
}

impl SpawnError {
    pub(crate) fn io(what: &'static str, source: io::Error) -> Self {
        Self::Io { what, source }
    }

    pub(crate) fn invalid(reason: impl Into<String>) -> Self {
        Self::InvalidOptions {
            reason: reason.into(),
        }
    }
}
