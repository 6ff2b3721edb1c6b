//! One context's connection: the write side, the calls waiting on it, and what to
//! do with each frame its reader task delivers.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::watch;

use super::channels::{Channels, FIRST_INCOMING};
use super::context_end::{ContextEnd, EndReason};
use super::frame_reader::{FrameReader, ReadError};
use super::frame_writer::FrameWriter;
use super::handles::{self, FIRST_DYNAMIC};
use super::output::{LogRecord, OutputEvent, OutputHandler, OutputStream};
use super::output_budget::OutputBudget;
use super::pending::{PendingCalls, PendingGuard, Reply};
use super::requests::{Answer, ChildRequests};
use crate::bootstrap::ChildFacts;
use crate::error::CallError;
use crate::spawn::{ChildProcess, ExitStatus};
use crate::startup::Verification;
use crate::wire::{DecodeLimits, FrameBody, Header, from_body};

/// How long an ended stream waits for its process's exit status before stopping it.
const EXIT_STATUS_WAIT: Duration = Duration::from_secs(2);

/// Frames a context sent that were dropped, by reason.
#[derive(Debug, Default)]
pub struct DropCounters {
    /// Frames claiming a source id other than the context's own.
    pub spoofed: AtomicU64,
    /// Frames for a handle nobody waits on (late replies, unknown handles).
    pub unexpected: AtomicU64,
}

/// Settings shared by every connection of a broker.
#[derive(Clone)]
pub struct ConnectionSettings {
    /// Frames above this size are refused both ways.
    pub max_message_size: usize,
    /// Limits for decoding values from children.
    pub decode_limits: DecodeLimits,
    /// Where child output goes.
    pub output: OutputHandler,
    /// Time between "exit please", SIGTERM and SIGKILL at shutdown.
    pub shutdown_grace: Duration,
    /// Answers children's requests for modules and data files, if any.
    pub requests: Option<Arc<dyn ChildRequests>>,
}

/// How the master reaches a context.
enum Carrier {
    /// The master started its process: the process's pipes are the link.
    Direct(ChildProcess),
    /// Another context (a hop) started it; frames travel through that hop's link.
    Routed {
        /// The hop that started it.
        parent: Arc<Connection>,
        /// Its process id, as it reported it.
        pid: u32,
    },
}

/// The contexts reached through one direct link, other than the link's own, by id:
/// a frame on that link claiming one of these sources is theirs; any other foreign
/// source is spoofed.
#[derive(Default)]
pub(crate) struct Routes(Mutex<HashMap<u32, Weak<Connection>>>);

impl Routes {
    fn lock(&self) -> MutexGuard<'_, HashMap<u32, Weak<Connection>>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn insert(&self, connection: &Arc<Connection>) {
        self.lock()
            .insert(connection.id(), Arc::downgrade(connection));
    }

    fn get(&self, id: u32) -> Option<Arc<Connection>> {
        self.lock().get(&id).and_then(Weak::upgrade)
    }

    fn remove(&self, id: u32) {
        self.lock().remove(&id);
    }
}

/// A running context's connection.
pub struct Connection {
    id: u32,
    name: String,
    carrier: Carrier,
    facts: ChildFacts,
    verification: Verification,
    writer: Arc<FrameWriter>,
    routes: Arc<Routes>,
    /// The contexts this one started, as a hop.
    children: Mutex<HashMap<u32, Weak<Connection>>>,
    /// Set once this context was asked to become a parent and did.
    parent_ready: tokio::sync::OnceCell<()>,
    pending: PendingCalls,
    channels: Channels,
    settings: ConnectionSettings,
    dropped: DropCounters,
    output_budget: OutputBudget,
    end: watch::Sender<Option<Arc<ContextEnd>>>,
    /// The hop's pseudo-terminal, held open while the context lives: closing the
    /// master would hang up the terminal and SIGHUP ssh, sudo or su.
    terminal: Option<super::pty_launch::HeldTerminal>,
    /// The child runs on this machine, so a copy it forks can connect back.
    forkable: std::sync::atomic::AtomicBool,
    /// Contexts this child forked, by pid: it reports their exit statuses.
    forks: std::sync::Mutex<std::collections::HashMap<u32, ChildProcess>>,
}

