//! What the hosts' code prints: shown live as `host | line` for people, kept per
//! host for JSON.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};

use pyfleet::{OutputHandler, OutputStream};

/// Most output kept per host for JSON; more is cut, and the cut is said.
const KEPT_PER_HOST: usize = 1 << 20;

/// Where child output goes during a fleet run.
#[derive(Clone)]
pub struct FleetOutput {
    kept: Arc<Mutex<HashMap<String, Vec<u8>>>>,
    live: Option<crate::fleet::progress::Progress>,
    partial: Arc<Mutex<HashMap<String, Vec<u8>>>>,
}

impl FleetOutput {
    /// Keep output per host (for JSON), or print it live through `live`.
    pub fn new(live: Option<crate::fleet::progress::Progress>) -> FleetOutput {
        FleetOutput {
            kept: Arc::default(),
            live,
            partial: Arc::default(),
        }
    }

    /// The handler for the broker.
    pub fn handler(&self) -> OutputHandler {
        let this = self.clone();
        Arc::new(move |event| {
            let mut data = event.data.to_vec();
            if event.stream == OutputStream::Log {
                let (level, logger) = event
                    .log
                    .map(|r| (r.level_name(), r.logger))
                    .unwrap_or_default();
                data =
                    format!("{level} {logger}: {}\n", String::from_utf8_lossy(&data)).into_bytes();
            }
            match &this.live {
                Some(progress) => this.print_lines(progress, event.context, &data),
                None => {
                    let mut kept = this.kept.lock().expect("output lock");
                    let buffer = kept.entry(event.context.to_string()).or_default();
                    let room = KEPT_PER_HOST.saturating_sub(buffer.len());
                    if data.len() > room {
                        buffer.extend_from_slice(&data[..room]);
                        if room > 0 {
                            buffer.extend_from_slice(b"\n[pyfleet: output cut at 1 MiB]\n");
                        }
                    } else {
                        buffer.extend_from_slice(&data);
                    }
                }
            }
        })
    }

    /// Complete lines go out prefixed with the host; a partial line waits.
    fn print_lines(&self, progress: &crate::fleet::progress::Progress, host: &str, data: &[u8]) {
        let mut partial = self.partial.lock().expect("output lock");
        let pending = partial.entry(host.to_string()).or_default();
        pending.extend_from_slice(data);
        let Some(end) = pending.iter().rposition(|b| *b == b'\n') else {
            return;
        };
        let complete: Vec<u8> = pending.drain(..=end).collect();
        let text = String::from_utf8_lossy(&complete);
        let lines: String = text
            .lines()
            .map(|line| format!("{host} | {line}\n"))
            .collect();
        progress.print_stdout(&lines);
    }

    /// Print what is left of a host's partial line (when it finishes).
    pub fn flush_host(&self, host: &str) {
        if let Some(progress) = &self.live {
            let rest = self.partial.lock().expect("output lock").remove(host);
            if let Some(rest) = rest.filter(|r| !r.is_empty()) {
                progress.print_stdout(&format!("{host} | {}\n", String::from_utf8_lossy(&rest)));
            }
        }
    }

    /// Everything kept for `host`.
    pub fn take(&self, host: &str) -> String {
        let bytes = self
            .kept
            .lock()
            .expect("output lock")
            .remove(host)
            .unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

/// Write to our stdout, ignoring a closed pipe (the reader's choice).
pub fn write_stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}
