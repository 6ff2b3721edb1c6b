//! A context's process lifecycle: wait for it, stop it politely or not, and how it
//! runs calls.

use std::time::Duration;

use super::context::Context;
use crate::bootstrap::Executor;
use crate::error::{CallError, LifecycleError};
use crate::router::EndReason;
use crate::spawn::ExitStatus;

/// How long [`Context::kill`] waits for the kernel to report the killed process.
pub const KILL_WAIT: Duration = Duration::from_secs(5);

impl Context {
    /// Wait up to `timeout` for the context's process to exit, and say how it
    /// ended: [`ExitStatus::Code`] or [`ExitStatus::Signal`] (see
    /// [`ExitStatus::signal_name`] for `SIGTERM` and friends). The process is left
    /// running when the time runs out.
    pub async fn wait(&self, timeout: Duration) -> Result<ExitStatus, LifecycleError> {
        if self.via().is_some() {
            // Behind a hop: the hop reports how its child ended.
            return tokio::time::timeout(timeout, self.wait_end())
                .await
                .map(|end| reported_status(&end.reason))
                .map_err(|_| self.timeout("waiting for it to exit", timeout));
        }
        self.process()
            .wait_timeout(timeout)
            .await
            .ok_or_else(|| self.timeout("waiting for it to exit", timeout))
    }

    /// Stop the context, politely first: pending calls fail ("was shut down"), its
    /// input is closed so the core exits by itself; after `grace` it gets SIGTERM,
    /// after another `grace` SIGKILL. Returns how it ended, within about
    /// 2 × `grace` + [`KILL_WAIT`].
    pub async fn terminate(&self, grace: Duration) -> Result<ExitStatus, LifecycleError> {
        if self.connection().stop_through_hop(grace).await {
            // Behind a hop: the hop escalates, and its report is the end.
            return self.wait(KILL_WAIT).await;
        }
        self.connection()
            .shutdown_within(EndReason::Shutdown, grace)
            .await;
        match self.process().try_status() {
            Some(status) => Ok(status),
            None => self.wait(KILL_WAIT).await,
        }
    }

    /// Send SIGKILL and wait (up to [`KILL_WAIT`]) for the process to be gone.
    /// Pending calls fail with "killed by SIGKILL".
    /// Behind a hop, the hop sends the SIGKILL.
    pub async fn kill(&self) -> Result<ExitStatus, LifecycleError> {
        if self.connection().stop_through_hop(Duration::ZERO).await {
            return self.wait(KILL_WAIT).await;
        }
        self.signal(libc::SIGKILL, "SIGKILL")?;
        self.wait(KILL_WAIT).await
    }

    /// Send SIGTERM without waiting (the core exits within a couple of seconds
    /// even if user code ignores it; see [`terminate`](Self::terminate) for the
    /// bounded version).
    pub fn send_sigterm(&self) -> Result<(), LifecycleError> {
        self.signal(libc::SIGTERM, "SIGTERM")
    }

    /// Choose how this context runs calls (see [`Executor`]). Serial is the
    /// default; switching to threads installs the child's thread pool with one
    /// call. The choice is made once: asking for another number of threads later,
    /// or for serial after threads, is refused.
    pub async fn set_executor(&self, executor: Executor) -> Result<(), CallError> {
        let threads = match executor {
            Executor::Serial => 0,
            Executor::Threads(n) => n,
        };
        // The child refuses Threads(0) and a second, different choice.
        self.call::<u16>("pyfleet_core.executor", "install", (threads,), ())
            .await
            .map(drop)
    }

    /// The executor this context runs calls with.
    pub async fn executor(&self) -> Result<Executor, CallError> {
        let threads: u16 = self
            .call("pyfleet_core.executor", "threads", (), ())
            .await?;
        Ok(match threads {
            0 => Executor::Serial,
            n => Executor::Threads(n),
        })
    }

    fn signal(&self, number: i32, name: &'static str) -> Result<(), LifecycleError> {
        if self.via().is_some() {
            // Its pid means nothing here: it lives on the hop's side.
            return Err(LifecycleError::Signal {
                context: self.name().to_string(),
                pid: self.pid(),
                signal: name,
                source: std::io::Error::new(
                    std::io::ErrorKind::Unsupported,
                    "the context runs behind a hop; use terminate() or kill(), which the hop carries out",
                ),
            });
        }
        self.process()
            .signal_number(number)
            .map_err(|source| LifecycleError::Signal {
                context: self.name().to_string(),
                pid: self.pid(),
                signal: name,
                source,
            })
    }

    fn timeout(&self, what: &'static str, timeout: Duration) -> LifecycleError {
        LifecycleError::Timeout {
            context: self.name().to_string(),
            pid: self.pid(),
            what,
            timeout,
        }
    }
}

/// How a context behind a hop ended, from the end the hop reported.
fn reported_status(reason: &EndReason) -> ExitStatus {
    match reason {
        EndReason::Exited(status)
        | EndReason::Disconnected {
            status: Some(status),
        }
        | EndReason::ProtocolViolation {
            status: Some(status),
            ..
        } => *status,
        _ => ExitStatus::Unreported,
    }
}
