//! The router: per-context connections, frames in and out, calls waiting for
//! replies, and how contexts end.

pub mod connect;
pub mod connection;
pub mod context_end;
mod core_modules;
pub mod frame_reader;
pub mod frame_writer;
pub mod handles;
pub mod output;
pub mod pending;
pub mod stderr;
mod watched_fd;

pub use connect::{LaunchPlan, connect};
pub use connection::{Connection, ConnectionSettings, DropCounters};
pub use context_end::{ContextEnd, EndReason};
pub use output::{OutputEvent, OutputHandler, OutputStream, log_output};
