//! Interpreter discovery: which Pythons a host has, found with one probe per host.
//!
//! The probe is a single POSIX `sh` script ([`probe_script`]) that
//! 1. lists candidates: explicit paths, every `python`, `python2`, `python2.7`,
//!    `python3`, `python3.N`, `python3.Nt`, `pypy`, `pypy3`, `pypy3.N` on PATH,
//!    pyenv's `versions/*/bin`, and /usr/bin, /usr/local/bin, /opt/python*/bin,
//!    /opt/homebrew/bin, /usr/local/opt/python*/bin;
//! 2. maps pyenv shims to the binary pyenv would run, without running them
//!    (`$PYENV_VERSION`, a `.python-version` up from the working directory,
//!    `$PYENV_ROOT/version`, else "system");
//! 3. resolves symlinks and runs each distinct interpreter once, all in parallel,
//!    with `-E -s -S` (valid on 2.7 to 3.14 and PyPy) and a per-candidate
//!    watchdog, asking each for its implementation, version, executable, prefixes,
//!    pointer width and ABI flags;
//! 4. prints a line report that [`parse_report`] reads into a [`Discovery`].
//!
//! Building the script and reading the report are pure, so any transport can carry
//! the probe; [`LocalDiscovery`] runs it on this machine (blocking and bounded, or
//! awaited on a helper thread) and [`disk_cache`] remembers results on disk,
//! validated by file stamps (pyfleet's async `DiscoveryCache` adds memory).
//! [`Discovery::find`] picks an interpreter for a [`VersionConstraint`], and
//! [`resolve_interpreter_blocking`] turns a user's `--python`/`--python-version`
//! text into one.
//!
//! [`VersionConstraint`]: crate::constraint::VersionConstraint

mod cache_file;
pub mod disk_cache;
mod error;
mod fingerprint;
mod interpreter;
mod local;
mod offload;
mod outcome;
mod report;
mod request;
mod script;
mod select;
mod skipped;
mod stamp;

pub use disk_cache::CacheOrigin;
pub use error::DiscoveryError;
pub use interpreter::{CandidateSource, FoundPath, Interpreter};
pub use local::{LocalDiscovery, discover_local};
pub use outcome::{Discovery, ShimMapping};
pub use report::parse_report;
pub use request::{InterpreterRequest, interpreter_at, resolve_interpreter_blocking};
pub use script::{
    DEFAULT_CANDIDATE_TIMEOUT, ProbeOptions, probe_script, probe_script_with, shipped_body,
};
pub use skipped::{SkipReason, SkippedCandidate};
