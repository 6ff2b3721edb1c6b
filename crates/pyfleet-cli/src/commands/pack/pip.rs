//! Installing dependencies (and a project) with the target interpreter's own pip,
//! into a directory that becomes part of the archive.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::PackError;
use super::bounded::{RunError, run_bounded};

/// What to install.
#[derive(Debug, Clone, Default)]
pub struct Install {
    /// Requirement files (`-r`).
    pub requirement_files: Vec<PathBuf>,
    /// A project directory to install with its dependencies.
    pub project: Option<PathBuf>,
}

impl Install {
    /// True if there is nothing to install.
    pub fn is_empty(&self) -> bool {
        self.requirement_files.is_empty() && self.project.is_none()
    }
}

/// Runs `python -m pip install --target TARGET ...` for `install`, within `bound`.
/// pip sees this process's environment less PYTHON* variables (which configure
/// pyfleet's caller, not the target); its own PIP_* settings (index, proxy) apply.
pub fn install(
    python: &Path,
    install: &Install,
    target: &Path,
    bound: Duration,
) -> Result<(), PackError> {
    let mut command = Command::new(python);
    command
        .args(["-s", "-m", "pip", "install", "--target"])
        .arg(target)
        .args([
            "--no-compile",
            "--disable-pip-version-check",
            "--no-input",
            "--no-warn-script-location",
            "--progress-bar",
            "off",
        ]);
    for file in &install.requirement_files {
        command.arg("-r").arg(file);
    }
    if let Some(project) = &install.project {
        command.arg(project);
    }
    command.env_clear().envs(environment());
    let finished = run_bounded(command, bound).map_err(|error| match error {
        RunError::Spawn(error) => PackError::interpreter(format!(
            "cannot run {} to install the dependencies: {error}",
            python.display()
        )),
        RunError::TimedOut(after) => PackError::interpreter(format!(
            "installing the dependencies with pip did not finish within {} s and was stopped; \
             raise --pip-timeout, or check the network and the package index",
            after.as_secs()
        )),
    })?;
    if finished.status.success() {
        return Ok(());
    }
    if finished.stderr.contains("No module named pip") {
        return Err(PackError::interpreter(format!(
            "{} has no pip, which installs the app's dependencies: install it (`{} -m ensurepip`, \
             or the distribution's pip package), or choose another interpreter with --python",
            python.display(),
            python.display()
        )));
    }
    Err(PackError::interpreter(format!(
        "installing the dependencies with {} -m pip failed ({}):\n{}",
        python.display(),
        finished.status,
        last_lines(&format!("{}{}", finished.stdout, finished.stderr), 25)
    )))
}

fn environment() -> Vec<(OsString, OsString)> {
    let mut env: Vec<(OsString, OsString)> = std::env::vars_os()
        .filter(|(key, _)| !key.as_encoded_bytes().starts_with(b"PYTHON"))
        .collect();
    env.push(("PYTHONDONTWRITEBYTECODE".into(), "1".into()));
    env.push(("PIP_NO_INPUT".into(), "1".into()));
    env
}

fn last_lines(text: &str, count: usize) -> String {
    let lines: Vec<&str> = text.trim_end().lines().collect();
    lines[lines.len().saturating_sub(count)..].join("\n")
}
