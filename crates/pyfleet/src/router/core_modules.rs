//! Answering a child's request for an on-demand module of the core.
//!
//! Only modules of the core compiled into this library are served, by exact name:
//! a child can neither name a file nor make the master load anything.

use bytes::Bytes;

use super::frame_writer::{FrameWriter, WriteError};
use crate::bootstrap::on_demand_module;
use crate::wire::{ByteBuf, DecodeLimits, Header, flags, from_body, to_body};

/// Reply to a LOAD_CORE request from context `context_id`.
pub async fn answer(
    writer: &FrameWriter,
    context_id: u32,
    request: &Header,
    body: &Bytes,
    limits: &DecodeLimits,
) -> Result<(), WriteError> {
    if request.reply_to == 0 {
        return Ok(());
    }
    let name = from_body::<String>(body, limits).unwrap_or_default();
    let (encoded, error) = match on_demand_module(&name) {
        Some(module) => (
            to_body(&(
                module.filename,
                ByteBuf::from(Bytes::from_static(module.on_demand.unwrap_or_default())),
                ByteBuf::from(Bytes::from_static(module.line_map)),
            )),
            false,
        ),
        None => (
            to_body(&(
                "ImportError",
                format!("no on-demand core module named {name:?}"),
                "",
            )),
            true,
        ),
    };
    let flags = if error { flags::ERROR } else { 0 };
    writer
        .send_to(
            context_id,
            request.reply_to,
            0,
            flags,
            encoded.unwrap_or_default(),
        )
        .await
}
