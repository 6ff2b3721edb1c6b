//! A handle on a running child context.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::broker::BrokerRef;
use super::channels::{ChildReceiver, ChildSender, Receiver, Sender};
use crate::bootstrap::ChildFacts;
use crate::error::CallError;
use crate::error::ConnectError;
use crate::method::{DoasOptions, Hop, LocalOptions, SshOptions, SuOptions, SudoOptions};
use crate::router::channels::DEFAULT_WINDOW;
use crate::router::handles::CALL;
use crate::router::hops::HopLaunch;
use crate::router::{Connection, ContextEnd};
use crate::router::{StreamOptions, decode_reply, encode_call};
use crate::spawn::ChildProcess;
use crate::wire::Value;

/// A running Python interpreter under the broker's control. Cheap to clone; all
/// clones drive the same child. Calls from many tasks may be in flight at once;
/// with the default [`Executor::Serial`](crate::Executor) the child runs them one
/// at a time, in the order they arrive; with `Executor::Threads(n)` up to `n` run
/// at once, with no ordering between them.
#[derive(Clone)]
pub struct Context {
    connection: Arc<Connection>,
    broker: BrokerRef,
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
    /// The exit status, when the program called `sys.exit()`.
    #[serde(default)]
    pub exit: Option<i32>,
}

/// A program for [`Context::run_main`], in the forms `python` accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Program {
    /// `python -c CODE`: sys.argv[0] is "-c".
    Code(String),
    /// `python -m MODULE`: run with runpy as `__main__` (a package runs its
    /// `__main__` submodule); sys.argv[0] becomes the module's file, sys.path[0]
    /// the working directory. The module may come from the parent's module roots.
    Module(String),
    /// `python PATH`: a script's path (shown in tracebacks, sys.argv[0], __file__)
    /// and its source; sys.path[0] is the script's directory.
    Script {
        /// The path as given.
        path: String,
        /// The script's text.
        source: String,
    },
    /// `python DIR` or `python APP.zip`: its `__main__.py`; sys.argv[0] and
    /// sys.path[0] are the directory or zip.
    Main {
        /// The directory or zip as given.
        path: String,
        /// The file name of its `__main__.py`.
        filename: String,
        /// Its text.
        source: String,
    },
    /// `python -` (or no argument with a pipe): code read from stdin; sys.argv[0]
    /// is "-".
    Stdin(String),
}

impl Context {
    pub(crate) fn new(connection: Arc<Connection>, broker: BrokerRef) -> Context {
        Context { connection, broker }
    }

    pub(crate) fn connection(&self) -> &Arc<Connection> {
        &self.connection
    }

    /// Start a context from this one: this context becomes its parent (a hop).
    /// It runs the method's program (sudo, su, doas, ssh, …) itself, answers its
    /// password prompt, bootstraps the new interpreter and routes its frames; the
    /// new context is driven from here like any other. Modules it imports are
    /// served by this context from its own cache (asking upwards once per name).
    ///
    /// If this context ends, every context started through it ends with
    /// [`EndReason::HopEnded`](crate::router::EndReason::HopEnded), naming it.
    /// The new context may talk only to the master: not to this context, not to
    /// its siblings.
    pub async fn connect(&self, hop: impl Into<Hop>) -> Result<Context, ConnectError> {
        let hop = hop.into();
        let broker = self.broker.upgrade()?;
        let id = broker.allocate_id()?;
        let name = hop.context_name(id);
        let launch = hop.hop_launch()?;
        broker.start_via(self, id, name, launch).await
    }

    /// Start an interpreter as a child of this context, which must run on this
    /// machine: the plan (interpreter, start-up settings) is made here, as for
    /// [`Broker::local`](crate::Broker::local), and executed by this context.
    pub async fn local(&self, options: LocalOptions) -> Result<Context, ConnectError> {
        let broker = self.broker.upgrade()?;
        let id = broker.allocate_id()?;
        let name = options.context_name(id);
        let launch = HopLaunch::from_local(options.plan().await?)?;
        broker.start_via(self, id, name, launch).await
    }

