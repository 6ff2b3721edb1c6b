//! Requests a child makes of its parent (modules, data files), answered by the
//! services layer through this trait, so the router depends on nothing above it.

use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;

use crate::wire::FrameBody;

/// What a request gets back.
pub enum Answer {
    /// A VALUE body.
    Value(FrameBody),
    /// A refusal the child raises as an exception: (type name, message).
    Error(String, String),
}

/// The future an answer comes from.
pub type AnswerFuture<'a> = Pin<Box<dyn Future<Output = Answer> + Send + 'a>>;

/// Answers requests on some well-known handles.
pub trait ChildRequests: Send + Sync {
    /// True if this answers requests sent to `handle`.
    fn answers(&self, handle: u32) -> bool;

    /// Answer a request from context `context_id` to `handle`.
    fn answer<'a>(&'a self, context_id: u32, handle: u32, body: Bytes) -> AnswerFuture<'a>;

    /// Names whose imports go to the parent even when the child has them.
    fn always_from_parent(&self) -> Vec<String> {
        Vec::new()
    }
}
