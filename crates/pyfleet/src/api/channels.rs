//! Channels between the master and a child: typed, flow-controlled, closable.
//!
//! A channel has a window: at most that many frames are in flight, and the
//! receiving side gives credit back as it consumes, so a fast producer waits for a
//! slow consumer instead of filling anyone's memory. A value larger than one frame
//! travels as 1 MiB chunks. Either end closing ends the channel cleanly; a context
//! that dies ends it with an error saying how.

use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use serde::de::DeserializeOwned;
use serde::{Serialize, Serializer};
use tokio::sync::mpsc;

use crate::error::{CallError, RemoteError};
use crate::router::Connection;
use crate::router::channels::{CHUNK, Credit, CreditError, Delivery};
use crate::router::handles::CREDIT;
use crate::wire::{FrameBody, flags, from_body, to_body};

/// The tuple a channel end is written as in call arguments; the child's core
/// (python/pyfleet_core/channels.py) replaces it with its Sender or Receiver.
const SENDER_MARKER: &str = "\0pyfleet:sender";
const RECEIVER_MARKER: &str = "\0pyfleet:receiver";

/// The child's end of a channel towards the master: pass it as an argument to a
/// remote function, which gets a `Sender` with `send(value)` and `close()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChildSender {
    handle: u32,
    window: u32,
}

/// The child's end of a channel from the master: pass it as an argument to a
/// remote function, which gets a `Receiver` to iterate (or `recv(timeout)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChildReceiver {
    handle: u32,
    window: u32,
}

impl Serialize for ChildSender {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        crate::router::mark_channel_end(self.handle);
        (SENDER_MARKER, self.handle, self.window).serialize(serializer)
    }
}

impl Serialize for ChildReceiver {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        crate::router::mark_channel_end(self.handle);
        (RECEIVER_MARKER, self.handle, self.window).serialize(serializer)
    }
}

/// Receives the values a child sends; ends (`None`) when the child closes its
/// end or its call returns. Also a [`Stream`] of `Result<T, CallError>`.
pub struct Receiver<T> {
    connection: Arc<Connection>,
    handle: u32,
    window: u32,
    deliveries: mpsc::UnboundedReceiver<Delivery>,
    consumed: u32,
    parts: BytesMut,
    done: bool,
    item: PhantomData<fn() -> T>,
}

impl<T> Receiver<T> {
    pub(crate) fn new(
        connection: Arc<Connection>,
        handle: u32,
        window: u32,
        deliveries: mpsc::UnboundedReceiver<Delivery>,
    ) -> Self {
        Receiver {
            connection,
            handle,
            window,
            deliveries,
            consumed: 0,
            parts: BytesMut::new(),
            done: false,
            item: PhantomData,
        }
    }

    /// The channel's handle (for diagnostics).
    pub fn handle(&self) -> u32 {
        self.handle
    }

    /// The end to pass to a remote function that should send on this channel.
    pub fn child_sender(&self) -> ChildSender {
        ChildSender {
            handle: self.handle,
            window: self.window,
        }
    }

    /// Give credit back for frames consumed, once half a window has been.
    fn consumed_frame(&mut self) {
        self.consumed += 1;
        if self.consumed >= (self.window / 2).max(1) {
            let count = std::mem::take(&mut self.consumed);
            self.connection.channels().consumed(self.handle, count);
            let connection = self.connection.clone();
            let handle = self.handle;
            // Credit must not wait for the consumer's next poll; a task sends it.
            tokio::spawn(async move {
                if let Ok(body) = to_body(&(handle, count)) {
                    let _ = connection.send(CREDIT, body).await;
                }
            });
        }
    }
}

