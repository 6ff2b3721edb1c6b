//! Waiting for the loader's ready marker while answering a hop's password prompt.
//!
//! Two streams are watched at once: the data stream (stdout, where the marker
//! appears) and the terminal (where sudo, doas and ssh prompt). For su both are
//! the same PTY master. Prompts are judged by a [`PromptWatcher`]; the password is
//! typed at most once.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Duration;

use tokio::io::unix::AsyncFd;
use tokio::time::Instant;

use super::password::Password;
use super::prompt::{PromptVerdict, PromptWatcher};

/// How long to wait before reading a terminal again after EIO (no process had it
/// open at that moment: not the end, the next prompt may open it again).
const EIO_RETRY: Duration = Duration::from_millis(20);

const READ_CHUNK: usize = 16 * 1024;

/// After the data stream ended, how long to wait for more terminal output.
const FINAL_WORDS: Duration = Duration::from_millis(200);

/// Why no ready marker arrived.
#[derive(Debug)]
pub(crate) enum ReadyFailure {
    /// The data stream ended; what it carried before.
    Eof {
        /// Output before the end (terminal text included for su).
        output: Vec<u8>,
    },
    /// Reading or writing failed.
    Io(io::Error),
    /// The watcher recognised a failure, or a prompt without a password.
    Prompt(PromptVerdict),
    /// A partial line sat unanswered.
    UnknownPrompt {
        /// The line, normalised (the password redacted by the caller).
        seen: String,
        /// How long nothing arrived.
        waited: Duration,
    },
    /// Too much output without the marker.
    TooMuchOutput {
        /// The start of it.
        output: Vec<u8>,
    },
    /// Bytes followed the marker, which a loader waiting for its payload never
    /// writes.
    OutputAfterMarker,
}

/// The streams to watch. `tty` is the terminal when it is not the data stream.
pub(crate) struct ReadyWatch<'a> {
    /// Where the marker arrives (for su: the PTY master, so also the terminal).
    pub(crate) data: &'a AsyncFd<OwnedFd>,
    /// True when `data` is the terminal (su).
    pub(crate) data_is_terminal: bool,
    /// The terminal, when separate.
    pub(crate) tty: Option<&'a AsyncFd<OwnedFd>>,
    /// The ready marker.
    pub(crate) marker: &'a [u8],
    /// Output tolerated before the marker.
    pub(crate) max_prelude: usize,
    /// Silence after a partial line that makes it an unknown prompt.
    pub(crate) unknown_prompt: Duration,
}

/// Read until the marker, answering the password prompt. Returns what came before
/// the marker.
pub(crate) async fn await_ready(
    watch: ReadyWatch<'_>,
    watcher: &mut PromptWatcher,
    password: Option<&Password>,
) -> Result<Vec<u8>, ReadyFailure> {
    let mut prelude: Vec<u8> = Vec::new();
    let mut data_buf = vec![0u8; READ_CHUNK];
    let mut tty_buf = vec![0u8; READ_CHUNK];
    let mut last_activity = Instant::now();
    let answer_fd = watch.tty.unwrap_or(watch.data);
    loop {
        let deadline = if watcher.partial_line().is_empty() {
            None
        } else {
            Some(last_activity + watch.unknown_prompt)
        };
        tokio::select! {
            read = read_some(watch.data, &mut data_buf, watch.data_is_terminal) => {
                let n = read.map_err(ReadyFailure::Io)?;
                if n == 0 {
                    // The program is gone; what it said last may still wait on the
                    // terminal ("su: Authentication failure"): read that too.
                    if let Some(tty) = watch.tty {
                        while let Ok(Ok(n)) =
                            tokio::time::timeout(FINAL_WORDS, read_some(tty, &mut tty_buf, true)).await
                        {
                            if n == 0 {
                                break;
                            }
                            if let verdict @ PromptVerdict::Failed { .. } = watcher.feed(&tty_buf[..n]) {
                                return Err(ReadyFailure::Prompt(verdict));
                            }
                            prelude.extend_from_slice(&tty_buf[..n]);
                        }
                    }
                    return Err(ReadyFailure::Eof { output: prelude });
                }
                let chunk = &data_buf[..n];
                last_activity = Instant::now();
                let searched_from = prelude.len().saturating_sub(watch.marker.len() - 1);
                prelude.extend_from_slice(chunk);
                if let Some(at) = find(&prelude[searched_from..], watch.marker) {
                    let end = searched_from + at + watch.marker.len();
                    if end != prelude.len() {
                        return Err(ReadyFailure::OutputAfterMarker);
                    }
                    prelude.truncate(searched_from + at);
                    return Ok(prelude);
                }
                if watch.data_is_terminal {
                    let verdict = watcher.feed(chunk);
                    act(verdict, answer_fd, password).await?;
                }
                if prelude.len() > watch.max_prelude {
                    prelude.truncate(2000);
                    return Err(ReadyFailure::TooMuchOutput { output: prelude });
                }
            }
            read = read_optional(watch.tty, &mut tty_buf) => {
                let n = read.map_err(ReadyFailure::Io)?;
                if n == usize::MAX {
                    continue;
                }
                last_activity = Instant::now();
                let verdict = watcher.feed(&tty_buf[..n]);
                act(verdict, answer_fd, password).await?;
            }
            _ = sleep_until(deadline) => {
                return Err(ReadyFailure::UnknownPrompt {
                    seen: watcher.partial_line(),
                    waited: watch.unknown_prompt,
                });
            }
        }
    }
}

