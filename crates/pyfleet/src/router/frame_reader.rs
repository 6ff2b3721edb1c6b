//! Reading frames (and, during bootstrap, markers) from a child's output fd.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};

use bytes::{Bytes, BytesMut};
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

use crate::wire::{FrameError, HEADER_LEN, Header};

/// Reads are at least this large so that bursts of small frames cost one syscall.
const READ_CHUNK: usize = 64 * 1024;

/// Why reading stopped.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The operating system refused the read.
    #[error("reading from the child failed: {0}")]
    Io(#[from] io::Error),
    /// The stream ended in the middle of a frame.
    #[error("the stream ended inside a frame ({have} of {need} bytes received)")]
    Truncated {
        /// Bytes of the frame that arrived.
        have: usize,
        /// Bytes the frame needed.
        need: usize,
    },
    /// The bytes are not a valid frame header.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// A marker did not appear within the allowed amount of output.
    #[error("{skipped} bytes arrived without the expected marker; they began: {preview}")]
    MarkerMissing {
        /// How much was read while looking.
        skipped: usize,
        /// The start of it, escaped.
        preview: String,
    },
    /// The stream ended before a marker appeared.
    #[error("the stream ended before the expected marker")]
    EofBeforeMarker {
        /// What the child wrote before it ended, escaped.
        output: String,
    },
}

/// Buffered frame reader over a non-blocking fd.
pub struct FrameReader {
    fd: AsyncFd<OwnedFd>,
    buf: BytesMut,
    max_message_size: usize,
}

impl FrameReader {
    /// Wrap `fd`, which must be non-blocking; frames above `max_message_size` are
    /// refused before their body is read.
    pub fn new(fd: OwnedFd, max_message_size: usize) -> io::Result<FrameReader> {
        Ok(FrameReader {
            fd: super::watched_fd::watch(fd, Interest::READABLE)?,
            buf: BytesMut::with_capacity(READ_CHUNK),
            max_message_size,
        })
    }

    /// The next frame, or `None` at a clean end of stream.
    pub async fn read_frame(&mut self) -> Result<Option<(Header, Bytes)>, ReadError> {
        while self.buf.len() < HEADER_LEN {
            if self.fill(READ_CHUNK).await? == 0 {
                return match self.buf.len() {
                    0 => Ok(None),
                    have => Err(ReadError::Truncated {
                        have,
                        need: HEADER_LEN,
                    }),
                };
            }
        }
        let raw: &[u8; HEADER_LEN] = self.buf[..HEADER_LEN].try_into().expect("length checked");
        let max = u32::try_from(self.max_message_size).unwrap_or(u32::MAX);
        let header = Header::decode(raw, max)?;
        let need = HEADER_LEN + header.len as usize;
        while self.buf.len() < need {
            let missing = need - self.buf.len();
            if self.fill(missing.max(READ_CHUNK)).await? == 0 {
                return Err(ReadError::Truncated {
                    have: self.buf.len(),
                    need,
                });
            }
        }
        let mut frame = self.buf.split_to(need);
        let body = frame.split_off(HEADER_LEN).freeze();
        Ok(Some((header, body)))
    }

    /// Discard output up to and including `marker`; returns what was discarded.
    /// Gives up after `max_skip` bytes without the marker.
    pub async fn skip_until(&mut self, marker: &[u8], max_skip: usize) -> Result<Bytes, ReadError> {
        let mut searched: usize = 0;
        loop {
            let start = searched.saturating_sub(marker.len() - 1);
            if let Some(pos) = find(&self.buf[start..], marker) {
                let skipped = self.buf.split_to(start + pos).freeze();
                let _ = self.buf.split_to(marker.len());
                return Ok(skipped);
            }
            searched = self.buf.len();
            if searched > max_skip {
                return Err(ReadError::MarkerMissing {
                    skipped: searched,
                    preview: escape(&self.buf[..searched.min(200)]),
                });
            }
            if self.fill(READ_CHUNK).await? == 0 {
                return Err(ReadError::EofBeforeMarker {
                    output: escape(&self.buf[..self.buf.len().min(2000)]),
                });
            }
        }
    }

    /// Read once, at most `want` bytes more; 0 means end of stream.
    async fn fill(&mut self, want: usize) -> io::Result<usize> {
        self.buf.reserve(want);
        loop {
            let mut guard = self.fd.readable().await?;
            let buf = &mut self.buf;
            let room = buf.capacity() - buf.len();
            match guard.try_io(|fd| read_into(fd.as_raw_fd(), buf)) {
                // A short read drained the fd: wait for the next readiness event
                // rather than paying a read that would only return EAGAIN.
                Ok(Ok(n)) if n > 0 && n < room => {
                    guard.clear_ready();
                    return Ok(n);
                }
                // A socket peer that exits with our data unread resets the
                // connection; for us that is the end of its stream like any other.
                Ok(Err(error)) if error.raw_os_error() == Some(libc::ECONNRESET) => return Ok(0),
                Ok(result) => return result,
                Err(_would_block) => continue,
            }
        }
    }
}

fn read_into(fd: std::os::fd::RawFd, buf: &mut BytesMut) -> io::Result<usize> {
    let spare = buf.spare_capacity_mut();
    // SAFETY: `spare` is writable memory of `spare.len()` bytes owned by `buf`; read(2)
    // initialises the first `n` of them, which is exactly what set_len then exposes.
    let n = unsafe { libc::read(fd, spare.as_mut_ptr().cast(), spare.len()) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let n = n as usize;
    // SAFETY: see above; n <= spare.len().
    unsafe { buf.set_len(buf.len() + n) };
    Ok(n)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// Bytes as readable text for error messages: printable ASCII as is, the rest escaped.
pub fn escape(bytes: &[u8]) -> String {
    bytes.escape_ascii().to_string()
}
