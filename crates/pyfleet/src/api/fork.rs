//! Forking a running context into a new one ([`Context::fork`]).
//!
//! The master listens on one unix socket per broker, at a random abstract address
//! (no file to clean up, reachable only from this machine's network namespace).
//! For each fork it makes a one-time token and asks the context to fork with a
//! CALL; the context's core connects to the socket and sends the token *before*
//! forking, so a failure to connect is reported by the call; the copy keeps that
//! socket as its connection to the master and serves calls on it (see
//! python/pyfleet_core/forking.py). The copy is not the master's child: the
//! forking context reaps it and reports its exit status (handle FORK_EXIT), and
//! the master signals it through a pidfd.
//!
//! Hence local contexts only: a context behind ssh, sudo's PTY or a container
//! boundary could not reach the socket, and fork says so at once.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::os::fd::OwnedFd;
use std::os::linux::net::SocketAddrExt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Deserialize;
use tokio::io::AsyncReadExt;
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::oneshot;

use super::context::Context;
use crate::error::{CallError, ForkError};

/// Bytes of the token a copy sends first (hex of 16 random bytes).
const TOKEN_LEN: usize = 32;

/// How long a copy has to connect back and identify itself.
pub const FORK_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

type Waiting = Arc<Mutex<HashMap<String, oneshot::Sender<UnixStream>>>>;

/// The socket forked copies connect back to.
pub(crate) struct ForkListener {
    address: String,
    waiting: Waiting,
    accept: tokio::task::JoinHandle<()>,
}

impl ForkListener {
    pub(crate) fn bind() -> std::io::Result<ForkListener> {
        let name = format!("pyfleet-fork-{}-{}", std::process::id(), random_hex(8));
        let address = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())?;
        let listener = std::os::unix::net::UnixListener::bind_addr(&address)?;
        listener.set_nonblocking(true)?;
        let listener = UnixListener::from_std(listener)?;
        let waiting: Waiting = Arc::default();
        let accept = tokio::spawn(accept_loop(listener, waiting.clone()));
        Ok(ForkListener {
            // Python writes an abstract address with a leading NUL.
            address: format!("\0{name}"),
            waiting,
            accept,
        })
    }

    /// A token for one fork, and where its copy's stream will arrive.
    fn expect(&self) -> (String, oneshot::Receiver<UnixStream>) {
        let token = random_hex(TOKEN_LEN / 2);
        let (sender, receiver) = oneshot::channel();
        self.lock().insert(token.clone(), sender);
        (token, receiver)
    }

    fn forget(&self, token: &str) {
        self.lock().remove(token);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, oneshot::Sender<UnixStream>>> {
        self.waiting.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for ForkListener {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

async fn accept_loop(listener: UnixListener, waiting: Waiting) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let waiting = waiting.clone();
        tokio::spawn(async move {
            let mut stream = stream;
            let mut token = [0u8; TOKEN_LEN];
            let read = tokio::time::timeout(FORK_CONNECT_TIMEOUT, stream.read_exact(&mut token));
            if !matches!(read.await, Ok(Ok(_))) {
                return;
            }
            let token = String::from_utf8_lossy(&token).into_owned();
            let sender = waiting
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&token);
            match sender {
                Some(sender) => {
                    let _ = sender.send(stream);
                }
                // Not a copy we forked: whoever it is gets nothing.
                None => {
                    tracing::warn!("dropped a connection to the fork socket with an unknown token")
                }
            }
        });
    }
}

#[derive(Deserialize)]
struct Forked {
    pid: u32,
}

/// What the master needs to turn a forked copy into a context.
pub(crate) struct ForkedCopy {
    pub pid: u32,
    pub read: OwnedFd,
    pub write: OwnedFd,
}

/// Ask `parent` to fork into context `id`; returns the copy's pid and stream.
pub(crate) async fn fork_copy(
    listener: &ForkListener,
    parent: &Context,
    id: u32,
) -> Result<ForkedCopy, ForkError> {
    let (token, arrival) = listener.expect();
    let reply = parent
        .call::<Forked>(
            "pyfleet_core.forking",
            "fork",
            (listener.address.as_str(), token.as_str(), id),
            (),
        )
        .await;
    let forked = match reply {
        Ok(forked) => forked,
        Err(error) => {
            listener.forget(&token);
            return Err(refusal(parent, error));
        }
    };
    let stream = match tokio::time::timeout(FORK_CONNECT_TIMEOUT, arrival).await {
        Ok(Ok(stream)) => stream,
        _ => {
            listener.forget(&token);
            let _ = crate::spawn::ChildProcess::foreign(forked.pid).kill();
            return Err(ForkError::NoConnection {
                context: parent.name().to_string(),
                pid: forked.pid,
                waited: FORK_CONNECT_TIMEOUT,
            });
        }
    };
    let stream = stream.into_std().map_err(ForkError::Listen)?;
    stream.set_nonblocking(true).map_err(ForkError::Listen)?;
    let read = OwnedFd::from(stream);
    let write = read.try_clone().map_err(ForkError::Listen)?;
    Ok(ForkedCopy {
        pid: forked.pid,
        read,
        write,
    })
}

fn refusal(parent: &Context, error: CallError) -> ForkError {
    match error.remote() {
        Some(remote) if remote.type_name.ends_with("ForkError") => ForkError::Refused {
            context: parent.name().to_string(),
            message: remote.message.clone(),
        },
        _ => ForkError::Call(error),
    }
}

fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    // SAFETY: the buffer is valid for writes of its length. getrandom(2) does not
    // fail for small buffers once the pool is initialised.
    let _ = unsafe { libc::getrandom(buffer.as_mut_ptr().cast(), buffer.len(), 0) };
    let mut text = String::with_capacity(bytes * 2);
    for byte in buffer {
        let _ = write!(text, "{byte:02x}");
    }
    text
}
