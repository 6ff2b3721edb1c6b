//! What the caller hears when a program cannot be started.

#[path = "support/spawn_util.rs"]
mod spawn_util;

use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;

use pyfleet::messages::{INTERPRETER_NOT_FOUND, INTERPRETER_NOT_FOUND_HINT};
use pyfleet::spawn::{ChildSetupStep, SpawnError, SpawnOptions, spawn, spawn_blocking_caller};

fn write_file(path: &Path, contents: &[u8], mode: u32) {
    std::fs::write(path, contents).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

async fn spawn_error(options: SpawnOptions) -> SpawnError {
    spawn(options).await.expect_err("the spawn must fail")
}

fn not_executable_reason(error: &SpawnError) -> &str {
    match error {
        SpawnError::NotExecutable { reason, .. } => reason,
        other => panic!("expected NotExecutable, got {other:?}"),
    }
}

#[tokio::test]
async fn a_missing_program_is_interpreter_not_found_with_the_canonical_text() {
    let path = "/nonexistent/bin/python3.99";
    let error = spawn_error(SpawnOptions::new(path)).await;
    assert!(matches!(&error, SpawnError::InterpreterNotFound { path: p } if p == Path::new(path)));
    assert_eq!(
        error.to_string(),
        format!("{INTERPRETER_NOT_FOUND}: {path}: {INTERPRETER_NOT_FOUND_HINT}")
    );

    let error = spawn_blocking_caller(SpawnOptions::new("/etc/passwd/python")).unwrap_err();
    assert!(
        matches!(error, SpawnError::InterpreterNotFound { .. }),
        "ENOTDIR: {error:?}"
    );
}

#[tokio::test]
async fn files_the_kernel_will_not_run_are_not_executable_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();

    let error = spawn_error(SpawnOptions::new(dir.path())).await;
    assert_eq!(not_executable_reason(&error), "it is a directory");
    assert!(error.to_string().starts_with("cannot execute "), "{error}");

    let plain = dir.path().join("plain.py");
    write_file(&plain, b"#!/bin/sh\necho hi\n", 0o644);
    let error = spawn_error(SpawnOptions::new(&plain)).await;
    let reason = not_executable_reason(&error);
    assert!(
        reason.contains("without execute permission (mode 0644)"),
        "{reason}"
    );
    assert!(reason.contains("chmod +x"), "{reason}");

    // execvp would hand this to /bin/sh; execve refuses it.
    let text = dir.path().join("no-shebang");
    write_file(&text, b"echo this must not run as shell\n", 0o755);
    let reason = not_executable_reason(&spawn_error(SpawnOptions::new(&text)).await).to_owned();
    assert!(reason.contains("text file without a #! line"), "{reason}");

    let empty = dir.path().join("empty");
    write_file(&empty, b"", 0o755);
    let reason = not_executable_reason(&spawn_error(SpawnOptions::new(&empty)).await).to_owned();
    assert_eq!(reason, "it is an empty file");

    let missing_interpreter = dir.path().join("needs-missing");
    write_file(
        &missing_interpreter,
        b"#!/opt/nowhere/python -u\npass\n",
        0o755,
    );
    let error = spawn_error(SpawnOptions::new(&missing_interpreter)).await;
    let reason = not_executable_reason(&error);
    assert!(
        reason.contains("/opt/nowhere/python, which does not exist"),
        "{reason}"
    );

    let crlf = dir.path().join("crlf");
    write_file(&crlf, b"#!/bin/sh\r\necho hi\r\n", 0o755);
    let reason = not_executable_reason(&spawn_error(SpawnOptions::new(&crlf)).await).to_owned();
    assert!(reason.contains("carriage return"), "{reason}");

    let fifo = dir.path().join("fifo");
    let c_fifo = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo with a valid path.
    assert_eq!(unsafe { libc::mkfifo(c_fifo.as_ptr(), 0o755) }, 0);
    let reason = not_executable_reason(&spawn_error(SpawnOptions::new(&fifo)).await).to_owned();
    assert!(reason.contains("a FIFO"), "{reason}");
}

#[tokio::test]
async fn a_relative_program_is_judged_relative_to_the_childs_cwd() {
    let dir = tempfile::tempdir().unwrap();
    write_file(&dir.path().join("script"), b"just text\n", 0o755);
    let error = spawn_error(SpawnOptions::new("./script").cwd(dir.path())).await;
    assert!(
        not_executable_reason(&error).contains("text file"),
        "{error}"
    );
}

#[tokio::test]
async fn a_missing_working_directory_is_reported_as_such() {
    let error = spawn_error(SpawnOptions::new("/bin/true").cwd("/nonexistent/dir")).await;
    match &error {
        SpawnError::ChildSetup {
            step: ChildSetupStep::WorkingDirectory(dir),
            source,
        } => {
            assert_eq!(dir, Path::new("/nonexistent/dir"));
            assert_eq!(source.kind(), io::ErrorKind::NotFound);
        }
        other => panic!("{other:?}"),
    }
    assert!(
        error
            .to_string()
            .starts_with("changing to the working directory /nonexistent/dir failed"),
        "{error}"
    );
}

#[tokio::test]
async fn options_that_cannot_reach_execve_are_refused_before_forking() {
    for options in [
        SpawnOptions::new("/bin/echo").arg("nul\0byte"),
        SpawnOptions::new("/bin/echo").env("A=B", "x"),
        SpawnOptions::new("/bin/echo").env("", "x"),
        SpawnOptions::new(""),
    ] {
        let error = spawn_error(options).await;
        assert!(
            matches!(error, SpawnError::InvalidOptions { .. }),
            "{error:?}"
        );
    }
}

#[tokio::test]
async fn hook_errors_reach_the_caller() {
    let fine: pyfleet::spawn::PreExecHook = Arc::new(|| Ok(()));
    let refuses: pyfleet::spawn::PreExecHook =
        Arc::new(|| Err(io::Error::from_raw_os_error(libc::EPERM)));
    let error = spawn_error(
        SpawnOptions::new("/bin/true")
            .pre_exec(fine.clone())
            .pre_exec(refuses),
    )
    .await;
    match &error {
        SpawnError::ChildSetup {
            step: ChildSetupStep::Hook(1),
            source,
        } => assert_eq!(source.raw_os_error(), Some(libc::EPERM)),
        other => panic!("{other:?}"),
    }
    assert!(
        error
            .to_string()
            .starts_with("the pre-exec hook at index 1 failed in the child before exec"),
        "{error}"
    );

    // A custom error cannot cross the fork; the message says so.
    let custom: pyfleet::spawn::PreExecHook = Arc::new(|| Err(io::Error::other("no")));
    let error = spawn_error(SpawnOptions::new("/bin/true").pre_exec(custom)).await;
    assert!(
        error.to_string().contains("without an OS error code"),
        "{error}"
    );
}
