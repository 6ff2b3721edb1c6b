//! Small file-descriptor helpers for the parent side.
//!
//! Every descriptor is created close-on-exec atomically (`O_CLOEXEC`,
//! `SOCK_CLOEXEC`, `F_DUPFD_CLOEXEC`): other threads may fork and exec at any moment
//! (our spawner, or any `std::process::Command` elsewhere in the program), and a
//! descriptor that is briefly inheritable leaks into their children.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// Turns a `-1` return into the current `errno`.
pub(crate) fn check(result: libc::c_int) -> io::Result<libc::c_int> {
    if result == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(result)
    }
}

/// The lowest number our descriptors may take. In a parent that runs with some of
/// 0–2 closed, a new descriptor would otherwise land there, and a child inheriting
/// "stderr" would get our pipe instead (keeping its own stdin open, for instance).
const FIRST_NON_STDIO_FD: libc::c_int = 3;

/// Takes ownership of a freshly returned descriptor (or `-1` and errno), moving it
/// above 0–2.
pub(crate) fn owned(fd: libc::c_int) -> io::Result<OwnedFd> {
    let fd = check(fd)?;
    // SAFETY: the caller passes the return value of a call that just created `fd`;
    // nothing else owns it.
    above_stdio(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn above_stdio(fd: OwnedFd) -> io::Result<OwnedFd> {
    if fd.as_raw_fd() >= FIRST_NON_STDIO_FD {
        Ok(fd)
    } else {
        duplicate(fd.as_fd())
    }
}

/// Owns both descriptors a pipe2/socketpair call filled in, then moves them up, so
/// neither leaks if moving the first fails.
fn owned_pair(fds: [libc::c_int; 2]) -> io::Result<(OwnedFd, OwnedFd)> {
    // SAFETY: the call that filled `fds` succeeded; both descriptors are new and ours.
    let (first, second) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    Ok((above_stdio(first)?, above_stdio(second)?))
}

/// A pipe as `(read end, write end)`, both close-on-exec and blocking.
pub(crate) fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [-1 as libc::c_int; 2];
    // SAFETY: `fds` is a valid array of two ints for pipe2 to fill.
    check(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) })?;
    owned_pair(fds)
}

/// A connected AF_UNIX stream socket pair, both ends close-on-exec and blocking.
pub(crate) fn socket_pair() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [-1 as libc::c_int; 2];
    // SAFETY: `fds` is a valid array of two ints for socketpair to fill.
    check(unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_STREAM | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    })?;
    owned_pair(fds)
}

/// A close-on-exec duplicate (sharing the open file description, hence its flags).
pub(crate) fn duplicate(fd: BorrowedFd<'_>) -> io::Result<OwnedFd> {
    // SAFETY: fcntl(F_DUPFD_CLOEXEC) on a live descriptor has no memory effects.
    let copy =
        check(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, FIRST_NON_STDIO_FD) })?;
    // SAFETY: the descriptor was just created and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(copy) })
}

/// `/dev/null` opened for reading and writing, close-on-exec.
pub(crate) fn open_dev_null() -> io::Result<OwnedFd> {
    // SAFETY: the path is a NUL-terminated literal.
    owned(unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR | libc::O_CLOEXEC) })
}

/// Sets `O_NONBLOCK` on the open file description behind `fd`.
///
/// Only ever called on the parent's own ends: the flag lives in the open file
/// description, and a child handed a non-blocking stdin would see `EAGAIN`.
pub(crate) fn set_nonblocking(fd: BorrowedFd<'_>) -> io::Result<()> {
    let raw = fd.as_raw_fd();
    // SAFETY: F_GETFL/F_SETFL on a live descriptor have no memory effects.
    unsafe {
        let flags = check(libc::fcntl(raw, libc::F_GETFL))?;
        check(libc::fcntl(raw, libc::F_SETFL, flags | libc::O_NONBLOCK))?;
    }
    Ok(())
}

/// The raw descriptor of an optional owned one, `-1` when absent.
pub(crate) fn raw_or_minus_one(fd: Option<&OwnedFd>) -> RawFd {
    fd.map_or(-1, AsRawFd::as_raw_fd)
}
