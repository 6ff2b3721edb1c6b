//! Pseudo-terminals for programs that insist on a terminal (password prompts of
//! sudo, su, doas, ssh).
//!
//! Both ends are opened close-on-exec in the same call that creates them. `openpty(3)`
//! (and nix's wrapper) cannot do that; setting the flag afterwards leaves a window in
//! which a fork on another thread inherits the descriptors, and a child that holds a
//! stray master keeps the terminal alive after we close ours.

use std::ffi::CStr;
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use super::error::SpawnError;
use super::fds;

/// Both ends of a new pseudo-terminal.
#[derive(Debug)]
pub struct Pty {
    /// The controlling side, kept by the parent: non-blocking, close-on-exec. Reads
    /// fail with `EIO` whenever no process has the slave open (before the child
    /// opens `/dev/tty`, between prompts); keeping [`slave`](Self::slave) open in the
    /// parent turns that into an ordinary "would block".
    pub master: OwnedFd,
    /// The terminal side, for the child (e.g. with
    /// [`hooks::controlling_terminal`](super::hooks::controlling_terminal)):
    /// blocking, close-on-exec, not the caller's controlling terminal.
    pub slave: OwnedFd,
}

/// Opens a new pseudo-terminal pair.
///
/// When the system has run out of PTYs the error's message starts with
/// [`PTY_EXHAUSTED`](crate::messages::PTY_EXHAUSTED).
pub fn open_pty() -> Result<Pty, SpawnError> {
    // SAFETY: posix_openpt takes flags and returns a new descriptor or -1; glibc passes
    // the flags to open("/dev/ptmx"), so O_CLOEXEC is applied atomically.
    let master =
        fds::owned(unsafe { libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC) })
            .map_err(SpawnError::Pty)?;
    // SAFETY: grantpt/unlockpt take a live master descriptor.
    unsafe {
        fds::check(libc::grantpt(master.as_raw_fd())).map_err(SpawnError::Pty)?;
        fds::check(libc::unlockpt(master.as_raw_fd())).map_err(SpawnError::Pty)?;
    }
    let slave = open_slave(&master).map_err(SpawnError::Pty)?;
    fds::set_nonblocking(master.as_fd()).map_err(SpawnError::Pty)?;
    Ok(Pty { master, slave })
}

/// `TIOCGPTPEER` (Linux 4.13) opens the slave through the master, without a path
/// lookup that a different /dev/pts mount (containers) could redirect; older kernels
/// fall back to the name from `ptsname_r`.
fn open_slave(master: &OwnedFd) -> io::Result<OwnedFd> {
    let flags = libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC;
    // SAFETY: TIOCGPTPEER takes the open flags as an integer argument.
    let peer = unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCGPTPEER, flags) };
    let error = match fds::owned(peer) {
        Ok(slave) => return Ok(slave),
        Err(error) => error,
    };
    if !matches!(error.raw_os_error(), Some(libc::EINVAL | libc::ENOTTY)) {
        return Err(error);
    }
    let mut name = [0 as libc::c_char; 128];
    // SAFETY: `name` is a live buffer of the length passed.
    let result = unsafe { libc::ptsname_r(master.as_raw_fd(), name.as_mut_ptr(), name.len()) };
    if result != 0 {
        return Err(io::Error::from_raw_os_error(result));
    }
    // SAFETY: ptsname_r succeeded, so `name` holds a NUL-terminated path.
    let path = unsafe { CStr::from_ptr(name.as_ptr()) };
    // SAFETY: `path` is a valid C string.
    fds::owned(unsafe { libc::open(path.as_ptr(), flags) })
}
