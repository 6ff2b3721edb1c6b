//! A handle on a running (or finished) child: wait for it, signal it.

use std::fmt;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use nix::sys::signal::Signal;
use tokio::sync::watch;

use super::exit_status::ExitStatus;
use super::fds;
use super::pidfd;
use super::reaper;

/// How long a [`foreign`](ChildProcess::foreign) process's parent may take to
/// report its exit status once it has exited.
pub const FOREIGN_REPORT_WAIT: Duration = Duration::from_secs(1);

/// A child process started by [`spawn`](super::spawn). Cheap to clone; all clones
/// refer to the same child.
///
/// The child is reaped automatically when it exits, whether or not anyone waits
/// (no zombies), and dropping every handle neither kills nor detaches it.
#[derive(Clone)]
pub struct ChildProcess {
    shared: Arc<ChildShared>,
}

/// State shared by the handles and the reaper.
pub(crate) struct ChildShared {
    pid: libc::pid_t,
    pidfd: Option<OwnedFd>,
    /// The status once reaped. Reaping happens only with this lock held, and so does
    /// `kill(pid)` when there is no pidfd: a pid cannot be recycled while it is
    /// unreaped, so a signal sent under the lock cannot reach a stranger.
    status: Mutex<Option<ExitStatus>>,
    /// Wakes async waiters.
    published: watch::Sender<Option<ExitStatus>>,
    /// Not this process's child (a context forked by another context): it cannot
    /// be reaped here; its status arrives through [`ChildProcess::publish_status`].
    foreign: bool,
}

impl ChildShared {
    pub(crate) fn pid(&self) -> libc::pid_t {
        self.pid
    }

    pub(crate) fn pidfd(&self) -> Option<&OwnedFd> {
        self.pidfd.as_ref()
    }

    fn lock_status(&self) -> MutexGuard<'_, Option<ExitStatus>> {
        self.status.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn is_reaped(&self) -> bool {
        self.lock_status().is_some()
    }

    /// The exit status, reaping the child first if it has exited. Never blocks.
    pub(crate) fn poll_exit(&self) -> Option<ExitStatus> {
        let mut status = self.lock_status();
        if status.is_none() && !self.foreign {
            *status = reaper::reap_if_exited(self.pid);
            if let Some(reaped) = *status {
                self.published.send_replace(Some(reaped));
            }
        }
        *status
    }

    /// Blocks the calling thread until the status is known.
    pub(crate) fn wait_blocking(&self) -> ExitStatus {
        loop {
            if let Some(status) = self.poll_exit() {
                return status;
            }
            if self.foreign {
                // waitpid cannot wait for another process's child.
                std::thread::sleep(Duration::from_millis(10));
                continue;
            }
            reaper::block_until_exited(self.pid);
        }
    }
}

impl ChildProcess {
    /// Takes over a freshly spawned child and starts reaping it: on the current tokio
    /// runtime (watching its pidfd) when there is one, else on a small thread.
    pub(crate) fn adopt(pid: libc::pid_t, pidfd: Option<OwnedFd>) -> ChildProcess {
        let shared = Arc::new(ChildShared {
            pid,
            pidfd,
            status: Mutex::new(None),
            published: watch::Sender::new(None),
            foreign: false,
        });
        reaper::start(Arc::clone(&shared));
        ChildProcess { shared }
    }

    /// A handle on a process that is not this process's child (a context forked
    /// by a context): signalled through a pidfd when the kernel has them, never
    /// reaped here; its parent reports its status through
    /// [`publish_status`](Self::publish_status).
    ///
    /// On a tokio runtime, a task watches the pidfd: once the process has exited
    /// and no report came within [`FOREIGN_REPORT_WAIT`], the status becomes
    /// [`ExitStatus::Unreported`], so waiting never hangs on a parent that is gone.
    pub fn foreign(pid: u32) -> ChildProcess {
        let pid = pid as libc::pid_t;
        let process = ChildProcess {
            shared: Arc::new(ChildShared {
                pid,
                pidfd: pidfd::open(pid),
                status: Mutex::new(None),
                published: watch::Sender::new(None),
                foreign: true,
            }),
        };
        if let (Ok(runtime), Some(pidfd)) = (
            tokio::runtime::Handle::try_current(),
            process.shared.pidfd().and_then(|fd| fd.try_clone().ok()),
        ) {
            let watched = process.clone();
            runtime.spawn(async move {
                // SAFETY: the OwnedFd (a duplicate of the pidfd) is open, owned by
                // the AsyncFd from here on, and always names the same descriptor.
                let registered = unsafe {
                    tokio::io::unix::AsyncFd::register_with_interest(
                        pidfd,
                        tokio::io::Interest::READABLE,
                    )
                };
                let Ok(exited) = registered else {
                    return;
                };
                if exited.readable().await.is_ok()
                    && watched.wait_timeout(FOREIGN_REPORT_WAIT).await.is_none()
                {
                    watched.publish_status(ExitStatus::Unreported);
                }
            });
        }
        process
    }

