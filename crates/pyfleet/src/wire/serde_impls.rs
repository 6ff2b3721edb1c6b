//! `Serialize` and `Deserialize` for [`Value`], [`BigInt`] and [`ByteBuf`].
//!
//! With pyfleet's own (de)serializers these types keep everything (tuple versus list,
//! sets, big ints, zero-copy bytes; see [`super::magic`]). With any other format they
//! take the nearest portable form: sets become sequences, big ints decimal strings.

use std::fmt;

use bytes::Bytes;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeTuple, Serializer};

use super::bigint::BigInt;
use super::magic::{self, Lent};
use super::value::Value;

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::None => serializer.serialize_unit(),
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Int(i) => serializer.serialize_i64(*i),
            Value::BigInt(big) => big.serialize(serializer),
            Value::Float(x) => serializer.serialize_f64(*x),
            Value::Str(s) => serializer.serialize_str(s),
            Value::Bytes(b) => serialize_shared_bytes(b, serializer),
            Value::Tuple(items) => {
                let mut tuple = serializer.serialize_tuple(items.len())?;
                for item in items {
                    tuple.serialize_element(item)?;
                }
                tuple.end()
            }
            Value::List(items) => serializer.collect_seq(items),
            Value::Dict(entries) => {
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for (key, value) in entries {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
            Value::Set(items) => serializer.serialize_newtype_struct(magic::SET, &Items(items)),
            Value::FrozenSet(items) => {
                serializer.serialize_newtype_struct(magic::FROZEN_SET, &Items(items))
            }
        }
    }
}

/// A set's items, as a plain sequence.
struct Items<'a>(&'a [Value]);

impl Serialize for Items<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0)
    }
}

/// Bytes as `serialize_bytes`, lent to our serializers so they need not copy them.
fn serialize_shared_bytes<S: Serializer>(bytes: &Bytes, serializer: S) -> Result<S::Ok, S::Error> {
    struct Plain<'a>(&'a [u8]);
    impl Serialize for Plain<'_> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.serialize_bytes(self.0)
        }
    }
    magic::lend(Lent::Bytes(bytes.clone()), || {
        serializer.serialize_newtype_struct(magic::BYTES, &Plain(bytes))
    })
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Python value")
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E: de::Error>(self, i: i64) -> Result<Value, E> {
        Ok(Value::Int(i))
    }

    fn visit_u64<E: de::Error>(self, u: u64) -> Result<Value, E> {
        Ok(Value::from(u))
    }

    fn visit_i128<E: de::Error>(self, i: i128) -> Result<Value, E> {
        Ok(Value::from(i))
    }

    fn visit_u128<E: de::Error>(self, u: u128) -> Result<Value, E> {
        Ok(Value::from(u))
    }

    fn visit_f64<E: de::Error>(self, x: f64) -> Result<Value, E> {
        Ok(Value::Float(x))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Value, E> {
        Ok(Value::Str(s.to_owned()))
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<Value, E> {
        Ok(Value::Str(s))
    }

    fn visit_bytes<E: de::Error>(self, b: &[u8]) -> Result<Value, E> {
        Ok(Value::Bytes(Bytes::copy_from_slice(b)))
    }

    fn visit_byte_buf<E: de::Error>(self, b: Vec<u8>) -> Result<Value, E> {
        Ok(Value::Bytes(Bytes::from(b)))
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        Value::deserialize(deserializer)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Value, D::Error> {
        match magic::take_handed_over() {
            Some(value) => Ok(value),
            None => deserializer.deserialize_any(self),
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(4096));
        while let Some(entry) = map.next_entry()? {
            entries.push(entry);
        }
        Ok(Value::Dict(entries))
    }
}

/// With pyfleet's deserializers, the value arrives whole and exactly as sent. With
/// others, sequences become lists and maps dicts.
impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_newtype_struct(magic::VALUE, ValueVisitor)
    }
}