impl<T: DeserializeOwned> Receiver<T> {
    /// The next value; `Ok(None)` once the channel has ended cleanly.
    pub async fn recv(&mut self) -> Result<Option<T>, CallError> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx))
            .await
            .transpose()
    }

    /// [`recv`](Self::recv), failing with [`CallError::Timeout`] if nothing arrives
    /// within `timeout`. The channel stays usable after a timeout.
    pub async fn recv_timeout(&mut self, timeout: Duration) -> Result<Option<T>, CallError> {
        match tokio::time::timeout(timeout, self.recv()).await {
            Ok(result) => result,
            Err(_) => Err(CallError::Timeout {
                function: format!("receive on channel {}", self.handle),
                context: self.connection.name().to_string(),
                timeout,
            }),
        }
    }

    /// Every remaining value, until the channel ends.
    pub async fn collect_all(mut self) -> Result<Vec<T>, CallError> {
        let mut values = Vec::new();
        while let Some(value) = self.recv().await? {
            values.push(value);
        }
        Ok(values)
    }

    fn decode(&self, body: &Bytes) -> Result<T, CallError> {
        from_body(body, &self.connection.settings().decode_limits).map_err(|source| {
            CallError::Decode {
                function: format!("channel {}", self.handle),
                context: self.connection.name().to_string(),
                source,
            }
        })
    }
}

impl<T: DeserializeOwned> Stream for Receiver<T> {
    type Item = Result<T, CallError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if this.done {
                return Poll::Ready(None);
            }
            let delivery = match this.deliveries.poll_recv(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => {
                    this.done = true;
                    return Poll::Ready(None);
                }
                Poll::Ready(Some(delivery)) => delivery,
            };
            let (header, body) = match delivery {
                Delivery::Frame(header, body) => (header, body),
                Delivery::Closed => {
                    this.done = true;
                    return Poll::Ready(None);
                }
                Delivery::Ended(end) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(CallError::from_end(end))));
                }
                Delivery::Violation(detail) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(CallError::Channel {
                        context: this.connection.name().to_string(),
                        detail,
                    })));
                }
            };
            this.consumed_frame();
            if header.flags & flags::END != 0 {
                this.done = true;
                if header.flags & flags::ERROR == 0 {
                    return Poll::Ready(None);
                }
                let report = from_body::<(String, String, String)>(
                    &body,
                    &this.connection.settings().decode_limits,
                );
                let error = match report {
                    Ok((type_name, message, traceback)) => CallError::Remote(RemoteError {
                        type_name,
                        message,
                        traceback,
                        context: this.connection.name().to_string(),
                    }),
                    Err(source) => CallError::Decode {
                        function: format!("channel {}", this.handle),
                        context: this.connection.name().to_string(),
                        source,
                    },
                };
                return Poll::Ready(Some(Err(error)));
            }
            if header.flags & flags::MORE != 0 {
                if this.parts.len() + body.len()
                    > this.connection.settings().max_message_size.max(CHUNK) * 64
                {
                    this.done = true;
                    return Poll::Ready(Some(Err(CallError::Channel {
                        context: this.connection.name().to_string(),
                        detail: "a chunked value grew beyond 64 times the maximum message size"
                            .into(),
                    })));
                }
                this.parts.extend_from_slice(&body);
                continue;
            }
            let whole = if this.parts.is_empty() {
                body
            } else {
                this.parts.extend_from_slice(&body);
                std::mem::take(&mut this.parts).freeze()
            };
            return Poll::Ready(Some(this.decode(&whole)));
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.connection.channels().close_incoming(self.handle);
        if self.done {
            return;
        }
        // Tell the child's sender to stop (credit -1), so a call blocked on a
        // full window fails with "receiving end closed" instead of waiting forever.
        let connection = self.connection.clone();
        let handle = self.handle;
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Ok(body) = to_body(&(handle, -1i64)) {
                    let _ = connection.send(CREDIT, body).await;
                }
            });
        }
    }
}

/// Sends values to a child's `Receiver`; waits when the child's window is full.
pub struct Sender<T> {
    connection: Arc<Connection>,
    handle: u32,
    window: u32,
    credit: Arc<Credit>,
    closed: bool,
    item: PhantomData<fn(T)>,
}

impl<T: Serialize> Sender<T> {
    pub(crate) fn new(
        connection: Arc<Connection>,
        handle: u32,
        window: u32,
        credit: Arc<Credit>,
    ) -> Self {
        Sender {
            connection,
            handle,
            window,
            credit,
            closed: false,
            item: PhantomData,
        }
    }

    /// The end to pass to a remote function that should receive on this channel.
    pub fn child_receiver(&self) -> ChildReceiver {
        ChildReceiver {
            handle: self.handle,
            window: self.window,
        }
    }

