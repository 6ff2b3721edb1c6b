//! Why the launcher could not start the app, said the way a user can act on it,
//! with an exit status that tells the cases apart from the app's own.

use std::fmt;
use std::path::PathBuf;

use pyfleet_startup::StartupError;
use pyfleet_startup::discovery::DiscoveryError;

use crate::choose::PYTHON_OVERRIDE_VAR;
use crate::open::OpenError;

/// Exit status when the pack cannot run (damaged, unsupported settings): the
/// shell's "found but cannot execute".
pub const EXIT_CANNOT_RUN: u8 = 126;
/// Exit status when no interpreter fits: the shell's "command not found".
pub const EXIT_NO_INTERPRETER: u8 = 127;

/// A failure before the app started.
#[derive(Debug)]
pub enum LaunchError {
    /// The launcher cannot find its own file.
    OwnPath(std::io::Error),
    /// The file is not an intact pack.
    Open(OpenError),
    /// No interpreter fits.
    NoInterpreter(DiscoveryError),
    /// The chosen interpreter cannot take the pack's start-up settings.
    Startup {
        /// The interpreter.
        interpreter: PathBuf,
        /// What it lacks.
        error: StartupError,
    },
    /// The pack asks for something a pack cannot do.
    Unsupported(String),
    /// Working directory, umask or a resource limit could not be applied.
    FirstStage(String),
    /// The interpreter could not be executed.
    Exec {
        /// The interpreter.
        program: PathBuf,
        /// Bytes of its arguments, for the "too long" case.
        argument_bytes: usize,
        /// Why.
        error: std::io::Error,
    },
}

impl LaunchError {
    /// The exit status for this failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            LaunchError::NoInterpreter(_) => EXIT_NO_INTERPRETER,
            LaunchError::Exec { error, .. } if error.kind() == std::io::ErrorKind::NotFound => {
                EXIT_NO_INTERPRETER
            }
            _ => EXIT_CANNOT_RUN,
        }
    }
}

impl fmt::Display for LaunchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LaunchError::OwnPath(error) => {
                write!(
                    f,
                    "cannot find the launcher's own file (/proc/self/exe): {error}"
                )
            }
            LaunchError::Open(error) => write!(
                f,
                "refusing to run this file: {error}. Nothing was run; make it again with `pyfleet pack`, or copy it again"
            ),
            LaunchError::NoInterpreter(error) => write!(
                f,
                "{error}\nTo run it with another interpreter, set {PYTHON_OVERRIDE_VAR} to its path or version."
            ),
            LaunchError::Startup { interpreter, error } => write!(
                f,
                "{} cannot be started the way this app asks: {error}. Set {PYTHON_OVERRIDE_VAR} to another interpreter, or make the app again with other start-up settings",
                interpreter.display()
            ),
            LaunchError::Unsupported(what) => write!(f, "cannot run this app: {what}"),
            LaunchError::FirstStage(what) => {
                write!(f, "cannot prepare the interpreter's start: {what}")
            }
            LaunchError::Exec {
                program,
                argument_bytes,
                error,
            } if error.raw_os_error() == Some(nix::libc::E2BIG) => write!(
                f,
                "cannot start {}: the command line ({argument_bytes} bytes of arguments) and environment are too long for the system (E2BIG); pass fewer or shorter arguments",
                program.display()
            ),
            LaunchError::Exec { program, error, .. } => write!(
                f,
                "cannot start {}: {error}. Set {PYTHON_OVERRIDE_VAR} to a working interpreter",
                program.display()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_overlong_command_line_is_named_as_such() {
        let error = LaunchError::Exec {
            program: "/usr/bin/python3".into(),
            argument_bytes: 3_000_000,
            error: std::io::Error::from_raw_os_error(nix::libc::E2BIG),
        };
        let message = error.to_string();
        assert!(
            message.contains("too long for the system (E2BIG)"),
            "{message}"
        );
        assert!(message.contains("3000000 bytes"), "{message}");
        assert_eq!(error.exit_code(), EXIT_CANNOT_RUN);
        let missing = LaunchError::Exec {
            program: "/gone/python3".into(),
            argument_bytes: 10,
            error: std::io::Error::from(std::io::ErrorKind::NotFound),
        };
        assert_eq!(missing.exit_code(), EXIT_NO_INTERPRETER);
    }
}
