//! Calls waiting for their replies, per context.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use tokio::sync::oneshot;

use super::context_end::ContextEnd;
use super::handles::FIRST_DYNAMIC;
use crate::wire::Header;

/// A reply frame as it arrived.
pub type Reply = (Header, Bytes);

/// What a waiting caller receives.
pub type Outcome = Result<Reply, Arc<ContextEnd>>;

struct Inner {
    next: u32,
    waiting: HashMap<u32, oneshot::Sender<Outcome>>,
    ended: Option<Arc<ContextEnd>>,
}

/// The reply handles of one context. Handles are unique per context, and only
/// frames arriving from that context's own stream can complete them, so one child
/// can never answer (or forge an answer to) another context's call.
pub struct PendingCalls {
    inner: Mutex<Inner>,
}

impl Default for PendingCalls {
    fn default() -> Self {
        PendingCalls {
            inner: Mutex::new(Inner {
                next: FIRST_DYNAMIC,
                waiting: HashMap::new(),
                ended: None,
            }),
        }
    }
}

impl PendingCalls {
    /// A new reply handle and the receiver its reply will arrive on; fails once the
    /// context has ended.
    pub fn register(&self) -> Result<(u32, oneshot::Receiver<Outcome>), Arc<ContextEnd>> {
        let mut inner = self.lock();
        if let Some(end) = &inner.ended {
            return Err(end.clone());
        }
        let (tx, rx) = oneshot::channel();
        loop {
            let handle = inner.next;
            inner.next = handle.checked_add(1).unwrap_or(FIRST_DYNAMIC);
            if let std::collections::hash_map::Entry::Vacant(slot) = inner.waiting.entry(handle) {
                slot.insert(tx);
                return Ok((handle, rx));
            }
        }
    }

    /// Deliver a reply; false if nobody waits on `handle` (late, duplicate or forged).
    pub fn complete(&self, handle: u32, reply: Reply) -> bool {
        let sender = self.lock().waiting.remove(&handle);
        match sender {
            Some(sender) => {
                let _ = sender.send(Ok(reply));
                true
            }
            None => false,
        }
    }

    /// Stop waiting on `handle` (its caller went away).
    pub fn forget(&self, handle: u32) {
        self.lock().waiting.remove(&handle);
    }

    /// Fail every waiting call with `end` and refuse new ones. The first end wins.
    pub fn end(&self, end: ContextEnd) -> Arc<ContextEnd> {
        let (end, waiting) = {
            let mut inner = self.lock();
            let end = inner.ended.get_or_insert_with(|| Arc::new(end)).clone();
            (end, std::mem::take(&mut inner.waiting))
        };
        for (_, sender) in waiting {
            let _ = sender.send(Err(end.clone()));
        }
        end
    }

    /// How the context ended, if it has.
    pub fn ended(&self) -> Option<Arc<ContextEnd>> {
        self.lock().ended.clone()
    }

    /// Number of calls waiting.
    pub fn len(&self) -> usize {
        self.lock().waiting.len()
    }

    /// True if no call is waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding this lock cannot leave the map inconsistent (every
        // operation is a single insert/remove), so poisoning is ignored.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Removes a registered handle if its caller is dropped before the reply arrives.
pub struct PendingGuard<'a> {
    pending: &'a PendingCalls,
    handle: u32,
    armed: bool,
}

impl<'a> PendingGuard<'a> {
    /// Guard `handle` of `pending`.
    pub fn new(pending: &'a PendingCalls, handle: u32) -> Self {
        PendingGuard {
            pending,
            handle,
            armed: true,
        }
    }

    /// The reply arrived; nothing to clean up.
    pub fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for PendingGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.pending.forget(self.handle);
        }
    }
}
