//! A handle on a running child context.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::call::{decode_reply, encode_call};
use crate::bootstrap::ChildFacts;
use crate::error::CallError;
use crate::router::handles::CALL;
use crate::router::{Connection, ContextEnd};
use crate::spawn::ChildProcess;
use crate::wire::Value;

/// A running Python interpreter under the broker's control. Cheap to clone; all
/// clones drive the same child. Calls from many tasks may be in flight at once;
/// the child runs them one at a time, in the order they arrive.
#[derive(Clone)]
pub struct Context {
    connection: Arc<Connection>,
}

/// A child's effective start-up configuration.
#[derive(Debug, Clone, Copy)]
pub struct EffectiveConfig<'a> {
    /// Everything the child reported (flags, sys.path, argv, cwd, encodings,
    /// the environment and probes the parent asked about).
    pub facts: &'a ChildFacts,
    /// Each configured setting checked against that report.
    pub verification: &'a crate::startup::Verification,
}

/// What [`Context::exec`] returns: the value of a trailing expression, if any.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct ExecOutcome {
    /// `repr()` of the trailing expression's value, as the `>>>` prompt shows it;
    /// `None` when there was no trailing expression or its value was None.
    pub repr: Option<String>,
    /// The value itself, when it can cross to Rust.
    pub value: Option<Value>,
    /// The value's type name, when the value could not cross.
    #[serde(default)]
    pub unencodable: Option<String>,
}

impl Context {
    pub(crate) fn new(connection: Arc<Connection>) -> Context {
        Context { connection }
    }

    /// The context id (unique within its broker).
    pub fn id(&self) -> u32 {
        self.connection.id()
    }

    /// The context's name, used in errors and logs.
    pub fn name(&self) -> &str {
        self.connection.name()
    }

    /// The child's process id as seen by the master.
    pub fn pid(&self) -> u32 {
        self.connection.process().pid()
    }

    /// The child process, for waiting on it or signalling it.
    pub fn process(&self) -> &ChildProcess {
        self.connection.process()
    }

    /// What the child reported about itself when it started.
    pub fn facts(&self) -> &ChildFacts {
        self.connection.facts()
    }

    /// The configuration the child runs with, as it reported it, and how that
    /// compared with its [`StartupConfig`](crate::startup::StartupConfig).
    pub fn effective_config(&self) -> EffectiveConfig<'_> {
        EffectiveConfig {
            facts: self.connection.facts(),
            verification: self.connection.verification(),
        }
    }

    /// Call `module.function(*args, **kwargs)` in the child and decode the result.
    ///
    /// `args` is a tuple (`(1, "two")`, `()` for none, `(x,)` for one) or a list;
    /// `kwargs` is a map or a struct with named fields, or `()`.
    pub async fn call<R: DeserializeOwned>(
        &self,
        module: &str,
        function: &str,
        args: impl Serialize,
        kwargs: impl Serialize,
    ) -> Result<R, CallError> {
        let body = encode_call(module, function, &args, &kwargs)?;
        let reply = self.connection.request(CALL, body).await?;
        let limits = &self.connection.settings().decode_limits;
        decode_reply(reply, limits, self.name(), || {
            format!("{module}.{function}")
        })
    }

    /// [`call`](Self::call) returning the result as a [`Value`].
    pub async fn call_value(
        &self,
        module: &str,
        function: &str,
        args: impl Serialize,
        kwargs: impl Serialize,
    ) -> Result<Value, CallError> {
        self.call(module, function, args, kwargs).await
    }

    /// Start `module.function(*args, **kwargs)` without waiting for it or for any
    /// result; if it raises, the child logs the error to its stderr.
    pub async fn call_no_reply(
        &self,
        module: &str,
        function: &str,
        args: impl Serialize,
        kwargs: impl Serialize,
    ) -> Result<(), CallError> {
        let body = encode_call(module, function, &args, &kwargs)?;
        self.connection.send(CALL, body).await
    }

    /// Run Python source in the child's `__main__`, like the interactive prompt:
    /// statements run, and the value of a trailing expression is returned.
    pub async fn exec(&self, source: &str) -> Result<ExecOutcome, CallError> {
        self.call("pyfleet_core.execution", "run", (source,), ())
            .await
    }

    /// True until the context has ended.
    pub fn is_alive(&self) -> bool {
        self.connection.ended().is_none()
    }

    /// How the context ended, once it has.
    pub fn end(&self) -> Option<Arc<ContextEnd>> {
        self.connection.ended()
    }

    /// Wait until the context has ended.
    pub async fn wait_end(&self) -> Arc<ContextEnd> {
        self.connection.wait_end().await
    }

    /// Stop this context: pending calls fail, the child is asked to exit, then
    /// SIGTERM and SIGKILL follow after the broker's grace period.
    pub async fn shutdown(&self) {
        self.connection
            .shutdown(crate::router::EndReason::Shutdown)
            .await;
        self.connection.wait_end().await;
    }

    /// Frames from this child that were dropped: (spoofed address, unexpected handle).
    pub fn dropped_frames(&self) -> (u64, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        let dropped = self.connection.dropped();
        (
            dropped.spoofed.load(Relaxed),
            dropped.unexpected.load(Relaxed),
        )
    }
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("id", &self.id())
            .field("name", &self.name())
            .field("pid", &self.pid())
            .finish()
    }
}
