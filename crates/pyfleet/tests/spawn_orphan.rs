//! Children die with the process that spawned them (PR_SET_PDEATHSIG).
//!
//! The test re-runs this test binary as a helper process: the helper spawns
//! `sleep 100` through the library, writes the pid to a file and waits to be killed.
//! The test SIGKILLs the helper and checks that the sleep is gone too.

#[path = "support/spawn_util.rs"]
mod spawn_util;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use pyfleet::spawn::{SpawnOptions, spawn};
use spawn_util::{eventually, is_gone, stat_fields, within_blocking};

/// Set in the helper's environment: where to write the pid of its child.
const PID_FILE_VAR: &str = "PYFLEET_ORPHAN_CHECK_PID_FILE";
const HELPER_TEST: &str = "orphan_check_helper";

/// Does nothing in a normal run; is the helper when the variable is set.
#[test]
fn orphan_check_helper() {
    let Some(pid_file) = std::env::var_os(PID_FILE_VAR).map(PathBuf::from) else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let spawned = spawn(SpawnOptions::new("/bin/sleep").arg("100"))
            .await
            .expect("helper: spawn sleep");
        let temporary = pid_file.with_extension("partial");
        std::fs::write(&temporary, spawned.pid.to_string()).unwrap();
        std::fs::rename(&temporary, &pid_file).unwrap();
        // Wait to be killed (bounded, in case the test is gone).
        tokio::time::sleep(Duration::from_secs(60)).await;
    });
}

#[test]
fn a_child_is_killed_when_its_spawning_process_dies() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("child.pid");
    let mut helper = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", HELPER_TEST, "--nocapture", "--test-threads=1"])
        .env(PID_FILE_VAR, &pid_file)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .expect("start the helper");

    eventually("the helper to report its child", || pid_file.exists());
    let pid: u32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let fields = stat_fields(pid).expect("the child runs");
    let start_time = fields[22].clone();
    assert_eq!(
        fields[4],
        helper.id().to_string(),
        "the helper is its parent"
    );

    helper.kill().unwrap();
    within_blocking("the killed helper", move || helper.wait().unwrap());

    // The child may linger briefly as a zombie of init; a different start time
    // means the pid was already reused by someone else.
    eventually("the orphan to die", || {
        is_gone(pid) || stat_fields(pid).is_some_and(|f| f[22] != start_time)
    });
}
