//! Encoding calls and decoding their replies.

use bytes::{BufMut, Bytes, BytesMut};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::pending::Reply;
use crate::error::{CallError, RemoteError};
use crate::wire::{DecodeLimits, EncodeError, FrameBody, from_body, to_body};

/// Marshal codes the call body is built from.
const TUPLE: u8 = b'(';
const LIST: u8 = b'[';
const DICT: u8 = b'{';
const NONE: u8 = b'N';
const STR: u8 = b'u';
const DICT_END: u8 = b'0';

/// An encoded CALL: the body and the header flags it needs.
#[derive(Debug, Clone)]
pub struct EncodedCall {
    /// `(module, function, args, kwargs[, options])`.
    pub body: FrameBody,
    /// CHANNELS when the arguments hold channel ends.
    pub flags: u8,
    /// The handles of the channel ends in the arguments.
    pub channels: Vec<u32>,
}

/// How the child should deliver a call's result: as a stream on `handle`, with
/// `window` frames in flight at most.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct StreamOptions {
    /// The master's channel handle for the items.
    pub stream: u32,
    /// Frames in flight at most.
    pub window: u32,
}

thread_local! {
    /// The channel ends a call's arguments serialised, while it encodes.
    static CHANNEL_ENDS: std::cell::RefCell<Vec<u32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Called by a channel end (with its handle) being serialised into a call's
/// arguments.
pub fn mark_channel_end(handle: u32) {
    CHANNEL_ENDS.with(|ends| ends.borrow_mut().push(handle));
}

/// The CALL body `(module, function, args, kwargs)`, or with `stream` its
/// five-element form asking for the result as a stream.
///
/// `args` must serialise as a tuple or a list (spread like `*args`), or as `()` for
/// no arguments; `kwargs` as a map or struct, or `()` for none.
pub fn encode_call<A: Serialize, K: Serialize>(
    module: &str,
    function: &str,
    args: &A,
    kwargs: &K,
    stream: Option<StreamOptions>,
) -> Result<EncodedCall, EncodeError> {
    CHANNEL_ENDS.with(|ends| ends.borrow_mut().clear());
    let args = to_body(args)?;
    let kwargs = to_body(kwargs)?;
    let channels = CHANNEL_ENDS.with(|ends| std::mem::take(&mut *ends.borrow_mut()));
    let mut head = BytesMut::with_capacity(16 + module.len() + function.len());
    head.put_u8(TUPLE);
    head.put_i32_le(if stream.is_some() { 5 } else { 4 });
    for text in [module, function] {
        head.put_u8(STR);
        head.put_i32_le(
            i32::try_from(text.len()).map_err(|_| EncodeError::Message("name too long".into()))?,
        );
        head.put_slice(text.as_bytes());
    }
    let args = match first_byte(&args) {
        Some(NONE) => FrameBody::from(Bytes::from_static(b"(\0\0\0\0")),
        Some(TUPLE | LIST) => args,
        _ => {
            return Err(EncodeError::Message(
                "call arguments must be a tuple, a list or () - wrap a single argument as (value,)"
                    .into(),
            ));
        }
    };
    let kwargs = match first_byte(&kwargs) {
        Some(NONE) => FrameBody::from(Bytes::from_static(&[DICT, DICT_END])),
        Some(DICT) => kwargs,
        _ => {
            return Err(EncodeError::Message(
                "keyword arguments must be a map or a struct with named fields, or ()".into(),
            ));
        }
    };
    let mut parts = vec![FrameBody::from(head.freeze()), args, kwargs];
    if let Some(options) = stream {
        parts.push(to_body(&options)?);
    }
    Ok(EncodedCall {
        body: FrameBody::concat(parts),
        flags: if channels.is_empty() {
            0
        } else {
            crate::wire::flags::CHANNELS
        },
        channels,
    })
}

fn first_byte(body: &FrameBody) -> Option<u8> {
    body.segments()
        .first()
        .and_then(|segment| segment.first())
        .copied()
}

/// Decode a reply: the result as `R`, or the remote exception it reports.
pub fn decode_reply<R: DeserializeOwned>(
    reply: Reply,
    limits: &DecodeLimits,
    context: &str,
    function: impl FnOnce() -> String,
) -> Result<R, CallError> {
    let (header, body) = reply;
    if header.is_error() {
        let (type_name, message, traceback) = from_body::<(String, String, String)>(&body, limits)
            .map_err(|source| CallError::Decode {
                function: function(),
                context: context.to_string(),
                source,
            })?;
        return Err(CallError::Remote(RemoteError {
            type_name,
            message,
            traceback,
            context: context.to_string(),
        }));
    }
    from_body::<R>(&body, limits).map_err(|source| CallError::Decode {
        function: function(),
        context: context.to_string(),
        source,
    })
}
