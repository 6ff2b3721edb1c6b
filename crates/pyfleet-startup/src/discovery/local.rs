//! Running the probe on this machine: one `sh -c SCRIPT`, in a curated
//! environment, bounded in time, leaving no process behind.
//!
//! This is one runner of the probe; the script and its report are transport-free
//! (see [`super::script`] and [`super::report`]). It uses `std::process` directly,
//! not pyfleet's spawn layer: that one is for children pyfleet bootstraps and
//! talks to, while this is a short-lived helper whose output is read to the end.
//! It blocks a thread (bounded); the async forms hand that to a helper thread.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use super::error::DiscoveryError;
use super::fingerprint::Fingerprint;
use super::offload::offload;
use super::outcome::Discovery;
use super::report::parse_report;
use super::script::{ProbeOptions, probe_script_with};

/// Variables the probe inherits from this process; everything else, the
/// `PYTHON*` variables first of all, is left out. pyenv's variables decide where
/// shims lead; the locale and library path keep candidates able to start.
const INHERITED_VARIABLES: &[&str] = &[
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TMPDIR",
    "PYENV_ROOT",
    "PYENV_VERSION",
    "LD_LIBRARY_PATH",
];

/// PATH when this process has none.
const DEFAULT_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// Time the probe may take beyond the per-candidate bound (the search itself, the
/// shell, cleaning up).
const OVERALL_MARGIN: Duration = Duration::from_secs(10);

/// After asking a probe that overran to stop (SIGTERM: its traps remove its
/// temporary directory), how long before it is killed.
const TERM_GRACE: Duration = Duration::from_millis(300);

/// After killing a probe, how long to wait for its output to close.
const KILL_GRACE: Duration = Duration::from_secs(2);

/// How to run the discovery probe on this machine. Cheap to clone; build it with
/// the setters, then [`LocalDiscovery::run`] it, or hand it to
/// a cache ([`super::disk_cache::local_blocking`], pyfleet's `DiscoveryCache`).
#[derive(Debug, Clone)]
pub struct LocalDiscovery {
    explicit: Vec<PathBuf>,
    options: ProbeOptions,
    shell: PathBuf,
    current_dir: Option<PathBuf>,
    env_overrides: Vec<(OsString, Option<OsString>)>,
    probe_timeout: Option<Duration>,
}

impl Default for LocalDiscovery {
    fn default() -> LocalDiscovery {
        LocalDiscovery::new()
    }
}

impl LocalDiscovery {
    /// Search this machine with `/bin/sh`, in this process's working directory,
    /// with the default per-candidate bound.
    pub fn new() -> LocalDiscovery {
        LocalDiscovery {
            explicit: Vec::new(),
            options: ProbeOptions::default(),
            shell: PathBuf::from("/bin/sh"),
            current_dir: None,
            env_overrides: Vec::new(),
            probe_timeout: None,
        }
    }

    /// Also examine these paths (listed first, preferred for a constraint).
    pub fn explicit<I, P>(mut self, paths: I) -> LocalDiscovery
    where
        I: IntoIterator<Item = P>,
        P: Into<PathBuf>,
    {
        self.explicit.extend(paths.into_iter().map(Into::into));
        self
    }

    /// `false`: examine only the explicit paths, do not search the machine.
    pub fn search(mut self, search: bool) -> LocalDiscovery {
        self.options.search = search;
        self
    }

    /// The bound for each candidate (whole seconds, rounded up).
    pub fn candidate_timeout(mut self, timeout: Duration) -> LocalDiscovery {
        self.options.candidate_timeout = timeout;
        self
    }

    /// The bound for the whole probe (default: the per-candidate bound plus 10 s).
    /// Past it, the probe and everything it started are killed.
    pub fn probe_timeout(mut self, timeout: Duration) -> LocalDiscovery {
        self.probe_timeout = Some(timeout);
        self
    }

    /// The POSIX shell that runs the probe (default `/bin/sh`).
    pub fn shell(mut self, shell: impl Into<PathBuf>) -> LocalDiscovery {
        self.shell = shell.into();
        self
    }

