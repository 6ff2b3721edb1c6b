//! Python to Rust: VALUE bodies from untrusted children into [`Value`]s.
//!
//! The builder keeps its own stack of open containers instead of recursing, so the
//! nesting limit, not the thread's stack size, decides how deep a body may go.

use bytes::Bytes;

use super::error::DecodeError;
use super::limits::DecodeLimits;
use super::reader::{Head, HeadKind, Reader, SeqKind};
use super::value::Value;

/// Containers claim their item count up front; reserve at most this many slots
/// before the items have actually arrived.
const MAX_PREALLOCATED_ITEMS: usize = 4096;

/// Decodes a VALUE body sent by a child.
///
/// Accepts what any supported interpreter's `marshal.dumps` writes for the VALUE
/// types (Python 2.7's interned strings and 64-bit ints, Python 3's version 3 and 4
/// codes and references, old text floats) and nothing else: code objects and other
/// types are rejected, as are malformed lengths, trailing bytes, nesting beyond
/// `limits.max_depth` and output beyond the limits' budget. Bytes values are
/// zero-copy slices of `body`. Python 2 `str` arrives as [`Value::Bytes`].
pub fn decode_value(body: &Bytes, limits: &DecodeLimits) -> Result<Value, DecodeError> {
    let mut reader = Reader::new(body, limits);
    let head = reader.read_head()?;
    let value = build_value(&mut reader, head)?;
    reader.finish()?;
    Ok(value)
}

/// Containers up to this depth are built by recursion, which needs no stack of its
/// own; deeper ones with an explicit stack, which a thread's stack size cannot limit.
const RECURSION_DEPTH: usize = 32;

/// Builds the whole value that starts with `head`, reading the rest from `reader`.
pub(crate) fn build_value(reader: &mut Reader<'_>, head: Head<'_>) -> Result<Value, DecodeError> {
    build_nested(reader, head, 0)
}

fn build_nested(
    reader: &mut Reader<'_>,
    head: Head<'_>,
    level: usize,
) -> Result<Value, DecodeError> {
    let Head {
        offset,
        kind,
        slot,
        used_before,
    } = head;
    let value = match kind {
        HeadKind::Seq(..) | HeadKind::Dict if level >= RECURSION_DEPTH => {
            return build_deep(
                reader,
                Head {
                    offset,
                    kind,
                    slot,
                    used_before,
                },
            );
        }
        HeadKind::Seq(kind, count) => {
            let mut items = Vec::with_capacity(count.min(MAX_PREALLOCATED_ITEMS));
            for _ in 0..count {
                let child = reader.read_head()?;
                items.push(build_nested(reader, child, level + 1)?);
            }
            reader.leave();
            kind.build(items)
        }
        HeadKind::Dict => {
            let mut entries = Vec::new();
            loop {
                let key = reader.read_head()?;
                if let HeadKind::Null = key.kind {
                    break;
                }
                let key = build_nested(reader, key, level + 1)?;
                let value = reader.read_head()?;
                if let HeadKind::Null = value.kind {
                    return Err(DecodeError::UnexpectedNull {
                        offset: value.offset,
                    });
                }
                entries.push((key, build_nested(reader, value, level + 1)?));
            }
            reader.leave();
            Value::Dict(entries)
        }
        HeadKind::Null => return Err(DecodeError::UnexpectedNull { offset }),
        scalar => scalar_value(reader, scalar),
    };
    complete(reader, value, slot, used_before, offset)
}

/// An open container.
struct Frame {
    offset: usize,
    slot: Option<usize>,
    used_before: usize,
    items: Items,
}

enum Items {
    Seq {
        kind: SeqKind,
        items: Vec<Value>,
        remaining: usize,
    },
    Dict {
        entries: Vec<(Value, Value)>,
        key: Option<Value>,
    },
}

