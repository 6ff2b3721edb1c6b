//! Errors of the public API: starting a context, and calling into one.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::messages;
use crate::router::ContextEnd;
use crate::spawn::{ExitStatus, SpawnError};
use crate::startup::{PythonTarget, StartupError};
use crate::wire::{DecodeError, EncodeError};

/// Where a bootstrap was when it failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BootStage {
    /// Waiting for the first-stage loader to announce itself.
    Loader,
    /// The loader runs; waiting for the core to start.
    Core,
    /// The core runs; waiting for its HELLO.
    Hello,
}

impl fmt::Display for BootStage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BootStage::Loader => "before the pyfleet loader started",
            BootStage::Core => "while the pyfleet loader was starting the core",
            BootStage::Hello => "before the core reported its configuration",
        })
    }
}

/// A context could not be started.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The process could not be created.
    #[error(transparent)]
    Spawn(#[from] SpawnError),
    /// The process started but did not become a working context.
    #[error("{}", describe_bootstrap(context, program, *stage, status, detail, stderr))]
    Bootstrap {
        /// The context's name.
        context: String,
        /// The program that was started.
        program: PathBuf,
        /// How far the bootstrap got.
        stage: BootStage,
        /// The process's exit status, if it ended.
        status: Option<ExitStatus>,
        /// What went wrong, in words.
        detail: String,
        /// The end of what the process wrote to stderr.
        stderr: String,
    },
    /// The bootstrap did not finish in time.
    #[error(
        "context {context}: {program} did not finish starting within {}s ({stage}); {}",
        waited.as_secs_f64(),
        if stderr.is_empty() { "it wrote nothing to stderr".to_string() } else { format!("its stderr ends with:\n{stderr}") }
    )]
    Timeout {
        /// The context's name.
        context: String,
        /// The program that was started.
        program: PathBuf,
        /// How far the bootstrap got.
        stage: BootStage,
        /// How long it waited.
        waited: Duration,
        /// The end of what the process wrote to stderr.
        stderr: String,
    },
    /// The start-up configuration was refused before spawning.
    #[error(transparent)]
    Startup(#[from] StartupError),
    /// The child started but its report differs from the configuration.
    #[error("context {context} ({target}) did not start as configured:\n{report}")]
    StartupMismatch {
        /// The context's name.
        context: String,
        /// The interpreter that answered.
        target: String,
        /// One line per difference.
        report: String,
    },
    /// The interpreter is not the version its options were chosen for.
    #[error(
        "context {context}: the interpreter is {actual}, whose options would be [{actual_args}], \
         but it was started with [{assumed_args}] for an assumed version; state the right version \
         or let discovery probe it"
    )]
    TargetMismatch {
        /// The context's name.
        context: String,
        /// The interpreter that answered.
        actual: PythonTarget,
        /// The options it was started with.
        assumed_args: String,
        /// The options it should have had.
        actual_args: String,
    },
    /// The method's program refused the credentials: a wrong password (the program
    /// said so, or asked again), a refused key. Reported as soon as it is seen.
    #[error(
        "context {context}: {method} to {target}: authentication failed ({detail}); \
         check the user name and the password or key"
    )]
    AuthenticationFailed {
        /// The context's name.
        context: String,
        /// The method ("sudo", "ssh", …).
        method: String,
        /// What it was to reach.
        target: String,
        /// What the program said (any password in it replaced by `***`).
        detail: String,
    },
    /// The method's program asked for a password and none was given.
    #[error(
        "context {context}: {method} to {target} asks for a password ({prompt:?}) but none \
         was given; pass one (password(..), or password_env=VAR / ask_password on the \
         command line)"
    )]
    PasswordNeeded {
        /// The context's name.
        context: String,
        /// The method.
        method: String,
        /// What it was to reach.
        target: String,
        /// The prompt as seen.
        prompt: String,
    },
    /// The method's program waits at a prompt that is neither a password prompt
    /// nor a known message.
    #[error(
        "context {context}: {method} to {target} stopped at a prompt pyfleet does not \
         recognise: {seen:?} (nothing more came for {}s); if it asks for the password, \
         add its text as a password prompt (prompt(..), or prompt=TEXT on the command line)",
        waited.as_secs_f64()
    )]
    UnknownPrompt {
        /// The context's name.
        context: String,
        /// The method.
        method: String,
        /// What it was to reach.
        target: String,
        /// The unanswered line (any password in it replaced by `***`).
        seen: String,
        /// How long nothing arrived after it.
        waited: Duration,
    },
    /// The method's program reported a known failure other than authentication:
    /// not permitted, a changed host key, an unreachable host, a missing
    /// interpreter.
    #[error("context {context}: {method} to {target}: {problem}; it said: {detail}")]
    HopFailed {
        /// The context's name.
        context: String,
        /// The method.
        method: String,
        /// What it was to reach.
        target: String,
        /// What went wrong and what to do.
        problem: String,
        /// The program's own line.
        detail: String,
    },
    /// The context that was to start it (the hop) could not: it ended, or it
    /// cannot become a parent.
    #[error("context {context}: the hop {hop} cannot start it: {detail}")]
    HopUnavailable {
        /// The new context's name.
        context: String,
        /// The hop's name.
        hop: String,
        /// Why.
        detail: String,
    },
    /// The broker was shut down.
    #[error("{}", messages::BROKER_SHUTDOWN)]
    BrokerShutdown,
    /// An option was invalid.
    #[error("invalid option: {0}")]
    InvalidOption(String),
}

