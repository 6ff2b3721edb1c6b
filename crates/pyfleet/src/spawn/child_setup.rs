//! What the forked child does between `fork` and `execve`.
//!
//! The child is a one-thread copy of a multi-threaded process: any lock (including
//! malloc's) may have been held by another thread at the moment of the fork and will
//! never be released. So everything here is async-signal-safe: plain system calls on
//! data prepared by the parent, no allocation, no locks, no formatting, no drops of
//! heap values.
//!
//! Order, and why:
//! 1. signal dispositions, then the mask: the spawner thread blocks every signal, so
//!    nothing can run a handler of the parent in the child until dispositions are
//!    reset; then the mask is emptied (children inherit the forking thread's mask).
//! 2. stdio: the transport and stderr onto fds 0, 1, 2.
//! 3. `setsid`, then `PR_SET_PDEATHSIG` and the check that the parent still lives.
//! 4. `chdir`, then the process-wide hook, then the per-spawn hooks.
//! 5. every other descriptor close-on-exec, then `execve`.
//!
//! A failure is written as a [`FailureReport`] into the report pipe, which is
//! close-on-exec: the parent reads either a report or EOF (exec succeeded).

use std::ffi::CStr;
use std::io;
use std::os::fd::RawFd;
use std::panic::{self, AssertUnwindSafe};

use super::close_fds::mark_inherited_fds_cloexec;
use super::options::PreExecHook;

/// Signals whose *ignored* disposition is put back to the default. A child that
/// ignores SIGPIPE (Rust programs do) never dies on a closed pipe; one that ignores
/// SIGCHLD cannot wait for its own children (subprocess breaks); one that ignores
/// SIGTERM cannot be terminated. SIGHUP/SIGINT/SIGQUIT stay ignored when the user
/// made them so (nohup, background jobs): that choice is meant to cover the tree.
const RESET_WHEN_IGNORED: [libc::c_int; 3] = [libc::SIGPIPE, libc::SIGCHLD, libc::SIGTERM];

/// The exit code of a child that failed before exec (its status is never shown: the
/// parent reaps it and reports the [`FailureReport`] instead).
const SETUP_FAILED_EXIT_CODE: libc::c_int = 127;

/// Which step failed, as sent through the report pipe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub(crate) enum FailedStep {
    Signals = 1,
    Stdio = 2,
    NewSession = 3,
    ParentDeathSignal = 4,
    WorkingDirectory = 5,
    ProcessHook = 6,
    Hook = 7,
    Exec = 8,
}

impl FailedStep {
    fn from_raw(raw: u32) -> Option<Self> {
        [
            Self::Signals,
            Self::Stdio,
            Self::NewSession,
            Self::ParentDeathSignal,
            Self::WorkingDirectory,
            Self::ProcessHook,
            Self::Hook,
            Self::Exec,
        ]
        .into_iter()
        .find(|step| *step as u32 == raw)
    }
}

/// `errno` value sent when a hook returned an error without an OS error code.
pub(crate) const ERRNO_NOT_AN_OS_ERROR: i32 = 0;
/// `errno` value sent when a hook panicked.
pub(crate) const ERRNO_HOOK_PANICKED: i32 = -1;

/// What the child sends when a step fails: 12 bytes, native endian (same machine).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FailureReport {
    pub(crate) step: FailedStep,
    /// The hook index for [`FailedStep::Hook`], otherwise 0.
    pub(crate) detail: u32,
    pub(crate) errno: i32,
}

impl FailureReport {
    pub(crate) const SIZE: usize = 12;

    fn new(step: FailedStep, errno: i32) -> Self {
        Self {
            step,
            detail: 0,
            errno,
        }
    }

    fn to_bytes(self) -> [u8; Self::SIZE] {
        let mut bytes = [0; Self::SIZE];
        bytes[0..4].copy_from_slice(&(self.step as u32).to_ne_bytes());
        bytes[4..8].copy_from_slice(&self.detail.to_ne_bytes());
        bytes[8..12].copy_from_slice(&self.errno.to_ne_bytes());
        bytes
    }

