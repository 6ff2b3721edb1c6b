//! A synchronous wrapper for programs that do not use async Rust.
//!
//! It owns a small tokio runtime (one worker thread, which reads every child's
//! output in the background); each method blocks the calling thread until done.

use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::bootstrap::ChildFacts;
use crate::error::{CallError, ConnectError};
use crate::method::LocalOptions;
use crate::wire::Value;

/// A [`crate::Broker`] that blocks instead of returning futures.
pub struct Broker {
    runtime: Arc<tokio::runtime::Runtime>,
    inner: crate::Broker,
}

impl Broker {
    /// A broker with default settings.
    pub fn new() -> std::io::Result<Broker> {
        Broker::from_async(crate::Broker::new())
    }

    /// Wrap an async broker configured with [`crate::Broker::builder`].
    pub fn from_async(inner: crate::Broker) -> std::io::Result<Broker> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("pyfleet-io")
            .enable_all()
            .build()?;
        Ok(Broker {
            runtime: Arc::new(runtime),
            inner,
        })
    }

    /// Start a local context.
    pub fn local(&self, options: LocalOptions) -> Result<Context, ConnectError> {
        let inner = self.runtime.block_on(self.inner.local(options))?;
        Ok(Context {
            runtime: self.runtime.clone(),
            inner,
        })
    }

    /// Stop every context (see [`crate::Broker::shutdown`]).
    pub fn shutdown(&self) {
        self.runtime.block_on(self.inner.shutdown());
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        // Shut down while the runtime still runs, so children get the full sequence.
        self.shutdown();
    }
}

/// A [`crate::Context`] that blocks instead of returning futures.
#[derive(Clone)]
pub struct Context {
    runtime: Arc<tokio::runtime::Runtime>,
    inner: crate::Context,
}

impl Context {
    /// The async context this wraps.
    pub fn as_async(&self) -> &crate::Context {
        &self.inner
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.inner.pid()
    }

    /// What the child reported about itself.
    pub fn facts(&self) -> &ChildFacts {
        self.inner.facts()
    }

    /// See [`crate::Context::call`].
    pub fn call<R: DeserializeOwned>(
        &self,
        module: &str,
        function: &str,
        args: impl Serialize,
        kwargs: impl Serialize,
    ) -> Result<R, CallError> {
        self.runtime
            .block_on(self.inner.call(module, function, args, kwargs))
    }

    /// See [`crate::Context::call_value`].
    pub fn call_value(
        &self,
        module: &str,
        function: &str,
        args: impl Serialize,
        kwargs: impl Serialize,
    ) -> Result<Value, CallError> {
        self.call(module, function, args, kwargs)
    }

    /// See [`crate::Context::call_no_reply`].
    pub fn call_no_reply(
        &self,
        module: &str,
        function: &str,
        args: impl Serialize,
        kwargs: impl Serialize,
    ) -> Result<(), CallError> {
        self.runtime
            .block_on(self.inner.call_no_reply(module, function, args, kwargs))
    }

    /// See [`crate::Context::exec`].
    pub fn exec(&self, source: &str) -> Result<crate::ExecOutcome, CallError> {
        self.runtime.block_on(self.inner.exec(source))
    }

    /// See [`crate::Context::shutdown`].
    pub fn shutdown(&self) {
        self.runtime.block_on(self.inner.shutdown());
    }

    /// See [`crate::Context::is_alive`].
    pub fn is_alive(&self) -> bool {
        self.inner.is_alive()
    }

    /// See [`crate::Context::wait`].
    pub fn wait(
        &self,
        timeout: std::time::Duration,
    ) -> Result<crate::spawn::ExitStatus, crate::LifecycleError> {
        self.runtime.block_on(self.inner.wait(timeout))
    }

    /// See [`crate::Context::terminate`].
    pub fn terminate(
        &self,
        grace: std::time::Duration,
    ) -> Result<crate::spawn::ExitStatus, crate::LifecycleError> {
        self.runtime.block_on(self.inner.terminate(grace))
    }

    /// See [`crate::Context::kill`].
    pub fn kill(&self) -> Result<crate::spawn::ExitStatus, crate::LifecycleError> {
        self.runtime.block_on(self.inner.kill())
    }
}
