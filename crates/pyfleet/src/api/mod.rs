//! The public API: brokers, contexts, calls.

pub mod blocking;
mod broker;
pub mod channels;
mod context;
mod files;
mod fork;
mod lifecycle;
mod pool;

pub use crate::router::encode_call;
pub use broker::{Broker, BrokerBuilder, DEFAULT_SHUTDOWN_GRACE};
pub use channels::{ChildReceiver, ChildSender, Receiver, Select, Sender};
pub use context::{Context, EffectiveConfig, ExecOutcome, Program};
pub use files::{Checksum, Progress, TransferOptions, Transferred};
pub use fork::FORK_CONNECT_TIMEOUT;
pub use lifecycle::KILL_WAIT;
pub use pool::{Pool, PoolOptions};