    pub(crate) fn from_bytes(bytes: [u8; Self::SIZE]) -> Option<Self> {
        let word = |range: std::ops::Range<usize>| {
            let mut raw = [0; 4];
            raw.copy_from_slice(&bytes[range]);
            raw
        };
        Some(Self {
            step: FailedStep::from_raw(u32::from_ne_bytes(word(0..4)))?,
            detail: u32::from_ne_bytes(word(4..8)),
            errno: i32::from_ne_bytes(word(8..12)),
        })
    }
}

/// Everything the child reads, prepared by the parent before `fork`.
pub(crate) struct ChildPlan<'a> {
    pub(crate) program: &'a CStr,
    /// NULL-terminated array of pointers into live `CString`s.
    pub(crate) argv: *const *const libc::c_char,
    /// NULL-terminated array of pointers into live `CString`s.
    pub(crate) envp: *const *const libc::c_char,
    pub(crate) stdin: RawFd,
    pub(crate) stdout: RawFd,
    /// `-1`: keep the inherited fd 2.
    pub(crate) stderr: RawFd,
    pub(crate) cwd: Option<&'a CStr>,
    pub(crate) new_session: bool,
    pub(crate) parent_death_signal: Option<libc::c_int>,
    /// `getpid()` of the parent, compared with `getppid()` after `PR_SET_PDEATHSIG`.
    pub(crate) parent_pid: libc::pid_t,
    /// `SIGRTMAX()`, read in the parent.
    pub(crate) highest_signal: libc::c_int,
    pub(crate) process_hook: Option<&'a PreExecHook>,
    pub(crate) hooks: &'a [PreExecHook],
    pub(crate) fd_limit: RawFd,
    /// Write end of the close-on-exec report pipe.
    pub(crate) report: RawFd,
}

/// Runs in the forked child: sets it up and execs, or reports the failure and exits.
///
/// # Safety
/// Call only in a freshly forked child, with a plan whose pointers stay valid (the
/// parent's memory, copied by fork).
pub(crate) unsafe fn run_child(plan: &ChildPlan<'_>) -> ! {
    // Hook panics are caught where hooks are called; this guard is the last line
    // that keeps any other unwinding from returning into the spawner's loop, where
    // the child would carry on as a second spawner.
    let _exit_on_unwind = ExitOnUnwind;
    // On 0–2 (possible when the parent runs with those closed) the report pipe would
    // be overwritten by the stdio set-up, or kept open across exec as stderr.
    let Ok(report_fd) = move_above_stdio(plan.report) else {
        // SAFETY: _exit is async-signal-safe.
        unsafe { libc::_exit(SETUP_FAILED_EXIT_CODE) }
    };
    let report = set_up_and_exec(plan);
    send_report(report_fd, report);
    // SAFETY: _exit is async-signal-safe and skips atexit handlers and stdio buffers
    // that belong to the parent.
    unsafe { libc::_exit(SETUP_FAILED_EXIT_CODE) }
}

/// Ends the child if it is dropped, which only happens while unwinding.
struct ExitOnUnwind;

impl Drop for ExitOnUnwind {
    fn drop(&mut self) {
        // SAFETY: _exit is async-signal-safe.
        unsafe { libc::_exit(SETUP_FAILED_EXIT_CODE) }
    }
}

/// Returns only on failure (a successful `execve` does not return).
fn set_up_and_exec(plan: &ChildPlan<'_>) -> FailureReport {
    match set_up(plan) {
        Ok(()) => {}
        Err(report) => return report,
    }
    // SAFETY: program, argv and envp are NUL-terminated and point into CStrings kept
    // alive by the parent's copy of the plan, which fork duplicated.
    unsafe { libc::execve(plan.program.as_ptr(), plan.argv, plan.envp) };
    FailureReport::new(FailedStep::Exec, last_errno())
}

