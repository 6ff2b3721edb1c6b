//! The entry points: [`spawn`] and [`spawn_blocking_caller`].

use std::os::fd::OwnedFd;
use std::sync::mpsc;

use tokio::sync::oneshot;

use super::error::SpawnError;
use super::exec_plan::{ParentEnds, prepare};
use super::fork_exec::ForkedChild;
use super::options::SpawnOptions;
use super::process::ChildProcess;
use super::spawner::{self, Reply};
use super::transport::Transport;

/// A started child and the parent's ends of its descriptors.
#[derive(Debug)]
pub struct Spawned {
    /// The child's process id.
    pub pid: u32,
    /// Write here to reach the child's fd 0. Non-blocking, close-on-exec.
    pub to_child: OwnedFd,
    /// Read here what the child writes to fd 1. Non-blocking, close-on-exec. For a
    /// socket pair this is a duplicate of `to_child`'s socket: shut it down with
    /// `shutdown(2)` rather than by closing one descriptor if a half-close is meant.
    pub from_child: OwnedFd,
    /// The read end of the child's stderr with [`StderrMode::Pipe`](super::StderrMode::Pipe):
    /// non-blocking, close-on-exec.
    pub stderr: Option<OwnedFd>,
    /// Waiting for and signalling the child.
    pub process: ChildProcess,
    /// The transport in use (never [`Transport::Auto`]).
    pub transport: Transport,
}

/// Starts a child process.
///
/// The fork happens on the process-wide spawner thread (so the parent death signal
/// is tied to the life of this process, not of the calling thread); this future
/// waits for its answer without blocking the runtime. It resolves once the child has
/// exec'ed, so an exec failure is reported here, not as an exit status.
///
/// Call it inside a tokio runtime with I/O enabled: the child is reaped by a task on
/// that runtime. Dropping the future before it resolves kills the child, if it was
/// already started.
pub async fn spawn(options: SpawnOptions) -> Result<Spawned, SpawnError> {
    let (plan, ends) = prepare(options)?;
    let (sender, receiver) = oneshot::channel();
    spawner::submit(plan, Reply::Async(sender))?;
    let forked = receiver.await.map_err(|_| spawner::spawner_gone())??;
    Ok(finish(ends, forked))
}

/// [`spawn`] for synchronous callers: blocks the calling thread until the child has
/// exec'ed. Outside a tokio runtime the child is reaped by a small thread.
pub fn spawn_blocking_caller(options: SpawnOptions) -> Result<Spawned, SpawnError> {
    let (plan, ends) = prepare(options)?;
    let (sender, receiver) = mpsc::sync_channel(1);
    spawner::submit(plan, Reply::Blocking(sender))?;
    let forked = receiver.recv().map_err(|_| spawner::spawner_gone())??;
    Ok(finish(ends, forked))
}

fn finish(ends: ParentEnds, forked: ForkedChild) -> Spawned {
    let (pid, pidfd) = forked.claim();
    Spawned {
        pid: pid.unsigned_abs(),
        to_child: ends.to_child,
        from_child: ends.from_child,
        stderr: ends.stderr,
        process: ChildProcess::adopt(pid, pidfd),
        transport: ends.transport,
    }
}
