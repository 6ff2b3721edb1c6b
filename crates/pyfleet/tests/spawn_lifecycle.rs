//! Waiting, signalling and reaping.

#[path = "support/spawn_util.rs"]
mod spawn_util;

use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;
use std::time::Duration;

use pyfleet::spawn::{
    ExitStatus, PreExecHook, Signal, SpawnOptions, Spawned, spawn, spawn_blocking_caller,
};
use spawn_util::{PYTHON, eventually, eventually_async, proc_entry_gone, within, within_blocking};

async fn sleeper() -> Spawned {
    spawn(SpawnOptions::new("/bin/sleep").arg("100"))
        .await
        .expect("spawn sleep")
}

fn no_core_dumps() -> PreExecHook {
    Arc::new(|| {
        let zero = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: setrlimit reads a live rlimit.
        if unsafe { libc::setrlimit(libc::RLIMIT_CORE, &zero) } == 0 {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error())
        }
    })
}

#[tokio::test]
async fn exit_statuses_and_their_names() {
    let spawned = spawn(SpawnOptions::new("/bin/sh").args(["-c", "exit 3"]))
        .await
        .unwrap();
    let status = within("exit 3", spawned.process.wait()).await;
    assert_eq!(status, ExitStatus::Code(3));
    assert_eq!(status.to_string(), "exited with code 3");

    let child = sleeper().await;
    child.process.terminate().unwrap();
    let status = within("SIGTERM", child.process.wait()).await;
    assert_eq!(status.to_string(), "killed by SIGTERM");

    let child = sleeper().await;
    child.process.kill().unwrap();
    let status = within("SIGKILL", child.process.wait()).await;
    assert_eq!(
        status,
        ExitStatus::Signal {
            signal: libc::SIGKILL,
            core_dumped: false
        }
    );
    assert_eq!(status.to_string(), "killed by SIGKILL");

    // Real-time signals, which nix's Signal and WaitStatus cannot represent.
    let script = "import os, signal; os.kill(os.getpid(), signal.SIGRTMIN + 3)";
    let spawned = spawn(SpawnOptions::new(PYTHON).args(["-I", "-S", "-c", script]))
        .await
        .unwrap();
    let status = within("SIGRTMIN+3", spawned.process.wait()).await;
    assert_eq!(status.signal(), Some(libc::SIGRTMIN() + 3));
    assert_eq!(status.to_string(), "killed by SIGRTMIN+3");

    let child = sleeper().await;
    child.process.signal_number(libc::SIGRTMAX()).unwrap();
    let status = within("SIGRTMAX", child.process.wait()).await;
    assert_eq!(status.to_string(), "killed by SIGRTMAX");

    let spawned = spawn(
        SpawnOptions::new("/bin/sh")
            .args(["-c", "kill -SEGV $$"])
            .pre_exec(no_core_dumps()),
    )
    .await
    .unwrap();
    let status = within("SIGSEGV", spawned.process.wait()).await;
    assert_eq!(status.to_string(), "killed by SIGSEGV");
}

#[tokio::test]
async fn try_status_and_wait_timeout() {
    let child = sleeper().await;
    assert_eq!(child.process.try_status(), None);
    assert_eq!(
        child.process.wait_timeout(Duration::from_millis(100)).await,
        None
    );
    child.process.signal(Signal::SIGKILL).unwrap();
    let status = child
        .process
        .wait_timeout(Duration::from_secs(10))
        .await
        .expect("exited after SIGKILL");
    assert_eq!(status.signal(), Some(libc::SIGKILL));
    assert_eq!(child.process.try_status(), Some(status));
}

#[tokio::test]
async fn a_waited_child_leaves_no_zombie_and_signals_after_reaping_are_no_ops() {
    let child = sleeper().await;
    let pid = child.pid;
    child.process.terminate().unwrap();
    within("sleep exit", child.process.wait()).await;
    assert!(
        proc_entry_gone(pid),
        "/proc/{pid} must be gone after wait()"
    );
    child.process.kill().unwrap();
    child.process.signal_number(libc::SIGUSR1).unwrap();
    assert_eq!(
        child.process.try_status().and_then(|s| s.signal()),
        Some(libc::SIGTERM)
    );
}

