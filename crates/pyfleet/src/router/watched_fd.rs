//! Registering owned fds with tokio's reactor.

use std::io;
use std::os::fd::OwnedFd;

use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

/// Watch `fd` for `interest` on the current runtime's reactor.
pub fn watch(fd: OwnedFd, interest: Interest) -> io::Result<AsyncFd<OwnedFd>> {
    // SAFETY: an OwnedFd is open, owned exclusively by the AsyncFd from here on, and
    // its as_raw_fd() always returns the same descriptor, which is what the
    // registration requires.
    unsafe { AsyncFd::register_with_interest(fd, interest) }.map_err(|error| error.into())
}
