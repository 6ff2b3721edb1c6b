//! Child output in the terminal: a child's stdout on ours, its stderr on ours.

use std::io::Write;
use std::sync::Arc;

use pyfleet::{OutputHandler, OutputStream};

/// Copy each chunk of child output, as written, to the matching stream of ours;
/// log records go to stderr as "[context] LEVEL logger: message" lines.
pub fn passthrough() -> OutputHandler {
    Arc::new(|event| {
        let result = match event.stream {
            OutputStream::Stdout => {
                let mut out = std::io::stdout().lock();
                out.write_all(event.data).and_then(|()| out.flush())
            }
            OutputStream::Stderr => std::io::stderr().lock().write_all(event.data),
            OutputStream::Log => {
                let record = event
                    .log
                    .map(|r| (r.level_name(), r.logger))
                    .unwrap_or_default();
                let text = String::from_utf8_lossy(event.data);
                let mut err = std::io::stderr().lock();
                text.lines().try_for_each(|line| {
                    writeln!(err, "[{}] {} {}: {line}", event.context, record.0, record.1)
                })
            }
        };
        // A closed terminal or pipe is the reader's choice; nothing to report to.
        let _ = result;
    })
}
