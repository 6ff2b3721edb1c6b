//! Helpers for the `pyfleet pack` tests: packing with the real command, running
//! packs with a private cache, bounded.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use assert_cmd::Command;

/// Debian's interpreter.
pub const PYTHON: &str = "/usr/bin/python3.11";

/// `pyfleet` with a bound (pip may download).
pub fn pyfleet() -> Command {
    let mut cmd = Command::cargo_bin("pyfleet").unwrap();
    cmd.timeout(Duration::from_secs(600));
    cmd.env_remove("PYFLEET_LOG").env_remove("RUST_LOG");
    cmd
}

/// Packs `src` with extra `args`; panics with pyfleet's stderr on failure.
pub fn pack(src: &Path, entry: &str, output: &Path, args: &[&str]) {
    let result = pyfleet()
        .arg("pack")
        .arg(src)
        .args(["--entry", entry, "-o"])
        .arg(output)
        .args(args)
        .output()
        .unwrap();
    assert!(
        result.status.success(),
        "pyfleet pack failed: {}",
        String::from_utf8_lossy(&result.stderr)
    );
}

/// Packs and returns the failure's exit code and stderr.
pub fn pack_failure(src: &Path, entry: &str, output: &Path, args: &[&str]) -> (i32, String) {
    let result = pyfleet()
        .arg("pack")
        .arg(src)
        .args(["--entry", entry, "-o"])
        .arg(output)
        .args(args)
        .output()
        .unwrap();
    assert!(
        !result.status.success(),
        "pyfleet pack unexpectedly succeeded"
    );
    (
        result.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&result.stderr).into_owned(),
    )
}

/// Writes `files` (path, content) under `root`.
pub fn write_tree(root: &Path, files: &[(&str, &str)]) {
    for (name, body) in files {
        let path = root.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, body).unwrap();
    }
}

/// A command that runs `app` with `python` and a private cache root.
pub fn app_command(app: &Path, python: &Path, cache: &Path) -> Command {
    let mut cmd = Command::new(app);
    cmd.timeout(Duration::from_secs(120));
    cmd.env("PYFLEET_PACK_PYTHON", python)
        .env("XDG_CACHE_HOME", cache)
        .env_remove("PYFLEET_PACK_CACHE");
    cmd
}

/// Runs a command to its end.
pub fn output(mut command: Command) -> Output {
    command.output().unwrap()
}

/// Text of a stream.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A fresh directory for one test.
pub fn temp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// `dir/name`.
pub fn at(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}