#[tokio::test]
async fn a_child_nobody_waits_for_is_reaped_anyway() {
    let spawned = spawn(SpawnOptions::new("/bin/true")).await.unwrap();
    let pid = spawned.pid;
    drop(spawned);
    eventually_async("the reaper to collect an unwatched child", || {
        proc_entry_gone(pid)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clones_wait_together() {
    let child = sleeper().await;
    let waiters: Vec<_> = (0..4)
        .map(|_| {
            let process = child.process.clone();
            tokio::spawn(async move { process.wait().await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(50)).await;
    child.process.kill().unwrap();
    for waiter in waiters {
        let status = within("a clone's wait", waiter).await.unwrap();
        assert_eq!(status.signal(), Some(libc::SIGKILL));
    }
}

/// PR_SET_PDEATHSIG follows the thread that forked. Children are forked on the
/// spawner thread, so the end of the thread that asked changes nothing.
#[tokio::test]
async fn a_child_outlives_the_thread_that_asked_for_it() {
    let spawned = std::thread::spawn(|| {
        spawn_blocking_caller(SpawnOptions::new("/bin/sleep").arg("100")).expect("spawn sleep")
    })
    .join()
    .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        spawned.process.try_status(),
        None,
        "killed with its caller thread"
    );
    spawned.process.kill().unwrap();
    within("sleep exit", spawned.process.wait()).await;
}

#[test]
fn synchronous_callers_outside_a_runtime() {
    let spawned = spawn_blocking_caller(SpawnOptions::new("/bin/sh").args(["-c", "exit 7"]))
        .expect("spawn sh");
    let process = spawned.process.clone();
    let status = within_blocking("sh exit", move || process.wait_blocking());
    assert_eq!(status, ExitStatus::Code(7));
    assert!(proc_entry_gone(spawned.pid));

    // Reaped by the thread reaper even when nobody waits.
    let spawned = spawn_blocking_caller(SpawnOptions::new("/bin/true")).expect("spawn true");
    let pid = spawned.pid;
    drop(spawned);
    eventually("the reaper thread", || proc_entry_gone(pid));
}

#[test]
fn a_runtime_that_shuts_down_hands_its_children_to_a_reaper_thread() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let spawned = runtime.block_on(async {
        spawn(SpawnOptions::new("/bin/sleep").arg("0.3"))
            .await
            .expect("spawn sleep")
    });
    drop(runtime);
    assert_eq!(spawned.process.try_status(), None);
    let pid = spawned.pid;
    eventually("the hand-over reaper", || proc_entry_gone(pid));
    assert_eq!(spawned.process.try_status(), Some(ExitStatus::Code(0)));
}

/// A spawn whose future is dropped after the fork must not leave the child behind.
#[tokio::test]
async fn cancelling_a_spawn_kills_the_child() {
    let (read_end, write_end) = std::io::pipe().unwrap();
    let write_fd = write_end.as_raw_fd();
    // Tells the test the pid of the child, from inside the child.
    let report_pid: PreExecHook = Arc::new(move || {
        // SAFETY: getpid has no memory effects; async-signal-safe.
        let pid = unsafe { libc::getpid() };
        // SAFETY: a 4-byte write from a live local; async-signal-safe.
        unsafe { libc::write(write_fd, (&raw const pid).cast(), 4) };
        Ok(())
    });
    // Keeps the spawn from completing within the first poll.
    let linger: PreExecHook = Arc::new(|| {
        let pause = libc::timespec {
            tv_sec: 0,
            tv_nsec: 100_000_000,
        };
        // SAFETY: nanosleep reads a live timespec; async-signal-safe.
        unsafe { libc::nanosleep(&pause, std::ptr::null_mut()) };
        Ok(())
    });
    let options = SpawnOptions::new("/bin/sleep")
        .arg("100")
        .pre_exec(report_pid)
        .pre_exec(linger);
    // The first poll submits the request; the zero timeout then drops the future.
    let outcome = tokio::time::timeout(Duration::ZERO, spawn(options)).await;
    assert!(outcome.is_err(), "the spawn finished within its first poll");
    drop(write_end);

    let mut pid_bytes = [0u8; 4];
    let mut reader = std::fs::File::from(OwnedFd::from(read_end));
    std::io::Read::read_exact(&mut reader, &mut pid_bytes).expect("the child ran its hook");
    let pid = u32::from_ne_bytes(pid_bytes);
    eventually_async("the abandoned child to be killed and reaped", || {
        proc_entry_gone(pid)
    })
    .await;
}