    /// Send one value (in 1 MiB chunks if it is larger), waiting for credit.
    pub async fn send(&mut self, value: &T) -> Result<(), CallError> {
        if self.closed {
            return Err(CallError::Channel {
                context: self.connection.name().to_string(),
                detail: format!("send on channel {} after it was closed", self.handle),
            });
        }
        let body = to_body(value)?;
        let chunks = split(body);
        let last = chunks.len() - 1;
        for (index, chunk) in chunks.into_iter().enumerate() {
            match self.credit.take().await {
                Ok(()) => {}
                Err(CreditError::Ended(end)) => return Err(CallError::from_end(end)),
                Err(CreditError::Closed) => {
                    self.closed = true;
                    return Err(CallError::Channel {
                        context: self.connection.name().to_string(),
                        detail: format!(
                            "the child closed its end of channel {} (its call returned)",
                            self.handle
                        ),
                    });
                }
            }
            let more = if index < last { flags::MORE } else { 0 };
            self.connection.send_with(self.handle, chunk, more).await?;
        }
        Ok(())
    }

    /// End the channel: the child's receiver stops iterating.
    pub async fn close(mut self) -> Result<(), CallError> {
        self.closed = true;
        self.connection.channels().close_outgoing(self.handle);
        self.connection
            .send_with(self.handle, to_body(&())?, flags::END)
            .await
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if self.closed {
            return;
        }
        self.connection.channels().close_outgoing(self.handle);
        let connection = self.connection.clone();
        let handle = self.handle;
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Ok(body) = to_body(&()) {
                    let _ = connection.send_with(handle, body, flags::END).await;
                }
            });
        }
    }
}

/// A body cut into frames of at most [`CHUNK`] bytes, without copying it.
fn split(body: FrameBody) -> Vec<FrameBody> {
    if body.len() <= CHUNK {
        return vec![body];
    }
    let mut chunks = Vec::with_capacity(body.len() / CHUNK + 1);
    let mut current: Vec<FrameBody> = Vec::new();
    let mut room = CHUNK;
    for mut segment in body.into_segments() {
        while !segment.is_empty() {
            let piece = segment.split_to(segment.len().min(room));
            room -= piece.len();
            current.push(FrameBody::from(piece));
            if room == 0 {
                chunks.push(FrameBody::concat(std::mem::take(&mut current)));
                room = CHUNK;
            }
        }
    }
    if !current.is_empty() {
        chunks.push(FrameBody::concat(current));
    }
    chunks
}

/// Fair receiving from several receivers at once: each call to
/// [`next`](Select::next) returns a value from whichever has one, with its index.
/// A receiver that ends drops out; `None` once all have ended.
pub struct Select<T> {
    receivers: Vec<Option<Receiver<T>>>,
    start: usize,
}

impl<T: DeserializeOwned> Select<T> {
    /// Select over `receivers`; indices are their positions.
    pub fn new(receivers: Vec<Receiver<T>>) -> Select<T> {
        Select {
            receivers: receivers.into_iter().map(Some).collect(),
            start: 0,
        }
    }

    /// The next value from any receiver, as (index, value or error).
    pub async fn next(&mut self) -> Option<(usize, Result<T, CallError>)> {
        std::future::poll_fn(|cx| self.poll_any(cx)).await
    }

    fn poll_any(
        &mut self,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Option<(usize, Result<T, CallError>)>> {
        let count = self.receivers.len();
        let mut open = 0;
        for offset in 0..count {
            let index = (self.start + offset) % count;
            let Some(receiver) = self.receivers[index].as_mut() else {
                continue;
            };
            open += 1;
            match Pin::new(receiver).poll_next(cx) {
                Poll::Ready(Some(item)) => {
                    // Start after this one next time, so no receiver starves.
                    self.start = index + 1;
                    return Poll::Ready(Some((index, item)));
                }
                Poll::Ready(None) => {
                    self.receivers[index] = None;
                    open -= 1;
                }
                Poll::Pending => {}
            }
        }
        if open == 0 {
            Poll::Ready(None)
        } else {
            Poll::Pending
        }
    }
}
