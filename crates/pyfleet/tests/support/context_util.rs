//! Helpers for tests that drive real child contexts. Every wait is bounded.
#![allow(dead_code)]

use std::future::Future;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pyfleet::{Broker, Context, LocalOptions, OutputHandler, OutputStream};

/// Upper bound for any single wait in these tests.
pub const LIMIT: Duration = Duration::from_secs(30);

/// Awaits `future`, failing the test after [`LIMIT`].
pub async fn within<F: Future>(what: &str, future: F) -> F::Output {
    match tokio::time::timeout(LIMIT, future).await {
        Ok(output) => output,
        Err(_) => panic!("timed out after {LIMIT:?} waiting for {what}"),
    }
}

/// A context on `python`, failing the test if it cannot start.
pub async fn start(broker: &Broker, python: &Path) -> Context {
    within(
        "a context to start",
        broker.local(LocalOptions::new().python(python)),
    )
    .await
    .unwrap_or_else(|e| panic!("starting {}: {e}", python.display()))
}

/// Output events as (stream, text), in arrival order.
#[derive(Clone, Default)]
pub struct Recorder(Arc<Mutex<Vec<(OutputStream, String)>>>);

impl Recorder {
    /// A handler that records into this recorder.
    pub fn handler(&self) -> OutputHandler {
        let events = self.0.clone();
        Arc::new(move |event| {
            events.lock().unwrap().push((
                event.stream,
                String::from_utf8_lossy(event.data).into_owned(),
            ));
        })
    }

    /// Everything recorded so far.
    pub fn events(&self) -> Vec<(OutputStream, String)> {
        self.0.lock().unwrap().clone()
    }

    /// All text of one stream, concatenated.
    pub fn text(&self, stream: OutputStream) -> String {
        self.events()
            .into_iter()
            .filter(|(s, _)| *s == stream)
            .map(|(_, t)| t)
            .collect()
    }
}

/// True while a process with this pid exists and is not a zombie.
pub fn process_running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .and_then(|rest| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

/// Polls until `pid` is gone, failing the test after [`LIMIT`].
pub async fn wait_gone(pid: u32) {
    let start = Instant::now();
    while process_running(pid) {
        assert!(
            start.elapsed() < LIMIT,
            "process {pid} still running after {LIMIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Number of open fds of this process.
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count())
        .unwrap_or(0)
}

/// The 1-based line of the first line containing `needle` in a core source file.
pub fn core_line(file: &str, needle: &str) -> usize {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../python/pyfleet_core")
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle} not in {file}"))
        + 1
}

/// The module that holds builtins on this context's Python.
pub fn builtins(ctx: &Context) -> &'static str {
    if ctx.facts().version.0 == 2 {
        "__builtin__"
    } else {
        "builtins"
    }
}

/// Run this test binary's `helper_test` as a separate master (it learns where to
/// write its contexts' pids from `pid_file_var`), wait for it to report
/// `expected` live pids, SIGKILL it, and wait until every one of them is gone: no
/// child outlives a master that dies without cleaning up.
pub async fn no_context_outlives_a_sigkilled_master(
    helper_test: &str,
    pid_file_var: &str,
    expected: usize,
) {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pids");
    let mut helper = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", helper_test, "--nocapture", "--test-threads=1"])
        .env(pid_file_var, &pid_file)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !pid_file.exists() {
        assert!(
            started.elapsed() < LIMIT,
            "{helper_test} never reported its contexts"
        );
        assert!(
            helper.try_wait().unwrap().is_none(),
            "{helper_test} exited early"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let pids: Vec<u32> = std::fs::read_to_string(&pid_file)
        .unwrap()
        .split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect();
    assert_eq!(pids.len(), expected);
    assert!(pids.iter().all(|&pid| process_running(pid)));
    helper.kill().unwrap();
    helper.wait().unwrap();
    for pid in pids {
        within("a context of the killed master to exit", wait_gone(pid)).await;
    }
}
