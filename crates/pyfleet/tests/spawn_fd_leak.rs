//! The parent keeps no descriptor from finished children. In its own test binary:
//! it counts this process's descriptors, which other tests would disturb.

#[path = "support/spawn_util.rs"]
mod spawn_util;

use std::time::{Duration, Instant};

use pyfleet::spawn::{SpawnOptions, StderrMode, Transport, spawn, spawn_blocking_caller};
use spawn_util::{LIMIT, open_fds, within};

const CYCLES: usize = 200;

fn options(cycle: usize) -> SpawnOptions {
    let transport = if cycle.is_multiple_of(2) {
        Transport::Pipes
    } else {
        Transport::SocketPair
    };
    let stderr = [StderrMode::Pipe, StderrMode::Null, StderrMode::Inherit][cycle % 3];
    SpawnOptions::new("/bin/true")
        .transport(transport)
        .stderr(stderr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_spawn_wait_cycles_leave_no_descriptor_behind() {
    // Warm up: the spawner thread, the runtime's reactor and lazily opened files.
    let warm_up = spawn(options(0)).await.expect("spawn");
    within("warm-up exit", warm_up.process.wait()).await;
    let before = open_fds();

    for cycle in 0..CYCLES {
        let spawned = if cycle % 10 == 9 {
            spawn_blocking_caller(options(cycle)).expect("spawn")
        } else {
            spawn(options(cycle)).await.expect("spawn")
        };
        assert!(within("child exit", spawned.process.wait()).await.success());
    }
    // Exec failures must not leak either.
    for _ in 0..20 {
        spawn(SpawnOptions::new("/nonexistent/python"))
            .await
            .expect_err("missing program");
    }

    // A reaper task may still hold its pidfd for a moment after wait() returned.
    let start = Instant::now();
    loop {
        let after = open_fds();
        if after == before {
            break;
        }
        assert!(
            start.elapsed() < LIMIT,
            "descriptors leaked: before {before:?}, after {after:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