    /// [`connect`](Self::connect) over ssh.
    pub async fn ssh(&self, options: SshOptions) -> Result<Context, ConnectError> {
        self.connect(options).await
    }

    /// [`connect`](Self::connect) through sudo.
    pub async fn sudo(&self, options: SudoOptions) -> Result<Context, ConnectError> {
        self.connect(options).await
    }

    /// [`connect`](Self::connect) through su.
    pub async fn su(&self, options: SuOptions) -> Result<Context, ConnectError> {
        self.connect(options).await
    }

    /// [`connect`](Self::connect) through doas.
    pub async fn doas(&self, options: DoasOptions) -> Result<Context, ConnectError> {
        self.connect(options).await
    }

    /// The context this one was started through, if the master did not start it.
    pub fn via(&self) -> Option<Context> {
        self.connection
            .parent()
            .map(|parent| Context::new(parent.clone(), self.broker.clone()))
    }

    /// Fork this context: the child forks a copy of itself that becomes a new
    /// context of the same broker, with everything already imported (modules,
    /// `__main__`'s functions and data) and nothing to bootstrap. The cheap way
    /// to make workers (see [`Pool`](crate::api::Pool)).
    ///
    /// The fork happens on the core's main thread between calls (serial
    /// executor). Refused, with the reason, when the context has threads of its
    /// own (a copy would inherit locks they hold, held forever), runs calls on
    /// threads, or was not started on this machine by [`Broker::local`]
    /// (the copy connects back over a local unix socket). The copy's stderr
    /// (fd 2) is still the parent's: bytes written there appear as the parent's.
    ///
    /// [`Broker::local`]: crate::Broker::local
    pub async fn fork(&self) -> Result<Context, crate::ForkError> {
        let broker = self
            .broker
            .upgrade()
            .map_err(|_| crate::ForkError::Call(CallError::BrokerShutdown))?;
        broker.fork_context(self).await
    }

    /// The context id (unique within its broker).
    pub fn id(&self) -> u32 {
        self.connection.id()
    }

    /// The context's name, used in errors and logs.
    pub fn name(&self) -> &str {
        self.connection.name()
    }

    /// The child's process id (for a context behind hops, as its own machine
    /// sees it).
    pub fn pid(&self) -> u32 {
        self.connection.pid()
    }

