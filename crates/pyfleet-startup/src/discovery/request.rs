//! From what a user typed (`--python PATH`, `--python-version SPEC`, or an
//! override in the environment) to one interpreter.

use std::ffi::OsStr;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use super::disk_cache;
use super::error::DiscoveryError;
use super::interpreter::Interpreter;
use super::local::{LocalDiscovery, is_command_name};
use super::outcome::{Discovery, ShimMapping};
use crate::constraint::{ConstraintParseError, VersionConstraint};

/// What a user asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InterpreterRequest {
    /// A path (it contains a `/`): that file, which must answer the probe. A pyenv
    /// shim is mapped to its binary, never run.
    Path(PathBuf),
    /// A version constraint: the preferred match among all interpreters found.
    Constraint(VersionConstraint),
    /// A bare command name such as `python3`: the first on PATH, then as a path.
    Command(String),
}

impl InterpreterRequest {
    /// Reads `spec`: a path if it contains `/`; else a version constraint if it
    /// reads as one (`3.11`, `pypy`, `>=3.8`); else a command name when it looks
    /// like one (`python3`); else the constraint's error.
    pub fn parse(spec: &str) -> Result<InterpreterRequest, ConstraintParseError> {
        let spec_trimmed = spec.trim();
        if spec_trimmed.contains('/') {
            return Ok(InterpreterRequest::Path(PathBuf::from(spec_trimmed)));
        }
        match spec_trimmed.parse::<VersionConstraint>() {
            Ok(constraint) => Ok(InterpreterRequest::Constraint(constraint)),
            Err(_) if looks_like_command(spec_trimmed) => {
                Ok(InterpreterRequest::Command(spec_trimmed.to_string()))
            }
            Err(error) => Err(error),
        }
    }

    /// The path to examine alone for a path or command request (relative paths
    /// start at the probe's working directory); `None` for a constraint.
    pub fn path_to_examine(
        &self,
        probe: &LocalDiscovery,
    ) -> Result<Option<PathBuf>, DiscoveryError> {
        let path = match self {
            InterpreterRequest::Constraint(_) => return Ok(None),
            InterpreterRequest::Command(name) => probe
                .find_command(name)
                .ok_or_else(|| DiscoveryError::CommandNotFound { name: name.clone() })?,
            InterpreterRequest::Path(path) => path.clone(),
        };
        Ok(Some(if path.is_absolute() {
            path
        } else {
            probe.working_dir().join(path)
        }))
    }
}

impl FromStr for InterpreterRequest {
    type Err = ConstraintParseError;

    fn from_str(spec: &str) -> Result<InterpreterRequest, ConstraintParseError> {
        InterpreterRequest::parse(spec)
    }
}

impl fmt::Display for InterpreterRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InterpreterRequest::Path(path) => write!(f, "{}", path.display()),
            InterpreterRequest::Constraint(constraint) => write!(f, "{constraint}"),
            InterpreterRequest::Command(name) => f.write_str(name),
        }
    }
}

/// A program name people run Python by: `python3`, `python3.11`, `pypy3`,
/// `python2.7-dbg` … (letters first, then letters, digits, `.`, `-`, `_`).
fn looks_like_command(spec: &str) -> bool {
    is_command_name(OsStr::new(spec))
        && spec.starts_with(|c: char| c.is_ascii_alphabetic())
        && spec
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

/// The interpreter at `path` in a discovery that examined it, or why it cannot be
/// used (it did not answer, it is a shim for nothing installed …).
pub fn interpreter_at(discovery: &Discovery, path: &Path) -> Result<Interpreter, DiscoveryError> {
    if let Some(interpreter) = discovery.find_path(path) {
        return Ok(interpreter.clone());
    }
    let reason = |path: &Path| {
        discovery.skipped_at(path).map_or_else(
            || "it did not answer the probe".to_string(),
            |skipped| skipped.reason.to_string(),
        )
    };
    match discovery.shim(path) {
        Some(ShimMapping {
            target: Some(target),
            ..
        }) => Err(DiscoveryError::NotAnInterpreter {
            reason: format!(
                "it is a pyenv shim for {} ({})",
                target.display(),
                reason(target)
            ),
            path: path.to_path_buf(),
        }),
        Some(shim) => Err(DiscoveryError::UnresolvedShim {
            versions: shim.versions.join(":"),
            origin: shim.origin.clone(),
            shim: path.to_path_buf(),
        }),
        None => Err(DiscoveryError::NotAnInterpreter {
            reason: reason(path),
            path: path.to_path_buf(),
        }),
    }
}

/// Resolves `spec` (a path, a command name or a version constraint) with `probe`'s
/// settings through the disk cache in `cache_dir`, blocking. A path or command is
/// examined alone (no search of the machine); a constraint searches the machine
/// and picks by [`Discovery::find`].
pub fn resolve_interpreter_blocking(
    spec: &str,
    cache_dir: Option<&Path>,
    probe: &LocalDiscovery,
) -> Result<Interpreter, DiscoveryError> {
    let request = InterpreterRequest::parse(spec)?;
    match request.path_to_examine(probe)? {
        None => {
            let InterpreterRequest::Constraint(constraint) = request else {
                unreachable!("only a constraint has no path to examine");
            };
            let (discovery, _) = disk_cache::local_blocking(cache_dir, probe)?;
            discovery.best(&constraint).cloned()
        }
        Some(path) => {
            let only_this = probe.clone().explicit([path.clone()]).search(false);
            let (discovery, _) = disk_cache::local_blocking(cache_dir, &only_this)?;
            interpreter_at(&discovery, &path)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_are_told_apart() {
        let parse = |spec: &str| InterpreterRequest::parse(spec).unwrap();
        assert_eq!(
            parse("/usr/bin/python3"),
            InterpreterRequest::Path("/usr/bin/python3".into())
        );
        assert_eq!(
            parse("./venv/bin/python"),
            InterpreterRequest::Path("./venv/bin/python".into())
        );
        assert_eq!(
            parse("3.11"),
            InterpreterRequest::Constraint("3.11".parse().unwrap())
        );
        assert_eq!(
            parse(">=3.8,<3.12"),
            InterpreterRequest::Constraint(">=3.8,<3.12".parse().unwrap())
        );
        assert_eq!(
            parse("pypy3"),
            InterpreterRequest::Constraint("pypy3".parse().unwrap())
        );
        assert_eq!(
            parse("python3"),
            InterpreterRequest::Command("python3".into())
        );
        assert_eq!(
            parse("python3.11"),
            InterpreterRequest::Command("python3.11".into())
        );
        let error = InterpreterRequest::parse(">=3.x").unwrap_err();
        assert!(error.to_string().contains("\"3.x\" is not a version"));
        assert!(InterpreterRequest::parse("python 3").is_err());
        assert_eq!(parse("python3").to_string(), "python3");
        assert_eq!(parse("cpython>=3.10").to_string(), "cpython>=3.10");
    }

    #[test]
    fn a_missing_path_says_why() {
        let discovery = Discovery::default();
        let error = interpreter_at(&discovery, Path::new("/no/python")).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("/no/python is not a usable Python interpreter"),
            "{error}"
        );
    }
}