fn describe_bootstrap(
    context: &str,
    program: &std::path::Path,
    stage: BootStage,
    status: &Option<ExitStatus>,
    detail: &str,
    stderr: &str,
) -> String {
    let mut text = format!("context {context}: {} ", program.display());
    match status {
        Some(status) => text.push_str(&format!("{status} {stage}")),
        None => text.push_str(&format!("failed {stage}")),
    }
    if !detail.is_empty() {
        text.push_str(": ");
        text.push_str(detail);
    }
    if stage == BootStage::Loader {
        text.push_str(" (is it a Python interpreter, 2.7 or 3.6 and newer?)");
    }
    if !stderr.is_empty() {
        text.push_str("\nits stderr ends with:\n");
        text.push_str(stderr);
    }
    text
}

/// An exception raised by the function a call ran in the child.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteError {
    /// Qualified exception type: "ZeroDivisionError", "json.decoder.JSONDecodeError".
    pub type_name: String,
    /// `str(exception)`.
    pub message: String,
    /// The formatted traceback, as Python prints it, with real file names and lines.
    pub traceback: String,
    /// The context the call ran in.
    pub context: String,
}

impl fmt::Display for RemoteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} (raised in context {})",
            self.type_name, self.message, self.context
        )
    }
}

impl std::error::Error for RemoteError {}

/// A call did not produce a result.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The function raised an exception.
    #[error(transparent)]
    Remote(#[from] RemoteError),
    /// The context ended before the call completed (or before it was sent).
    #[error("{0}")]
    ContextEnded(Arc<ContextEnd>),
    /// The broker shut down before the call completed.
    #[error("{}", messages::BROKER_SHUTDOWN)]
    BrokerShutdown,
    /// The message is larger than the broker's maximum message size.
    #[error(
        "{}: {size} bytes, the maximum is {max}; {}",
        messages::MESSAGE_TOO_LARGE,
        messages::MESSAGE_TOO_LARGE_HINT
    )]
    TooLarge {
        /// Size of the message.
        size: usize,
        /// The maximum.
        max: usize,
    },
    /// An argument could not be encoded.
    #[error("cannot encode the call's arguments: {0}")]
    Encode(#[from] EncodeError),
    /// The result arrived but could not be decoded into the requested type.
    #[error("cannot decode the result of {function} from context {context}: {source}")]
    Decode {
        /// module.function of the call.
        function: String,
        /// The context's name.
        context: String,
        /// Why decoding failed.
        source: DecodeError,
    },
    /// A channel was misused or broken (send after close, a child exceeding its
    /// window, a chunked value beyond the limit).
    #[error("channel of context {context}: {detail}")]
    Channel {
        /// The context's name.
        context: String,
        /// What happened.
        detail: String,
    },
    /// The call did not complete in the time allowed.
    #[error("{function} in context {context} did not complete within {}s", timeout.as_secs_f64())]
    Timeout {
        /// module.function of the call.
        function: String,
        /// The context's name.
        context: String,
        /// The time allowed.
        timeout: Duration,
    },
}

