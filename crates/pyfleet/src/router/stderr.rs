//! A child's stderr: forwarded as output events, its end kept for error messages.

use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::{Arc, Mutex};

use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

use super::output::{OutputEvent, OutputHandler, OutputStream};

/// How much of the end of stderr is kept for bootstrap error messages.
const TAIL_LEN: usize = 4096;

/// A partial line is forwarded once it grows this large.
const MAX_LINE: usize = 64 * 1024;

/// The last bytes a child wrote to stderr.
#[derive(Default, Clone)]
pub struct StderrTail(Arc<Mutex<VecDeque<u8>>>);

impl StderrTail {
    fn push(&self, data: &[u8]) {
        let mut tail = self.0.lock().unwrap_or_else(|p| p.into_inner());
        tail.extend(data);
        let excess = tail.len().saturating_sub(TAIL_LEN);
        tail.drain(..excess);
    }

    /// The kept text, lossily decoded, without trailing blank lines.
    pub fn text(&self) -> String {
        let tail = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let bytes: Vec<u8> = tail.iter().copied().collect();
        String::from_utf8_lossy(&bytes).trim_end().to_string()
    }
}

/// Where a stderr reader sends what it reads; the name can be set after start-up.
pub struct StderrSink {
    /// The context's name.
    pub context: String,
    /// The context's id.
    pub context_id: u32,
    /// Receiver of the lines.
    pub output: OutputHandler,
}

/// Read `fd` (non-blocking) until end of stream, forwarding whole lines.
pub async fn run_stderr_reader(fd: OwnedFd, sink: StderrSink, tail: StderrTail) {
    let fd = match super::watched_fd::watch(fd, Interest::READABLE) {
        Ok(fd) => fd,
        Err(error) => {
            tracing::warn!(context = %sink.context, %error, "cannot watch the child's stderr");
            return;
        }
    };
    let mut line = Vec::new();
    let mut chunk = vec![0u8; 16 * 1024];
    loop {
        let n = match read(&fd, &mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        tail.push(&chunk[..n]);
        line.extend_from_slice(&chunk[..n]);
        let complete = line.iter().rposition(|&b| b == b'\n').map(|i| i + 1);
        let emit = match complete {
            Some(end) => end,
            None if line.len() >= MAX_LINE => line.len(),
            None => continue,
        };
        emit_event(&sink, &line[..emit]);
        line.drain(..emit);
    }
    if !line.is_empty() {
        emit_event(&sink, &line);
    }
}

fn emit_event(sink: &StderrSink, data: &[u8]) {
    (sink.output)(OutputEvent {
        context: &sink.context,
        context_id: sink.context_id,
        stream: OutputStream::Stderr,
        data,
        log: None,
    });
}

async fn read(fd: &AsyncFd<OwnedFd>, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        let mut guard = fd.readable().await?;
        let result = guard.try_io(|fd| {
            // SAFETY: buf is valid for writes of buf.len() bytes.
            let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
            if n < 0 {
                Err(io::Error::last_os_error())
            } else {
                Ok(n as usize)
            }
        });
        if let Ok(result) = result {
            return result;
        }
    }
}