fn set_up(plan: &ChildPlan<'_>) -> Result<(), FailureReport> {
    let fail = |step| move |errno| FailureReport::new(step, errno);
    reset_signals(plan.highest_signal).map_err(fail(FailedStep::Signals))?;
    install_stdio(plan).map_err(fail(FailedStep::Stdio))?;
    if plan.new_session {
        // SAFETY: setsid has no memory effects.
        check(unsafe { libc::setsid() }).map_err(fail(FailedStep::NewSession))?;
    }
    if let Some(signal) = plan.parent_death_signal {
        arm_parent_death_signal(signal, plan.parent_pid)
            .map_err(fail(FailedStep::ParentDeathSignal))?;
    }
    if let Some(dir) = plan.cwd {
        // SAFETY: `dir` is a valid C string.
        check(unsafe { libc::chdir(dir.as_ptr()) }).map_err(fail(FailedStep::WorkingDirectory))?;
    }
    if let Some(hook) = plan.process_hook {
        call_hook(hook).map_err(fail(FailedStep::ProcessHook))?;
    }
    for (index, hook) in plan.hooks.iter().enumerate() {
        call_hook(hook).map_err(|errno| FailureReport {
            step: FailedStep::Hook,
            detail: u32::try_from(index).unwrap_or(u32::MAX),
            errno,
        })?;
    }
    mark_inherited_fds_cloexec(3, plan.fd_limit);
    Ok(())
}

/// Handlers installed by the parent go back to the default (exec would do that, but
/// only at exec: until then a handler would run the parent's code in the child), as
/// do the ignored signals in [`RESET_WHEN_IGNORED`]. Then the mask is emptied.
fn reset_signals(highest_signal: libc::c_int) -> Result<(), i32> {
    for signal in 1..=highest_signal {
        if signal == libc::SIGKILL || signal == libc::SIGSTOP {
            continue;
        }
        // SAFETY: sigaction is plain data; all-zero is a valid value to be filled in.
        let mut current: libc::sigaction = unsafe { std::mem::zeroed() };
        // SAFETY: querying with a NULL new action only writes `current`. Numbers the
        // C library reserves for itself fail with EINVAL and are skipped.
        if unsafe { libc::sigaction(signal, std::ptr::null(), &mut current) } != 0 {
            continue;
        }
        let handled =
            current.sa_sigaction != libc::SIG_DFL && current.sa_sigaction != libc::SIG_IGN;
        let ignored_but_matters =
            current.sa_sigaction == libc::SIG_IGN && RESET_WHEN_IGNORED.contains(&signal);
        if handled || ignored_but_matters {
            set_default_disposition(signal)?;
        }
    }
    // SAFETY: sigemptyset/sigprocmask operate on the local set only.
    unsafe {
        let mut empty: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut empty);
        check(libc::sigprocmask(
            libc::SIG_SETMASK,
            &empty,
            std::ptr::null_mut(),
        ))?;
    }
    Ok(())
}

fn set_default_disposition(signal: libc::c_int) -> Result<(), i32> {
    // SAFETY: a zeroed sigaction with an emptied mask and SIG_DFL is a valid action.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = libc::SIG_DFL;
        libc::sigemptyset(&mut action.sa_mask);
        check(libc::sigaction(signal, &action, std::ptr::null_mut()))?;
    }
    Ok(())
}

/// Puts the sources on fds 0, 1 and 2. Sources below 3 (possible when the parent
/// itself runs with some of 0–2 closed) are first moved up, so that one `dup2`
/// cannot overwrite another source.
fn install_stdio(plan: &ChildPlan<'_>) -> Result<(), i32> {
    let stdin = move_above_stdio(plan.stdin)?;
    let stdout = move_above_stdio(plan.stdout)?;
    let stderr = if plan.stderr >= 0 {
        Some(move_above_stdio(plan.stderr)?)
    } else {
        None
    };
    duplicate_onto(stdin, libc::STDIN_FILENO)?;
    duplicate_onto(stdout, libc::STDOUT_FILENO)?;
    match stderr {
        Some(fd) => duplicate_onto(fd, libc::STDERR_FILENO),
        None => keep_inherited_stderr(),
    }
}

