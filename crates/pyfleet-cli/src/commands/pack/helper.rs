//! Running build_helper.py with the target interpreter: its facts, the entry
//! point check, and bytecode compiled in place.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::PackError;
use super::bounded::{RunError, run_bounded};
use super::entry::EntryPoint;

/// The helper's source, run with `-s -S` by the target interpreter.
const HELPER: &str = include_str!("build_helper.py");

/// Bound on compiling (a large app on a slow machine takes seconds).
const BOUND: Duration = Duration::from_secs(600);

/// How modules are compiled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompileMode {
    /// PEP 552 unchecked-hash bytecode beside each source (3.7+).
    Unchecked,
    /// Timestamp bytecode; the sources are then left out (before 3.7).
    Timestamp,
}

/// What the helper reported.
#[derive(Debug, Clone, Default)]
pub struct HelperReport {
    /// `sys.implementation.name`.
    pub implementation: String,
    /// `sys.version_info[:3]` as text.
    pub version: String,
    /// `sys.implementation.cache_tag`.
    pub cache_tag: String,
    /// Archive paths of the sources compiled.
    pub compiled: Vec<String>,
    /// (archive path, message) of sources this interpreter cannot compile.
    pub failed: Vec<(String, String)>,
}

/// Checks `entry` and compiles everything under `staging` with `python`.
pub fn compile(
    python: &Path,
    staging: &Path,
    entry: &EntryPoint,
    mode: CompileMode,
    optimize: u8,
) -> Result<HelperReport, PackError> {
    let script = staging
        .parent()
        .expect("the staging directory has a parent")
        .join("build_helper.py");
    std::fs::write(&script, HELPER)
        .map_err(|error| PackError::io(format!("{}: {error}", script.display())))?;
    let mut command = Command::new(python);
    command
        .args(["-s", "-S"])
        .arg(&script)
        .arg(staging)
        .arg(entry.text())
        .arg(match mode {
            CompileMode::Unchecked => "unchecked",
            CompileMode::Timestamp => "timestamp",
        })
        .arg(optimize.to_string())
        .env_clear()
        .envs(std::env::vars_os().filter(|(key, _)| !key.as_encoded_bytes().starts_with(b"PYTHON")))
        // Compiled frozenset constants follow string hashes: a fixed seed keeps
        // the bytecode the same from one pack to the next.
        .env("PYTHONHASHSEED", "0")
        .env("PYTHONDONTWRITEBYTECODE", "1");
    let finished = run_bounded(command, BOUND).map_err(|error| match error {
        RunError::Spawn(error) => {
            PackError::interpreter(format!("cannot run {}: {error}", python.display()))
        }
        RunError::TimedOut(after) => PackError::interpreter(format!(
            "compiling the app with {} did not finish within {} s",
            python.display(),
            after.as_secs()
        )),
    })?;
    let report = parse(&finished.stdout, entry)?;
    if !finished.status.success() || !finished.stdout.lines().any(|line| line == "done") {
        return Err(PackError::interpreter(format!(
            "compiling the app with {} failed ({}): {}",
            python.display(),
            finished.status,
            finished.stderr.trim()
        )));
    }
    Ok(report)
}

fn parse(output: &str, entry: &EntryPoint) -> Result<HelperReport, PackError> {
    let mut report = HelperReport::default();
    for line in output.lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        match fields.as_slice() {
            ["fact", "implementation", value] => report.implementation = value.to_string(),
            ["fact", "version", value] => report.version = value.to_string(),
            ["fact", "cache_tag", value] => report.cache_tag = value.to_string(),
            ["compiled", path] => report.compiled.push(path.to_string()),
            ["failed", path, message] => {
                report.failed.push((path.to_string(), message.to_string()))
            }
            ["entry", "ok"] => {}
            ["entry", "missing-module", module] => {
                return Err(PackError::usage(format!(
                    "entry point {}: the app has no module {module:?} (looked for {0}.py and \
                     {0}/__init__.py in SRC and the installed dependencies)",
                    module.replace('.', "/"),
                )));
            }
            ["entry", "missing-function", file, name] => {
                return Err(PackError::usage(format!(
                    "entry point {}: {file} defines no {name:?} at its top level (no def, class, \
                     assignment or import of that name)",
                    entry.text()
                )));
            }
            ["entry", "syntax-error", file, message] => {
                return Err(PackError::usage(format!(
                    "entry point {}: {file} does not compile: {message}",
                    entry.text()
                )));
            }
            _ => {}
        }
    }
    Ok(report)
}
