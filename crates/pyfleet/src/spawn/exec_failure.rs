//! Turning a child's failure report into an error that says what is wrong.
//!
//! `execve` answers with a bare errno; the same `ENOENT` means "no such program", "its
//! `#!` interpreter is missing" or "the file has Windows line endings". The parent
//! looks at the file to tell which, after the fact (the file could have changed in
//! between, which only affects the wording).

use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::child_setup::{ERRNO_HOOK_PANICKED, ERRNO_NOT_AN_OS_ERROR, FailedStep, FailureReport};
use super::error::{ChildSetupStep, SpawnError};

/// How much of the file is read to recognise its format.
const HEADER_LEN: usize = 256;

/// What the parent knows about the spawn, for messages.
pub(crate) struct FailureContext<'a> {
    /// The program as given.
    pub(crate) program_given: &'a Path,
    /// The path passed to `execve`.
    pub(crate) program_path: &'a Path,
    pub(crate) cwd: Option<&'a Path>,
}

impl FailureContext<'_> {
    /// The file `execve` looked at: relative paths are relative to the child's cwd.
    fn effective_path(&self) -> PathBuf {
        match self.cwd {
            Some(dir) if self.program_path.is_relative() => dir.join(self.program_path),
            _ => self.program_path.to_owned(),
        }
    }
}

pub(crate) fn spawn_error(report: FailureReport, context: &FailureContext<'_>) -> SpawnError {
    let step = match report.step {
        FailedStep::Exec => return exec_error(report.errno, context),
        FailedStep::Signals => ChildSetupStep::Signals,
        FailedStep::Stdio => ChildSetupStep::Stdio,
        FailedStep::NewSession => ChildSetupStep::NewSession,
        FailedStep::ParentDeathSignal => ChildSetupStep::ParentDeathSignal,
        FailedStep::WorkingDirectory => {
            ChildSetupStep::WorkingDirectory(context.cwd.map(Path::to_owned).unwrap_or_default())
        }
        FailedStep::ProcessHook => ChildSetupStep::ProcessHook,
        FailedStep::Hook => ChildSetupStep::Hook(report.detail as usize),
    };
    let source = match report.errno {
        ERRNO_NOT_AN_OS_ERROR => io::Error::other(
            "the hook returned an error without an OS error code, and only OS error \
             codes can be passed from the forked child; return an io::Error made from \
             an errno",
        ),
        ERRNO_HOOK_PANICKED => io::Error::other(
            "the hook panicked; hooks must not panic (they run in a forked child where \
             only async-signal-safe calls are allowed)",
        ),
        errno => io::Error::from_raw_os_error(errno),
    };
    SpawnError::ChildSetup { step, source }
}

fn exec_error(errno: i32, context: &FailureContext<'_>) -> SpawnError {
    let path = context.effective_path();
    let not_executable = |reason: String| SpawnError::NotExecutable {
        path: context.program_given.to_owned(),
        reason,
    };
    match errno {
        libc::ENOENT | libc::ENOTDIR if fs::metadata(&path).is_err() => {
            SpawnError::InterpreterNotFound {
                path: context.program_given.to_owned(),
            }
        }
        libc::ENOENT => not_executable(missing_loader_reason(&path)),
        libc::EACCES => not_executable(permission_reason(&path)),
        libc::ENOEXEC | libc::ELIBBAD => not_executable(format_reason(&path)),
        libc::ELOOP => not_executable("too many levels of symbolic links (a loop?)".to_owned()),
        _ => SpawnError::Exec {
            path: context.program_given.to_owned(),
            source: io::Error::from_raw_os_error(errno),
        },
    }
}

/// The file exists, yet `execve` said ENOENT: what it needs to start is missing.
fn missing_loader_reason(path: &Path) -> String {
    let header = read_header(path);
    if let Some(interpreter) = shebang_interpreter(&header) {
        if interpreter.ends_with('\r') {
            return "its #! line ends with a carriage return (the file has Windows line \
                    endings); convert it, for example with dos2unix"
                .to_owned();
        }
        return format!("its #! line names the interpreter {interpreter}, which does not exist");
    }
    if header.starts_with(b"\x7fELF") {
        return "it is a dynamically linked program whose loader (ELF interpreter) does not \
                exist here; was it built for another system or C library?"
            .to_owned();
    }
    "execve reported ENOENT although the file exists".to_owned()
}

/// EACCES: say what the file is and which permission is missing.
fn permission_reason(path: &Path) -> String {
    let metadata = match fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(error) => {
            return format!(
                "permission denied, and it cannot be inspected ({error}); is a directory \
                 on its path not searchable?"
            );
        }
    };
    let file_type = metadata.file_type();
    if file_type.is_dir() {
        return "it is a directory".to_owned();
    }
    if !file_type.is_file() {
        return format!(
            "it is not a regular file but {}",
            describe_special(&file_type)
        );
    }
    let mode = metadata.permissions().mode() & 0o7777;
    if mode & 0o111 == 0 {
        return format!(
            "it is a regular file without execute permission (mode {mode:04o}); make it \
             executable (chmod +x) or run it through its interpreter"
        );
    }
    if let Some(interpreter) = shebang_interpreter(&read_header(path)) {
        return format!(
            "permission denied, probably for its #! interpreter {interpreter} (mode \
             {mode:04o} of the file itself allows execution)"
        );
    }
    format!(
        "permission denied although its mode is {mode:04o}: its file system may be mounted \
         noexec, a directory on its path may not be searchable, or a security policy \
         forbids it"
    )
}

/// ENOEXEC: the kernel does not recognise the format.
fn format_reason(path: &Path) -> String {
    let header = read_header(path);
    if header.is_empty() {
        "it is an empty file".to_owned()
    } else if header.starts_with(b"\x7fELF") {
        "it is an ELF binary this machine cannot run (built for another architecture?)".to_owned()
    } else if header.starts_with(b"#!") {
        "the kernel rejected its #! line (longer than the kernel accepts, or a chain of \
         scripts that is too deep?)"
            .to_owned()
    } else if !header.contains(&0) {
        "it is a text file without a #! line; add one (for example #!/bin/sh) or run it \
         through its interpreter"
            .to_owned()
    } else {
        "it is not in a format this system can execute".to_owned()
    }
}

fn describe_special(file_type: &fs::FileType) -> &'static str {
    if file_type.is_fifo() {
        "a FIFO"
    } else if file_type.is_socket() {
        "a socket"
    } else if file_type.is_char_device() {
        "a character device"
    } else if file_type.is_block_device() {
        "a block device"
    } else {
        "a special file"
    }
}

/// The first bytes of the file; empty when it cannot be read.
fn read_header(path: &Path) -> Vec<u8> {
    let mut header = Vec::with_capacity(HEADER_LEN);
    if let Ok(file) = fs::File::open(path) {
        let _ = file.take(HEADER_LEN as u64).read_to_end(&mut header);
    }
    header
}

/// The interpreter named by a `#!` line, if the header has one.
fn shebang_interpreter(header: &[u8]) -> Option<String> {
    let line = header.strip_prefix(b"#!")?;
    let line = line.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let interpreter = line
        .trim_start_matches([' ', '\t'])
        .split([' ', '\t'])
        .next()?;
    (!interpreter.is_empty()).then(|| interpreter.to_owned())
}
