//! The child core's own unit tests (python/tests), run on every interpreter here.

#[path = "support/interpreters.rs"]
mod interpreters;

use std::path::Path;
use std::process::Command;

#[test]
fn core_unit_tests_pass_on_every_interpreter() {
    let python_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../python");
    let mut failures = Vec::new();
    for python in interpreters::interpreters() {
        let output = Command::new(&python)
            .args(["-B", "-m", "unittest", "discover", "-s", "tests", "-t", "."])
            .current_dir(&python_dir)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .output()
            .unwrap_or_else(|e| panic!("running {}: {e}", python.display()));
        let report = String::from_utf8_lossy(&output.stderr);
        if output.status.success() && report.contains("\nOK") {
            eprintln!(
                "{}: {}",
                python.display(),
                report.lines().find(|l| l.starts_with("Ran ")).unwrap_or("")
            );
        } else {
            failures.push(format!("{}:\n{report}", python.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "core unit tests failed:\n{}",
        failures.join("\n")
    );
}
