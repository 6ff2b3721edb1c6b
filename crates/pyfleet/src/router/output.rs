//! Output of user code in children: where it goes in the master.

use std::sync::Arc;

/// Which stream a child wrote to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputStream {
    /// `sys.stdout` in the child.
    Stdout,
    /// `sys.stderr` in the child, or anything written to its fds 1 and 2 directly.
    Stderr,
}

impl OutputStream {
    /// "stdout" or "stderr".
    pub fn as_str(self) -> &'static str {
        match self {
            OutputStream::Stdout => "stdout",
            OutputStream::Stderr => "stderr",
        }
    }
}

/// A chunk of output from a child, usually one or more whole lines.
#[derive(Debug, Clone, Copy)]
pub struct OutputEvent<'a> {
    /// The context's name.
    pub context: &'a str,
    /// The context's id.
    pub context_id: u32,
    /// Which stream.
    pub stream: OutputStream,
    /// The bytes as written.
    pub data: &'a [u8],
}

/// Receives every [`OutputEvent`]; called on the broker's tasks, so it must be quick.
pub type OutputHandler = Arc<dyn Fn(OutputEvent<'_>) + Send + Sync>;

/// The default: each line becomes a tracing event with the context's name
/// (target `pyfleet::child`; stdout at INFO, stderr at WARN).
pub fn log_output() -> OutputHandler {
    Arc::new(|event: OutputEvent<'_>| {
        let text = String::from_utf8_lossy(event.data);
        for line in text.lines() {
            match event.stream {
                OutputStream::Stdout => {
                    tracing::info!(target: "pyfleet::child", context = event.context, stream = "stdout", "{line}")
                }
                OutputStream::Stderr => {
                    tracing::warn!(target: "pyfleet::child", context = event.context, stream = "stderr", "{line}")
                }
            }
        }
    })
}