impl Connection {
    /// A connection over a bootstrapped child; start its reader with [`run_reader`].
    pub fn new(
        id: u32,
        name: String,
        process: ChildProcess,
        facts: ChildFacts,
        verification: Verification,
        writer: FrameWriter,
        settings: ConnectionSettings,
    ) -> Connection {
        Connection {
            id,
            name,
            carrier: Carrier::Direct(process),
            facts,
            verification,
            writer: Arc::new(writer),
            routes: Arc::default(),
            children: Mutex::default(),
            parent_ready: tokio::sync::OnceCell::new(),
            pending: PendingCalls::default(),
            channels: Channels::default(),
            settings,
            dropped: DropCounters::default(),
            output_budget: OutputBudget::default(),
            end: watch::channel(None).0,
            terminal: None,
            forkable: std::sync::atomic::AtomicBool::new(false),
            forks: std::sync::Mutex::new(std::collections::HashMap::new()),
        }
    }

    /// Mark the child as running on this machine (it may fork).
    pub fn set_forkable(&self) {
        self.forkable.store(true, Ordering::Release);
    }

    /// True if the child runs on this machine and may fork.
    pub fn is_forkable(&self) -> bool {
        self.forkable.load(Ordering::Acquire)
    }

    /// Remember a context this child forked, so its reported exit status reaches it.
    pub fn adopt_fork(&self, process: ChildProcess) {
        self.forks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(process.pid(), process);
    }

    fn fork_exited(&self, body: &Bytes) {
        match from_body::<(u32, i32)>(body, &self.settings.decode_limits) {
            Ok((pid, raw)) => {
                let process = self
                    .forks
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(&pid);
                if let (Some(process), Some(status)) = (process, ExitStatus::from_wait_status(raw))
                {
                    process.publish_status(status);
                }
            }
            Err(error) => self.drop_undecodable("fork exit", &error),
        }
    }

    /// A context that `parent` started as a hop, reached through its link.
    pub(crate) fn routed(
        id: u32,
        name: String,
        parent: Arc<Connection>,
        facts: ChildFacts,
        verification: Verification,
    ) -> Connection {
        let pid = facts.pid;
        Connection {
            id,
            name,
            writer: parent.writer.clone(),
            routes: parent.routes.clone(),
            settings: parent.settings.clone(),
            carrier: Carrier::Routed { parent, pid },
            facts,
            verification,
            children: Mutex::default(),
            parent_ready: tokio::sync::OnceCell::new(),
            pending: PendingCalls::default(),
            channels: Channels::default(),
            dropped: DropCounters::default(),
            output_budget: OutputBudget::default(),
            end: watch::channel(None).0,
            terminal: None,
            // Behind a hop: not on this machine as far as fork is concerned.
            forkable: std::sync::atomic::AtomicBool::new(false),
            forks: std::sync::Mutex::new(std::collections::HashMap::new()),
        }
    }

    /// Keep `terminal` open for as long as this connection exists.
    pub fn with_terminal(mut self, terminal: Option<super::pty_launch::HeldTerminal>) -> Self {
        self.terminal = terminal;
        self
    }

    /// The context id.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// The context name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The process the master started to reach this context: its own for a
    /// direct child; for a context behind hops, the first hop's.
    pub fn process(&self) -> &ChildProcess {
        match &self.carrier {
            Carrier::Direct(process) => process,
            Carrier::Routed { parent, .. } => parent.process(),
        }
    }

    /// The context's own process, when the master started it.
    pub fn direct_process(&self) -> Option<&ChildProcess> {
        match &self.carrier {
            Carrier::Direct(process) => Some(process),
            Carrier::Routed { .. } => None,
        }
    }

    /// The context's process id (as its own host sees it, for one behind hops).
    pub fn pid(&self) -> u32 {
        match &self.carrier {
            Carrier::Direct(process) => process.pid(),
            Carrier::Routed { pid, .. } => *pid,
        }
    }

    /// The hop that started this context, if the master did not.
    pub fn parent(&self) -> Option<&Arc<Connection>> {
        match &self.carrier {
            Carrier::Direct(_) => None,
            Carrier::Routed { parent, .. } => Some(parent),
        }
    }

    /// The hops from the master's direct child down to this context, both included.
    pub fn path(self: &Arc<Self>) -> Vec<Arc<Connection>> {
        let mut path = vec![self.clone()];
        while let Some(parent) = path.last().and_then(|c| c.parent()).cloned() {
            path.push(parent);
        }
        path.reverse();
        path
    }

    pub(crate) fn routes(&self) -> &Routes {
        &self.routes
    }

    pub(crate) fn parent_ready(&self) -> &tokio::sync::OnceCell<()> {
        &self.parent_ready
    }

    fn children(&self) -> MutexGuard<'_, HashMap<u32, Weak<Connection>>> {
        self.children.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn add_child(&self, child: &Arc<Connection>) {
        self.children().insert(child.id, Arc::downgrade(child));
    }

    pub(crate) fn child(&self, id: u32) -> Option<Arc<Connection>> {
        self.children().get(&id).and_then(Weak::upgrade)
    }