    /// The process the master started for this context, for waiting on it or
    /// signalling it; for a context behind hops, the first hop's process.
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
        let call = encode_call(module, function, &args, &kwargs, None)?;
        let reply = self
            .connection
            .request_with(CALL, call.body, call.flags)
            .await;
        self.connection.channels().finish_call(&call.channels);
        let reply = reply?;
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
        let call = encode_call(module, function, &args, &kwargs, None)?;
        self.connection.send_with(CALL, call.body, call.flags).await
    }

    /// Run Python source in the child's `__main__`, like the interactive prompt:
    /// statements run, and the value of a trailing expression is returned.
    pub async fn exec(&self, source: &str) -> Result<ExecOutcome, CallError> {
        self.call("pyfleet_core.execution", "run", (source,), ())
            .await
    }

    /// The value of one Python expression, evaluated in the child's `__main__`.
    pub async fn eval<R: DeserializeOwned>(&self, expression: &str) -> Result<R, CallError> {
        self.call("pyfleet_core.execution", "evaluate", (expression,), ())
            .await
    }

    /// Run a program as `python` would (see [`Program`]), with `args` as
    /// sys.argv[1:], in the child's `__main__`. A `sys.exit()` in it ends the run,
    /// not the context: its status is [`ExecOutcome::exit`].
    pub async fn run_main(
        &self,
        program: Program,
        args: &[String],
    ) -> Result<ExecOutcome, CallError> {
        let with_args = |first: &str| -> Vec<String> {
            std::iter::once(first.to_string())
                .chain(args.iter().cloned())
                .collect()
        };
        let cwd = self.facts().cwd.clone();
        let (mode, target, argv, source, path0) = match &program {
            Program::Code(code) => (
                "code",
                "<string>".to_string(),
                with_args("-c"),
                Some(code.clone()),
                None,
            ),
            Program::Module(module) => ("module", module.clone(), with_args("-m"), None, Some(cwd)),
            Program::Script { path, source } => {
                let dir = std::path::Path::new(path)
                    .parent()
                    .map(|d| d.display().to_string())
                    .unwrap_or_default();
                (
                    "script",
                    path.clone(),
                    with_args(path),
                    Some(source.clone()),
                    Some(dir),
                )
            }
            Program::Main {
                path,
                filename,
                source,
            } => (
                "script",
                filename.clone(),
                with_args(path),
                Some(source.clone()),
                Some(path.clone()),
            ),
            Program::Stdin(code) => (
                "code",
                "<stdin>".to_string(),
                with_args("-"),
                Some(code.clone()),
                Some(String::new()),
            ),
        };
        self.call(
            "pyfleet_core.execution",
            "run_main",
            (mode, target, argv, source, path0),
            (),
        )
        .await
    }

    /// A channel from the child to the master with the default window (16 frames
    /// of up to 1 MiB in flight). Pass the [`ChildSender`] as an argument to a
    /// remote function; it gets a Sender to `send(value)` on and `close()`. The
    /// channel ends when that call returns (or the child closes it).
    pub fn channel_from_child<T: DeserializeOwned>(
        &self,
    ) -> Result<(ChildSender, Receiver<T>), CallError> {
        self.channel_from_child_with_window(DEFAULT_WINDOW)
    }

    /// [`channel_from_child`](Self::channel_from_child) with `window` frames in flight.
    pub fn channel_from_child_with_window<T: DeserializeOwned>(
        &self,
        window: u32,
    ) -> Result<(ChildSender, Receiver<T>), CallError> {
        let (handle, deliveries) = self
            .connection
            .channels()
            .open_incoming(window)
            .map_err(CallError::from_end)?;
        let receiver = Receiver::new(self.connection.clone(), handle, window.max(1), deliveries);
        Ok((receiver.child_sender(), receiver))
    }

    /// A channel from the master to the child with the default window. Pass the
    /// [`ChildReceiver`] as an argument to a remote function; it gets a Receiver to
    /// iterate (or `recv(timeout)`). [`Sender::close`] ends the child's iteration.
    pub fn channel_to_child<T: Serialize>(&self) -> Result<(Sender<T>, ChildReceiver), CallError> {
        self.channel_to_child_with_window(DEFAULT_WINDOW)
    }

    /// [`channel_to_child`](Self::channel_to_child) with `window` frames in flight.
    pub fn channel_to_child_with_window<T: Serialize>(
        &self,
        window: u32,
    ) -> Result<(Sender<T>, ChildReceiver), CallError> {
        let (handle, credit) = self
            .connection
            .channels()
            .open_outgoing(window)
            .map_err(CallError::from_end)?;
        let sender = Sender::new(self.connection.clone(), handle, window.max(1), credit);
        let child_end = sender.child_receiver();
        Ok((sender, child_end))
    }

    /// Call `module.function(*args, **kwargs)` and receive its result as a stream:
    /// a generator (or any iterable) is consumed in the child and each item arrives
    /// here as it is produced, with flow control. An exception, at the start or
    /// halfway, ends the stream with the remote error.
    pub async fn stream<T: DeserializeOwned>(
        &self,
        module: &str,
        function: &str,
        args: impl Serialize,
        kwargs: impl Serialize,
    ) -> Result<Receiver<T>, CallError> {
        let (_, receiver) = self.channel_from_child_with_window::<T>(DEFAULT_WINDOW)?;
        let options = StreamOptions {
            stream: receiver.handle(),
            window: DEFAULT_WINDOW,
        };
        let call = encode_call(module, function, &args, &kwargs, Some(options))?;
        self.connection
            .send_with(CALL, call.body, call.flags)
            .await?;
        Ok(receiver)
    }

    /// True until the context has ended: its connection is open and its process
    /// has not exited (a process killed a moment ago is seen as dead at once, before
    /// the connection notices).
    pub fn is_alive(&self) -> bool {
        self.connection.ended().is_none() && self.connection.process().try_status().is_none()
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