/// Serializes as the narrowest integer serde has (`i64`, `i128`, `u128`); beyond 128
/// bits, as a decimal string for formats other than pyfleet's.
impl Serialize for BigInt {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if let Ok(small) = i64::try_from(self) {
            return serializer.serialize_i64(small);
        }
        if let Ok(wide) = i128::try_from(self) {
            return serializer.serialize_i128(wide);
        }
        if let Ok(wide) = u128::try_from(self) {
            return serializer.serialize_u128(wide);
        }
        struct Decimal<'a>(&'a BigInt);
        impl Serialize for Decimal<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self.0)
            }
        }
        magic::lend(Lent::BigInt(self.clone()), || {
            serializer.serialize_newtype_struct(magic::BIG_INT, &Decimal(self))
        })
    }
}

impl<'de> Deserialize<'de> for BigInt {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<BigInt, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::Int(i) => Ok(BigInt::from(i)),
            Value::BigInt(big) => Ok(big),
            other => Err(de::Error::invalid_type(unexpected(&other), &"an int")),
        }
    }
}

/// A `bytes` field for serde types: [`Bytes`] that serialize as Python `bytes`
/// (without copying when large) and deserialize from `bytes` or `str` (as UTF-8),
/// sharing the received body instead of copying it.
///
/// A plain `Vec<u8>` field serializes as a list of ints, as serde defines it; use
/// `ByteBuf` (or `#[serde(with = "serde_bytes")]`-style code that calls
/// `serialize_bytes`) for Python `bytes`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ByteBuf(pub Bytes);

impl From<Bytes> for ByteBuf {
    fn from(bytes: Bytes) -> ByteBuf {
        ByteBuf(bytes)
    }
}

impl From<Vec<u8>> for ByteBuf {
    fn from(bytes: Vec<u8>) -> ByteBuf {
        ByteBuf(Bytes::from(bytes))
    }
}

impl From<ByteBuf> for Bytes {
    fn from(buf: ByteBuf) -> Bytes {
        buf.0
    }
}

impl std::ops::Deref for ByteBuf {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl Serialize for ByteBuf {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_shared_bytes(&self.0, serializer)
    }
}

impl<'de> Deserialize<'de> for ByteBuf {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<ByteBuf, D::Error> {
        deserializer.deserialize_newtype_struct(magic::VALUE, ByteBufVisitor)
    }
}

struct ByteBufVisitor;

impl<'de> Visitor<'de> for ByteBufVisitor {
    type Value = ByteBuf;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("bytes")
    }

    fn visit_bytes<E: de::Error>(self, b: &[u8]) -> Result<ByteBuf, E> {
        Ok(ByteBuf(Bytes::copy_from_slice(b)))
    }

    fn visit_byte_buf<E: de::Error>(self, b: Vec<u8>) -> Result<ByteBuf, E> {
        Ok(ByteBuf(Bytes::from(b)))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<ByteBuf, E> {
        Ok(ByteBuf(Bytes::copy_from_slice(s.as_bytes())))
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<ByteBuf, E> {
        Ok(ByteBuf(Bytes::from(s)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ByteBuf, A::Error> {
        let mut bytes = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 16));
        while let Some(byte) = seq.next_element::<u8>()? {
            bytes.push(byte);
        }
        Ok(ByteBuf(Bytes::from(bytes)))
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<ByteBuf, D::Error> {
        match magic::take_handed_over() {
            Some(Value::Bytes(b)) => Ok(ByteBuf(b)),
            Some(Value::Str(s)) => Ok(ByteBuf(Bytes::from(s))),
            Some(other) => Err(de::Error::invalid_type(unexpected(&other), &self)),
            None => deserializer.deserialize_byte_buf(self),
        }
    }
}

/// Describes a value for serde's `invalid_type` errors.
pub(crate) fn unexpected(value: &Value) -> de::Unexpected<'_> {
    match value {
        Value::None => de::Unexpected::Unit,
        Value::Bool(b) => de::Unexpected::Bool(*b),
        Value::Int(i) => de::Unexpected::Signed(*i),
        Value::Float(x) => de::Unexpected::Float(*x),
        Value::Str(s) => de::Unexpected::Str(s),
        Value::Bytes(b) => de::Unexpected::Bytes(b),
        Value::Dict(_) => de::Unexpected::Map,
        other => de::Unexpected::Other(other.type_name()),
    }
}