    /// The probe's working directory: relative explicit paths and pyenv's
    /// `.python-version` lookup start there.
    pub fn current_dir(mut self, dir: impl Into<PathBuf>) -> LocalDiscovery {
        self.current_dir = Some(dir.into());
        self
    }

    /// Sets a variable in the probe's environment (over the curated one).
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> LocalDiscovery {
        self.env_overrides.push((key.into(), Some(value.into())));
        self
    }

    /// Removes a variable from the probe's environment.
    pub fn env_remove(mut self, key: impl Into<OsString>) -> LocalDiscovery {
        self.env_overrides.push((key.into(), None));
        self
    }

    /// The explicit paths.
    pub fn explicit_paths(&self) -> &[PathBuf] {
        &self.explicit
    }

    /// What the probe looks at and its per-candidate bound.
    pub fn options(&self) -> &ProbeOptions {
        &self.options
    }

    /// The script this runner will pass to the shell.
    pub fn script(&self) -> String {
        probe_script_with(&self.explicit, &self.options)
    }

    /// The probe's environment: the inherited allow-list, then the overrides.
    pub fn environment(&self) -> Vec<(OsString, OsString)> {
        let mut environment: BTreeMap<OsString, OsString> = INHERITED_VARIABLES
            .iter()
            .filter_map(|key| std::env::var_os(key).map(|value| (OsString::from(key), value)))
            .collect();
        environment
            .entry(OsString::from("PATH"))
            .or_insert_with(|| OsString::from(DEFAULT_PATH));
        for (key, value) in &self.env_overrides {
            match value {
                Some(value) => environment.insert(key.clone(), value.clone()),
                None => environment.remove(key),
            };
        }
        environment.into_iter().collect()
    }

    /// The probe's working directory.
    pub fn working_dir(&self) -> PathBuf {
        self.current_dir
            .clone()
            .or_else(|| std::env::current_dir().ok())
            .unwrap_or_else(|| PathBuf::from("/"))
    }

    /// The bound for the whole probe: as set, else the per-candidate bound plus a
    /// margin.
    pub fn overall_timeout(&self) -> Duration {
        self.probe_timeout
            .unwrap_or_else(|| Duration::from_secs(self.options.timeout_seconds()) + OVERALL_MARGIN)
    }

    /// The first executable file called `name` in the probe's PATH.
    pub fn find_command(&self, name: &str) -> Option<PathBuf> {
        let environment = self.environment();
        let path = environment
            .iter()
            .find(|(key, _)| key == "PATH")
            .map(|(_, value)| value.clone())?;
        let base = self.working_dir();
        std::env::split_paths(&path)
            .filter(|dir| !dir.as_os_str().is_empty())
            .map(|dir| base.join(dir).join(name))
            .find(|candidate| is_executable_file(candidate))
    }

    /// Identifies everything the report depends on besides the filesystem: shell,
    /// script (explicit paths and options included), environment and directory.
    /// Caches key their entries with it.
    pub fn fingerprint(&self) -> String {
        let mut fingerprint = Fingerprint::new()
            .field(b"pyfleet local discovery 1")
            .field(self.shell.as_os_str().as_bytes())
            .field(self.script().as_bytes())
            .field(self.working_dir().as_os_str().as_bytes());
        for (key, value) in self.environment() {
            fingerprint = fingerprint.field(key.as_bytes()).field(value.as_bytes());
        }
        fingerprint.hex()
    }

    /// Runs the probe and reads its report (no cache), on a helper thread; any
    /// executor can await it (no async runtime is needed).
    pub async fn run(&self) -> Result<Discovery, DiscoveryError> {
        parse_report(&self.run_report().await?)
    }

    /// Runs the probe and returns its report text, unparsed, on a helper thread.
    pub async fn run_report(&self) -> Result<String, DiscoveryError> {
        let probe = self.clone();
        offload(move || probe.run_report_blocking())
            .await
            .map_err(|message| DiscoveryError::ProbeFailed { message })?
    }

