//! The public API: brokers, contexts, calls.

pub mod blocking;
mod broker;
mod call;
mod context;

pub use broker::{Broker, BrokerBuilder, DEFAULT_SHUTDOWN_GRACE};
pub use call::encode_call;
pub use context::{Context, EffectiveConfig, ExecOutcome};
