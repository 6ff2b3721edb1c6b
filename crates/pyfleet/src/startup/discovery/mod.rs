//! Interpreter discovery: which Pythons a host has, found with one probe per host.
//!
//! The probe, its report, selection by constraint and the disk cache are
//! `pyfleet_startup::discovery`, re-exported here unchanged (see its docs for what
//! the probe does). This module adds the async side: [`DiscoveryCache`] remembers
//! discoveries in memory per host and on disk for this machine, and
//! [`resolve_interpreter`] turns a user's `--python`/`--python-version` text into
//! one interpreter through it.

mod cache;
mod resolve;

pub use pyfleet_startup::discovery::*;

pub use cache::{CachedDiscovery, DiscoveryCache, LOCAL_HOST};
pub use resolve::{resolve_interpreter, resolve_interpreter_with};
