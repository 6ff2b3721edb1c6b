//! Running a helper process (pip, the build helper) to its end with a time bound:
//! past it, the process and everything it started are killed.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

/// How often the exit of a helper is polled.
const POLL: Duration = Duration::from_millis(10);

/// What a helper printed and how it ended.
#[derive(Debug)]
pub struct Finished {
    /// Its exit status.
    pub status: ExitStatus,
    /// Everything it wrote to stdout.
    pub stdout: String,
    /// Everything it wrote to stderr.
    pub stderr: String,
}

/// Why a helper did not finish.
#[derive(Debug)]
pub enum RunError {
    /// It could not be started.
    Spawn(std::io::Error),
    /// It ran past the bound and was killed.
    TimedOut(Duration),
}

/// Runs `command` with stdin closed, collecting its output, for at most `bound`.
pub fn run_bounded(mut command: Command, bound: Duration) -> Result<Finished, RunError> {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group, so whatever it starts can be killed with it.
        .process_group(0);
    let mut child = command.spawn().map_err(RunError::Spawn)?;
    let group = Pid::from_raw(child.id() as i32);
    let readers = [
        child.stdout.take().map(|pipe| read_all(Box::new(pipe))),
        child.stderr.take().map(|pipe| read_all(Box::new(pipe))),
    ];
    let deadline = Instant::now() + bound;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Ok(status),
            Ok(None) if Instant::now() >= deadline => {
                // The child is not reaped yet, so its group id is still its own.
                let _ = killpg(group, Signal::SIGKILL);
                let _ = child.wait();
                break Err(RunError::TimedOut(bound));
            }
            Ok(None) => std::thread::sleep(POLL),
            Err(error) => break Err(RunError::Spawn(error)),
        }
    };
    // Helpers it left behind in its group hold the pipes open: end them too.
    let _ = killpg(group, Signal::SIGKILL);
    let [stdout, stderr] = readers.map(|reader| {
        reader
            .map(|handle| handle.join().unwrap_or_default())
            .unwrap_or_default()
    });
    Ok(Finished {
        status: status?,
        stdout,
        stderr,
    })
}

fn read_all(mut pipe: Box<dyn Read + Send>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_and_status_are_collected() {
        let mut command = Command::new("sh");
        command.args(["-c", "echo out; echo err >&2; exit 3"]);
        let finished = run_bounded(command, Duration::from_secs(10)).unwrap();
        assert_eq!(finished.status.code(), Some(3));
        assert_eq!(finished.stdout, "out\n");
        assert_eq!(finished.stderr, "err\n");
    }

    #[test]
    fn an_overrun_is_killed_with_its_children() {
        let mut command = Command::new("sh");
        command.args(["-c", "sleep 30 & sleep 30"]);
        let started = Instant::now();
        let outcome = run_bounded(command, Duration::from_millis(200));
        assert!(matches!(outcome, Err(RunError::TimedOut(_))), "{outcome:?}");
        assert!(started.elapsed() < Duration::from_secs(10));
    }
}
