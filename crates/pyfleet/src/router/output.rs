//! Output of user code in children: where it goes in the master.

use std::sync::Arc;

/// Where a chunk of child output came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputStream {
    /// `sys.stdout` in the child.
    Stdout,
    /// `sys.stderr` in the child, or anything written to its fds 1 and 2 directly.
    Stderr,
    /// A record of the child's `logging` module (see [`OutputEvent::log`]).
    Log,
}

impl OutputStream {
    /// "stdout", "stderr" or "log".
    pub fn as_str(self) -> &'static str {
        match self {
            OutputStream::Stdout => "stdout",
            OutputStream::Stderr => "stderr",
            OutputStream::Log => "log",
        }
    }
}

/// Where a `logging` record came from in the child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogRecord<'a> {
    /// Python's level number (10 DEBUG, 20 INFO, 30 WARNING, 40 ERROR, 50 CRITICAL).
    pub level: u32,
    /// The logger's name.
    pub logger: &'a str,
}

impl LogRecord<'_> {
    /// The tracing level of a Python level number.
    pub fn tracing_level(&self) -> tracing::Level {
        match self.level {
            40.. => tracing::Level::ERROR,
            30..=39 => tracing::Level::WARN,
            20..=29 => tracing::Level::INFO,
            10..=19 => tracing::Level::DEBUG,
            _ => tracing::Level::TRACE,
        }
    }

    /// Python's name for the level ("WARNING", "Level 25" for custom ones).
    pub fn level_name(&self) -> String {
        match self.level {
            50 => "CRITICAL".into(),
            40 => "ERROR".into(),
            30 => "WARNING".into(),
            20 => "INFO".into(),
            10 => "DEBUG".into(),
            other => format!("Level {other}"),
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
    /// The bytes as written (for a log record: the formatted message).
    pub data: &'a [u8],
    /// For [`OutputStream::Log`]: the record's level and logger.
    pub log: Option<LogRecord<'a>>,
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
                OutputStream::Log => log_line(&event, line),
            }
        }
    })
}

/// One line of a log record as a tracing event at the record's own level.
fn log_line(event: &OutputEvent<'_>, line: &str) {
    let Some(record) = event.log else { return };
    let (context, logger) = (event.context, record.logger);
    match record.tracing_level() {
        tracing::Level::ERROR => {
            tracing::error!(target: "pyfleet::child", context, logger, "{line}")
        }
        tracing::Level::WARN => tracing::warn!(target: "pyfleet::child", context, logger, "{line}"),
        tracing::Level::INFO => tracing::info!(target: "pyfleet::child", context, logger, "{line}"),
        tracing::Level::DEBUG => {
            tracing::debug!(target: "pyfleet::child", context, logger, "{line}")
        }
        tracing::Level::TRACE => {
            tracing::trace!(target: "pyfleet::child", context, logger, "{line}")
        }
    }
}
