//! Turning [`SpawnOptions`] into what `execve` and the child need.
//!
//! All allocation happens here, in the caller's thread, before the request reaches
//! the spawner: after `fork` the child may not allocate.

use std::ffi::{CString, OsStr, OsString};
use std::os::fd::{AsFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::close_fds::fallback_fd_limit;
use super::error::SpawnError;
use super::fds;
use super::hooks::process_pre_exec_hook;
use super::options::{PreExecHook, SpawnOptions, StderrMode};
use super::transport::{Channel, Transport};

/// Searched for a bare program name when the child's environment has no `PATH`
/// (glibc's `execvp` default, minus the current directory).
const DEFAULT_SEARCH_PATH: &str = "/usr/bin:/bin";

/// Everything the spawner thread needs to fork and exec one child.
pub(crate) struct ExecPlan {
    /// The program as the caller gave it, for messages.
    pub(crate) program_given: PathBuf,
    /// The path handed to `execve` (after the `PATH` search).
    pub(crate) program_path: PathBuf,
    pub(crate) program: CString,
    pub(crate) argv: Vec<CString>,
    pub(crate) envp: Vec<CString>,
    pub(crate) cwd: Option<(PathBuf, CString)>,
    pub(crate) child_stdin: OwnedFd,
    pub(crate) child_stdout: OwnedFd,
    /// `None`: the child keeps the parent's fd 2.
    pub(crate) child_stderr: Option<OwnedFd>,
    pub(crate) new_session: bool,
    pub(crate) parent_death_signal: Option<libc::c_int>,
    pub(crate) process_hook: Option<PreExecHook>,
    pub(crate) hooks: Vec<PreExecHook>,
    /// Upper bound for the close-on-exec fallback loop, read before forking.
    pub(crate) fd_limit: RawFd,
}

/// The parent's ends, kept by the caller while the spawner works.
pub(crate) struct ParentEnds {
    pub(crate) transport: Transport,
    pub(crate) to_child: OwnedFd,
    pub(crate) from_child: OwnedFd,
    pub(crate) stderr: Option<OwnedFd>,
}

/// Validates `options`, resolves the program, and creates the descriptors.
pub(crate) fn prepare(options: SpawnOptions) -> Result<(ExecPlan, ParentEnds), SpawnError> {
    let SpawnOptions {
        program,
        args,
        env,
        cwd,
        transport,
        stderr,
        new_session,
        parent_death_signal,
        pre_exec,
    } = options;

    let program_path = resolve_program(&program, &env)?;
    let program_c = c_string(program_path.as_os_str(), || "the program path".to_owned())?;
    let mut argv = Vec::with_capacity(args.len() + 1);
    argv.push(c_string(program.as_os_str(), || {
        "the program path".to_owned()
    })?);
    for (index, arg) in args.iter().enumerate() {
        argv.push(c_string(arg, || format!("argument {index}"))?);
    }
    let envp = env
        .iter()
        .map(|(name, value)| environment_entry(name, value))
        .collect::<Result<Vec<_>, _>>()?;
    let cwd = cwd
        .map(|dir| {
            let c_dir = c_string(dir.as_os_str(), || "the working directory".to_owned())?;
            Ok::<_, SpawnError>((dir, c_dir))
        })
        .transpose()?;

    let channel = Channel::open(transport)?;
    let (child_stderr, parent_stderr) = stderr_descriptors(stderr)?;

    let plan = ExecPlan {
        program_given: program,
        program_path,
        program: program_c,
        argv,
        envp,
        cwd,
        child_stdin: channel.child_stdin,
        child_stdout: channel.child_stdout,
        child_stderr,
        new_session,
        parent_death_signal: parent_death_signal.map(|signal| signal as libc::c_int),
        process_hook: process_pre_exec_hook(),
        hooks: pre_exec,
        fd_limit: fallback_fd_limit(),
    };
    let ends = ParentEnds {
        transport: channel.transport,
        to_child: channel.to_child,
        from_child: channel.from_child,
        stderr: parent_stderr,
    };
    Ok((plan, ends))
}

/// `(child's fd 2 source, parent's read end)`.
fn stderr_descriptors(mode: StderrMode) -> Result<(Option<OwnedFd>, Option<OwnedFd>), SpawnError> {
    match mode {
        StderrMode::Inherit => Ok((None, None)),
        StderrMode::Null => {
            let null = fds::open_dev_null().map_err(|e| SpawnError::io("opening /dev/null", e))?;
            Ok((Some(null), None))
        }
        StderrMode::Pipe => {
            let (read_end, write_end) =
                fds::pipe().map_err(|e| SpawnError::io("creating the stderr pipe", e))?;
            fds::set_nonblocking(read_end.as_fd())
                .map_err(|e| SpawnError::io("making the stderr pipe non-blocking", e))?;
            Ok((Some(write_end), Some(read_end)))
        }
    }
}

/// A path with a `/` is used as it is. A bare name is searched in the `PATH` the
/// child will get, like `execvp` does, because that is what the child's own shell
/// would find; relative `PATH` entries are skipped (they would depend on the cwd).
fn resolve_program(program: &Path, env: &[(OsString, OsString)]) -> Result<PathBuf, SpawnError> {
    let bytes = program.as_os_str().as_bytes();
    if bytes.is_empty() {
        return Err(SpawnError::invalid("the program path is empty"));
    }
    if bytes.contains(&b'/') {
        return Ok(program.to_owned());
    }
    let search_path = env
        .iter()
        .find(|(name, _)| name == "PATH")
        .map_or(OsStr::new(DEFAULT_SEARCH_PATH), |(_, value)| {
            value.as_os_str()
        });
    search_path
        .as_bytes()
        .split(|&b| b == b':')
        .filter(|dir| dir.starts_with(b"/"))
        .map(|dir| Path::new(OsStr::from_bytes(dir)).join(program))
        .find(|candidate| is_executable_file(candidate))
        .ok_or_else(|| SpawnError::InterpreterNotFound {
            path: program.to_owned(),
        })
}

fn is_executable_file(path: &Path) -> bool {
    let Ok(c_path) = CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: `c_path` is a valid NUL-terminated string.
    let executable = unsafe { libc::access(c_path.as_ptr(), libc::X_OK) } == 0;
    executable && path.is_file()
}

fn environment_entry(name: &OsStr, value: &OsStr) -> Result<CString, SpawnError> {
    let name_bytes = name.as_bytes();
    if name_bytes.is_empty() || name_bytes.contains(&b'=') {
        return Err(SpawnError::invalid(format!(
            "environment variable name {name:?} must be non-empty and must not contain '='"
        )));
    }
    let mut entry = Vec::with_capacity(name_bytes.len() + 1 + value.len());
    entry.extend_from_slice(name_bytes);
    entry.push(b'=');
    entry.extend_from_slice(value.as_bytes());
    CString::new(entry).map_err(|_| {
        SpawnError::invalid(format!("environment variable {name:?} contains a NUL byte"))
    })
}

/// `what` names the value in the error; built only when there is one.
fn c_string(value: &OsStr, what: impl FnOnce() -> String) -> Result<CString, SpawnError> {
    CString::new(value.as_bytes())
        .map_err(|_| SpawnError::invalid(format!("{} contains a NUL byte: {value:?}", what())))
}
