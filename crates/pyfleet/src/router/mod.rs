//! The router: per-context connections, frames in and out, calls waiting for
//! replies, and how contexts end.

pub mod call;
pub mod channels;
pub mod connect;
pub mod connection;
pub mod context_end;
mod core_modules;
pub mod frame_reader;
pub mod frame_writer;
pub mod handles;
pub mod hop_plan;
pub mod hops;
pub mod output;
pub mod output_budget;
mod password;
pub mod pending;
pub mod prompt;
mod prompt_loop;
pub mod pty_launch;
pub mod requests;
pub mod stderr;
mod watched_fd;

pub use call::{EncodedCall, StreamOptions, decode_reply, encode_call, mark_channel_end};
pub use connect::{LaunchPlan, connect};
pub use connection::{Connection, ConnectionSettings, DropCounters};
pub use context_end::{ContextEnd, EndReason};
pub use hop_plan::{HopEnv, HopPlan, PayloadTiming, TerminalMode};
pub use output::{LogRecord, OutputEvent, OutputHandler, OutputStream, log_output};
pub use password::Password;
pub use prompt::{FailureKind, KnownFailure, PromptRules};
pub use requests::{Answer, AnswerFuture, ChildRequests};
