//! How a child process ended.

use std::fmt;

use super::signals::signal_name;

/// How a child process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExitStatus {
    /// The process called `exit(code)` (only the low 8 bits reach the parent).
    Code(i32),
    /// The process was terminated by a signal.
    Signal {
        /// The signal number; [`signal_name`] turns it into `SIGKILL` etc.
        signal: i32,
        /// The kernel wrote a core dump.
        core_dumped: bool,
    },
    /// The process has exited, but other code in this process collected its status
    /// first: something called `waitpid(-1, …)`, or `SIGCHLD` is set to `SIG_IGN`
    /// (which makes the kernel discard the statuses of all children).
    ReapedElsewhere,
    /// The process has exited, but it was not this process's child and the parent
    /// that could have told its status was gone first (a context forked from a
    /// context that ended before it).
    Unreported,
}

impl ExitStatus {
    /// Decodes a `waitpid` status word. `None` for "stopped" and "continued"
    /// reports, which are not endings.
    pub fn from_wait_status(status: libc::c_int) -> Option<Self> {
        if libc::WIFEXITED(status) {
            Some(Self::Code(libc::WEXITSTATUS(status)))
        } else if libc::WIFSIGNALED(status) {
            Some(Self::Signal {
                signal: libc::WTERMSIG(status),
                core_dumped: libc::WCOREDUMP(status),
            })
        } else {
            None
        }
    }

    /// `true` for exit code 0.
    pub fn success(&self) -> bool {
        matches!(self, Self::Code(0))
    }

    /// The exit code, if the process exited normally.
    pub fn code(&self) -> Option<i32> {
        match self {
            Self::Code(code) => Some(*code),
            _ => None,
        }
    }

    /// The terminating signal, if a signal ended the process.
    pub fn signal(&self) -> Option<i32> {
        match self {
            Self::Signal { signal, .. } => Some(*signal),
            _ => None,
        }
    }

    /// The terminating signal's canonical name (`SIGTERM`, `SIGRTMIN+2`), if a
    /// signal ended the process.
    pub fn signal_name(&self) -> Option<String> {
        self.signal().map(signal_name)
    }
}

impl fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Code(code) => write!(f, "exited with code {code}"),
            Self::Signal {
                signal,
                core_dumped: false,
            } => write!(f, "killed by {}", signal_name(*signal)),
            Self::Signal {
                signal,
                core_dumped: true,
            } => write!(f, "killed by {} (core dumped)", signal_name(*signal)),
            Self::Unreported => f.write_str(
                "exited; its exit status went to its parent process, which had ended \
                 (a forked context that outlived the context it was forked from)",
            ),
            Self::ReapedElsewhere => f.write_str(
                "exited, but its exit status was collected by other code in this process \
                 (is SIGCHLD ignored, or does something call waitpid(-1)?)",
            ),
        }
    }
}
