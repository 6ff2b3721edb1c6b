//! Fleet runs: one job on every host an inventory pattern selects, in parallel,
//! with a clear account of what happened on each.

pub mod args;
pub mod command;
pub mod connect;
pub mod job;
pub mod output;
pub mod passwords;
pub mod progress;
pub mod report;
pub mod runner;

pub use args::FleetArgs;
pub use job::Job;
pub use report::Status;