    /// What the child reported in its HELLO.
    pub fn facts(&self) -> &ChildFacts {
        &self.facts
    }

    /// How the child's report compared with its start-up configuration.
    pub fn verification(&self) -> &Verification {
        &self.verification
    }

    /// Settings this connection runs with.
    pub fn settings(&self) -> &ConnectionSettings {
        &self.settings
    }

    /// Frames dropped so far.
    pub fn dropped(&self) -> &DropCounters {
        &self.dropped
    }

    /// Calls waiting for replies.
    pub fn pending_calls(&self) -> usize {
        self.pending.len()
    }

    /// How the context ended, if it has.
    pub fn ended(&self) -> Option<Arc<ContextEnd>> {
        self.pending.ended()
    }

    /// Wait until the context has ended and its reader has finished.
    pub async fn wait_end(&self) -> Arc<ContextEnd> {
        let mut rx = self.end.subscribe();
        loop {
            if let Some(end) = rx.borrow_and_update().clone() {
                return end;
            }
            if rx.changed().await.is_err() {
                // The sender lives in self, so this cannot happen while self exists.
                return self
                    .pending
                    .ended()
                    .expect("ended before the sender was dropped");
            }
        }
    }

    /// Send `body` to `handle` and wait for the reply.
    pub async fn request(&self, handle: u32, body: FrameBody) -> Result<Reply, CallError> {
        self.request_with(handle, body, 0).await
    }

    /// [`request`](Self::request) with header flags (e.g. CHANNELS).
    pub async fn request_with(
        &self,
        handle: u32,
        body: FrameBody,
        flags: u8,
    ) -> Result<Reply, CallError> {
        self.check_size(body.len())?;
        let (reply_to, rx) = self.pending.register().map_err(CallError::from_end)?;
        let guard = PendingGuard::new(&self.pending, reply_to);
        self.write(handle, reply_to, flags, body).await?;
        let outcome = rx.await;
        guard.disarm();
        match outcome {
            Ok(Ok(reply)) => Ok(reply),
            Ok(Err(end)) => Err(CallError::from_end(end)),
            Err(_) => Err(CallError::from_end(self.end_now())),
        }
    }

    /// Send `body` to `handle` without waiting for any reply.
    pub async fn send(&self, handle: u32, body: FrameBody) -> Result<(), CallError> {
        self.send_with(handle, body, 0).await
    }

    /// [`send`](Self::send) with header flags (END, MORE, CHANNELS).
    pub async fn send_with(
        &self,
        handle: u32,
        body: FrameBody,
        flags: u8,
    ) -> Result<(), CallError> {
        self.check_size(body.len())?;
        if let Some(end) = self.pending.ended() {
            return Err(CallError::from_end(end));
        }
        self.write(handle, 0, flags, body).await
    }

    /// The channels of this connection.
    pub fn channels(&self) -> &Channels {
        &self.channels
    }

    fn check_size(&self, size: usize) -> Result<(), CallError> {
        let max = self.settings.max_message_size;
        if size > max {
            return Err(CallError::TooLarge { size, max });
        }
        Ok(())
    }

    async fn write(
        &self,
        handle: u32,
        reply_to: u32,
        flags: u8,
        body: FrameBody,
    ) -> Result<(), CallError> {
        match self
            .writer
            .send_to(self.id, handle, reply_to, flags, body)
            .await
        {
            Ok(()) => Ok(()),
            Err(_) => {
                // The write side fails only when the child is gone or going; the
                // reader reports how it ended.
                let end = match self.pending.ended() {
                    Some(end) => end,
                    None => self.wait_end().await,
                };
                Err(CallError::from_end(end))
            }
        }
    }

    /// The end to report when a reply channel was dropped without an answer.
    fn end_now(&self) -> Arc<ContextEnd> {
        self.pending.ended().unwrap_or_else(|| {
            self.end_all(ContextEnd {
                context: self.name.clone(),
                pid: Some(self.pid()),
                reason: EndReason::Shutdown,
            })
        })
    }

    /// Handle one frame from the link: this context's own, or one from a context
    /// behind it.
    async fn dispatch(&self, header: Header, body: Bytes) {
        if header.src != self.id
            && let Some(behind) = self.routes.get(header.src)
        {
            return behind.dispatch_own(header, body).await;
        }
        self.dispatch_own(header, body).await
    }

