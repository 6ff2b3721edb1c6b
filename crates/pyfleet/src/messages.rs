//! Canonical messages.
//!
//! Texts that users and tests match on live here, once, so that every place that
//! reports the condition says exactly the same thing. Each error that carries one of
//! these texts adds the specifics (a path, a size, a context name) around it.

/// Pending calls fail with this when their broker shuts down (explicitly or on drop).
pub const BROKER_SHUTDOWN: &str = "the pyfleet broker shut down before the call completed";

/// Opening a pseudo-terminal failed; almost always because the system ran out of them.
pub const PTY_EXHAUSTED: &str = "openpty failed: the system may have run out of \
    pseudo-terminals; raise the limit (Linux: sysctl -w kernel.pty.max=N, \
    macOS/BSD: sysctl kern.tty.ptmx_max=N) or close unused terminals";

/// An interpreter path that does not exist. Followed by the path.
pub const INTERPRETER_NOT_FOUND: &str = "Python interpreter not found";

/// Suggestion appended to [`INTERPRETER_NOT_FOUND`] for an explicitly chosen path.
pub const INTERPRETER_NOT_FOUND_HINT: &str = "check the path, or pass --python / \
    LocalOptions::python with an interpreter that exists (`pyfleet interpreters` lists them)";

/// Logged once per process when `PYFLEET_PYTHON` names a missing file and the default
/// interpreter is used instead (the documented fallback).
pub const INTERPRETER_FALLBACK: &str = "PYFLEET_PYTHON names an interpreter that does not \
    exist; falling back to the default interpreter";

/// A message exceeded the configured maximum size. Followed by the sizes.
pub const MESSAGE_TOO_LARGE: &str = "message exceeds the maximum message size";

/// Suggestion appended to [`MESSAGE_TOO_LARGE`].
pub const MESSAGE_TOO_LARGE_HINT: &str = "raise max_message_size on the broker or \
    move the data through a stream";

/// A child's stream carried bytes that are not a valid frame.
pub const PROTOCOL_VIOLATION: &str = "protocol violation";

/// The environment variable consulted first for the log filter.
pub const LOG_ENV: &str = "PYFLEET_LOG";
