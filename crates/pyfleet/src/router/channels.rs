//! Channel state per connection: frames arriving on channels from the child, and
//! the credit the child gives back for channels towards it.
//!
//! Every channel has a window: the sending side may have at most that many frames
//! in flight; the receiving side returns credit (CREDIT frames) as it consumes. A
//! child that sends beyond its credit is cut off: the channel ends with an error,
//! so a misbehaving child cannot grow the master's memory.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;

use bytes::Bytes;
use tokio::sync::{Notify, mpsc};

use super::context_end::ContextEnd;
use crate::wire::Header;

/// Master-side handles of channels from the child start here (replies to calls
/// use the handles below).
pub const FIRST_INCOMING: u32 = 0x2000_0000;
/// Handles of channels towards the child, in the child's handle space, start here
/// (the child numbers its own requests from 1024 up, far below).
pub const FIRST_OUTGOING: u32 = 0x4000_0000;

/// Frames in flight per channel unless the caller chooses otherwise.
pub const DEFAULT_WINDOW: u32 = 16;

/// Values larger than this travel as several frames.
pub const CHUNK: usize = 1 << 20;

/// What a channel from the child delivers.
#[derive(Debug)]
pub enum Delivery {
    /// A frame of a value (several with FLAG_MORE make one value).
    Frame(Header, Bytes),
    /// The call the channel was passed to returned without the child closing it.
    Closed,
    /// The context ended before the channel did.
    Ended(Arc<ContextEnd>),
    /// The child broke the channel's rules.
    Violation(String),
}

struct Incoming {
    sender: mpsc::UnboundedSender<Delivery>,
    window: u32,
    in_flight: u32,
}

/// Credit for a channel towards the child.
#[derive(Debug, Default)]
pub struct Credit {
    state: Mutex<CreditState>,
    changed: Notify,
}

#[derive(Debug, Default)]
struct CreditState {
    available: i64,
    ended: Option<Arc<ContextEnd>>,
    /// The child's receiving end is gone (its call returned).
    closed_by_child: bool,
}

/// Why no more can be sent on a channel.
#[derive(Debug, Clone)]
pub enum CreditError {
    /// The context ended.
    Ended(Arc<ContextEnd>),
    /// The child's receiving end was closed.
    Closed,
}

impl Credit {
    fn new(window: u32) -> Credit {
        Credit {
            state: Mutex::new(CreditState {
                available: i64::from(window),
                ended: None,
                closed_by_child: false,
            }),
            changed: Notify::new(),
        }
    }

    /// Wait for one frame's worth of credit; fails once the context ended or the
    /// child closed its end.
    pub async fn take(&self) -> Result<(), CreditError> {
        loop {
            let notified = self.changed.notified();
            {
                let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
                if let Some(end) = &state.ended {
                    return Err(CreditError::Ended(end.clone()));
                }
                if state.closed_by_child {
                    return Err(CreditError::Closed);
                }
                if state.available > 0 {
                    state.available -= 1;
                    return Ok(());
                }
            }
            notified.await;
        }
    }

    /// Credit from the child; a negative count means its end was closed.
    fn grant(&self, count: i64) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if count < 0 {
            state.closed_by_child = true;
        } else {
            state.available += count;
        }
        drop(state);
        self.changed.notify_waiters();
    }

    fn end(&self, end: Arc<ContextEnd>) {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).ended = Some(end);
        self.changed.notify_waiters();
    }
}

#[derive(Default)]
struct State {
    next_incoming: u32,
    next_outgoing: u32,
    incoming: HashMap<u32, Incoming>,
    outgoing: HashMap<u32, Arc<Credit>>,
    ended: Option<Arc<ContextEnd>>,
}

/// The channels of one connection.
#[derive(Default)]
pub struct Channels {
    state: Mutex<State>,
}

