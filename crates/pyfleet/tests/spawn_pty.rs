//! Pseudo-terminals: flags, canonical errors, use as a controlling terminal.

#[path = "support/spawn_util.rs"]
mod spawn_util;

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};

use pyfleet::messages::PTY_EXHAUSTED;
use pyfleet::spawn::{SpawnError, SpawnOptions, hooks, open_pty, spawn};
use spawn_util::{AsyncDescriptor, basic_env, within};

fn flags(fd: &OwnedFd) -> (bool, bool) {
    // SAFETY: fcntl queries on a live descriptor.
    let (status, descriptor) = unsafe {
        (
            libc::fcntl(fd.as_raw_fd(), libc::F_GETFL),
            libc::fcntl(fd.as_raw_fd(), libc::F_GETFD),
        )
    };
    (
        status & libc::O_NONBLOCK != 0,
        descriptor & libc::FD_CLOEXEC != 0,
    )
}

#[test]
fn both_ends_are_close_on_exec_and_only_the_master_is_non_blocking() {
    let pty = open_pty().expect("open a pty");
    assert_eq!(
        flags(&pty.master),
        (true, true),
        "master: non-blocking, cloexec"
    );
    assert_eq!(flags(&pty.slave), (false, true), "slave: blocking, cloexec");
    // SAFETY: isatty on a live descriptor.
    assert_eq!(unsafe { libc::isatty(pty.slave.as_raw_fd()) }, 1);
}

/// Exhausting the real PTY limit would disturb the whole machine, so the mapping
/// from the errors posix_openpt reports then is checked directly.
#[test]
fn running_out_of_ptys_gives_the_canonical_message() {
    for errno in [libc::EAGAIN, libc::ENOSPC, libc::ENXIO] {
        let message = SpawnError::Pty(io::Error::from_raw_os_error(errno)).to_string();
        assert!(message.starts_with(PTY_EXHAUSTED), "{errno}: {message}");
    }
    let message = SpawnError::Pty(io::Error::from_raw_os_error(libc::EMFILE)).to_string();
    assert!(message.starts_with("openpty failed: "), "{message}");
    assert!(
        !message.contains("run out of pseudo-terminals"),
        "{message}"
    );
}

/// What ssh and sudo need: a PTY as controlling terminal, with fds 0 and 1 still
/// being the transport.
#[tokio::test]
async fn a_pty_can_become_the_childs_controlling_terminal() {
    let pty = open_pty().expect("open a pty");
    let spawned = spawn(
        SpawnOptions::new("/bin/sh")
            .args(["-c", "echo via-tty > /dev/tty; readlink /proc/self/fd/0"])
            .envs(basic_env())
            .new_session(true)
            .pre_exec(hooks::controlling_terminal(pty.slave.as_raw_fd())),
    )
    .await
    .expect("spawn sh");
    // Holding the slave keeps reads from the master at "would block" instead of
    // EIO while the child has not opened /dev/tty yet (or has closed it).
    let master = AsyncDescriptor::new(pty.master);
    let mut terminal = Vec::new();
    within("output on the tty", async {
        let mut buffer = [0u8; 256];
        while !terminal.ends_with(b"\n") {
            let n = master
                .read_some(&mut buffer)
                .await
                .expect("reading the master");
            terminal.extend_from_slice(&buffer[..n]);
        }
    })
    .await;
    assert_eq!(String::from_utf8_lossy(&terminal), "via-tty\r\n");
    drop(pty.slave);
    let (stdout, status) = spawn_util::output_of(spawned).await;
    assert!(status.success());
    assert!(
        !stdout.starts_with("/dev/pts"),
        "stdin stays the transport: {stdout}"
    );
}

#[tokio::test]
async fn the_controlling_terminal_hook_needs_a_new_session() {
    let pty = open_pty().expect("open a pty");
    let error = spawn(
        SpawnOptions::new("/bin/true").pre_exec(hooks::controlling_terminal(pty.slave.as_raw_fd())),
    )
    .await
    .expect_err("not a session leader");
    assert!(matches!(error, SpawnError::ChildSetup { .. }), "{error:?}");
}
