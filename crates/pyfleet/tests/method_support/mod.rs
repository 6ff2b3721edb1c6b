//! Helpers for the method tests: acting as a test user, waiting for processes to
//! go, bounded waits. The test bed itself comes from `support/testbed.rs`.
#![allow(dead_code)]

use std::future::Future;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Upper bound for any single wait in these tests.
pub const LIMIT: Duration = Duration::from_secs(40);

/// Awaits `future`, failing the test after [`LIMIT`].
pub async fn within<F: Future>(what: &str, future: F) -> F::Output {
    match tokio::time::timeout(LIMIT, future).await {
        Ok(output) => output,
        Err(_) => panic!("timed out after {LIMIT:?} waiting for {what}"),
    }
}

/// A directory of small executables for one test; removed when dropped.
pub struct Bin {
    dir: tempfile::TempDir,
}

impl Bin {
    pub fn new() -> Bin {
        let dir = tempfile::Builder::new()
            .prefix("pyfleet-method-")
            .tempdir()
            .expect("a temporary directory");
        // Other users (setpriv'd programs) must be able to run what is in it.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        Bin { dir }
    }

    /// Writes an executable shell script `name` and returns its path.
    pub fn script(&self, name: &str, body: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    /// A wrapper that runs `program` as `user` (real and effective ids, groups):
    /// the master runs as root, but a password prompt needs an ordinary user.
    pub fn as_user(&self, user: &str, program: &str) -> String {
        self.script(
            &format!(
                "{user}-{}",
                Path::new(program).file_name().unwrap().to_string_lossy()
            ),
            &format!(
                "exec setpriv --reuid={user} --regid={user} --init-groups -- {program} \"$@\""
            ),
        )
        .to_string_lossy()
        .into_owned()
    }
}

/// The uid of `user`.
pub fn uid_of(user: &str) -> u32 {
    let output = std::process::Command::new("id")
        .args(["-u", user])
        .output()
        .expect("run id");
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("no user {user}"))
}

/// True while `pid` is a live process (zombies count as gone: they are dead and
/// only wait for their parent to read the status).
pub fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rfind(')')
            .and_then(|close| stat[close + 1..].split_whitespace().next())
            .is_some_and(|state| state != "Z"),
        Err(_) => false,
    }
}

/// Fails the test unless every pid is gone within 10 s.
pub fn assert_gone(pids: &[u32], what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while pids.iter().any(|&pid| alive(pid)) {
        assert!(
            Instant::now() < deadline,
            "{what}: processes still alive: {:?}",
            pids.iter().filter(|&&pid| alive(pid)).collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Pids of live processes whose command line contains `needle`.
pub fn processes_with(needle: &str) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .expect("read /proc")
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|raw| String::from_utf8_lossy(&raw).contains(needle))
        })
        .filter(|&pid| alive(pid))
        .collect()
}

/// The error of `result`, failing the test with `what` if it succeeded.
pub fn must_fail<T, E>(result: Result<T, E>, what: &str) -> E {
    match result {
        Ok(_) => panic!("{what}"),
        Err(error) => error,
    }
}

/// A word unique to this call, to put into a hop's command (as an environment
/// value) and find its processes by afterwards.
pub fn unique_mark() -> String {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("pfmark{}x{n}", std::process::id())
}

/// Fails the test unless no process carrying `mark` in its command line is left
/// within 10 s.
pub fn assert_no_process_with(mark: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = processes_with(mark);
        if left.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: processes left behind: {left:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
