//! The broker: owner of every context it starts.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use super::context::Context;
use crate::error::{CallError, ConnectError, ForkError};
use crate::method::{
    ChrootOptions, DoasOptions, DockerOptions, Hop, KubectlOptions, LocalOptions, LxcOptions,
    NsenterOptions, PodmanOptions, SshOptions, SuOptions, SudoOptions, UnshareOptions,
};
use crate::router::connection::run_reader;
use crate::router::frame_reader::FrameReader;
use crate::router::frame_writer::FrameWriter;
use crate::router::hops::{self, HopLaunch};
use crate::router::{
    self, ChildRequests, Connection, ConnectionSettings, EndReason, LaunchPlan, OutputHandler,
    log_output,
};
use crate::spawn::ChildProcess;
use crate::wire::{DEFAULT_MAX_MESSAGE_SIZE, DecodeLimits};

/// Default time between asking a child to exit, SIGTERM and SIGKILL.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// Configures a [`Broker`].
pub struct BrokerBuilder {
    max_message_size: usize,
    shutdown_grace: Duration,
    output: Option<OutputHandler>,
    decode_limits: DecodeLimits,
    requests: Option<Arc<dyn ChildRequests>>,
}

impl Default for BrokerBuilder {
    fn default() -> Self {
        BrokerBuilder {
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
            output: None,
            decode_limits: DecodeLimits::default(),
            requests: None,
        }
    }
}

impl BrokerBuilder {
    /// Largest message accepted or sent, both ways (default 128 MiB). A larger
    /// argument or result fails the call with a clear error; nothing is dropped.
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes.min(u32::MAX as usize);
        self
    }

    /// Time a child gets to exit after being asked, and again after SIGTERM,
    /// before SIGKILL (default 3 s).
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }

    /// Where output from children goes (default: tracing events, see
    /// [`log_output`]).
    pub fn on_output(mut self, handler: OutputHandler) -> Self {
        self.output = Some(handler);
        self
    }

    /// Serve Python modules to children: a child that cannot import a module asks
    /// for it (see [`ModuleServer`](crate::services::ModuleServer)).
    pub fn modules(mut self, server: crate::services::ModuleServer) -> Self {
        self.requests = Some(Arc::new(server));
        self
    }

    /// Limits for decoding values sent by children.
    pub fn decode_limits(mut self, limits: DecodeLimits) -> Self {
        self.decode_limits = limits;
        self
    }

    /// The broker. Needs no runtime to be created; contexts are started from a
    /// tokio runtime.
    pub fn build(self) -> Broker {
        Broker {
            shared: Arc::new(Shared {
                settings: ConnectionSettings {
                    max_message_size: self.max_message_size,
                    decode_limits: self.decode_limits,
                    output: self.output.unwrap_or_else(log_output),
                    shutdown_grace: self.shutdown_grace,
                    requests: self.requests,
                },
                contexts: Mutex::new(HashMap::new()),
                next_id: AtomicU32::new(1),
                shut_down: AtomicBool::new(false),
                fork_listener: tokio::sync::OnceCell::new(),
            }),
        }
    }
}

pub(super) struct Shared {
    settings: ConnectionSettings,
    contexts: Mutex<HashMap<u32, Arc<Connection>>>,
    next_id: AtomicU32,
    shut_down: AtomicBool,
    /// Where forked contexts connect back; bound at the first fork.
    fork_listener: tokio::sync::OnceCell<super::fork::ForkListener>,
}

impl Shared {
    fn contexts(&self) -> std::sync::MutexGuard<'_, HashMap<u32, Arc<Connection>>> {
        // Each operation on the map is a single insert/remove/clone.
        self.contexts.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Starts contexts and owns them: when the broker shuts down or is dropped, every
/// context it started is stopped (asked to exit, then SIGTERM, then SIGKILL) and
/// every pending call fails with [`BROKER_SHUTDOWN`](crate::messages::BROKER_SHUTDOWN).
/// Cheap to clone; the last clone's drop shuts down.
#[derive(Clone)]
pub struct Broker {
    shared: Arc<Shared>,
}

impl Default for Broker {
    fn default() -> Self {
        Broker::new()
    }
}

impl Broker {
    /// A broker with default settings.
    pub fn new() -> Broker {
        BrokerBuilder::default().build()
    }

    /// Configure a broker.
    pub fn builder() -> BrokerBuilder {
        BrokerBuilder::default()
    }