/// [`build_nested`] with an explicit stack, for values deep down.
fn build_deep(reader: &mut Reader<'_>, first: Head<'_>) -> Result<Value, DecodeError> {
    let mut stack: Vec<Frame> = Vec::new();
    let mut head = first;
    loop {
        let Head {
            offset,
            kind,
            slot,
            used_before,
        } = head;
        let mut finished = match kind {
            HeadKind::Seq(kind, 0) => {
                reader.leave();
                complete(reader, kind.build(Vec::new()), slot, used_before, offset)?
            }
            HeadKind::Seq(kind, count) => {
                stack.push(Frame {
                    offset,
                    slot,
                    used_before,
                    items: Items::Seq {
                        kind,
                        items: Vec::with_capacity(count.min(MAX_PREALLOCATED_ITEMS)),
                        remaining: count,
                    },
                });
                head = reader.read_head()?;
                continue;
            }
            HeadKind::Dict => {
                stack.push(Frame {
                    offset,
                    slot,
                    used_before,
                    items: Items::Dict {
                        entries: Vec::new(),
                        key: None,
                    },
                });
                head = reader.read_head()?;
                continue;
            }
            HeadKind::Null => {
                let closes_dict = matches!(
                    stack.last(),
                    Some(Frame {
                        items: Items::Dict { key: None, .. },
                        ..
                    })
                );
                match stack.pop() {
                    Some(Frame {
                        offset,
                        slot,
                        used_before,
                        items: Items::Dict { entries, .. },
                    }) if closes_dict => {
                        reader.leave();
                        complete(reader, Value::Dict(entries), slot, used_before, offset)?
                    }
                    _ => return Err(DecodeError::UnexpectedNull { offset }),
                }
            }
            scalar => {
                let value = scalar_value(reader, scalar);
                complete(reader, value, slot, used_before, offset)?
            }
        };
        // Hand the value to its container, closing every container it completes.
        loop {
            let Some(frame) = stack.last_mut() else {
                return Ok(finished);
            };
            match &mut frame.items {
                Items::Dict { entries, key } => {
                    match key.take() {
                        None => *key = Some(finished),
                        Some(key) => entries.push((key, finished)),
                    }
                    break;
                }
                Items::Seq {
                    items, remaining, ..
                } => {
                    items.push(finished);
                    *remaining -= 1;
                    if *remaining > 0 {
                        break;
                    }
                }
            }
            let Some(Frame {
                offset,
                slot,
                used_before,
                items: Items::Seq { kind, items, .. },
            }) = stack.pop()
            else {
                unreachable!("only a completed sequence gets here");
            };
            reader.leave();
            finished = complete(reader, kind.build(items), slot, used_before, offset)?;
        }
        head = reader.read_head()?;
    }
}

fn complete(
    reader: &mut Reader<'_>,
    value: Value,
    slot: Option<usize>,
    used_before: usize,
    offset: usize,
) -> Result<Value, DecodeError> {
    if let Some(slot) = slot {
        reader.fill_slot(slot, &value, used_before, offset)?;
    }
    Ok(value)
}

/// The value of a head that has no children. Container heads never get here.
pub(crate) fn scalar_value(reader: &Reader<'_>, kind: HeadKind<'_>) -> Value {
    match kind {
        HeadKind::None | HeadKind::Null => Value::None,
        HeadKind::Bool(b) => Value::Bool(b),
        HeadKind::Int(i) => Value::Int(i),
        HeadKind::BigInt(big) => Value::BigInt(big),
        HeadKind::Float(x) => Value::Float(x),
        HeadKind::Str(text) => Value::Str(text.into_owned()),
        HeadKind::Bytes { start, end } => Value::Bytes(reader.shared(start, end)),
        HeadKind::Ref(slot) => reader.referenced_value(slot),
        HeadKind::Seq(kind, _) => kind.build(Vec::new()),
        HeadKind::Dict => Value::Dict(Vec::new()),
    }
}

#[cfg(test)]
mod tests;
