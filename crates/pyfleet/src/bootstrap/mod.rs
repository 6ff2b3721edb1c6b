//! Bootstrap: how a bare interpreter becomes a running pyfleet core.
//!
//! 1. The interpreter starts with a short `-c` [`loader`] that prints the READY
//!    marker, reads exactly the payload's length from stdin, decompresses it and
//!    executes its first module (`boot.py`).
//! 2. `boot.py` installs the core, moves the protocol off fds 0/1, prints the
//!    RUNNING marker and from then on speaks frames: it reads the boot configuration
//!    and answers with HELLO.
//!
//! Markers carry a per-child random nonce and appear only reversed in the loader's
//! source, so neither a password prompt, a login banner nor a terminal echoing the
//! command line can be mistaken for them.

pub mod config;
pub mod hello;
pub mod loader;
pub mod markers;
pub mod minify;
mod payload;

pub use config::{BootConfig, Executor};
pub use hello::{ChildFacts, Encodings};
pub use loader::{LOADER_MAX_LEN, loader_source};
pub use markers::{Markers, Nonce};
pub use payload::{CoreModule, core_modules, core_payload, core_table_len, on_demand_module};
