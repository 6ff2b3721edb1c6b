//! Process creation.
//!
//! Starts programs (Python interpreters, and the sudo/ssh/container commands that
//! lead to them) as child processes connected by two pipes or a socket pair, with the
//! hygiene a long-lived parent needs: a clean signal state in the child, no
//! descriptors leaking in, a parent death signal, exact `execve` error reports, and
//! reaping without zombies or stray `waitpid(-1)`.
//!
//! ```no_run
//! # async fn example() -> Result<(), pyfleet::spawn::SpawnError> {
//! use pyfleet::spawn::{SpawnOptions, spawn};
//! let child = spawn(SpawnOptions::new("/usr/bin/python3.11").args(["-I", "-S"])).await?;
//! // write to child.to_child, read from child.from_child …
//! let status = child.process.wait().await;
//! println!("python {status}");
//! # Ok(()) }
//! ```

mod child_setup;
pub mod close_fds;
mod error;
mod exec_failure;
mod exec_plan;
mod exit_status;
mod fds;
mod fork_exec;
pub mod hooks;
mod launch;
mod options;
mod pidfd;
mod process;
mod pty;
mod reaper;
mod selinux;
mod signals;
mod spawner;
mod transport;

pub use error::{ChildSetupStep, SpawnError};
pub use exit_status::ExitStatus;
pub use hooks::set_process_pre_exec_hook;
pub use launch::{Spawned, spawn, spawn_blocking_caller};
pub use nix::sys::signal::Signal;
pub use options::{PreExecHook, SpawnOptions, StderrMode};
pub use process::ChildProcess;
pub use pty::{Pty, open_pty};
pub use selinux::selinux_enforcing;
pub use signals::{signal_from_name, signal_name};
pub use spawner::SPAWNER_THREAD_NAME;
pub use transport::{PIPE_CAPACITY, SOCKET_BUFFER_SIZE, Transport};
