//! The Python interpreters on this machine, for tests that run on every one.
//!
//! Absolute paths only: `python3` on PATH may be a pyenv shim (a bash script that
//! adds 50-250 ms per start). An interpreter that is not installed is skipped with
//! a note on stderr; when PYFLEET_REQUIRE_INTERPRETERS lists paths (CI sets it to
//! what its set-up installs), a missing one fails the test instead.
#![allow(dead_code)]

use std::path::PathBuf;

/// Debian's interpreter: always used where one interpreter suffices.
pub const SYSTEM_PYTHON: &str = "/usr/bin/python3.11";

const PYENV_VERSIONS: &[&str] = &[
    "2.7.18", "3.6.15", "3.7.16", "3.8.18", "3.9.18", "3.10.13", "3.11.7", "3.12.1", "3.13.0",
];

const OTHERS: &[&str] = &["/usr/bin/python3.11", "/usr/bin/pypy3"];

/// Where pyenv keeps its builds (PYENV_ROOT, else ~/.pyenv).
fn pyenv_root() -> PathBuf {
    std::env::var_os("PYENV_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| "/root".into())).join(".pyenv")
        })
}

/// Every known interpreter that exists here.
pub fn interpreters() -> Vec<PathBuf> {
    let root = pyenv_root();
    let candidates = PYENV_VERSIONS
        .iter()
        .map(|v| root.join("versions").join(v).join("bin/python"))
        .chain(OTHERS.iter().map(PathBuf::from));
    let required: Vec<PathBuf> = std::env::var("PYFLEET_REQUIRE_INTERPRETERS")
        .map(|list| {
            list.split(':')
                .filter(|s| !s.is_empty())
                .map(PathBuf::from)
                .collect()
        })
        .unwrap_or_default();
    let mut found = Vec::new();
    for candidate in candidates {
        if candidate.exists() {
            found.push(candidate);
        } else if required.contains(&candidate) {
            panic!(
                "{} is required (PYFLEET_REQUIRE_INTERPRETERS) but missing",
                candidate.display()
            );
        } else {
            eprintln!(
                "note: skipping {} (not installed here)",
                candidate.display()
            );
        }
    }
    for path in required {
        assert!(
            path.exists(),
            "{} is required (PYFLEET_REQUIRE_INTERPRETERS) but missing",
            path.display()
        );
        if !found.contains(&path) {
            found.push(path);
        }
    }
    assert!(!found.is_empty(), "no Python interpreter found at all");
    found
}
