//! Ready-made pre-exec hooks and the process-wide hook.
//!
//! Each helper does its preparation (building a CPU set, validating numbers) when it
//! is created, so the closure that runs in the forked child is one system call.

use std::io;
use std::os::fd::RawFd;
use std::sync::{Arc, PoisonError, RwLock};

use super::options::PreExecHook;

static PROCESS_PRE_EXEC_HOOK: RwLock<Option<PreExecHook>> = RwLock::new(None);

/// Installs (or with `None`, removes) a hook that runs in every child spawned from
/// now on, before that child's own [`SpawnOptions::pre_exec`](super::SpawnOptions::pre_exec)
/// hooks. The same rules apply as for any [`PreExecHook`].
pub fn set_process_pre_exec_hook(hook: Option<PreExecHook>) {
    *PROCESS_PRE_EXEC_HOOK
        .write()
        .unwrap_or_else(PoisonError::into_inner) = hook;
}

/// The current process-wide hook, taken in the parent before forking (the child
/// must not touch the lock).
pub(crate) fn process_pre_exec_hook() -> Option<PreExecHook> {
    PROCESS_PRE_EXEC_HOOK
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
}

/// A hook that returns a fixed error; used when a helper's arguments are invalid,
/// so the problem surfaces as a spawn error naming the hook.
fn failing_hook(errno: libc::c_int) -> PreExecHook {
    Arc::new(move || Err(io::Error::from_raw_os_error(errno)))
}

fn check(result: libc::c_int) -> io::Result<()> {
    if result == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Pins the child to the given CPUs (`sched_setaffinity`). CPU numbers beyond
/// what a `cpu_set_t` holds, or an empty list, make the spawn fail with `EINVAL`.
pub fn cpu_affinity(cpus: &[usize]) -> PreExecHook {
    // SAFETY: cpu_set_t is plain data; all-zero is the empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    let capacity = 8 * size_of::<libc::cpu_set_t>();
    if cpus.is_empty() || cpus.iter().any(|&cpu| cpu >= capacity) {
        return failing_hook(libc::EINVAL);
    }
    for &cpu in cpus {
        // SAFETY: `cpu` was checked to be below the set's capacity.
        unsafe { libc::CPU_SET(cpu, &mut set) };
    }
    Arc::new(move || {
        // SAFETY: `set` is a valid cpu_set_t of exactly the size passed.
        check(unsafe { libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), &set) })
    })
}

/// A scheduling policy for [`scheduler`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SchedPolicy {
    /// `SCHED_OTHER`, the default time-sharing policy (priority 0).
    Other,
    /// `SCHED_BATCH`: CPU-bound work, slightly disfavoured in wake-ups (priority 0).
    Batch,
    /// `SCHED_IDLE`: runs only when nothing else wants the CPU (priority 0).
    Idle,
    /// `SCHED_FIFO` real-time (priority 1–99, needs `CAP_SYS_NICE` or an
    /// `RLIMIT_RTPRIO` allowance).
    Fifo,
    /// `SCHED_RR` real-time round robin (priority 1–99, same privilege as `Fifo`).
    RoundRobin,
}

impl SchedPolicy {
    fn as_raw(self) -> libc::c_int {
        match self {
            SchedPolicy::Other => libc::SCHED_OTHER,
            SchedPolicy::Batch => libc::SCHED_BATCH,
            SchedPolicy::Idle => libc::SCHED_IDLE,
            SchedPolicy::Fifo => libc::SCHED_FIFO,
            SchedPolicy::RoundRobin => libc::SCHED_RR,
        }
    }
}

/// Sets the child's scheduling policy and static priority (`sched_setscheduler`).
/// The kernel's `EINVAL`/`EPERM` (wrong priority for the policy, missing privilege)
/// becomes the spawn error.
pub fn scheduler(policy: SchedPolicy, priority: i32) -> PreExecHook {
    let raw_policy = policy.as_raw();
    let param = libc::sched_param {
        sched_priority: priority,
    };
    Arc::new(move || {
        // SAFETY: `param` is a valid sched_param that outlives the call.
        check(unsafe { libc::sched_setscheduler(0, raw_policy, &param) })
    })
}

/// Sets the child's nice value to `value` (absolute, -20..=19; `setpriority`).
/// Lowering it below the current value needs `CAP_SYS_NICE`.
pub fn nice(value: i32) -> PreExecHook {
    Arc::new(move || {
        // SAFETY: setpriority takes plain integers.
        check(unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, value) })
    })
}

/// Makes the terminal open on `terminal` (normally a [`Pty`](super::Pty) slave)
/// the child's controlling terminal (`ioctl(TIOCSCTTY)`), so programs that read
/// passwords from `/dev/tty` (ssh, sudo, doas) prompt there while fds 0 and 1 stay
/// the transport.
///
/// Needs [`SpawnOptions::new_session`](super::SpawnOptions::new_session): only a
/// session leader without a terminal may acquire one. Keep `terminal` open until the
/// spawn has returned; it need not be passed to the child otherwise (the controlling
/// terminal stays after the descriptor closes at exec).
pub fn controlling_terminal(terminal: RawFd) -> PreExecHook {
    Arc::new(move || {
        // SAFETY: TIOCSCTTY takes an integer argument (0: do not steal).
        check(unsafe { libc::ioctl(terminal, libc::TIOCSCTTY, 0) })
    })
}