/// The parent's fd 2 survives exec even if it was close-on-exec; if it was closed,
/// the child gets /dev/null rather than a free slot 2 (where the next file the
/// program opens would land and receive its error messages).
fn keep_inherited_stderr() -> Result<(), i32> {
    // SAFETY: fcntl/open/dup2/close on integers and a literal path.
    unsafe {
        let flags = libc::fcntl(libc::STDERR_FILENO, libc::F_GETFD);
        if flags >= 0 {
            if flags & libc::FD_CLOEXEC != 0 {
                check(libc::fcntl(
                    libc::STDERR_FILENO,
                    libc::F_SETFD,
                    flags & !libc::FD_CLOEXEC,
                ))?;
            }
            return Ok(());
        }
        let null = check(libc::open(c"/dev/null".as_ptr(), libc::O_RDWR))?;
        if null != libc::STDERR_FILENO {
            duplicate_onto(null, libc::STDERR_FILENO)?;
            libc::close(null);
        }
    }
    Ok(())
}

/// Moves `fd` to a close-on-exec number of 3 or above when it is one of 0–2 (the
/// low number is closed, so it cannot survive as a stray stdio descriptor); returns
/// `fd` itself otherwise.
fn move_above_stdio(fd: RawFd) -> Result<RawFd, i32> {
    if fd > libc::STDERR_FILENO {
        return Ok(fd);
    }
    // SAFETY: fcntl(F_DUPFD_CLOEXEC) and close have no memory effects.
    unsafe {
        let moved = check(libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3))?;
        libc::close(fd);
        Ok(moved)
    }
}

/// `dup2`, which also clears close-on-exec on the target.
fn duplicate_onto(source: RawFd, target: RawFd) -> Result<(), i32> {
    loop {
        // SAFETY: dup2 has no memory effects.
        match check(unsafe { libc::dup2(source, target) }) {
            Ok(_) => return Ok(()),
            Err(libc::EINTR | libc::EBUSY) => continue,
            Err(errno) => return Err(errno),
        }
    }
}

/// `PR_SET_PDEATHSIG` only covers deaths after the call: if the parent died between
/// `fork` and here, the child has already been re-parented and would live on as an
/// orphan. Then it leaves at once (nobody is left to read a report).
fn arm_parent_death_signal(signal: libc::c_int, parent_pid: libc::pid_t) -> Result<(), i32> {
    let signal = libc::c_ulong::try_from(signal).map_err(|_| libc::EINVAL)?;
    // SAFETY: prctl(PR_SET_PDEATHSIG) takes integers only.
    check(unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, signal, 0, 0, 0) })?;
    // SAFETY: getppid has no memory effects.
    if unsafe { libc::getppid() } != parent_pid {
        // SAFETY: _exit is async-signal-safe.
        unsafe { libc::_exit(SETUP_FAILED_EXIT_CODE) };
    }
    Ok(())
}

/// Runs one hook. Only the OS error code can be reported; any other error value and
/// a panic payload are leaked rather than freed (freeing may take malloc's lock).
fn call_hook(hook: &PreExecHook) -> Result<(), i32> {
    match panic::catch_unwind(AssertUnwindSafe(|| hook())) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => {
            let errno = error.raw_os_error().unwrap_or(ERRNO_NOT_AN_OS_ERROR);
            std::mem::forget(error);
            Err(errno)
        }
        Err(payload) => {
            std::mem::forget(payload);
            Err(ERRNO_HOOK_PANICKED)
        }
    }
}

fn send_report(report_fd: RawFd, report: FailureReport) {
    let bytes = report.to_bytes();
    loop {
        // SAFETY: `bytes` is a live buffer of the length passed. A write this small to
        // a pipe is atomic (PIPE_BUF), so there is no partial write to resume.
        let written = unsafe { libc::write(report_fd, bytes.as_ptr().cast(), bytes.len()) };
        if written >= 0 || last_errno() != libc::EINTR {
            return;
        }
    }
}

/// `-1` into the current errno, as an `Err(errno)`.
fn check(result: libc::c_int) -> Result<libc::c_int, i32> {
    if result == -1 {
        Err(last_errno())
    } else {
        Ok(result)
    }
}

fn last_errno() -> i32 {
    io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EINVAL)
}