impl CallError {
    /// The remote exception, if the function raised one.
    pub fn remote(&self) -> Option<&RemoteError> {
        match self {
            CallError::Remote(remote) => Some(remote),
            _ => None,
        }
    }

    /// A context end as the error a pending call receives.
    pub fn from_end(end: Arc<ContextEnd>) -> CallError {
        if end.is_broker_shutdown() {
            CallError::BrokerShutdown
        } else {
            CallError::ContextEnded(end)
        }
    }
}

/// Waiting for, stopping or signalling a context did not work out.
#[derive(Debug, thiserror::Error)]
pub enum LifecycleError {
    /// The process was still running when the time allowed ran out.
    #[error("context {context} (pid {pid}) was still running after {}s {what}", timeout.as_secs_f64())]
    Timeout {
        /// The context's name.
        context: String,
        /// Its process id.
        pid: u32,
        /// What was being waited for, in words ("waiting for it to exit").
        what: &'static str,
        /// The time allowed.
        timeout: Duration,
    },
    /// The signal could not be sent (EPERM: another user's process).
    #[error("cannot send {signal} to context {context} (pid {pid}): {source}")]
    Signal {
        /// The context's name.
        context: String,
        /// Its process id.
        pid: u32,
        /// The signal's name.
        signal: &'static str,
        /// What the kernel said.
        source: std::io::Error,
    },
}

/// A file could not be pushed or pulled. The destination is left as it was.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    /// Reading or writing the local file failed.
    #[error("cannot {action} {}: {source}", path.display())]
    Local {
        /// What was being done ("read", "write", "create a temporary file beside").
        action: &'static str,
        /// The local path.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The child could not read or write its side, or the context ended.
    #[error("{0}")]
    Remote(#[from] CallError),
    /// Both sides moved the data but disagree about it.
    #[error("{path}: {detail}; nothing was written there")]
    Mismatch {
        /// The destination.
        path: String,
        /// What differed.
        detail: String,
    },
}

/// A context could not be forked.
#[derive(Debug, thiserror::Error)]
pub enum ForkError {
    /// The context does not run on this machine, or was not started by this
    /// broker's local method.
    #[error(
        "context {context} cannot fork: only local contexts can (the copy connects back to \
         the master over a unix socket on this machine); {reason}"
    )]
    NotLocal {
        /// The context's name.
        context: String,
        /// Why this one is not.
        reason: String,
    },
    /// The child refused: it has threads of its own, runs calls on threads, or
    /// has no fork().
    #[error("context {context} refused to fork: {message}")]
    Refused {
        /// The context's name.
        context: String,
        /// The child's reason.
        message: String,
    },
    /// The fork call failed (the context ended, or the broker shut down).
    #[error(transparent)]
    Call(#[from] CallError),
    /// The copy did not connect back in time.
    #[error("the copy forked from context {context} (pid {pid}) did not connect back within {}s", waited.as_secs_f64())]
    NoConnection {
        /// The parent context's name.
        context: String,
        /// The copy's pid.
        pid: u32,
        /// How long the master waited.
        waited: Duration,
    },
    /// The master could not listen for forked contexts.
    #[error("cannot listen for forked contexts: {0}")]
    Listen(std::io::Error),
}
