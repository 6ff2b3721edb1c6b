//! `fork` + `execve`, with the child's failures reported back.
//!
//! Why raw fork/exec rather than `std::process::Command` + `pre_exec`: once a pre-exec
//! closure is set, std forks and calls `execvp`, and glibc's `execvp` runs any file
//! that fails with `ENOEXEC` through `/bin/sh` — a data file or a Python script passed
//! as the interpreter would be executed as shell code. std also reports only an errno
//! from the child, so a missing working directory and a missing program both read as
//! `ENOENT`, and a hook's error cannot be told from an exec error. Here the child runs
//! `execve` on an exact path and reports which step failed.
//!
//! Runs on the spawner thread only (see `spawner.rs`).

use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::ptr;

use super::child_setup::{ChildPlan, FailureReport, run_child};
use super::error::SpawnError;
use super::exec_failure::{FailureContext, spawn_error};
use super::exec_plan::ExecPlan;
use super::fds;
use super::pidfd;

/// A child that was forked and exec'ed, not yet handed to a `ChildProcess`.
///
/// If it is dropped unclaimed (the caller of `spawn` went away meanwhile), nobody
/// would ever talk to or reap the child, so it is killed and reaped.
#[derive(Debug)]
pub(crate) struct ForkedChild {
    pid: libc::pid_t,
    pidfd: Option<OwnedFd>,
    claimed: bool,
}

impl ForkedChild {
    /// Takes ownership of the child: `(pid, pidfd)`.
    pub(crate) fn claim(mut self) -> (libc::pid_t, Option<OwnedFd>) {
        self.claimed = true;
        (self.pid, self.pidfd.take())
    }
}

impl Drop for ForkedChild {
    fn drop(&mut self) {
        if self.claimed {
            return;
        }
        let result = match &self.pidfd {
            Some(pidfd) => pidfd::send_signal(pidfd.as_fd(), libc::SIGKILL),
            // SAFETY: kill takes integers; the child is unreaped, so the pid is still ours.
            None => fds::check(unsafe { libc::kill(self.pid, libc::SIGKILL) }).map(drop),
        };
        if let Err(error) = result {
            tracing::warn!(pid = self.pid, %error, "could not kill an unclaimed child");
        }
        reap_in_background(self.pid);
    }
}

/// Forks and execs according to `plan`. Returns once the child has exec'ed (or failed
/// to), so the error, if any, is the caller's.
pub(crate) fn fork_exec(plan: ExecPlan) -> Result<ForkedChild, SpawnError> {
    let (report_read, report_write) =
        fds::pipe().map_err(|e| SpawnError::io("creating the exec report pipe", e))?;
    let argv = null_terminated(&plan.argv);
    let envp = null_terminated(&plan.envp);
    let child_plan = ChildPlan {
        program: &plan.program,
        argv: argv.as_ptr(),
        envp: envp.as_ptr(),
        stdin: plan.child_stdin.as_raw_fd(),
        stdout: plan.child_stdout.as_raw_fd(),
        stderr: fds::raw_or_minus_one(plan.child_stderr.as_ref()),
        cwd: plan.cwd.as_ref().map(|(_, dir)| dir.as_c_str()),
        new_session: plan.new_session,
        parent_death_signal: plan.parent_death_signal,
        // SAFETY: getpid has no memory effects.
        parent_pid: unsafe { libc::getpid() },
        highest_signal: libc::SIGRTMAX(),
        process_hook: plan.process_hook.as_ref(),
        hooks: &plan.hooks,
        fd_limit: plan.fd_limit,
        report: report_write.as_raw_fd(),
    };

    // SAFETY: the child only runs `run_child`, which is async-signal-safe and never
    // returns; the parent continues normally.
    let pid = unsafe { libc::fork() };
    if pid == -1 {
        return Err(SpawnError::io("fork", io::Error::last_os_error()));
    }
    if pid == 0 {
        // SAFETY: this is the freshly forked child and `child_plan` points into memory
        // fork copied.
        unsafe { run_child(&child_plan) }
    }

    // The child's ends must go now: a parent that keeps the write end of the child's
    // stdout open never sees EOF from it.
    drop(report_write);
    let ExecPlan {
        program_given,
        program_path,
        cwd,
        child_stdin,
        child_stdout,
        child_stderr,
        ..
    } = plan;
    drop((child_stdin, child_stdout, child_stderr));

    let child = ForkedChild {
        pid,
        pidfd: pidfd::open(pid),
        claimed: false,
    };
    match read_report(&report_read) {
        Ok(None) => {
            tracing::debug!(pid, program = %program_given.display(), "spawned");
            Ok(child)
        }
        Ok(Some(report)) => {
            let (pid, _) = child.claim();
            reap_blocking(pid);
            let context = FailureContext {
                program_given: &program_given,
                program_path: &program_path,
                cwd: cwd.as_ref().map(|(dir, _)| dir.as_path()),
            };
            Err(spawn_error(report, &context))
        }
        // Dropping `child` kills and reaps it.
        Err(error) => Err(SpawnError::io(
            "reading the exec report from the child",
            error,
        )),
    }
}

/// Pointers for `execve`, valid while `strings` lives.
fn null_terminated(strings: &[std::ffi::CString]) -> Vec<*const libc::c_char> {
    strings
        .iter()
        .map(|s| s.as_ptr())
        .chain(std::iter::once(ptr::null()))
        .collect()
}

/// `Ok(None)` at EOF with nothing read: the report pipe closed at exec.
fn read_report(report: &OwnedFd) -> io::Result<Option<FailureReport>> {
    let mut bytes = [0u8; FailureReport::SIZE];
    let mut filled = 0;
    while filled < bytes.len() {
        let rest = &mut bytes[filled..];
        // SAFETY: `rest` is a live buffer of the length passed.
        let n = unsafe { libc::read(report.as_raw_fd(), rest.as_mut_ptr().cast(), rest.len()) };
        match n {
            0 => break,
            n if n > 0 => filled += n as usize,
            _ => {
                let error = io::Error::last_os_error();
                if error.kind() != io::ErrorKind::Interrupted {
                    return Err(error);
                }
            }
        }
    }
    match filled {
        0 => Ok(None),
        FailureReport::SIZE => FailureReport::from_bytes(bytes)
            .map(Some)
            .ok_or_else(|| io::Error::other("the child sent a malformed exec report")),
        _ => Err(io::Error::other("the child sent a truncated exec report")),
    }
}

/// Waits for a child known to be exiting (it failed before exec).
fn reap_blocking(pid: libc::pid_t) {
    let mut status = 0;
    // SAFETY: waitpid for our own child writes only `status`.
    while unsafe { libc::waitpid(pid, &mut status, 0) } == -1
        && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted
    {}
}

/// Reaps a killed child off the current thread, which may be a runtime worker.
pub(crate) fn reap_in_background(pid: libc::pid_t) {
    let spawned = std::thread::Builder::new()
        .name("pyfleet-reaper".to_owned())
        .stack_size(64 * 1024)
        .spawn(move || reap_blocking(pid));
    if let Err(error) = spawned {
        tracing::warn!(pid, %error, "cannot start a thread to reap a killed child");
    }
}
