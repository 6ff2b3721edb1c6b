//! Spawning from a parent that runs with fds 0 and 2 closed (daemons, some service
//! managers). New descriptors then land on 0 and 2, where the child's stdio set-up
//! must neither overwrite them nor pass them on as stray stdio.
//!
//! The test re-runs this binary as a helper that closes its own 0 and 2 first.

#[path = "support/spawn_util.rs"]
mod spawn_util;

use std::process::{Command, Stdio};

use pyfleet::spawn::{SpawnError, SpawnOptions, StderrMode, Transport, spawn};
use spawn_util::{basic_env, output_of, take_ends, within, within_blocking};

const HELPER_VAR: &str = "PYFLEET_CLOSED_STDIO_HELPER";
const HELPER_TEST: &str = "closed_stdio_helper";

/// Does nothing in a normal run; is the helper when the variable is set.
#[tokio::test]
async fn closed_stdio_helper() {
    if std::env::var_os(HELPER_VAR).is_none() {
        return;
    }
    // SAFETY: closing this process's stdin and stderr, as the scenario requires.
    unsafe {
        libc::close(libc::STDIN_FILENO);
        libc::close(libc::STDERR_FILENO);
    }
    for transport in [Transport::Pipes, Transport::SocketPair] {
        let spawned = spawn(SpawnOptions::new("/bin/cat").transport(transport))
            .await
            .expect("spawn cat");
        let (mut ends, process) = take_ends(spawned);
        let to_child = ends.to_child.take().unwrap();
        within("write", to_child.write_all(b"round trip"))
            .await
            .unwrap();
        ends.to_child = Some(to_child);
        ends.close_input();
        let echoed = within("cat", ends.from_child.read_to_end()).await.unwrap();
        assert_eq!(echoed, b"round trip", "{transport:?}");
        assert!(within("cat exit", process.wait()).await.success());
    }

    // The exec report still arrives.
    let error = spawn(SpawnOptions::new("/nonexistent/python"))
        .await
        .expect_err("missing program");
    assert!(
        matches!(error, SpawnError::InterpreterNotFound { .. }),
        "{error:?}"
    );

    // An inherited stderr that is closed becomes /dev/null, not some other pipe.
    let spawned = spawn(
        SpawnOptions::new("/bin/sh")
            .args(["-c", "readlink /proc/self/fd/2"])
            .envs(basic_env())
            .stderr(StderrMode::Inherit),
    )
    .await
    .expect("spawn sh");
    let (stdout, status) = output_of(spawned).await;
    assert!(status.success());
    assert_eq!(stdout.trim(), "/dev/null");
}

#[test]
fn spawning_works_when_the_parent_has_stdin_and_stderr_closed() {
    let mut helper = Command::new(std::env::current_exe().unwrap());
    helper
        .args(["--exact", HELPER_TEST, "--test-threads=1"])
        .env(HELPER_VAR, "1")
        .stdin(Stdio::null())
        .stderr(Stdio::null());
    // The helper bounds its own waits; this bound is for the helper itself.
    let output = within_blocking("the helper", move || {
        helper.output().expect("run the helper")
    });
    assert!(
        output.status.success(),
        "helper failed:\n{}",
        String::from_utf8_lossy(&output.stdout)
    );
}