    /// Start a Python interpreter on this machine as a new context.
    pub async fn local(&self, options: LocalOptions) -> Result<Context, ConnectError> {
        let id = self.allocate_id()?;
        let name = options.context_name(id);
        let plan = options.plan().await?;
        let context = self.start_plan(id, name, plan).await?;
        if options.executor_choice() != crate::Executor::Serial
            && let Err(error) = context.set_executor(options.executor_choice()).await
        {
            context.shutdown().await;
            return Err(ConnectError::InvalidOption(format!(
                "executor {:?}: {error}",
                options.executor_choice()
            )));
        }
        Ok(context)
    }

    /// Start a context through a method other than local: sudo, su, doas, ssh,
    /// podman, docker, kubectl, lxc/incus, nsenter, unshare or chroot. Takes any
    /// method's options (`SshOptions`, `SudoOptions`, …) or a [`Hop`].
    ///
    /// The method's plan is checked before anything starts; password prompts are
    /// answered on a PTY; a refused password fails at once with
    /// [`ConnectError::AuthenticationFailed`].
    pub async fn connect(&self, hop: impl Into<Hop>) -> Result<Context, ConnectError> {
        let hop = hop.into();
        let id = self.allocate_id()?;
        let name = hop.context_name(id);
        let plan = hop.launch_plan()?;
        self.start_plan(id, name, plan).await
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

    /// [`connect`](Self::connect) with `podman exec`.
    pub async fn podman(&self, options: PodmanOptions) -> Result<Context, ConnectError> {
        self.connect(options).await
    }

    /// [`connect`](Self::connect) with `docker exec`.
    pub async fn docker(&self, options: DockerOptions) -> Result<Context, ConnectError> {
        self.connect(options).await
    }

    /// [`connect`](Self::connect) with `kubectl exec`.
    pub async fn kubectl(&self, options: KubectlOptions) -> Result<Context, ConnectError> {
        self.connect(options).await
    }

    /// [`connect`](Self::connect) with `lxc exec` or `incus exec`.
    pub async fn lxc(&self, options: LxcOptions) -> Result<Context, ConnectError> {
        self.connect(options).await
    }

    /// [`connect`](Self::connect) with nsenter.
    pub async fn nsenter(&self, options: NsenterOptions) -> Result<Context, ConnectError> {
        self.connect(options).await
    }

    /// [`connect`](Self::connect) with unshare.
    pub async fn unshare(&self, options: UnshareOptions) -> Result<Context, ConnectError> {
        self.connect(options).await
    }

    /// [`connect`](Self::connect) with chroot.
    pub async fn chroot(&self, options: ChrootOptions) -> Result<Context, ConnectError> {
        self.connect(options).await
    }

    /// Start a context from a launch plan made by a method.
    pub async fn connect_plan(
        &self,
        name: Option<String>,
        plan: LaunchPlan,
    ) -> Result<Context, ConnectError> {
        let id = self.allocate_id()?;
        let name = name.unwrap_or_else(|| format!("context.{id}"));
        self.start_plan(id, name, plan).await
    }

    pub(crate) fn allocate_id(&self) -> Result<u32, ConnectError> {
        if self.shared.shut_down.load(Ordering::Acquire) {
            return Err(ConnectError::BrokerShutdown);
        }
        Ok(self.shared.next_id.fetch_add(1, Ordering::Relaxed))
    }

    async fn start_plan(
        &self,
        id: u32,
        name: String,
        plan: LaunchPlan,
    ) -> Result<Context, ConnectError> {
        // A child spawned directly (no hop) runs on this machine: it may fork.
        let local = plan.hop.is_none();
        let connection = router::connect(id, name, plan, self.shared.settings.clone()).await?;
        if local {
            connection.set_forkable();
        }
        self.register(connection).await
    }

    /// Start a context through `via`, which becomes its parent (see
    /// [`Context::connect`]).
    pub(crate) async fn start_via(
        &self,
        via: &Context,
        id: u32,
        name: String,
        launch: HopLaunch,
    ) -> Result<Context, ConnectError> {
        let connection = hops::connect_via(via.connection(), id, name, launch).await?;
        self.register(connection).await
    }

    /// Own a new connection: stopped at shutdown, forgotten when it ends.
    async fn register(&self, connection: Arc<Connection>) -> Result<Context, ConnectError> {
        if self.shared.shut_down.load(Ordering::Acquire) {
            connection.shutdown(EndReason::BrokerShutdown).await;
            return Err(ConnectError::BrokerShutdown);
        }
        self.shared
            .contexts()
            .insert(connection.id(), connection.clone());
        tokio::spawn(forget_when_ended(
            Arc::downgrade(&self.shared),
            connection.clone(),
        ));
        Ok(Context::new(connection, self.weak()))
    }

    fn weak(&self) -> BrokerRef {
        BrokerRef(Arc::downgrade(&self.shared))
    }

    /// Fork `parent` into a new context of this broker (see [`Context::fork`]).
    pub(super) async fn fork_context(&self, parent: &Context) -> Result<Context, ForkError> {
        let connection = parent.connection();
        if !connection.is_forkable() {
            return Err(ForkError::NotLocal {
                context: parent.name().to_string(),
                reason: "this one was started through a hop (ssh, sudo, a container …)".into(),
            });
        }
        let listener = self
            .shared
            .fork_listener
            .get_or_try_init(|| async { super::fork::ForkListener::bind() })
            .await
            .map_err(ForkError::Listen)?;
        let id = self
            .allocate_id()
            .map_err(|_| ForkError::Call(CallError::BrokerShutdown))?;
        let copy = super::fork::fork_copy(listener, parent, id).await?;
        let process = ChildProcess::foreign(copy.pid);
        connection.adopt_fork(process.clone());
        let mut facts = parent.facts().clone();
        facts.pid = copy.pid;
        let settings = self.shared.settings.clone();
        let writer = FrameWriter::new(copy.write).map_err(ForkError::Listen)?;
        let reader =
            FrameReader::new(copy.read, settings.max_message_size).map_err(ForkError::Listen)?;
        let forked = Arc::new(Connection::new(
            id,
            format!("{}.fork.{id}", parent.name()),
            process,
            facts,
            connection.verification().clone(),
            writer,
            settings,
        ));
        forked.set_forkable();
        tokio::spawn(run_reader(forked.clone(), reader));
        self.register(forked)
            .await
            .map_err(|_| ForkError::Call(CallError::BrokerShutdown))
    }

    /// The contexts that are running.
    pub fn contexts(&self) -> Vec<Context> {
        self.shared
            .contexts()
            .values()
            .cloned()
            .map(|connection| Context::new(connection, self.weak()))
            .collect()
    }

    /// Stop every context and refuse new ones. Pending calls fail with the
    /// broker-shutdown message; returns once every child has exited.
    pub async fn shutdown(&self) {
        self.shared.shut_down.store(true, Ordering::Release);
        let connections: Vec<Arc<Connection>> =
            self.shared.contexts().drain().map(|(_, c)| c).collect();
        let mut tasks = tokio::task::JoinSet::new();
        for connection in connections {
            tasks.spawn(async move {
                connection.shutdown(EndReason::BrokerShutdown).await;
                connection.wait_end().await;
            });
        }
        while tasks.join_next().await.is_some() {}
    }

    /// True once [`shutdown`](Self::shutdown) was called.
    pub fn is_shut_down(&self) -> bool {
        self.shared.shut_down.load(Ordering::Acquire)
    }
}

/// A broker as its contexts know it: without keeping it alive.
#[derive(Clone)]
pub(crate) struct BrokerRef(Weak<Shared>);

impl BrokerRef {
    /// The broker, unless it was dropped.
    pub(crate) fn upgrade(&self) -> Result<Broker, ConnectError> {
        self.0
            .upgrade()
            .map(|shared| Broker { shared })
            .ok_or(ConnectError::BrokerShutdown)
    }
}

async fn forget_when_ended(shared: Weak<Shared>, connection: Arc<Connection>) {
    connection.wait_end().await;
    if let Some(shared) = shared.upgrade() {
        shared.contexts().remove(&connection.id());
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        let connections: Vec<Arc<Connection>> = self.contexts().drain().map(|(_, c)| c).collect();
        if connections.is_empty() {
            return;
        }
        for connection in &connections {
            connection.shutdown_now(EndReason::BrokerShutdown);
        }
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                handle.spawn(async move {
                    for connection in connections {
                        tokio::spawn(async move {
                            connection.shutdown(EndReason::BrokerShutdown).await
                        });
                    }
                });
            }
            Err(_) => escalate_without_runtime(connections, self.settings.shutdown_grace),
        }
    }
}

/// Outside any runtime nothing can await the children; a thread signals those that
/// did not exit after their input closed.
fn escalate_without_runtime(connections: Vec<Arc<Connection>>, grace: Duration) {
    let spawned = std::thread::Builder::new()
        .name("pyfleet-shutdown".into())
        .spawn(move || {
            std::thread::sleep(grace);
            for connection in &connections {
                if let Some(process) = connection.direct_process() {
                    let _ = process.terminate();
                }
            }
            std::thread::sleep(grace);
            for connection in &connections {
                if let Some(process) = connection.direct_process() {
                    let _ = process.kill();
                }
            }
        });
    if let Err(error) = spawned {
        tracing::warn!(%error, "cannot start the shutdown thread; children will exit when their input closes");
    }
}