    /// Handle one frame from this context.
    async fn dispatch_own(&self, header: Header, body: Bytes) {
        if header.src != self.id || header.dst != 0 {
            self.dropped.spoofed.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(context = %self.name, src = header.src, dst = header.dst, "dropped a frame with a foreign address");
            return;
        }
        if header.handle >= FIRST_INCOMING && self.channels.is_incoming(header.handle) {
            self.channels.deliver(header, body);
            return;
        }
        if header.handle >= FIRST_DYNAMIC {
            if !self.pending.complete(header.handle, (header, body)) {
                self.dropped.unexpected.fetch_add(1, Ordering::Relaxed);
            }
            return;
        }
        if let Some(requests) = self.settings.requests.clone()
            && requests.answers(header.handle)
        {
            self.answer_request(requests.as_ref(), &header, body).await;
            return;
        }
        match header.handle {
            handles::OUTPUT => self.forward_output(&body),
            handles::HOP if self.parent_ready.initialized() => {
                super::hops::notice(self, &body);
            }
            handles::FORK_EXIT => self.fork_exited(&body),
            handles::LOG => self.forward_log(&body),
            handles::CREDIT => match from_body::<(u32, i64)>(&body, &self.settings.decode_limits) {
                Ok((channel, count)) => self.channels.credit(channel, count),
                Err(error) => self.drop_undecodable("credit", &error),
            },
            handles::LOAD_CORE => {
                let limits = &self.settings.decode_limits;
                if let Err(error) =
                    super::core_modules::answer(&self.writer, self.id, &header, &body, limits).await
                {
                    tracing::debug!(context = %self.name, %error, "could not answer a core module request");
                }
            }
            handles::GET_MODULE => {
                // No module server: every module is unknown to this parent.
                self.answer_none(&header).await;
            }
            _ => {
                self.dropped.unexpected.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(context = %self.name, handle = header.handle, "dropped a frame for an unknown handle");
            }
        }
    }

    async fn answer_none(&self, header: &Header) {
        if header.reply_to != 0 {
            let body = crate::wire::to_body(&()).unwrap_or_default();
            let _ = self
                .writer
                .send_to(self.id, header.reply_to, 0, 0, body)
                .await;
        }
    }

    async fn answer_request(&self, requests: &dyn ChildRequests, header: &Header, body: Bytes) {
        let answer = requests.answer(self.id, header.handle, body).await;
        if header.reply_to == 0 {
            return;
        }
        let (flags, body) = match answer {
            Answer::Value(body) => (0, body),
            Answer::Error(type_name, message) => (
                crate::wire::flags::ERROR,
                crate::wire::to_body(&(type_name, message, "")).unwrap_or_default(),
            ),
        };
        if let Err(error) = self
            .writer
            .send_to(self.id, header.reply_to, 0, flags, body)
            .await
        {
            tracing::debug!(context = %self.name, %error, "could not answer a request");
        }
    }

    fn forward_output(&self, body: &Bytes) {
        match from_body::<(u8, crate::wire::ByteBuf)>(body, &self.settings.decode_limits) {
            Ok((stream, data)) => {
                let stream = if stream == 2 {
                    OutputStream::Stderr
                } else {
                    OutputStream::Stdout
                };
                self.emit(stream, &data.0, None);
            }
            Err(error) => self.drop_undecodable("output", &error),
        }
    }

    fn forward_log(&self, body: &Bytes) {
        match from_body::<(u32, String, crate::wire::ByteBuf)>(body, &self.settings.decode_limits) {
            Ok((level, logger, message)) => {
                self.emit(
                    OutputStream::Log,
                    &message.0,
                    Some(LogRecord {
                        level,
                        logger: &logger,
                    }),
                );
            }
            Err(error) => self.drop_undecodable("log", &error),
        }
    }

    /// Hand an event to the output handler, within the child's output budget.
    pub(crate) fn emit(&self, stream: OutputStream, data: &[u8], log: Option<LogRecord<'_>>) {
        let (admitted, dropped) = self.output_budget.admit(data.len());
        if let Some(dropped) = dropped {
            tracing::warn!(
                context = %self.name,
                events = dropped.events,
                bytes = dropped.bytes,
                "dropped output of a child that writes faster than the master's output budget"
            );
        }
        if admitted {
            (self.settings.output)(OutputEvent {
                context: &self.name,
                context_id: self.id,
                stream,
                data,
                log,
            });
        }
    }

    pub(crate) fn drop_undecodable(&self, what: &str, error: &crate::wire::DecodeError) {
        self.dropped.unexpected.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(context = %self.name, %error, "dropped an undecodable {what} frame");
    }

    /// Stop the context: fail its calls with `reason`, close its input (the core
    /// exits at end of stream), then SIGTERM and SIGKILL, each after the grace period.
    pub async fn shutdown(&self, reason: EndReason) {
        self.shutdown_within(reason, self.settings.shutdown_grace)
            .await;
    }

