//! Side channels that carry what serde's data model cannot express between our own
//! types and our own (de)serializers, without copies.
//!
//! serde has no sets, no big integers and no way to hand over a `Bytes` without
//! copying it, and a `Value` read through visitor calls would lose the difference
//! between a tuple, a list and a set. So [`crate::wire::Value`], [`crate::wire::BigInt`]
//! and [`crate::wire::ByteBuf`] announce themselves as newtype structs with a reserved
//! name. Our serializers and deserializers recognise the name and exchange the real
//! thing through a thread-local slot for the length of that one call; any other
//! (de)serializer sees an ordinary newtype struct and gets a portable form (a sequence,
//! a decimal string, a byte array).

use std::cell::Cell;

use bytes::Bytes;

use super::bigint::BigInt;
use super::value::Value;

/// A [`Value`] is deserialized as a newtype struct of this name.
pub(crate) const VALUE: &str = "\0pyfleet::wire::Value";
/// Shared bytes are serialized as a newtype struct of this name.
pub(crate) const BYTES: &str = "\0pyfleet::wire::Bytes";
/// A big integer beyond 128 bits is serialized as a newtype struct of this name.
pub(crate) const BIG_INT: &str = "\0pyfleet::wire::BigInt";
/// A set is serialized as a newtype struct of this name around its items.
pub(crate) const SET: &str = "\0pyfleet::wire::Set";
/// A frozenset is serialized as a newtype struct of this name around its items.
pub(crate) const FROZEN_SET: &str = "\0pyfleet::wire::FrozenSet";

/// What a serializing type lends to our serializers.
pub(crate) enum Lent {
    Bytes(Bytes),
    BigInt(BigInt),
}

thread_local! {
    static LENT: Cell<Option<Lent>> = const { Cell::new(None) };
    static HANDED_OVER: Cell<Option<Value>> = const { Cell::new(None) };
}

/// Runs `serialize` with `item` available to [`take_lent`], and withdraws it after.
pub(crate) fn lend<R>(item: Lent, serialize: impl FnOnce() -> R) -> R {
    let previous = LENT.replace(Some(item));
    let result = serialize();
    LENT.set(previous);
    result
}

/// What the innermost [`lend`] offers, if it has not been taken yet.
pub(crate) fn take_lent() -> Option<Lent> {
    LENT.take()
}

/// Runs `visit` with `value` available to [`take_handed_over`], and withdraws it after.
pub(crate) fn hand_over<R>(value: Value, visit: impl FnOnce() -> R) -> R {
    let previous = HANDED_OVER.replace(Some(value));
    let result = visit();
    HANDED_OVER.set(previous);
    result
}

/// What the innermost [`hand_over`] offers, if it has not been taken yet.
pub(crate) fn take_handed_over() -> Option<Value> {
    HANDED_OVER.take()
}
