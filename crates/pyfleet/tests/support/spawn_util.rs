//! Helpers shared by the spawn_* integration tests.
//!
//! Every wait is bounded: a test must fail, never hang.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::future::Future;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use pyfleet::spawn::{Spawned, Transport};
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

/// The Debian interpreter: stable path, no pyenv shim.
pub const PYTHON: &str = "/usr/bin/python3.11";

/// Upper bound for any single wait in these tests.
pub const LIMIT: Duration = Duration::from_secs(20);

/// Both concrete transports.
pub const TRANSPORTS: [Transport; 2] = [Transport::Pipes, Transport::SocketPair];

/// A minimal environment for shell children.
pub fn basic_env() -> Vec<(OsString, OsString)> {
    vec![("PATH".into(), "/usr/bin:/bin".into())]
}

/// Awaits `future`, failing the test after [`LIMIT`].
pub async fn within<F: Future>(what: &str, future: F) -> F::Output {
    match tokio::time::timeout(LIMIT, future).await {
        Ok(output) => output,
        Err(_) => panic!("timed out after {LIMIT:?} waiting for {what}"),
    }
}

/// Runs blocking `work` on a helper thread, failing the test after [`LIMIT`].
pub fn within_blocking<T: Send + 'static>(
    what: &str,
    work: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(work());
    });
    receiver
        .recv_timeout(LIMIT)
        .unwrap_or_else(|_| panic!("timed out after {LIMIT:?} waiting for {what}"))
}

/// Polls `condition` until it holds, failing the test after [`LIMIT`].
pub fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let start = Instant::now();
    while !condition() {
        assert!(
            start.elapsed() < LIMIT,
            "timed out after {LIMIT:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// [`eventually`] for async tests: sleeping on the runtime lets its tasks (the
/// reapers among them) run meanwhile.
pub async fn eventually_async(what: &str, mut condition: impl FnMut() -> bool) {
    let start = Instant::now();
    while !condition() {
        assert!(
            start.elapsed() < LIMIT,
            "timed out after {LIMIT:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// `true` once /proc has no entry for `pid` (reaped; a zombie still has one).
pub fn proc_entry_gone(pid: u32) -> bool {
    !std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// A non-blocking descriptor driven by the runtime.
pub struct AsyncDescriptor(AsyncFd<OwnedFd>);

impl AsyncDescriptor {
    pub fn new(fd: OwnedFd) -> Self {
        // SAFETY: the AsyncFd owns `fd`, so it stays open and the same while registered.
        let registered =
            unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE | Interest::WRITABLE) };
        Self(
            registered
                .map_err(|e| e.into_parts().1)
                .expect("registering with the reactor"),
        )
    }

    pub async fn write_all(&self, mut data: &[u8]) -> io::Result<()> {
        while !data.is_empty() {
            let mut guard = self.0.writable().await?;
            match guard.try_io(|fd| {
                // SAFETY: `data` is a live buffer of the length passed.
                let n = unsafe { libc::write(fd.as_raw_fd(), data.as_ptr().cast(), data.len()) };
                if n < 0 {
                    Err(io::Error::last_os_error())
                } else {
                    Ok(n as usize)
                }
            }) {
                Ok(result) => data = &data[result?..],
                Err(_would_block) => continue,
            }
        }
        Ok(())
    }

    /// Reads until EOF (or `EIO`, which is how a PTY master says "no slave left").
    pub async fn read_to_end(&self) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        let mut buffer = vec![0u8; 1 << 16];
        loop {
            match self.read_some(&mut buffer).await {
                Ok(0) => return Ok(out),
                Ok(n) => out.extend_from_slice(&buffer[..n]),
                Err(error) if error.raw_os_error() == Some(libc::EIO) => return Ok(out),
                Err(error) => return Err(error),
            }
        }
    }

    pub async fn read_some(&self, buffer: &mut [u8]) -> io::Result<usize> {
        loop {
            let mut guard = self.0.readable().await?;
            match guard.try_io(|fd| {
                // SAFETY: `buffer` is a live buffer of the length passed.
                let n =
                    unsafe { libc::read(fd.as_raw_fd(), buffer.as_mut_ptr().cast(), buffer.len()) };
                if n < 0 {
                    Err(io::Error::last_os_error())
                } else {
                    Ok(n as usize)
                }
            }) {
                Ok(result) => return result,
                Err(_would_block) => continue,
            }
        }
    }

    pub fn raw(&self) -> i32 {
        self.0.get_ref().as_raw_fd()
    }
}

/// The parent's ends of a spawned child, registered with the runtime.
pub struct Ends {
    pub to_child: Option<AsyncDescriptor>,
    pub from_child: AsyncDescriptor,
    pub transport: Transport,
}

impl Ends {
    pub fn of(spawned: &mut Spawned) -> Self {
        let to_child = spawned.to_child.try_clone().expect("dup to_child");
        let from_child = spawned.from_child.try_clone().expect("dup from_child");
        Self {
            to_child: Some(AsyncDescriptor::new(to_child)),
            from_child: AsyncDescriptor::new(from_child),
            transport: spawned.transport,
        }
    }

    /// Ends the child's input: a socket pair needs `shutdown`, because the parent
    /// still holds the same socket for reading.
    pub fn close_input(&mut self) {
        if let Some(to_child) = self.to_child.take()
            && self.transport == Transport::SocketPair
        {
            // SAFETY: shutdown on a live socket.
            unsafe { libc::shutdown(to_child.raw(), libc::SHUT_WR) };
        }
    }
}

/// Drops the parent's own copies so that only `Ends` hold the channel.
pub fn take_ends(mut spawned: Spawned) -> (Ends, pyfleet::spawn::ChildProcess) {
    let ends = Ends::of(&mut spawned);
    (ends, spawned.process)
}

/// Reads everything the child writes to fd 1 until it exits.
pub async fn output_of(spawned: Spawned) -> (String, pyfleet::spawn::ExitStatus) {
    let (mut ends, process) = take_ends(spawned);
    ends.close_input();
    let output = within("child output", ends.from_child.read_to_end())
        .await
        .expect("reading child output");
    let status = within("child exit", process.wait()).await;
    (String::from_utf8_lossy(&output).into_owned(), status)
}

/// A field of /proc/PID/status (`"SigBlk"` → `"0000000000000000"`).
pub fn status_field(status_text: &str, field: &str) -> String {
    status_text
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .unwrap_or_else(|| panic!("no {field} in:\n{status_text}"))
        .trim()
        .to_owned()
}

/// The fields of /proc/PID/stat, indexed as numbered in proc(5): `[3]` is the state,
/// `[6]` the session, `[19]` the nice value, `[22]` the start time, `[41]` the policy.
pub fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may contain spaces and parentheses; it ends at the last ')'.
    let after_name = text.get(text.rfind(')')? + 2..)?;
    let mut fields = vec![String::new(), pid.to_string(), "(comm)".to_owned()];
    fields.extend(after_name.split_whitespace().map(str::to_owned));
    Some(fields)
}

/// `true` once `pid` has no live process: gone from /proc, or a zombie that is not
/// ours to reap (re-parented to init).
pub fn is_gone(pid: u32) -> bool {
    match stat_fields(pid) {
        None => true,
        Some(fields) => fields[3] == "Z" || fields[3] == "X",
    }
}

/// The descriptor numbers open in this process.
pub fn open_fds() -> BTreeSet<i32> {
    std::fs::read_dir("/proc/self/fd")
        .expect("listing /proc/self/fd")
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
        .collect()
}
