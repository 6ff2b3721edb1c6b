//! The process-wide hook. In its own test binary: the hook applies to every spawn
//! of the process, so no other test may run beside it.

#[path = "support/spawn_util.rs"]
mod spawn_util;

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::Arc;

use pyfleet::spawn::{
    ChildSetupStep, PreExecHook, SpawnError, SpawnOptions, set_process_pre_exec_hook, spawn,
};
use spawn_util::within;

/// A hook that writes one byte into `fd` (a pipe the test reads afterwards).
fn marker(fd: RawFd, byte: u8) -> PreExecHook {
    Arc::new(move || {
        // SAFETY: writes one byte from a local into a live pipe; async-signal-safe.
        let written = unsafe { libc::write(fd, (&raw const byte).cast(), 1) };
        if written == 1 {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error())
        }
    })
}

fn pipe() -> (OwnedFd, OwnedFd) {
    let (read_end, write_end) = std::io::pipe().unwrap();
    (read_end.into(), write_end.into())
}

/// Everything the hooks wrote, once the write end is closed.
fn drain(read_end: OwnedFd) -> String {
    std::io::read_to_string(std::fs::File::from(read_end)).unwrap()
}

async fn spawn_and_collect(hooks_fd: RawFd) {
    let spawned = spawn(
        SpawnOptions::new("/bin/true")
            .pre_exec(marker(hooks_fd, b'1'))
            .pre_exec(marker(hooks_fd, b'2')),
    )
    .await
    .expect("spawn true");
    within("true exit", spawned.process.wait()).await;
}

#[tokio::test]
async fn the_process_hook_runs_first_and_can_be_removed() {
    let (read_end, write_end) = pipe();
    let fd = write_end.as_raw_fd();

    set_process_pre_exec_hook(Some(marker(fd, b'P')));
    spawn_and_collect(fd).await;
    set_process_pre_exec_hook(None);
    spawn_and_collect(fd).await;

    // A failing process hook is named as such.
    set_process_pre_exec_hook(Some(Arc::new(|| {
        Err(std::io::Error::from_raw_os_error(libc::EACCES))
    })));
    let error = spawn(SpawnOptions::new("/bin/true"))
        .await
        .expect_err("hook refuses");
    set_process_pre_exec_hook(None);
    assert!(
        matches!(&error, SpawnError::ChildSetup { step: ChildSetupStep::ProcessHook, source }
            if source.raw_os_error() == Some(libc::EACCES)),
        "{error:?}"
    );

    // A panicking hook fails the spawn instead of taking the spawner down; and
    // the spawner still works afterwards.
    let panics: PreExecHook = Arc::new(|| panic!("hook panic (expected by the test)"));
    let error = spawn(SpawnOptions::new("/bin/true").pre_exec(panics))
        .await
        .expect_err("hook panics");
    assert!(error.to_string().contains("the hook panicked"), "{error}");

    let after_panic = spawn(SpawnOptions::new("/bin/true"))
        .await
        .expect("spawner alive");
    assert!(
        within("true exit", after_panic.process.wait())
            .await
            .success()
    );

    drop(write_end);
    assert_eq!(drain(read_end), "P1212");
}
