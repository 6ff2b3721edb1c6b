//! Process file descriptors (Linux 5.3+).
//!
//! A pidfd names one process for its whole life, so signalling through it can never
//! hit an unrelated process that reused the pid, and it becomes readable when the
//! process exits, which lets the reaper sleep in the event loop instead of a thread.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};

use super::fds;

/// Set once pidfd_open has failed in a way that will not change (old kernel, seccomp
/// filter), so later spawns do not retry and log it again.
static PIDFD_UNAVAILABLE: AtomicBool = AtomicBool::new(false);

/// Opens a pidfd for `pid` (close-on-exec, as all pidfds are), or `None` where the
/// kernel or a sandbox does not allow it.
///
/// Race-free for our own children: an unreaped child keeps its pid, even as a zombie.
pub(crate) fn open(pid: libc::pid_t) -> Option<OwnedFd> {
    if PIDFD_UNAVAILABLE.load(Ordering::Relaxed) {
        return None;
    }
    // SAFETY: pidfd_open takes plain integers and returns a new descriptor or -1
    // (either fits in a c_int).
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) } as libc::c_int;
    let error = match fds::owned(fd) {
        Ok(pidfd) => return Some(pidfd),
        Err(error) => error,
    };
    if matches!(error.raw_os_error(), Some(libc::ENOSYS | libc::EPERM)) {
        PIDFD_UNAVAILABLE.store(true, Ordering::Relaxed);
        tracing::debug!(%error, "pidfd_open unavailable; reaping with a thread per child");
    } else {
        tracing::debug!(%error, pid, "pidfd_open failed");
    }
    None
}

/// `pidfd_send_signal(pidfd, sig, NULL, 0)`.
pub(crate) fn send_signal(pidfd: BorrowedFd<'_>, signal: libc::c_int) -> io::Result<()> {
    // SAFETY: a NULL siginfo is allowed (the kernel fills in a kill()-like one).
    let result = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            signal,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    };
    if result == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}