    /// Runs the probe and reads its report (no cache), blocking this thread for at
    /// most [`LocalDiscovery::overall_timeout`] plus a few seconds of clean-up.
    pub fn run_blocking(&self) -> Result<Discovery, DiscoveryError> {
        parse_report(&self.run_report_blocking()?)
    }

    /// Runs the probe and returns its report text, unparsed, blocking this thread
    /// (bounded like [`LocalDiscovery::run_blocking`]).
    pub fn run_report_blocking(&self) -> Result<String, DiscoveryError> {
        let mut command = Command::new(&self.shell);
        command
            .arg("-c")
            .arg(self.script())
            .env_clear()
            .envs(self.environment())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own process group: the probe and everything it starts can be
            // killed at once.
            .process_group(0);
        if let Some(dir) = &self.current_dir {
            command.current_dir(dir);
        }
        let child = command
            .spawn()
            .map_err(|source| DiscoveryError::ShellUnavailable {
                shell: self.shell.clone(),
                source,
            })?;
        let group = ProcessGroup::new(child.id());
        let reader_group = Arc::clone(&group);
        let (sender, finished) = mpsc::sync_channel(1);
        std::thread::Builder::new()
            .name("pyfleet-discovery".into())
            .spawn(move || {
                let _ = sender.send(read_to_end(child, &reader_group));
            })
            .map_err(|error| DiscoveryError::ProbeFailed {
                message: format!("cannot start a thread to read the probe: {error}"),
            })?;
        let bound = self.overall_timeout();
        let outcome = match finished.recv_timeout(bound) {
            Ok(outcome) => outcome,
            Err(RecvTimeoutError::Disconnected) => {
                return Err(DiscoveryError::ProbeFailed {
                    message: "the probe's reader stopped".to_string(),
                });
            }
            Err(RecvTimeoutError::Timeout) => {
                group.signal(Signal::SIGTERM);
                if finished.recv_timeout(TERM_GRACE).is_err() {
                    group.signal(Signal::SIGKILL);
                    // Every holder of the pipes was in the group: they close at once.
                    let _ = finished.recv_timeout(KILL_GRACE);
                }
                return Err(DiscoveryError::ProbeTimedOut { after: bound });
            }
        };
        let (status, stdout, stderr) = outcome.map_err(|error| DiscoveryError::ProbeFailed {
            message: format!("reading the probe's output: {error}"),
        })?;
        let stdout = String::from_utf8_lossy(&stdout).into_owned();
        if !stdout.contains("#pyfleet-discovery") {
            let stderr = String::from_utf8_lossy(&stderr);
            return Err(DiscoveryError::ProbeFailed {
                message: format!(
                    "{} {} and printed no report{}",
                    self.shell.display(),
                    describe_status(status),
                    match stderr.trim() {
                        "" => String::new(),
                        text => format!("; its error output: {}", last_lines(text, 5)),
                    }
                ),
            });
        }
        Ok(stdout)
    }
}

/// Runs the probe with default options through no cache, also examining `explicit`
/// paths. [`super::disk_cache::local_blocking`] (and pyfleet's `DiscoveryCache`)
/// are the cached ways.
pub async fn discover_local(explicit: &[PathBuf]) -> Result<Discovery, DiscoveryError> {
    LocalDiscovery::new()
        .explicit(explicit.iter().cloned())
        .run()
        .await
}

/// The probe's process group (its id is the shell's pid), signalled only while
/// the shell is not reaped: until then the id cannot name anyone else's group.
struct ProcessGroup {
    id: Pid,
    reaped: Mutex<bool>,
}

impl ProcessGroup {
    fn new(shell_pid: u32) -> Arc<ProcessGroup> {
        Arc::new(ProcessGroup {
            id: Pid::from_raw(shell_pid as i32),
            reaped: Mutex::new(false),
        })
    }

    fn signal(&self, signal: Signal) {
        let reaped = self.reaped.lock().unwrap_or_else(PoisonError::into_inner);
        if !*reaped {
            // ESRCH (nothing left) is a fine outcome.
            let _ = killpg(self.id, signal);
        }
    }