    /// Record how a [`foreign`](Self::foreign) process ended, as its parent
    /// reported it. The first report wins; a handle on a real child ignores this
    /// (its own reaper knows better).
    pub fn publish_status(&self, status: ExitStatus) {
        if !self.shared.foreign {
            return;
        }
        let mut current = self.shared.lock_status();
        if current.is_none() {
            *current = Some(status);
            self.shared.published.send_replace(Some(status));
        }
    }

    /// The child's process id. Once the child is reaped the number may belong to
    /// another process; use [`signal`](Self::signal) rather than `kill(pid)`.
    pub fn pid(&self) -> u32 {
        self.shared.pid.unsigned_abs()
    }

    /// Waits until the child exits and returns how it ended.
    pub async fn wait(&self) -> ExitStatus {
        if let Some(status) = self.try_status() {
            return status;
        }
        let mut published = self.shared.published.subscribe();
        match published
            .wait_for(Option::is_some)
            .await
            .map(|status| *status)
        {
            Ok(Some(status)) => status,
            // The sender lives in `shared`, which `self` keeps alive.
            _ => unreachable!("the exit status channel closed while a handle exists"),
        }
    }

    /// The exit status if the child has exited, without waiting.
    pub fn try_status(&self) -> Option<ExitStatus> {
        self.shared.poll_exit()
    }

    /// Like [`wait`](Self::wait), giving up after `timeout` (the child keeps running).
    pub async fn wait_timeout(&self, timeout: Duration) -> Option<ExitStatus> {
        tokio::time::timeout(timeout, self.wait()).await.ok()
    }

    /// Blocks the calling thread until the child exits. For synchronous code; inside
    /// a runtime use [`wait`](Self::wait).
    pub fn wait_blocking(&self) -> ExitStatus {
        self.shared.wait_blocking()
    }

    /// Sends `signal` to the child. Once the child has been reaped this does nothing
    /// and returns `Ok`: the pid may already name another process.
    pub fn signal(&self, signal: Signal) -> io::Result<()> {
        self.signal_number(signal as i32)
    }

    /// Like [`signal`](Self::signal), for any signal number, including real-time
    /// signals (`libc::SIGRTMIN() + n`) that [`Signal`] cannot express.
    pub fn signal_number(&self, signal: i32) -> io::Result<()> {
        let shared = &self.shared;
        let result = match shared.pidfd() {
            // A pidfd names this very process, even after it is reaped.
            Some(pidfd) if !shared.is_reaped() => pidfd::send_signal(pidfd.as_fd(), signal),
            Some(_) => return Ok(()),
            None => {
                let status = shared.lock_status();
                if status.is_some() {
                    return Ok(());
                }
                // SAFETY: kill takes integers; the lock keeps the pid unreaped.
                fds::check(unsafe { libc::kill(shared.pid, signal) }).map(drop)
            }
        };
        match result {
            // Exited (or exiting) but not yet reaped: nothing left to signal.
            Err(error) if error.raw_os_error() == Some(libc::ESRCH) => Ok(()),
            other => other,
        }
    }

    /// Sends `SIGTERM`.
    pub fn terminate(&self) -> io::Result<()> {
        self.signal(Signal::SIGTERM)
    }

    /// Sends `SIGKILL`.
    pub fn kill(&self) -> io::Result<()> {
        self.signal(Signal::SIGKILL)
    }
}

impl fmt::Debug for ChildProcess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildProcess")
            .field("pid", &self.shared.pid)
            .field("pidfd", &self.shared.pidfd.is_some())
            .field("status", &*self.shared.lock_status())
            .finish()
    }
}
