//! Collecting children's exit statuses.
//!
//! Only ever for one known pid: `waitpid(-1)` would steal the children of other code
//! in this process. The preferred reaper is a task on the caller's tokio runtime that
//! sleeps on the child's pidfd; without a pidfd (kernels before 5.3, some sandboxes)
//! or outside a runtime, a small thread blocks in `waitid` instead. If the runtime
//! shuts down before the child exits, the task hands over to such a thread, so a
//! child is always reaped.

use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

use super::exit_status::ExitStatus;
use super::process::ChildShared;

/// The reaper thread does nothing but wait.
const REAPER_THREAD_STACK: usize = 64 * 1024;

/// Starts reaping `child` in the best available way.
pub(crate) fn start(child: Arc<ChildShared>) {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) if child.pidfd().is_some() => {
            // The guard is an argument, not a local of the task body, so it is dropped
            // (and hands over) even if the task is dropped before it first runs.
            runtime.spawn(watch_pidfd(ThreadTakesOverIfUnreaped(child)));
        }
        _ => start_thread(child),
    }
}

/// The pidfd turns readable when the child exits; then it is reaped.
async fn watch_pidfd(fallback: ThreadTakesOverIfUnreaped) {
    let child = Arc::clone(&fallback.0);
    let Some(pidfd) = PidfdOf::new(Arc::clone(&child)) else {
        return;
    };
    // SAFETY: `PidfdOf` keeps the child's state, which owns the pidfd, alive for as
    // long as the registration, and always returns that same descriptor.
    let registered = unsafe { AsyncFd::register_with_interest(pidfd, Interest::READABLE) };
    let Ok(exited) = registered else {
        return;
    };
    loop {
        let Ok(mut ready) = exited.readable().await else {
            return;
        };
        if child.poll_exit().is_some() {
            return;
        }
        ready.clear_ready();
    }
}

/// The pidfd of a child, kept open by the `Arc` for as long as it is registered.
struct PidfdOf {
    child: Arc<ChildShared>,
    fd: RawFd,
}

impl PidfdOf {
    fn new(child: Arc<ChildShared>) -> Option<Self> {
        let fd = child.pidfd()?.as_raw_fd();
        Some(Self { child, fd })
    }
}

impl AsRawFd for PidfdOf {
    fn as_raw_fd(&self) -> RawFd {
        debug_assert!(self.child.pidfd().is_some());
        self.fd
    }
}

/// Dropped when the reaper task ends: normally after reaping, but also when the
/// runtime shuts down (tasks are dropped) or the pidfd cannot be registered.
struct ThreadTakesOverIfUnreaped(Arc<ChildShared>);

impl Drop for ThreadTakesOverIfUnreaped {
    fn drop(&mut self) {
        if !self.0.is_reaped() {
            start_thread(Arc::clone(&self.0));
        }
    }
}

fn start_thread(child: Arc<ChildShared>) {
    let pid = child.pid();
    let spawned = std::thread::Builder::new()
        .name("pyfleet-reaper".to_owned())
        .stack_size(REAPER_THREAD_STACK)
        .spawn(move || {
            child.wait_blocking();
        });
    if let Err(error) = spawned {
        tracing::error!(
            pid,
            %error,
            "cannot start a reaper thread; the child is reaped only when waited for"
        );
    }
}

/// Reaps `pid` if it has exited. `None` while it runs.
pub(crate) fn reap_if_exited(pid: libc::pid_t) -> Option<ExitStatus> {
    loop {
        let mut raw_status = 0;
        // SAFETY: waitpid for one pid writes only `raw_status`.
        let result = unsafe { libc::waitpid(pid, &mut raw_status, libc::WNOHANG) };
        if result == pid {
            return ExitStatus::from_wait_status(raw_status);
        }
        if result == 0 {
            return None;
        }
        let error = io::Error::last_os_error();
        match error.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::ECHILD) => return Some(ExitStatus::ReapedElsewhere),
            _ => {
                tracing::warn!(pid, %error, "waitpid failed");
                return None;
            }
        }
    }
}

/// Blocks until `pid` has exited, without reaping it (`WNOWAIT`), so the reaping
/// itself can happen under the child's lock.
pub(crate) fn block_until_exited(pid: libc::pid_t) {
    loop {
        // SAFETY: siginfo_t is plain data; waitid fills it.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: waitid for one pid writes only `info`.
        let result = unsafe {
            libc::waitid(
                libc::P_PID,
                pid.unsigned_abs(),
                &mut info,
                libc::WEXITED | libc::WNOWAIT,
            )
        };
        if result == 0 {
            return;
        }
        let error = io::Error::last_os_error();
        match error.raw_os_error() {
            Some(libc::EINTR) => continue,
            // Reaped elsewhere; the caller's next poll reports it.
            Some(libc::ECHILD) => return,
            _ => {
                tracing::warn!(pid, %error, "waitid failed; retrying");
                std::thread::sleep(Duration::from_millis(10));
                return;
            }
        }
    }
}