    /// For a context behind a hop: ask the hop to stop it, each step after
    /// `grace` (zero: SIGKILL at once), leaving its end to the hop's report (so it
    /// says how the process really ended). `false` for a child of the master.
    pub async fn stop_through_hop(&self, grace: Duration) -> bool {
        match &self.carrier {
            Carrier::Routed { parent, .. } => {
                super::hops::stop_within(self, parent, grace).await;
                true
            }
            Carrier::Direct(_) => false,
        }
    }

    /// [`shutdown`](Self::shutdown) with `grace` instead of the broker's.
    pub async fn shutdown_within(&self, reason: EndReason, grace: Duration) {
        self.end_all(self.end_with(reason));
        let process = match &self.carrier {
            Carrier::Direct(process) => process,
            Carrier::Routed { parent, .. } => {
                super::hops::stop_within(self, parent, grace).await;
                return;
            }
        };
        self.writer.close().await;
        if process.wait_timeout(grace).await.is_none() {
            let _ = process.terminate();
            if process.wait_timeout(grace).await.is_none() {
                let _ = process.kill();
                // Bounded: a process stuck in the kernel (or a forked context whose
                // status only its parent core can report) must not hang shutdown.
                let _ = process.wait_timeout(EXIT_STATUS_WAIT).await;
            }
        }
    }

    /// Shutdown without awaiting, for Drop paths: fail the calls and close the
    /// input now; a std thread escalates to signals if the child lingers.
    pub fn shutdown_now(self: &Arc<Self>, reason: EndReason) {
        let end = self.end_all(self.end_with(reason));
        match self.carrier {
            Carrier::Direct(_) => {
                self.writer.try_close();
            }
            // Its first hop's link closes too: the whole chain ends with it.
            Carrier::Routed { .. } => self.after_end(&end),
        }
    }

    /// Record how the context ended (the first end wins) and end every call and
    /// channel still waiting on it.
    fn end_all(&self, end: ContextEnd) -> Arc<ContextEnd> {
        let end = self.pending.end(end);
        self.channels.end(end.clone());
        end
    }

    pub(crate) fn end_with(&self, reason: EndReason) -> ContextEnd {
        ContextEnd {
            context: self.name.clone(),
            pid: Some(self.pid()),
            reason,
        }
    }

    /// End a context behind a hop, and everything behind it.
    pub(crate) fn end_routed(&self, reason: EndReason) -> Arc<ContextEnd> {
        let end = self.end_all(self.end_with(reason));
        self.after_end(&end);
        end
    }

    /// Publish the end, and end the contexts this one started, naming it.
    fn after_end(&self, end: &Arc<ContextEnd>) {
        self.end.send_replace(Some(end.clone()));
        let children: Vec<Arc<Connection>> = self
            .children()
            .drain()
            .filter_map(|(_, child)| child.upgrade())
            .collect();
        for child in children {
            child.end_routed(EndReason::HopEnded {
                hop: self.name.clone(),
                detail: end.to_string(),
            });
        }
        if let Carrier::Routed { parent, .. } = &self.carrier {
            self.routes.remove(self.id);
            parent.children().remove(&self.id);
            super::hops::forget_routes(parent, self.id);
        }
    }

    /// Called once the reader stops: find out how the child ended, fail what waits.
    async fn finish(&self, outcome: Result<(), ReadError>) {
        self.writer.close().await;
        let reason = match outcome {
            Ok(()) => match self.process().wait_timeout(EXIT_STATUS_WAIT).await {
                Some(status) => EndReason::Exited(status),
                None => EndReason::Disconnected {
                    status: self.stop().await,
                },
            },
            Err(error) => {
                tracing::warn!(context = %self.name, %error, "stopping a context that broke the protocol");
                EndReason::ProtocolViolation {
                    detail: error.to_string(),
                    status: self.stop().await,
                }
            }
        };
        let end = self.end_all(self.end_with(reason));
        self.after_end(&end);
    }

    async fn stop(&self) -> Option<ExitStatus> {
        let process = self.process();
        let _ = process.kill();
        process.wait_timeout(EXIT_STATUS_WAIT).await
    }
}

/// The reader task of a connection: dispatch frames until the stream ends.
pub async fn run_reader(connection: Arc<Connection>, mut reader: FrameReader) {
    let outcome = loop {
        match reader.read_frame().await {
            Ok(Some((header, body))) => connection.dispatch(header, body).await,
            Ok(None) => break Ok(()),
            Err(error) => break Err(error),
        }
    };
    connection.finish(outcome).await;
}
