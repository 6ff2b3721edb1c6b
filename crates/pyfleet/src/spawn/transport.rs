//! The byte channel between parent and child: two pipes or one socket pair.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use super::error::SpawnError;
use super::fds;
use super::selinux::selinux_enforcing;

/// Pipe capacity asked for with `F_SETPIPE_SZ`: the data path moves payloads of
/// tens of MiB, and a 64 KiB pipe costs a context switch every 64 KiB. 1 MiB is also
/// the default `/proc/sys/fs/pipe-max-size`, the most an unprivileged process may ask.
pub const PIPE_CAPACITY: usize = 1 << 20;

/// `SO_SNDBUF`/`SO_RCVBUF` asked for on socket pairs. The kernel doubles the value
/// and caps it at `net.core.wmem_max`/`rmem_max` (for unprivileged processes); on an
/// AF_UNIX stream socket the sender's buffer is what bounds the bytes in flight.
pub const SOCKET_BUFFER_SIZE: usize = 1 << 20;

/// How the child's fds 0 and 1 connect to the parent.
///
/// Measured here with a Python child: pipes answer a small call 30-40% sooner, a
/// socket pair moves bulk data up to twice as fast. Calls are the common case, so
/// [`Auto`](Self::Auto) means pipes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Transport {
    /// [`Pipes`](Self::Pipes).
    #[default]
    Auto,
    /// Two pipes: the child reads fd 0 from one and writes fd 1 into the other.
    Pipes,
    /// One AF_UNIX stream socket pair: the child's fds 0 and 1 are both its end.
    /// Replaced by pipes while SELinux is enforcing: policies commonly let a
    /// program that changes domain (sudo, su, ssh) use inherited pipes but not an
    /// inherited UNIX socket.
    SocketPair,
}

impl Transport {
    /// The concrete transport to use on this machine, now.
    pub fn resolve(self) -> Transport {
        match self {
            Transport::Auto | Transport::Pipes => Transport::Pipes,
            Transport::SocketPair if selinux_enforcing() => {
                tracing::debug!("SELinux is enforcing: using pipes instead of a socket pair");
                Transport::Pipes
            }
            Transport::SocketPair => Transport::SocketPair,
        }
    }
}

/// Both sides of a new channel.
#[derive(Debug)]
pub(crate) struct Channel {
    /// The resolved transport.
    pub(crate) transport: Transport,
    /// Parent writes here; non-blocking, close-on-exec.
    pub(crate) to_child: OwnedFd,
    /// Parent reads here; non-blocking, close-on-exec.
    pub(crate) from_child: OwnedFd,
    /// Becomes the child's fd 0 (blocking).
    pub(crate) child_stdin: OwnedFd,
    /// Becomes the child's fd 1 (blocking).
    pub(crate) child_stdout: OwnedFd,
}

impl Channel {
    /// Creates the descriptors for `transport` (resolving `Auto`).
    pub(crate) fn open(transport: Transport) -> Result<Channel, SpawnError> {
        match transport.resolve() {
            Transport::SocketPair => Self::open_socket_pair(),
            _ => Self::open_pipes(),
        }
    }

    fn open_pipes() -> Result<Channel, SpawnError> {
        let (child_stdin, to_child) =
            fds::pipe().map_err(|e| SpawnError::io("creating the pipe to the child", e))?;
        let (from_child, child_stdout) =
            fds::pipe().map_err(|e| SpawnError::io("creating the pipe from the child", e))?;
        for pipe_end in [to_child.as_fd(), from_child.as_fd()] {
            enlarge_pipe(pipe_end);
        }
        set_parent_end_nonblocking(to_child.as_fd())?;
        set_parent_end_nonblocking(from_child.as_fd())?;
        Ok(Channel {
            transport: Transport::Pipes,
            to_child,
            from_child,
            child_stdin,
            child_stdout,
        })
    }

    fn open_socket_pair() -> Result<Channel, SpawnError> {
        let (parent_end, child_end) =
            fds::socket_pair().map_err(|e| SpawnError::io("creating the socket pair", e))?;
        for socket in [parent_end.as_fd(), child_end.as_fd()] {
            enlarge_socket_buffers(socket);
        }
        set_parent_end_nonblocking(parent_end.as_fd())?;
        // Two descriptors per side so callers handle both transports alike; a dup
        // shares the open file description, so O_NONBLOCK carries over.
        let from_child = fds::duplicate(parent_end.as_fd())
            .map_err(|e| SpawnError::io("duplicating the socket", e))?;
        let child_stdout = fds::duplicate(child_end.as_fd())
            .map_err(|e| SpawnError::io("duplicating the socket", e))?;
        Ok(Channel {
            transport: Transport::SocketPair,
            to_child: parent_end,
            from_child,
            child_stdin: child_end,
            child_stdout,
        })
    }
}

fn set_parent_end_nonblocking(fd: BorrowedFd<'_>) -> Result<(), SpawnError> {
    fds::set_nonblocking(fd).map_err(|e| SpawnError::io("making the parent's end non-blocking", e))
}

/// Best effort: a pipe that stays at 64 KiB still works, only slower. `EPERM` (above
/// pipe-max-size, or the user's pipe-user-pages-soft budget is used up) is expected
/// for unprivileged users with many children.
fn enlarge_pipe(pipe_end: BorrowedFd<'_>) {
    let capacity = libc::c_int::try_from(PIPE_CAPACITY).unwrap_or(libc::c_int::MAX);
    // SAFETY: F_SETPIPE_SZ on a live pipe descriptor has no memory effects.
    let result = unsafe { libc::fcntl(pipe_end.as_raw_fd(), libc::F_SETPIPE_SZ, capacity) };
    if result == -1 {
        let error = io::Error::last_os_error();
        tracing::debug!(%error, "pipe capacity stays at its default");
    }
}

/// Best effort, like [`enlarge_pipe`]: the kernel silently caps the value.
fn enlarge_socket_buffers(socket: BorrowedFd<'_>) {
    let size = libc::c_int::try_from(SOCKET_BUFFER_SIZE).unwrap_or(libc::c_int::MAX);
    for option in [libc::SO_SNDBUF, libc::SO_RCVBUF] {
        // SAFETY: `size` is a live c_int and its exact length is passed.
        let result = unsafe {
            libc::setsockopt(
                socket.as_raw_fd(),
                libc::SOL_SOCKET,
                option,
                (&raw const size).cast(),
                size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if result == -1 {
            let error = io::Error::last_os_error();
            tracing::debug!(%error, option, "socket buffer stays at its default");
        }
    }
}
