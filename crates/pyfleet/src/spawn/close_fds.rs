//! Keeping the parent's descriptors out of the child.
//!
//! Descriptors are marked close-on-exec rather than closed: the spawn machinery
//! reports exec failures through a close-on-exec pipe that must stay open until
//! `execve` itself, and pre-exec hooks may still need descriptors (a PTY slave to
//! make the controlling terminal, for instance). Closing happens atomically at exec.
//!
//! Everything called in the forked child here is async-signal-safe and allocation
//! free.

use std::io;
use std::os::fd::RawFd;

/// Used when `RLIMIT_NOFILE` cannot be read or is unlimited, like `sysconf(_SC_OPEN_MAX)`
/// fallbacks elsewhere.
pub const DEFAULT_FD_LIMIT: RawFd = 1024;

/// Marks every descriptor `>= first` close-on-exec.
///
/// Uses `close_range(first, ~0U, CLOSE_RANGE_CLOEXEC)` (Linux 5.11); on kernels
/// without it (`ENOSYS` before 5.9, `EINVAL` for the flag before 5.11) or on any
/// other failure, falls back to [`mark_cloexec_by_fcntl`] up to `fallback_limit`
/// (compute it with [`fallback_fd_limit`] before forking).
///
/// Async-signal-safe: safe to call between `fork` and `execve`.
pub fn mark_inherited_fds_cloexec(first: RawFd, fallback_limit: RawFd) {
    if close_range_cloexec(first).is_err() {
        mark_cloexec_by_fcntl(first, fallback_limit);
    }
}

/// `close_range(first, ~0U, CLOSE_RANGE_CLOEXEC)`, called through `syscall` so it
/// does not depend on the C library's version.
pub fn close_range_cloexec(first: RawFd) -> io::Result<()> {
    let first =
        libc::c_uint::try_from(first).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: close_range only changes descriptor flags; no memory is passed.
    let result = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            first,
            libc::c_uint::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        )
    };
    if result == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// The fallback: sets `FD_CLOEXEC` on each open descriptor in `first..limit`, one
/// `fcntl` at a time. Descriptors at or above `limit` are not touched (they can
/// exist only if the limit was lowered after they were opened).
///
/// Async-signal-safe: safe to call between `fork` and `execve`.
pub fn mark_cloexec_by_fcntl(first: RawFd, limit: RawFd) {
    for fd in first.max(0)..limit {
        // SAFETY: F_GETFD/F_SETFD only touch descriptor flags; a closed fd gives EBADF.
        unsafe {
            let flags = libc::fcntl(fd, libc::F_GETFD);
            if flags >= 0 && flags & libc::FD_CLOEXEC == 0 {
                libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC);
            }
        }
    }
}

/// The upper bound for [`mark_cloexec_by_fcntl`]: the soft `RLIMIT_NOFILE`, or
/// [`DEFAULT_FD_LIMIT`] when it cannot be read or is unlimited.
///
/// Call it before forking: `getrlimit` is cheap but the value belongs to the parent's
/// preparation, not to the child's critical section.
pub fn fallback_fd_limit() -> RawFd {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid rlimit for getrlimit to fill.
    let result = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    if result != 0 || limit.rlim_cur == libc::RLIM_INFINITY {
        return DEFAULT_FD_LIMIT;
    }
    RawFd::try_from(limit.rlim_cur).unwrap_or(RawFd::MAX)
}
