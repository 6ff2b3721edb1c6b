//! What to start and how.

use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use nix::sys::signal::Signal;

use super::transport::Transport;

/// Code run in the forked child just before `execve`.
///
/// Hooks run in a copy of this process that has only one thread, while other
/// threads of the original may have held locks at the moment of the fork. A hook
/// must therefore be async-signal-safe: plain system calls only, no allocation, no
/// locks, no `println!`, no logging, and it must not panic (a panic aborts the child).
/// Prepare everything it needs (buffers, C strings, sets) before spawning and
/// capture it in the closure. The ready-made hooks in [`hooks`](super::hooks) follow
/// these rules.
///
/// Return `Err(std::io::Error::last_os_error())` (or another OS error) to abort the
/// spawn: the caller gets [`SpawnError::ChildSetup`](super::SpawnError::ChildSetup)
/// with that error. Only the OS error code crosses from the child to the parent.
pub type PreExecHook = Arc<dyn Fn() -> std::io::Result<()> + Send + Sync>;

/// Where the child's stderr (fd 2) goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StderrMode {
    /// A new pipe; the parent gets its non-blocking, close-on-exec read end in
    /// [`Spawned::stderr`](super::Spawned::stderr). Read it: a child blocks once the
    /// pipe is full.
    Pipe,
    /// The parent's own fd 2.
    #[default]
    Inherit,
    /// `/dev/null`.
    Null,
}

/// Everything needed to start one child process.
///
/// Fields are public; the methods are shortcuts for building one in a chain:
///
/// ```
/// use pyfleet::spawn::{SpawnOptions, StderrMode};
/// let options = SpawnOptions::new("/usr/bin/python3.11")
///     .args(["-I", "-S", "-c", "import os; os.write(1, b'hi')"])
///     .env("LANG", "C.UTF-8")
///     .stderr(StderrMode::Pipe);
/// assert_eq!(options.args.len(), 4);
/// ```
#[derive(Clone)]
pub struct SpawnOptions {
    /// The program to execute. A path containing `/` is executed as it is (relative
    /// to [`cwd`](Self::cwd) when relative); a bare name is looked up in the `PATH`
    /// of [`env`](Self::env) (or `/usr/bin:/bin` when that has none). `execve` is used,
    /// never `execvp`: a file without a `#!` line is refused rather than handed to
    /// `/bin/sh`.
    pub program: PathBuf,
    /// Arguments after `argv[0]` (which is `program` as given).
    pub args: Vec<OsString>,
    /// The complete environment of the child. The parent's environment is NOT
    /// inherited: whatever the child needs (`PATH`, `HOME`, `LANG`, …) must be here.
    pub env: Vec<(OsString, OsString)>,
    /// The working directory of the child; the parent's when `None`.
    pub cwd: Option<PathBuf>,
    /// How fds 0 and 1 of the child connect to the parent.
    pub transport: Transport,
    /// Where fd 2 of the child goes.
    pub stderr: StderrMode,
    /// Make the child a session leader (and process group leader) with `setsid()`.
    /// Needed to give it a controlling terminal, and to signal its whole group.
    pub new_session: bool,
    /// The signal the child gets when this process dies (`PR_SET_PDEATHSIG`);
    /// `Some(SIGKILL)` by default. The kernel clears it when the child executes a
    /// set-user-ID or set-group-ID program (sudo, su, doas), so those need another
    /// way to notice the parent's death (EOF on stdin).
    pub parent_death_signal: Option<Signal>,
    /// Hooks run in the child before exec, in order, after the process-wide hook
    /// (see [`set_process_pre_exec_hook`](super::set_process_pre_exec_hook)).
    pub pre_exec: Vec<PreExecHook>,
}

impl SpawnOptions {
    /// Options to run `program` with no arguments, an empty environment, the
    /// default transport, inherited stderr and `SIGKILL` on parent death.
    pub fn new(program: impl Into<PathBuf>) -> Self {
        Self {
            program: program.into(),
            args: Vec::new(),
            env: Vec::new(),
            cwd: None,
            transport: Transport::Auto,
            stderr: StderrMode::Inherit,
            new_session: false,
            parent_death_signal: Some(Signal::SIGKILL),
            pre_exec: Vec::new(),
        }
    }

    /// Appends one argument.
    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Appends several arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets one environment variable, replacing an earlier value for the same name
    /// (so the child never sees a name twice).
    pub fn env(mut self, name: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        let (name, value) = (name.into(), value.into());
        match self.env.iter_mut().find(|(existing, _)| *existing == name) {
            Some(entry) => entry.1 = value,
            None => self.env.push((name, value)),
        }
        self
    }

    /// Sets several environment variables, as [`env`](Self::env) does.
    pub fn envs<I, K, V>(self, vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<OsString>,
        V: Into<OsString>,
    {
        vars.into_iter()
            .fold(self, |options, (name, value)| options.env(name, value))
    }

    /// Sets the working directory.
    pub fn cwd(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cwd = Some(dir.into());
        self
    }

    /// Sets the transport.
    pub fn transport(mut self, transport: Transport) -> Self {
        self.transport = transport;
        self
    }

    /// Sets where stderr goes.
    pub fn stderr(mut self, mode: StderrMode) -> Self {
        self.stderr = mode;
        self
    }

    /// Makes the child a session leader.
    pub fn new_session(mut self, new_session: bool) -> Self {
        self.new_session = new_session;
        self
    }

    /// Sets (or with `None`, disables) the parent death signal.
    pub fn parent_death_signal(mut self, signal: Option<Signal>) -> Self {
        self.parent_death_signal = signal;
        self
    }

    /// Appends a pre-exec hook.
    pub fn pre_exec(mut self, hook: PreExecHook) -> Self {
        self.pre_exec.push(hook);
        self
    }
}

impl fmt::Debug for SpawnOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpawnOptions")
            .field("program", &self.program)
            .field("args", &self.args)
            .field("env", &self.env)
            .field("cwd", &self.cwd)
            .field("transport", &self.transport)
            .field("stderr", &self.stderr)
            .field("new_session", &self.new_session)
            .field("parent_death_signal", &self.parent_death_signal)
            .field(
                "pre_exec",
                &format_args!("[{} hook(s)]", self.pre_exec.len()),
            )
            .finish()
    }
}
