//! From what a user typed (`--python PATH` or `--python-version SPEC`) to one
//! interpreter.

use std::ffi::OsStr;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use super::cache::DiscoveryCache;
use super::error::DiscoveryError;
use super::interpreter::Interpreter;
use super::local::{LocalDiscovery, is_command_name};
use super::outcome::ShimMapping;
use crate::startup::constraint::{ConstraintParseError, VersionConstraint};

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

/// Resolves `spec` (a path, a command name or a version constraint) on this
/// machine, through the process-wide [`DiscoveryCache`].
pub async fn resolve_interpreter(spec: &str) -> Result<Interpreter, DiscoveryError> {
    resolve_interpreter_with(spec, DiscoveryCache::global(), &LocalDiscovery::new()).await
}

/// Resolves `spec` with `probe`'s settings (environment, directory, bounds) and
/// `cache`. A path or command is examined alone (no search of the machine); a
/// constraint searches the machine and picks by [`super::outcome::Discovery::find`].
pub async fn resolve_interpreter_with(
    spec: &str,
    cache: &DiscoveryCache,
    probe: &LocalDiscovery,
) -> Result<Interpreter, DiscoveryError> {
    let path = match InterpreterRequest::parse(spec)? {
        InterpreterRequest::Constraint(constraint) => {
            let found = cache.local(probe).await?;
            return found.discovery.best(&constraint).cloned();
        }
        InterpreterRequest::Command(name) => probe
            .find_command(&name)
            .ok_or(DiscoveryError::CommandNotFound { name })?,
        InterpreterRequest::Path(path) => path,
    };
    let path = if path.is_absolute() {
        path
    } else {
        probe.working_dir().join(path)
    };
    let only_this = probe.clone().explicit([path.clone()]).search(false);
    let found = cache.local(&only_this).await?;
    let discovery = &found.discovery;
    if let Some(interpreter) = discovery.find_path(&path) {
        return Ok(interpreter.clone());
    }
    let reason = |path: &Path| {
        discovery.skipped_at(path).map_or_else(
            || "it did not answer the probe".to_string(),
            |skipped| skipped.reason.to_string(),
        )
    };
    match discovery.shim(&path) {
        Some(ShimMapping {
            target: Some(target),
            ..
        }) => Err(DiscoveryError::NotAnInterpreter {
            reason: format!(
                "it is a pyenv shim for {} ({})",
                target.display(),
                reason(target)
            ),
            path,
        }),
        Some(shim) => Err(DiscoveryError::UnresolvedShim {
            versions: shim.versions.join(":"),
            origin: shim.origin.clone(),
            shim: path,
        }),
        None => Err(DiscoveryError::NotAnInterpreter {
            reason: reason(&path),
            path,
        }),
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
}