async fn act(
    verdict: PromptVerdict,
    terminal: &AsyncFd<OwnedFd>,
    password: Option<&Password>,
) -> Result<(), ReadyFailure> {
    match verdict {
        PromptVerdict::Wait => Ok(()),
        PromptVerdict::TypePassword => {
            let Some(password) = password else {
                return Err(ReadyFailure::Prompt(PromptVerdict::NeedPassword {
                    prompt: String::new(),
                }));
            };
            let mut line = zeroize::Zeroizing::new(Vec::with_capacity(password.expose().len() + 1));
            line.extend_from_slice(password.expose().as_bytes());
            line.push(b'\n');
            write_all(terminal, &line).await.map_err(ReadyFailure::Io)
        }
        other => Err(ReadyFailure::Prompt(other)),
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// Bytes read; 0 at end of stream; `usize::MAX` for "nothing this time" (EIO on
/// a terminal nobody holds right now).
async fn read_some(fd: &AsyncFd<OwnedFd>, buf: &mut [u8], terminal: bool) -> io::Result<usize> {
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
        match result {
            Ok(Ok(n)) => return Ok(n),
            // The data stream of su is the terminal: EIO there means every process
            // let go of the slave, the end of the stream.
            Ok(Err(error)) if error.raw_os_error() == Some(libc::EIO) && terminal => return Ok(0),
            Ok(Err(error)) => return Err(error),
            Err(_would_block) => continue,
        }
    }
}

/// Like [`read_some`] on a separate terminal, never ending: EIO means nobody holds
/// the terminal this moment, and is retried after a pause.
async fn read_optional(fd: Option<&AsyncFd<OwnedFd>>, buf: &mut [u8]) -> io::Result<usize> {
    let Some(fd) = fd else {
        return std::future::pending().await;
    };
    match read_some(fd, buf, false).await {
        Ok(0) => std::future::pending().await,
        Err(error) if error.raw_os_error() == Some(libc::EIO) => {
            tokio::time::sleep(EIO_RETRY).await;
            Ok(usize::MAX)
        }
        other => other,
    }
}

async fn write_all(fd: &AsyncFd<OwnedFd>, mut data: &[u8]) -> io::Result<()> {
    while !data.is_empty() {
        let mut guard = fd.writable().await?;
        let result = guard.try_io(|fd| {
            // SAFETY: data is valid for reads of data.len() bytes.
            let n = unsafe { libc::write(fd.as_raw_fd(), data.as_ptr().cast(), data.len()) };
            if n < 0 {
                Err(io::Error::last_os_error())
            } else {
                Ok(n as usize)
            }
        });
        match result {
            Ok(Ok(n)) => data = &data[n..],
            Ok(Err(error)) => return Err(error),
            Err(_would_block) => continue,
        }
    }
    Ok(())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}
