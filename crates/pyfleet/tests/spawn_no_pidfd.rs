//! Life without pidfds (kernels before 5.3, sandboxes whose seccomp policy refuses
//! pidfd_open): reaping falls back to a thread per child and signals go through
//! kill() under the child's lock.
//!
//! In its own test binary: it installs a seccomp filter on the whole process that
//! makes pidfd_open fail with ENOSYS, exactly as an old kernel would.

#[path = "support/spawn_util.rs"]
mod spawn_util;

use std::time::Duration;

use pyfleet::spawn::{ExitStatus, SpawnOptions, spawn, spawn_blocking_caller};
use spawn_util::{eventually, proc_entry_gone, within_blocking};

fn statement(code: u32, k: u32) -> libc::sock_filter {
    libc::sock_filter {
        code: code as u16,
        jt: 0,
        jf: 0,
        k,
    }
}

/// Every thread of this process (and its children) gets ENOSYS from pidfd_open.
fn refuse_pidfd_open() {
    let filter = [
        // Load the syscall number (offset 0 of struct seccomp_data).
        statement(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS, 0),
        libc::sock_filter {
            code: (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16,
            jt: 0,
            jf: 1,
            k: libc::SYS_pidfd_open as u32,
        },
        statement(
            libc::BPF_RET | libc::BPF_K,
            libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32,
        ),
        statement(libc::BPF_RET | libc::BPF_K, libc::SECCOMP_RET_ALLOW),
    ];
    let program = libc::sock_fprog {
        len: filter.len() as u16,
        filter: filter.as_ptr().cast_mut(),
    };
    // SAFETY: prctl with integers; seccomp reads the live program above.
    unsafe {
        assert_eq!(libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
        let result = libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            libc::SECCOMP_FILTER_FLAG_TSYNC,
            &program,
        );
        assert_eq!(result, 0, "seccomp: {}", std::io::Error::last_os_error());
    }
    // SAFETY: pidfd_open with integers.
    let probe = unsafe { libc::syscall(libc::SYS_pidfd_open, libc::getpid(), 0) };
    assert_eq!(probe, -1);
    assert_eq!(
        std::io::Error::last_os_error().raw_os_error(),
        Some(libc::ENOSYS)
    );
}

#[test]
fn everything_works_without_pidfds() {
    refuse_pidfd_open();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let child = spawn(SpawnOptions::new("/bin/sleep").arg("100"))
            .await
            .expect("spawn sleep");
        assert_eq!(child.process.try_status(), None);
        assert_eq!(
            child.process.wait_timeout(Duration::from_millis(50)).await,
            None
        );
        child.process.terminate().unwrap();
        let status = child
            .process
            .wait_timeout(spawn_util::LIMIT)
            .await
            .expect("sleep exits on SIGTERM");
        assert_eq!(status.to_string(), "killed by SIGTERM");
        assert!(proc_entry_gone(child.pid));
        // After reaping, kill() would risk a recycled pid: it must be a no-op.
        child.process.kill().unwrap();

        let unwatched = spawn(SpawnOptions::new("/bin/true")).await.unwrap();
        let pid = unwatched.pid;
        drop(unwatched);
        spawn_util::eventually_async("the reaper thread", || proc_entry_gone(pid)).await;
    });
    drop(runtime);

    let spawned = spawn_blocking_caller(SpawnOptions::new("/bin/sh").args(["-c", "exit 4"]))
        .expect("spawn sh");
    let process = spawned.process.clone();
    let status = within_blocking("sh exit", move || process.wait_blocking());
    assert_eq!(status, ExitStatus::Code(4));
    eventually("no zombie", || proc_entry_gone(spawned.pid));
}
