//! Arranging a pseudo-terminal for a hop's program, and keeping it alive.
//!
//! The PTY master must stay open for as long as the context lives: closing it
//! hangs up the terminal, and the kernel sends SIGHUP to the session (ssh, sudo, su
//! and everything they started). [`HeldTerminal`] goes into the connection for that.

use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::sync::Arc;

use nix::sys::termios;

use super::hop_plan::TerminalMode;
use crate::spawn::{PreExecHook, Pty, SpawnError, SpawnOptions, StderrMode, hooks, open_pty};

/// Descriptors of a hop's terminal that must outlive the bootstrap.
#[derive(Debug)]
pub struct HeldTerminal {
    _fds: Vec<OwnedFd>,
}

/// The parent's descriptors of a started hop.
pub(crate) struct HopStreams {
    /// Frames (and the payload) go here.
    pub(crate) to_child: OwnedFd,
    /// Frames (and the markers) come from here.
    pub(crate) from_child: OwnedFd,
    /// The PTY master to watch for prompts when it is separate from the data
    /// ([`TerminalMode::ControllingTty`]).
    pub(crate) tty: Option<OwnedFd>,
    /// Kept open for the whole connection (the PTY slave in controlling-terminal
    /// mode: with it open, reads from the master wait instead of failing with EIO
    /// while ssh or sudo has closed its own /dev/tty between prompts).
    pub(crate) keep: Vec<OwnedFd>,
    /// Keep `tty` open after the bootstrap (controlling-terminal mode); in raw
    /// stdin mode the writer's copy of the master is the one that must stay.
    pub(crate) hold_tty: bool,
}

/// Open a PTY for `mode` (none for [`TerminalMode::None`]) and add what the child
/// needs to `options`: a new session, the terminal as its controlling terminal,
/// and for [`TerminalMode::RawStdin`] the raw slave on fds 0 and 2.
///
/// The returned PTY must stay open until the spawn has returned: the hooks refer to
/// the slave by number.
pub(crate) fn arrange(
    mode: TerminalMode,
    options: &mut SpawnOptions,
) -> Result<Option<Pty>, SpawnError> {
    match mode {
        TerminalMode::None => Ok(None),
        TerminalMode::ControllingTty => {
            let pty = open_pty()?;
            options.new_session = true;
            options
                .pre_exec
                .push(hooks::controlling_terminal(pty.slave.as_raw_fd()));
            Ok(Some(pty))
        }
        TerminalMode::RawStdin => {
            let pty = open_pty()?;
            make_raw(&pty.slave).map_err(SpawnError::Pty)?;
            options.new_session = true;
            options.stderr = StderrMode::Null;
            options
                .pre_exec
                .push(stdin_and_stderr_on_terminal(pty.slave.as_raw_fd()));
            Ok(Some(pty))
        }
    }
}

/// The data and terminal descriptors after the spawn, from the spawned pipes and
/// the PTY [`arrange`] opened.
pub(crate) fn streams(
    mode: TerminalMode,
    to_child: OwnedFd,
    from_child: OwnedFd,
    pty: Option<Pty>,
) -> std::io::Result<HopStreams> {
    match (mode, pty) {
        (TerminalMode::RawStdin, Some(pty)) => {
            // The stdin pipe was replaced by the terminal in the child.
            drop((to_child, pty.slave));
            // Frames go to the master through this copy; the original serves the
            // prompt and is closed after the bootstrap, so that closing the writer
            // hangs up the terminal.
            let writer = pty.master.try_clone()?;
            Ok(HopStreams {
                to_child: writer,
                from_child,
                tty: Some(pty.master),
                keep: Vec::new(),
                hold_tty: false,
            })
        }
        (_, Some(pty)) => Ok(HopStreams {
            to_child,
            from_child,
            tty: Some(pty.master),
            keep: vec![pty.slave],
            hold_tty: true,
        }),
        (_, None) => Ok(HopStreams {
            to_child,
            from_child,
            tty: None,
            keep: Vec::new(),
            hold_tty: false,
        }),
    }
}

impl HeldTerminal {
    /// Hold these descriptors until dropped.
    pub(crate) fn new(fds: Vec<OwnedFd>) -> Option<HeldTerminal> {
        (!fds.is_empty()).then_some(HeldTerminal { _fds: fds })
    }
}

/// `cfmakeraw` on the slave: no echo, no line editing, no CR/LF translation, no
/// signal characters, so binary frames cross unchanged.
fn make_raw(slave: &OwnedFd) -> std::io::Result<()> {
    let mut attributes = termios::tcgetattr(slave.as_fd())?;
    termios::cfmakeraw(&mut attributes);
    termios::tcsetattr(slave.as_fd(), termios::SetArg::TCSANOW, &attributes)?;
    Ok(())
}

/// Makes `terminal` the controlling terminal and fds 0 and 2 of the child.
/// Async-signal-safe: one ioctl and two dup2 calls.
fn stdin_and_stderr_on_terminal(terminal: RawFd) -> PreExecHook {
    Arc::new(move || {
        // SAFETY: ioctl(TIOCSCTTY) and dup2 take integers only.
        unsafe {
            if libc::ioctl(terminal, libc::TIOCSCTTY, 0) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            for target in [0, 2] {
                if libc::dup2(terminal, target) == -1 {
                    return Err(std::io::Error::last_os_error());
                }
            }
        }
        Ok(())
    })
}
