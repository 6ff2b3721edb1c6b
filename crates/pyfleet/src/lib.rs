//! pyfleet: start Python interpreters anywhere and drive them from Rust.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use pyfleet::{Broker, LocalOptions};
//!
//! let broker = Broker::new();
//! let ctx = broker.local(LocalOptions::new().python("/usr/bin/python3.11")).await?;
//! let pid: u32 = ctx.call("os", "getpid", (), ()).await?;
//! let joined: String = ctx.call("os.path", "join", ("a", "b"), ()).await?;
//! assert_eq!(joined, "a/b");
//! broker.shutdown().await;
//! # let _ = pid; Ok(()) }
//! ```
//!
//! Layers, top to bottom (a layer only uses those below it): [`api`] (brokers,
//! contexts), [`services`] (modules on demand), [`method`] (how a child is reached), [`router`] (connections, frames,
//! pending calls), [`bootstrap`] (loader and shipped core), [`spawn`] (processes),
//! [`wire`] (frames and values; no I/O).

pub mod api;
pub mod bootstrap;
pub mod error;
pub mod logging;
pub mod messages;
pub mod method;
pub mod router;
pub mod services;
pub mod spawn;
pub mod startup;
pub mod wire;

pub use api::{
    Broker, BrokerBuilder, ChildReceiver, ChildSender, Context, EffectiveConfig, ExecOutcome,
    Program, Receiver, Select, Sender, blocking,
};
pub use bootstrap::{ChildFacts, Executor};
pub use error::{
    BootStage, CallError, ConnectError, ForkError, LifecycleError, RemoteError, TransferError,
};
pub use method::{
    ChrootOptions, DoasOptions, DockerOptions, Hop, HostKeyPolicy, KubectlOptions, LocalOptions,
    LxcOptions, NsenterOptions, Password, PodmanOptions, SshOptions, SuOptions, SudoOptions,
    UnshareOptions,
};
pub use router::{ContextEnd, EndReason, LogRecord, OutputEvent, OutputHandler, OutputStream};
pub use services::ModuleServer;
pub use startup::StartupConfig;
pub use wire::Value;

/// The README's examples, compiled and run as doc tests so they stay true.
#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
