//! The pack format and its launcher.
//!
//! `pyfleet pack` writes one file: this crate's launcher binary, then a zip archive
//! (the app, its dependencies, compiled bytecode, a generated `__main__`), with a
//! small trailer before the zip's central directory ([`layout`]) and the pack's
//! [`metadata`] stored in the archive. Run, the launcher
//! 1. checks its own file: layout, length and a checksum of every byte, so a
//!    truncated or altered file is refused before anything runs ([`open`]);
//! 2. chooses an interpreter: `$PYFLEET_PACK_PYTHON` if set, else the best match
//!    for the constraint recorded at pack time, preferring the version the
//!    bytecode was compiled for (interpreter discovery, cached on disk; [`choose`]);
//! 3. lowers the pack's start-up configuration for that interpreter, applies the
//!    working directory, umask and resource limits, and `exec`s
//!    `python [options] APP ARGS...`: Python runs the archive's `__main__`
//!    ([`launch`]).
//!
//! It is synchronous, has no async runtime, and is built with the `release-small`
//! profile.

pub mod choose;
pub mod error;
pub mod launch;
pub mod layout;
pub mod metadata;
pub mod open;
pub mod self_path;

use std::convert::Infallible;
use std::process::ExitCode;

use pyfleet_startup::discovery::disk_cache;

use crate::choose::{PYTHON_OVERRIDE_VAR, choose_interpreter};
use crate::error::LaunchError;
use crate::launch::{CACHE_ROOT_VAR, exec, native_dir, plan_launch};
use crate::open::open_pack;
use crate::self_path::own_path;

/// The launcher's `main`: starts the app, or says on stderr why it cannot and
/// returns the matching exit status.
pub fn run() -> ExitCode {
    let Err(error) = launch_self();
    let name = std::env::args_os()
        .next()
        .map(std::path::PathBuf::from)
        .and_then(|path| {
            path.file_name()
                .map(|name| name.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "pyfleet-stub".to_string());
    eprintln!("{name}: {error}");
    ExitCode::from(error.exit_code())
}

fn launch_self() -> Result<Infallible, LaunchError> {
    let own = own_path().map_err(LaunchError::OwnPath)?;
    let pack = open_pack(&own.running).map_err(LaunchError::Open)?;
    let override_spec = std::env::var(PYTHON_OVERRIDE_VAR)
        .ok()
        .filter(|spec| !spec.trim().is_empty());
    let cache_dir = disk_cache::default_dir();
    let interpreter = choose_interpreter(
        &pack.metadata,
        override_spec.as_deref(),
        cache_dir.as_deref(),
    )
    .map_err(LaunchError::NoInterpreter)?;
    let native = pack
        .metadata
        .native
        .as_ref()
        .and_then(|native| native_dir(&native.key, std::env::var_os(CACHE_ROOT_VAR)));
    let launch = plan_launch(
        &pack.metadata,
        &interpreter,
        &own.invoked,
        std::env::args_os().skip(1),
        std::env::vars_os(),
        native,
    )?;
    Err(exec(launch))
}