    /// Kills what is left of the group, then reaps the shell.
    fn kill_and_reap(&self, child: &mut Child) -> std::io::Result<ExitStatus> {
        let mut reaped = self.reaped.lock().unwrap_or_else(PoisonError::into_inner);
        let _ = killpg(self.id, Signal::SIGKILL);
        let status = child.wait();
        *reaped = true;
        status
    }
}

/// Blocking: reads both pipes to their end, kills what is left of the group,
/// reaps the shell.
fn read_to_end(
    mut child: Child,
    group: &ProcessGroup,
) -> std::io::Result<(ExitStatus, Vec<u8>, Vec<u8>)> {
    let mut stderr_pipe = child.stderr.take();
    let stderr_reader = std::thread::spawn(move || {
        let mut stderr = Vec::new();
        if let Some(pipe) = stderr_pipe.as_mut() {
            let _ = pipe.read_to_end(&mut stderr);
        }
        stderr
    });
    let mut stdout = Vec::new();
    let read = match child.stdout.take() {
        Some(mut pipe) => pipe.read_to_end(&mut stdout).map(drop),
        None => Ok(()),
    };
    let stderr = stderr_reader.join().unwrap_or_default();
    // Both pipes are closed, so the shell has exited (its own cleanup done). What
    // is left in its group (a process a killed candidate started) goes now.
    let status = group.kill_and_reap(&mut child)?;
    read?;
    Ok((status, stdout, stderr))
}

fn describe_status(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with code {code}"),
        (None, Some(signal)) => format!("was killed by {}", crate::signals::signal_name(signal)),
        _ => format!("ended ({status})"),
    }
}

fn last_lines(text: &str, count: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(count)..].join(" / ")
}

fn is_executable_file(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// True if `name` is a bare command name (no `/`), to be looked up on PATH.
pub(crate) fn is_command_name(name: &OsStr) -> bool {
    !name.is_empty() && !name.as_bytes().contains(&b'/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_is_curated_and_overridable() {
        let probe = LocalDiscovery::new()
            .env("PYENV_VERSION", "3.9.18")
            .env("PYTHONPATH", "/explicitly/wanted")
            .env_remove("HOME");
        let environment = probe.environment();
        let get = |name: &str| {
            environment
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.to_string_lossy().into_owned())
        };
        assert!(get("PATH").is_some());
        assert_eq!(get("PYENV_VERSION").as_deref(), Some("3.9.18"));
        assert_eq!(get("PYTHONPATH").as_deref(), Some("/explicitly/wanted"));
        assert_eq!(get("HOME"), None);
        // This machine exports PYTHONUNBUFFERED and PYTHONDONTWRITEBYTECODE.
        assert_eq!(get("PYTHONUNBUFFERED"), None);
        assert_eq!(get("PYTHONDONTWRITEBYTECODE"), None);
        assert!(
            environment
                .iter()
                .all(|(key, _)| key != "PYTHONUNBUFFERED" && key != "CARGO")
        );
    }

    #[test]
    fn fingerprint_follows_every_input() {
        let base = LocalDiscovery::new().current_dir("/tmp");
        let same = LocalDiscovery::new().current_dir("/tmp");
        assert_eq!(base.fingerprint(), same.fingerprint());
        for changed in [
            base.clone().explicit(["/usr/bin/python3"]),
            base.clone().search(false),
            base.clone().candidate_timeout(Duration::from_secs(9)),
            base.clone().shell("/bin/bash"),
            base.clone().current_dir("/"),
            base.clone().env("PYENV_VERSION", "2.7.18"),
        ] {
            assert_ne!(base.fingerprint(), changed.fingerprint(), "{changed:?}");
        }
    }

    #[test]
    fn overall_bound_exceeds_the_candidate_bound() {
        let probe = LocalDiscovery::new().candidate_timeout(Duration::from_millis(1500));
        assert_eq!(probe.options().timeout_seconds(), 2);
        assert_eq!(probe.overall_timeout(), Duration::from_secs(12));
        assert!(is_command_name(OsStr::new("python3")));
        assert!(!is_command_name(OsStr::new("./python3")));
    }
}
