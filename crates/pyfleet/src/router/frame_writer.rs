//! Writing frames to a child's input fd from many tasks at once.
//!
//! Every frame is queued whole before any of it is written, and the queue survives a
//! cancelled writer: if a caller's future is dropped halfway through a large frame,
//! the rest stays queued and goes out before the next frame, so the stream never
//! carries a torn frame.

use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use bytes::Bytes;
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;
use tokio::sync::Mutex;

use crate::wire::{Encoding, FrameBody, Header};

/// At most this many buffers per writev(2) call (Linux IOV_MAX is 1024).
const MAX_IOVECS: usize = 64;

/// Why a write failed.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The writer was closed (the context is shutting down or has ended).
    #[error("the connection to the child is closed")]
    Closed,
    /// The operating system refused the write (EPIPE: the child is gone).
    #[error("writing to the child failed: {0}")]
    Io(#[from] io::Error),
}

struct State {
    fd: Option<AsyncFd<OwnedFd>>,
    queue: VecDeque<Bytes>,
}

/// Cancellation-safe frame writer over a non-blocking fd.
pub struct FrameWriter {
    state: Mutex<State>,
}

impl FrameWriter {
    /// Wrap `fd`, which must be non-blocking.
    pub fn new(fd: OwnedFd) -> io::Result<FrameWriter> {
        Ok(FrameWriter {
            state: Mutex::new(State {
                fd: Some(super::watched_fd::watch(fd, Interest::WRITABLE)?),
                queue: VecDeque::new(),
            }),
        })
    }

    /// Queue one frame and write until the queue is empty.
    pub async fn send(&self, header: &Header, body: FrameBody) -> Result<(), WriteError> {
        let mut state = self.state.lock().await;
        if state.fd.is_none() {
            return Err(WriteError::Closed);
        }
        state
            .queue
            .push_back(Bytes::copy_from_slice(&header.encode()));
        state.queue.extend(body.into_segments());
        state.flush().await
    }

    /// Send a VALUE frame from the master (source and auth 0) to `dst`'s `handle`.
    pub async fn send_to(
        &self,
        dst: u32,
        handle: u32,
        reply_to: u32,
        flags: u8,
        body: FrameBody,
    ) -> Result<(), WriteError> {
        let header = Header {
            encoding: Encoding::Value,
            flags,
            dst,
            src: 0,
            auth: 0,
            handle,
            reply_to,
            len: body.len() as u32,
        };
        self.send(&header, body).await
    }

    /// Queue raw bytes (the bootstrap payload) and write until the queue is empty.
    pub async fn send_raw(&self, data: Bytes) -> Result<(), WriteError> {
        let mut state = self.state.lock().await;
        if state.fd.is_none() {
            return Err(WriteError::Closed);
        }
        state.queue.push_back(data);
        state.flush().await
    }

    /// End the stream (the child reads end of stream); queued bytes are dropped.
    pub async fn close(&self) {
        self.state.lock().await.close();
    }

    /// [`close`](Self::close) without waiting, if no write is in progress; for Drop
    /// paths.
    pub fn try_close(&self) -> bool {
        match self.state.try_lock() {
            Ok(mut state) => {
                state.close();
                true
            }
            Err(_) => false,
        }
    }
}

impl State {
    fn close(&mut self) {
        if let Some(fd) = self.fd.take() {
            // With a socketpair the reader holds a duplicate of this socket, so
            // dropping our fd alone would not end the stream: shut down our
            // direction explicitly. On a pipe this fails with ENOTSOCK, harmlessly.
            // SAFETY: shutdown(2) on an fd we own; no memory is involved.
            unsafe { libc::shutdown(fd.as_raw_fd(), libc::SHUT_WR) };
        }
        self.queue.clear();
    }

    async fn flush(&mut self) -> Result<(), WriteError> {
        while !self.queue.is_empty() {
            let fd = self.fd.as_ref().ok_or(WriteError::Closed)?;
            let mut guard = fd.writable().await?;
            let queue = &self.queue;
            match guard.try_io(|fd| writev(fd.as_raw_fd(), queue)) {
                Ok(Ok(written)) => self.consume(written),
                Ok(Err(error)) => {
                    // A failed fd stays failed; later writers get Closed at once.
                    self.fd = None;
                    self.queue.clear();
                    return Err(error.into());
                }
                Err(_would_block) => continue,
            }
        }
        Ok(())
    }

    fn consume(&mut self, mut written: usize) {
        while written > 0 {
            let front = self
                .queue
                .front_mut()
                .expect("kernel wrote no more than queued");
            if written >= front.len() {
                written -= front.len();
                self.queue.pop_front();
            } else {
                let _ = front.split_to(written);
                written = 0;
            }
        }
    }
}

fn writev(fd: RawFd, queue: &VecDeque<Bytes>) -> io::Result<usize> {
    let mut iovecs = [libc::iovec {
        iov_base: std::ptr::null_mut(),
        iov_len: 0,
    }; MAX_IOVECS];
    let mut count = 0;
    for (slot, buf) in iovecs.iter_mut().zip(queue.iter()) {
        slot.iov_base = buf.as_ptr() as *mut libc::c_void;
        slot.iov_len = buf.len();
        count += 1;
    }
    // SAFETY: the first `count` iovecs point into Bytes owned by `queue`, which is
    // borrowed for the duration of the call and not modified during it.
    let n = unsafe { libc::writev(fd, iovecs.as_ptr(), count as libc::c_int) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(n as usize)
}
