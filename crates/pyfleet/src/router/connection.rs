//! One context's connection: the write side, the calls waiting on it, and what to
//! do with each frame its reader task delivers.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::watch;

use super::context_end::{ContextEnd, EndReason};
use super::frame_reader::{FrameReader, ReadError};
use super::frame_writer::FrameWriter;
use super::handles::{self, FIRST_DYNAMIC};
use super::output::{OutputEvent, OutputHandler, OutputStream};
use super::pending::{PendingCalls, PendingGuard, Reply};
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
}

/// A running context's connection.
pub struct Connection {
    id: u32,
    name: String,
    process: ChildProcess,
    facts: ChildFacts,
    verification: Verification,
    writer: FrameWriter,
    pending: PendingCalls,
    settings: ConnectionSettings,
    dropped: DropCounters,
    end: watch::Sender<Option<Arc<ContextEnd>>>,
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
            process,
            facts,
            verification,
            writer,
            pending: PendingCalls::default(),
            settings,
            dropped: DropCounters::default(),
            end: watch::channel(None).0,
        }
    }

    /// The context id.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// The context name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The child process.
    pub fn process(&self) -> &ChildProcess {
        &self.process
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
        self.check_size(body.len())?;
        let (reply_to, rx) = self.pending.register().map_err(CallError::from_end)?;
        let guard = PendingGuard::new(&self.pending, reply_to);
        self.write(handle, reply_to, body).await?;
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
        self.check_size(body.len())?;
        if let Some(end) = self.pending.ended() {
            return Err(CallError::from_end(end));
        }
        self.write(handle, 0, body).await
    }

    fn check_size(&self, size: usize) -> Result<(), CallError> {
        let max = self.settings.max_message_size;
        if size > max {
            return Err(CallError::TooLarge { size, max });
        }
        Ok(())
    }

    async fn write(&self, handle: u32, reply_to: u32, body: FrameBody) -> Result<(), CallError> {
        match self
            .writer
            .send_to(self.id, handle, reply_to, 0, body)
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
            self.pending.end(ContextEnd {
                context: self.name.clone(),
                pid: Some(self.process.pid()),
                reason: EndReason::Shutdown,
            })
        })
    }

    /// Handle one frame from the child.
    async fn dispatch(&self, header: Header, body: Bytes) {
        if header.src != self.id || header.dst != 0 {
            self.dropped.spoofed.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(context = %self.name, src = header.src, dst = header.dst, "dropped a frame with a foreign address");
            return;
        }
        if header.handle >= FIRST_DYNAMIC {
            if !self.pending.complete(header.handle, (header, body)) {
                self.dropped.unexpected.fetch_add(1, Ordering::Relaxed);
            }
            return;
        }
        match header.handle {
            handles::OUTPUT => self.forward_output(&body),
            handles::LOAD_CORE => {
                let limits = &self.settings.decode_limits;
                if let Err(error) =
                    super::core_modules::answer(&self.writer, self.id, &header, &body, limits).await
                {
                    tracing::debug!(context = %self.name, %error, "could not answer a core module request");
                }
            }
            _ => {
                self.dropped.unexpected.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(context = %self.name, handle = header.handle, "dropped a frame for an unknown handle");
            }
        }
    }

    fn forward_output(&self, body: &Bytes) {
        match from_body::<(u8, crate::wire::ByteBuf)>(body, &self.settings.decode_limits) {
            Ok((stream, data)) => (self.settings.output)(OutputEvent {
                context: &self.name,
                context_id: self.id,
                stream: if stream == 2 {
                    OutputStream::Stderr
                } else {
                    OutputStream::Stdout
                },
                data: &data.0,
            }),
            Err(error) => {
                self.dropped.unexpected.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(context = %self.name, %error, "dropped an undecodable output frame");
            }
        }
    }

    /// Stop the context: fail its calls with `reason`, close its input (the core
    /// exits at end of stream), then SIGTERM and SIGKILL, each after the grace period.
    pub async fn shutdown(&self, reason: EndReason) {
        self.pending.end(self.end_with(reason));
        self.writer.close().await;
        let grace = self.settings.shutdown_grace;
        if self.process.wait_timeout(grace).await.is_none() {
            let _ = self.process.terminate();
            if self.process.wait_timeout(grace).await.is_none() {
                let _ = self.process.kill();
                self.process.wait().await;
            }
        }
    }

    /// Shutdown without awaiting, for Drop paths: fail the calls and close the
    /// input now; a std thread escalates to signals if the child lingers.
    pub fn shutdown_now(self: &Arc<Self>, reason: EndReason) {
        self.pending.end(self.end_with(reason));
        self.writer.try_close();
    }

    fn end_with(&self, reason: EndReason) -> ContextEnd {
        ContextEnd {
            context: self.name.clone(),
            pid: Some(self.process.pid()),
            reason,
        }
    }

    /// Called once the reader stops: find out how the child ended, fail what waits.
    async fn finish(&self, outcome: Result<(), ReadError>) {
        self.writer.close().await;
        let reason = match outcome {
            Ok(()) => match self.process.wait_timeout(EXIT_STATUS_WAIT).await {
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
        let end = self.pending.end(self.end_with(reason));
        self.end.send_replace(Some(end));
    }

    async fn stop(&self) -> Option<ExitStatus> {
        let _ = self.process.kill();
        self.process.wait_timeout(EXIT_STATUS_WAIT).await
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