impl Channels {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new channel from the child: its handle and where its frames arrive.
    pub fn open_incoming(
        &self,
        window: u32,
    ) -> Result<(u32, mpsc::UnboundedReceiver<Delivery>), Arc<ContextEnd>> {
        let mut state = self.lock();
        if let Some(end) = &state.ended {
            return Err(end.clone());
        }
        let handle = FIRST_INCOMING + state.next_incoming;
        state.next_incoming = (state.next_incoming + 1) % (FIRST_OUTGOING - FIRST_INCOMING);
        let (sender, receiver) = mpsc::unbounded_channel();
        state.incoming.insert(
            handle,
            Incoming {
                sender,
                window: window.max(1),
                in_flight: 0,
            },
        );
        Ok((handle, receiver))
    }

    /// A new channel towards the child: its handle (in the child's space) and credit.
    pub fn open_outgoing(&self, window: u32) -> Result<(u32, Arc<Credit>), Arc<ContextEnd>> {
        let mut state = self.lock();
        if let Some(end) = &state.ended {
            return Err(end.clone());
        }
        let handle = FIRST_OUTGOING + state.next_outgoing;
        state.next_outgoing = (state.next_outgoing + 1) % (u32::MAX - FIRST_OUTGOING);
        let credit = Arc::new(Credit::new(window.max(1)));
        state.outgoing.insert(handle, credit.clone());
        Ok((handle, credit))
    }

    /// True if `handle` is an open channel from the child.
    pub fn is_incoming(&self, handle: u32) -> bool {
        self.lock().incoming.contains_key(&handle)
    }

    /// Deliver a frame that arrived on channel `handle`. A frame beyond the
    /// channel's credit ends it with a violation instead.
    pub fn deliver(&self, header: Header, body: Bytes) {
        let mut state = self.lock();
        let Some(channel) = state.incoming.get_mut(&header.handle) else {
            return;
        };
        let last = header.flags & crate::wire::flags::END != 0;
        channel.in_flight += 1;
        let delivery = if channel.in_flight > channel.window + 1 {
            Delivery::Violation(format!(
                "the child sent more than its window of {} frames on channel {}",
                channel.window, header.handle
            ))
        } else {
            Delivery::Frame(header, body)
        };
        let violation = matches!(delivery, Delivery::Violation(_));
        let _ = channel.sender.send(delivery);
        if last || violation {
            state.incoming.remove(&header.handle);
        }
    }

    /// The receiving side consumed `count` frames of `handle`: they no longer count
    /// against the child's window.
    pub fn consumed(&self, handle: u32, count: u32) {
        if let Some(channel) = self.lock().incoming.get_mut(&handle) {
            channel.in_flight = channel.in_flight.saturating_sub(count);
        }
    }

    /// Stop receiving on `handle` (its receiver was dropped).
    pub fn close_incoming(&self, handle: u32) {
        self.lock().incoming.remove(&handle);
    }

    /// Stop sending on `handle` (its sender was closed or dropped).
    pub fn close_outgoing(&self, handle: u32) {
        self.lock().outgoing.remove(&handle);
    }

    /// Credit the child returned for a channel towards it.
    pub fn credit(&self, handle: u32, count: i64) {
        let credit = self.lock().outgoing.get(&handle).cloned();
        if let Some(credit) = credit {
            credit.grant(count);
        }
    }

    /// The call these channel ends were passed to has returned: any the child did
    /// not close (it may never have bound them) end now, so nobody waits forever.
    pub fn finish_call(&self, handles: &[u32]) {
        for handle in handles {
            let (incoming, outgoing) = {
                let mut state = self.lock();
                (state.incoming.remove(handle), state.outgoing.remove(handle))
            };
            if let Some(channel) = incoming {
                let _ = channel.sender.send(Delivery::Closed);
            }
            if let Some(credit) = outgoing {
                credit.grant(-1);
            }
        }
    }

    /// The context ended: every open channel ends with it.
    pub fn end(&self, end: Arc<ContextEnd>) {
        let (incoming, outgoing) = {
            let mut state = self.lock();
            state.ended = Some(end.clone());
            (
                std::mem::take(&mut state.incoming),
                std::mem::take(&mut state.outgoing),
            )
        };
        for channel in incoming.into_values() {
            let _ = channel.sender.send(Delivery::Ended(end.clone()));
        }
        for credit in outgoing.into_values() {
            credit.end(end.clone());
        }
    }
}
