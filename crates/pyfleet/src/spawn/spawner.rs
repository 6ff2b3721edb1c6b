//! The one thread that forks.
//!
//! `PR_SET_PDEATHSIG` fires when the *thread* that forked the child exits, not when
//! the process does. A child forked on a tokio worker or a short-lived caller thread
//! would be killed whenever that thread ends. So every fork in pyfleet happens on
//! one process-wide thread that is started on first use and never exits.
//!
//! The thread blocks every signal: a forked child starts with the forking thread's
//! mask, so until the child has reset dispositions no handler of the parent can run
//! in it (see `child_setup.rs`); and process-directed signals go to other threads.

use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock, PoisonError};

use tokio::sync::oneshot;

use super::error::SpawnError;
use super::exec_plan::ExecPlan;
use super::fork_exec::{ForkedChild, fork_exec};

/// The name the thread shows in `/proc/PID/task/*/comm`, debuggers and panics.
pub const SPAWNER_THREAD_NAME: &str = "pyfleet-spawner";

pub(crate) type SpawnResult = Result<ForkedChild, SpawnError>;

/// Where the spawner sends the result: async callers await a oneshot, blocking
/// callers wait on a std channel (a oneshot's blocking receive panics inside a
/// runtime, and synchronous callers may well be inside one).
pub(crate) enum Reply {
    Async(oneshot::Sender<SpawnResult>),
    Blocking(mpsc::SyncSender<SpawnResult>),
}

struct Request {
    plan: ExecPlan,
    reply: Reply,
}

static REQUESTS: OnceLock<mpsc::Sender<Request>> = OnceLock::new();
static STARTING: Mutex<()> = Mutex::new(());

/// Queues a spawn; the result arrives through `reply`.
pub(crate) fn submit(plan: ExecPlan, reply: Reply) -> Result<(), SpawnError> {
    requests()?
        .send(Request { plan, reply })
        .map_err(|_| spawner_gone())
}

/// The error for a spawner that stopped answering, which only a bug can cause.
pub(crate) fn spawner_gone() -> SpawnError {
    SpawnError::io(
        "handing the request to the pyfleet-spawner thread",
        io::Error::other("the spawner thread is gone"),
    )
}

fn requests() -> Result<&'static mpsc::Sender<Request>, SpawnError> {
    if let Some(sender) = REQUESTS.get() {
        return Ok(sender);
    }
    let _starting = STARTING.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(sender) = REQUESTS.get() {
        return Ok(sender);
    }
    let (sender, receiver) = mpsc::channel();
    std::thread::Builder::new()
        .name(SPAWNER_THREAD_NAME.to_owned())
        .spawn(move || serve_forever(receiver))
        .map_err(|e| SpawnError::io("starting the pyfleet-spawner thread", e))?;
    Ok(REQUESTS.get_or_init(|| sender))
}

fn serve_forever(requests: mpsc::Receiver<Request>) {
    block_all_signals();
    // The sender lives in a static, so `recv` never fails; if it somehow did, the
    // thread must still not exit (that would kill every child through its parent
    // death signal).
    while let Ok(request) = requests.recv() {
        serve(request);
    }
    loop {
        std::thread::park();
    }
}

fn serve(Request { plan, reply }: Request) {
    // A panic must not end this thread (see above); it becomes this spawn's error.
    let result = panic::catch_unwind(AssertUnwindSafe(|| fork_exec(plan))).unwrap_or_else(|_| {
        Err(SpawnError::io(
            "spawning",
            io::Error::other("the pyfleet-spawner thread panicked while spawning"),
        ))
    });
    // A caller that went away drops the result here; `ForkedChild`'s drop then
    // kills and reaps the child nobody will use.
    match reply {
        Reply::Async(sender) => drop(sender.send(result)),
        Reply::Blocking(sender) => drop(sender.send(result)),
    }
}

fn block_all_signals() {
    // SAFETY: the set is local and fully initialised by sigfillset.
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, std::ptr::null_mut());
    }
}
